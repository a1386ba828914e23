#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# dracut pre-mount hook: tdcpuid evidence on the console when requested.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
nonce=$(getarg tdcpuid.nonce=)
[ -n "$nonce" ] || return 0 2>/dev/null || exit 0
tee=$(getarg tdcpuid.tee=)
echo "===TDCPUID PROBE BEGIN==="
/usr/bin/tdcpuid-agent probe --format raw
echo "===TDCPUID PROBE END==="
/usr/bin/tdcpuid-agent evidence --nonce "$nonce" --tee "${tee:-auto}" -o /tmp/tdcpuid-evidence.cbor --serial -
