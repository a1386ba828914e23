#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The REST API (docs/rest.md) with real clients: `tdcpuid-verifier serve
# --listen http://... --listen https://...` (libmicrohttpd, TLS 1.3 with a
# test CA made here by openssl), driven by curl and by Python's standard
# library (tests/rest_client.py): the Veraison challenge-response session
# flow, the signed EAR and its published key, every refusal as a JSON
# problem (replayed nonce, expired session, wrong media type, oversized
# body, slow clients) while honest clients are served, the listen backlog,
# the audit log.
set -uo pipefail
A=${TDC_AGENT:?} V=${TDC_VERIFIER:?} S=${TDC_SOURCE_DIR:?}
for tool in curl python3 openssl; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
T=$(mktemp -d)
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/server.log" ] && tail -20 "$T/server.log"; exit 1; }

"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || fail "sim-keygen"
"$A" probe --format raw -o "$T/req.cpuid-r" || fail "probe"
cat >"$T/sim-policy.json" <<EOF
{"version":1,"name":"test-sim","allow_simulated":true,"require_tcb":false,"fail_on":["mismatch"]}
EOF
mkdir "$T/reg"
entry() { # name, extra JSON members
	cat >"$T/reg/$1.json" <<EOF
{"name":"$1","requested":"$T/req.cpuid-r","requested_format":"cpuid-r","model":"kvm",
 "sim_dir":"$T/sim","trust_root":"$T/sim/root-ca.pem","format":"ear"$2}
EOF
}
entry alpha ",\"policy\":\"$T/sim-policy.json\""
entry beta ""

