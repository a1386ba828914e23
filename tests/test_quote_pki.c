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
#include "pki_util.h"
#include "quote_verify.h"
#include "tdcpuid/error.h"
#include "tdcpuid/sim.h"

static struct tdc_test_pki pki;
#define keys pki.keys
#define parsed pki.parsed
#define pck pki.pck
#define sign_key pki.sign_key
#define sign_cert pki.sign_cert
#define now pki.now

#define level tdc_test_level

static void signed_doc_layout(struct tdc_buf *out, const char *key, const char *body,
			      EVP_PKEY *k, bool odd)
{
	tdc_test_signed_doc(out, key, body, k, odd);
}

static void signed_doc(struct tdc_buf *out, const char *key, const char *body, EVP_PKEY *k)
{
	tdc_test_signed_doc(out, key, body, k, false);
}

static void tcbinfo_body(struct tdc_buf *b, const uint8_t fmspc[6], time_t issue,
			 time_t next, const struct level *lv, size_t n)
{
	struct tdc_test_coll c = { .levels = lv, .n_levels = n, .issue = issue, .next = next,
				   .fmspc = fmspc };

	tdc_test_tcbinfo_body(&pki, &c, b);
}

static void qeid_body(struct tdc_buf *b, time_t issue, time_t next, const char *status)
{
	tdc_test_qeid_body(&pki, issue, next, status, b);
}

static void add_crl_at(struct tdc_collateral *c, const char *name, X509 *issuer,
		       EVP_PKEY *key, X509 *revoke, int age_days)
{
	struct tdc_buf der;

	tdc_test_crl(&pki, issuer, key, revoke, age_days, 0, &der);
	assert_int_equal(tdc_collateral_add(c, name, der.data, der.len), 0);
	tdc_buf_free(&der);
}

static void add_pem(struct tdc_collateral *c, const char *name, X509 *a, X509 *b)
{
	struct tdc_buf pem;

	tdc_test_pem(a, b, &pem);
	assert_int_equal(tdc_collateral_add(c, name, pem.data, pem.len), 0);
	tdc_buf_free(&pem);
}

struct scenario {
	const struct level *levels;
	size_t n_levels;
	const char *qe_status;
	bool other_fmspc, rogue_signer, revoke_pck, expired;
};

static struct tdc_collateral *make_collateral(const struct scenario *s)
{
	struct tdc_test_coll c = { .levels = s->levels, .n_levels = s->n_levels,
				   .qe_status = s->qe_status, .other_fmspc = s->other_fmspc,
				   .rogue_signer = s->rogue_signer, .revoke_pck = s->revoke_pck,
				   .expired = s->expired };

	return tdc_test_collateral(&pki, &c);
}

static const struct tdc_check *find_check(const struct tdc_quote_result *r, const char *name)
{
	return tdc_check_find(&r->checks, name);
}

static void run(const struct scenario *s, unsigned accept, struct tdc_quote_result *r)
{
	struct tdc_collateral *c = make_collateral(s);
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe(), .collateral = c,
				    .accept_tcb = accept, .allow_debug = true };

	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	tdc_collateral_free(c);
}

static void dump_failures(const struct tdc_quote_result *r)
{
	for (size_t i = 0; i < r->checks.n; i++)
		if (r->checks.v[i].status != TDC_CHECK_PASS)
			print_message("  FAIL %s: %s\n", r->checks.v[i].name, r->checks.v[i].detail);
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
		assert_int_equal(find_check(r, "tcb.status")->status == TDC_CHECK_PASS, want == TDC_TCB_UP_TO_DATE);
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
	tdc_quote_result_free(r);
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
	tdc_quote_result_free(r);
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
	assert_false(find_check(r, "tcb.level")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "tcb.level")->detail, "no matching TCB level"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_quote_result_free(r);
	free(r);
}

static void test_revoked_pck(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, true, false };

	run(&s, 0, r);
	assert_false(find_check(r, "pck.revocation")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "pck.revocation")->detail, "revoked"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_quote_result_free(r);
	free(r);
}

/* Two PCK CRLs: the newer one (listing the PCK) wins whatever the order. */
static void test_newest_crl(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, false, false };
	struct tdc_collateral *c = make_collateral(&s);
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe(), .collateral = c };

	add_crl_at(c, "pckcrl-new.der", keys.ca_cert, keys.ca_key, keys.pck_cert, 0);
	add_crl_at(c, "pckcrl-old.der", keys.ca_cert, keys.ca_key, NULL, 5);
	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	assert_false(find_check(r, "pck.revocation")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "pck.revocation")->detail, "pckcrl-new.der"));
	tdc_collateral_free(c);
	tdc_quote_result_free(r);
	free(r);
}

