/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared body of the requested-configuration importer harnesses: one
 * libFuzzer binary per format, each also fuzzing content detection ("auto").
 */
#ifndef TDC_FUZZ_IMPORT_H
#define TDC_FUZZ_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/requested.h"

static inline int fuzz_import(const uint8_t *data, size_t size, const char *format)
{
	struct tdc_requested r;
	/* First byte picks forced format or detection, so both paths get fuzzed. */
	const char *fmt = size && (data[0] & 1) ? "auto" : format;

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

#endif
