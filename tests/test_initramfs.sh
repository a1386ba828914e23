#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 8, test 5 (build part, on every host): initramfs/build makes a
# gzip'ed cpio holding /init, the fully static agent and busybox; the same
# inputs give the same bytes; the agent inside runs.  The dracut module and
# the initramfs-tools hook add the agent to an image: with the installed
# tools when present, else with the Debian packages unpacked (apt-get
# download + dpkg -x, never installed: the host's boot setup is not touched).
set -u
SRC=${TDC_SOURCE_DIR:?}
for t in cpio gzip file; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
	{ echo "SKIP: busybox-static not installed"; exit 77; }
T=$(mktemp -d /tmp/tdc-test-initramfs.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
skipped=()
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# A part that could not run is a skip of the whole test, not a pass.
skip_part() { echo "SKIP (part): $*"; skipped+=("$*"); }

# The static agent: $TDC_STATIC_AGENT, else the one initramfs/build makes.
agent_arg=()
[ -n "${TDC_STATIC_AGENT:-}" ] && agent_arg=(--agent "$TDC_STATIC_AGENT")

# ---- reproducible build --------------------------------------------------------
SOURCE_DATE_EPOCH=1700000000 "$SRC/initramfs/build" "${agent_arg[@]}" -o "$T/a.cpio.gz" >"$T/a.log" 2>&1 ||
	{ echo "FAIL: initramfs/build: $(cat "$T/a.log")"; exit 1; }
SOURCE_DATE_EPOCH=1700000000 "$SRC/initramfs/build" "${agent_arg[@]}" -o "$T/b.cpio.gz" >/dev/null 2>&1 ||
	fail "second build"
cmp -s "$T/a.cpio.gz" "$T/b.cpio.gz" && ok "same inputs, same bytes ($(stat -c %s "$T/a.cpio.gz") bytes, sha256 $(sha256sum "$T/a.cpio.gz" | cut -c1-16)...)" ||
	fail "two builds from the same inputs differ"
SOURCE_DATE_EPOCH=1600000000 "$SRC/initramfs/build" "${agent_arg[@]}" -o "$T/c.cpio.gz" >/dev/null 2>&1
cmp -s "$T/a.cpio.gz" "$T/c.cpio.gz" && fail "SOURCE_DATE_EPOCH does not reach the archive"
gzip -t "$T/a.cpio.gz" || fail "not a valid gzip stream"
[ "$(head -c 10 "$T/a.cpio.gz" | od -An -tx1 | tr -d ' \n' | cut -c9-16)" = "00000000" ] ||
	fail "gzip header carries a timestamp (gzip -n missing)"

# ---- content --------------------------------------------------------------------
zcat "$T/a.cpio.gz" | cpio -it --quiet >"$T/list" 2>/dev/null || fail "cpio cannot list the archive"
for f in init bin/busybox bin/tdcpuid-agent bin/sh bin/mount bin/poweroff proc sys dev tmp; do
	grep -qx "$f" "$T/list" || fail "archive lacks $f"
done
[ "$(LC_ALL=C sort "$T/list")" = "$(cat "$T/list")" ] || fail "archive members are not sorted"
mkdir "$T/x" && (cd "$T/x" && zcat "$T/a.cpio.gz" | cpio -id --quiet 2>/dev/null)
cmp -s "$T/x/init" "$SRC/initramfs/init" || fail "/init differs from initramfs/init"
[ -x "$T/x/init" ] || fail "/init not executable"
file "$T/x/bin/tdcpuid-agent" | grep -q 'statically linked' || fail "agent in the archive is not static"
"$T/x/bin/tdcpuid-agent" --version >"$T/ver" 2>&1 && ok "agent in the archive runs: $(cat "$T/ver")" ||
	fail "agent in the archive does not run: $(cat "$T/ver")"
"$T/x/bin/tdcpuid-agent" probe --format raw >"$T/probe" 2>&1 && grep -q "eax=0x" "$T/probe" ||
	fail "agent in the archive cannot probe"
for m in "tdcpuid.nonce=" "tdcpuid.to=" "configfs" "PROBE BEGIN" "--serial -" "--to" "poweroff"; do
	grep -qF -- "$m" "$T/x/init" || fail "/init lacks '$m'"
done
owners=$(zcat "$T/a.cpio.gz" | cpio -itv --quiet 2>/dev/null | awk '{print $3":"$4}' | sort -u)
[ "$owners" = "root:root" ] || fail "archive owners are '$owners', not root:root"
ok "archive: $(wc -l <"$T/list") members, /init + static agent + busybox"
agent=$T/x/bin/tdcpuid-agent

# ---- distro hooks: unpack the Debian packages when the tools are absent ------------
unpack() { # unpack DIR PKG... -> DIR/root
	(cd "$1" && apt-get download -q "${@:2}" >/dev/null 2>&1) || return 1
	for d in "$1"/*.deb; do dpkg -x "$d" "$1/root" || return 1; done
}

# dracut
mkdir -p "$T/dracut/conf"
if command -v dracut >/dev/null; then
	dracut_cmd=(dracut); base=/usr/lib/dracut
elif unpack "$T/dracut" dracut-core dracut; then
	dracut_cmd=("$T/dracut/root/usr/bin/dracut"); base=$T/dracut/root/usr/lib/dracut
else
	dracut_cmd=()
	skip_part "dracut not installed and its package could not be downloaded"
fi
if [ ${#dracut_cmd[@]} -gt 0 ]; then
	cp -r "$base" "$T/dracut/base" && cp -r "$SRC/initramfs/dracut/90tdcpuid" "$T/dracut/base/modules.d/"
	TDCPUID_AGENT=$agent dracutbasedir=$T/dracut/base "${dracut_cmd[@]}" --no-kernel \
		--conf /dev/null --confdir "$T/dracut/conf" --modules "tdcpuid" --no-hostonly \
		--force --tmpdir "$T/dracut" "$T/dracut/out.img" >"$T/dracut/log" 2>&1 ||
		fail "dracut: $(tail -n 5 "$T/dracut/log")"
	if [ -s "$T/dracut/out.img" ]; then
		(zcat "$T/dracut/out.img" 2>/dev/null || cat "$T/dracut/out.img") | cpio -it --quiet 2>/dev/null >"$T/dracut/list"
		grep -qx "usr/bin/tdcpuid-agent" "$T/dracut/list" && grep -q "tdcpuid-evidence.sh" "$T/dracut/list" &&
			ok "dracut module: image ($(stat -c %s "$T/dracut/out.img") bytes) holds the agent and the hook" ||
			fail "dracut image lacks the agent or hook"
	fi
fi

# initramfs-tools
mkdir -p "$T/itools/dest"
if command -v mkinitramfs >/dev/null && [ -d "/lib/modules/$(uname -r)" ]; then
	mkdir -p "$T/itools/conf/hooks" "$T/itools/conf/scripts/init-premount"
	cp /etc/initramfs-tools/initramfs.conf "$T/itools/conf/"
	cp "$SRC/initramfs/initramfs-tools/hooks/tdcpuid" "$T/itools/conf/hooks/"
	cp "$SRC/initramfs/initramfs-tools/scripts/init-premount/tdcpuid" "$T/itools/conf/scripts/init-premount/"
	TDCPUID_AGENT=$agent mkinitramfs -d "$T/itools/conf" -o "$T/itools/out.img" "$(uname -r)" \
		>"$T/itools/log" 2>&1 || fail "mkinitramfs: $(tail -n 5 "$T/itools/log")"
	unmkinitramfs "$T/itools/out.img" "$T/itools/dest" 2>/dev/null
	find "$T/itools/dest" -path '*usr/bin/tdcpuid-agent' | grep -q . &&
		ok "initramfs-tools: mkinitramfs image holds the agent" || fail "mkinitramfs image lacks the agent"
elif unpack "$T/itools" initramfs-tools-core; then
	# version: mkinitramfs always sets it; the modules this kernel has not
	# are skipped (test_tdx_kernel.sh runs the hook against a TDX kernel).
	mkdir -p "$T/itools/dest/conf"
	DESTDIR=$T/itools/dest version=$(uname -r) TDC_HOOK_FUNCTIONS=$T/itools/root/usr/share/initramfs-tools/hook-functions \
		TDCPUID_AGENT=$agent sh "$SRC/initramfs/initramfs-tools/hooks/tdcpuid" >"$T/itools/log" 2>&1 ||
		fail "initramfs-tools hook: $(cat "$T/itools/log")"
	[ "$(sh "$SRC/initramfs/initramfs-tools/hooks/tdcpuid" prereqs)" = "" ] || fail "hook prereqs"
	cmp -s "$T/itools/dest/usr/bin/tdcpuid-agent" "$agent" &&
		ok "initramfs-tools hook (unpacked hook-functions; mkinitramfs needs /lib/modules here): agent copied" ||
		fail "initramfs-tools hook did not copy the agent"
else
	skip_part "initramfs-tools not installed and its package could not be downloaded"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
if [ ${#skipped[@]} -gt 0 ]; then
	echo "SKIP: every other initramfs check passed, but not all ran: $(printf '%s; ' "${skipped[@]}")"
	exit 77
fi
echo "all initramfs checks passed"
