/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requested vs guest-observed CPUID of a conformance run, judged by the
 * verifier engine (verifier/engine/engine.h, tdc_check_tables) under a platform
 * model (`kvm`: the guest must see what KVM_SET_CPUID2 / QEMU set, apart
 * from the model's dynamic fields, policies/models/kvm.json) and a policy
 * (default: policies/default.json, which fails on any mismatch).
 *
 * This is the narrow interface the conformance tool uses, so the backends
 * never depend on engine details.
 */
#ifndef TDC_CONFORM_COMPARE_H
#define TDC_CONFORM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/requested.h"

struct tdc_model;
struct tdc_model_set;
struct tdc_policy;

struct tdc_conform_report {
	struct tdc_check_result res;
	struct tdc_model *model;
	struct tdc_model_set *models;   /* --model tdx (evidence) */
	struct tdc_policy *policy;
	bool pass;
};

void tdc_conform_report_init(struct tdc_conform_report *rep);
void tdc_conform_report_free(struct tdc_conform_report *rep);

/*
 * Judge @observed[0..ncpus) (vCPU i = observed[i]) against @req under
 * @model (name or path) and @policy_path (NULL: the engine's default).
 */
int tdc_conform_compare(const struct tdc_requested *req,
			const struct tdc_cpuid_table *observed, size_t ncpus,
			const char *model, const char *policy_path,
			struct tdc_conform_report *rep);

/*
 * Judge an evidence envelope the guest produced (linux --tdx) against @req
 * under @model, with the run's @nonce: the full `check` pipeline (binding,
 * report, quote, CPUID bits).
 */
int tdc_conform_compare_evidence(const struct tdc_requested *req, const uint8_t *ev,
				 size_t len, const uint8_t *nonce, size_t nonce_len,
				 const char *model, const char *policy_path,
				 struct tdc_conform_report *rep);

enum tdc_conform_format { TDC_CONFORM_TEXT, TDC_CONFORM_JSON };
/*
 * The engine's outputs, as `tdcpuid-verifier check` prints them: text
 * (QEMU-style lines for notable bits, summary, result) after the @header
 * line, or JSON (docs/verdict-json.md) with @header as "conform.run".
 */
int tdc_conform_report_format(const struct tdc_conform_report *rep,
			      enum tdc_conform_format fmt, bool verbose,
			      const char *header, struct tdc_buf *out);

#endif
