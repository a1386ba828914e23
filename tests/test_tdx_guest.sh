#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration test on real TDX: only inside a TD with /dev/tdx_guest.
# Gets hardware evidence, checks the TDREPORT parses, its hash links hold and
# its REPORTDATA binds the claims (via inspect); with configfs-tsm, the quote too.
set -u
DEV=${TDC_TDX_GUEST_DEV:-/dev/tdx_guest}
if [ ! -e "$DEV" ]; then
	echo "SKIP: no $DEV (not running in a TDX guest)"
	exit 77
fi
AGENT=${TDC_AGENT:?}
VERIFIER=${TDC_VERIFIER:?}
T=$(mktemp -d /tmp/tdc-test-tdx.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$AGENT" evidence --nonce "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" \
	--tee tdx -o "$T/ev.cbor" || { echo "FAIL: evidence --tee tdx"; exit 1; }
"$VERIFIER" inspect --format json "$T/ev.cbor" >"$T/ev.json" || { echo "FAIL: inspect"; exit 1; }
python3 - "$T/ev.json" <<'PY' || { echo "FAIL: hardware evidence content"; exit 1; }
import json, sys
e = json.load(open(sys.argv[1]))["evidence"]
assert e["claims"]["tee"] == "tdx"
assert e["tdreport"]["hash_links"] == "ok"
assert e["tdreport"]["reportdata_binding"] == "ok"
assert not e["tdreport"].get("simulated")
if "quote" in e:
    assert e["quote"]["reportdata_binding"] == "ok"
    assert not e["quote"].get("simulated")
PY
echo "ok: hardware TDREPORT$(grep -q '"quote"' "$T/ev.json" && echo ' and quote') bound to the claims"
