// SPDX-License-Identifier: Apache-2.0
/*
 * Quote appraisal against collateral made in the test: the simulator's test
 * PKI (lib/sim.c) signs the quote; this file adds a TCB signing certificate,
 * signs TCB info and QE identity JSON built around the quote's own TCB
 * values, and issues CRLs.  Covers every TCB status, advisory IDs and how
 * far behind, revoked PCK, expired collateral, wrong signer, another FMSPC.
 */
#include <stdlib.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testutil.h"
#include "quote_verify.h"
#include "tdcpuid/error.h"
#include "tdcpuid/sim.h"

static struct tdc_sim_keys keys;
static struct tdc_buf quote;
static struct tdx_quote parsed;
static struct tdc_pck_ext pck;
static EVP_PKEY *sign_key, *rogue_key;
static X509 *sign_cert, *rogue_cert;
static time_t now;

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &now);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

/* Intel's format: {"<key>":<body>,"signature":"<hex r||s>"}; @odd puts the
 * signature first with whitespace around everything, which a verifier that
 * re-serialized the JSON instead of taking the raw span would get wrong. */
static void signed_doc_layout(struct tdc_buf *out, const char *key, const char *body,
			      EVP_PKEY *k, bool odd)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80], rs[64] = { 0 };
	const unsigned char *p = der;
	size_t len = sizeof(der);
	char hex[129];
	ECDSA_SIG *sig;

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, der, &len, (const uint8_t *)body, strlen(body)), 1);
	sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
	tdc_hex_encode(rs, 64, hex);
	tdc_buf_init(out);
	if (odd)
		assert_int_equal(tdc_buf_printf(out, "{\n  \"signature\" : \"%s\" ,\n  \"%s\" :  %s\n}\n",
						hex, key, body), 0);
	else
		assert_int_equal(tdc_buf_printf(out, "{\"%s\":%s,\"signature\":\"%s\"}", key,
						body, hex), 0);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
}

static void signed_doc(struct tdc_buf *out, const char *key, const char *body, EVP_PKEY *k)
{
	signed_doc_layout(out, key, body, k, false);
}