static void test_expired_collateral(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, false, true };

	run(&s, 0, r);
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_false(find_check(r, "collateral.tcb_info.validity")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info.validity")->detail, "expired"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_quote_result_free(r);
	free(r);
}

static void test_wrong_signer(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, false, true, false, false };

	run(&s, 0, r);
	assert_false(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail,
			       "not issued by the trusted root"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_quote_result_free(r);
	free(r);
}

static void test_other_fmspc(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct scenario s = { lv, 1, NULL, true, false, false, false };

	run(&s, 0, r);
	assert_false(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail, "no TCB info for FMSPC"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_quote_result_free(r);
	free(r);
}

/*
 * The QE report must come from the TD quoting enclave named beside the root
 * (trust.h), with or without collateral: Intel's identity refuses the
 * simulator's QE (MRSIGNER), an identity for another product refuses it
 * (ISVPRODID), a DEBUG-only attribute mask difference refuses it, and no
 * identity at all is a failure, never a pass.
 */
static void test_qe_identity_pinned(void **state)
{
	struct tdc_qe_identity other = *tdc_test_sim_qe();
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe() };
	const struct {
		const struct tdc_qe_identity *id;
		const char *why;
	} cases[] = {
		{ tdc_test_intel_qe(), "MRSIGNER" },
		{ &other, "ISVPRODID 2, the TD QE's is 1" },
		{ NULL, "no TD QE identity configured" },
	};

	other.isvprodid = 1;
	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	assert_true(find_check(r, "qe_report.identity")->status == TDC_CHECK_PASS);
	assert_true(r->all_pass);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o.qe_identity = cases[i].id;
		assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
		assert_true(find_check(r, "qe_report.identity")->status == TDC_CHECK_FAIL);
		assert_non_null(strstr(find_check(r, "qe_report.identity")->detail, cases[i].why));
		assert_false(r->all_pass);
		assert_int_equal(tdc_quote_exit_code(r), 1);
	}
	/* The DEBUG bit of the QE's ATTRIBUTES is under Intel's mask. */
	other = *tdc_test_sim_qe();
	other.attributes[0] |= 0x02;
	o.qe_identity = &other;
	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	assert_non_null(strstr(find_check(r, "qe_report.identity")->detail, "ATTRIBUTES"));
	tdc_quote_result_free(r);
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
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe(), .no_crl = true };

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
	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	if (!r->all_pass)
		dump_failures(r);
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_true(find_check(r, "collateral.qe_identity")->status == TDC_CHECK_PASS);
	assert_true(r->all_pass);
	tdc_collateral_free(c);
	tdc_quote_result_free(r);
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
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe(), .no_crl = true };
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
	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
	assert_string_equal(r->tcbinfo_name, "c-new.json");
	assert_int_equal(r->tcb_status, TDC_TCB_UP_TO_DATE);
	assert_true(r->all_pass);
	tdc_collateral_free(c);
	tdc_quote_result_free(r);
	free(r);
}

/* ---- passing over a TCB info for another platform unparsed ---------------- */

