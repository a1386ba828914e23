#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --collateral URL end to end with the real binaries and the loopback PCS
# stand-in (tdc-pcs-server): `quote` and `check` give the same statuses as
# with the directory; the second run uses the cache (the server counts
# requests); server down with a valid cache keeps working, with an expired
# one fails naming the URL; HTTPS with a test CA; failed responses are
# clear errors and not cached; `collateral fetch|show|prune`; `serve` with
# a registry entry naming the URL puts the collateral's age in the verdict.
set -uo pipefail
V=${TDC_VERIFIER:?} A=${TDC_AGENT:?} S=${TDC_PCS_SERVER:?} P=${TDC_TEST_PKI:?}
D=${TDC_TESTDATA:?}/tdx
SPR=$D/tdx_prod_quote_SPR_E4.dat
AT=2023-07-01T01:00:00Z
T=$(mktemp -d)
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
SRV= SP=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null
	[ -n "$SP" ] && kill "$SP" 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

start_server() { # DIR [--tls]
	rm -f "$T/url"
	"$S" --dir "$1" --url-file "$T/url" ${2:+--tls --ca-out "$T/ca.pem"} 2>>"$T/server.log" &
	SRV=$!
	for _ in $(seq 200); do [ -s "$T/url" ] && break; sleep 0.02; done
	[ -s "$T/url" ] || { echo "FAIL: test server did not start"; cat "$T/server.log"; exit 1; }
	URL=$(head -1 "$T/url")
}
stop_server() { [ -n "$SRV" ] && { kill "$SRV"; wait "$SRV" 2>/dev/null; }; SRV=; }
requests() { curl -s "$URL/_test/stats" | sed 's/.*"total": \([0-9]*\).*/\1/'; }
fault() { curl -s "$URL/_test/fault?doc=$1&mode=$2" >/dev/null; }
# The appraisal's statuses: every check line except where the collateral came from.
statuses() { grep -E '^(ok  |FAIL) ' "$1" | grep -v ' collateral.source:' | cut -d: -f1; }

# --- quote: the real 2023 collateral, directory vs URL --------------------------
start_server "$D/collateral"
"$V" quote "$SPR" --at $AT --collateral "$D/collateral" >"$T/dir.txt"
rc_dir=$?
"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/cache" >"$T/url.txt"
rc_url=$?
[ $rc_dir -eq 1 ] && [ $rc_url -eq 1 ] || fail "exit codes: directory $rc_dir, URL $rc_url (want 1: no matching TCB level)"
diff <(statuses "$T/dir.txt") <(statuses "$T/url.txt") >"$T/diff" || { fail "quote: URL statuses differ"; cat "$T/diff"; }
grep -q "no matching TCB level" "$T/url.txt" || fail "quote via URL: TCB outcome"
grep -q "^ok   collateral.source: $URL: fetched now" "$T/url.txt" || fail "collateral.source line (fetched)"
[ "$(requests)" = 4 ] || fail "first run: $(requests) requests, want 4"
"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/cache" >"$T/url2.txt"
diff <(statuses "$T/dir.txt") <(statuses "$T/url2.txt") >/dev/null || fail "second run statuses differ"
[ "$(requests)" = 4 ] && ok "second run from the cache (no request)" || fail "second run: $(requests) requests, want 4"
grep -q "verified copies from the cache" "$T/url2.txt" || fail "second run does not say cache"
"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/cache" --format json >"$T/url.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["collateral"]
assert c["source"].startswith("http://127.0.0.1:"), c
docs = {f["document"]: f for f in c["freshness"]}
assert set(docs) == {"tcb_info", "qe_identity", "pck_crl", "root_crl"}, docs
t = docs["tcb_info"]
assert t["issued"] == "2023-06-18T08:42:58Z" and t["next_update"] == "2023-07-18T08:42:58Z", t
assert t["from"] == "cache" and t["age_seconds"] > 0 and t["expires_in_seconds"] > 0, t
' "$T/url.json" || fail "quote JSON: collateral freshness"
# Server down: the valid cache keeps working.
stop_server
"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/cache" >"$T/down.txt"
diff <(statuses "$T/dir.txt") <(statuses "$T/down.txt") >/dev/null && ok "server down, valid cache: same result" ||
	fail "server down with a valid cache: statuses differ"
# ... an expired one fails, naming the URL.
"$V" quote "$SPR" --at 2023-07-20 --collateral "$URL" --collateral-cache "$T/cache" >"$T/exp.txt"
[ $? -eq 1 ] || fail "expired cache, server down: exit code"
grep -q "^FAIL collateral.source: GET $URL/.*expired at its nextUpdate" "$T/exp.txt" &&
	ok "server down, expired cache: clear failure" || { fail "expired cache message"; cat "$T/exp.txt"; }