static void iso(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct level {
	int sgx_delta, tdx_delta;  /* added to the quote's own values */
	const char *status;
	const char *advisories;    /* JSON array text or NULL */
};

static void components(struct tdc_buf *b, const uint8_t *v, int delta)
{
	tdc_buf_printf(b, "[");
	for (int i = 0; i < 16; i++)
		tdc_buf_printf(b, "%s{\"svn\":%d}", i ? "," : "", v[i] + (i == 0 ? delta : 0));
	tdc_buf_printf(b, "]");
}

static void tcbinfo_body(struct tdc_buf *b, const uint8_t fmspc[6], time_t issue,
			 time_t next, const struct level *lv, size_t n)
{
	char h[129], d1[24], d2[24];

	iso(issue, d1);
	iso(next, d2);
	tdc_buf_init(b);
	tdc_hex_encode(fmspc, 6, h);
	tdc_buf_printf(b, "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":"
		       "\"%s\",\"fmspc\":\"%s\",\"pceId\":\"%02x%02x\",\"tcbType\":0,"
		       "\"tcbEvaluationDataNumber\":17,\"tdxModule\":{\"mrsigner\":\"", d1, d2, h,
		       pck.pceid[0], pck.pceid[1]);
	tdc_hex_encode(parsed.body.mr_signer_seam, 48, h);
	tdc_buf_printf(b, "%s\",\"attributes\":\"0000000000000000\",\"attributesMask\":"
		       "\"FFFFFFFFFFFFFFFF\"},\"tcbLevels\":[", h);
	for (size_t i = 0; i < n; i++) {
		tdc_buf_printf(b, "%s{\"tcb\":{\"sgxtcbcomponents\":", i ? "," : "");
		components(b, pck.cpusvn_comp, lv[i].sgx_delta);
		tdc_buf_printf(b, ",\"pcesvn\":%u,\"tdxtcbcomponents\":", pck.pcesvn);
		components(b, parsed.body.tee_tcb_svn, lv[i].tdx_delta);
		tdc_buf_printf(b, "},\"tcbDate\":\"2024-0%zu-01T00:00:00Z\",\"tcbStatus\":\"%s\"",
			       9 - i, lv[i].status);
		if (lv[i].advisories)
			tdc_buf_printf(b, ",\"advisoryIDs\":%s", lv[i].advisories);
		tdc_buf_printf(b, "}");
	}
	tdc_buf_printf(b, "]}");
}

static void qeid_body(struct tdc_buf *b, time_t issue, time_t next, const char *status)
{
	char h[65], d1[24], d2[24];

	iso(issue, d1);
	iso(next, d2);
	tdc_hex_encode(parsed.qe_report.mr_signer, 32, h);
	tdc_buf_init(b);
	tdc_buf_printf(b, "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":"
		       "\"%s\",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\","
		       "\"miscselectMask\":\"00000000\",\"attributes\":"
		       "\"00000000000000000000000000000000\",\"attributesMask\":"
		       "\"00000000000000000000000000000000\",\"mrsigner\":\"%s\",\"isvprodid\":%u,"
		       "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"2024-05-01T00:00:00Z\","
		       "\"tcbStatus\":\"%s\"}]}", d1, d2, h, parsed.qe_report.isv_prod_id,
		       parsed.qe_report.isv_svn, status);
}

static void add_crl_at(struct tdc_collateral *c, const char *name, X509 *issuer,
		       EVP_PKEY *key, X509 *revoke, int age_days)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_adj(NULL, now, -age_days, 0);
	ASN1_TIME *t2 = ASN1_TIME_adj(NULL, now, 30, 0);
	uint8_t *der = NULL;
	int len;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_CRL_set1_lastUpdate(crl, t1);
	X509_CRL_set1_nextUpdate(crl, t2);
	if (revoke) {
		X509_REVOKED *r = X509_REVOKED_new();

		X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)X509_get0_serialNumber(revoke));
		X509_REVOKED_set_revocationDate(r, t1);
		X509_CRL_add0_revoked(crl, r);
	}
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	len = i2d_X509_CRL(crl, &der);
	assert_true(len > 0);
	assert_int_equal(tdc_collateral_add(c, name, der, (size_t)len), 0);
	OPENSSL_free(der);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
}

static void add_crl(struct tdc_collateral *c, const char *name, X509 *issuer, EVP_PKEY *key,
		    X509 *revoke)
{
	add_crl_at(c, name, issuer, key, revoke, 1);
}

static void add_pem(struct tdc_collateral *c, const char *name, X509 *a, X509 *b)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	PEM_write_bio_X509(bio, a);
	if (b)
		PEM_write_bio_X509(bio, b);
	n = BIO_get_mem_data(bio, &p);
	assert_int_equal(tdc_collateral_add(c, name, (uint8_t *)p, (size_t)n), 0);
	BIO_free(bio);
}

struct scenario {
	const struct level *levels;
	size_t n_levels;
	const char *qe_status;
	bool other_fmspc, rogue_signer, revoke_pck, expired;
};

static struct tdc_collateral *make_collateral(const struct scenario *s)
{
	struct tdc_collateral *c;
	struct tdc_buf body, doc;
	uint8_t fmspc[6];
	time_t issue = now - 86400, next = s->expired ? now - 3600 : now + 86400 * 30;

