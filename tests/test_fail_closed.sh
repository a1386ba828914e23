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

exit $((fails > 0))
