/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel DCAP collateral for TDX quote appraisal: TCB Info v3 (id "TDX"),
 * TD_QE enclave identity v2, DER CRLs and PEM issuer chains, in the formats
 * Intel's Provisioning Certification Service returns.
 *
 * Documents are loaded raw; each one is parsed, its ECDSA signature (over
 * the exact bytes of the signed JSON object as they appear in the file) and
 * its issuer chain to the trusted root verified once, and the verified
 * result cached under SHA-256(document || root) so a long-running verifier
 * does that work once per document.  Only successes are cached; validity
 * times (issueDate/nextUpdate, thisUpdate/nextUpdate, certificate windows)
 * are checked at every use against the appraisal time.
 */
#ifndef TDC_COLLATERAL_H
#define TDC_COLLATERAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cli.h" /* tdc_time_parse(): collateral times, accept 0 */
#include "tdcpuid/check.h"
#include "pck_ext.h"
#include "tcb.h"

#define TDC_COLL_MAX_FILES 64
#define TDC_COLL_FILE_MAX (1u << 20)   /* Intel TCB info is ~10 KB */
#define TDC_TCB_COMPONENTS 16
#define TDC_TCB_MAX_LEVELS 256
#define TDC_TCB_MAX_MODULES 32

/* One tcbLevels[] entry.  Strings borrow from the owning document. */
struct tdc_tcb_level {
	uint8_t sgx[TDC_TCB_COMPONENTS];
	uint16_t pcesvn;
	uint8_t tdx[TDC_TCB_COMPONENTS];
	uint16_t isvsvn;            /* QE identity / TDX module identity levels */
	time_t tcb_date;
	const char *tcb_date_str;
	enum tdc_tcb_status status;
	const char **advisories;    /* advisoryIDs (borrowed), n_advisories of them */
	size_t n_advisories;
};

struct tdc_tdx_module_identity {
	const char *id;             /* "TDX_01" */
	uint8_t mrsigner[48];
	uint8_t attributes[8], attributes_mask[8];
	struct tdc_tcb_level *levels;
	size_t n_levels;
};

struct tdc_tcbinfo {
	char *text;                 /* the document as read: owns every borrowed string */
	const char **advisory_ids;  /* owns every level's advisories */
	int version;
	uint32_t tcb_type, eval_number;
	time_t issue_date, next_update;
	const char *issue_date_str, *next_update_str;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint8_t module_mrsigner[48];
	uint8_t module_attributes[8], module_attributes_mask[8];
	struct tdc_tdx_module_identity *modules;
	size_t n_modules;
	struct tdc_tcb_level *levels; /* newest first, as Intel orders them */
	size_t n_levels;
};

struct tdc_qe_identity {
	char *text;
	const char **advisory_ids;
	int version;
	uint32_t eval_number;
	time_t issue_date, next_update;
	const char *issue_date_str, *next_update_str;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	struct tdc_tcb_level *levels;
	size_t n_levels;
};

/* Parse the *body* object text of a TCB info / QE identity (no signature). */
int tdc_tcbinfo_parse(const char *json, size_t len, struct tdc_tcbinfo *out);
void tdc_tcbinfo_free(struct tdc_tcbinfo *t);
int tdc_qe_identity_parse(const char *json, size_t len, struct tdc_qe_identity *out);
void tdc_qe_identity_free(struct tdc_qe_identity *q);

/*
 * Split an Intel signed document {"<key>": {...}, "signature": "<hex r||s>"}:
 * @body and @body_len point at the raw text of the <key> object inside @doc
 * (what Intel signed, byte for byte) and @sig receives r||s.
 */
int tdc_signed_json_split(const char *doc, size_t len, const char *key,
			  const char **body, size_t *body_len, uint8_t sig[64]);

/*
 * The FMSPC of a signed TCB info document, read from its text without
 * parsing it: the envelope's "tcbInfo" object, its "fmspc" member, a
 * string of exactly 12 hex digits, all at the place the JSON reader (jread.h,
 * as jansson) would find them on a well-formed document.  False when the
 * text does not say it plainly (an escaped key, another shape, truncated
 * before it): the document is then parsed as any other.  Only used to pass
 * over a document for another platform unparsed; a document that is used is
 * parsed in full and its parsed FMSPC is what is compared.
 */
bool tdc_tcbinfo_peek_fmspc(const uint8_t *data, size_t len, uint8_t fmspc[6]);

/* ---- documents and cache ----------------------------------------------- */

enum tdc_doc_kind { TDC_DOC_TCBINFO, TDC_DOC_QEID, TDC_DOC_CRL, TDC_DOC_CERTS,
		   TDC_DOC_ATTKEY /* cache only: an imported attestation key */ };

