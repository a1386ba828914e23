#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The guest image can attest a real TD: scripts/fetch-kernel picks a Debian
# kernel whose config has the TDX guest (CONFIG_INTEL_TDX_GUEST=y), the
# /dev/tdx_guest driver and configfs-tsm, and the images carry the modules:
#  - initramfs/build --kernel-root: tdx_guest, tsm, configfs and the vsock
#    transport, uncompressed, for this kernel (vermagic), in load order;
#  - the initramfs-tools hook and the dracut module, run against the same
#    kernel (depmod and modprobe from the kmod package, unpacked if absent).
set -u
SRC=${TDC_SOURCE_DIR:?}
T=$(mktemp -d /tmp/tdc-test-tdx-kernel.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
skipped=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
skip_part() { echo "SKIP-PART: $*"; skipped=$((skipped + 1)); }

if ! root=$("$SRC/scripts/fetch-kernel" --print-root 2>"$T/fetch.log"); then
	if grep -q "lacks TDX guest support\|no kernel with TDX" "$T/fetch.log"; then
		echo "FAIL: $(tail -n 3 "$T/fetch.log")"; exit 1
	fi
	echo "SKIP: no Debian kernel could be fetched: $(tail -n 1 "$T/fetch.log")"; exit 77
fi
cfg=$(ls "$root"/boot/config-* | head -n 1)
ver=${cfg##*/config-}
grep -qx 'CONFIG_INTEL_TDX_GUEST=y' "$cfg" && grep -qE '^CONFIG_TDX_GUEST_DRIVER=(y|m)$' "$cfg" &&
	grep -qE '^CONFIG_TSM_REPORTS=(y|m)$' "$cfg" &&
	ok "kernel $ver: $(grep -hE '^CONFIG_(INTEL_TDX_GUEST|TDX_GUEST_DRIVER|TSM_REPORTS)=' "$cfg" | tr '\n' ' ')" ||
	fail "kernel $ver lacks TDX guest support: $(grep -E 'TDX|TSM_REPORTS' "$cfg")"

# ---- the project's image ------------------------------------------------------
agent_arg=()
[ -n "${TDC_STATIC_AGENT:-}" ] && agent_arg=(--agent "$TDC_STATIC_AGENT")
if "$SRC/initramfs/build" "${agent_arg[@]}" --kernel-root "$root" -o "$T/img.cpio.gz" >"$T/build.log" 2>&1; then
	mkdir "$T/img"
	(cd "$T/img" && zcat "$T/img.cpio.gz" | cpio -id --quiet 2>/dev/null)
	order=$(tr '\n' ' ' <"$T/img/lib/modules/tdcpuid.order" 2>/dev/null)
	for m in configfs tsm tdx_guest vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do
		f=$T/img/lib/modules/$m.ko
		[ -f "$f" ] || { fail "image lacks $m.ko (order: $order)"; continue; }
		objcopy -O binary --only-section=.modinfo "$f" "$T/mi" 2>/dev/null
		tr '\0' '\n' <"$T/mi" | grep -q "^vermagic=$ver " || fail "$m.ko is not built for $ver"
	done
	pos() { awk -v m="$1" '{ for (i = 1; i <= NF; i++) if ($i == m) print i }' <<<"$order"; }
	[ "$(pos configfs)" -lt "$(pos tsm)" ] && [ "$(pos tsm)" -lt "$(pos tdx_guest)" ] &&
		[ "$(pos vsock)" -lt "$(pos vmw_vsock_virtio_transport)" ] &&
		ok "initramfs/build: modules for $ver in load order: $order" ||
		fail "module load order: $order"
	grep -q 'insmod "/lib/modules/$m.ko"' "$T/img/init" && [ -L "$T/img/bin/insmod" ] ||
		fail "/init does not load the modules, or no insmod applet"
else
	fail "initramfs/build --kernel-root: $(tail -n 3 "$T/build.log")"
fi

# ---- the distro hooks, against this kernel -------------------------------------
unpack() { # unpack DIR PKG... -> DIR/root
	mkdir -p "$1"
	(cd "$1" && apt-get download -q "${@:2}" >/dev/null 2>&1) || return 1
	for d in "$1"/*.deb; do dpkg -x "$d" "$1/root" || return 1; done
}
mkdir -p "$T/bin"
if command -v depmod >/dev/null && command -v modprobe >/dev/null; then
	ln -s "$(command -v kmod || command -v modprobe)" "$T/bin/kmod"
elif unpack "$T/kmod" kmod; then
	ln -s "$T/kmod/root/bin/kmod" "$T/bin/kmod"
else
	skip_part "kmod not installed and its package could not be downloaded"
fi
agent=${TDC_STATIC_AGENT:-$SRC/build-static/agent/tdcpuid-agent}
if [ -e "$T/bin/kmod" ]; then
	for t in depmod modprobe modinfo; do ln -s kmod "$T/bin/$t"; done
	# A modules tree of our own (links to the package's modules) for depmod.
	mkdir -p "$T/k/lib/modules"
	cp -rs "$root/lib/modules/$ver" "$T/k/lib/modules/$ver"
	"$T/bin/depmod" -b "$T/k" "$ver" || fail "depmod"

	# initramfs-tools: the hook with hook-functions whose modprobe/modinfo
	# look in that tree (hook-functions calls /sbin/modprobe by path).
	if [ -f /usr/share/initramfs-tools/hook-functions ]; then
		hf=/usr/share/initramfs-tools/hook-functions
	elif unpack "$T/itools" initramfs-tools-core; then
		hf=$T/itools/root/usr/share/initramfs-tools/hook-functions
	else
		hf=
		skip_part "initramfs-tools not installed and its package could not be downloaded"
	fi
	if [ -n "$hf" ]; then
		sed -e "s|/sbin/modprobe|$T/bin/modprobe -d $T/k|g" -e "s|modinfo -k|$T/bin/modinfo -b $T/k -k|g" \
			"$hf" >"$T/hook-functions"
		mkdir -p "$T/dest/conf"
		DESTDIR=$T/dest version=$ver MODULESDIR=$T/k/lib/modules/$ver CONFDIR=$T/conf verbose=n \
			TDC_HOOK_FUNCTIONS=$T/hook-functions TDCPUID_AGENT=$agent \
			sh "$SRC/initramfs/initramfs-tools/hooks/tdcpuid" >"$T/hook.log" 2>&1 ||
			fail "initramfs-tools hook: $(tail -n 3 "$T/hook.log")"
		got=$(find "$T/dest" -name '*.ko*' -printf '%f\n' | sort -u | tr '\n' ' ')
		for m in tdx-guest tsm configfs vmw_vsock_virtio_transport vsock; do
			grep -qE "(^| )$m\.ko" <<<"$got" || fail "initramfs-tools hook did not add $m (added: $got)"
		done
		grep -qx tdx_guest "$T/dest/conf/modules" && grep -qx vmw_vsock_virtio_transport "$T/dest/conf/modules" &&
			ok "initramfs-tools hook: $got; conf/modules loads tdx_guest and the vsock transport" ||
			fail "initramfs-tools hook: conf/modules: $(cat "$T/dest/conf/modules" 2>/dev/null)"
	fi

	# dracut: the module against the same kernel (--kmoddir); dracut runs
	# the system's depmod by its own PATH.
	if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v depmod >/dev/null; then
		dracut_cmd=()
		skip_part "dracut needs kmod installed (scripts/setup installs it)"
	elif command -v dracut >/dev/null; then
		dracut_cmd=(dracut); base=/usr/lib/dracut
	elif unpack "$T/dracut" dracut-core dracut; then
		dracut_cmd=("$T/dracut/root/usr/bin/dracut"); base=$T/dracut/root/usr/lib/dracut
	else
		dracut_cmd=()
		skip_part "dracut not installed and its package could not be downloaded"
	fi
	if [ ${#dracut_cmd[@]} -gt 0 ]; then
		cp -r "$base" "$T/dbase" && cp -r "$SRC/initramfs/dracut/90tdcpuid" "$T/dbase/modules.d/"
		mkdir -p "$T/dconf"
		PATH=$T/bin:$PATH TDCPUID_AGENT=$agent dracutbasedir=$T/dbase "${dracut_cmd[@]}" \
			--kver "$ver" --kmoddir "$T/k/lib/modules/$ver" --conf /dev/null --confdir "$T/dconf" \
			--modules tdcpuid --no-hostonly --force --tmpdir "$T" "$T/dracut.img" >"$T/dracut.log" 2>&1 ||
			fail "dracut: $(tail -n 5 "$T/dracut.log")"
		if [ -s "$T/dracut.img" ]; then
			(zcat "$T/dracut.img" 2>/dev/null || cat "$T/dracut.img") | cpio -it --quiet 2>/dev/null >"$T/dlist"
			miss=
			for m in tdx-guest tsm configfs vmw_vsock_virtio_transport; do
				grep -qE "/$m\.ko" "$T/dlist" || miss="$miss $m"
			done
			[ -z "$miss" ] && ok "dracut module: image carries $(grep -cE '\.ko' "$T/dlist") modules incl. tdx-guest, tsm, configfs, vsock" ||
				fail "dracut image lacks:$miss"
		fi
	fi
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
[ $skipped -eq 0 ] || { echo "SKIP: $skipped part(s) could not run (see above)"; exit 77; }
echo PASS