# --- failed responses: clear errors, nothing cached -----------------------------
start_server "$D/collateral"
for m in 500 wrong-chain truncated huge slow; do
	fault tcb "$m"
	rm -rf "$T/fcache"
	"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/fcache" \
		--collateral-timeout 1 >"$T/f.txt" 2>&1
	rc=$?
	line=$(grep '^FAIL collateral.source:' "$T/f.txt")
	if [ $rc -ne 1 ] || [ -z "$line" ] || [[ "$line" != *"$URL/tdx/certification/v4/tcb"* ]] ||
		ls "$T"/fcache/*/tcb-* >/dev/null 2>&1; then
		fail "fault $m: rc $rc, '$line'"
	else
		ok "fault $m: ${line#FAIL collateral.source: }"
	fi
done
fault tcb ok

# --- collateral fetch | show | prune --------------------------------------------
"$V" collateral --help >/dev/null || fail "collateral --help"
"$V" collateral frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown collateral action must be a usage error"
"$V" collateral show --collateral "$D/collateral" >/dev/null 2>&1
[ $? -eq 2 ] || fail "collateral show of a directory must be a usage error"
"$V" collateral fetch --collateral "$URL" --collateral-cache "$T/ops" --quote "$SPR" --at $AT >"$T/fetch.txt" ||
	fail "collateral fetch: $(cat "$T/fetch.txt")"
grep -q "TCB info     verified" "$T/fetch.txt" || fail "fetch output"
"$V" collateral show --collateral-cache "$T/ops" --at $AT >"$T/show.txt" || fail "collateral show"
grep -q "tcb-50806f000000-standard.json .*FMSPC 50806f000000 current" "$T/show.txt" || { fail "show: FMSPC line"; cat "$T/show.txt"; }
"$V" collateral show --collateral-cache "$T/ops" --at 2023-07-10 --format json >"$T/show.json" || fail "show json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
docs = {x["document"]: x for x in d["sources"][0]["documents"]}
assert docs["tcb_info"]["state"] == "current" and docs["tcb_info"]["fmspc"] == "50806f000000"
assert docs["qe_identity"]["state"] == "expired"
' "$T/show.json" || fail "show JSON states"
"$V" collateral prune --collateral-cache "$T/ops" --at 2023-07-10 >"$T/prune.txt" || fail "prune"
grep -c "^removed" "$T/prune.txt" | grep -q '^2$' || { fail "prune removed"; cat "$T/prune.txt"; }
"$V" collateral show --collateral "$URL" --collateral-cache "$T/ops" --at 2023-07-10 | grep -q "2 documents" ||
	fail "show after prune"
"$V" collateral fetch --collateral "$URL" --collateral-cache "$T/ops" --fmspc 00112233445566 >/dev/null 2>&1
[ $? -eq 2 ] || fail "fetch with a bad FMSPC must be a usage error"
"$V" collateral fetch --collateral "$URL" --collateral-cache "$T/ops" --fmspc 001122334455 --at $AT >"$T/nf.txt"
[ $? -eq 1 ] && grep -q "HTTP status 404" "$T/nf.txt" || fail "fetch of an unknown FMSPC"
stop_server

# --- HTTPS with a test CA ----------------------------------------------------------
start_server "$D/collateral" tls
case $URL in https://*) ;; *) fail "test server is not https" ;; esac
"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/tls" >"$T/tls0.txt"
grep -q "^FAIL collateral.source: .*certificate" "$T/tls0.txt" && ok "https without the test CA refused" ||
	{ fail "https without the CA"; cat "$T/tls0.txt"; }
"$V" quote "$SPR" --at $AT --collateral "$URL" --collateral-cache "$T/tls" --collateral-ca "$T/ca.pem" >"$T/tls.txt"
diff <(statuses "$T/dir.txt") <(statuses "$T/tls.txt") >/dev/null && ok "https with the test CA: same statuses" ||
	fail "https statuses differ"
stop_server

# --- check: sim evidence and the test PKI's collateral ------------------------------
"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || fail "sim-keygen"
"$P" --sim-dir "$T/sim" --out "$T/pki" || fail "tdc-test-pki"
"$A" probe --format raw -o "$T/req.cpuid-r" || fail "probe"
cat >"$T/policy.json" <<EOF
{"version":1,"name":"test-sim","allow_simulated":true,"fail_on":["mismatch"]}
EOF
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce 0102 -o "$T/ev.cbor" 2>/dev/null || fail "evidence"
start_server "$T/pki"
chk() { "$V" check --evidence "$T/ev.cbor" --requested "$T/req.cpuid-r" --model kvm \
	--policy "$T/policy.json" --root "$T/sim/root-ca.pem" --nonce 0102 "$@"; }
chk --collateral "$T/pki" --format json -o "$T/cdir.json"
rc_dir=$?
chk --collateral "$URL" --collateral-cache "$T/ccache" --format json -o "$T/curl.json"
rc_url=$?
[ $rc_dir -eq 0 ] && [ $rc_url -eq 0 ] || fail "check exit codes: directory $rc_dir, URL $rc_url"
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sa = [(c["name"], c["status"]) for c in a["checks"] if c["name"] != "quote.collateral.source"]
sb = [(c["name"], c["status"]) for c in b["checks"] if c["name"] != "quote.collateral.source"]
assert sa == sb, (sa, sb)
col = b["collateral"]
assert col["source"].startswith("http://127.0.0.1:"), col
assert {d["document"] for d in col["documents"]} == {"tcb_info", "qe_identity", "pck_crl", "root_crl"}
assert all(d["from"] == "network" and "fetched_at" in d for d in col["documents"]), col
assert a["collateral"]["documents"][0]["from"] == "directory"
' "$T/cdir.json" "$T/curl.json" && ok "check: URL and directory statuses agree, freshness in the verdict" ||
	fail "check verdicts"
n=$(requests)
chk --collateral "$URL" --collateral-cache "$T/ccache" --format ear -o "$T/ear.json"
[ "$(requests)" = "$n" ] || fail "second check fetched again"
grep -q '"collateral"' "$T/ear.json" && grep -q '"expires_in_seconds"' "$T/ear.json" &&
	ok "EAR carries the collateral's age" || fail "EAR without collateral freshness"
stop_server
# Collateral two hours from its nextUpdate is due for a refresh: with the
# server down the check still passes from the cache, and says so.
"$P" --sim-dir "$T/sim" --out "$T/pki-near" --next-hours 2 || fail "tdc-test-pki --next-hours"
start_server "$T/pki-near"
chk --collateral "$URL" --collateral-cache "$T/ncache" -o "$T/near1.txt" || fail "check, near expiry"
stop_server
chk --collateral "$URL" --collateral-cache "$T/ncache" -o "$T/near2.txt"
[ $? -eq 0 ] && grep -q "note: refresh failed: GET $URL/" "$T/near2.txt" &&
	ok "server down, valid cache due for refresh: passes with a note" ||
	{ fail "near-expiry cache with the server down"; cat "$T/near2.txt"; }

# --- serve: registry entries naming the URL ------------------------------------------
stop_server
start_server "$T/pki"
mkdir "$T/reg"
for vm in alpha beta; do
	cat >"$T/reg/$vm.json" <<EOF
{"name":"$vm","requested":"$T/req.cpuid-r","requested_format":"cpuid-r","model":"kvm",
 "sim_dir":"$T/sim","trust_root":"$T/sim/root-ca.pem","policy":"$T/policy.json",
 "collateral":"$URL","tcb_update_type":"standard"}
EOF
done
rm -f "$T/ready"
"$V" serve --listen tcp:127.0.0.1:0 --registry "$T/reg" --db "$T/audit.db" --ready-file "$T/ready" \
	--timeout 5 --quiet 2>>"$T/serve.log" &
SP=$!
for _ in $(seq 200); do [ -s "$T/ready" ] && break; sleep 0.02; done
[ -s "$T/ready" ] || fail "serve did not start: $(cat "$T/serve.log")"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$(head -1 "$T/ready")" --vm-name alpha \
	-o "$T/verdict.json" 2>"$T/agent.err"
[ $? -eq 0 ] || fail "serve verdict: $(cat "$T/agent.err") $(head -c 600 "$T/verdict.json")"
grep -q "\"source\": \"$URL\"" "$T/verdict.json" && ok "serve: collateral source in the verdict" ||
	fail "serve verdict lacks the collateral source"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$(head -1 "$T/ready")" --vm-name beta \
	-o "$T/verdict2.json" 2>/dev/null || fail "serve verdict for beta"
[ "$(requests)" = 4 ] && ok "two VM entries, one service: fetched once" ||
	fail "serve: $(requests) requests for two entries, want 4"
ls "$T"/collateral/*/tcb-*-standard.json >/dev/null 2>&1 && ok "serve caches beside --db" ||
	fail "serve: nothing in $T/collateral"
kill -TERM "$SP"; wait "$SP"; SP=
echo '{"name":"x","requested":"r","tcb_update_type":"late"}' >"$T/reg/bad.json"
"$V" serve --listen tcp:127.0.0.1:0 --registry "$T/reg" --db "$T/audit.db" --quiet 2>"$T/bad.err" &
wait $!
grep -q "tcb_update_type" "$T/bad.err" || fail "registry: bad tcb_update_type not named"
stop_server

exit $((fails > 0))
