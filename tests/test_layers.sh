#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Folders are layers and no two files call or include each other in a circle
# (docs/architecture.md).  tests/layers.py reads the sources and the objects
# of this build; here it also proves it can fail, on a copy of the tree with
# a circle planted in it.
set -u
SRC=${TDC_SOURCE_DIR:?}
BUILD=${TDC_BUILD_DIR:?}
command -v nm >/dev/null || { echo "SKIP: no nm (binutils)"; exit 77; }
fails=0
python3 "$SRC/tests/layers.py" "$SRC" "$BUILD" || fails=$((fails + 1))

# The check must see a planted upward include and an include circle.
T=$(mktemp -d /tmp/tdc-test-layers.XXXXXX)
trap 'rm -rf "$T"' EXIT
for d in include lib agent verifier conform; do cp -r "$SRC/$d" "$T/"; done
echo '#include "service.h"' >>"$T/verifier/quote/pcs.c"
echo '#include "verify.h"' >>"$T/verifier/engine/verify_bits.c"
printf '#include "verify_bits.h"\n' >"$T/verifier/engine/verify.h"
echo '#include "verify.h"' >>"$T/verifier/engine/verify_bits.h"
out=$(python3 "$SRC/tests/layers.py" "$T" "$BUILD" 2>&1)
rc=$?
echo "$out" | grep -q 'verifier/quote/pcs.c: includes "service.h"' || { echo "FAIL: upward include not seen: $out"; fails=$((fails + 1)); }
echo "$out" | grep -q 'include circle: verifier/engine/verify.c <-> verifier/engine/verify_bits.c' \
	|| { echo "FAIL: include circle not seen: $out"; fails=$((fails + 1)); }
[ $rc -eq 1 ] || { echo "FAIL: planted breakage: exit $rc"; fails=$((fails + 1)); }

# ... and a call circle between two objects (compiled here, planted in a build).
if command -v cc >/dev/null; then
	mkdir -p "$T/b/lib/CMakeFiles/tdcpuid.dir"
	echo 'int zz_b(int); int zz_a(int x) { return x ? zz_b(x - 1) : 0; }' >"$T/lib/zz_a.c"
	echo 'int zz_a(int); int zz_b(int x) { return x ? zz_a(x - 1) : 1; }' >"$T/lib/zz_b.c"
	for f in zz_a zz_b; do cc -c -o "$T/b/lib/CMakeFiles/tdcpuid.dir/$f.c.o" "$T/lib/$f.c"; done
	out=$(python3 "$SRC/tests/layers.py" "$T" "$T/b" 2>&1)
	echo "$out" | grep -q 'call circle: lib/zz_a.c -> lib/zz_b.c (zz_b); lib/zz_b.c -> lib/zz_a.c (zz_a)' \
		|| { echo "FAIL: call circle not seen: $out"; fails=$((fails + 1)); }
fi
[ $fails -eq 0 ] && echo "ok: layers, and the check fails on planted breakage"
exit $((fails > 0))
