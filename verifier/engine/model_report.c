// SPDX-License-Identifier: Apache-2.0
/*
 * The model's part of a verdict: which model judged and why (named or
 * chosen from the attested TEE_TCB_INFO, model_select.c), and what the
 * prediction could not know: the TD's own controls (TD_CTLS), with the
 * leaves whose handling depends on them listed as ambiguous, never guessed.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "model_report.h"

/* Leaves named in one detail line before "...". */
#define AMBIGUOUS_LIST_MAX 24

void tdc_engine_model_named(const struct tdc_model *m, const char *why,
			    struct tdc_check_result *res)
{
	snprintf(res->model_name, sizeof(res->model_name), "%s",
		 m ? tdc_model_name(m) : "tdx (chosen from the evidence)");
	snprintf(res->model_why, sizeof(res->model_why), "%s", why ? why : "");
}

int tdc_engine_model_choose(const struct tdc_model **model, struct tdc_model_set *set,
			    const uint8_t *mrseam, const uint8_t *svn, const uint8_t *svn2,
			    struct tdc_check_result *res)
{
	struct tdc_model_choice c;
	int r;

	if (*model || !set)
		return res->model_why[0] ?
		       tdc_check_add(&res->checks, "model", TDC_CHECK_INFO, "%s: %s", res->model_name,
				     res->model_why) : 0;
	if ((r = tdc_model_select(set, mrseam, svn, svn2, &c)) != 0)
		return r;
	*model = c.model;
	snprintf(res->model_name, sizeof(res->model_name), "%s", tdc_model_name(c.model));
	snprintf(res->model_why, sizeof(res->model_why), "--model tdx: %s", c.why);
	return tdc_check_add(&res->checks, "model", TDC_CHECK_INFO, "%s for release %s: %s",
			     res->model_name, c.release, c.why);
}

static const char *ctl_list(uint64_t bits, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned b = 1; b < 64; b++)
		if (bits >> b & 1)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
						 used ? ", " : "", tdc_model_ctl_name(b));
	return buf;
}

/* "0x2, 0x6, 0xb.0-2, ..." from the ambiguous table (sorted). */
static void leaf_list(const struct tdc_cpuid_table *t, char *buf, size_t len)
{
	size_t used = 0, shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->n && used < len; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];

		if (shown == AMBIGUOUS_LIST_MAX) {
			snprintf(buf + used, len - used, ", ... (%zu more)", t->n - i);
			return;
		}
		if (i && t->e[i - 1].leaf == e->leaf)
			continue; /* one name per leaf */
		used += (size_t)snprintf(buf + used, len - used, "%s0x%x", shown ? ", " : "", e->leaf);
		shown++;
	}
}

int tdc_engine_model_report(const struct tdc_predict_in *in, const struct tdc_prediction *pred,
			    struct tdc_check_result *res)
{
	uint64_t have = pred->model ? tdc_model_td_controls(pred->model) : 0;
	uint64_t known = have & in->td_ctls_known;
	char on[96], off[96], unknown[96], leaves[256];

	if (!have)
		return 0;
	ctl_list(known & in->td_ctls, on, sizeof(on));
	ctl_list(known & ~in->td_ctls, off, sizeof(off));
	if (!pred->ambiguous_ctls)
		return tdc_check_add(&res->checks, "td_controls", TDC_CHECK_INFO,
				     "TD_CTLS from the evidence's td_controls: on: %s; off: %s",
				     on[0] ? on : "none", off[0] ? off : "none");
	ctl_list(pred->ambiguous_ctls, unknown, sizeof(unknown));
	leaf_list(&pred->ambiguous, leaves, sizeof(leaves));
	return tdc_check_add(&res->checks, "td_controls", TDC_CHECK_INFO,
			     "TD_CTLS %s unknown (the evidence does not say what the guest set): "
			     "ambiguous, reported untrusted rather than guessed: leaves %s%s",
			     unknown, leaves[0] ? leaves : "(none listed)",
			     (pred->ambiguous_ctls & TDC_TD_CTLS_REDUCE_VE) && !pred->unlisted_zero ?
			     " and every leaf the module does not list" : "");
}
