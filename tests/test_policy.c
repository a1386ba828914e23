// SPDX-License-Identifier: Apache-2.0
/*
 * Policy parser and evaluation helpers: shipped policies load, the built-in
 * default is policies/default.json, malformed policies are rejected naming
 * the key, mask semantics (allowed vs required), DEBUG handling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "policy.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

static const char *policy_path(const char *name)
{
	static char path[4096];
	const char *src = getenv("TDC_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/policies/%s", src ? src : TDC_SOURCE_DIR, name);
	return path;
}

static struct tdc_policy *load(const char *name)
{
	struct tdc_policy *p = NULL;
	int r = tdc_policy_load(policy_path(name), &p);

	if (r)
		fail_msg("%s: %s", name, tdc_errmsg(r));
	return p;
}

static int parse_str(const char *json, struct tdc_policy **p)
{
	return tdc_policy_parse((const uint8_t *)json, strlen(json), "t.json", NULL, p);
}

static void test_shipped_load(void **state)
{
	static const char *const names[] = { "default.json", "strict.json", "audit.json" };

	for (size_t i = 0; i < 3; i++) {
		struct tdc_policy *p = load(names[i]);

		assert_int_equal(p->version, 1);
		assert_non_null(p->trust_anchor);
		assert_int_equal(access(p->trust_anchor, R_OK), 0);
		tdc_policy_free(p);
	}
}

static void test_builtin_is_default_json(void **state)
{
	struct tdc_buf b;
	struct tdc_policy *d = NULL, *f = load("default.json");

	tdc_buf_init(&b);
	assert_int_equal(tdc_read_file(policy_path("default.json"), 1 << 20, &b), 0);
	assert_int_equal(b.len, strlen(tdc_policy_default_json()));
	assert_memory_equal(b.data, tdc_policy_default_json(), b.len);
	assert_int_equal(tdc_policy_default(&d), 0);
	assert_string_equal(d->name, "default");
	assert_int_equal(d->fail_on, f->fail_on);
	assert_int_equal(d->attributes_allowed, f->attributes_allowed);
	assert_int_equal(d->accept_tcb, f->accept_tcb);
	assert_false(d->allow_simulated);
	assert_false(d->allow_debug);
	tdc_buf_free(&b);
	tdc_policy_free(d);
	tdc_policy_free(f);
}

/* Each malformed policy fails with the offending key in the message. */
static void test_malformed(void **state)
{
	static const struct {
		const char *json;
		int code;
		const char *needle;
	} cases[] = {
		{ "{\"version\":1,\"frobnicate\":true}", TDC_ERR_FORMAT, "t.json: frobnicate: unknown key" },
		{ "{\"version\":1,\"allow_debug\":\"yes\"}", TDC_ERR_TYPE, "allow_debug: expected true or false" },
		{ "{\"version\":2}", TDC_ERR_VERSION, "version: 2" },
		{ "{\"name\":\"x\"}", TDC_ERR_MISSING, "version: missing" },
		{ "{\"version\":1,\"version\":1}", TDC_ERR_DUPLICATE, "duplicate" },
		{ "{\"version\":1,\"required_bits\":[\"no-such-feature\"]}", TDC_ERR_NOT_FOUND, "required_bits[0]" },
		{ "{\"version\":1,\"forbidden_bits\":[\"avx2\", 5]}", TDC_ERR_TYPE, "forbidden_bits[1]" },
		{ "{\"version\":1,\"required_bits\":[\"avx2\"],\"forbidden_bits\":[\"CPUID.07H.0:EBX[5]\"]}", TDC_ERR_RANGE, "forbidden_bits[0]" },
		{ "{\"version\":1,\"fail_on\":[\"mismatch\",\"bogus\"]}", TDC_ERR_RANGE, "fail_on[1]: unknown verdict" },
		{ "{\"version\":1,\"mrtd\":[\"00\"]}", TDC_ERR_FORMAT, "mrtd[0]" },
		{ "{\"version\":1,\"rtmr2\":\"00\"}", TDC_ERR_TYPE, "rtmr2: expected array" },
		{ "{\"version\":1,\"min_tee_tcb_svn\":\"0102\"}", TDC_ERR_FORMAT, "min_tee_tcb_svn" },
		{ "{\"version\":1,\"attributes\":{\"allowed\":[\"PKS\",\"NOPE\"]}}", TDC_ERR_RANGE, "attributes.allowed[1]" },
		{ "{\"version\":1,\"attributes\":{\"maybe\":0}}", TDC_ERR_FORMAT, "attributes.maybe: unknown key" },
		{ "{\"version\":1,\"attributes\":{\"required\":[\"DEBUG\"]}}", TDC_ERR_RANGE, "allow_debug" },
		{ "{\"version\":1,\"xfam\":{\"allowed\":\"0x3\",\"required\":[\"YMM\"]}}", TDC_ERR_RANGE, "xfam.required" },
		{ "{\"version\":1,\"accept_tcb\":[\"Fine\"]}", TDC_ERR_RANGE, "accept_tcb[0]" },
		{ "{\"version\":1,\"nonce_max_age\":0}", TDC_ERR_RANGE, "nonce_max_age" },
		{ "{\"version\":1,\"nonce_max_age\":-5}", TDC_ERR_RANGE, "nonce_max_age" },
		{ "{\"version\":1,\"untrusted_leaves\":[\"0x40000010-0x40000001\"]}", TDC_ERR_RANGE, "untrusted_leaves[0]" },
		{ "{\"version\":1,\"trust_anchor\":7}", TDC_ERR_TYPE, "trust_anchor" },
		{ "[1]", TDC_ERR_TYPE, "top level" },
		{ "{\"version\":1", TDC_ERR_FORMAT, "t.json: line 1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tdc_policy *p = NULL;
		int r = parse_str(cases[i].json, &p);

		if (r != cases[i].code || !strstr(tdc_errdetail(), cases[i].needle))
			fail_msg("case %zu %s: got %d '%s', want %d containing '%s'", i,
				 cases[i].json, r, tdc_errdetail(), cases[i].code, cases[i].needle);
		assert_null(p);
	}
}

static void test_size_cap(void **state)
{
	size_t n = TDC_POLICY_FILE_MAX + 1;
	uint8_t *big = malloc(n);
	struct tdc_policy *p = NULL;

	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	assert_int_equal(tdc_policy_parse(big, n, "big.json", NULL, &p), TDC_ERR_TOO_LARGE);
	assert_null(p);
	free(big);
}

static const uint8_t zero_svn[16];

static int td(const struct tdc_policy *p, uint64_t attrs, uint64_t xfam)
{
	return tdc_policy_check_td(p, attrs, xfam, zero_svn, NULL, NULL, NULL, NULL);
}

/* PKS allowed but not required: a TD with or without it passes. */
static void test_mask_semantics(void **state)
{
	struct tdc_policy *d = load("default.json"), *s = load("strict.json");
	const uint64_t x87sse = 0x3;
	struct tdc_buf why;

	tdc_buf_init(&why);
	assert_int_equal(td(d, TDX_ATTR_SEPT_VE_DISABLE, x87sse), 0);
	assert_int_equal(td(d, TDX_ATTR_SEPT_VE_DISABLE | TDX_ATTR_PKS, x87sse), 0);
	assert_int_equal(td(d, 0, 0x2e7), 0);
	/* MIGRATABLE (bit 29) is not in the default's allowed set. */
	assert_int_equal(tdc_policy_check_td(d, 1ull << 29, x87sse, zero_svn, NULL, NULL, NULL,
					     &why), TDC_ERR_POLICY);
	assert_non_null(strstr(tdc_buf_cstr(&why), "MIGRATABLE"));
	/* XFAM must contain FP and SSE. */
	assert_int_equal(td(d, 0, 0x1), TDC_ERR_POLICY);
	/* strict requires SEPT_VE_DISABLE; PKS alone is not enough. */
	assert_int_equal(td(s, TDX_ATTR_PKS, x87sse), TDC_ERR_POLICY);
	assert_int_equal(td(s, TDX_ATTR_PKS | TDX_ATTR_SEPT_VE_DISABLE, x87sse), 0);
	/* PERFMON is allowed by default but not by strict. */
	assert_int_equal(td(d, TDX_ATTR_PERFMON, x87sse), 0);
	assert_int_equal(td(s, TDX_ATTR_PERFMON | TDX_ATTR_SEPT_VE_DISABLE, x87sse),
			 TDC_ERR_POLICY);
	tdc_buf_free(&why);
	tdc_policy_free(d);
	tdc_policy_free(s);
}

static void test_debug(void **state)
{
	struct tdc_policy *d = NULL, *a = load("audit.json"), *p = NULL;
	struct tdc_buf why;

	tdc_buf_init(&why);
	assert_int_equal(tdc_policy_default(&d), 0);
	assert_int_equal(tdc_policy_check_td(d, TDX_ATTR_DEBUG | TDX_ATTR_SEPT_VE_DISABLE, 3,
					     zero_svn, NULL, NULL, NULL, &why), TDC_ERR_POLICY);
	assert_non_null(strstr(tdc_buf_cstr(&why), "DEBUG"));
	assert_non_null(strstr(tdc_errdetail(), "DEBUG"));
	assert_int_equal(td(a, TDX_ATTR_DEBUG, 3), 0);
	/* allow_debug alone is enough: DEBUG need not be listed in attributes.allowed. */
	assert_int_equal(parse_str("{\"version\":1,\"allow_debug\":true}", &p), 0);
	assert_int_equal(td(p, TDX_ATTR_DEBUG | TDX_ATTR_PKS, 3), 0);
	tdc_buf_free(&why);
	tdc_policy_free(d);
	tdc_policy_free(a);
	tdc_policy_free(p);
}

static void test_svn_and_measurements(void **state)
{
	char json[512], h1[97], h2[97];
	uint8_t svn[16] = { 3, 0, 2 }, mrtd[48], rtmr[4][48], cfg[48] = { 0 };
	struct tdc_policy *p = NULL;

	memset(h1, '1', 96);
	memset(h2, '2', 96);
	h1[96] = h2[96] = '\0';
	snprintf(json, sizeof(json), "{\"version\":1,\"min_tee_tcb_svn\":"
		 "\"03000200000000000000000000000000\",\"mrtd\":[\"%s\"],"
		 "\"rtmr1\":[\"0x%s\"]}", h1, h2);
	assert_int_equal(parse_str(json, &p), 0);
	memset(mrtd, 0x11, sizeof(mrtd));
	memset(rtmr, 0, sizeof(rtmr));
	memset(rtmr[1], 0x22, 48);
	assert_int_equal(tdc_policy_check_td(p, 0, 3, svn, mrtd, rtmr, cfg, NULL), 0);
	/* Componentwise: a higher first byte does not make up for a lower third one. */
	svn[0] = 9;
	svn[2] = 1;
	assert_int_equal(tdc_policy_check_td(p, 0, 3, svn, mrtd, rtmr, cfg, NULL), TDC_ERR_POLICY);
	assert_non_null(strstr(tdc_errdetail(), "TEE_TCB_SVN[2]"));
	svn[2] = 2;
	mrtd[47] ^= 1;
	assert_int_equal(tdc_policy_check_td(p, 0, 3, svn, mrtd, rtmr, cfg, NULL), TDC_ERR_POLICY);
	assert_non_null(strstr(tdc_errdetail(), "MRTD"));
	mrtd[47] ^= 1;
	rtmr[1][0] = 0;
	assert_int_equal(tdc_policy_check_td(p, 0, 3, svn, mrtd, rtmr, cfg, NULL), TDC_ERR_POLICY);
	assert_non_null(strstr(tdc_errdetail(), "RTMR1"));
	tdc_policy_free(p);
}

static void test_verdicts(void **state)
{
	struct tdc_policy *d = load("default.json"), *s = load("strict.json"),
			  *a = load("audit.json");

	assert_true(tdc_policy_verdict_fails(d, TDC_V_MISMATCH, 1));
	assert_false(tdc_policy_verdict_fails(d, TDC_V_UNTRUSTED, 0x40000001));
	assert_false(tdc_policy_verdict_fails(d, TDC_V_FORCED, 1));
	assert_true(tdc_policy_verdict_fails(s, TDC_V_UNTRUSTED, 0x40000001));
	assert_true(tdc_policy_verdict_fails(s, TDC_V_UNTRUSTED, 0x40000000));
	assert_false(tdc_policy_verdict_fails(s, TDC_V_UNTRUSTED, 0x40000002));
	for (int v = 0; v < TDC_V__COUNT; v++)
		assert_false(tdc_policy_verdict_fails(a, (enum tdc_verdict)v, 0x40000001));
	tdc_policy_free(d);
	tdc_policy_free(s);
	tdc_policy_free(a);
}

static void test_required_bits_and_ranges(void **state)
{
	struct tdc_policy *s = load("strict.json"), *p = NULL;
	const struct tdc_policy_bit *b;
	size_t n;

	b = tdc_policy_required(s, &n);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].leaf, 1);
	assert_int_equal(b[0].reg, TDC_ECX);
	assert_int_equal(b[0].bit, 31);
	assert_int_equal(parse_str("{\"version\":1,\"forbidden_bits\":[\"avx2\"],"
				   "\"fail_on\":[],\"untrusted_leaves\":[\"0x40000000-0x400000ff\"]}",
				   &p), 0);
	b = tdc_policy_forbidden(p, &n);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].leaf, 7);
	assert_int_equal(b[0].reg, TDC_EBX);
	assert_int_equal(b[0].bit, 5);
	assert_string_equal(p->name, "t");
	assert_true(tdc_policy_verdict_fails(p, TDC_V_UNTRUSTED, 0x400000ff));
	assert_false(tdc_policy_verdict_fails(p, TDC_V_UNTRUSTED, 0x40000100));
	assert_false(tdc_policy_verdict_fails(p, TDC_V_MISMATCH, 1));
	tdc_policy_free(s);
	tdc_policy_free(p);
}

