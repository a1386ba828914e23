#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_serve's modes still run end to end, so a benchmark that dies at start
# (as `-r` did while its policy required a quote) fails the suite rather than
# the next person who measures.  A few attestations each: this checks that
# every one is served and judged (bench_serve exits 1 on any error or failing
# verdict), not how fast.
set -uo pipefail
B=${TDC_BENCH_DIR:?}/bench_serve
[ -x "$B" ] || { echo "FAIL: no $B"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Each row: a name and bench_serve's arguments.
while read -r name args; do
	# shellcheck disable=SC2086 # the arguments are words on purpose
	"$B" -n 12 -c 2 $args >"$T/$name" 2>&1
	rc=$?
	[ $rc -eq 0 ] || fail "bench_serve $args: exit $rc: $(tail -3 "$T/$name")"
	grep -q '^  errors 0, failing verdicts 0, serve exit 0$' "$T/$name" ||
		fail "bench_serve $args: $(grep -m1 errors "$T/$name")"
	grep -q 'server .* us/attestation (verification alone' "$T/$name" ||
		fail "bench_serve $args: no CPU line"
	echo "ok: bench_serve $args"
done <<'ROWS'
quote
tdreport_json -r -f json
quote_rest --rest
ROWS
