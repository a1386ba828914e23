/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-bit engine (verify_bits.c): private to the engine.  verify.c (the
 * pipeline) calls it; it calls nothing of verify.c.
 */
#ifndef TDC_VERIFY_BITS_H
#define TDC_VERIFY_BITS_H

#include "engine.h"
#include "model.h"

/* Verdicts for every register of @guest (the common table), cpu = -1. */
int tdc_engine_table(const struct tdc_requested *req, const struct tdc_prediction *pred,
		     const struct tdc_cpuid_table *guest, struct tdc_check_result *res);
/* Verdicts for the registers where vCPU @cpu differs from @common. */
int tdc_engine_cpu_delta(const struct tdc_prediction *pred, const struct tdc_requested *req,
			 const struct tdc_cpuid_table *common, const struct tdc_cpuid_table *delta,
			 uint32_t cpu, struct tdc_check_result *res);
/* Without -mpopcnt __builtin_popcount is a libgcc call; this is a few ALU ops. */
static inline unsigned tdc_popcount32(uint32_t x)
{
	x = x - ((x >> 1) & 0x55555555u);
	x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
	return (((x + (x >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

/* Recount res->counts from the verdict masks. */
void tdc_engine_count(struct tdc_check_result *res);

#endif