struct tdc_coll_doc {
	char name[128];
	enum tdc_doc_kind kind;
	uint8_t *data;
	size_t len;
	uint8_t sha256[32];         /* of data: the cache key's first half */
};

struct tdc_collateral {
	struct tdc_coll_doc docs[TDC_COLL_MAX_FILES];
	size_t n_docs;
	STACK_OF(X509) *certs;      /* every certificate of every PEM file */
	uint8_t (*cert_sha)[32];    /* tdc_cert_sha256 of each, in the same order */
	size_t cert_sha_cap;
};

int tdc_collateral_new(struct tdc_collateral **out);
/* Classify and keep a copy of one document (content decides the kind). */
int tdc_collateral_add(struct tdc_collateral *c, const char *name,
		       const uint8_t *data, size_t len);
struct tdc_doc_info;
/*
 * A document whose kind is known because it verified as one (@data the
 * bytes tdc_collateral_verify_doc described in @info): not classified
 * again, nor a DER CRL decoded again.  A wrong @info only makes the
 * appraisal fail: it parses and verifies every document it uses.
 */
int tdc_collateral_add_verified(struct tdc_collateral *c, const char *name,
				const struct tdc_doc_info *info, const uint8_t *data, size_t len);
/* Certificates already decoded (an issuer chain), shared: each up-ref'd. */
int tdc_collateral_add_certs(struct tdc_collateral *c, STACK_OF(X509) *certs);
/*
 * The certificate of @c whose DER has SHA-256 @sha, up-ref'd, or NULL: a
 * quote's PCK intermediate is usually also in the collateral (the PCK CRL's
 * issuer chain), so an appraisal can use the X509 decoded when the
 * collateral was loaded instead of decoding the same bytes again.  Only the
 * decoding is shared: the appraisal verifies the chain as always.
 */
X509 *tdc_collateral_cert_by_sha(const struct tdc_collateral *c, const uint8_t sha[32]);
/* Every regular file of @dir (not recursive, dotfiles skipped). */
int tdc_collateral_load_dir(const char *dir, struct tdc_collateral **out);
void tdc_collateral_free(struct tdc_collateral *c);

/* A CRL in DER, PEM or hex text, appended to @der as DER. */
int tdc_crl_to_der(const uint8_t *data, size_t len, struct tdc_buf *der);

/* What one document says about itself (no trust implied). */
struct tdc_doc_info {
	enum tdc_doc_kind kind;         /* TCBINFO, QEID or CRL */
	time_t issue, next;             /* issueDate/nextUpdate, CRL thisUpdate/nextUpdate */
	bool has_fmspc;
	uint8_t fmspc[6];               /* TCB info */
	uint32_t eval_number;           /* tcbEvaluationDataNumber (JSON documents) */
	char id[16];                    /* "TDX", "TD_QE" */
	char signer[128];               /* CN of the signing certificate / CRL issuer */
	bool der;                       /* a CRL that came as DER */
};
/* Classify and parse one document (TCB info, QE identity or CRL). */
int tdc_collateral_doc_info(const uint8_t *data, size_t len, struct tdc_doc_info *info);
/*
 * Verify one document on its own, as fetched with its issuer chain: a TCB
 * info / QE identity must be signed by an end-entity certificate of
 * @chain that @root issued; a CRL by @root itself or by a CA of @chain
 * that @root issued.  Times are not checked (see tdc_collateral_select).
 */
int tdc_collateral_verify_doc(const uint8_t *data, size_t len, STACK_OF(X509) *chain,
			      X509 *root, struct tdc_doc_info *info);

struct tdc_cache_entry {
	uint8_t key[32];
	enum tdc_doc_kind kind;
	void *obj;                  /* tdc_tcbinfo, tdc_qe_identity or tdc_crl (crl.h) */
	X509 *signer;               /* signing certificate (up-ref'd) */
	struct tdc_window signer_window; /* signer cert, or a CRL's update window */
	bool verified;              /* false: parsed only (FMSPC/id lookup) */
	uint8_t sig[64];            /* signed JSON: its signature, and where the */
	size_t body_off, body_len;  /* signed member lies in the document bytes */
	uint64_t used;              /* attestation keys: last use (LRU) */
};

/* Entries are never evicted (appraisals hold pointers into them); a full
 * cache is left alone and appraisals fall back to a private one.  The one
 * exception are attestation keys (TDC_DOC_ATTKEY): an appraisal holds its
 * own reference to the EVP_PKEY, so they live in their own LRU of at most
 * TDC_CACHE_MAX_KEYS and never count against the cap, and only keys a
 * verified QE report certified get in: a flood of quotes with keys of
 * their own changes nothing for anybody else. */
