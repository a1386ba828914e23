// SPDX-License-Identifier: MIT
/* libFuzzer harness: the "qmp" requested-configuration importer (and, via
 * "auto", content detection in front of it). */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/requested.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_requested r;
	/* First byte picks forced format or detection, so both paths get fuzzed. */
	const char *fmt = size && (data[0] & 1) ? "auto" : "qmp";

	if (tdc_requested_parse(data, size, fmt, "fuzz", &r) != 0)
		return 0;
	/* Touch what callers read, so ASan sees any inconsistency. */
	for (size_t i = 0; i < r.table.n; i++)
		(void)tdc_cpuid_table_find(&r.known, r.table.e[i].leaf, r.table.e[i].subleaf);
	for (size_t c = 0; c < r.ncpus; c++)
		for (size_t i = 0; i < r.per_cpu[c].n; i++)
			(void)r.per_cpu[c].e[i].regs[3];
	tdc_requested_free(&r);
	return 0;
}
