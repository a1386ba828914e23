/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the engine: verify.c (pipeline) drives verify_bits.c (bits). */
#ifndef TDC_VERIFY_INTERNAL_H
#define TDC_VERIFY_INTERNAL_H

#include <jansson.h>

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

/*
 * The model in the verdict (verifier/engine/model_report.c): its name and
 * why it judges (named sets res->model_*; choose picks it from the attested
 * TEE_TCB_INFO when *model is NULL and adds the "model" check either way),
 * and what the prediction could not know (TD controls, ambiguous leaves).
 */
void tdc_engine_model_named(const struct tdc_model *m, const char *why,
			    struct tdc_check_result *res);
int tdc_engine_model_choose(const struct tdc_model **model, struct tdc_model_set *set,
			    const uint8_t *mrseam, const uint8_t *svn, const uint8_t *svn2,
			    struct tdc_check_result *res);
int tdc_engine_model_report(const struct tdc_predict_in *in, const struct tdc_prediction *pred,
			    struct tdc_check_result *res);

/*
 * The rtmr3 binding's checks (verify_rtmr.c): event log format, RTMR3 replay
 * against the attested @rtmr (NULL: no report), the claims event, the other
 * events.  With !@bound_rtmr3 an attached log is only parsed and reported.
 */
int tdc_engine_rtmr3(const struct tdc_envelope *env, bool bound_rtmr3,
		     const uint8_t (*rtmr)[48], struct tdc_check_result *res);

/* Recount res->counts from the verdict masks. */
void tdc_engine_count(struct tdc_check_result *res);

/* Verdict header fields (no registers) as a JSON object: shared by JSON and EAR. */
json_t *tdc_check_summary_json(const struct tdc_check_result *res);

#endif
