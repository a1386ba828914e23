#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fail closed (issue 18): a check that could not run fails unless a policy
# key waives it, and the output names the key.  Real binaries, sim evidence
# and the test PKI's collateral (tdc-test-pki).
set -uo pipefail
V=${TDC_VERIFIER:?} A=${TDC_AGENT:?} P=${TDC_TEST_PKI:?}
SRC=${TDC_SOURCE_DIR:?}
T=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# expect RC DESCRIPTION PATTERN -- command...: exit code and one output line.
expect() {
	local want=$1 what=$2 pat=$3 got
	shift 4
	"$@" >"$T/out" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		fail "$what: exit $got, want $want"; cat "$T/out"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$T/out"; then
		fail "$what: output lacks /$pat/"; cat "$T/out"
	else
		ok "$what"
	fi
}

"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || { echo "FAIL: sim-keygen"; exit 1; }
"$P" --sim-dir "$T/sim" --out "$T/pki" || { echo "FAIL: tdc-test-pki"; exit 1; }
"$A" probe --format raw -o "$T/req.cpuid-r" >/dev/null 2>&1 || { echo "FAIL: probe"; exit 1; }
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce 0102 -o "$T/ev.cbor" 2>/dev/null ||
	{ echo "FAIL: evidence"; exit 1; }
# The shipped policies, with only the simulator allowed (their other keys kept).
for p in default strict audit; do
	python3 - "$SRC/policies/$p.json" "$T/$p-sim.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
d["allow_simulated"] = True
d["trust_anchor"] = None
# strict's hypervisor-leaf rules are about a TD's CPUID, not freshness.
d["untrusted_leaves"] = []
d["required_bits"] = []
d["attributes"]["required"] = []
json.dump(d, open(sys.argv[2], "w"))
PY
done
# The sim quote alone (envelope key 2), for `quote`.
python3 - "$T/ev.cbor" "$T/quote.dat" <<'PY' || exit 1
import sys
d = open(sys.argv[1], "rb").read()
def head(i):
    ib = d[i]; mt, ai = ib >> 5, ib & 31; i += 1
    if ai < 24: return mt, ai, i
    n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
    return mt, int.from_bytes(d[i:i + n], "big"), i + n
mt, n, i = head(0)
for _ in range(n):
    _, k, i = head(i)
    _, ln, i = head(i)
    if k == 2:
        open(sys.argv[2], "wb").write(d[i:i + ln])
    i += ln
PY
chk() { # POLICY args...
	local pol=$1
	shift
	"$V" check --evidence "$T/ev.cbor" --requested "$T/req.cpuid-r" --model kvm \
		--policy "$T/$pol-sim.json" --root "$T/sim/root-ca.pem" "$@"
}

# --- require_nonce, require_tcb: on in default and strict, off in audit ----------
for p in default strict; do
	expect 1 "$p without --nonce fails (freshness not proven)" \
		'^FAIL +nonce: no expected nonce given: freshness not proven \(require_nonce requires it\)' \
		-- chk $p --collateral "$T/pki"
	expect 1 "$p without collateral fails (accept_tcb not applied)" \
		'^FAIL +quote.tcb_status: not evaluated .*\(require_tcb requires it\)' \
		-- chk $p --nonce 0102
	expect 0 "$p with --nonce and collateral passes" '^result: PASS' \
		-- chk $p --nonce 0102 --collateral "$T/pki"
done
expect 0 "audit: no nonce is a SKIP naming require_nonce" \
	'^SKIP +nonce: .*waived by require_nonce' -- chk audit
grep -qE '^SKIP +quote.tcb_status: .*waived by require_tcb' "$T/out" &&
	ok "audit: no collateral is a SKIP naming require_tcb" ||
	{ fail "audit: tcb SKIP not named"; cat "$T/out"; }
chk audit --format json -o "$T/audit.json" >/dev/null 2>&1
python3 - "$T/audit.json" <<'PY' && ok "JSON: waived_by names the keys" || fail "JSON waived_by"
import json, sys
d = json.load(open(sys.argv[1]))
w = {c["name"]: c.get("waived_by") for c in d["checks"] if c["status"] == "skip"}
assert w.get("nonce") == "require_nonce" and w.get("quote.tcb_status") == "require_tcb", w
PY
"$V" policy "$SRC/policies/default.json" | grep -qx 'require_nonce: true' &&
	"$V" policy "$SRC/policies/strict.json" | grep -qx 'require_tcb: true' &&
	"$V" policy "$SRC/policies/audit.json" | grep -qx 'require_tcb: false' &&
	ok "policy shows the keys (default/strict on, audit off)" || fail "policy keys shown"
# The simulator stays rejected by the default policy, nonce and collateral or not.
expect 1 "sim evidence under the default policy fails" '^FAIL +evidence_kind: .*simulat' \
	-- "$V" check --evidence "$T/ev.cbor" --requested "$T/req.cpuid-r" --model kvm \
	--root "$T/sim/root-ca.pem" --nonce 0102 --collateral "$T/pki"

# --- TD QE identity beside the root, checked on every quote --------------------------
grep -q '"mrsigner"' "$T/sim/TD_QE_identity.json" && ok "sim-keygen writes the sim QE identity" ||
	fail "sim-keygen: no TD_QE_identity.json"
