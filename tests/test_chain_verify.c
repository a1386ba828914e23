// SPDX-License-Identifier: Apache-2.0
/*
 * The PCK chain check against OpenSSL's verifier, case by case: chains
 * built from the simulator's test PKI (lib/sim.c) with one defect each —
 * validity, another root, a broken link, an intermediate that is not a
 * CA or may not sign certificates, a root whose path length forbids an
 * intermediate, an unknown critical extension, a revoked certificate —
 * go into a sim quote and through tdc_quote_appraise, and the same
 * certificates through X509_verify_cert with a store holding only the
 * trusted root (the reference, default flags).  Each row names the check
 * the appraisal must fail (NULL: the chain passes), a phrase of its detail,
 * and the error the reference gives.  The appraisal verifies with
 * X509_verify_cert too (quote_verify.c verify_links: X509_STRICT, the
 * quote's own path, the leaf's keyUsage); "hand" keeps the verdict of the
 * hand-written checker it replaced (X509_verify link by link,
 * X509_check_ca; no longer run) — where they differ is what changed.
 */
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testutil.h"
#include "chain.h"
#include "crypto.h"
#include "pki_util.h"
#include "quote_verify.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/sim.h"

static struct tdc_test_pki pki;
static EVP_PKEY *other_key;
static X509_STORE *use_store;            /* tdc_quote_opts.store (NULL: made per appraisal) */

enum signer { BY_ISSUER, BY_OTHER_KEY };

/* What changes in one certificate; zero: re-issued as it was. */
struct cert_mod {
	int not_before, not_after;       /* days from now; 0 with 0: unchanged */
	const char *bc, *ku;             /* NULL: unchanged; "": removed; else the value */
	bool unknown_critical;           /* a critical extension nobody knows */
	bool other_issuer_name;          /* issuer name not the issuer's subject */
	bool no_key_ids;                 /* no subject or authority key identifier */
	bool short_not_before;           /* notBefore a UTCTime without seconds (not RFC 5280) */
	enum signer signer;
};

enum shape {
	NORMAL,                          /* leaf <- sim PCK CA <- sim root (trusted) */
	OTHER_ROOT,                      /* intermediate issued by another self-signed root */
	OTHER_ROOT_SAME_NAME,            /* ... one with the trusted root's subject */
	LEAF_AS_CA,                      /* a second leaf issued by the PCK leaf (CA:FALSE) */
	ROOT_PATHLEN0,                   /* trusted root with pathlen:0 above the intermediate */
	LEAF_BY_ROOT,                    /* the leaf issued by the root itself */
};

enum crl { NO_CRL, REVOKE_LEAF, REVOKE_CA };

struct chain_case {
	const char *name;
	enum shape shape;
	struct cert_mod inter, leaf;
	enum crl crl;
	const char *want;                /* the check that fails (NULL: the chain passes) */
	const char *detail;              /* ... and a phrase of its detail */
	const char *hand;                /* the hand checker's failure (NULL: passed) */
	int x509_err;                    /* X509_verify_cert's error (X509_V_OK: passed) */
	int x509_depth;                  /* ... at this depth (0 leaf, 1 intermediate, 2 root) */
};

#define ROOT "pck_chain.root"
#define INTER "pck_chain.intermediate"
#define LEAF "pck_chain.leaf"
#define VALIDITY "pck_chain.validity"