static void test_evidence_and_tcb(void **state)
{
	struct tdc_policy *d = load("default.json"), *s = load("strict.json"),
			  *a = load("audit.json");

	assert_int_equal(tdc_policy_check_evidence(d, true, true, NULL), TDC_ERR_POLICY);
	assert_non_null(strstr(tdc_errdetail(), "simulated"));
	/* A TDREPORT alone authenticates nothing off-platform: default needs a quote. */
	assert_int_equal(tdc_policy_check_evidence(d, false, false, NULL), TDC_ERR_POLICY);
	assert_int_equal(tdc_policy_check_evidence(d, false, true, NULL), 0);
	assert_int_equal(tdc_policy_check_evidence(s, false, false, NULL), TDC_ERR_POLICY);
	assert_int_equal(tdc_policy_check_evidence(a, true, false, NULL), 0);
	assert_int_equal(tdc_policy_check_tcb(d, "UpToDate", NULL), 0);
	assert_int_equal(tdc_policy_check_tcb(d, "SWHardeningNeeded", NULL), 0);
	assert_int_equal(tdc_policy_check_tcb(s, "SWHardeningNeeded", NULL), TDC_ERR_POLICY);
	assert_int_equal(tdc_policy_check_tcb(d, "OutOfDate", NULL), TDC_ERR_POLICY);
	assert_int_equal(tdc_policy_check_tcb(a, "Revoked", NULL), 0);
	assert_int_equal(tdc_policy_check_tcb(a, "Whatever", NULL), TDC_ERR_POLICY);
	tdc_policy_free(d);
	tdc_policy_free(s);
	tdc_policy_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_load),
		cmocka_unit_test(test_builtin_is_default_json),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_mask_semantics),
		cmocka_unit_test(test_debug),
		cmocka_unit_test(test_svn_and_measurements),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_required_bits_and_ranges),
		cmocka_unit_test(test_evidence_and_tcb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
