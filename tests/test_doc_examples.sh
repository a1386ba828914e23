#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every command example of README.md and the man pages runs as documented
# (tests/doc_examples.py: which blocks, the placeholders, "# exit status N",
# "# needs: WHAT").  The runner is also shown a README with one wrong
# example and must fail on it.
set -u
SRC=${TDC_SOURCE_DIR:?}
BUILD=${TDC_BUILD_DIR:?}
fails=0
python3 "$SRC/tests/doc_examples.py" "$SRC" "$BUILD" || fails=$((fails + 1))

T=$(mktemp -d /tmp/tdc-test-doc-examples.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/docs"
ln -s "$SRC/scripts" "$SRC/tests" "$SRC/policies" "$T/"
printf '# x\n\n```sh\ntrue\nfalse   # exit status 0\n```\n' >"$T/README.md"
out=$(python3 "$SRC/tests/doc_examples.py" "$T" "$BUILD" 2>&1)
rc=$?
{ [ $rc -eq 1 ] && echo "$out" | grep -q 'FAIL: README.md:5: exit 1, expected 0'; } ||
	{ echo "FAIL: a wrong example went unnoticed (exit $rc): $out"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "ok: every example ran as documented; a wrong one fails the test"
exit $((fails > 0))