static const struct chain_case cases[] = {
	{ "genuine sim chain", NORMAL, .x509_err = X509_V_OK },
	{ "expired leaf", NORMAL, .leaf = { .not_before = -30, .not_after = -1 },
	  .want = VALIDITY, "PCK leaf certificate has expired", VALIDITY,
	  X509_V_ERR_CERT_HAS_EXPIRED },
	{ "intermediate not yet valid", NORMAL, .inter = { .not_before = 1, .not_after = 100 },
	  .want = VALIDITY, "intermediate CA certificate is not yet valid", VALIDITY,
	  X509_V_ERR_CERT_NOT_YET_VALID, 1 },
	{ "chain to another root", OTHER_ROOT, .want = ROOT, "not the trusted root", ROOT,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1 },
	{ "another root with the trusted root's name", OTHER_ROOT_SAME_NAME, .want = ROOT,
	  "not the trusted root", ROOT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1 },
	{ "leaf signed by another key", NORMAL, .leaf = { .signer = BY_OTHER_KEY },
	  .want = LEAF, "PCK leaf signature fails", LEAF, X509_V_ERR_CERT_SIGNATURE_FAILURE },
	{ "leaf issuer name mismatch", NORMAL, .leaf = { .other_issuer_name = true },
	  .want = LEAF, "unable to get local issuer certificate, depth 0", LEAF,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY },
	{ "leaf issued by the root itself", LEAF_BY_ROOT, .want = LEAF,
	  "not issued by the quote's intermediate", LEAF, X509_V_OK },
	{ "intermediate signed by another key", NORMAL, .inter = { .signer = BY_OTHER_KEY },
	  .want = INTER, "intermediate CA signature fails", INTER,
	  X509_V_ERR_CERT_SIGNATURE_FAILURE, 1 },
	{ "intermediate issuer name mismatch", NORMAL, .inter = { .other_issuer_name = true },
	  .want = INTER, "intermediate CA signature fails", INTER,
	  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1 },
	{ "intermediate without basicConstraints (keyCertSign only)", NORMAL,
	  .inter = { .bc = "" }, .want = INTER, "invalid CA certificate", NULL,
	  X509_V_ERR_INVALID_CA, 1 },
	{ "intermediate without basicConstraints or keyUsage", NORMAL,
	  .inter = { .bc = "", .ku = "" }, .want = INTER, "invalid CA certificate", INTER,
	  X509_V_ERR_INVALID_CA, 1 },
	{ "intermediate basicConstraints not critical", NORMAL,
	  .inter = { .bc = "CA:TRUE,pathlen:0" }, .want = INTER, "critical", NULL, X509_V_OK },
	{ "intermediate CA:TRUE without keyCertSign", NORMAL,
	  .inter = { .ku = "critical,digitalSignature,cRLSign" }, .want = INTER,
	  "invalid CA certificate", INTER, X509_V_ERR_INVALID_CA, 1 },
	{ "leaf used as an issuer (CA:FALSE)", LEAF_AS_CA, .want = INTER,
	  "invalid CA certificate", INTER, X509_V_ERR_INVALID_CA, 1 },
	{ "root pathlen:0 above an intermediate CA", ROOT_PATHLEN0, .want = ROOT,
	  "path length constraint exceeded", NULL, X509_V_ERR_PATH_LENGTH_EXCEEDED, 2 },
	{ "unknown critical extension in the leaf", NORMAL, .leaf = { .unknown_critical = true },
	  .want = LEAF, "unhandled critical extension", NULL,
	  X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION },
	{ "unknown critical extension in the intermediate", NORMAL,
	  .inter = { .unknown_critical = true }, .want = INTER, "unhandled critical extension",
	  NULL, X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION, 1 },
	{ "leaf notBefore without seconds", NORMAL, .leaf = { .short_not_before = true },
	  .want = LEAF, "format error in certificate's notBefore field", NULL,
	  X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD },
	{ "intermediate notBefore without seconds", NORMAL,
	  .inter = { .short_not_before = true }, .want = INTER,
	  "format error in certificate's notBefore field", NULL,
	  X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD, 1 },
	{ "leaf keyUsage without digitalSignature", NORMAL,
	  .leaf = { .ku = "critical,keyEncipherment" }, .want = LEAF, "digitalSignature", NULL,
	  X509_V_OK },
	{ "revoked leaf (PCK CRL)", NORMAL, .crl = REVOKE_LEAF, .want = "pck.revocation",
	  "is revoked by pckcrl.der", "pck.revocation", X509_V_ERR_CERT_REVOKED },
	{ "revoked intermediate (root CRL)", NORMAL, .crl = REVOKE_CA,
	  .want = "pck_chain.intermediate_revoked", "is revoked by the root CA CRL",
	  "pck_chain.intermediate_revoked", X509_V_ERR_CERT_REVOKED, 1 },
};

/* The checks that judge the chain, in appraisal order. */
static const char *const chain_checks[] = {
	"pck_chain.parse", "pck_chain.root", "pck_chain.intermediate", "pck_chain.leaf",
	"pck_chain.validity", "pck_chain.intermediate_revoked", "pck.revocation",
};

#define NEED(x) assert_true(x)

