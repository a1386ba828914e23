// SPDX-License-Identifier: Apache-2.0
/*
 * Upstream KVM's TDX rules as data (include/tdcpuid/kvm_tdx.h): Linux 6.16
 * arch/x86/kvm/vmx/tdx.c, tdx_clear_unsupported_cpuid() / has_tsx() /
 * has_waitpkg() and setup_tdparams_eptp_controls().
 */
#include "tdcpuid/cpuid.h"
#include "tdcpuid/kvm_tdx.h"

static const struct tdc_kvm_tdx_bits unsupported[] = {
	/* KVM cannot virtualize TSX_CTRL for a TD: has_tsx(), X86_FEATURE_HLE | RTM. */
	{ 0x7, 0, TDC_EBX, (1u << 4) | (1u << 11), "TSX (HLE, RTM)" },
	/* UMWAIT/TPAUSE would need KVM's IA32_UMWAIT_CONTROL handling: has_waitpkg(). */
	{ 0x7, 0, TDC_ECX, 1u << 5, "WAITPKG" },
};

const struct tdc_kvm_tdx_bits *tdc_kvm_tdx_unsupported(size_t *n)
{
	*n = sizeof(unsupported) / sizeof(unsupported[0]);
	return unsupported;
}

uint32_t tdc_kvm_tdx_unsupported_mask(uint32_t leaf, uint32_t subleaf, unsigned reg,
				      const char **what)
{
	uint32_t m = 0;

	if (what)
		*what = NULL;
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if (unsupported[i].leaf != leaf || unsupported[i].subleaf != subleaf ||
		    unsupported[i].reg != reg)
			continue;
		m |= unsupported[i].mask;
		if (what)
			*what = unsupported[i].what;
	}
	return m;
}

uint64_t tdc_kvm_tdx_config_flags(unsigned gpaw)
{
	/* setup_tdparams(): NO_RBP_MOD always; GPAW with the 52-bit knob (5-level EPT). */
	return TDC_TDX_CONFIG_NO_RBP_MOD | (gpaw == 52 ? TDC_TDX_CONFIG_GPAW : 0);
}
