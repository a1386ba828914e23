#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A pipeline's client of `tdcpuid-verifier serve --listen http(s)://`, written
with Python's standard library only (urllib, ssl, socket), as a relying party
would: the Veraison challenge-response session flow over HTTP and HTTPS (a
test CA), then every refusal the API promises as a JSON problem, with honest
sessions served while slow clients hold connections.

usage: rest_client.py HTTP_URL HTTPS_URL CA_PEM AGENT SIM_DIR WORKDIR NONCE_TTL
Exits 0 when every check passed; prints FAIL: and exits 1 otherwise."""
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HTTP, HTTPS, CA, AGENT, SIM, WORK, TTL = sys.argv[1:8]
TTL = int(TTL)
EVIDENCE = "application/vnd.tdcpuid.evidence+cbor"
SESSION = "application/vnd.veraison.challenge-response-session+json"
PROBLEM = "application/problem+json"
CTX = ssl.create_default_context(cafile=CA)
CTX.minimum_version = ssl.TLSVersion.TLSv1_3


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def request(method, url, body=None, ctype=None, headers=None):
    """(status, content-type, headers, body bytes); HTTP errors are answers too."""
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=20, context=CTX if url.startswith("https")
                                    else None) as r:
            return r.status, r.headers.get("Content-Type"), r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.headers, e.read()


def problem(status, ctype, body, want, words):
    """A refusal must be the promised status with a JSON problem naming why."""
    if status != want:
        fail(f"expected {want}, got {status}: {body[:300]!r}")
    if ctype != PROBLEM:
        fail(f"refusal {want} has Content-Type {ctype}, not {PROBLEM}")
    p = json.loads(body)
    if p.get("status") != want or not p.get("title") or words not in p.get("detail", ""):
        fail(f"problem {want} does not say '{words}': {p}")
    return p


def raw(base, head):
    """Send @head on a socket, read the whole answer: (status, content-type, body)."""
    u = urllib.parse.urlparse(base)
    with socket.create_connection((u.hostname, u.port), timeout=20) as s:
        s.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < clen(data):
            d = s.recv(65536)
            if not d:
                break
            data += d
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdr = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split()[1]), hdr.get("content-type"), body


def clen(data):
    for l in data.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        if l.lower().startswith(b"content-length:"):
            return int(l.split(b":")[1])
    return 1 << 30


def refused(resp, want, words):
    return problem(resp[0], resp[1], resp[3], want, words)


def new_session(base, query="nonceSize=32"):
    st, ct, hd, body = request("POST", f"{base}/challenge-response/v1/newSession?{query}")
    if st != 201 or ct != SESSION:
        fail(f"newSession: {st} {ct} {body[:200]!r}")
    s = json.loads(body)
    if s["status"] != "waiting" or EVIDENCE not in s["accept"] or not s.get("expiry"):
        fail(f"newSession: session object {s}")
    loc = hd.get("Location")
    if not loc or not loc.startswith("/challenge-response/v1/session/"):
        fail(f"newSession: Location {loc}")
    return urllib.parse.urljoin(base, loc), base64.b64decode(s["nonce"])


def evidence(nonce, vm="alpha"):
    path = os.path.join(WORK, f"ev-{nonce.hex()[:16]}.cbor")
    subprocess.run([AGENT, "evidence", "--tee", "sim", "--sim-dir", SIM, "--nonce", nonce.hex(),
                    "--vm-name", vm, "-o", path], check=True, stderr=subprocess.DEVNULL)
    with open(path, "rb") as f:
        return f.read()


def flow(base, vm="alpha", want_pass=True):
    """The whole session: create, answer, read back, delete."""
    url, nonce = new_session(base)
    if len(nonce) != 32:
        fail(f"nonceSize=32 gave {len(nonce)} bytes")
    st, ct, _, body = request("POST", url, evidence(nonce, vm), EVIDENCE)
    if st != 200 or ct != SESSION:
        fail(f"evidence: {st} {ct} {body[:300]!r}")
    s = json.loads(body)
    x = s.get("tdcpuid", {})
    if s["status"] != "complete" or x.get("passed") is not want_pass or not x.get("record"):
        fail(f"evidence to {vm}: session {str(s)[:400]}")
    if x.get("result-type") != "application/eat+jwt" or s["result"].count(".") != 2:
        fail(f"result is not a signed EAR: {x} {str(s['result'])[:80]}")
    payload = json.loads(base64.urlsafe_b64decode(s["result"].split(".")[1] + "=="))
    ear = payload["submods"]["tdcpuid"]["ear.status"]
    if (ear == "contraindicated") == want_pass:
        fail(f"EAR status {ear} for a verdict that {'passes' if want_pass else 'fails'}")
    if base64.urlsafe_b64decode(payload["eat_nonce"] + "==") != nonce:
        fail("EAR eat_nonce is not the session's nonce")
    st, _, _, body2 = request("GET", url)
    if st != 200 or json.loads(body2)["result"] != s["result"]:
        fail(f"GET after the verdict: {st}")
    st, _, _, _ = request("DELETE", url)
    if st != 204:
        fail(f"DELETE: {st}")
    refused(request("GET", url), 404, "no such session")
    return x["record"]


def refusals(base):
    # A caller's nonce (base64url, unpadded, '+' and '/' free) is single use.
    nonce = os.urandom(32)
    q = "nonce=" + urllib.parse.quote(base64.b64encode(nonce).decode())
    url, got = new_session(base, q)
    if got != nonce:
        fail("newSession?nonce= did not keep the caller's nonce")
    st, ct, _, body = request("POST", f"{base}/challenge-response/v1/newSession?{q}")
    problem(st, ct, body, 409, "already used by another session")
    ev = evidence(nonce)
    st, _, _, body = request("POST", url, ev, EVIDENCE)
    if st != 200 or json.loads(body)["tdcpuid"]["passed"] is not True:
        fail(f"caller-nonce session: {st} {body[:200]!r}")
    # replayed: the same evidence again, to the answered session ...
    refused(request("POST", url, ev, EVIDENCE), 409, "already submitted")
    # ... and the same nonce in a new session once the old one is deleted: the audit log knows it
    request("DELETE", url)
    url2, _ = new_session(base, q)
    st, ct, _, body = request("POST", url2, ev, EVIDENCE)
    problem(st, ct, body, 409, "nonce already used")
    # bad parameters
    st, ct, _, body = request("POST", f"{base}/challenge-response/v1/newSession?nonceSize=4")
    problem(st, ct, body, 400, "nonceSize")
    st, ct, _, body = request("POST", f"{base}/challenge-response/v1/newSession?nonce=%21%21")
    problem(st, ct, body, 400, "nonce")
    st, ct, _, body = request("GET", f"{base}/challenge-response/v1/newSession")
    problem(st, ct, body, 405, "only POST")
    st, ct, _, body = request("GET", f"{base}/no/such/thing")
    problem(st, ct, body, 404, "no such resource")
    # wrong media type, with the accepted ones in the answer
    url, nonce = new_session(base)
    st, ct, _, body = request("POST", url, evidence(nonce), "application/json")
    p = problem(st, ct, body, 415, "accepts " + EVIDENCE)
    if p.get("accept") != [EVIDENCE]:
        fail(f"415 without the accept list: {p}")
    # oversized: declared, and chunked (no length to refuse up front)
    # (the 413 comes before the body, as to curl's Expect: 100-continue: read it, send nothing)
    st, ct, body = raw(base, f"POST {urllib.parse.urlparse(url).path} HTTP/1.1\r\nHost: x\r\n"
                       f"Content-Type: {EVIDENCE}\r\nContent-Length: {2 << 20}\r\n\r\n")
    problem(st, ct, body, 413, "exceeds the cap")
    chunks = iter([b"\0" * 65536] * 24)
    st, ct, _, body = request("POST", url, chunks, EVIDENCE, {"Transfer-Encoding": "chunked"})
    problem(st, ct, body, 413, "more than")
    # unknown VM named on the session
    url, nonce = new_session(base, "nonceSize=32&vm=nosuch")
    st, ct, _, body = request("POST", url, evidence(nonce), EVIDENCE)
    p = problem(st, ct, body, 403, "unknown VM")
    # the framed error code beside the status (docs/rest.md): TDC_ERR_NOT_FOUND
    if p.get("tdcpuid", {}).get("code") != -13:
        fail(f"403 unknown VM: tdcpuid.code is not -13 (TDC_ERR_NOT_FOUND): {p}")
    # not even evidence
    url, nonce = new_session(base)
    st, ct, _, body = request("POST", url, b"\xa1\x00\x00", EVIDENCE)
    p = problem(st, ct, body, 422, "not evaluated")
    code = p.get("tdcpuid", {}).get("code")
    if not isinstance(code, int) or not -28 < code < 0:
        fail(f"422: tdcpuid.code is not an error code: {p}")
    st, ct, _, body = request("GET", url)
    s = json.loads(body)
    if st != 200 or s.get("status") != "failed" or s.get("tdcpuid", {}).get("code") != code:
        fail(f"failed session: GET does not show status failed and tdcpuid.code {code}: {s}")
    # expired: the nonce's TTL passes before the evidence comes
    url, nonce = new_session(base)
    ev = evidence(nonce)
    time.sleep(TTL + 0.5)
    st, ct, _, body = request("POST", url, ev, EVIDENCE)
    problem(st, ct, body, 410, "session expired")
    st, ct, _, body = request("GET", url)
    problem(st, ct, body, 410, "session expired")


def slow_clients(base, n=6):
    """Slow clients (headers that never end, a body that never comes) get a 408
    problem at their deadline; honest sessions are served meanwhile."""
    u = urllib.parse.urlparse(base)
    socks = []
    for i in range(n):
        s = socket.create_connection((u.hostname, u.port), timeout=30)
        if i % 2:
            s.sendall(b"POST /challenge-response/v1/newSession HTTP/1.1\r\nHost: x\r\n")
        else:
            s.sendall(b"POST /challenge-response/v1/newSession HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 1000\r\n\r\nabc")
        socks.append(s)
    t0 = time.time()
    for _ in range(3):
        flow(base)
    honest = time.time() - t0
    if honest > 5:
        fail(f"3 honest sessions took {honest:.1f} s beside {n} slow clients")
    for s in socks:
        data = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 408") or b"application/problem+json" not in head:
            fail(f"slow client: {data[:200]!r}")
        if "deadline" not in json.loads(body)["detail"]:
            fail(f"slow client: 408 does not name the deadline: {body!r}")
        s.close()
    print(f"slow clients: {n} got 408; 3 honest sessions meanwhile in {honest:.2f} s")


def peer_limit(base, per_peer=16, handshake_s=2):
    """One peer holding --peer-conns connections gets a 503 problem for the next
    one; another peer is served meanwhile.  A connected socket is not yet a held
    one (the server may not have accepted it), so each is shown to be admitted
    first: a keep-alive request answered 200.  The connections the slow clients
    were hung up on must not count any more, though the server may close them
    later: the client saw their end."""
    import http.client
    u = urllib.parse.urlparse(base)
    held = []
    t0 = time.monotonic()
    for i in range(per_peer):
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        c.request("GET", "/.well-known/veraison/verification")
        r = c.getresponse()
        body = r.read()
        if r.status != 200 or r.will_close:
            fail(f"peer limit: held connection {i + 1} of {per_peer} not admitted: "
                 f"{r.status} {body[:200]!r}")
        held.append(c)
    extra = socket.create_connection((u.hostname, u.port), timeout=10)
    data = b""
    while True:
        d = extra.recv(4096)
        if not d:
            break
        data += d
    # Idle held connections expire after the handshake time: past it, the test
    # measured nothing (never the case unless the machine stalls for seconds).
    if time.monotonic() - t0 >= handshake_s:
        fail(f"peer limit: holding {per_peer} connections took {time.monotonic() - t0:.1f} s, "
             f"past --handshake-timeout {handshake_s}")
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 503") or b"application/problem+json" not in head:
        fail(f"peer over its limit: {data[:200]!r}")
    if "too many connections from this peer" not in json.loads(body)["detail"]:
        fail(f"503 does not say why: {body!r}")
    other = http.client.HTTPConnection(u.hostname, u.port, timeout=10,
                                       source_address=("127.0.0.2", 0))
    other.request("POST", "/challenge-response/v1/newSession?nonceSize=32")
    r = other.getresponse()
    if r.status != 201:
        fail(f"another peer not served beside a full one: {r.status} {r.read()[:200]!r}")
    for h in held + [extra, other]:
        h.close()
    print(f"peer limit: the {per_peer + 1}th connection of one peer got 503; another peer served")


def main():
    flow(HTTP)
    flow(HTTPS)
    flow(HTTP, vm="beta", want_pass=False)
    # TLS 1.3 only: a client capped at 1.2 gets no session
    old = ssl.create_default_context(cafile=CA)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        urllib.request.urlopen(urllib.request.Request(
            f"{HTTPS}/challenge-response/v1/newSession", method="POST"), context=old, timeout=10)
        fail("a TLS 1.2 client was served")
    except (urllib.error.URLError, ssl.SSLError, ConnectionError):
        pass
    st, ct, _, body = request("GET", f"{HTTPS}/.well-known/veraison/verification")
    d = json.loads(body)
    if st != 200 or d["ear-verification-key"]["crv"] != "P-256" or EVIDENCE not in d["media-types"]:
        fail(f"discovery: {st} {d}")
    with open(os.path.join(WORK, "jwk.json"), "w") as f:
        json.dump(d["ear-verification-key"], f)
    refusals(HTTP)
    slow_clients(HTTP)
    peer_limit(HTTP)
    print("python client: OK")


main()