/* tdc_tcbinfo_peek_fmspc on text: what it reads, and where it declines. */
static void test_peek_fmspc(void **state)
{
	static const struct {
		const char *text;
		const char *want;       /* NULL: declines */
	} cases[] = {
		{ "{\"tcbInfo\":{\"id\":\"TDX\",\"fmspc\":\"50806f000000\"},\"signature\":\"00\"}",
		  "\x50\x80\x6f\x00\x00\x00" },
		{ " {\n \"tcbInfo\" : { \"fmspc\" : \"ABCDEF012345\" } }", "\xab\xcd\xef\x01\x23\x45" },
		/* Misleading FMSPCs elsewhere: nested, in a string, in the envelope. */
		{ "{\"x\":{\"fmspc\":\"111111111111\"},\"tcbInfo\":{\"tdxModule\":{\"fmspc\":"
		  "\"222222222222\"},\"note\":\"\\\"fmspc\\\":\\\"333333333333\\\"\","
		  "\"levels\":[{\"fmspc\":\"444444444444\"}],\"fmspc\":\"555555555555\"}}",
		  "\x55\x55\x55\x55\x55\x55" },
		{ "{\"signature\":\"{\\\"tcbInfo\\\":{\\\"fmspc\\\":\\\"111111111111\\\"}}\","
		  "\"tcbInfo\":{\"fmspc\":\"666666666666\"}}", "\x66\x66\x66\x66\x66\x66" },
		/* The first of duplicates (such a document does not parse: never used). */
		{ "{\"tcbInfo\":{\"fmspc\":\"777777777777\",\"fmspc\":\"888888888888\"}}",
		  "\x77\x77\x77\x77\x77\x77" },
		/* Declined: escaped key or value, another shape, truncated, no member. */
		{ "{\"tcbInfo\":{\"fm\\u0073pc\":\"50806f000000\"}}", NULL },
		{ "{\"tcb\\u0049nfo\":{\"fmspc\":\"50806f000000\"}}", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":\"50806f00000\\u0030\"}}", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":\"0x806f000000\"}}", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":\"50806f0000\"}}", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":\"50806f00000000\"}}", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":50806}}", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":\"50806f0000", NULL },
		{ "{\"tcbInfo\":{\"fmspc\":", NULL },
		{ "{\"tcbInfo\":{\"id\":\"TDX\"", NULL },
		{ "{\"tcbInfo\":{\"id\":\"TDX\"}}", NULL },
		{ "{\"tcbInfo\":[{\"fmspc\":\"50806f000000\"}]}", NULL },
		{ "[{\"tcbInfo\":{\"fmspc\":\"50806f000000\"}}]", NULL },
		{ "{\"enclaveIdentity\":{\"fmspc\":\"50806f000000\"}}", NULL },
		{ "{\"a\":\"unterminated,\"tcbInfo\":{\"fmspc\":\"50806f000000\"}}", NULL },
		{ "", NULL },
		{ "{", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t f[6] = { 0 };
		bool got = tdc_tcbinfo_peek_fmspc((const uint8_t *)cases[i].text,
						  strlen(cases[i].text), f);

		print_message("peek %zu: %s\n", i, got ? "reads" : "declines");
		assert_int_equal(got, cases[i].want != NULL);
		if (got)
			assert_memory_equal(f, cases[i].want, 6);
	}
}

static void add_signed(struct tdc_collateral *c, const char *name, const char *key,
		       const char *body)
{
	struct tdc_buf doc;

	signed_doc(&doc, key, body, sign_key);
	assert_int_equal(tdc_collateral_add(c, name, doc.data, doc.len), 0);
	tdc_buf_free(&doc);
}

/* A TCB info body for @fmspc with @extra members inserted first. */
static void tcbinfo_with(struct tdc_buf *out, const uint8_t fmspc[6], time_t issue,
			 const char *extra)
{
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_buf body;

	tcbinfo_body(&body, fmspc, issue, now + 86400, lv, 1);
	tdc_buf_init(out);
	tdc_buf_printf(out, "{%s%s", extra, tdc_buf_cstr(&body) + 1);
	tdc_buf_free(&body);
}

/* @b with the first @from replaced by @to. */
static void replace_in(struct tdc_buf *b, const char *from, const char *to)
{
	const char *t = tdc_buf_cstr(b), *at = strstr(t, from);
	struct tdc_buf out;

	assert_non_null(at);
	tdc_buf_init(&out);
	tdc_buf_printf(&out, "%.*s%s%s", (int)(at - t), t, to, at + strlen(from));
	tdc_buf_free(b);
	*b = out;
}

/* Hex fields are exactly their size: a "0x" prefix in the same length was
 * read as one byte short (the last left zero). */
static void test_hex_fields_exact(void **state)
{
	struct level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_tcbinfo t;
	struct tdc_buf body;
	char fm[13], want[20], bad[20];

	tcbinfo_body(&body, pck.fmspc, now - 60, now + 86400, lv, 1);
	assert_int_equal(tdc_tcbinfo_parse(tdc_buf_cstr(&body), body.len, &t), 0);
	tdc_tcbinfo_free(&t);
	tdc_hex_encode(pck.fmspc, 6, fm);
	snprintf(want, sizeof(want), "\"%s\"", fm);
	snprintf(bad, sizeof(bad), "\"0x%.10s\"", fm);
	replace_in(&body, want, bad);
	assert_int_not_equal(tdc_tcbinfo_parse(tdc_buf_cstr(&body), body.len, &t), 0);
	assert_non_null(strstr(tdc_errdetail(), "tcbInfo.fmspc"));
	tdc_buf_free(&body);
}

static struct tdc_collateral *peek_collateral(void)
{
	struct tdc_collateral *c;
	struct tdc_buf body;

	assert_int_equal(tdc_collateral_new(&c), 0);
	qeid_body(&body, now - 86400, now + 86400, "UpToDate");
	add_signed(c, "qe.json", "enclaveIdentity", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	add_pem(c, "chain.pem", sign_cert, keys.root_cert);
	return c;
}

static void appraise_peek(struct tdc_collateral *c, struct tdc_quote_result *r)
{
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe(), .no_crl = true,
				    .collateral = c };

	assert_int_equal(tdc_quote_appraise(&o, pki.quote.data, pki.quote.len, r), 0);
}

/*
 * Documents passed over by their text's FMSPC (tdc_tcbinfo_peek_fmspc):
 * misleading FMSPCs elsewhere in a document change nothing, an escaped key
 * is read by the parser, and when no document applies the failure is the
 * one a full parse of every document gives.
 */
static void test_tcbinfo_passed_over(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_collateral *c;
	struct tdc_buf body, doc;
	char mine[13], decoy[128];
	uint8_t other[6];

	memcpy(other, pck.fmspc, 6);
	other[0] ^= 1;
	tdc_hex_encode(pck.fmspc, 6, mine);
	snprintf(decoy, sizeof(decoy), "\"tdxNote\":{\"fmspc\":\"%s\"},\"n\":\"\\\"fmspc\\\":"
		 "\\\"%s\\\"\",", mine, mine);

	/* Another platform's, newer, with this platform's FMSPC as decoys: the
	 * quote's own document is chosen. */
	c = peek_collateral();
	tcbinfo_with(&body, other, now - 60, decoy);
	add_signed(c, "a-decoy.json", "tcbInfo", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	tcbinfo_with(&body, pck.fmspc, now - 3600, "\"tdxNote\":{\"fmspc\":\"000000000000\"},");
	add_signed(c, "b-mine.json", "tcbInfo", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	appraise_peek(c, r);
	assert_string_equal(r->tcbinfo_name, "b-mine.json");
	assert_true(r->all_pass);
	tdc_collateral_free(c);

	/* The decoy alone: no TCB info for this FMSPC, one for another. */
	c = peek_collateral();
	tcbinfo_with(&body, other, now - 60, decoy);
	add_signed(c, "a-decoy.json", "tcbInfo", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	appraise_peek(c, r);
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_FAIL);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail,
			       "(1 for other FMSPCs)"));
	tdc_collateral_free(c);

	/* An escaped "fmspc" key: not read from the text, parsed, and chosen. */
	c = peek_collateral();
	tcbinfo_with(&body, pck.fmspc, now - 3600, "");
	replace_in(&body, "\"fmspc\"", "\"fm\\u0073pc\"");
	add_signed(c, "escaped.json", "tcbInfo", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	appraise_peek(c, r);
	assert_string_equal(r->tcbinfo_name, "escaped.json");
	assert_true(r->all_pass);
	tdc_collateral_free(c);

	/* Another platform's document whose fields do not parse, alone: the
	 * failure names its error, as when every document was parsed. */
	c = peek_collateral();
	tcbinfo_with(&body, other, now - 60, "");
	replace_in(&body, "\"tcbType\":0", "\"tcbType\":\"0\"");
	add_signed(c, "bad-other.json", "tcbInfo", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	appraise_peek(c, r);
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_FAIL);
	print_message("%s\n", find_check(r, "collateral.tcb_info")->detail);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail, "bad-other.json"));
	tdc_collateral_free(c);

	/* This platform's document tampered with after signing, beside another
	 * platform's good one: the signature check fails, as before. */
	c = peek_collateral();
	tcbinfo_with(&body, other, now - 60, "");
	add_signed(c, "a-other.json", "tcbInfo", tdc_buf_cstr(&body));
	tdc_buf_free(&body);
	tcbinfo_with(&body, pck.fmspc, now - 3600, "");
	signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body), sign_key);
	strstr((char *)doc.data, "\"tcbEvaluationDataNumber\":17")[26] = '8';
	assert_int_equal(tdc_collateral_add(c, "b-tampered.json", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	appraise_peek(c, r);
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_FAIL);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail,
			       "signature does not verify"));
	tdc_collateral_free(c);

	/* Duplicate "fmspc" members (another's first): refused when added. */
	assert_int_equal(tdc_collateral_new(&c), 0);
	snprintf(decoy, sizeof(decoy), "\"fmspc\":\"%02x%s\",", other[0], mine + 2);
	tcbinfo_with(&body, pck.fmspc, now - 3600, decoy);
	signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body), sign_key);
	assert_int_not_equal(tdc_collateral_add(c, "dup.json", doc.data, doc.len), 0);
	assert_non_null(strstr(tdc_errdetail(), "duplicate"));
	tdc_buf_free(&doc);
	tdc_buf_free(&body);
	tdc_collateral_free(c);
	tdc_quote_result_free(r);
	free(r);
}

