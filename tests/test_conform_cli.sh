#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tdcpuid-conform command line: usage errors exit 2 with one clear line and
# no verdict; --help and --version exit 0.  Needs no /dev/kvm.
set -u
CONFORM=${TDC_CONFORM:?}
T=$(mktemp -d /tmp/tdc-test-conform-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

expect() { # expect RC PATTERN args...
	local want=$1 pat=$2 rc
	shift 2
	"$CONFORM" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne "$want" ]; then
		fail "$*: exit $rc, expected $want: $(head -n2 "$T/err")"
	elif ! grep -q -- "$pat" "$T/err" "$T/out"; then
		fail "$*: output lacks '$pat': $(head -n2 "$T/err")"
	else
		echo "ok: $* -> $rc"
	fi
}

expect 0 "Usage: tdcpuid-conform" --help
expect 0 "tdcpuid-conform [0-9]" --version
expect 2 "expected kvm, qemu or linux" --backend xen
expect 2 "expected 1..64" --smp 0
expect 2 "expected 1..64" --smp 65
expect 2 "expected text or json" --format yaml
expect 2 "expected 1..3600" --timeout 0
expect 2 "needs --backend linux" --backend kvm --tdx
expect 2 "needs --backend kvm" --backend qemu --scan
expect 2 "only the kvm backend" --backend qemu --requested /dev/null
expect 2 "exclusive" --backend kvm --requested /dev/null --cpu host
expect 2 "unexpected argument" --backend kvm extra
expect 2 "expected hang or die" --test-fault explode
expect 2 "expected kvm or tcg" --accel hvf
if [ -c /dev/kvm ]; then
	expect 2 "not found" --backend kvm --requested "$T/missing.json"
	echo '{"entries": [{"function": 1, "eax": "zz"}]}' >"$T/bad.json"
	expect 2 "bad.json" --backend kvm --requested "$T/bad.json"
	expect 2 "unknown feature" --backend kvm --cpu host,-no-such-feature
	expect 2 "host" --backend kvm --cpu EPYC
fi

# The trust anchor a TD's evidence is judged under is loaded once, as the
# verifier loads it (self-signed root, TD QE identity beside it), before any
# guest runs: a missing or corrupt anchor is bad input at once (before: the
# run went ahead, here to the TDX host check, exit 3).
SRC=${TDC_SOURCE_DIR:?} A=${TDC_AGENT:?}
mkdir -p "$T/data"
cp -r "$SRC/policies/models" "$T/data/"
TDCPUID_DATADIR=$T/data expect 2 "$T/data/trust/Intel_SGX_Root_CA.pem" --backend linux --tdx
"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || fail "sim-keygen"
mkdir -p "$T/leaf"
cp "$T/sim/pck.pem" "$T/leaf/root.pem" && cp "$T/sim/TD_QE_identity.json" "$T/leaf/"
printf '{"version":1,"name":"leaf-anchor","trust_anchor":"%s"}\n' "$T/leaf/root.pem" >"$T/leaf.json"
expect 2 "not self-signed" --backend linux --tdx --policy "$T/leaf.json"
rm "$T/leaf/TD_QE_identity.json" && cp "$T/sim/root-ca.pem" "$T/leaf/root.pem"
expect 2 "TD QE identity" --backend linux --tdx --policy "$T/leaf.json"
# Without --tdx no evidence is judged: no anchor is needed.
TDCPUID_DATADIR=$T/data "$CONFORM" --backend linux --kernel "$T/none" >"$T/out" 2>"$T/err"
grep -q "trust anchor" "$T/err" && fail "an anchor was loaded for a run without evidence: $(cat "$T/err")"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all conform CLI checks passed"
