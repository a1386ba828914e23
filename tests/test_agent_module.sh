#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The dynamic agent's start (agent/module.h): `probe` and the other paths
# without cryptography never load libcrypto, nor libcbor (the binary's CBOR
# heads are lib/cbor_head_native.c) (not linked: readelf NEEDED and
# ldd; not loaded: the dynamic loader's own log, LD_DEBUG=libs), while the
# subcommands that need it load the crypto module, found beside the binary
# through /proc/self/exe, never through the working directory or
# LD_LIBRARY_PATH; a module that is broken or from another build is refused
# with exit 3 and dlerror()'s words, without trying elsewhere.
set -u
AGENT=${TDC_AGENT:?}
MODULE=${TDC_AGENT_MODULE:-}
T=$(mktemp -d /tmp/tdc-test-agent-module.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

if file -L "$AGENT" | grep -q 'statically linked'; then
	echo "SKIP: $AGENT is the static agent (everything linked in, nothing loaded)"
	exit 77
fi
[ -n "$MODULE" ] && [ -f "$MODULE" ] || { echo "FAIL: TDC_AGENT_MODULE not set or missing: '$MODULE'"; exit 1; }

# ---- not linked -------------------------------------------------------------
needed=$(readelf -d "$AGENT" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd ' ' -)
case " $needed " in
*" libcrypto"* | *" libssl"*) fail "the agent links libcrypto: NEEDED $needed" ;;
*" libcbor"*) fail "the agent links libcbor (its heads are lib/cbor_head_native.c): NEEDED $needed" ;;
*" libc.so"*) ok "NEEDED: $needed" ;;
*) fail "no NEEDED entries read from $AGENT: '$needed'" ;;
esac
ldd "$AGENT" | grep -qE "libcrypto|libcbor" && fail "ldd: $(ldd "$AGENT" | grep -E "libcrypto|libcbor")"
readelf -d "$MODULE" | grep -q 'NEEDED.*libcrypto' || fail "the module does not link libcrypto"
# Only the one table is exported: the module's libtdcpuid binds to itself.
exports=$(nm -D --defined-only "$MODULE" | awk '{print $3}' | paste -sd ' ' -)
[ "$exports" = tdc_agent_module ] && ok "module exports: $exports" || fail "module exports: $exports"

# ---- not loaded: what the dynamic loader opened and initialised ------------------
# loaded CMD...: the loader's log of CMD (stdout and stderr of CMD dropped).
loaded() { LD_DEBUG=libs LD_DEBUG_OUTPUT="$T/ld" "$@" >/dev/null 2>&1; cat "$T"/ld.* 2>/dev/null; rm -f "$T"/ld.*; }
export TDCPUID_DATADIR=${TDCPUID_DATADIR:-/nonexistent}
for args in "probe --format raw" "probe --format text" "probe --format json" \
	"probe --format cbor" "probe --cpu 0 --format raw" "--version" "--help" "probe --help"; do
	# shellcheck disable=SC2086
	log=$(loaded "$AGENT" $args)
	if ! grep -q 'calling init: .*libc\.so' <<<"$log"; then
		fail "$args: no loader log (LD_DEBUG=libs ignored?): $(head -n 3 <<<"$log")"
	elif grep -qE 'libcrypto|libssl|libcbor|tdcpuid-agent-crypto' <<<"$log"; then
		fail "$args loads libcrypto or libcbor: $(grep -E 'calling init' <<<"$log" | sed 's/.*init: //' | paste -sd ' ' -)"
	else
		ok "$args: $(grep -c 'calling init' <<<"$log") libraries initialised, no libcrypto, no libcbor"
	fi
done
# The same check sees libcrypto where it is loaded (so it can fail).
log=$(loaded "$AGENT" sim-keygen "$T/sim")
grep -q 'calling init: .*libcrypto' <<<"$log" && grep -q 'calling init: .*tdcpuid-agent-crypto' <<<"$log" &&
	ok "sim-keygen loads the module and libcrypto" || fail "sim-keygen: $(grep 'calling init' <<<"$log")"

# ---- the module's subcommands from the build tree, from another directory ------------------
cd / || exit 1
[ -f "$T/sim/root-ca.pem" ] || fail "sim-keygen wrote no keys"
"$AGENT" evidence --tee sim --sim-dir "$T/sim" --nonce 00112233 -o "$T/ev.cbor" 2>"$T/err" &&
	[ -s "$T/ev.cbor" ] && ok "evidence --tee sim through the module" || fail "evidence: $(cat "$T/err")"
# Global options reach the module: a relative --datadir is refused as by the agent itself.
"$AGENT" --datadir relative evidence --tee sim --sim-dir "$T/sim" --nonce 00 -o "$T/x" 2>"$T/err"
[ $? -eq 2 ] && ok "--datadir before a module subcommand: $(head -n 1 "$T/err")" ||
	fail "--datadir relative: $(cat "$T/err")"
