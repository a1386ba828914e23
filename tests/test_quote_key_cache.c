// SPDX-License-Identifier: Apache-2.0
/*
 * The attestation-key cache (issue 13): a quote carries its own attestation
 * key, and that key verifying the quote's own signature proves nothing
 * until a QE report signed by a PCK certificate that chains to the root
 * certifies it.  Only certified keys are cached, in an LRU of
 * TDC_CACHE_MAX_KEYS that never counts against the collateral cache's cap,
 * so a flood of distinct keys (certified or not) leaves caching on for
 * everyone else.  Simulator PKI: quotes made in-process.
 */
#include <openssl/evp.h>
#include <stdlib.h>

#include "collateral.h"
#include "quote_verify.h"
#include "pki_util.h"
#include "testutil.h"
#include "tdcpuid/check.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

#define SIGNED_AND_KEY 764 /* header + TD body 1.0, sig length, signature, key */

static struct tdc_sim_keys keys;
static uint8_t report[TDX_REPORT_LEN];

static int setup(void **state)
{
	struct tdc_sim_params p;
	uint8_t rd[TDX_REPORTDATA_LEN] = { 7 };

	tdc_sim_keys_init(&keys);
	tdc_sim_params_init(&p);
	if (tdc_sim_keys_generate(&keys) != 0 || tdc_sim_report(&keys, &p, rd, report) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	tdc_sim_keys_free(&keys);
	return 0;
}

/* A quote by a QE whose attestation key is a fresh one (certified by its QE report). */
static void quote_fresh_key(struct tdc_buf *out)
{
	EVP_PKEY *mine = keys.att_key;

	keys.att_key = EVP_EC_gen("P-256");
	assert_non_null(keys.att_key);
	assert_int_equal(tdc_sim_quote(&keys, report, out), 0);
	EVP_PKEY_free(keys.att_key);
	keys.att_key = mine;
}

static bool check_passed(const struct tdc_quote_result *r, const char *name, const char **detail)
{
	const struct tdc_check *c = tdc_check_find(&r->checks, name);

	if (!c)
		fail_msg("no check %s", name);
	if (detail)
		*detail = c->detail;
	return c->status == TDC_CHECK_PASS;
}

static void appraise(struct tdc_quote_opts *o, const struct tdc_buf *q, struct tdc_quote_result *r)
{
	assert_int_equal(tdc_quote_appraise(o, q->data, q->len, r), 0); /* storage reused */
}

static void test_key_flood(void **state)
{
	struct tdc_collateral_cache *cache;
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf honest, fresh, forged;
	struct tdc_quote_opts o = { .root = keys.root_cert, .qe_identity = tdc_test_sim_qe() };
	const char *detail = "";
	size_t n0;

	assert_non_null(r);
	tdc_buf_init(&honest);
	tdc_buf_init(&fresh);
	tdc_buf_init(&forged);
	assert_int_equal(tdc_collateral_cache_new(&cache), 0);
	o.cache = cache;
	o.at = time(NULL);
	assert_int_equal(tdc_sim_quote(&keys, report, &honest), 0);
	appraise(&o, &honest, r);
	assert_true(r->all_pass);
	n0 = cache->n;
	assert_int_equal(cache->nkeys, 1);

	/*
	 * Keys of their own: each quote signed by a new key, next to the honest
	 * QE's certification data (which binds the honest key).  The signature
	 * verifies, the QE report binding does not: nothing may be cached.
	 */
	for (int i = 0; i < 300; i++) {
		quote_fresh_key(&fresh);
		tdc_buf_reset(&forged);
		assert_int_equal(tdc_buf_put(&forged, fresh.data, SIGNED_AND_KEY), 0);
		assert_int_equal(tdc_buf_put(&forged, honest.data + SIGNED_AND_KEY,
					     honest.len - SIGNED_AND_KEY), 0);
		appraise(&o, &forged, r);
		assert_true(check_passed(r, "quote.signature", NULL));
		assert_false(check_passed(r, "qe_report.binding", NULL));
		assert_false(r->all_pass);
	}
	print_message("after 300 self-signed keys: %zu cache entries (%zu before)\n", cache->n, n0);
	assert_int_equal(cache->n, n0);

	/* Certified keys, more than the LRU holds: it stays bounded and caching stays on. */
	for (int i = 0; i < TDC_CACHE_MAX_KEYS + 50; i++) {
		quote_fresh_key(&fresh);
		appraise(&o, &fresh, r);
		assert_true(r->all_pass);
	}
	print_message("after %d certified keys: %zu keys cached\n", TDC_CACHE_MAX_KEYS + 50,
		      cache->nkeys);
	assert_true(cache->nkeys <= TDC_CACHE_MAX_KEYS);
	assert_true(tdc_collateral_cache_has_room(cache));
	appraise(&o, &honest, r);
	assert_true(r->all_pass);
	assert_true(check_passed(r, "pck_chain.intermediate", &detail));
	assert_non_null(strstr(detail, "cached"));
	/* And the honest key is back in the cache, the most recently used. */
	unsigned long hits = cache->hits;

	appraise(&o, &honest, r);
	assert_true(r->all_pass);
	assert_true(cache->hits >= hits + 2); /* the chain and the key */
	tdc_collateral_cache_free(cache);
	tdc_buf_free(&honest);
	tdc_buf_free(&fresh);
	tdc_buf_free(&forged);
	tdc_quote_result_free(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_flood),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