	memcpy(fmspc, pck.fmspc, 6);
	if (s->other_fmspc)
		fmspc[5] ^= 0x5a;
	assert_int_equal(tdc_collateral_new(&c), 0);
	tcbinfo_body(&body, fmspc, issue, next, s->levels, s->n_levels);
	signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body), s->rogue_signer ? rogue_key : sign_key);
	assert_int_equal(tdc_collateral_add(c, "tcbinfo.json", doc.data, doc.len), 0);
	tdc_buf_free(&body);
	tdc_buf_free(&doc);
	qeid_body(&body, issue, now + 86400 * 30, s->qe_status ? s->qe_status : "UpToDate");
	signed_doc(&doc, "enclaveIdentity", tdc_buf_cstr(&body), sign_key);
	assert_int_equal(tdc_collateral_add(c, "qeidentity.json", doc.data, doc.len), 0);
	tdc_buf_free(&body);
	tdc_buf_free(&doc);
	add_pem(c, "tcb_signing_chain.pem", sign_cert, keys.root_cert);
	if (s->rogue_signer)
		add_pem(c, "rogue.pem", rogue_cert, NULL);
	add_crl(c, "rootcrl.der", keys.root_cert, keys.root_key, NULL);
	add_crl(c, "pckcrl.der", keys.ca_cert, keys.ca_key, s->revoke_pck ? keys.pck_cert : NULL);
	return c;
}

static const struct tdc_check *find_check(const struct tdc_quote_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return &r->checks[i];
	return NULL;
}

static void run(const struct scenario *s, unsigned accept, struct tdc_quote_result *r)
{
	struct tdc_collateral *c = make_collateral(s);
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now, .collateral = c,
				    .accept_tcb = accept, .allow_debug = true };

	assert_int_equal(tdc_quote_appraise(&o, quote.data, quote.len, r), 0);
	tdc_collateral_free(c);
}

static void dump_failures(const struct tdc_quote_result *r)
{
	for (size_t i = 0; i < r->n_checks; i++)
		if (!r->checks[i].pass)
			print_message("  FAIL %s: %s\n", r->checks[i].name, r->checks[i].reason);
}

static const char *const statuses[] = {
	"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
	"Revoked",
};

/* The quote matches the second level; the first is newer. */
static void test_every_status(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct level lv[2] = {
			{ 1, 0, "UpToDate", NULL },
			{ 0, 0, statuses[i], "[\"INTEL-SA-00001\",\"INTEL-SA-00002\"]" },
		};
		struct scenario s = { lv, 2, NULL, false, false, false, false };
		enum tdc_tcb_status want;

		if (pck.cpusvn_comp[0] == 255)
			skip();
		assert_int_equal(tdc_tcb_status_parse(statuses[i], &want), 0);
		run(&s, 1u << TDC_TCB_UP_TO_DATE, r);
		assert_true(r->tcb_matched);
		assert_int_equal(r->tcb_status, want);
		assert_int_equal(r->levels_behind, 1);
		assert_int_equal(r->n_advisories, 2);
		assert_string_equal(r->advisories[1], "INTEL-SA-00002");
		assert_string_equal(r->behind[0].what, "sgx[0]");
		assert_int_equal(r->behind[0].newest, r->behind[0].have + 1);
		/* An old level is still UpToDate if Intel says so. */
		assert_int_equal(find_check(r, "tcb.status")->pass, want == TDC_TCB_UP_TO_DATE);
		assert_int_equal(tdc_quote_exit_code(r), want == TDC_TCB_UP_TO_DATE ? 0 : 1);
		/* Accepted when the caller lists it. */
		run(&s, 1u << want, r);
		if (!r->all_pass)
			dump_failures(r);
		assert_true(r->all_pass);
		assert_int_equal(tdc_quote_exit_code(r), 0);
	}
	/* Newest level matched: UpToDate, nothing behind, passes by default. */
	{
		struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
		struct scenario s = { lv, 1, NULL, false, false, false, false };

		run(&s, 0, r);
		if (!r->all_pass)
			dump_failures(r);
		assert_true(r->all_pass);
		assert_int_equal(r->tcb_status, TDC_TCB_UP_TO_DATE);
		assert_int_equal(r->levels_behind, 0);
		assert_int_equal(r->n_behind, 0);
		assert_int_equal(tdc_quote_exit_code(r), 0);
	}
	free(r);
}

