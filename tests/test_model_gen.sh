#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# policies/models/tdx-1.5.01.json is generated, not written: regenerating it
# from the TDX module's tables committed in policies/models/src/ must give
# the committed bytes.
set -u
SRC=${TDC_SOURCE_DIR:?}
REF=$SRC/policies/models/src/tdx-module-1.5.01-cpuid.json
[ -f "$REF" ] || { echo "FAIL: $REF missing"; exit 1; }
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 not installed"
	exit 77
fi
T=$(mktemp /tmp/tdc-test-gen.XXXXXX)
trap 'rm -f "$T"' EXIT
python3 "$SRC/scripts/gen-tdx-model" "$REF" "$T" || { echo "FAIL: generator failed"; exit 1; }
if ! cmp -s "$T" "$SRC/policies/models/tdx-1.5.01.json"; then
	echo "FAIL: regenerated model differs from policies/models/tdx-1.5.01.json:"
	diff -u "$SRC/policies/models/tdx-1.5.01.json" "$T" | head -40
	exit 1
fi
echo "ok: tdx-1.5.01.json reproduces byte for byte"
