// SPDX-License-Identifier: Apache-2.0
/*
 * The verified-result cache is keyed by hashes of bytes an attacker may
 * choose: a quote whose PCK "chain" is a collateral document the cache has
 * already verified (the root CRL, a TCB info) must miss, fail the chain
 * check, and never be read as a verified chain (found by review: it was a
 * heap overread before entries were matched by kind).
 */
#include <stdlib.h>

#include "collateral.h"
#include "quote_verify.h"
#include "pki_util.h"
#include "testutil.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/tdx.h"

static void put_le(struct tdc_buf *b, uint32_t v, int n)
{
	for (int i = 0; i < n; i++)
		tdc_buf_put_u8(b, (uint8_t)(v >> (8 * i)));
}

/* The real SPR quote, re-assembled with @chain as its type-5 certification data. */
static void forge(const struct tdc_buf *q, const struct tdx_quote *pq, const struct tdc_buf *chain,
		  struct tdc_buf *out)
{
	size_t size6 = 384 + 64 + 2 + pq->qe_auth_len + 6 + chain->len;

	tdc_buf_init(out);
	tdc_buf_put(out, q->data, pq->signed_len);
	put_le(out, (uint32_t)(64 + 64 + 6 + size6), 4);
	tdc_buf_put(out, pq->signature, 64);
	tdc_buf_put(out, pq->attest_key, 64);
	put_le(out, 6, 2);
	put_le(out, (uint32_t)size6, 4);
	tdc_buf_put(out, pq->qe_report.raw, 384);
	tdc_buf_put(out, pq->qe_report_sig, 64);
	put_le(out, (uint32_t)pq->qe_auth_len, 2);
	tdc_buf_put(out, pq->qe_auth_data, pq->qe_auth_len);
	put_le(out, 5, 2);
	put_le(out, (uint32_t)chain->len, 4);
	tdc_buf_put(out, chain->data, chain->len);
}

static void test_document_as_chain(void **state)
{
	static const char *const docs[] = { "tdx/collateral/rootcrl.der",
					    "tdx/collateral/sample_tcbInfo_response",
					    "tdx/collateral/sample_qeIdentity_response" };
	struct tdc_collateral *coll;
	struct tdc_collateral_cache *cache;
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_buf q, doc, forged;
	struct tdx_quote pq;
	X509 *root;
	struct tdc_quote_opts o;

	assert_non_null(r);
	assert_int_equal(tdc_load_root(tdc_testdata("tdx/trust/Intel_SGX_Root_CA.pem"), &root), 0);
	assert_int_equal(tdc_collateral_load_dir(tdc_testdata("tdx/collateral"), &coll), 0);
	assert_int_equal(tdc_collateral_cache_new(&cache), 0);
	o = (struct tdc_quote_opts){ .root = root, .qe_identity = tdc_test_intel_qe(),
				     .collateral = coll, .cache = cache };
	assert_int_equal(tdc_time_parse("2023-07-01T01:00:00Z", 0, &o.at), 0);
	tdc_test_read("tdx/tdx_prod_quote_SPR_E4.dat", &q);
	/* Fill the cache with verified collateral (the chain itself verifies). */
	assert_int_equal(tdc_quote_appraise(&o, q.data, q.len, r), 0);
	assert_int_equal(tdx_quote_parse(q.data, q.len, true, &pq), 0);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		bool chain_ok = true;

		tdc_test_read(docs[i], &doc);
		forge(&q, &pq, &doc, &forged);
		tdc_quote_appraise(&o, forged.data, forged.len, r);
		for (size_t k = 0; k < r->checks.n; k++)
			if (!strncmp(r->checks.v[k].name, "pck_chain", 9) && r->checks.v[k].status != TDC_CHECK_PASS)
				chain_ok = false;
		assert_false(chain_ok);
		assert_false(r->all_pass);
		tdc_buf_free(&forged);
		tdc_buf_free(&doc);
	}
	tdc_buf_free(&q);
	tdc_collateral_cache_free(cache);
	tdc_collateral_free(coll);
	X509_free(root);
	tdc_quote_result_free(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document_as_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
