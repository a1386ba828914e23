#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# policies/models/tdx-*.json and tdx-releases.json are generated, not
# written: regenerating them from the TDX module's tables and release list
# committed in policies/models/src/ must give the committed bytes, and no
# other tdx-*.json may sit beside them.
set -u
SRC=${TDC_SOURCE_DIR:?}
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 not installed"
	exit 77
fi
T=$(mktemp -d /tmp/tdc-test-gen.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
python3 "$SRC/scripts/gen-tdx-model" --all "$SRC/policies/models/src" "$T" ||
	{ echo "FAIL: generator failed"; exit 1; }
n=0
for f in "$T"/*.json; do
	b=$(basename "$f")
	n=$((n + 1))
	if ! cmp -s "$f" "$SRC/policies/models/$b"; then
		echo "FAIL: regenerated $b differs from policies/models/$b:"
		diff -u "$SRC/policies/models/$b" "$f" | head -20
		fails=$((fails + 1))
	fi
done
for f in "$SRC"/policies/models/tdx-*.json; do
	[ -f "$T/$(basename "$f")" ] || { echo "FAIL: $(basename "$f") is not generated"; fails=$((fails + 1)); }
done
# Every release of the versions file has a model, and every table a file.
python3 - "$SRC/policies/models/src/tdx-module-versions.json" "$T" <<'PY' || fails=$((fails + 1))
import json, os, sys
rel = json.load(open(sys.argv[1]))
idx = json.load(open(os.path.join(sys.argv[2], "tdx-releases.json")))["releases"]
assert [r["version"] for r in rel] == [r["release"] for r in idx], "release list differs"
for r in idx:
    assert os.path.exists(os.path.join(sys.argv[2], r["model"] + ".json")), r
PY
# One table version: the single-file form gives the same bytes.
python3 "$SRC/scripts/gen-tdx-model" "$SRC/policies/models/src/tdx-module-1.5.09-cpuid.json" "$T/one.json" &&
	cmp -s "$T/one.json" "$T/tdx-1.5.09.json" || { echo "FAIL: single-file form differs"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ok: $n generated model files reproduce byte for byte"
