// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the `cpuid -r` importer (lib/import_cpuidr.c).  What it
 * accepts must print back in the same format (lib/cpuid_r_format.c) and
 * import again to the same tables: the two are each other's inverse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/requested.h"

static void free_cpus(struct tdc_cpuid_table *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tdc_cpuid_table_free(&c[i]);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_cpuid_table *a, *b;
	size_t na, nb;
	struct tdc_buf out;

	if (tdc_import_cpuid_r(data, size, "fuzz", &a, &na) != 0)
		return 0;
	tdc_buf_init(&out);
	for (size_t i = 0; i < na; i++)
		if (tdc_format_cpuid_r(&a[i], (unsigned)i, &out) != 0)
			abort();
	if (tdc_import_cpuid_r(out.data, out.len, "fuzz-again", &b, &nb) != 0 || nb != na)
		abort();
	for (size_t i = 0; i < na; i++)
		if (a[i].n != b[i].n || memcmp(a[i].e, b[i].e, a[i].n * sizeof(*a[i].e)))
			abort();
	free_cpus(a, na);
	free_cpus(b, nb);
	tdc_buf_free(&out);
	return 0;
}
