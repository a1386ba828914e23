// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the strict claims decoder.  Whatever it accepts must
 * re-encode to exactly the same bytes (the decoder admits one spelling
 * only) and must give a per-CPU table for every probed CPU.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/evidence.h"

static void check(const uint8_t *data, size_t size)
{
	struct tdc_claims c;
	struct tdc_buf b;

	if (tdc_claims_decode(data, size, &c) != 0)
		return;
	tdc_buf_init(&b);
	if (tdc_claims_encode(&c, &b) != 0 || b.len != size || memcmp(b.data, data, size))
		abort(); /* accepted input that is not canonical */
	for (size_t i = 0; i < c.ncpus; i++) {
		struct tdc_cpuid_table t;

		if (tdc_claims_cpu_table(&c, c.cpus[i].cpu, &t) != 0)
			abort();
		tdc_cpuid_table_free(&t);
	}
	tdc_buf_free(&b);
	tdc_claims_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	return 0;
}
