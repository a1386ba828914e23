/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Upstream KVM's own TDX rules, between the VMM's KVM_TDX_INIT_VM and the
 * TDX module's TD_PARAMS (Linux 6.16 arch/x86/kvm/vmx/tdx.c: setup_tdparams(),
 * setup_tdparams_cpuids(), setup_tdparams_eptp_controls(), td_init_cpuid_entry2(),
 * tdx_clear_unsupported_cpuid(), tdx_get_supported_attrs/xfam()), as data:
 *
 *  - KVM_TDX_CAPABILITIES reports the module's configurable CPUID bits
 *    without TSX (7.0.EBX HLE/RTM) and WAITPKG (7.0.ECX[5]), and with
 *    0x80000008.EAX[23:16] set: KVM's guest-physical-address-width knob;
 *  - KVM_TDX_INIT_VM refuses (-EINVAL) TSX/WAITPKG bits, a GPAW knob other
 *    than 48 or 52, CPUID entries without a TD_PARAMS.CPUID_CONFIG slot,
 *    and ATTRIBUTES/XFAM outside supported_attrs/supported_xfam;
 *  - it zeroes the knob before the module sees the CPUID, passes
 *    CONFIG_FLAGS = NO_RBP_MOD (| GPAW for 52), and ORs the module's
 *    fixed-1 ATTRIBUTES and XFAM into what the VMM asked for.
 */
#ifndef TDCPUID_KVM_TDX_H
#define TDCPUID_KVM_TDX_H

#include <stddef.h>
#include <stdint.h>

/* TD_PARAMS.CONFIG_FLAGS bits (TDX module ABI, config_flags_t). */
#define TDC_TDX_CONFIG_GPAW (1ull << 0)
#define TDC_TDX_CONFIG_FLEXIBLE_PENDING_VE (1ull << 1)
#define TDC_TDX_CONFIG_NO_RBP_MOD (1ull << 2)
#define TDC_TDX_CONFIG_MAXPA_VIRT (1ull << 3)
#define TDC_TDX_CONFIG_MAXGPA_VIRT (1ull << 4)

/* KVM_SUPPORTED_TD_ATTRS: TDX_TD_ATTR_SEPT_VE_DISABLE only. */
#define TDC_KVM_TDX_SUPPORTED_ATTRS (1ull << 28)

/* The GPAW knob in the INIT_VM CPUID: 0x80000008.EAX[23:16], 48 or 52. */
#define TDC_KVM_TDX_GPAW_LEAF 0x80000008u
#define TDC_KVM_TDX_GPAW_MASK 0x00ff0000u
#define TDC_KVM_TDX_GPAW_SHIFT 16

/* One register's bits KVM does not let userspace configure. */
struct tdc_kvm_tdx_bits {
	uint32_t leaf, subleaf;
	uint8_t reg;        /* enum tdc_reg */
	uint32_t mask;
	const char *what;   /* "TSX (HLE, RTM)" */
};

/* tdx_clear_unsupported_cpuid(): cleared from capabilities, refused in INIT_VM. */
const struct tdc_kvm_tdx_bits *tdc_kvm_tdx_unsupported(size_t *n);

/* Bits of (leaf, subleaf, reg) KVM refuses; 0 if none.  @what names them. */
uint32_t tdc_kvm_tdx_unsupported_mask(uint32_t leaf, uint32_t subleaf, unsigned reg,
				      const char **what);

/* The CONFIG_FLAGS KVM passes for a GPAW knob value (48 or 52). */
uint64_t tdc_kvm_tdx_config_flags(unsigned gpaw);

#endif