static void replace_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int i;

	if (!value)
		return;
	while ((i = X509_get_ext_by_NID(x, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
	if (!*value)
		return;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	NEED(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
	NEED(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static void add_unknown_critical(X509 *x)
{
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.57264.99.1", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	NEED(obj && os && ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2));
	NEED(e = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os));
	NEED(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

static void set_cn(X509_NAME **name, const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	NEED(n && X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					     -1, -1, 0));
	*name = n;
}

/* @tmpl re-issued by @issuer (its key @key) with @m applied; @cn: a new subject. */
static X509 *reissue(X509 *tmpl, const struct cert_mod *m, X509 *issuer, EVP_PKEY *key,
		     const char *cn)
{
	X509 *x = X509_dup(tmpl);
	X509_NAME *name;
	int i;

	NEED(x);
	if (cn) {
		set_cn(&name, cn);
		X509_set_subject_name(x, name);
		X509_NAME_free(name);
	}
	if (m->not_before || m->not_after) {
		X509_time_adj_ex(X509_getm_notBefore(x), m->not_before, 0, &pki.now);
		X509_time_adj_ex(X509_getm_notAfter(x), m->not_after, 0, &pki.now);
	}
	if (m->short_not_before)
		NEED(ASN1_STRING_set(X509_getm_notBefore(x), "2301010000Z", 11));
	if (m->other_issuer_name) {
		set_cn(&name, "Somebody Else's CA");
		X509_set_issuer_name(x, name);
		X509_NAME_free(name);
	} else {
		X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	}
	replace_ext(x, issuer, NID_basic_constraints, m->bc);
	replace_ext(x, issuer, NID_key_usage, m->ku);
	while ((i = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, i));
	if (m->no_key_ids)
		replace_ext(x, issuer, NID_subject_key_identifier, "");
	else if (issuer)
		replace_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (m->unknown_critical)
		add_unknown_critical(x);
	NEED(X509_sign(x, m->signer == BY_OTHER_KEY ? other_key : key, EVP_sha256()) > 0);
	return x;
}

/* A self-signed root with @cn (NULL: the sim root's subject) and @bc. */
static X509 *new_root(const char *cn, const char *bc, EVP_PKEY *key)
{
	static const struct cert_mod none;
	X509 *x = reissue(pki.keys.root_cert, &none, NULL, key, cn);

	X509_set_pubkey(x, key);
	replace_ext(x, x, NID_basic_constraints, bc);
	replace_ext(x, x, NID_subject_key_identifier, "hash");
	NEED(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* c[0..2]: leaf, intermediate, root as the quote carries them; *trusted. */
static void build(const struct chain_case *k, X509 *c[3], X509 **trusted)
{
	struct tdc_sim_keys *s = &pki.keys;
	EVP_PKEY *root_key = s->root_key;

	c[2] = s->root_cert;
	X509_up_ref(c[2]);
	switch (k->shape) {
	case OTHER_ROOT:
	case OTHER_ROOT_SAME_NAME:
		X509_free(c[2]);
		c[2] = new_root(k->shape == OTHER_ROOT ? "Another Root CA" : NULL, NULL, other_key);
		root_key = other_key;
		break;
	case ROOT_PATHLEN0:
		X509_free(c[2]);
		c[2] = new_root("Root CA pathlen 0", "critical,CA:TRUE,pathlen:0", other_key);
		root_key = other_key;
		break;
	default:
		break;
	}
	*trusted = k->shape == OTHER_ROOT || k->shape == OTHER_ROOT_SAME_NAME ? s->root_cert : c[2];
	if (k->shape == LEAF_BY_ROOT) {
		c[1] = reissue(s->ca_cert, &k->inter, c[2], root_key, NULL);
		c[0] = reissue(s->pck_cert, &k->leaf, c[2], root_key, NULL);
		return;
	}
	if (k->shape == LEAF_AS_CA) {
		c[1] = reissue(s->pck_cert, &k->inter, c[2], root_key, NULL);
		c[0] = reissue(s->pck_cert, &k->leaf, c[1], s->pck_key,
			       "tdcpuid SIMULATED PCK issued by a PCK");
		return;
	}
	c[1] = reissue(s->ca_cert, &k->inter, c[2], root_key, NULL);
	c[0] = reissue(s->pck_cert, &k->leaf, c[1], s->ca_key, NULL);
}

/* The certificate as the verifier holds it: parsed in its library context. */
static X509 *as_parsed(X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	X509 *y;

	NEED(len > 0);
	NEED(y = tdc_der_read_cert(der, (size_t)len));
	OPENSSL_free(der);
	return y;
}

static X509_CRL *crl_of(X509 *issuer, EVP_PKEY *key, X509 *revoke)
{
	struct tdc_buf der;
	X509_CRL *crl;

	tdc_test_crl(&pki, issuer, key, revoke, 1, 0, &der);
	NEED(crl = tdc_der_read_crl(der.data, der.len));
	tdc_buf_free(&der);
	return crl;
}

/* The reference: X509_verify_cert, store = the trusted root alone. */
static int reference(const struct chain_case *k, X509 *c[3], X509 *trusted, int *depth)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(tdc_cert_libctx(), NULL);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	X509 *leaf = as_parsed(c[0]), *inter = as_parsed(c[1]), *root = as_parsed(trusted);
	int err;

	NEED(st && ctx && untrusted && crls && X509_STORE_add_cert(st, root));
	NEED(sk_X509_push(untrusted, inter));
	NEED(X509_STORE_CTX_init(ctx, st, leaf, untrusted));
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), pki.now);
	if (k->crl != NO_CRL) {
		sk_X509_CRL_push(crls, crl_of(pki.keys.root_cert, pki.keys.root_key,
					      k->crl == REVOKE_CA ? inter : NULL));
		sk_X509_CRL_push(crls, crl_of(pki.keys.ca_cert, pki.keys.ca_key,
					      k->crl == REVOKE_LEAF ? leaf : NULL));
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	}
	err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	*depth = err == X509_V_OK ? 0 : X509_STORE_CTX_get_error_depth(ctx);
	X509_STORE_CTX_free(ctx);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_free(untrusted);
	X509_STORE_free(st);
	X509_free(leaf);
	X509_free(inter);
	X509_free(root);
	return err;
}

/* The first failing chain check of an appraisal of a quote carrying c[]. */
static const char *appraise(const struct chain_case *k, X509 *c[3], X509 *trusted,
			    struct tdc_collateral_cache *cache, char *detail, size_t n)
{
	static const struct tdc_test_level lv[] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll tc = { .levels = lv, .n_levels = 1,
				    .revoke_pck = k->crl == REVOKE_LEAF,
				    .revoke_ca = k->crl == REVOKE_CA };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_sim_keys keys = pki.keys;
	uint8_t rd[TDX_REPORTDATA_LEN] = { 1 }, report[TDX_REPORT_LEN];
	struct tdc_quote_opts o = { .root = trusted, .qe_identity = tdc_test_sim_qe(),
				    .at = pki.now, .allow_debug = true, .cache = cache,
				    .store = use_store };
	struct tdc_sim_params sp;
	struct tdc_buf q;
	const char *fail = NULL;

	NEED(r);
	keys.pck_cert = c[0];
	keys.ca_cert = c[1];
	keys.root_cert = c[2];
	tdc_sim_params_init(&sp);
	tdc_buf_init(&q);
	NEED(tdc_sim_report(&keys, &sp, rd, report) == 0);
	NEED(tdc_sim_quote(&keys, report, &q) == 0);
	if (k->crl != NO_CRL)
		o.collateral = tdc_test_collateral(&pki, &tc);
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	for (size_t i = 0; i < sizeof(chain_checks) / sizeof(*chain_checks) && !fail; i++) {
		const struct tdc_check *ch = tdc_check_find(&r->checks, chain_checks[i]);

		if (ch && ch->status != TDC_CHECK_PASS) {
			fail = chain_checks[i];
			snprintf(detail, n, "%s", ch->detail);
		}
	}
	if (!fail)
		/* A passing chain passes everything it decides. */
		assert_non_null(tdc_check_find(&r->checks, "pck_chain.leaf"));
	tdc_collateral_free(o.collateral);
	tdc_quote_result_free(r);
	free(r);
	tdc_buf_free(&q);
	return fail;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void table(void **state)
{
	int differ = 0, changed = 0, bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct chain_case *k = &cases[i];
		X509 *c[3], *trusted;
		char detail[512] = "";
		const char *got;
		int err, depth;

		build(k, c, &trusted);
		err = reference(k, c, trusted, &depth);
		got = appraise(k, c, trusted, NULL, detail, sizeof(detail));
		print_message("%-56s appraisal %-30s X509_verify_cert %s (depth %d)%s%s\n",
			      k->name, got ? got : "pass",
			      err ? X509_verify_cert_error_string(err) : "ok", depth,
			      !got != !err ? "  <- differ" : "",
			      !same(got, k->hand) ? "  <- hand checker differed" : "");
		if (got)
			print_message("%58s%s\n", "", detail);
		differ += !got != !err;
		changed += !same(got, k->hand);
		if (!same(got, k->want) || (k->detail && !strstr(detail, k->detail)) ||
		    err != k->x509_err || (err && depth != k->x509_depth)) {
			print_message("  ^ expected appraisal %s (\"%s\"), X509_verify_cert %s at "
				      "depth %d\n", k->want ? k->want : "pass",
				      k->detail ? k->detail : "",
				      X509_verify_cert_error_string(k->x509_err), k->x509_depth);
			bad++;
		}
		for (int j = 0; j < 3; j++)
			X509_free(c[j]);
	}
	print_message("%d case(s) where the appraisal and the reference differ, %d where the "
		      "hand checker did\n", differ, changed);
	assert_int_equal(bad, 0);
}

/*
 * A cache never turns a failure into success: a failing chain is verified
 * again (and fails) each time, and a cached chain's validity is judged at
 * each appraisal's own time (the sim chain, a century later).
 */
static void cache_keeps_verdicts(void **state)
{
	const struct chain_case *crit = &cases[0], *genuine = &cases[0];
	struct tdc_collateral_cache *cache;
	X509 *c[3], *trusted;
	char detail[512];

	assert_int_equal(tdc_collateral_cache_new(&cache), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		if (cases[i].leaf.unknown_critical)
			crit = &cases[i];
	build(crit, c, &trusted);
	for (int i = 0; i < 2; i++)
		assert_string_equal(appraise(crit, c, trusted, cache, detail, sizeof(detail)),
				    LEAF);
	for (int j = 0; j < 3; j++)
		X509_free(c[j]);
	build(genuine, c, &trusted);
	assert_null(appraise(genuine, c, trusted, cache, detail, sizeof(detail)));
	pki.now += 100 * 365 * 86400L;   /* the cached chain, long expired */
	assert_string_equal(appraise(genuine, c, trusted, cache, detail, sizeof(detail)),
			    VALIDITY);
	assert_non_null(strstr(detail, "PCK leaf certificate has expired"));
	pki.now -= 100 * 365 * 86400L;
	assert_null(appraise(genuine, c, trusted, cache, detail, sizeof(detail)));
	for (int j = 0; j < 3; j++)
		X509_free(c[j]);
	tdc_collateral_cache_free(cache);
}

/*
 * The TCB signing certificate (collateral.c find_signer) goes through the
 * same verifier: issued by the trusted root, strict, no unknown critical
 * extension.  "hand": the name-and-signature check it replaced.
 */
static const struct {
	const char *name;
	struct cert_mod mod;
	const char *detail;              /* NULL: collateral.tcb_info passes */
	bool hand_passed;
} signers[] = {
	{ "TCB signing certificate as issued", { 0 }, NULL, true },
	{ "TCB signer with an unknown critical extension", { .unknown_critical = true },
	  "unhandled critical extension", true },
	{ "TCB signer signed by another key", { .signer = BY_OTHER_KEY },
	  "certificate signature failure", false },
	{ "TCB signer issuer name mismatch", { .other_issuer_name = true },
	  "unable to get local issuer certificate", false },
	{ "TCB signer without key identifiers", { .no_key_ids = true },
	  "Missing Authority Key Identifier", true },
};

static void tcb_signer(void **state)
{
	static const struct tdc_test_level lv[] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll tc = { .levels = lv, .n_levels = 1 };
	X509 *keep = pki.sign_cert;
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	int bad = 0;

	NEED(r);
	for (size_t i = 0; i < sizeof(signers) / sizeof(*signers); i++) {
		struct tdc_quote_opts o = { .root = pki.keys.root_cert,
					    .qe_identity = tdc_test_sim_qe(), .at = pki.now,
					    .allow_debug = true };
		const struct tdc_check *ch;

		pki.sign_cert = reissue(keep, &signers[i].mod, pki.keys.root_cert,
					pki.keys.root_key, NULL);
		o.collateral = tdc_test_collateral(&pki, &tc);
		assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
		assert_non_null(ch = tdc_check_find(&r->checks, "collateral.tcb_info"));
		print_message("%-56s collateral.tcb_info %s%s\n%58s%s\n", signers[i].name,
			      ch->status == TDC_CHECK_PASS ? "pass" : "FAIL",
			      (ch->status == TDC_CHECK_PASS) != signers[i].hand_passed ?
			      "  <- hand checker differed" : "", "", ch->detail);
		if (signers[i].detail ? ch->status == TDC_CHECK_PASS ||
					!strstr(ch->detail, signers[i].detail) :
					ch->status != TDC_CHECK_PASS)
			bad++;
		tdc_collateral_free(o.collateral);
		X509_free(pki.sign_cert);
	}
	pki.sign_cert = keep;
	tdc_quote_result_free(r);
	free(r);
	assert_int_equal(bad, 0);
}

/*
 * CRLs stay with the collateral checks (not given to X509_verify_cert),
 * with OpenSSL's rule: a CRL with an unknown critical extension is not
 * used (the reference: unhandled critical CRL extension).
 */
static void crl_critical_extension(void **state)
{
	static const struct tdc_test_level lv[] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll tc = { .levels = lv, .n_levels = 1, .crl_critical = true };
	struct tdc_quote_opts o = { .root = pki.keys.root_cert, .qe_identity = tdc_test_sim_qe(),
				    .at = pki.now, .allow_debug = true };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	const struct tdc_check *ch;

	NEED(r);
	o.collateral = tdc_test_collateral(&pki, &tc);
	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	assert_non_null(ch = tdc_check_find(&r->checks, "collateral.pck_crl"));
	print_message("PCK CRL with an unknown critical extension: %s\n", ch->detail);
	assert_int_equal(ch->status, TDC_CHECK_FAIL);
	assert_non_null(strstr(ch->detail, "critical extension"));
	assert_false(r->all_pass);
	tdc_collateral_free(o.collateral);
	tdc_quote_result_free(r);
	free(r);
}

/* A shared store (tdc_trust.store) verifies as the one made per appraisal;
 * a store holding another root than opts.root fails the chain. */
static void shared_store(void **state)
{
	X509 *c[3], *trusted;
	char detail[512];

	build(&cases[0], c, &trusted);
	assert_non_null(use_store = tdc_root_store(trusted));
	assert_null(appraise(&cases[0], c, trusted, NULL, detail, sizeof(detail)));
	X509_STORE_free(use_store);
	assert_non_null(use_store = tdc_root_store(pki.rogue_cert));
	assert_string_equal(appraise(&cases[0], c, trusted, NULL, detail, sizeof(detail)), INTER);
	X509_STORE_free(use_store);
	use_store = NULL;
	for (int j = 0; j < 3; j++)
		X509_free(c[j]);
}

/* The genuine Intel chain of the SPR quote passes the reference too. */
static void genuine_intel(void **state)
{
	struct tdc_buf b;
	struct tdx_quote q;
	X509 *c[3], *root;
	BIO *bio;
	struct chain_case k = { .name = "genuine Intel chain", .shape = NORMAL };
	time_t at;
	int depth;

	tdc_test_read("tdx/tdx_prod_quote_SPR_E4.dat", &b);
	assert_int_equal(tdx_quote_parse(b.data, b.len, true, &q), 0);
	bio = BIO_new_mem_buf(q.pck_chain_pem, (int)q.pck_chain_len);
	for (int i = 0; i < 3; i++)
		assert_non_null(c[i] = tdc_pem_read_cert(bio));
	BIO_free(bio);
	assert_int_equal(tdc_load_root(tdc_testdata("tdx/trust/Intel_SGX_Root_CA.pem"), &root), 0);
	assert_int_equal(tdc_time_parse("2023-07-01T01:00:00Z", 0, &at), 0);
	pki.now = at;
	assert_int_equal(reference(&k, c, root, &depth), X509_V_OK);
	X509_free(root);
	for (int i = 0; i < 3; i++)
		X509_free(c[i]);
	tdc_buf_free(&b);
}

static int setup(void **state)
{
	tdc_test_pki_init(&pki, NULL);
	other_key = EVP_EC_gen("P-256");
	return other_key ? 0 : -1;
}

static int teardown(void **state)
{
	EVP_PKEY_free(other_key);
	tdc_test_pki_free(&pki);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(cache_keeps_verdicts),
		cmocka_unit_test(shared_store),
		cmocka_unit_test(tcb_signer),
		cmocka_unit_test(crl_critical_extension),
		cmocka_unit_test(genuine_intel),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
