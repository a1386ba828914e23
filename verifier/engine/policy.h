/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenant policy: which evidence the verifier accepts (docs/policy.md).
 *
 * The policy is data (JSON files in policies/), parsed strictly: unknown keys
 * are rejected with the key named, every value is type- and range-checked,
 * and a key that is absent takes the value of the built-in default policy
 * (identical to policies/default.json).  This file parses the policy and
 * offers small evaluation helpers; verifier/engine/verify.c applies it.
 */
#ifndef TDC_VERIFIER_POLICY_H
#define TDC_VERIFIER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/verdict.h"
#include "tcb.h"

#define TDC_POLICY_FILE_MAX (256u * 1024)
#define TDC_POLICY_MAX_BITS 1024      /* required_bits, forbidden_bits */
#define TDC_POLICY_MAX_LEAVES 256     /* untrusted_leaves */
#define TDC_POLICY_MAX_MEASUREMENTS 256 /* per allow-list */
#define TDC_POLICY_MAX_AGE_S (366u * 86400)
#define TDC_POLICY_MR_LEN 48
#define TDC_POLICY_SVN_LEN 16

/* A bit named by the policy ("avx2", "CPUID.07H.0:EBX[5]"). */
struct tdc_policy_bit {
	uint32_t leaf;
	uint32_t subleaf;
	enum tdc_reg reg;
	unsigned bit;
	char spec[64]; /* as written, for messages */
};

struct tdc_policy_leafrange {
	uint32_t first, last;
};

/* An allow-list of 48-byte measurements; empty = any value accepted. */
struct tdc_policy_mrlist {
	uint8_t (*mr)[TDC_POLICY_MR_LEN];
	size_t n;
};

struct tdc_policy {
	unsigned version;
	char name[64];

	/* CPUID */
	struct tdc_policy_bit *required;   /* must be 1 in the guest's view */
	size_t nrequired;
	struct tdc_policy_bit *forbidden;  /* must be 0 in the guest's view */
	size_t nforbidden;
	uint32_t fail_on;                  /* bit (1 << enum tdc_verdict): these verdicts fail */
	struct tdc_policy_leafrange *untrusted_leaves; /* `untrusted` fails only here */
	size_t nuntrusted_leaves;

	/* Evidence kind */
	bool allow_simulated;
	bool allow_debug;
	bool require_quote;  /* a TDREPORT alone is not authenticated off-platform */
	/* Fail closed: a check that could not run fails unless its key is off. */
	bool require_nonce;  /* no expected nonce: freshness not proven */
	bool require_tcb;    /* no collateral: TCB status (accept_tcb) not evaluated */

	/* TD (TDINFO / quote body) */
	uint64_t attributes_allowed, attributes_required;
	uint64_t xfam_allowed, xfam_required;
	uint8_t min_tee_tcb_svn[TDC_POLICY_SVN_LEN]; /* componentwise minimum */
	struct tdc_policy_mrlist mrtd, rtmr[4], mrconfigid;

	/* Quote and freshness */
	char *trust_anchor;     /* resolved path, or NULL when the policy names none */
	uint32_t accept_tcb;    /* bit (1 << enum tdc_tcb_status) */
	uint64_t nonce_max_age; /* seconds */
};

/*
 * Parse a policy document.  @what names it in errors; relative paths in it
 * (trust_anchor) are resolved against @base_dir (NULL: kept as written).
 */
int tdc_policy_parse(const uint8_t *data, size_t len, const char *what,
		     const char *base_dir, struct tdc_policy **out);
/* Read and parse @path; relative paths resolve against its directory. */
int tdc_policy_load(const char *path, struct tdc_policy **out);
/* The built-in default (the text of policies/default.json, compiled in). */
int tdc_policy_default(struct tdc_policy **out);
const char *tdc_policy_default_json(void);
void tdc_policy_free(struct tdc_policy *p);

const struct tdc_policy_bit *tdc_policy_required(const struct tdc_policy *p, size_t *n);
const struct tdc_policy_bit *tdc_policy_forbidden(const struct tdc_policy *p, size_t *n);

/* Does verdict @v on a bit of @leaf fail the policy? */
bool tdc_policy_verdict_fails(const struct tdc_policy *p, enum tdc_verdict v, uint32_t leaf);

/*
 * Check the attested TD fields.  Returns 0, or TDC_ERR_POLICY with one line
 * per violated rule appended to @why (if non-NULL) and the first one as the
 * error detail.  @mrconfigid / @rtmr / @mrtd may be NULL only when the
 * corresponding allow-list is empty.
 */
int tdc_policy_check_td(const struct tdc_policy *p, uint64_t attributes, uint64_t xfam,
			const uint8_t tee_tcb_svn[16], const uint8_t mrtd[48],
			const uint8_t rtmr[4][48], const uint8_t mrconfigid[48],
			struct tdc_buf *why);
/* Evidence kind: simulated TEE? authenticated by a quote, or TDREPORT only? */
int tdc_policy_check_evidence(const struct tdc_policy *p, bool simulated, bool has_quote,
			      struct tdc_buf *why);
/* Quote TCB status string from the collateral ("UpToDate", ...). */
int tdc_policy_check_tcb(const struct tdc_policy *p, const char *status, struct tdc_buf *why);

#endif
