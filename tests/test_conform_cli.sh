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
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all conform CLI checks passed"
