#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's exit status for a REST verifier's refusal is the one it gives
# for the same refusal from a framed verifier (tests/test_client_refusal.c,
# tdcpuid-agent.1 EXIT STATUS): a stand-in verifier (Python's http.server)
# opens a session and answers the evidence with each status of the table,
# as serve's REST API would (verifier/service/rest.c http_of), or an older
# verifier or a proxy: without tdcpuid.code the status decides; with it
# ("STATUS:CODE" in the table) the code does, as an error frame's; the real
# agent binary runs `evidence --to http://` against it.
set -uo pipefail
A=${TDC_AGENT:?}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
T=$(mktemp -d)
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || fail "sim-keygen"
"$A" evidence --help >"$T/help" 2>&1
grep -q -- '--to' "$T/help" || fail "agent has no --to: $(head -3 "$T/help")"

# The table: HTTP status, problem detail, exit status; the framed code that
# serve sends for the same condition, and its exit status, in the comment.
cat >"$T/cases" <<'EOF'
500 verdict recorded (record 7) but not signed: no key	3
503 verifier busy: too many connections from this peer, retry later	75
503 audit log unavailable, verdict not recorded: commit failed	75
429 verifier busy: 64 sessions open	75
409 nonce: already used	2
403 unknown VM 'x'	2
413 body: more than 1052672 bytes	2
422 evidence not evaluated: claims.cpus: expected an array	2
400 evidence: empty body	2
502 bad gateway (a proxy in front of the verifier)	3
504 gateway timeout (a proxy in front of the verifier)	3
501 not implemented	3
422:-21 evidence not evaluated: collateral: GET https://pcs: timed out	3
422:-15 evidence not evaluated: quote: tee_type 0x0 is not TDX	3
422:-20 evidence not evaluated: policy: fails	1
422:-5 evidence not evaluated: claims.cpus: expected an array	2
503:-12 audit log unavailable, verdict not recorded: commit failed	75
422:-999 a code outside the error space	2
422:"-21" a code that is not an integer: the status decides	2
EOF
# 500: TDC_ERR_INTERNAL, exit 3.  503: TDC_ERR_BUSY, or TDC_ERR_IO/ALLOC (the
# verifier's audit log or memory), exit 75.  409 TDC_ERR_NONCE, 403
# TDC_ERR_NOT_FOUND, 413 TDC_ERR_TOO_LARGE, 422 the engine's input codes, 400
# TDC_ERR_PROTOCOL: exit 2.  502/504/501: no framed counterpart; the verifier
# behind a proxy failed, as a connection that fails (exit 3, checked below).
# With a code: -21 TDC_ERR_TIMEOUT and -15 TDC_ERR_UNSUPPORTED exit 3, -20
# TDC_ERR_POLICY 1, -5 TDC_ERR_FORMAT 2, -12 TDC_ERR_IO (the audit log) 75,
# a code outside the error space a protocol violation (2), as over tcp:.

cat >"$T/standin.py" <<'EOF'
import base64, http.server, json, os, sys
status = {"code": 500, "detail": ""}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def send(self, code, ctype, body, extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        if self.path.startswith("/challenge-response/v1/newSession"):
            s = {"nonce": base64.b64encode(os.urandom(32)).decode(),
                 "expiry": "2099-01-01T00:00:00Z", "status": "waiting",
                 "accept": ["application/vnd.tdcpuid.evidence+cbor"]}
            self.send(201, "application/vnd.veraison.challenge-response-session+json",
                      json.dumps(s).encode(), [("Location", "/challenge-response/v1/session/ab12")])
            return
        code, detail = open(sys.argv[2]).read().split(" ", 1)
        code, _, err = code.partition(":")
        p = {"type": "about:blank", "title": "refused", "status": int(code), "detail": detail}
        if err:
            p["tdcpuid"] = {"code": json.loads(err)}
        self.send(int(code), "application/problem+json", json.dumps(p).encode())
    def do_DELETE(self):
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(srv.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
EOF
python3 "$T/standin.py" "$T/port" "$T/answer" &
SP=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "stand-in did not start"
URL=http://127.0.0.1:$(cat "$T/port")

n=0
while IFS=$'\t' read -r answer want; do
	printf '%s' "$answer" >"$T/answer"
	"$A" evidence --tee sim --sim-dir "$T/sim" --to "$URL" --vm-name x -o "$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || fail "HTTP ${answer%% *}: exit $rc, want $want ($(cat "$T/err"))"
	st=${answer%% *}
	grep -q "HTTP ${st%%:*}" "$T/err" || fail "HTTP ${answer%% *}: not named: $(cat "$T/err")"
	[ -e "$T/out" ] && fail "HTTP ${answer%% *}: a verdict was written"
	n=$((n + 1))
done <"$T/cases"

# No verifier at all: the same exit status over both transports.
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$A" evidence --tee sim --sim-dir "$T/sim" --to "http://127.0.0.1:$port" --vm-name x \
	-o /dev/null 2>/dev/null
rc_http=$?
"$A" evidence --tee sim --sim-dir "$T/sim" --to "tcp:127.0.0.1:$port" --vm-name x \
	-o /dev/null 2>/dev/null
rc_tcp=$?
[ "$rc_http" = 3 ] && [ "$rc_tcp" = 3 ] ||
	fail "connection refused: exit $rc_http over http, $rc_tcp over tcp (want 3 and 3)"
echo "test_rest_exit: OK ($n refusals, and a refused connection)"
