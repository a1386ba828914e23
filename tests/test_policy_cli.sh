#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `tdcpuid-verifier policy`: the effective policy, defaults filled in, and
# malformed files rejected with the key named and exit code 2.
set -u
fail() { echo "FAIL: $*"; exit 1; }
V=${TDC_VERIFIER:?TDC_VERIFIER not set}
P=${TDC_SOURCE_DIR:?TDC_SOURCE_DIR not set}/policies
tmp=$(mktemp -d /tmp/tdc-policy.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

out=$("$V" policy) || fail "built-in default"
grep -qx 'name: default' <<<"$out" || fail "built-in default is not named default"
grep -qx 'allow_debug: false' <<<"$out" || fail "default allows debug TDs"
grep -qx 'fail_on: mismatch' <<<"$out" || fail "default does not fail on mismatch"
[ "$out" = "$("$V" policy "$P/default.json")" ] ||
	fail "policies/default.json differs from the built-in default"

for f in default strict audit; do
	"$V" policy "$P/$f.json" >"$tmp/$f.txt" || fail "$f.json does not load"
done
grep -qx 'require_quote: true' "$tmp/strict.txt" || fail "strict does not require a quote"
grep -q '^untrusted_leaves: 0x40000000' "$tmp/strict.txt" || fail "strict lists no untrusted leaves"
grep -qx 'fail_on:' "$tmp/audit.txt" || fail "audit fails on something"

# Absent keys come from the default; present ones override.
echo '{"version": 1, "allow_debug": true}' >"$tmp/mine.json"
out=$("$V" policy "$tmp/mine.json") || fail "minimal policy"
grep -qx 'name: mine' <<<"$out" || fail "unnamed policy not named after its file"
grep -qx 'allow_debug: true' <<<"$out" || fail "allow_debug not applied"
grep -qx 'allow_simulated: false' <<<"$out" || fail "allow_simulated not defaulted"

echo '{"version": 1, "alow_debug": true}' >"$tmp/typo.json"
err=$("$V" policy "$tmp/typo.json" 2>&1 >/dev/null)
[ $? = 2 ] || fail "misspelt key: exit code not 2"
grep -q 'typo.json: alow_debug: unknown key' <<<"$err" || fail "misspelt key not named: $err"
echo "PASS: policy CLI"
