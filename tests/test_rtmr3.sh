#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The rtmr3 binding end to end with the simulator (which models RTMR
# extension: RTMRs start at zero, a simulated CCEL explains RTMR0..2, the
# registers persist in the sim directory): pass; claims changed after the
# extension fail; an extra unrelated RTMR3 event still passes and is
# reported; a log that does not replay to RTMR3 fails; REPORTDATA mode is
# unchanged.  Also the shapes pipelines produce (raw quote + event log +
# claims, Trustee's {"cc_eventlog","quote"} JSON), inspect --extract, and the
# TDX backend's missing-ABI and write paths with fake sysfs files.
set -u
A=${TDC_AGENT:?}
V=${TDC_VERIFIER:?}
T=$(mktemp -d /tmp/tdc-test-rtmr3.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
NONCE=a1a2a3a4a5a6a7a8a9aaabacadaeafb0
NONCE1=0101010101010101

"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || { echo "FAIL: sim-keygen"; exit 1; }
"$A" probe --format raw -o "$T/req.txt" 2>/dev/null || { echo "FAIL: probe"; exit 1; }
echo '{"version":1,"name":"test-sim","allow_simulated":true,"require_tcb":false,"fail_on":["mismatch"]}' \
	>"$T/pol.json"
ev() { "$A" evidence --tee sim --sim-dir "$T/sim" "$@" 2>"$T/agent.err"; }
check() {
	"$V" check --requested "$T/req.txt" --model kvm --policy "$T/pol.json" \
		--sim-dir "$T/sim" --root "$T/sim/root-ca.pem" "$@"
}
# expect NAME RC PATTERN -- check args: exit RC and a line matching PATTERN.
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	check "$@" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $rc, expected $want: $(grep -E 'FAIL|rtmr3|error' "$T/out" | head -4)"
	elif ! grep -qE -- "$pat" "$T/out"; then
		fail "$name: no line matching '$pat': $(head -c 600 "$T/out")"
	else
		ok "$name: $(grep -E -- "$pat" "$T/out" | head -1 | cut -c1-110)"
	fi
}
extract() { "$V" inspect --extract "$2" "$1" -o "$3" || fail "extract $2 from $1"; }

# ---- pass ------------------------------------------------------------------
ev --bind rtmr3 --nonce $NONCE1 -o "$T/ev1" || fail "agent --bind rtmr3: $(cat "$T/agent.err")"
grep -q "bound in RTMR3" "$T/agent.err" || fail "agent does not say it bound in RTMR3"
expect "rtmr3 evidence passes" 0 "^PASS  rtmr3_claims_event" -- --evidence "$T/ev1" --nonce $NONCE1
grep -q "^PASS  rtmr3_replay" "$T/out" || fail "rtmr3_replay not PASS"
grep -q "^INFO  rtmr0_2_replay: the event log also replays RTMR0..2 (platform CCEL)" "$T/out" ||
	fail "sim CCEL does not explain RTMR0..2: $(grep rtmr0 "$T/out")"
grep -q "^INFO  tdreport_binding: binding rtmr3" "$T/out" || fail "REPORTDATA not left alone"
expect "wrong nonce fails" 1 "^FAIL  nonce" -- --evidence "$T/ev1" --nonce 00

# ---- an unrelated RTMR3 event: still passes, reported --------------------------
"$A" extend --tee sim --sim-dir "$T/sim" --domain example.org --operation load \
	--content "image sha256:0123" 2>"$T/err" || fail "extend: $(cat "$T/err")"
ev --bind rtmr3 --nonce $NONCE -o "$T/ev2" || fail "agent after extend: $(cat "$T/agent.err")"
expect "extra RTMR3 event still passes" 0 \
	"^INFO  rtmr3_events: 2 other RTMR3 events .*example.org load image sha256:0123" -- \
	--evidence "$T/ev2" --nonce $NONCE
"$V" inspect --format json "$T/ev2" >"$T/ev2.json" || fail "inspect ev2"
python3 - "$T/ev2.json" <<'PY' || fail "inspect of rtmr3 evidence"
import json, sys
e = json.load(open(sys.argv[1]))["evidence"]
assert e["claims"]["binding"] == "rtmr3"
el = e["eventlog"]
aael = [x["aael"] for x in el["events"] if "aael" in x]
assert aael[1] == "example.org load image sha256:0123", aael
assert aael[2] == "urn:tdcpuid cpuid-claims " + e["expected_rtmr3_event"]["content"], aael
assert all(x["digest_matches_data"] for x in el["events"])
assert e["quote"]["rtmr3_replay"] == "ok" and e["tdreport"]["rtmr3_replay"] == "ok"
assert el["replay"]["rtmr3"] == e["quote"]["body"]["rtmr3"]
assert e["quote"]["reportdata_binding"].startswith("not used")
PY

