#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dracut module "tdcpuid": adds the static tdcpuid-agent and the TDX guest
# modules to a distro initramfs and a pre-mount hook that emits CPUID evidence on the console
# when the kernel command line carries tdcpuid.nonce=HEX (see
# initramfs/init for the markers and the armor format).
#
# Install: copy this directory to /usr/lib/dracut/modules.d/90tdcpuid and
# build with `dracut --add tdcpuid ...`.  TDCPUID_AGENT overrides the agent
# path (default /usr/bin/tdcpuid-agent).

check() {
	[ -x "${TDCPUID_AGENT:-/usr/bin/tdcpuid-agent}" ] || return 1
	# Only when asked for (--add tdcpuid): it is not needed to boot.
	return 255
}

depends() {
	return 0
}

# /dev/tdx_guest (tdx_guest, with tsm and configfs for configfs-tsm
# quotes) and the virtio vsock transport (agent evidence --to vsock:...).
installkernel() {
	hostonly='' instmods tdx_guest tsm configfs vmw_vsock_virtio_transport
}

install() {
	inst_binary "${TDCPUID_AGENT:-/usr/bin/tdcpuid-agent}" /usr/bin/tdcpuid-agent
	inst_hook pre-mount 90 "$moddir/tdcpuid-evidence.sh"
}
