/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier engine (verifier/engine/verify.c): evidence or guest-observed CPUID
 * + requested configuration + platform model + policy -> per-bit verdicts
 * and a list of named checks.  One implementation serves `check`, `serve`,
 * `ingest` and `tdcpuid-conform`.
 *
 * Per bit exactly one verdict (include/tdcpuid/verdict.h, DESIGN.md):
 *   1. The model predicts the value the guest must see where it can (TDX:
 *      from the platform's native CPUID, CPUID_CONFIG, XFAM, ATTRIBUTES;
 *      kvm: the requested value).  A seen bit that differs from a known
 *      prediction is a mismatch, whatever its class.
 *   2. dynamic and #VE classes keep their own verdict (dynamic, untrusted).
 *   3. Where the host's request is known: seen == requested -> confirmed;
 *      requested 0 / seen 1 -> forced; requested 1 / seen 0 -> unsupported
 *      (both explained by the model, as QEMU's "TDX forcibly sets" / "TDX
 *      doesn't support requested feature").
 *   4. Otherwise the class decides: native, calculated, ...
 * Results are kept per register as bit masks (one mask per verdict), so a
 * full check costs a few thousand word operations, not per-bit records.
 */
#ifndef TDC_ENGINE_H
#define TDC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/types.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/check.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/verdict.h"
#include "tcb.h"
#include "trust.h"

struct tdc_model;
struct tdc_model_set;
struct tdc_policy;
struct tdc_collateral;
struct tdc_collateral_cache;
struct tdc_coll_source;
struct tdc_predict_memo;


/* One register of one (leaf, subleaf): every bit is in exactly one verdict mask. */
struct tdc_reg_result {
	uint32_t leaf;
	uint32_t subleaf;
	uint8_t reg;            /* enum tdc_reg */
	bool indexed;
	bool guest_has;         /* the guest reported this leaf */
	bool requested_has;     /* the request listed this leaf */
	uint32_t seen;          /* guest value (0 if absent) */
	uint32_t requested;     /* requested value */
	uint32_t req_known;     /* bits the request specified */
	uint32_t expected;      /* model prediction */
	uint32_t exp_known;     /* bits the model could predict */
	uint32_t cls[TDC_C__COUNT];     /* model class of each bit (partition) */
	uint32_t verdict[TDC_V__COUNT]; /* verdict of each bit (partition) */
	uint32_t policy_fail;   /* bits the policy turns into a failure */
	const char *source;     /* model rule/source for this register (borrowed) */
	int32_t cpu;            /* -1: all CPUs (common table); else the CPU that differs */
};

/* One Intel collateral document behind the TCB status, and its age. */
struct tdc_check_coll_doc {
	const char *document;           /* "tcb_info", "qe_identity", "pck_crl", "root_crl" */
	time_t issued, next_update;     /* issueDate/nextUpdate, CRL thisUpdate/nextUpdate */
	time_t fetched_at;              /* 0: a directory (not fetched by tdcpuid) */
	const char *from;               /* "directory", "cache", "network" */
	uint32_t eval_number;           /* tcbEvaluationDataNumber, 0 for CRLs */
};
#define TDC_CHECK_COLL_DOCS 4

struct tdc_check_result {
	struct tdc_reg_result *regs;
	size_t nregs, capregs;
	struct tdc_check_list checks;   /* named non-CPUID checks (tdcpuid/check.h) */
	size_t counts[TDC_V__COUNT];    /* bits per verdict */
	size_t policy_failures;         /* bits/checks the policy turned into failure */
	bool passed;                    /* overall verdict under the policy */
	bool malformed;                 /* evidence did not parse: bad input, not a policy verdict */
	/* Context for outputs. */
	char model_name[64];
	char model_why[384];            /* how the model was chosen (--model tdx: from the evidence) */
	char policy_name[128];
	enum tdc_tee tee;
	enum tdc_binding binding;       /* how the claims were bound */
	bool authenticated;             /* off-platform trust: a verified quote */
	bool have_quote;                /* a quote was parsed and appraised */
	bool tcb_evaluated;             /* collateral gave the quote a TCB status: */
	enum tdc_tcb_status tcb_status; /*   combined platform, TDX module and QE */
	bool identity_pinned;           /* MRCONFIGID expected, or MRTD/MRCONFIGID allow-listed */
	bool have_report;
	uint64_t attributes, xfam;      /* attested (report/quote), if have_report */
	uint8_t nonce[TDC_CLAIMS_NONCE_MAX];
	size_t nonce_len;
	uint8_t evidence_sha256[32];
	size_t ncpus;
	char vm_name[TDC_CLAIMS_STR_MAX];
	time_t at;
	/* The collateral's freshness: part of the verdict and the EAR. */
	bool collateral_used;
	char collateral_source[256];
	struct tdc_check_coll_doc collateral[TDC_CHECK_COLL_DOCS];
	size_t ncollateral;
	char collateral_note[256];
};

void tdc_check_result_init(struct tdc_check_result *res);
void tdc_check_result_free(struct tdc_check_result *res);

struct tdc_check_config {
	const struct tdc_requested *requested; /* required */
	const struct tdc_model *model;         /* required, unless @models: */
	struct tdc_model_set *models;          /* --model tdx: chosen from the attested TEE_TCB_INFO */
	const char *model_why;                 /* how @model was chosen ("--model", "registry"), or NULL */
	const struct tdc_policy *policy;       /* NULL: built-in default policy */
	const struct tdc_cpuid_table *platform;/* host native CPUID, optional */
	/* The trust anchor and its TD QE identity, loaded once by the caller
	 * (trust.h; shared, never written), or NULL: loaded for this check from */
	const struct tdc_trust *trust;
	const char *trust_root;                /* this absolute PEM path (NULL: the policy's,
						* else the data directory's Intel root) */
	struct tdc_collateral *collateral;     /* Intel collateral for TCB status, optional */
	struct tdc_coll_source *collateral_source; /* or its source: directory or PCS/PCCS URL */
	struct tdc_collateral_cache *collateral_cache; /* verified collateral (service), optional */
	const char *sim_dir;                   /* sim keys: checks the sim TDREPORT MAC */
	const uint8_t *sim_mac_key;            /* or that key preloaded (32 bytes; service) */
	const uint8_t *expect_mrconfigid;      /* 48 bytes the TD's MRCONFIGID must be (registry) */
	/* The VM the claims must name (the registry entry reached by name), NULL:
	 * not checked; @vm_name_optional: claims without a name are accepted. */
	const char *expect_vm_name;
	bool vm_name_optional;
	/* binding rtmr3: the REPORTDATA the caller asked for (1..64 bytes, zero-padded) */
	const uint8_t *expect_report_data;
	size_t expect_report_data_len;
	time_t at;                             /* verification time, 0 = now */
	const uint8_t *nonce;                  /* expected nonce, NULL = not checked (reported) */
	size_t nonce_len;
	time_t nonce_issued;                   /* for max age, 0 = unknown */
	/*
	 * Optional: model predictions remembered across checks (the service:
	 * one per VM entry).  Valid only while requested/model/platform stay
	 * the same objects with the same contents.
	 */
	struct tdc_predict_memo *predict_memo;
};

/*
 * A thread-safe memo of model predictions keyed by the TD parameters the
 * evidence attests (XFAM, ATTRIBUTES): a check of the same VM then skips
 * the model run.  At most TDC_PREDICT_MEMO_MAX entries, never evicted, so
 * readers need no reference counts; beyond that, checks predict privately.
 */
#define TDC_PREDICT_MEMO_MAX 16
int tdc_predict_memo_new(struct tdc_predict_memo **out);
void tdc_predict_memo_free(struct tdc_predict_memo *m);

/*
 * Check an evidence envelope (untrusted bytes, at most TDC_EVIDENCE_MAX).
 * Returns 0 when the check *ran* (res->passed says pass/fail); a negative
 * code only for bad usage or internal errors.  Malformed evidence is a
 * failed check, with the parser's detail in res->checks.
 */
int tdc_check_evidence(const struct tdc_check_config *cfg, const uint8_t *ev, size_t len,
		       struct tdc_check_result *res);

/*
 * Check guest-observed tables (conformance runs: one table per vCPU, no
 * hardware report).  @cpus[i] is the vCPU number of @tables[i].
 */
int tdc_check_tables(const struct tdc_check_config *cfg,
		     const struct tdc_cpuid_table *tables, const uint32_t *cpus,
		     size_t n, struct tdc_check_result *res);

/* Outputs (verifier/engine/output.c, verifier/engine/ear.c). */
enum tdc_out_format { TDC_OUT_TEXT, TDC_OUT_JSON, TDC_OUT_EAR };
int tdc_out_format_parse(const char *s, enum tdc_out_format *f);
/* Text: QEMU-style lines for notable bits + checks + summary. */
int tdc_check_format_text(const struct tdc_check_result *res, bool verbose,
			  struct tdc_buf *out);
/* JSON: every bit (schema in docs/verdict-json.md). */
int tdc_check_format_json(const struct tdc_check_result *res, struct tdc_buf *out);
/*
 * EAR (IETF RATS EAT Attestation Result) as JSON claims; with @sign_key_pem
 * a compact JWS (ES256) over them.
 */
int tdc_check_format_ear(const struct tdc_check_result *res, const char *sign_key_pem,
			 struct tdc_buf *out);
int tdc_check_format(const struct tdc_check_result *res, enum tdc_out_format f,
		     const char *sign_key_pem, struct tdc_buf *out);

/* "CPUID.07H.0:EBX.avx2 [bit 5]: requested 1, guest sees 0, model says configurable" */
const char *tdc_bit_describe(const struct tdc_reg_result *rr, unsigned bit,
			     char *buf, size_t len);

#endif