/* ---- TDX 1.5: TEE_TCB_SVN2 and the relaunch statuses ------------------------ */

struct td15 {
	uint8_t svn0, svn1, svn2_0, svn2_1;  /* module SVN and version: launch, now */
	const char *platform;                /* the one platform level's status */
	const char *qe;                      /* QE status (NULL: UpToDate) */
	const struct tdc_test_module *modules;
	size_t n_modules;
};

static void run15(const struct td15 *t, unsigned accept, struct tdc_quote_result *r)
{
	struct tdc_sim_params sp;
	struct tdc_buf q;
	struct tdx_quote pq;
	struct level lv[1] = { { 0, 0, t->platform, NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1, .qe_status = t->qe,
				   .modules = t->modules, .n_modules = t->n_modules };
	struct tdc_collateral *coll;
	struct tdc_quote_opts o = { .root = keys.root_cert, .at = now,
				    .qe_identity = tdc_test_sim_qe(), .accept_tcb = accept,
				    .allow_debug = true };

	tdc_sim_params_init(&sp);
	memset(sp.tee_tcb_svn, 0, 16);
	memset(sp.tee_tcb_svn2, 0, 16);
	sp.tee_tcb_svn[0] = t->svn0;
	sp.tee_tcb_svn[1] = t->svn1;
	sp.tee_tcb_svn2[0] = t->svn2_0;
	sp.tee_tcb_svn2[1] = t->svn2_1;
	tdc_buf_init(&q);
	tdc_test_pki_quote(&pki, &sp, true, &q);
	assert_int_equal(tdx_quote_parse(q.data, q.len, true, &pq), 0);
	assert_int_equal(pq.header.version, 5);
	assert_true(pq.body.is_1_5);
	c.tee_tcb_svn = pq.body.tee_tcb_svn;
	coll = tdc_test_collateral(&pki, &c);
	o.collateral = coll;
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	tdc_collateral_free(coll);
	tdc_buf_free(&q);
}

/* TDX_01: SVN 5 is current, 3 is out of date. */
static const struct tdc_test_module mod01[1] = {
	{ 1, { { 5, "UpToDate" }, { 3, "OutOfDate" } }, 2 },
};

static void test_relaunch_advised(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct td15 t = { 3, 1, 5, 1, "UpToDate", NULL, mod01, 1 };

	/* Built on module SVN 3 (out of date), updated at run time to SVN 5. */
	run15(&t, 0, r);
	if (!find_check(r, "tcb.relaunch"))
		dump_failures(r);
	assert_true(r->relaunch_evaluated);
	assert_int_equal(r->launch_status, TDC_TCB_OUT_OF_DATE);
	assert_int_equal(r->current_status, TDC_TCB_UP_TO_DATE);
	assert_int_equal(r->tcb_status, TDC_TCB_TD_RELAUNCH_ADVISED);
	assert_non_null(strstr(find_check(r, "tcb.relaunch")->detail, "updated at run time"));
	assert_non_null(strstr(find_check(r, "tcb.relaunch")->detail, "relaunch"));
	/* Not accepted unless the caller lists it; then everything passes. */
	assert_false(find_check(r, "tcb.status")->status == TDC_CHECK_PASS);
	assert_int_equal(tdc_quote_exit_code(r), 1);
	run15(&t, 1u << TDC_TCB_TD_RELAUNCH_ADVISED, r);
	if (!r->all_pass)
		dump_failures(r);
	assert_true(r->all_pass);
	assert_int_equal(tdc_quote_exit_code(r), 0);
	tdc_quote_result_free(r);
	free(r);
}

static void test_relaunch_configuration_needed(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct td15 t = { 3, 1, 5, 1, "ConfigurationNeeded", NULL, mod01, 1 };

	run15(&t, 0, r);
	assert_int_equal(r->launch_status, TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	assert_int_equal(r->current_status, TDC_TCB_CONFIGURATION_NEEDED);
	assert_int_equal(r->tcb_status, TDC_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);
	tdc_quote_result_free(r);
	free(r);
}

static void test_relaunch_not_advised(void **state)
{
	static const struct tdc_test_module mod3[1] = {
		{ 1, { { 7, "UpToDate" }, { 5, "OutOfDate" }, { 3, "OutOfDate" } }, 3 },
	};
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct td15 same = { 3, 1, 3, 1, "UpToDate", NULL, mod01, 1 };
	struct td15 still_old = { 3, 1, 5, 1, "UpToDate", NULL, mod3, 1 };
	struct td15 qe_old = { 3, 1, 5, 1, "UpToDate", "OutOfDate", mod01, 1 };
	struct td15 fine = { 5, 1, 5, 1, "UpToDate", NULL, mod01, 1 };

	/* No run-time update: out of date, nothing to gain from a relaunch. */
	run15(&same, 0, r);
	assert_int_equal(r->tcb_status, TDC_TCB_OUT_OF_DATE);
	assert_non_null(strstr(find_check(r, "tcb.relaunch")->detail, "unchanged"));
	/* Updated, but to a module that is still out of date. */
	run15(&still_old, 0, r);
	assert_int_equal(r->current_status, TDC_TCB_OUT_OF_DATE);
	assert_int_equal(r->tcb_status, TDC_TCB_OUT_OF_DATE);
	/* An out-of-date QE: a relaunch would not help. */
	run15(&qe_old, 0, r);
	assert_int_equal(r->tcb_status, TDC_TCB_OUT_OF_DATE);
	/* Built on the current module: up to date. */
	run15(&fine, 0, r);
	assert_int_equal(r->tcb_status, TDC_TCB_UP_TO_DATE);
	assert_true(r->all_pass);
	tdc_quote_result_free(r);
	free(r);
}

/* A TD-preserving update to a new major version: TEE_TCB_SVN2[1] names
 * another module identity. */
static void test_relaunch_new_major_version(void **state)
{
	static const struct tdc_test_module mods[2] = {
		{ 1, { { 5, "UpToDate" }, { 3, "OutOfDate" } }, 2 },
		{ 2, { { 1, "UpToDate" } }, 1 },
	};
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct td15 t = { 3, 1, 1, 2, "UpToDate", NULL, mods, 2 };
	struct td15 unknown = { 3, 1, 1, 3, "UpToDate", NULL, mods, 2 };

	run15(&t, 0, r);
	assert_int_equal(r->tcb_status, TDC_TCB_TD_RELAUNCH_ADVISED);
	/* TDX_03 is not in the TCB info: the current status is unknown, the
	 * launch status stands. */
	run15(&unknown, 0, r);
	assert_false(r->current_matched);
	assert_int_equal(r->tcb_status, TDC_TCB_OUT_OF_DATE);
	assert_non_null(strstr(find_check(r, "tcb.relaunch")->detail, "matches no TCB level"));
	tdc_quote_result_free(r);
	free(r);
}

/* The relaunch statuses are computed, never published: collateral that
 * carries one is rejected; and a TD 1.0 quote never gets them. */
static void test_relaunch_statuses_not_in_collateral(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct level lv[1] = { { 0, 0, "TDRelaunchAdvised", NULL } };
	struct scenario s = { lv, 1, NULL, false, false, false, false };

	run(&s, 0, r);
	assert_false(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail, "computed"));
	lv[0].status = "OutOfDate";
	run(&s, 0, r);
	assert_false(r->relaunch_evaluated);
	assert_null(find_check(r, "tcb.relaunch"));
	assert_int_equal(r->tcb_status, TDC_TCB_OUT_OF_DATE);
	tdc_quote_result_free(r);
	free(r);
}

static int setup(void **state)
{
	tdc_test_pki_init(&pki, NULL);
	return 0;
}

static int teardown(void **state)
{
	tdc_test_pki_free(&pki);
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
		cmocka_unit_test(test_peek_fmspc),
		cmocka_unit_test(test_tcbinfo_passed_over),
		cmocka_unit_test(test_hex_fields_exact),
		cmocka_unit_test(test_relaunch_advised),
		cmocka_unit_test(test_relaunch_configuration_needed),
		cmocka_unit_test(test_relaunch_not_advised),
		cmocka_unit_test(test_relaunch_new_major_version),
		cmocka_unit_test(test_relaunch_statuses_not_in_collateral),
		cmocka_unit_test(test_qe_identity_pinned),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
