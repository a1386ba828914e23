/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TDC_MODEL_REPORT_H
#define TDC_MODEL_REPORT_H

#include "engine.h"
#include "model.h"

/*
 * The model in the verdict (model_report.c, private to the engine): its
 * name and why it judges (named sets res->model_*; choose picks it from the attested
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

#endif
