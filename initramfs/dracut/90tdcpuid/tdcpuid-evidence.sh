#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# dracut pre-mount hook: tdcpuid evidence on the console when requested.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
nonce=$(getarg tdcpuid.nonce=)
[ -n "$nonce" ] || return 0 2>/dev/null || exit 0
tee=$(getarg tdcpuid.tee=)
# The attestation interfaces: /dev/tdx_guest and configfs-tsm (module-setup.sh).
modprobe -q tdx_guest 2>/dev/null
modprobe -q vmw_vsock_virtio_transport 2>/dev/null
[ -d /sys/kernel/config/tsm ] || mount -t configfs configfs /sys/kernel/config 2>/dev/null
echo "===TDCPUID PROBE BEGIN==="
/usr/bin/tdcpuid-agent probe --format raw
echo "===TDCPUID PROBE END==="
/usr/bin/tdcpuid-agent evidence --nonce "$nonce" --tee "${tee:-auto}" -o /tmp/tdcpuid-evidence.cbor --serial -
