#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tdcpuid-agent evidence end to end without TDX: --tee sim with keys made
# here (never committed), inspected by the verifier; --tee auto refusing to
# fall back to sim; and every TDX failure path driven by fake device and
# configfs-tsm paths (TDC_TDX_GUEST_DEV, TDC_TSM_DIR).
set -u
AGENT=${TDC_AGENT:?}
VERIFIER=${TDC_VERIFIER:?}
T=$(mktemp -d /tmp/tdc-test-evidence.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect_fail NAME WANT_RC PATTERN -- cmd...: nonzero exit WANT_RC, one
# stderr line matching PATTERN.
expect_fail() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $rc, expected $want; stderr: $(cat "$T/err")"
	elif ! grep -q -- "$pat" "$T/err"; then
		fail "$name: stderr lacks '$pat': $(cat "$T/err")"
	elif [ -s "$T/out" ]; then
		fail "$name: wrote to stdout on failure"
	else
		ok "$name: $(tail -n 1 "$T/err")"
	fi
}

# ---- simulator ------------------------------------------------------------
"$AGENT" sim-keygen "$T/sim" 2>"$T/err" || fail "sim-keygen: $(cat "$T/err")"
perms=$(stat -c %a "$T/sim" "$T"/sim/* | sort -u | tr '\n' ' ')
[ "$perms" = "600 700 " ] || fail "sim key permissions: $perms"
expect_fail "sim-keygen refuses to overwrite" 2 "--force" -- \
	"$AGENT" sim-keygen "$T/sim"

NONCE=0123456789abcdef0123456789abcdef
if "$AGENT" evidence --nonce $NONCE --tee sim --sim-dir "$T/sim" -o "$T/ev.cbor" 2>"$T/err"; then
	grep -q SIMULATED "$T/err" || fail "sim evidence not labelled on stderr"
	"$VERIFIER" inspect --format json "$T/ev.cbor" >"$T/ev.json" 2>"$T/err" ||
		fail "inspect sim evidence: $(cat "$T/err")"
	python3 - "$T/ev.json" "$NONCE" <<'PY' || fail "sim evidence content"
import json, sys
j = json.load(open(sys.argv[1]))
e = j["evidence"]
assert j["kind"] == "evidence"
assert e["claims"]["tee"] == "sim", e["claims"]
assert e["claims"]["nonce"] == sys.argv[2]
assert e["claims"]["cpus"] >= 1
assert e["tdreport"]["reportdata_binding"] == "ok"
assert e["tdreport"]["hash_links"] == "ok"
assert e["tdreport"]["simulated"] is True
assert e["quote"]["reportdata_binding"] == "ok"
assert e["quote"]["simulated"] is True
assert e["quote"]["header"]["qe_vendor_id"] == b"TDCPUID-SIM-QE!!".hex()
assert e["quote"]["body"]["attributes_names"] == "SEPT_VE_DISABLE"
assert e["tdreport"]["report_data"] == e["expected_report_data"]
assert any("SIMULATED" in w for w in j["warnings"])
PY
	ok "sim evidence: claims, TDREPORT and quote bound and labelled"
else
	fail "evidence --tee sim: $(cat "$T/err")"
fi

# The sim quote, cut out of the envelope (docs/evidence.cddl: {0: claims,
# 1: tdreport, 2: quote}, all byte strings), passes the verifier's quote
# appraisal only with the sim root given explicitly, never with Intel's.
python3 - "$T/ev.cbor" "$T/quote.dat" <<'PY' || fail "cannot cut the quote out of the envelope"
import sys
d = open(sys.argv[1], "rb").read()
def head(i):
    ib, ai = d[i] >> 5, d[i] & 31
    if ai < 24: return ib, ai, i + 1
    n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
    return ib, int.from_bytes(d[i + 1:i + 1 + n], "big"), i + 1 + n
ib, n, i = head(0)
assert ib == 5
out = {}
for _ in range(n):
    _, k, i = head(i)
    ib, ln, i = head(i)
    assert ib == 2
    out[k] = d[i:i + ln]
    i += ln
open(sys.argv[2], "wb").write(out[2])
PY
"$VERIFIER" quote "$T/quote.dat" --root "$T/sim/root-ca.pem" --signature-only >"$T/q.txt" 2>&1 ||
	fail "sim quote does not appraise with the sim root: $(cat "$T/q.txt")"
"$VERIFIER" quote "$T/quote.dat" --signature-only >"$T/q.txt" 2>&1
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q "pck_chain.root" "$T/q.txt"; then
	fail "sim quote against the Intel root: exit $rc: $(cat "$T/q.txt")"
else
	ok "sim quote refused under the Intel root: $(grep pck_chain.root "$T/q.txt")"
fi
"$VERIFIER" inspect "$T/quote.dat" | grep -q "simulated *yes" || fail "bare sim quote not flagged"

# --sim-cpuid: the sim answers CPUID from a recorded dump (labelled sim).
DUMP="$TDC_TESTDATA/platforms/emr-gold-5520p.baremetal.cpuid-r.txt"
if "$AGENT" evidence --nonce 03 --tee sim --sim-dir "$T/sim" --sim-cpuid "$DUMP" \
	--cpu 0 -o "$T/ev4.cbor" 2>"$T/err"; then
	"$VERIFIER" inspect --format json "$T/ev4.cbor" | python3 -c '
import json, sys
e = json.load(sys.stdin)["evidence"]
assert e["claims"]["tee"] == "sim"
assert e["tdreport"]["reportdata_binding"] == "ok"
' || fail "--sim-cpuid evidence content"
else
	fail "--sim-cpuid: $(cat "$T/err")"
fi

# stdout by default; --report-only leaves the quote out; sim attributes.
"$AGENT" evidence --nonce 01 --tee sim --sim-dir "$T/sim" --report-only \
	--sim-attributes 0x1 >"$T/ev2.cbor" 2>"$T/err" || fail "report-only: $(cat "$T/err")"
"$VERIFIER" inspect --format json "$T/ev2.cbor" >"$T/ev2.json" || fail "inspect report-only"
python3 - "$T/ev2.json" <<'PY' || fail "report-only content"
import json, sys
j = json.load(open(sys.argv[1]))
e = j["evidence"]
assert "quote" not in e
assert e["tdreport"]["td_info"]["debug"] is True
assert any("DEBUG" in w for w in j["warnings"])
PY
TDC_SIM_DIR="$T/sim" "$AGENT" evidence --nonce 02 --tee sim -o "$T/ev3.cbor" 2>/dev/null ||
	fail "TDC_SIM_DIR not honoured"

# Inspect also reads a bare report and quote cut out of nothing else.
"$VERIFIER" inspect "$TDC_TESTDATA/tdx/tdreport_for_test.dat" | grep -q "hash_links *ok" ||
	fail "inspect genuine TDREPORT"
"$VERIFIER" inspect "$TDC_TESTDATA/tdx/tdx_prod_quote_SPR_E4.dat" | grep -q "trailing_bytes *39" ||
	fail "inspect genuine quote"
expect_fail "inspect shifted report" 2 "report type 0x0f" -- \
	"$VERIFIER" inspect "$TDC_TESTDATA/tdx/malformed_report_shifted.dat"

# ---- usage ----------------------------------------------------------------
expect_fail "nonce required" 2 "--nonce" -- "$AGENT" evidence --tee sim --sim-dir "$T/sim"
expect_fail "bad nonce" 2 "hex" -- "$AGENT" evidence --nonce xyz --tee sim --sim-dir "$T/sim"
expect_fail "nonce too long" 2 "at most 64" -- \
	"$AGENT" evidence --nonce "$(printf '%0130d' 0)" --tee sim --sim-dir "$T/sim"
expect_fail "unknown tee" 2 "expected auto, tdx or sim" -- \
	"$AGENT" evidence --nonce 00 --tee sev
expect_fail "sim without keys" 2 "sim-keygen" -- \
	"$AGENT" evidence --nonce 00 --tee sim --sim-dir "$T/nokeys"

# ---- TDX failure paths (fake device / configfs paths) ---------------------
export TDC_TDX_GUEST_DEV="$T/no-tdx-guest"
expect_fail "auto without device names --tee sim" 3 "--tee sim" -- \
	"$AGENT" evidence --nonce 00 --tee auto
expect_fail "auto is the default" 3 "--tee sim" -- "$AGENT" evidence --nonce 00
expect_fail "tdx without device" 3 "No such file or directory" -- \
	"$AGENT" evidence --nonce 00 --tee tdx --report-only
mkdir "$T/devdir"
TDC_TDX_GUEST_DEV="$T/devdir" expect_fail "device path is a directory" 3 "Is a directory" -- \
	"$AGENT" evidence --nonce 00 --tee tdx --report-only
: >"$T/fakedev"
export TDC_TDX_GUEST_DEV="$T/fakedev"
expect_fail "ioctl on a non-tdx file" 3 "TDX_CMD_GET_REPORT0.*Inappropriate ioctl" -- \
	"$AGENT" evidence --nonce 00 --tee tdx --report-only
if [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$T/fakedev"
	expect_fail "device permission denied" 3 "Permission denied" -- \
		"$AGENT" evidence --nonce 00 --tee tdx --report-only
	chmod 600 "$T/fakedev"
else
	echo "note: running as root, EACCES on the device cannot be provoked"
fi
TDC_TSM_DIR="$T/no-tsm" expect_fail "configfs-tsm missing with --quote" 3 "configfs-tsm: .*no-tsm" -- \
	"$AGENT" evidence --nonce 00 --tee tdx --quote
mkdir "$T/tsm"
TDC_TSM_DIR="$T/tsm" expect_fail "configfs-tsm entry without provider" 3 "provider" -- \
	"$AGENT" evidence --nonce 00 --tee tdx --quote
[ -z "$(ls -A "$T/tsm")" ] || fail "configfs-tsm entry not removed: $(ls "$T/tsm")"
# Default mode: no configfs-tsm is a note, then the (fake) report fails.
TDC_TSM_DIR="$T/no-tsm" "$AGENT" evidence --nonce 00 --tee tdx >/dev/null 2>"$T/err"
grep -q "note: no quote" "$T/err" || fail "no note about the missing quote: $(cat "$T/err")"

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "all evidence CLI checks passed"
