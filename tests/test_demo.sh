#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The README's quick start is scripts/demo: run it as a reader would (from a
# directory of their own, the build found through TDC_BUILD_DIR) and expect
# the labelled PASS, then the one-bit lie caught.  The demo itself exits 1
# when either verdict is not what it shows.
set -u
SRC=${TDC_SOURCE_DIR:?}
export TDC_BUILD_DIR=${TDC_BUILD_DIR:?}
T=$(mktemp -d /tmp/tdc-test-demo.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

cd "$T" && "$SRC/scripts/demo" >out.txt 2>err.txt
rc=$?
[ $rc -eq 0 ] || fail "scripts/demo: exit $rc: $(tail -5 out.txt) $(cat err.txt)"
[ -f "$T/tdcpuid-demo/ev.cbor" ] || fail "the demo did not work in ./tdcpuid-demo"
grep -q '^result: PASS' out.txt || fail "no PASS"
grep -q '^SIMULATED TEE' out.txt || fail "the PASS is not labelled SIMULATED"
grep -q 'waived by require_tcb' out.txt || fail "the waived key is not named"
grep -q '^MISMATCH: CPUID.01H:EDX.sse2 \[bit 26\]: requested 0, guest sees 1' out.txt || fail "the lie is not named"
grep -q '^result: FAIL' out.txt || fail "the lie did not fail"
grep -q 'capture --qmp' out.txt && grep -q 'KVM_TDX_INIT_VM' out.txt ||
	fail "the demo does not say where a requested configuration comes from"
[ $fails -eq 0 ] && echo "ok: scripts/demo: labelled PASS, then the one-bit lie caught"
exit $((fails > 0))
