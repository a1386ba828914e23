#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tdcpuid-verifier quote: exit codes, text and JSON output on the real quotes.
set -u
V=${TDC_VERIFIER:?}
D=${TDC_TESTDATA:?}/tdx
SPR=$D/tdx_prod_quote_SPR_E4.dat
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() { # expect RC DESCRIPTION -- command...
	local want=$1 what=$2 got
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"; cat "$tmp/out" "$tmp/err"; fails=$((fails + 1))
	else
		echo "ok: $what"
	fi
}
has() { # has PATTERN DESCRIPTION
	if ! grep -q -- "$1" "$tmp/out"; then
		echo "FAIL: $2: output lacks '$1'"; cat "$tmp/out"; fails=$((fails + 1))
	fi
}

# Without collateral exit 0 would promise an acceptable TCB nobody evaluated.
expect 1 "no collateral: TCB not evaluated fails" -- "$V" quote "$SPR" --at 2023-07-01T01:00:00Z
has "FAIL tcb.status: not evaluated: no collateral given" "unevaluated TCB named"
has "result: FAIL" "text result without collateral"
expect 1 "no collateral, JSON: passed false" -- "$V" quote "$SPR" --at 2023-07-01T01:00:00Z \
	--format json
has '"passed": false' "JSON verdict without collateral"
expect 0 "SPR quote verifies (default root, --signature-only)" -- "$V" quote "$SPR" \
	--at 2023-07-01T01:00:00Z --signature-only
has "39 trailing bytes" "trailing bytes reported"
has "result: PASS (signature chain only: TCB status not evaluated)" "text result says signature only"
has "SKIP tcb.status: .*(waived by --signature-only)" "the waiver is named"
expect 0 "--signature-only, JSON" -- "$V" quote "$SPR" --at 2023-07-01T01:00:00Z \
	--signature-only --format json
has '"waived_by": "--signature-only"' "JSON names the waiver"
has '"signature_only": true' "JSON says signature only"
expect 2 "--signature-only with --collateral is a usage error" -- "$V" quote "$SPR" \
	--signature-only --collateral "$D/collateral"
expect 0 "v5 quote verifies" -- "$V" quote "$D/quote_v5_sample.dat" --at 2026-02-03T01:00:00Z \
	--root "$D/trust/Intel_SGX_Root_CA.pem" --signature-only
expect 1 "SPR quote expired in 2053" -- "$V" quote "$SPR" --at 2053-07-01
has "PCK leaf certificate has expired" "expiry named"
expect 1 "2023 collateral: no matching TCB level" -- "$V" quote "$SPR" \
	--at 2023-07-01T01:00:00Z --collateral "$D/collateral"
has "no matching TCB level" "TCB outcome"
has "ok   collateral.tcb_info:" "TCB info verified"
expect 1 "--no-crl is stated" -- "$V" quote "$SPR" --at 2023-07-01T01:00:00Z \
	--collateral "$D/collateral" --no-crl
has "revocation: NOT CHECKED" "no-crl line"
expect 1 "JSON output" -- "$V" quote "$SPR" --at 2023-07-01T01:00:00Z \
	--collateral "$D/collateral" --format json
has '"trailing_bytes": 39' "JSON trailing"
has '"name": "tcb.level"' "JSON checks"
has '"revocation_checked": true' "JSON revocation"
has '"fmspc": "50806f000000"' "JSON PCK extensions"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"] == "tdcpuid-verdict" and d["kind"] == "quote" and d["passed"] is False and all(c["status"] in ("pass", "fail", "skip", "info") and "detail" in c for c in d["checks"])' "$tmp/out" \
		|| { echo "FAIL: JSON does not parse"; fails=$((fails + 1)); }
fi
cp "$SPR" "$tmp/bad.dat"
printf '\x03' | dd of="$tmp/bad.dat" bs=1 seek=0 conv=notrunc 2>/dev/null
expect 2 "unparseable quote is bad input" -- "$V" quote "$tmp/bad.dat" --at 2023-07-01
has "unsupported quote version 3" "version named"
cp "$SPR" "$tmp/sig.dat"
printf '\x32' | dd of="$tmp/sig.dat" bs=1 seek=60 conv=notrunc 2>/dev/null
expect 1 "body corruption fails the signature" -- "$V" quote "$tmp/sig.dat" --at 2023-07-01
has "FAIL quote.signature" "signature check named"
expect 0 "report data prefix matches" -- "$V" quote "$SPR" --at 2023-07-01 --signature-only \
	--report-data "$(od -An -tx1 -j568 -N8 "$SPR" | tr -d ' \n')"
expect 1 "report data mismatch" -- "$V" quote "$SPR" --at 2023-07-01 --report-data 00ff \
	--signature-only
expect 0 "--at @EPOCH" -- "$V" quote "$SPR" --at @1688173200 --signature-only
has "SEPT_VE_DISABLE\|PKS" "TD attributes decoded by name"
expect 2 "bad --accept-tcb" -- "$V" quote "$SPR" --accept-tcb Fine
expect 2 "missing FILE" -- "$V" quote
expect 2 "bad --at" -- "$V" quote "$SPR" --at yesterday
expect 0 "--help" -- "$V" quote --help
exit $((fails > 0))
