// SPDX-License-Identifier: Apache-2.0
/*
 * Quote appraisal on the real Intel artifacts of tests/data/tdx: every
 * outcome listed in SOURCES.md, the PCK extension values, the 2023
 * collateral, and the verified-collateral cache.
 */
#include <stdlib.h>

#include "pki_util.h"
#include "testutil.h"
#include "quote_verify.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

#define SPR "tdx/tdx_prod_quote_SPR_E4.dat"
#define V5 "tdx/quote_v5_sample.dat"

static X509 *root;
static struct tdc_collateral *coll2023;

static time_t utc(const char *s)
{
	time_t t;

	assert_int_equal(tdc_time_parse(s, 0, &t), 0);
	return t;
}

static const struct tdc_check *find_check(const struct tdc_quote_result *r, const char *name)
{
	return tdc_check_find(&r->checks, name);
}

/* The only failing checks are exactly @names (NULL-terminated). */
static void expect_failures(const struct tdc_quote_result *r, const char *const *names)
{
	size_t n = 0;

	for (; names[n]; n++) {
		const struct tdc_check *c = find_check(r, names[n]);

		if (!c || c->status == TDC_CHECK_PASS)
			fail_msg("expected check %s to fail", names[n]);
	}
	for (size_t i = 0; i < r->checks.n; i++) {
		bool listed = false;

		for (size_t j = 0; j < n; j++)
			listed |= strcmp(r->checks.v[i].name, names[j]) == 0;
		if (r->checks.v[i].status == TDC_CHECK_FAIL && !listed)
			fail_msg("unexpected failure %s: %s", r->checks.v[i].name,
				 r->checks.v[i].detail);
	}
}

static int appraise(const char *rel, const char *at, struct tdc_collateral *coll,
		    struct tdc_quote_result *res, struct tdc_buf *q)
{
	struct tdc_quote_opts o = { .root = root, .qe_identity = tdc_test_intel_qe(), .at = utc(at), .collateral = coll };

	tdc_test_read(rel, q);
	return tdc_quote_appraise(&o, q->data, q->len, res);
}

