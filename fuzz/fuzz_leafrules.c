// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the leaf-rule enumeration (lib/leafrules.c) against a
 * hostile CPUID (in a TD the hypervisor range, and under a malicious VMM any
 * #VE-emulated leaf, is attacker data).  Each CPUID execution consumes the
 * next 16 input bytes as EAX..EDX (zeros when the input runs out).  The
 * enumeration must end, stay within its caps, and either fail with
 * TDC_ERR_TOO_LARGE or return a sorted table with one entry per execution.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

struct feed {
	const uint8_t *data;
	size_t size, off;
	unsigned long calls;
};

static int fake(void *ctx, uint32_t leaf, uint32_t sub, uint32_t regs[TDC_NREGS])
{
	struct feed *f = ctx;

	(void)leaf;
	(void)sub;
	memset(regs, 0, TDC_NREGS * sizeof(*regs));
	if (f->size - f->off >= 16) {
		memcpy(regs, f->data + f->off, 16);
		f->off += 16;
	}
	f->calls++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f = { .data = data, .size = size };
	struct tdc_cpuid_table t;
	unsigned long count = 0;
	int r;

	tdc_cpuid_table_init(&t);
	r = tdc_cpuid_enumerate(fake, &f, &t, &count);
	if (count != f.calls || count > 6 * 0x100 * 64)
		abort();
	if (r != 0 && r != TDC_ERR_TOO_LARGE)
		abort();
	if (r == 0) {
		if (t.n != count)
			abort();
		for (size_t i = 1; i < t.n; i++)
			if (t.e[i - 1].leaf > t.e[i].leaf ||
			    (t.e[i - 1].leaf == t.e[i].leaf && t.e[i - 1].subleaf >= t.e[i].subleaf))
				abort();
	}
	tdc_cpuid_table_free(&t);
	return 0;
}