static void test_qe_out_of_date_converges(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "ConfigurationNeeded", NULL } };
	struct scenario s = { lv, 1, "OutOfDate", false, false, false, false };

	run(&s, 0, r);
	assert_int_equal(r->platform_status, TDC_TCB_CONFIGURATION_NEEDED);
	assert_int_equal(r->qe_status, TDC_TCB_OUT_OF_DATE);
	assert_int_equal(r->tcb_status, TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	free(r);
}

static void test_no_matching_level(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 1, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, false, false };

	if (parsed.body.tee_tcb_svn[0] == 255)
		skip();
	run(&s, 0, r);
	assert_false(r->tcb_matched);
	assert_false(find_check(r, "tcb.level")->pass);
	assert_non_null(strstr(find_check(r, "tcb.level")->reason, "no matching TCB level"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	free(r);
}

static void test_revoked_pck(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, true, false };

	run(&s, 0, r);
	assert_false(find_check(r, "pck.revocation")->pass);
	assert_non_null(strstr(find_check(r, "pck.revocation")->reason, "revoked"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	free(r);
}

/* Two PCK CRLs: the newer one (listing the PCK) wins whatever the order. */
static void test_newest_crl(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, false, false };
	struct tdc_collateral *c = make_collateral(&s);
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now, .collateral = c };

	add_crl_at(c, "pckcrl-new.der", keys.ca_cert, keys.ca_key, keys.pck_cert, 0);
	add_crl_at(c, "pckcrl-old.der", keys.ca_cert, keys.ca_key, NULL, 5);
	assert_int_equal(tdc_quote_appraise(&o, quote.data, quote.len, r), 0);
	assert_false(find_check(r, "pck.revocation")->pass);
	assert_non_null(strstr(find_check(r, "pck.revocation")->reason, "pckcrl-new.der"));
	tdc_collateral_free(c);
	free(r);
}

static void test_expired_collateral(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, false, true };

	run(&s, 0, r);
	assert_true(find_check(r, "collateral.tcb_info")->pass);
	assert_false(find_check(r, "collateral.tcb_info.validity")->pass);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info.validity")->reason, "expired"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	free(r);
}

static void test_wrong_signer(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, true, false, false };

	run(&s, 0, r);
	assert_false(find_check(r, "collateral.tcb_info")->pass);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->reason,
			       "not issued by the trusted root"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	free(r);
}

static void test_other_fmspc(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, true, false, false, false };

	run(&s, 0, r);
	assert_false(find_check(r, "collateral.tcb_info")->pass);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->reason, "no TCB info for FMSPC"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	free(r);
}

/* Raw-span signing: odd layout, and a body with spacing and a string that
 * holds braces and escaped quotes. */