static void test_real_quotes_verify(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf q;

	assert_int_equal(appraise(SPR, "2023-07-01T01:00:00Z", NULL, r, &q), 0);
	expect_failures(r, (const char *[]){ NULL });
	assert_true(r->all_pass);
	assert_int_equal(tdc_quote_exit_code(r), 0);
	assert_int_equal(r->trailing, 39);
	assert_int_equal(r->ecdsa_verifies, 4);
	tdc_buf_free(&q);

	assert_int_equal(appraise(V5, "2026-02-03T01:00:00Z", NULL, r, &q), 0);
	expect_failures(r, (const char *[]){ NULL });
	assert_int_equal(r->quote.body.body_type, 3);
	assert_int_equal(tdc_quote_exit_code(r), 0);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

static void test_expiry_2053(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf q;

	assert_int_equal(appraise(SPR, "2053-07-01T01:00:00Z", NULL, r, &q), 0);
	expect_failures(r, (const char *[]){ "pck_chain.validity", NULL });
	assert_non_null(strstr(find_check(r, "pck_chain.validity")->detail,
			       "PCK leaf certificate has expired"));
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

static void test_pck_extensions(void **state)
{
	static const uint8_t ppid[16] = { 8, 157, 223, 219, 156, 3, 89, 200, 42, 59, 199,
					  113, 146, 57, 87, 78 };
	static const uint8_t comps[16] = { 3, 3, 2, 2, 2, 1, 0, 2 };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf q;

	assert_int_equal(appraise(SPR, "2023-07-01T01:00:00Z", NULL, r, &q), 0);
	assert_true(r->have_pck);
	assert_memory_equal(r->pck.ppid, ppid, 16);
	assert_memory_equal(r->pck.fmspc, "\x50\x80\x6f\x00\x00\x00", 6);
	assert_memory_equal(r->pck.pceid, "\0\0", 2);
	assert_int_equal(r->pck.pcesvn, 11);
	assert_memory_equal(r->pck.cpusvn_comp, comps, 16);
	assert_memory_equal(r->pck.cpusvn, comps, 16);
	assert_int_equal(r->pck.sgx_type, 1);
	assert_string_equal(r->pck_serial, "BBA6C175D838B8DF3900CC3411F24F512D104102");
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

struct corruption {
	size_t off;
	uint8_t val;
	const char *check;
	const char *reason;
};

/* SOURCES.md: one byte of the SPR quote changed, one named failure. */
static const struct corruption corruptions[] = {
	{ 0x00, 3, "quote.structure", "unsupported quote version 3" },
	{ 0x1e, 0x32, "quote.signature", "quote signature fails" },
	{ 0x3c, 0x32, "quote.signature", "quote signature fails" },
	{ 0x278, 0x10, "quote.structure", "certification data size mismatch" },
	{ 0xb77, 0x32, "pck_chain.leaf", "PCK leaf signature fails" },
	{ 0xf5f, 0x32, "pck_chain.intermediate", "intermediate CA signature fails" },
	{ 0x1329, 0x32, "pck_chain.root", "root signature fails" },
	{ 0x1343, 0x32, "pck_chain.parse", "PCK chain invalid" },
};

static void test_corruptions(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_quote_opts o = { .root = root, .qe_identity = tdc_test_intel_qe(), .at = utc("2023-07-01T01:00:00Z") };
	struct tdc_buf q;

	tdc_test_read(SPR, &q);
	for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
		const struct corruption *c = &corruptions[i];
		uint8_t *copy = malloc(q.len);
		const struct tdc_check *chk;
		int ret;

		memcpy(copy, q.data, q.len);
		copy[c->off] = c->val;
		ret = tdc_quote_appraise(&o, copy, q.len, r);
		assert_int_equal(ret != 0, strcmp(c->check, "quote.structure") == 0);
		expect_failures(r, (const char *[]){ c->check, NULL });
		chk = find_check(r, c->check);
		if (!strstr(chk->detail, c->reason))
			fail_msg("offset 0x%zx: %s says \"%s\", want \"%s\"", c->off, c->check,
				 chk->detail, c->reason);
		assert_int_not_equal(tdc_quote_exit_code(r), 0);
		free(copy);
	}
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

/* The 2023 collateral verifies, but the SPR quote's TCB is below every level. */
static void test_collateral_2023(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf q;

	assert_int_equal(appraise(SPR, "2023-07-01T01:00:00Z", coll2023, r, &q), 0);
	expect_failures(r, (const char *[]){ "tcb.level", "tcb.status", NULL });
	assert_non_null(strstr(find_check(r, "tcb.level")->detail, "no matching TCB level"));
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_true(find_check(r, "collateral.qe_identity")->status == TDC_CHECK_PASS);
	assert_true(find_check(r, "collateral.pck_crl")->status == TDC_CHECK_PASS);
	assert_true(find_check(r, "collateral.root_crl")->status == TDC_CHECK_PASS);
	assert_true(find_check(r, "pck.revocation")->status == TDC_CHECK_PASS);
	assert_true(find_check(r, "qe_identity.tcb")->status == TDC_CHECK_PASS);
	assert_true(r->crl_checked);
	assert_false(r->tcb_matched);
	assert_string_equal(r->tcbinfo_name, "sample_tcbInfo_response");
	/* How far behind: the quote's components under the newest level. */
	assert_true(r->n_behind > 0);
	assert_string_equal(r->behind[0].what, "sgx[0]");
	assert_int_equal(r->behind[0].have, 3);
	assert_int_equal(r->behind[0].newest, 5);
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_buf_free(&q);

	/* A month later the TCB info and QE identity have expired. */
	assert_int_equal(appraise(SPR, "2023-08-01T00:00:00Z", coll2023, r, &q), 0);
	assert_false(find_check(r, "collateral.tcb_info.validity")->status == TDC_CHECK_PASS);
	assert_false(find_check(r, "collateral.qe_identity.validity")->status == TDC_CHECK_PASS);
	assert_false(find_check(r, "collateral.pck_crl")->status == TDC_CHECK_PASS);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

/* A corrupted TCB info byte breaks its signature; the cache must not hide it. */
static void test_collateral_tamper_and_cache(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_collateral_cache *cache;
	struct tdc_collateral *bad;
	struct tdc_quote_opts o = { .root = root, .qe_identity = tdc_test_intel_qe(), .at = utc("2023-07-01T01:00:00Z") };
	struct tdc_buf q, doc;
	unsigned long first;
	char *p;

	assert_int_equal(tdc_collateral_cache_new(&cache), 0);
	o.cache = cache;
	o.collateral = coll2023;
	tdc_test_read(SPR, &q);
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	first = r->ecdsa_verifies;
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	assert_true(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	/* Second run: only the quote and QE report signatures are verified. */
	assert_int_equal(r->ecdsa_verifies, 2);
	assert_true(first > r->ecdsa_verifies);
	/* Validity is still checked on a cache hit. */
	o.at = utc("2023-08-01T00:00:00Z");
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	assert_false(find_check(r, "collateral.tcb_info.validity")->status == TDC_CHECK_PASS);

	/* Tampered TCB info (a tcbStatus changed), same cache. */
	o.at = utc("2023-07-01T01:00:00Z");
	assert_int_equal(tdc_collateral_new(&bad), 0);
	tdc_test_read("tdx/collateral/sample_tcbInfo_response", &doc);
	p = strstr((char *)tdc_buf_cstr(&doc), "OutOfDate");
	assert_non_null(p);
	memcpy(p, "UpToDate ", 9);
	p[8] = '"';
	memmove(p + 9, p + 10, doc.len - (size_t)(p + 10 - (char *)doc.data));
	doc.len--;
	assert_int_equal(tdc_collateral_add(bad, "tampered", doc.data, doc.len), 0);
	tdc_buf_free(&doc);
	for (int i = 0; i < 2; i++) {
		o.collateral = bad;
		assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
		assert_false(find_check(r, "collateral.tcb_info")->status == TDC_CHECK_PASS);
		assert_non_null(strstr(find_check(r, "collateral.tcb_info")->detail,
				       "signature does not verify"));
	}
	tdc_collateral_free(bad);
	tdc_collateral_cache_free(cache);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

static void test_no_crl(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_quote_opts o = { .root = root, .qe_identity = tdc_test_intel_qe(), .at = utc("2023-07-01T01:00:00Z"),
				    .collateral = coll2023, .no_crl = true };
	struct tdc_buf q;
	json_t *j;

	tdc_test_read(SPR, &q);
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	assert_false(r->crl_checked);
	assert_null(find_check(r, "pck.revocation"));
	j = tdc_quote_result_json(r);
	assert_true(json_is_false(json_object_get(json_object_get(j, "collateral"),
						  "revocation_checked")));
	assert_int_equal(json_array_size(json_object_get(j, "checks")), r->checks.n);
	json_decref(j);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

/*
 * The v5 (TDX 1.5) quote against the real 2026 TCB info: module identity
 * TDX_01 applies.  The TCB signing certificate in the test data expired in
 * 2025 and the only QE identity is from 2023, so exactly those validity
 * checks fail while the evaluation itself runs.
 */
static void test_v5_module_identity(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_collateral *c;
	struct tdc_buf doc, q;
	static const char *const files[] = { "sample_tcbinfo_response_v5",
					     "sample_qeIdentity_response",
					     "tcb_signing_chain.pem" };
	struct tdc_quote_opts o = { .root = root, .qe_identity = tdc_test_intel_qe(), .at = utc("2026-02-03T01:00:00Z"),
				    .no_crl = true };
	char rel[128];

	assert_int_equal(tdc_collateral_new(&c), 0);
	for (size_t i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "tdx/collateral/%s", files[i]);
		tdc_test_read(rel, &doc);
		assert_int_equal(tdc_collateral_add(c, files[i], doc.data, doc.len), 0);
		tdc_buf_free(&doc);
	}
	o.collateral = c;
	tdc_test_read(V5, &q);
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	expect_failures(r, (const char *[]){ "collateral.tcb_info.validity",
					     "collateral.qe_identity.validity", NULL });
	assert_non_null(strstr(find_check(r, "collateral.tcb_info.validity")->detail,
			       "signing certificate has expired"));
	assert_non_null(strstr(find_check(r, "tdx_module.identity")->detail, "TDX_01"));
	assert_true(find_check(r, "tdx_module.tcb")->status == TDC_CHECK_PASS);
	assert_true(r->tcb_matched);
	assert_int_equal(r->tcb_status, TDC_TCB_UP_TO_DATE);
	assert_int_equal(r->levels_behind, 0);
	assert_false(r->crl_checked);
	tdc_collateral_free(c);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

/* The shifted report is not a TDREPORT and certainly not a quote. */
static void test_shifted_report(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdx_report rep;
	struct tdc_buf q;
	int ret;

	ret = appraise("tdx/malformed_report_shifted.dat", "2023-07-01T01:00:00Z", NULL, r, &q);
	assert_int_not_equal(ret, 0);
	assert_false(find_check(r, "quote.structure")->status == TDC_CHECK_PASS);
	ret = tdx_report_parse(q.data, q.len, &rep);
	assert_true(ret != 0 || tdx_report_check_hashes(&rep) != 0);
	tdc_buf_free(&q);
	tdc_quote_result_free(r);
	free(r);
}

static int setup(void **state)
{
	if (tdc_load_root(tdc_testdata("tdx/trust/Intel_SGX_Root_CA.pem"), &root) != 0)
		return -1;
	return tdc_collateral_load_dir(tdc_testdata("tdx/collateral"), &coll2023);
}

static int teardown(void **state)
{
	X509_free(root);
	tdc_collateral_free(coll2023);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_quotes_verify),
		cmocka_unit_test(test_expiry_2053),
		cmocka_unit_test(test_pck_extensions),
		cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_collateral_2023),
		cmocka_unit_test(test_collateral_tamper_and_cache),
		cmocka_unit_test(test_no_crl),
		cmocka_unit_test(test_v5_module_identity),
		cmocka_unit_test(test_shifted_report),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