expect 0 "sim quote: qe_report.identity passes under the sim root" \
	'^PASS +quote.qe_report.identity: TD quoting enclave' \
	-- chk default --nonce 0102 --collateral "$T/pki"
cp -r "$T/sim" "$T/sim-intelqe"
cp "$SRC/policies/trust/TD_QE_identity.json" "$T/sim-intelqe/"
expect 1 "QE identity mismatch (Intel's identity, the sim QE) fails, collateral or not" \
	'^FAIL +quote.qe_report.identity: the QE report is not from the TD quoting enclave: MRSIGNER' \
	-- chk audit --root "$T/sim-intelqe/root-ca.pem" --collateral "$T/pki"
expect 1 "quote: QE identity mismatch" '^FAIL qe_report.identity: .*MRSIGNER' \
	-- "$V" quote "$T/quote.dat" --root "$T/sim-intelqe/root-ca.pem" --signature-only
cp -r "$T/sim" "$T/sim-noqe"
rm "$T/sim-noqe/TD_QE_identity.json"
expect 2 "no QE identity beside the root: a clear error" \
	'TD QE identity of trust anchor .*sim-noqe/root-ca.pem \(expected beside it\)' \
	-- "$V" quote "$T/quote.dat" --root "$T/sim-noqe/root-ca.pem" --signature-only

# --- trust anchors: data directory only, never cwd, one rule for relative paths --------
# A root (and QE identity) planted in the working directory, as trust/ and
# as a bare file, is never picked up: the sim quote still fails under the
# data directory's Intel root.
mkdir -p "$T/cwd/trust"
cp "$T/sim/root-ca.pem" "$T/cwd/trust/Intel_SGX_Root_CA.pem"
cp "$T/sim/root-ca.pem" "$T/cwd/Intel_SGX_Root_CA.pem"
cp "$T/sim/TD_QE_identity.json" "$T/cwd/trust/"
cp "$T/audit-sim.json" "$T/cwd/policy.json"
python3 - "$T/cwd/policy.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["trust_anchor"] = "trust/Intel_SGX_Root_CA.pem"
json.dump(d, open(sys.argv[1], "w"))
PY
(cd "$T/cwd" && "$V" check --evidence "$T/ev.cbor" --requested "$T/req.cpuid-r" --model kvm \
	--nonce 0102 --policy policy.json >"$T/out" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -qE '^FAIL +quote.pck_chain.root: .*not the trusted root' "$T/out" &&
	ok "root planted in cwd and beside a copied policy is not trusted" ||
	{ fail "planted root: exit $rc"; cat "$T/out"; }
(cd "$T/cwd" && "$V" policy policy.json >"$T/out" 2>&1)
grep -qx "trust_anchor: $SRC/policies/trust/Intel_SGX_Root_CA.pem" "$T/out" &&
	grep -q "^td_qe_identity: $SRC/policies/trust/TD_QE_identity.json" "$T/out" &&
	ok "policy FILE reports the anchor it will load (data directory, not beside the copy)" ||
	{ fail "policy FILE anchor"; cat "$T/out"; }
# A copied shipped policy (no trust/ beside it) keeps working.
cp "$SRC/policies/strict.json" "$T/copy.json"
"$V" policy "$T/copy.json" >"$T/out" 2>&1 &&
	grep -q "^trust_anchor_loaded: $SRC/policies/trust/Intel_SGX_Root_CA.pem (self-signed)" "$T/out" &&
	ok "a copied strict.json loads the shipped root" || { fail "copied policy"; cat "$T/out"; }
# No anchor in the data directory: a clear error naming the path, not a verdict.
mkdir -p "$T/empty"
cp -r "$SRC/policies/models" "$T/empty/"   # models, but no trust/
expect 2 "missing anchor: check names the file and the data directory" \
	"$T/empty/trust/Intel_SGX_Root_CA.pem.*TDCPUID_DATADIR" \
	-- env TDCPUID_DATADIR="$T/empty" "$V" check --evidence "$T/ev.cbor" \
	--requested "$T/req.cpuid-r" --model kvm --nonce 0102
grep -q "neither a TDREPORT nor a quote" "$T/out" && fail "missing anchor reported as no quote"
expect 2 "missing anchor: policy reports it" "$T/empty/trust/Intel_SGX_Root_CA.pem" \
	-- env TDCPUID_DATADIR="$T/empty" "$V" policy
echo '{"version":1,"trust_anchor":"../evil.pem"}' >"$T/dotdot.json"
expect 2 "a relative anchor may not climb out of the data directory" 'without ".."' \
	-- "$V" policy "$T/dotdot.json"

# --- exit codes: a contradictory policy is bad input (2), not a verdict (1) ----------
echo '{"version":1,"required_bits":["avx2"],"forbidden_bits":["avx2"]}' >"$T/contra.json"
expect 2 "policy: contradictory policy exits 2" 'also required' -- "$V" policy "$T/contra.json"
expect 2 "check: contradictory policy exits 2" 'also required' \
	-- chk default --nonce 0102 --collateral "$T/pki" --policy "$T/contra.json"

exit $((fails > 0))
