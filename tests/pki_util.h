/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel-format collateral made with the simulator's test PKI (lib/sim.c),
 * for the quote appraisal and collateral tests and the benchmarks: a TCB
 * signing certificate issued by the sim root signs TCB info and QE
 * identity JSON built around a quote's own TCB values; the sim root and
 * PCK CA issue CRLs.  Every helper aborts on failure (a test bug).
 */
#ifndef TDC_PKI_UTIL_H
#define TDC_PKI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "collateral.h"
#include "trust.h"
#include "pck_ext.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

struct tdc_test_pki {
	struct tdc_sim_keys keys;
	EVP_PKEY *sign_key, *rogue_key;
	X509 *sign_cert, *rogue_cert;    /* TCB signing (issued by the sim root), a stranger */
	struct tdc_pck_ext pck;          /* of keys.pck_cert */
	struct tdc_buf quote;            /* a v4 sim quote (REPORTDATA 01 02 03 ...) */
	struct tdx_quote parsed;
	time_t now;
};

/* The TD QE identities tests pin (trust.h), parsed once, never freed:
 * the simulator's (tdc_sim_qe_identity_json) and Intel's (tests/data/tdx/trust). */
const struct tdc_qe_identity *tdc_test_sim_qe(void);
const struct tdc_qe_identity *tdc_test_intel_qe(void);
/* A trust object for a sim root (the simulator's QE identity). */
struct tdc_trust *tdc_test_sim_trust(X509 *root);

/* Keys from @sim_dir (written by `tdcpuid-agent sim-keygen`), or fresh ones. */
void tdc_test_pki_init(struct tdc_test_pki *p, const char *sim_dir);
void tdc_test_pki_free(struct tdc_test_pki *p);
/* A sim quote with these TD parameters (@v5: a v5 quote with a TD 1.5 body,
 * which carries TEE_TCB_SVN2). */
void tdc_test_pki_quote(const struct tdc_test_pki *p, const struct tdc_sim_params *sp, bool v5,
			struct tdc_buf *quote);

struct tdc_test_level {
	int sgx_delta, tdx_delta;        /* added to component 0 of the quote's values */
	const char *status;
	const char *advisories;          /* JSON array text or NULL */
};

/* A tdxModuleIdentities[] entry "TDX_<version>" with ISVSVN levels. */
struct tdc_test_module {
	unsigned version;                /* TEE_TCB_SVN[1] */
	struct { unsigned isvsvn; const char *status; } levels[4];
	size_t n_levels;
};

struct tdc_test_coll {
	const struct tdc_test_level *levels;
	size_t n_levels;
	const char *qe_status;           /* NULL: UpToDate */
	bool other_fmspc, rogue_signer, revoke_pck, expired;
	bool revoke_ca;                  /* the root CRL lists the PCK CA */
	bool crl_critical;               /* the PCK CRL has an unknown critical extension */
	time_t issue, next;              /* TCB info and QE identity; 0: now-1d, now+30d */
	time_t crl_next;                 /* 0: now+30d */
	const struct tdc_test_module *modules;
	size_t n_modules;
	const uint8_t *tee_tcb_svn;      /* TDX components levels are built on; NULL: quote's */
	const uint8_t *fmspc;            /* NULL: the PCK's (other_fmspc: changed) */
};

/* Intel's format {"<key>":<body>,"signature":"<hex r||s>"}; @odd: signature
 * first, whitespace everywhere (a re-serializing verifier would break). */
void tdc_test_signed_doc(struct tdc_buf *out, const char *key, const char *body,
			 EVP_PKEY *k, bool odd);
void tdc_test_tcbinfo_body(const struct tdc_test_pki *p, const struct tdc_test_coll *c,
			   struct tdc_buf *b);
void tdc_test_qeid_body(const struct tdc_test_pki *p, time_t issue, time_t next,
			const char *status, struct tdc_buf *b);
void tdc_test_crl(const struct tdc_test_pki *p, X509 *issuer, EVP_PKEY *key, X509 *revoke,
		  int age_days, time_t next, struct tdc_buf *der);
void tdc_test_pem(X509 *a, X509 *b, struct tdc_buf *out);

/* The whole set in memory, or written to @dir as Intel's files would be:
 * tcbinfo.json, qeidentity.json, tcb_signing_chain.pem, pckcrl.der,
 * pckcrl_issuer_chain.pem, rootcrl.der. */
struct tdc_collateral *tdc_test_collateral(const struct tdc_test_pki *p,
					   const struct tdc_test_coll *c);
void tdc_test_collateral_write(const struct tdc_test_pki *p, const struct tdc_test_coll *c,
			       const char *dir);

#endif