static void test_raw_span(void **state)
{
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf body, doc, spaced;
	struct tdc_collateral *c;
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now, .no_crl = true };

	assert_int_equal(tdc_collateral_new(&c), 0);
	tcbinfo_body(&body, pck.fmspc, now - 86400, now + 86400, lv, 1);
	/* {"note": "a}\"{[b", ... rest of the body with spaces after ':' */
	tdc_buf_init(&spaced);
	tdc_buf_printf(&spaced, "{ \"note\" : \"a}\\\"{[b\",  %s", tdc_buf_cstr(&body) + 1);
	signed_doc_layout(&doc, "tcbInfo", tdc_buf_cstr(&spaced), sign_key, true);
	assert_int_equal(tdc_collateral_add(c, "tcbinfo.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	tdc_buf_free(&spaced);
	qeid_body(&body, now - 86400, now + 86400, "UpToDate");
	signed_doc_layout(&doc, "enclaveIdentity", tdc_buf_cstr(&body), sign_key, true);
	assert_int_equal(tdc_collateral_add(c, "qe.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	add_pem(c, "chain.pem", sign_cert, keys.root_cert);
	o.collateral = c;
	assert_int_equal(tdc_quote_appraise(&o, quote.data, quote.len, r), 0);
	if (!r->all_pass)
		dump_failures(r);
	assert_true(find_check(r, "collateral.tcb_info")->pass);
	assert_true(find_check(r, "collateral.qe_identity")->pass);
	assert_true(r->all_pass);
	tdc_collateral_free(c);
	free(r);
}

/* Several TCB infos: the one for this FMSPC and, among those, the newest. */
static void test_tcbinfo_selection(void **state)
{
	struct level old_lv[1] = { { 0, 0, "OutOfDate", NULL } };
	struct level new_lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf body, doc;
	struct tdc_collateral *c;
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now, .no_crl = true };
	uint8_t other[6];

	memcpy(other, pck.fmspc, 6);
	other[0] ^= 1;
	assert_int_equal(tdc_collateral_new(&c), 0);
	tcbinfo_body(&body, other, now - 60, now + 86400, new_lv, 1);
	signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body), sign_key);
	assert_int_equal(tdc_collateral_add(c, "a-other.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	tcbinfo_body(&body, pck.fmspc, now - 7200, now + 86400, old_lv, 1);
	signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body), sign_key);
	assert_int_equal(tdc_collateral_add(c, "b-old.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	tcbinfo_body(&body, pck.fmspc, now - 3600, now + 86400, new_lv, 1);
	signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body), sign_key);
	assert_int_equal(tdc_collateral_add(c, "c-new.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	qeid_body(&body, now - 86400, now + 86400, "UpToDate");
	signed_doc(&doc, "enclaveIdentity", tdc_buf_cstr(&body), sign_key);
	assert_int_equal(tdc_collateral_add(c, "qe.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	add_pem(c, "chain.pem", sign_cert, keys.root_cert);
	o.collateral = c;
	assert_int_equal(tdc_quote_appraise(&o, quote.data, quote.len, r), 0);
	assert_string_equal(r->tcbinfo_name, "c-new.json");
	assert_int_equal(r->tcb_status, TDC_TCB_UP_TO_DATE);
	assert_true(r->all_pass);
	tdc_collateral_free(c);
	free(r);
}

static int setup(void **state)
{
	struct tdc_sim_params p;
	uint8_t rd[TDX_REPORTDATA_LEN] = { 1, 2, 3 }, report[TDX_REPORT_LEN];

	now = time(NULL);
	tdc_sim_keys_init(&keys);
	tdc_sim_params_init(&p);
	tdc_buf_init(&quote);
	if (tdc_sim_keys_generate(&keys) != 0 || tdc_sim_report(&keys, &p, rd, report) != 0 ||
	    tdc_sim_quote(&keys, report, &quote) != 0 ||
	    tdx_quote_parse(quote.data, quote.len, false, &parsed) != 0 ||
	    tdc_pck_ext_from_cert(keys.pck_cert, &pck) != 0)
		return -1;
	sign_key = new_key();
	sign_cert = new_cert(sign_key, "Test SGX TCB Signing", keys.root_cert, keys.root_key);
	rogue_key = new_key();
	rogue_cert = new_cert(rogue_key, "Rogue TCB Signing", NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	tdc_sim_keys_free(&keys);
	tdc_buf_free(&quote);
	EVP_PKEY_free(sign_key);
	EVP_PKEY_free(rogue_key);
	X509_free(sign_cert);
	X509_free(rogue_cert);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_status),
		cmocka_unit_test(test_qe_out_of_date_converges),
		cmocka_unit_test(test_no_matching_level),
		cmocka_unit_test(test_revoked_pck),
		cmocka_unit_test(test_newest_crl),
		cmocka_unit_test(test_expired_collateral),
		cmocka_unit_test(test_wrong_signer),
		cmocka_unit_test(test_other_fmspc),
		cmocka_unit_test(test_raw_span),
		cmocka_unit_test(test_tcbinfo_selection),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