#define TDC_CACHE_MAX_ENTRIES 16384
#define TDC_CACHE_MAX_KEYS 1024

struct tdc_collateral_cache {
	pthread_mutex_t lock;
	struct tdc_cache_entry **e; /* each entry its own allocation */
	size_t n, cap;
	size_t nkeys;               /* TDC_DOC_ATTKEY entries among the n */
	uint64_t tick;              /* LRU clock */
	unsigned long hits, misses;
	X509 *root;                 /* last trust anchor seen, and its hash */
	uint8_t root_sha[32];
};

int tdc_collateral_cache_new(struct tdc_collateral_cache **out);
/* Room for the entries one more appraisal may add? */
bool tdc_collateral_cache_has_room(struct tdc_collateral_cache *c);
/* Key: SHA-256(@doc_sha || @anchor_sha), the anchor being the certificate the
 * document was verified against (its tdc_cert_sha256). */
void tdc_cache_key(const uint8_t doc_sha[32], const uint8_t anchor_sha[32], uint8_t key[32]);
/*
 * Lookup (entries stay valid until the cache is freed) and insert a copy.
 * An entry matches only with the same @kind: the key is a hash of bytes an
 * attacker may choose (a quote's certificate data can be any document), so
 * a chain lookup must never return, say, a verified CRL.
 */
struct tdc_cache_entry *tdc_cache_find(struct tdc_collateral_cache *c,
				       const uint8_t key[32], enum tdc_doc_kind kind);
int tdc_cache_put(struct tdc_collateral_cache *c, const struct tdc_cache_entry *in,
		  struct tdc_cache_entry **out);

/*
 * Attestation keys, under SHA-256 of their 64 bytes: get returns a new
 * reference (free it) or NULL; put takes one of its own (call it only for
 * a key whose QE report verified) and evicts the least recently used key
 * when TDC_CACHE_MAX_KEYS are held.
 */
EVP_PKEY *tdc_cache_attkey_get(struct tdc_collateral_cache *c, const uint8_t key[32]);
void tdc_cache_attkey_put(struct tdc_collateral_cache *c, const uint8_t key[32], EVP_PKEY *k);

/* A PCK chain from a quote that verified to the root (TDC_DOC_CERTS entry). */
struct tdc_verified_chain {
	X509 *leaf, *inter, *root;
	struct tdc_window win[3];   /* leaf, intermediate, root */
	uint8_t inter_sha[32];
	int pck_ret;                /* tdc_pck_ext_from_cert() result */
	char pck_err[256];          /* its detail when pck_ret != 0 */
	struct tdc_pck_ext pck;     /* decoded once per chain */
	char serial[80];            /* leaf serial, hex */
};
void tdc_verified_chain_free(struct tdc_verified_chain *v);
void tdc_collateral_cache_free(struct tdc_collateral_cache *c);
/* tdc_cert_sha256(@root), remembered by @c (NULL: computed) for the next
 * appraisal with the same anchor. */
void tdc_cache_root_sha256(struct tdc_collateral_cache *c, X509 *root, uint8_t out[32]);

/*
 * Verified, time-checked collateral for one appraisal.  Objects are owned
 * by the cache passed to tdc_collateral_select().
 */
struct tdc_crl;
struct tdc_coll_selected {
	const struct tdc_tcbinfo *tcbinfo;
	const char *tcbinfo_name;
	const struct tdc_qe_identity *qeid;
	const char *qeid_name;
	const struct tdc_crl *pck_crl, *root_crl; /* crl.h */
	const char *pck_crl_name, *root_crl_name;
	struct tdc_window pck_crl_window, root_crl_window; /* thisUpdate..nextUpdate */
};

struct tdc_coll_inputs {
	X509 *root;                 /* trusted root */
	const uint8_t *root_sha;    /* tdc_cert_sha256(root) */
	X509 *pck_issuer;           /* intermediate of the quote's PCK chain */
	const uint8_t *issuer_sha;  /* tdc_cert_sha256(pck_issuer) */
	const uint8_t *fmspc;       /* from the PCK certificate */
	time_t at;
	bool use_crl;
	X509_STORE *store;          /* @root alone (chain.h tdc_root_store); NULL: made per use */
};

/*
 * Pick, verify (signature, issuer chain to @in->root, CRLs) and time-check
 * the collateral for one quote, recording each check in @checks.
 * Returns 0 if every check passed.
 */
int tdc_collateral_select(struct tdc_collateral *c, struct tdc_collateral_cache *cache,
			  const struct tdc_coll_inputs *in, struct tdc_check_list *checks,
			  struct tdc_coll_selected *sel);

#endif