"$AGENT" --datadir "$T" evidence --help >"$T/out" 2>&1 && grep -q "Usage: tdcpuid-agent evidence" "$T/out" &&
	ok "--datadir DIR evidence --help: the module's usage" || fail "evidence --help: $(head -n 3 "$T/out")"

# ---- where the module is looked for ------------------------------------------------
# The binary copied into a tree of its own, the module at the same relative place.
rel=$(realpath --relative-to="$(dirname "$(realpath "$AGENT")")" "$(dirname "$MODULE")")
R=$T/relocated
mkdir -p "$R/bin" "$R/bin/$rel"
cp "$AGENT" "$R/bin/tdcpuid-agent"
cp "$MODULE" "$R/bin/$rel/"
M=$(realpath -m "$R/bin/$rel/${MODULE##*/}")
"$R/bin/tdcpuid-agent" evidence --tee sim --sim-dir "$T/sim" --nonce 01 -o "$T/ev2.cbor" 2>"$T/err" &&
	ok "relocated binary: the module at <bin>/$rel" || fail "relocated: $(cat "$T/err")"
# Through a symbolic link, /proc/self/exe is still the real binary.
ln -s "$R/bin/tdcpuid-agent" "$T/link-agent"
"$T/link-agent" evidence --tee sim --sim-dir "$T/sim" --nonce 01 -o "$T/ev3.cbor" 2>"$T/err" &&
	ok "through a symlink" || fail "symlink: $(cat "$T/err")"

# expect3 NAME PATTERN cmd...: exit 3, one stderr line matching PATTERN, no stdout.
expect3() {
	local name=$1 pat=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 3 ] || ! grep -q -- "$pat" "$T/err" || [ "$(wc -l <"$T/err")" -ne 1 ] || [ -s "$T/out" ]; then
		fail "$name: exit $rc (want 3), stderr: $(cat "$T/err")"
	else
		ok "$name: $(cat "$T/err")"
	fi
}
# A broken module (here: not ELF) is an error naming it and dlerror's reason,
# not a reason to look elsewhere; probe does not need it.
: >"$M"
expect3 "empty module" "sim-keygen: cannot load the agent's crypto module: $M: file too short" \
	"$R/bin/tdcpuid-agent" sim-keygen "$T/sim2"
[ -e "$T/sim2" ] && fail "sim-keygen made its directory without the module"
"$R/bin/tdcpuid-agent" probe --format raw >/dev/null 2>"$T/err" && ok "probe without a usable module" ||
	fail "probe with a broken module: $(cat "$T/err")"
# A module of another build (ABI) or version.
if command -v cc >/dev/null; then
	for v in "99, \"$("$AGENT" --version | awk '{print $2}')\"" "1, \"0.0.0-other\""; do
		printf 'static int m(int c, char **v) { return 0; }\nconst struct { unsigned a; const char *v; int (*m)(int, char **); } tdc_agent_module = { %s, m };\n' \
			"$v" >"$T/other.c"
		cc -shared -fPIC -o "$M" "$T/other.c" || { fail "cc other.c"; continue; }
		expect3 "module of another build ($v)" "evidence: $M is from another build" \
			"$R/bin/tdcpuid-agent" evidence --tee sim --sim-dir "$T/sim" --nonce 01 -o "$T/x"
	done
	printf 'int not_the_table;\n' >"$T/other.c"
	cc -shared -fPIC -o "$M" "$T/other.c" &&
		expect3 "a library without the table" "is not the agent's crypto module: .*undefined symbol: tdc_agent_module" \
			"$R/bin/tdcpuid-agent" evidence --tee sim --sim-dir "$T/sim" --nonce 01 -o "$T/x"
else
	echo "(cc not installed: modules of another build not tried)"
fi

# No module beside the binary: the working directory and LD_LIBRARY_PATH hold
# a good one and are not used; the only other place is the configured one.
rm -f "$M"
configured=$(strings "$AGENT" | grep -m1 '/tdcpuid/tdcpuid-agent-crypto\.so$')
C=$T/cwd/bin # a working directory with the module in it and at <cwd>/$rel
mkdir -p "$C/$rel"
cp "$MODULE" "$C/"
cp "$MODULE" "$C/$rel/"
if [ -z "$configured" ]; then
	fail "the configured module path is not in the binary"
elif [ -e "$configured" ]; then
	echo "(a module is installed at $configured: the not-found case is not tried)"
else
	(cd "$C" && LD_LIBRARY_PATH=$C:$C/$rel expect3 "no module: not from the working directory or LD_LIBRARY_PATH" \
		"cannot load the agent's crypto module: $M: cannot open shared object file: No such file or directory (nor found at $configured)" \
		"$R/bin/tdcpuid-agent" evidence --tee sim --sim-dir "$T/sim" --nonce 01 -o "$T/x"
	exit $fails)
	fails=$?
fi

[ $fails -eq 0 ] || { echo "FAIL: $fails"; exit 1; }
echo PASS