# ---- claims changed after the extension ---------------------------------------
extract "$T/ev2" quote "$T/q2"
extract "$T/ev2" claims "$T/c2"
extract "$T/ev2" eventlog "$T/l2"
extract "$T/ev1" claims "$T/c1"
python3 - "$T/c2" "$T/c2x" <<'PY' || fail "cannot edit the claims"
import sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"tdcpuid-agent")
open(sys.argv[2], "wb").write(d[:i] + b"tdcpuid-agenT" + d[i + 13:])
PY
expect "claims edited after extension fail" 1 "^FAIL  rtmr3_claims_event: no RTMR3 event" -- \
	--evidence "$T/q2" --claims "$T/c2x" --event-log "$T/l2" --nonce $NONCE
# The first run's claims are in RTMR3 too, but superseded: never valid again.
expect "superseded claims (earlier run) fail" 1 "^FAIL  rtmr3_claims_event: .*superseded" -- \
	--evidence "$T/q2" --claims "$T/c1" --event-log "$T/l2"
expect "raw quote + claims + event log pass" 0 "^result: PASS" -- \
	--evidence "$T/q2" --claims "$T/c2" --event-log "$T/l2" --nonce $NONCE
expect "no event log fails" 1 "^FAIL  rtmr3_claims_event: .*no event log" -- \
	--evidence "$T/q2" --claims "$T/c2" --nonce $NONCE

# ---- a log that does not replay to RTMR3 -----------------------------------------
python3 - "$T/ev2.json" "$T/l2" "$T/l2cut" <<'PY' || fail "cannot cut the log"
import json, sys
ev = json.load(open(sys.argv[1]))["evidence"]["eventlog"]["events"]
d = open(sys.argv[2], "rb").read()
# Drop the unrelated event: the claims event is still there, the replay is not.
i = [x for x in ev if x.get("aael", "").startswith("example.org")][0]["offset"]
j = ev[ev.index([x for x in ev if x["offset"] == i][0]) + 1]["offset"]
open(sys.argv[3], "wb").write(d[:i] + d[j:])
PY
expect "replay mismatch fails" 1 "^FAIL  rtmr3_replay: the event log replays RTMR3 to" -- \
	--evidence "$T/q2" --claims "$T/c2" --event-log "$T/l2cut" --nonce $NONCE
# A damaged log is bad input (exit 2), naming the offset.
head -c 700 "$T/l2" >"$T/l2trunc"
expect "truncated log is bad input" 2 "event log: need .* at offset" -- \
	--evidence "$T/q2" --claims "$T/c2" --event-log "$T/l2trunc" --nonce $NONCE

# The agent refuses to extend a register its log cannot explain.
python3 - "$T/sim/rtmr.state" <<'PY'
import hashlib, sys
s = bytearray(open(sys.argv[1], "rb").read())
s[144:192] = hashlib.sha384(bytes(s[144:192]) + b"\x42" * 48).digest()
open(sys.argv[1], "wb").write(s)
PY
if ev --bind rtmr3 --nonce $NONCE -o "$T/ev3"; then
	fail "agent extended an RTMR3 its log does not explain"
elif grep -q "something extended RTMR3 without recording it" "$T/agent.err" && [ ! -e "$T/ev3" ]; then
	ok "agent refuses an unexplained RTMR3: $(cut -c1-100 "$T/agent.err")"
else
	fail "agent refusal: $(cat "$T/agent.err")"
fi

# ---- expected REPORTDATA (the pipeline's) -----------------------------------------
"$A" sim-keygen "$T/sim2" >/dev/null 2>&1
RD=$(printf 'pipeline nonce hash' | sha256sum | cut -c1-64)
"$A" evidence --tee sim --sim-dir "$T/sim2" --bind rtmr3 --report-data "$RD" -o "$T/ev4" \
	2>"$T/agent.err" || fail "agent --report-data: $(cat "$T/agent.err")"
"$V" check --requested "$T/req.txt" --model kvm --policy "$T/pol.json" --sim-dir "$T/sim2" \
	--root "$T/sim2/root-ca.pem" --evidence "$T/ev4" --report-data "$RD" >"$T/out" 2>&1
