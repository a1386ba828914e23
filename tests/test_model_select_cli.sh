#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --model tdx end to end, with the simulator standing in for TDX hardware:
# the TD's CPUID is what `predict` says release R's module gives it (Linux's
# TD controls), the sim report and quote carry R's MRSEAM or TEE_TCB_SVN,
# and `check --model tdx` must choose R's model, name it and why, read the
# agent's td_controls claim, and pass.  An unknown newer SVN takes the newest
# model of its major with a note; a TEE_TCB_SVN changed in the quote breaks
# its signature; evidence without td_controls lists the ambiguous leaves.
set -u
AGENT=${TDC_AGENT:?}
VERIFIER=${TDC_VERIFIER:?}
SRC=${TDC_SOURCE_DIR:?}
P=$SRC/tests/data/platforms/emr-gold-5520p.baremetal.cpuid-r.txt
T=$(mktemp -d /tmp/tdc-test-select.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
NONCE=00112233445566778899aabbccddeeff
echo '{"version":1,"name":"test-sim","allow_simulated":true,"require_tcb":false}' >"$T/policy.json"
"$AGENT" sim-keygen "$T/sim" >/dev/null 2>&1 || { echo "FAIL: sim-keygen"; exit 1; }

# evidence RELEASE-MODEL OUT [agent options...]: a TD of that module.
evidence() {
	local model=$1 out=$2
	shift 2
	"$VERIFIER" predict --model "$model" --platform "$P" --requested "$P" --xfam 0x2e7 \
		--attributes 0x10000000 --td-ctls linux --format raw >"$T/td.txt" 2>/dev/null ||
		{ fail "predict $model"; return 1; }
	"$AGENT" evidence --tee sim --sim-dir "$T/sim" --nonce $NONCE --sim-cpuid "$T/td.txt" \
		--sim-xfam 0x2e7 --cpu 0 "$@" -o "$out" 2>"$T/agent.err" ||
		{ fail "agent $model: $(cat "$T/agent.err")"; return 1; }
}

check() {
	"$VERIFIER" check --model tdx --evidence "$1" --requested "$P" --platform "$P" \
		--policy "$T/policy.json" --sim-dir "$T/sim" --root "$T/sim/root-ca.pem" \
		--nonce $NONCE "${@:2}"
}

# release model minor major mrseam
while read -r rel model minor major mrseam; do
	evidence "tdx-$rel" "$T/ev-$rel" --sim-mrseam "$mrseam" || continue
	check "$T/ev-$rel" >"$T/out" 2>&1
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$rel by MRSEAM: exit $rc: $(grep -E 'FAIL|MISMATCH|model' "$T/out" | head -5)"
	elif ! grep -q "^INFO  model: $model for release $rel: MRSEAM ${mrseam:0:16}" "$T/out"; then
		fail "$rel by MRSEAM: $(grep 'model' "$T/out" | head -2)"
	else
		ok "$rel by MRSEAM: $model, PASS"
	fi
	# No known MRSEAM: the TEE_TCB_SVN names it.
	evidence "tdx-$rel" "$T/evs-$rel" --sim-tee-tcb-svn "$minor$major" || continue
	check "$T/evs-$rel" --format json >"$T/out.json" 2>&1
	rc=$?
	python3 - "$T/out.json" "$model" "$minor$major" <<'PY' && [ $rc -eq 0 ] &&
import json, sys
d = json.load(open(sys.argv[1]))
assert d["model"] == sys.argv[2], d["model"]
assert "TEE_TCB_SVN %s" % sys.argv[3] in d["model_why"], d["model_why"]
tc = [c["detail"] for c in d["checks"] if c["name"] == "td_controls"]
if sys.argv[2] == "tdx-1.5.01":
    assert not tc, tc            # 1.5.01 has no TD controls
elif sys.argv[2] < "tdx-1.5.09":
    assert "on: enum_topology; off: virt_cpuid2" in tc[0], tc  # Linux: no REDUCE_VE here
else:
    assert "on: enum_topology, virt_cpuid2, reduce_ve" in tc[0], tc
PY
		ok "$rel by TEE_TCB_SVN $minor$major: $model, td_controls read" ||
		fail "$rel by TEE_TCB_SVN: exit $rc"
done <<'EOF2'
1.5.01 tdx-1.5.01 04 01 9790d89a10210ec6968a773cee2ca05b5aa97309f36727a968527be4606fc19e6f73acce350946c9d46a9bf7a63f8430
1.5.06 tdx-1.5.06 06 01 5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1
1.5.09 tdx-1.5.09 08 01 bfb360ac8e6233a1bca1433caf7382d95c165b4a77fb00bf1435e5a08f300cdfead5ee68461afd9b6c728dce7534602d
1.5.25 tdx-1.5.16 0d 01 fca4ff221293807e3d247416299ca39a236872df4eb414567ca96072d3fde7dead740f807eefe2f7d938499c03cc8aba
2.0.08 tdx-2.0.08 05 03 476a2997c62bccc78370913d0a80b956e3721b24272bc66c4d6307ced4be2865c40e26afac75f12df3425b03eb59ea7c
EOF2

# A 1.5.16-like TD on a module newer than every known 1.5 release.
evidence tdx-1.5.16 "$T/ev-new" --sim-tee-tcb-svn 0e01 &&
	check "$T/ev-new" >"$T/out" 2>&1
rc=$?
grep -q "^INFO  model: tdx-1.5.16 for release 1.5.25: note: TEE_TCB_SVN 0e01 .*newest of that major version" "$T/out" &&
	[ $rc -eq 0 ] && ok "unknown newer SVN: newest 1.5 model, with a note" ||
	fail "unknown newer SVN: exit $rc: $(grep model "$T/out")"

# The quote's TEE_TCB_SVN changed (here to name another release): the signature breaks.
python3 - "$T/evs-1.5.09" "$T/tampered" <<'PY'
import sys
ev = bytearray(open(sys.argv[1], "rb").read())
svn = bytes([0x08, 0x01]) + bytes(14)
first = ev.find(svn)                 # TDREPORT TEE_TCB_INFO
second = ev.find(svn, first + 1)     # the quote body
assert first > 0 and second > first, (first, second)
ev[second] = 0x0b
open(sys.argv[2], "wb").write(bytes(ev))
PY
check "$T/tampered" >"$T/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q '^FAIL  quote.signature' "$T/out" &&
	ok "tampered TEE_TCB_SVN: quote.signature fails" ||
	fail "tampered TEE_TCB_SVN: exit $rc: $(grep -E 'FAIL|model' "$T/out" | head -3)"

# Evidence that does not say what the guest set (no --sim-cpuid: no td_controls).
"$AGENT" evidence --tee sim --sim-dir "$T/sim" --nonce $NONCE --cpu 0 \
	--sim-tee-tcb-svn 0b01 -o "$T/ev-old" 2>/dev/null || fail "agent without td_controls"
check "$T/ev-old" >"$T/out" 2>&1
grep -q '^INFO  td_controls: TD_CTLS enum_topology, virt_cpuid2, reduce_ve unknown .*leaves 0x2, 0x6, 0x9, 0xb' "$T/out" &&
	ok "no td_controls claim: ambiguous leaves listed" ||
	fail "no td_controls claim: $(grep td_controls "$T/out")"
# Stated by the operator instead.
"$AGENT" evidence --tee sim --sim-dir "$T/sim" --nonce $NONCE --cpu 0 --td-ctls none \
	--sim-tee-tcb-svn 0b01 -o "$T/ev-op" 2>/dev/null || fail "agent --td-ctls none"
check "$T/ev-op" >"$T/out" 2>&1
grep -q '^INFO  td_controls: TD_CTLS from the evidence.s td_controls: on: none; off: enum_topology, virt_cpuid2, reduce_ve' "$T/out" &&
	ok "--td-ctls none: stated controls used" ||
	fail "--td-ctls none: $(grep td_controls "$T/out")"
"$AGENT" evidence --tee sim --sim-dir "$T/sim" --nonce $NONCE --td-ctls bogus -o "$T/x" 2>"$T/err"
[ $? -eq 2 ] && grep -q "unknown control 'bogus'" "$T/err" && ok "--td-ctls bogus refused" ||
	fail "--td-ctls bogus: $(cat "$T/err")"

# serve: one registry entry with "model": "tdx" judges TDs of two releases,
# each under its own model (loaded once per version and kept).
mkdir "$T/reg"
cat >"$T/reg/td.json" <<EOF2
{"name":"td","requested":"$P","requested_format":"cpuid-r","platform":"$P","model":"tdx",
 "policy":"$T/policy.json","sim_dir":"$T/sim","trust_root":"$T/sim/root-ca.pem"}
EOF2
"$VERIFIER" serve --listen tcp:127.0.0.1:0 --registry "$T/reg" --db "$T/audit.db" \
	--ready-file "$T/ready" --timeout 5 --quiet 2>"$T/serve.log" &
SP=$!
for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
if [ -s "$T/ready" ]; then
	ADDR=$(head -1 "$T/ready")
	for pair in "tdx-1.5.09 bfb360ac8e6233a1bca1433caf7382d95c165b4a77fb00bf1435e5a08f300cdfead5ee68461afd9b6c728dce7534602d" \
		    "tdx-2.0.08 476a2997c62bccc78370913d0a80b956e3721b24272bc66c4d6307ced4be2865c40e26afac75f12df3425b03eb59ea7c" \
		    "tdx-1.5.09 bfb360ac8e6233a1bca1433caf7382d95c165b4a77fb00bf1435e5a08f300cdfead5ee68461afd9b6c728dce7534602d"; do
		set -- $pair
		"$VERIFIER" predict --model "$1" --platform "$P" --requested "$P" --xfam 0x2e7 \
			--attributes 0x10000000 --td-ctls linux --format raw >"$T/td.txt" 2>/dev/null
		"$AGENT" evidence --tee sim --sim-dir "$T/sim" --sim-cpuid "$T/td.txt" --sim-xfam 0x2e7 \
			--cpu 0 --sim-mrseam "$2" --to "$ADDR" --vm-name td -o "$T/sv.json" 2>"$T/agent.err"
		rc=$?
		python3 - "$T/sv.json" "$1" <<'PY' && [ $rc -eq 0 ] &&
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] and d["model"] == sys.argv[2], (d["passed"], d["model"])
assert d["model_why"].startswith("--model tdx: MRSEAM"), d["model_why"]
PY
			ok "serve, model tdx: $1 evidence judged under $1" ||
			fail "serve, model tdx, $1: exit $rc $(cat "$T/agent.err")"
	done
	kill -TERM $SP; wait $SP
else
	fail "serve did not start: $(cat "$T/serve.log")"
	kill $SP 2>/dev/null
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all model selection checks passed"
