// SPDX-License-Identifier: Apache-2.0
/*
 * The real CPUID and XGETBV instructions on the calling CPU.  Callers pin the
 * thread first (agent/cpuid_probe.c); here we only execute.
 *
 * In a TD, CPUID either completes in the TDX module or raises #VE and is
 * emulated by the guest kernel with help from the VMM; the instruction is
 * the same either way, which is the point: we observe what software sees.
 */
#include <stdint.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

#if defined(__x86_64__) || defined(__i386__)

void tdc_cpuid_native(uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	uint32_t a, b, c, d;

	/* volatile: CPUID is serializing and its result may change (APIC ID, OSXSAVE). */
	__asm__ volatile("cpuid"
			 : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(leaf), "c"(subleaf));
	regs[TDC_EAX] = a;
	regs[TDC_EBX] = b;
	regs[TDC_ECX] = c;
	regs[TDC_EDX] = d;
}

/* Caller must have checked CPUID.01H:ECX.OSXSAVE[27]; XGETBV #UDs otherwise. */
uint64_t tdc_xgetbv(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

int tdc_cpuid_native_fn(void *ctx, uint32_t leaf, uint32_t subleaf,
			uint32_t regs[TDC_NREGS])
{
	(void)ctx;
	tdc_cpuid_native(leaf, subleaf, regs);
	return 0;
}

#else

void tdc_cpuid_native(uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	(void)leaf;
	(void)subleaf;
	for (int i = 0; i < TDC_NREGS; i++)
		regs[i] = 0;
}

uint64_t tdc_xgetbv(uint32_t index)
{
	(void)index;
	return 0;
}

int tdc_cpuid_native_fn(void *ctx, uint32_t leaf, uint32_t subleaf,
			uint32_t regs[TDC_NREGS])
{
	(void)ctx;
	(void)leaf;
	(void)subleaf;
	(void)regs;
	return tdc_err(TDC_ERR_UNSUPPORTED, "CPUID: not an x86 build");
}

#endif