[ $? -eq 0 ] && grep -q "^PASS  quote.report_data" "$T/out" &&
	grep -q "^INFO  nonce: no expected nonce: freshness comes from the expected REPORTDATA" "$T/out" &&
	ok "expected REPORTDATA checked, freshness from it" ||
	fail "expected REPORTDATA: $(grep -E 'FAIL|nonce|report_data' "$T/out")"
"$V" check --requested "$T/req.txt" --model kvm --policy "$T/pol.json" --sim-dir "$T/sim2" \
	--root "$T/sim2/root-ca.pem" --evidence "$T/ev4" --report-data 00 >"$T/out" 2>&1
[ $? -eq 1 ] && grep -q "^FAIL  tdreport_binding: REPORTDATA is not the expected value" "$T/out" &&
	grep -q "^FAIL  quote.report_data" "$T/out" && ok "another REPORTDATA fails" ||
	fail "wrong REPORTDATA: $(grep -E 'FAIL|report' "$T/out")"

# ---- Trustee's TDX evidence JSON + the claims ---------------------------------------
extract "$T/ev4" quote "$T/q4"
extract "$T/ev4" claims "$T/c4"
extract "$T/ev4" eventlog "$T/l4"
python3 - "$T" <<'PY'
import base64, json, sys
t = sys.argv[1]
b = lambda f: base64.b64encode(open(f"{t}/{f}", "rb").read()).decode()
json.dump({"cc_eventlog": b("l4"), "quote": b("q4")}, open(f"{t}/trustee.json", "w"))
json.dump({"cc_eventlog": None, "quote": b("q4")}, open(f"{t}/trustee-nolog.json", "w"))
json.dump({"quote": b("q4"), "aa_eventlog": "x"}, open(f"{t}/trustee-extra.json", "w"))
PY
T4() { "$V" check --requested "$T/req.txt" --model kvm --policy "$T/pol.json" \
	--sim-dir "$T/sim2" --root "$T/sim2/root-ca.pem" --report-data "$RD" "$@"; }
T4 --evidence "$T/trustee.json" --claims "$T/c4" >"$T/out" 2>&1 &&
	ok "Trustee evidence JSON + claims pass" || fail "Trustee JSON: $(grep -E 'FAIL|error' "$T/out")"
T4 --evidence "$T/trustee-nolog.json" --claims "$T/c4" --event-log "$T/l4" >"$T/out" 2>&1 &&
	ok "Trustee JSON without cc_eventlog + --event-log pass" ||
	fail "Trustee JSON + --event-log: $(grep -E 'FAIL|error' "$T/out")"
T4 --evidence "$T/trustee-extra.json" --claims "$T/c4" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q 'unknown member "aa_eventlog"' "$T/out" &&
	ok "unknown Trustee member refused" || fail "Trustee extra member: $(cat "$T/out")"
T4 --evidence "$T/trustee.json" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "carries no tdcpuid claims" "$T/out" && ok "Trustee JSON needs claims" ||
	fail "Trustee without claims: $(cat "$T/out")"
T4 --evidence "$T/ev4" --claims "$T/c4" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "carries its own claims" "$T/out" && ok "envelope + --claims refused" ||
	fail "envelope + --claims: $(cat "$T/out")"

# ---- inspect --extract quote: the same bytes, accepted by `quote` ----------------------
python3 - "$T/ev4" "$T/q4" <<'PY' || fail "extracted quote differs from the envelope's"
import sys
d = open(sys.argv[1], "rb").read()
def head(i):
    ai = d[i] & 31
    if ai < 24: return ai, i + 1
    n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
    return int.from_bytes(d[i + 1:i + 1 + n], "big"), i + 1 + n
n, i = head(0)
parts = {}
for _ in range(n):
    k, i = head(i)
    ln, i = head(i)
    parts[k] = d[i:i + ln]
    i += ln
assert parts[2] == open(sys.argv[2], "rb").read()
assert 3 in parts
PY
"$V" quote "$T/q4" --root "$T/sim2/root-ca.pem" --signature-only >"$T/out" 2>&1 &&
	ok "extracted quote passes tdcpuid-verifier quote" || fail "quote on extracted: $(tail -3 "$T/out")"
ev --nonce $NONCE -o "$T/ev5" || fail "reportdata evidence: $(cat "$T/agent.err")"
"$V" inspect --extract eventlog "$T/ev5" -o "$T/none" 2>"$T/err"
[ $? -eq 2 ] && grep -q "carries no eventlog" "$T/err" && ok "absent part: exit 2" ||
	fail "extract absent part: $(cat "$T/err")"

