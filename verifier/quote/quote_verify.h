/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX quote appraisal (the "verify" layer over lib/quote.c): signature
 * chain, PCK certificate extensions, optional Intel collateral (TCB info,
 * QE identity, CRLs) and TCB status.  One implementation, used by
 * `tdcpuid-verifier quote` and by the quote path of `tdcpuid-verifier check`.
 *
 * Every check is a named record (include/tdcpuid/check.h); the caller
 * decides how to print them (tdc_quote_result_json / tdc_quote_result_text).
 */
#ifndef TDC_QUOTE_VERIFY_H
#define TDC_QUOTE_VERIFY_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "coll_source.h"
#include "collateral.h"
#include "pck_ext.h"
#include "tdcpuid/check.h"
#include "tdcpuid/tdx.h"
#include "trust.h"

#define TDC_QUOTE_MAX_ADVISORIES 64
#define TDC_QUOTE_MAX_BEHIND 40

struct tdc_quote_opts {
	X509 *root;                      /* trusted root (required) */
	/* @root alone in a store (tdc_trust.store, shared by threads); NULL: one
	 * is made for each appraisal.  A store without @root fails every chain. */
	X509_STORE *store;
	/* The TD QE expected under that root (trust.h; required: NULL fails
	 * qe_report.identity, nothing authenticates the enclave then). */
	const struct tdc_qe_identity *qe_identity;
	time_t at;                       /* appraisal time */
	const uint8_t *report_data;      /* expected REPORTDATA prefix, or NULL */
	size_t report_data_len;          /* 1..64 */
	struct tdc_coll_source *source;  /* collateral by directory or URL, or: */
	struct tdc_collateral *collateral; /* NULL (and no source): signature chain only */
	struct tdc_collateral_cache *cache; /* NULL: verify everything each time */
	bool no_crl;                     /* explicit opt-out of revocation */
	bool allow_debug;                /* accept a DEBUG TD */
	unsigned accept_tcb;             /* bit per enum tdc_tcb_status; 0 = UpToDate */
	time_t min_tcb_date;             /* 0: no minimum */
};

/* A component that is below the newest TCB level. */
struct tdc_behind {
	char what[24];                   /* "sgx[3]", "pcesvn", "tdx[2]", "tdx_module_svn" */
	unsigned have, newest;
};

/* One collateral document the appraisal used, and how fresh it was. */
struct tdc_coll_fresh {
	bool used;
	time_t issued, next_update;      /* issueDate/nextUpdate; CRL thisUpdate/nextUpdate */
	enum tdc_coll_from from;         /* directory, or a URL's cache or network */
	time_t fetched_at;               /* 0: not fetched by tdcpuid (a directory) */
	uint32_t eval_number;            /* tcbEvaluationDataNumber (JSON documents), else 0 */
};

struct tdc_quote_result {
	struct tdx_quote quote;          /* borrows the caller's quote bytes */
	time_t at;                       /* the appraisal time */
	bool parsed;
	struct tdc_check_list checks;    /* every check, in the order they ran */
	bool have_pck;
	struct tdc_pck_ext pck;
	char pck_serial[80];
	bool collateral_used, crl_checked;
	char tcbinfo_name[128], qeid_name[128];  /* "" if none */
	const char *collateral_source;   /* URL or directory (the source's), or NULL */
	struct tdc_coll_fresh fresh[TDC_PCS__COUNT]; /* TCB info, QE identity, PCK CRL, root CRL */
	char collateral_note[512];       /* e.g. a failed refresh over a usable copy */
	bool tcb_matched;                /* false: "no matching TCB level" */
	enum tdc_tcb_status tcb_status;  /* combined platform, module and QE */
	enum tdc_tcb_status platform_status, module_status, qe_status;
	/* TDX 1.5: the status with TEE_TCB_SVN (the module the TD was built on)
	 * and with TEE_TCB_SVN2 (the module running now, after a TD-preserving
	 * update); tcb_status then follows Intel's relaunch rule. */
	bool relaunch_evaluated, current_matched;
	enum tdc_tcb_status launch_status, current_status;
	char tcb_date[24];
	unsigned levels_behind;          /* newer TCB levels than the matched one */
	char advisories[TDC_QUOTE_MAX_ADVISORIES][32];
	size_t n_advisories;
	struct tdc_behind behind[TDC_QUOTE_MAX_BEHIND];
	size_t n_behind;
	size_t trailing;
	bool debug_td;
	bool tcb_acceptable;
	bool all_pass;                   /* every check passed */
	unsigned long ecdsa_verifies;    /* done by this appraisal */
};

/*
 * Appraise @quote.  Returns 0 when the appraisal ran (see result->all_pass
 * and tcb_acceptable), or a negative TDC_ERR_* when the quote could not be
 * parsed (result->checks names why) or on internal errors.  @res must be
 * zeroed or hold an earlier result (its storage is reused); free it with
 * tdc_quote_result_free().
 */
int tdc_quote_appraise(const struct tdc_quote_opts *opts, const uint8_t *quote,
		       size_t len, struct tdc_quote_result *res);
void tdc_quote_result_free(struct tdc_quote_result *res);

/* Exit code per the CLI convention: 0 pass, 1 policy/appraisal failure. */
int tdc_quote_exit_code(const struct tdc_quote_result *res);

/* Every field and check as a JSON object (new reference). */
json_t *tdc_quote_result_json(const struct tdc_quote_result *res);
void tdc_quote_result_text(const struct tdc_quote_result *res, FILE *out);
/* The collateral documents used and their age, as a JSON array (verdicts). */
json_t *tdc_quote_freshness_json(const struct tdc_quote_result *res);

/* "UpToDate,SWHardeningNeeded" -> bit mask for tdc_quote_opts.accept_tcb. */
int tdc_quote_parse_accept(const char *list, unsigned *mask);
/* The Intel SGX/TDX root, relative to the data directory (tdcpuid/datadir.h). */

#endif