# A test CA, a server certificate for 127.0.0.1 and localhost, the EAR signing key.
o() { openssl "$@" 2>>"$T/openssl.log" || fail "openssl $1: $(tail -3 "$T/openssl.log")"; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
	-out "$T/ca.pem" -days 2 -subj /CN=tdcpuid-test-ca
o req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/srv.key" \
	-out "$T/srv.csr" -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/ext.cnf"
o x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-out "$T/srv.pem" -days 2 -extfile "$T/ext.cnf"
o ecparam -name prime256v1 -genkey -noout -out "$T/vk.pem"
o ec -in "$T/vk.pem" -pubout -out "$T/vk.pub"

TTL=4
"$V" serve --listen http://127.0.0.1:0 --listen https://127.0.0.1:0 --tls-cert "$T/srv.pem" \
	--tls-key "$T/srv.key" --sign-key "$T/vk.pem" --registry "$T/reg" --db "$T/audit.db" \
	--ready-file "$T/ready" --timeout 3 --handshake-timeout 2 --nonce-ttl $TTL \
	--reject-interval 1 --quiet 2>>"$T/server.log" &
SP=$!
for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
[ -s "$T/ready" ] || fail "serve did not start"
HTTP=$(sed -n 1p "$T/ready") HTTPS=$(sed -n 2p "$T/ready")
case "$HTTP $HTTPS" in http://127.0.0.1:*" https://127.0.0.1:"*) ;; *) fail "ready file: $HTTP $HTTPS";; esac

# --- curl: the session flow, over HTTP and over HTTPS with the test CA.
curl_flow() { # base URL, curl options...
	local base=$1 nonce loc st
	shift
	st=$(curl -sS "$@" -X POST -D "$T/h" -o "$T/s.json" -w '%{http_code}' \
		"$base/challenge-response/v1/newSession?nonceSize=32") || fail "curl newSession $base"
	[ "$st" = 201 ] || fail "newSession $base: $st $(cat "$T/s.json")"
	grep -qi '^content-type: application/vnd.veraison.challenge-response-session+json' "$T/h" ||
		fail "newSession: content type"
	loc=$(grep -i '^location:' "$T/h" | tr -d '\r' | cut -d' ' -f2)
	case "$loc" in /challenge-response/v1/session/*) ;; *) fail "Location: '$loc'";; esac
	nonce=$(python3 -c 'import sys,json,base64;s=json.load(open(sys.argv[1]));assert s["status"]=="waiting";print(base64.b64decode(s["nonce"]).hex())' "$T/s.json") ||
		fail "session object: $(cat "$T/s.json")"
	"$A" evidence --tee sim --sim-dir "$T/sim" --nonce "$nonce" --vm-name alpha -o "$T/ev.cbor" \
		2>/dev/null || fail "agent evidence"
	st=$(curl -sS "$@" -X POST -H 'Content-Type: application/vnd.tdcpuid.evidence+cbor' \
		--data-binary @"$T/ev.cbor" -o "$T/v.json" -w '%{http_code}' "$base$loc") || fail "curl evidence"
	[ "$st" = 200 ] || fail "evidence $base: $st $(head -c 300 "$T/v.json")"
	python3 -c 'import sys,json;s=json.load(open(sys.argv[1]));x=s["tdcpuid"];assert s["status"]=="complete" and x["passed"] is True and x["result-type"]=="application/eat+jwt" and s["result"].count(".")==2, s' "$T/v.json" ||
		fail "verdict session: $(head -c 400 "$T/v.json")"
	st=$(curl -sS "$@" -o /dev/null -w '%{http_code}' "$base$loc")
	[ "$st" = 200 ] || fail "GET session: $st"
	st=$(curl -sS "$@" -X DELETE -o /dev/null -w '%{http_code}' "$base$loc")
	[ "$st" = 204 ] || fail "DELETE session: $st"
	st=$(curl -sS "$@" -o "$T/p.json" -w '%{http_code} %{content_type}' "$base$loc")
	[ "$st" = "404 application/problem+json" ] && grep -q '"status":404' "$T/p.json" ||
		fail "GET deleted session: $st $(cat "$T/p.json")"
}
curl_flow "$HTTP"
curl_flow "$HTTPS" --cacert "$T/ca.pem"
# TLS 1.3 only, and the certificate is checked (no CA given: refused by curl).
curl -sS --cacert "$T/ca.pem" --tlsv1.2 --tls-max 1.2 -o /dev/null "$HTTPS/.well-known/veraison/verification" \
	2>/dev/null && fail "a TLS 1.2 client got an answer"
curl -sS -o /dev/null "$HTTPS/.well-known/veraison/verification" 2>/dev/null &&
	fail "curl without the test CA trusted the server"
v=$(curl -sS --cacert "$T/ca.pem" -w ' %{ssl_verify_result}' -o /dev/null "$HTTPS/.well-known/veraison/verification")
[ "$v" = " 0" ] || fail "TLS verification result $v"

# --- the published key is the signer's: JWK x,y == the public key of --sign-key.
curl -sS --cacert "$T/ca.pem" -o "$T/disc.json" "$HTTPS/.well-known/veraison/verification" || fail "discovery"
pub=$(openssl ec -pubin -in "$T/vk.pub" -text -noout 2>/dev/null | sed -n '/^pub:/,/^ASN1/p' |
	grep -v '^pub:\|^ASN1' | tr -d ' :\n')
jwk=$(python3 -c 'import sys,json,base64
k=json.load(open(sys.argv[1]))["ear-verification-key"]
d=lambda s: base64.urlsafe_b64decode(s+"=="*(len(s)%4!=0))
print("04"+d(k["x"]).hex()+d(k["y"]).hex())' "$T/disc.json") || fail "JWK: $(cat "$T/disc.json")"
[ -n "$pub" ] && [ "$pub" = "$jwk" ] || fail "published key $jwk is not --sign-key's $pub"

# --- Python's standard library: both flows, every refusal, slow clients.
python3 "$S/tests/rest_client.py" "$HTTP" "$HTTPS" "$T/ca.pem" "$A" "$T/sim" "$T" $TTL ||
	fail "python client"

# --- the listen backlog holds a burst as large as the connection table (256):
# with serve stopped, 200 connects from 200 peers all complete the handshake
# (a backlog of 128 left the rest to SYN retries, 1, 3, 7 s later).
kill -STOP "$SP"
python3 - "$HTTP" <<'EOF2'
import select, socket, sys, time, urllib.parse
u, n = urllib.parse.urlparse(sys.argv[1]), 200
socks = []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.bind((f"127.0.3.{i + 1}", 0))
    s.connect_ex((u.hostname, u.port))
    socks.append(s)
done, end = set(), time.monotonic() + 2
while len(done) < n and time.monotonic() < end:
    _, w, _ = select.select([], [s for s in socks if s not in done], [], 0.1)
    done.update(s for s in w if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
for s in socks:
    s.close()
if len(done) < n:
    sys.exit(f"FAIL: backlog: {len(done)} of {n} connects queued while serve accepted nothing")
print(f"backlog: {n} connects queued while serve accepted nothing")
EOF2
rc=$?
kill -CONT "$SP"
[ $rc -eq 0 ] || fail "listen backlog"

# --- the agent (libcurl): --to http:// and https://, signed results checked with the key.
o ecparam -name prime256v1 -genkey -noout -out "$T/other.pem"
o ec -in "$T/other.pem" -pubout -out "$T/other.pub"
ag() { "$A" evidence --tee sim --sim-dir "$T/sim" "$@"; }
ag --to "$HTTPS" --ca-cert "$T/ca.pem" --vm-name alpha --verifier-key "$T/vk.pub" -o "$T/a1.json" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] && grep -q "verdict PASS.*signature verified" "$T/err" || fail "agent https: rc $rc $(cat "$T/err")"
grep -q '"eat_profile"' "$T/a1.json" || fail "agent wrote no EAR: $(head -c 200 "$T/a1.json")"
ag --to "$HTTP" --vm-name beta --verifier-key "$T/vk.pub" -o /dev/null 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && grep -q "verdict FAIL" "$T/err" || fail "agent beta: rc $rc $(cat "$T/err")"
ag --to "$HTTP" -o /dev/null 2>/dev/null  # the claims name no VM: refused, not guessed
[ $? -eq 2 ] || fail "agent without a VM name: expected exit 2"
ag --to "$HTTP" --vm-name nosuch -o /dev/null 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "403.*unknown VM 'nosuch'" "$T/err" || fail "agent unknown VM: rc $rc $(cat "$T/err")"
ag --to "$HTTPS" --ca-cert "$T/ca.pem" --vm-name alpha --verifier-key "$T/other.pub" -o "$T/a2.json" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "does not verify" "$T/err" || fail "agent, another key: rc $rc $(cat "$T/err")"
[ -s "$T/a2.json" ] && fail "an unverified verdict was written"
ag --to "$HTTPS" --vm-name alpha -o /dev/null 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && grep -qi "certificate" "$T/err" || fail "agent trusted an unknown CA: rc $rc $(cat "$T/err")"
ag --to "$HTTP/x" --vm-name alpha 2>/dev/null
[ $? -eq 2 ] || fail "agent --to with a path: expected a usage error"

# --- the audit log: one pass row per honest session, refusals aggregated per peer.
kill -TERM "$SP"; wait "$SP"; rc=$?; SP=
[ $rc -eq 0 ] || fail "serve exited $rc on SIGTERM"
"$V" log --db "$T/audit.db" --format json >"$T/log.json" || fail "log"
python3 - "$T/log.json" <<'EOF' || fail "audit log: $(head -c 600 "$T/log.json")"
import json, sys
text = open(sys.argv[1]).read()
rows = [json.loads(l) for l in text.splitlines() if l.strip()] if not text.lstrip().startswith("[") else json.load(open(sys.argv[1]))
rows = rows.get("records", rows) if isinstance(rows, dict) else rows
v = [r.get("verdict") for r in rows]
assert v.count("pass") >= 9, v          # 2 curl + 2 python + caller nonce + 3 beside slow clients + agent
assert v.count("fail") >= 2, v          # beta: default policy refuses simulated evidence
assert any(r.get("verdict") == "reject" and (r.get("count") or 1) >= 1 for r in rows), v
assert all(str(r.get("peer", "")).startswith("http") for r in rows if r.get("verdict") in ("pass", "fail")), rows
EOF
echo "test_rest: OK"
