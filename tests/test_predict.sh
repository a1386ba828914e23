#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tdcpuid-verifier predict and explain from the command line, on the real
# Intel server dump (tests/data/platforms).  Expected values are the
# hand-derived ones of tests/test_model_predict.c (XFAM 0x3, empty
# CPUID_CONFIG: QEMU's tdx_fixed1_bits lists for 1.ECX/1.EDX).
set -u
VERIFIER=${TDC_VERIFIER:?}
DATA=${TDC_TESTDATA:?}
export TDCPUID_DATADIR=${TDC_SOURCE_DIR:?}/policies
P=$DATA/platforms/emr-gold-5520p.baremetal.cpuid-r.txt
T=$(mktemp -d /tmp/tdc-test-predict.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# The hand-derived values below are the TDX module 1.5.01's.
M="--model tdx-1.5.01"
ok() { echo "ok: $*"; }

# --vcpu N: the per-vCPU IDs at their value for vCPU N, the 8-bit APIC ID and,
# under ENUM_TOPOLOGY, the x2APIC ID of 0xB and 0x1F alike (it stayed 0, so
# a multi-vCPU TD built from predict failed apic_ids_unique).
"$VERIFIER" predict --model tdx-1.5.16 --platform "$P" --requested "$P" --xfam 0x2e7 \
	--attributes 0x10000000 --td-ctls linux --vcpu 3 --format raw >"$T/raw3" 2>"$T/dyn3"
grep -q '^   0x00000001 0x00: eax=0x[0-9a-f]* ebx=0x03' "$T/raw3" &&
	[ "$(grep -cE '^   0x000000(0b|1f) 0x0[0-5]: .* edx=0x00000003$' "$T/raw3")" -eq 9 ] &&
	grep -q 'CPUID.0BH.0:EDX\[31:0\] = 0x3' "$T/dyn3" && ok "--vcpu 3: APIC and x2APIC IDs 3" ||
	fail "--vcpu 3: $(grep -E '^   0x000000(01|0b|1f) ' "$T/raw3")"

# raw: byte-compatible `cpuid -r` lines, dynamic fields on stderr only.
"$VERIFIER" predict $M --platform "$P" --xfam 0x3 --tsc-khz 2000000 --format raw >"$T/raw" 2>"$T/dyn"
rc=$?
[ $rc -eq 0 ] || fail "raw: exit $rc: $(cat "$T/dyn")"
grep -qx '   0x00000001 0x00: eax=0x000c06f2 ebx=0x00000800 ecx=0xc6faa217 edx=0x07a9fbff' "$T/raw" \
	&& ok "raw leaf 1" || fail "raw leaf 1: $(grep '0x00000001 0x00' "$T/raw")"
grep -qx '   0x00000007 0x00: eax=0x00000002 ebx=0x219424c1 ecx=0x19000000 edx=0xfc000400' "$T/raw" \
	&& ok "raw leaf 7" || fail "raw leaf 7: $(grep '0x00000007 0x00' "$T/raw")"
grep -qx '   0x00000015 0x00: eax=0x00000001 ebx=0x00000050 ecx=0x017d7840 edx=0x00000000' "$T/raw" \
	&& ok "raw leaf 0x15" || fail "raw leaf 0x15"
head -1 "$T/raw" | grep -qx 'CPU 0:' && ok "raw header" || fail "raw header: $(head -1 "$T/raw")"
if grep -v -E '^(CPU 0:|   0x[0-9a-f]{8} 0x[0-9a-f]{2}: eax=0x[0-9a-f]{8} ebx=0x[0-9a-f]{8} ecx=0x[0-9a-f]{8} edx=0x[0-9a-f]{8})$' "$T/raw"; then
	fail "raw has lines that are not cpuid -r lines"
fi
grep -q 'OSXSAVE' "$T/dyn" && ok "dynamic fields listed on stderr" || fail "no dynamic list"
# The raw output is itself a valid platform/requested file.
"$VERIFIER" predict $M --platform "$T/raw" --requested "$T/raw" --xfam 0x3 --format raw \
	>/dev/null 2>&1 && ok "raw re-imports" || fail "raw output does not re-import"

# text: QEMU-style messages against a `-cpu host`-like request.
"$VERIFIER" predict $M --platform "$P" --requested "$P" --xfam 0x2e7 >"$T/text" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "text: exit $rc"
for want in 'TDX forcibly sets the feature: CPUID.01H:ECX.hypervisor \[bit 31\]' \
	    "TDX doesn't support requested feature: CPUID.01H:ECX.vmx \[bit 5\]" \
	    "TDX doesn't support requested feature: CPUID.07H.0:ECX.pks \[bit 31\]" \
	    'TDX changes CPUID.0DH.0:ECX: requested 0x00002b00, the TD sees 0x00000a88' \
	    'CPUID.0BH.0: not virtualized by the module (#VE)'; do
	grep -q -- "$want" "$T/text" && ok "text: $want" || fail "text lacks: $want"
done
# PKS attribute: PKS no longer reported as unsupported.
"$VERIFIER" predict $M --platform "$P" --requested "$P" --xfam 0x2e7 --attributes 0x40000000 >"$T/pks"
grep -q 'ECX.pks' "$T/pks" && fail "PKS still reported with ATTRIBUTES.PKS" || ok "PKS honoured"

# json: every bit has a class; the minimal TD's 7.0 ECX.
"$VERIFIER" predict $M --platform "$P" --xfam 0x3 --format json >"$T/json"
python3 - "$T/json" <<'PY' && ok "json" || fail "json"
import json, sys
d = json.load(open(sys.argv[1]))
l7 = [l for l in d["leaves"] if l["leaf"] == "0x00000007" and l["subleaf"] == 0][0]
assert l7["regs"]["ecx"]["value"] == "0x19000000", l7["regs"]["ecx"]
assert any(f["class"] == "attributes" and f["bits"] == "31" for f in l7["regs"]["ecx"]["fields"])
assert d["model"] == "tdx-1.5.01" and d["td_ctls_known"] == "0x0000000000000000"
PY

# strict CPUID_CONFIG (tdx-init-vm): bits outside the configurable masks are
# refused with the module's operand error, exit 2, and no prediction.
"$VERIFIER" predict $M --platform "$P" --requested "$DATA/requested/tdx-init-vm.json" >"$T/ref" 2>"$T/referr"
rc=$?
[ $rc -eq 2 ] && ok "refusal exit 2" || fail "refusal: exit $rc"
grep -q 'TDX_OPERAND_INVALID (CPUID_CONFIG): CPUID.01H:ECX bit 21 is not configurable' "$T/referr" \
	&& ok "refusal message" || fail "refusal message: $(cat "$T/referr")"
[ -s "$T/ref" ] && fail "refusal printed a prediction" || ok "refusal prints no prediction"
# Every other TD creation refusal, for the oldest and the newest model: exit 2,
# the module's error with the field, no prediction on stdout.
python3 - "$DATA/requested/tdx-init-vm.json" "$T/fms.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["init_vm"]["cpuid"]["entries"]
e[0]["eax"], e[0]["ecx"] = "0x000806f8", 0   # not the platform's family/model/stepping
json.dump(d, open(sys.argv[2], "w"))
PY
refusal() { # model, expected message, predict arguments...
	"$VERIFIER" predict --model "$1" --platform "$P" "${@:3}" >"$T/r.out" 2>"$T/r.err"
	local rc=$?
	[ $rc -eq 2 ] && grep -qF -- "$2" "$T/r.err" && [ ! -s "$T/r.out" ] &&
		ok "$1 refuses: $2" || fail "$1 ${*:3}: exit $rc, '$(cat "$T/r.err")', $(wc -c <"$T/r.out") bytes out"
}
for m in tdx-1.5.01 tdx-2.0.08; do
	refusal $m "TDX_OPERAND_INVALID (XFAM): XFAM 0x6e7 sets bits 0x400" --xfam 0x6e7
	refusal $m "TDX_OPERAND_INVALID (ATTRIBUTES): ATTRIBUTES 0x2 sets bits 0x2" --xfam 0x3 --attributes 0x2
	refusal $m "TDX_OPERAND_INVALID (ATTRIBUTES): ATTRIBUTES 0x20000001: bits 0x20000000 exclude 0x1" \
		--xfam 0x3 --attributes 0x20000001
	refusal $m "TDX_OPERAND_INVALID (ATTRIBUTES): ATTRIBUTES 0x8000000020000000: bits 0x20000000 exclude" \
		--xfam 0x3 --attributes 0x8000000020000000
	refusal $m "TDX_OPERAND_INVALID (TSC_FREQUENCY): 50000 kHz" --xfam 0x3 --tsc-khz 50000
	refusal $m "TDX_OPERAND_INVALID (CPUID_CONFIG): CPUID.01H:EAX = 0x000806f8 is neither 0 nor" \
		--requested "$T/fms.json"
done
# The same file masked like QEMU does is accepted.
"$VERIFIER" predict $M --platform "$P" --requested "$DATA/requested/tdx-init-vm.json" --config filter \
	>/dev/null 2>&1 && ok "filter mode accepts" || fail "filter mode refused"

# Bad input: exit 2 and one line naming the problem.
"$VERIFIER" predict --model no-such-model >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q 'no-such-model.json' "$T/err" && ok "unknown model" || fail "unknown model: $(cat "$T/err")"
printf 'CPU 0:\n   0x00000001 0x00: eax=0xzz\n' >"$T/bad"
"$VERIFIER" predict $M --platform "$T/bad" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q 'line 2' "$T/err" && ok "bad platform" || fail "bad platform: $(cat "$T/err")"
"$VERIFIER" predict --format xml >/dev/null 2>&1
[ $? -eq 2 ] && ok "bad --format" || fail "bad --format accepted"

# explain: name, class and source per model.
"$VERIFIER" explain 'CPUID.07H.0:EBX[5]' >"$T/ex"
grep -q 'CPUID.07H.0:EBX.avx2 \[bit 5\]' "$T/ex" && grep -q 'model tdx-1.5.01: xfam' "$T/ex" \
	&& grep -q 'xfam_bit_2' "$T/ex" && grep -q 'model kvm: as_set' "$T/ex" \
	&& ok "explain avx2" || fail "explain avx2: $(cat "$T/ex")"
"$VERIFIER" explain osxsave --model kvm | grep -q 'model kvm: dynamic' \
	&& ok "explain osxsave" || fail "explain osxsave"
"$VERIFIER" explain 'CPUID.40000001H:EAX[7]' | grep -q 'tdx-1.5.01: ve' \
	&& ok "explain hypervisor range" || fail "explain hypervisor range"
"$VERIFIER" explain 'nonsense' >/dev/null 2>&1
[ $? -eq 2 ] && ok "explain bad bit" || fail "explain bad bit"
# Current QEMU's notation, alone and as the whole warning line QEMU prints.
for b in 'CPUID[eax=07h,ecx=00h].EBX[bit 5]' \
	"qemu-system-x86_64: warning: host doesn't support requested feature: CPUID[eax=07h,ecx=00h].EBX.avx2 [bit 5]"; do
	"$VERIFIER" explain "$b" --model kvm | head -1 | grep -qx 'CPUID.07H.0:EBX.avx2 \[bit 5\]' \
		&& ok "explain QEMU notation: $b" || fail "explain QEMU notation: $b"
done
"$VERIFIER" explain 'MSR(10Ah).rdctl-no [bit 0]' 2>"$T/err" >/dev/null
[ $? -eq 2 ] && grep -q 'MSR feature word' "$T/err" && ok "explain refuses an MSR word" \
	|| fail "explain MSR word: $(cat "$T/err")"

# --platform: an empty dump is refused, naming the file.
: >"$T/empty.txt"
"$VERIFIER" predict $M --platform "$T/empty.txt" --xfam 0x3 >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q 'empty.txt: no CPUID lines' "$T/err" && ok "predict: empty platform dump" \
	|| fail "predict: empty platform dump: $(cat "$T/err")"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all predict/explain checks passed"
