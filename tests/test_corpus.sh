#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The fault-injection corpus (tests/corpus/cases.json): every case's verdict
# and exit code asserted; prints "N cases, N detected, N false alarms".
set -euo pipefail
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
command -v cpuid >/dev/null || { echo "SKIP: cpuid (Debian package) not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$TDC_SOURCE_DIR/scripts/gen-corpus" generate "$out"
"$TDC_SOURCE_DIR/scripts/gen-corpus" run "$out"