# ---- REPORTDATA mode unchanged ----------------------------------------------------------
expect "reportdata evidence passes as before" 0 "^PASS  tdreport_binding: REPORTDATA = SHA-512" \
	-- --evidence "$T/ev5" --nonce $NONCE
grep -q "rtmr3" "$T/out" && fail "reportdata verdict mentions rtmr3 checks"
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce 01 --report-data 00 -o "$T/x" 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--report-data needs --bind rtmr3" "$T/err" &&
	ok "--report-data without rtmr3 is a usage error" || fail "--report-data alone: $(cat "$T/err")"
"$A" evidence --tee sim --sim-dir "$T/sim" --bind rtmr3 -o "$T/x" 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--report-data HEX for the pipeline's freshness" "$T/err" &&
	ok "rtmr3 needs a nonce or REPORTDATA" || fail "rtmr3 without freshness: $(cat "$T/err")"

# ---- the service: rtmr3 evidence for the service's nonce, same engine ------------------
mkdir "$T/reg"
cat >"$T/reg/vm1.json" <<EOF
{"name":"vm1","requested":"$T/req.txt","requested_format":"cpuid-r","model":"kvm",
 "sim_dir":"$T/sim2","trust_root":"$T/sim2/root-ca.pem","policy":"$T/pol.json"}
EOF
"$V" serve --listen tcp:127.0.0.1:0 --registry "$T/reg" --db "$T/audit.db" \
	--ready-file "$T/ready" --timeout 5 --quiet 2>"$T/serve.log" &
SP=$!
for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
if [ -s "$T/ready" ]; then
	"$A" evidence --tee sim --sim-dir "$T/sim2" --bind rtmr3 --to "$(head -1 "$T/ready")" \
		--vm-name vm1 -o "$T/verdict.json" 2>"$T/err"
	rc=$?
	[ $rc -eq 0 ] && grep -q '"rtmr3_claims_event"' "$T/verdict.json" &&
		ok "service judges rtmr3 evidence for its nonce" ||
		fail "agent --bind rtmr3 --to: rc $rc $(cat "$T/err") $(head -c 400 "$T/verdict.json")"
else
	fail "serve did not start: $(cat "$T/serve.log")"
fi
kill -TERM $SP 2>/dev/null; wait $SP 2>/dev/null

# ---- TDX backend with fake sysfs: missing ABI, and what an extension writes -------------
: >"$T/tdx_guest"
export TDC_TDX_GUEST_DEV=$T/tdx_guest TDC_CCEL=$T/no-ccel TDC_EVENTLOG=$T/tdx/eventlog TDC_TSM_DIR=$T/no-tsm
TDC_RTMR_DIR=$T/no-such-dir "$A" evidence --tee tdx --report-only --bind rtmr3 --nonce 01 \
	-o "$T/x" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "needs Linux >= 6.16" "$T/err" && [ ! -e "$T/x" ] &&
	[ ! -e "$T/tdx/eventlog" ]; then
	ok "no RTMR sysfs ABI: $(grep -o 'rtmr3:sha384: .*6.16' "$T/err" | head -1)"
else
	fail "missing ABI: rc $rc, $(cat "$T/err")"
fi
mkdir "$T/mr" && head -c 48 /dev/zero >"$T/mr/rtmr3:sha384"
TDC_RTMR_DIR=$T/mr "$A" extend --tee tdx --domain d.example --operation op --content c \
	2>"$T/err"
rc=$?
# A plain file cannot extend: it keeps what was written, which is the event's digest.
python3 - "$T/mr/rtmr3:sha384" "$T/tdx/eventlog" <<'PY' && [ $rc -eq 3 ] &&
import hashlib, struct, sys
mr = open(sys.argv[1], "rb").read()
log = open(sys.argv[2], "rb").read()
text = b"d.example op c"
ev = struct.pack("<II", 0x4141454c, len(text)) + text
assert mr == hashlib.sha384(ev).digest(), "48-byte write is not the event digest"
assert log[:4] == b"\x04\x00\x00\x00" and log.endswith(ev), log
PY
	grep -q "after the extension" "$T/err" && ok "TDX extend: log record, then one 48-byte write" ||
	fail "TDX extend through sysfs: rc $rc, $(cat "$T/err")"
unset TDC_TDX_GUEST_DEV TDC_CCEL TDC_EVENTLOG TDC_TSM_DIR

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all rtmr3 tests passed"
