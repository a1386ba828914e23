// SPDX-License-Identifier: Apache-2.0
/* A conformance run through the verifier engine; interface: compare.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "conform.h"
#include "model.h"
#include "policy.h"
#include "trust.h"
#include "tdcpuid/error.h"

void tdc_conform_report_init(struct tdc_conform_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	tdc_check_result_init(&rep->res);
}

void tdc_conform_report_free(struct tdc_conform_report *rep)
{
	tdc_check_result_free(&rep->res);
	memset(rep, 0, sizeof(*rep));
}

int tdc_conform_judge_open(const char *model, const char *policy_path, bool evidence,
			   struct tdc_conform_judge *j)
{
	int r;

	memset(j, 0, sizeof(*j));
	/* "tdx": the model of the module the TD's evidence names. */
	if ((r = evidence && !strcmp(model, "tdx") ? tdc_model_set_open(&j->models) :
		 tdc_model_load(model, &j->model)) != 0 ||
	    (r = policy_path ? tdc_policy_load(policy_path, &j->policy) :
			       tdc_policy_default(&j->policy)) != 0 ||
	    (evidence && (r = tdc_trust_load(j->policy->trust_anchor, &j->trust)) != 0))
		tdc_conform_judge_close(j);
	return r;
}

void tdc_conform_judge_close(struct tdc_conform_judge *j)
{
	tdc_model_free(j->model);
	tdc_model_set_free(j->models);
	tdc_policy_free(j->policy);
	tdc_trust_free(j->trust);
	memset(j, 0, sizeof(*j));
}

int tdc_conform_compare(const struct tdc_conform_judge *j, const struct tdc_requested *req,
			const struct tdc_cpuid_table *observed, size_t ncpus,
			struct tdc_conform_report *rep)
{
	struct tdc_check_config cfg = { .requested = req, .model = j->model,
					.policy = j->policy, .model_why = "given with --model" };
	uint32_t cpus[TDC_CONFORM_MAX_SMP];
	int r;

	if (ncpus == 0 || ncpus > TDC_CONFORM_MAX_SMP)
		return tdc_err(TDC_ERR_RANGE, "%zu vCPUs to judge (1..%d)", ncpus,
			       TDC_CONFORM_MAX_SMP);
	if (!j->model)
		return tdc_err(TDC_ERR_USAGE, "model tdx judges a TD's evidence, and this run "
			       "has none");
	for (size_t i = 0; i < ncpus; i++)
		cpus[i] = i;
	if ((r = tdc_check_tables(&cfg, observed, cpus, ncpus, &rep->res)) != 0)
		return r;
	rep->pass = rep->res.passed;
	return 0;
}

int tdc_conform_compare_evidence(const struct tdc_conform_judge *j,
				 const struct tdc_requested *req, const uint8_t *ev, size_t len,
				 const uint8_t *nonce, size_t nonce_len,
				 struct tdc_conform_report *rep)
{
	struct tdc_check_config cfg = { .requested = req, .nonce = nonce, .nonce_len = nonce_len,
					.model = j->model, .models = j->models,
					.policy = j->policy, .trust = j->trust,
					.model_why = "given with --model" };
	int r;

	/* Never a per-check load: a judge without its anchor is a caller's bug. */
	if (!j->trust)
		return tdc_err(TDC_ERR_INTERNAL, "conform: evidence judged without a trust anchor");
	if ((r = tdc_check_evidence(&cfg, ev, len, &rep->res)) != 0)
		return r;
	rep->pass = rep->res.passed;
	return 0;
}

/* The engine's JSON document with the run described under "conform". */
static int format_json(const struct tdc_conform_report *rep, const char *header,
		       struct tdc_buf *out)
{
	struct tdc_buf engine;
	json_t *root = NULL;
	char *s = NULL;
	int r;

	tdc_buf_init(&engine);
	if ((r = tdc_check_format_json(&rep->res, &engine)) != 0)
		goto out;
	if (!(root = json_loadb((const char *)engine.data, engine.len, 0, NULL)) ||
	    json_object_set_new(root, "conform", json_pack("{s:s}", "run", header ? header : "")) ||
	    !(s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		r = tdc_err(TDC_ERR_ALLOC, "JSON output");
		goto out;
	}
	r = tdc_buf_printf(out, "%s\n", s);
out:
	free(s);
	json_decref(root);
	tdc_buf_free(&engine);
	return r;
}

int tdc_conform_report_format(const struct tdc_conform_report *rep,
			      enum tdc_conform_format fmt, bool verbose,
			      const char *header, struct tdc_buf *out)
{
	int r;

	if (fmt == TDC_CONFORM_JSON)
		return format_json(rep, header, out);
	if (header && (r = tdc_buf_printf(out, "%s\n", header)) != 0)
		return r;
	return tdc_check_format_text(&rep->res, verbose, out);
}
