// SPDX-License-Identifier: Apache-2.0
/*
 * What a TD's CPUID says about its own TD controls (TDCS.TD_CTLS), for the
 * agent's td_controls claim (docs/evidence.md).  A CPUID that raises #VE is
 * answered by the Linux #VE handler with zeros outside 0x40000000-0x4FFFFFFF
 * (arch/x86/coco/tdx/tdx.c handle_cpuid()), so a leaf that reads the value
 * only the TDX module produces was virtualized by the module, and the
 * control that makes it do so is set; an all-zero answer means it is not.
 * Values: td_cpuid.c of TDX module 1.5.06+ (leaf 2), 1.5.09+ (leaf 6, ARAT
 * fixed 1), 1.5.05+ (0xB).
 */
#include <stdio.h>
#include <string.h>

#include "tdcpuid/evidence.h"

static const struct fingerprint {
	uint64_t ctl;
	uint32_t leaf, subleaf;
	bool any;                   /* on: any register non-zero (else exactly @on) */
	uint32_t on[TDC_NREGS];     /* the module's fixed value */
} prints[] = {
	/* FIXED1 0x00feff01/0/0/0, everything else FIXED0 (1.5.06+ table). */
	{ TDC_TD_CTLS_VIRT_CPUID2, 0x2, 0, false, { 0x00feff01u, 0, 0, 0 } },
	/* ARAT only (1.5.09+ table): a CPU's own leaf 6 has more. */
	{ TDC_TD_CTLS_REDUCE_VE, 0x6, 0, false, { 1u << 2, 0, 0, 0 } },
	/* The SMT or core level from the TD's 0x1F (1.5.05+). */
	{ TDC_TD_CTLS_ENUM_TOPOLOGY, 0xb, 0, true, { 0 } },
};

void tdc_td_controls_infer(const struct tdc_cpuid_table *t, struct tdc_td_controls *out)
{
	const struct tdc_cpuid_entry *l0 = tdc_cpuid_table_find(t, 0, 0);

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(prints) / sizeof(prints[0]); i++) {
		const struct fingerprint *f = &prints[i];
		const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(t, f->leaf, f->subleaf);
		bool zero, on;

		/* Not enumerated or not probed: nothing to learn. */
		if (!e || !l0 || l0->regs[TDC_EAX] < f->leaf)
			continue;
		zero = !(e->regs[0] | e->regs[1] | e->regs[2] | e->regs[3]);
		on = f->any ? !zero : !memcmp(e->regs, f->on, sizeof(f->on));
		if (!zero && !on)
			continue; /* neither the module's value nor the #VE handler's zeros */
		out->known |= f->ctl;
		out->value |= on ? f->ctl : 0;
	}
	if (out->known) {
		out->present = true;
		snprintf(out->method, sizeof(out->method), "cpuid");
	}
}
