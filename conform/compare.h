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
struct tdc_trust;

/*
 * What a run is judged with, loaded once per process before any guest
 * runs, so a bad model, policy or trust anchor stops the run before it
 * starts: the model (a name or path; "tdx" only for evidence: chosen from
 * the attested module), the policy (--policy, else the built-in default)
 * and, when evidence will be judged, the trust anchor with its TD QE
 * identity, loaded by tdc_trust_load as the verifier loads it (self-signed
 * root, identity beside it) and shared, never written, by every check.
 */
struct tdc_conform_judge {
	struct tdc_model *model;
	struct tdc_model_set *models;   /* --model tdx (evidence) */
	struct tdc_policy *policy;
	struct tdc_trust *trust;        /* evidence only, else NULL */
};

int tdc_conform_judge_open(const char *model, const char *policy_path, bool evidence,
			   struct tdc_conform_judge *j);
void tdc_conform_judge_close(struct tdc_conform_judge *j);

struct tdc_conform_report {
	struct tdc_check_result res;
	bool pass;
};

void tdc_conform_report_init(struct tdc_conform_report *rep);
void tdc_conform_report_free(struct tdc_conform_report *rep);

/* Judge @observed[0..ncpus) (vCPU i = observed[i]) against @req with @j. */
int tdc_conform_compare(const struct tdc_conform_judge *j, const struct tdc_requested *req,
			const struct tdc_cpuid_table *observed, size_t ncpus,
			struct tdc_conform_report *rep);

/*
 * Judge an evidence envelope the guest produced (linux --tdx) against @req
 * with @j (opened for evidence) and the run's @nonce: the full `check`
 * pipeline (binding, report, quote, CPUID bits).
 */
int tdc_conform_compare_evidence(const struct tdc_conform_judge *j,
				 const struct tdc_requested *req, const uint8_t *ev, size_t len,
				 const uint8_t *nonce, size_t nonce_len,
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
