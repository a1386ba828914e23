// SPDX-License-Identifier: Apache-2.0
/*
 * Print a CPUID table in the raw line format of `cpuid -r` (Debian package
 * cpuid 20230120, Todd Allen), byte for byte, so users can diff the two:
 *
 *   CPU 0:
 *      0x00000000 0x00: eax=0x0000000d ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65
 *
 * Three spaces, leaf as 0x%08x, subleaf as 0x%02x, registers as 0x%08x.
 * The importer of this format is lib/import_cpuidr.c.
 */
#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/requested.h"

int tdc_format_cpuid_r(const struct tdc_cpuid_table *t, unsigned cpu,
		       struct tdc_buf *out)
{
	int r;

	if ((r = tdc_buf_printf(out, "CPU %u:\n", cpu)) != 0)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];

		/* A delta's "absent" marker is not a CPUID result. */
		if (e->flags & TDC_CPUID_F_ABSENT)
			continue;
		r = tdc_buf_printf(out, "   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
				   e->leaf, e->subleaf, e->regs[TDC_EAX], e->regs[TDC_EBX],
				   e->regs[TDC_ECX], e->regs[TDC_EDX]);
		if (r != 0)
			return r;
	}
	return 0;
}
