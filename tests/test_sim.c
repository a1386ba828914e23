// SPDX-License-Identifier: Apache-2.0
/*
 * The labelled simulator (lib/sim.c): sim TDREPORT round trip and MAC, sim
 * Quote v4 parsed by the real quote parser and every signature of its chain
 * checked here with OpenSSL directly (not with the project's verifier, so
 * the two cannot share a bug), and the REPORTDATA binding of real claims.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "pck_ext.h"
#include "probe.h"
#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

static struct tdc_sim_keys keys;

static int setup(void **state)
{
	return tdc_sim_keys_generate(&keys);
}

static int teardown(void **state)
{
	tdc_sim_keys_free(&keys);
	return 0;
}

static void make_report(uint8_t rep[1024], uint8_t rd[64])
{
	struct tdc_sim_params p;

	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(0xc0 ^ i);
	tdc_sim_params_init(&p);
	assert_int_equal(tdc_sim_report(&keys, &p, rd, rep), 0);
}

static void test_report_roundtrip(void **state)
{
	uint8_t rep[1024], rd[64], other[32];
	struct tdx_report r;

	make_report(rep, rd);
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	assert_int_equal(tdx_report_check_hashes(&r), 0);
	assert_int_equal(r.warnings, 0);
	assert_memory_equal(r.report_data, rd, 64);
	assert_int_equal(r.td.attributes, TDX_ATTR_SEPT_VE_DISABLE);
	assert_int_equal(r.td.xfam, 0x2e7);
	assert_memory_equal(r.tcb.mr_signer_seam, TDC_SIM_SEAM_SIGNER,
			    strlen(TDC_SIM_SEAM_SIGNER));
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), keys.hmac_key), 0);

	memcpy(other, keys.hmac_key, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), other), TDC_ERR_SIGNATURE);

	/* REPORTDATA is under the MAC; TDINFO is under the hash link. */
	rep[TDX_OFF_REPORTDATA + 5] ^= 1;
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), keys.hmac_key),
			 TDC_ERR_SIGNATURE);
	rep[TDX_OFF_REPORTDATA + 5] ^= 1;
	rep[TDX_OFF_XFAM] ^= 0x80;
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), keys.hmac_key),
			 TDC_ERR_BINDING);
}

static void test_report_params(void **state)
{
	struct tdc_sim_params p = { .attributes = TDX_ATTR_DEBUG | TDX_ATTR_PKS,
				    .xfam = 0x602e7 };
	uint8_t rep[1024], rd[64] = { 0 };
	struct tdx_report r;

	assert_int_equal(tdc_sim_report(&keys, &p, rd, rep), 0);
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	assert_int_equal(r.td.attributes, TDX_ATTR_DEBUG | TDX_ATTR_PKS);
	assert_int_equal(r.td.xfam, 0x602e7);
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), keys.hmac_key), 0);
}

static void test_keys_save_load(void **state)
{
	char dir[] = "/tmp/tdc-test-sim-XXXXXX";
	static const char *const files[] = {
		TDC_SIM_ROOT_KEY, TDC_SIM_ROOT_CERT, TDC_SIM_CA_KEY, TDC_SIM_CA_CERT,
		TDC_SIM_PCK_KEY, TDC_SIM_PCK_CERT, TDC_SIM_ATT_KEY, TDC_SIM_HMAC_KEY,
	};
	struct tdc_sim_keys loaded;
	uint8_t rep[1024], rd[64];
	char path[512];
	struct stat st;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(tdc_sim_keys_save(&keys, dir), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	assert_int_equal(tdc_sim_keys_load(&loaded, dir), 0);
	assert_memory_equal(loaded.hmac_key, keys.hmac_key, 32);
	assert_int_equal(EVP_PKEY_eq(loaded.att_key, keys.att_key), 1);
	assert_int_equal(X509_cmp(loaded.pck_cert, keys.pck_cert), 0);
	make_report(rep, rd);
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), loaded.hmac_key), 0);
	tdc_sim_keys_free(&loaded);

	/* A short HMAC key file is refused, naming the file. */
	snprintf(path, sizeof(path), "%s/%s", dir, TDC_SIM_HMAC_KEY);
	assert_int_equal(truncate(path, 16), 0);
	assert_int_equal(tdc_sim_keys_load(&loaded, dir), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), TDC_SIM_HMAC_KEY));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	/* A missing directory names sim-keygen. */
	assert_int_equal(tdc_sim_keys_load(&loaded, dir), TDC_ERR_NOT_FOUND);
	assert_non_null(strstr(tdc_errdetail(), "sim-keygen"));
}

/* ---- independent OpenSSL checks of the quote ------------------------------ */

static EVP_PKEY *p256_from_xy(const uint8_t xy[64])
{
	uint8_t pt[65] = { 4 };
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;

	memcpy(pt + 1, xy, 64);
	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* 1 if r||s verifies as ECDSA-SHA256 over msg. */
static int verify_raw(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int der_len, ok;

	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	der_len = i2d_ECDSA_SIG(es, &der);
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, der, (size_t)der_len, msg, len) == 1;
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static STACK_OF(X509) *chain_from_pem(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *c;

	while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		sk_X509_push(sk, c);
	BIO_free(bio);
	return sk;
}

/* 1 if leaf -> intermediate -> @root verifies (root is the only anchor). */
static int chain_ok(STACK_OF(X509) *sk, X509 *root)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok;

	X509_STORE_add_cert(store, root);
	sk_X509_push(untrusted, sk_X509_value(sk, 1));
	X509_STORE_CTX_init(ctx, store, sk_X509_value(sk, 0), untrusted);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return ok;
}

static void make_quote(struct tdc_buf *q, uint8_t rep[1024])
{
	uint8_t rd[64];

	make_report(rep, rd);
	tdc_buf_init(q);
	assert_int_equal(tdc_sim_quote(&keys, rep, q), 0);
}

static void test_quote_parses(void **state)
{
	struct tdc_buf q;
	struct tdx_quote quote;
	struct tdx_report r;
	uint8_t rep[1024];

	make_quote(&q, rep);
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	/* Strict: the simulator emits no trailing bytes. */
	assert_int_equal(tdx_quote_parse(q.data, q.len, false, &quote), 0);
	assert_int_equal(quote.header.version, 4);
	assert_int_equal(quote.header.att_key_type, 2);
	assert_int_equal(quote.header.tee_type, 0x81);
	assert_memory_equal(quote.header.qe_vendor_id, "TDCPUID-SIM-QE!!", 16);
	assert_true(tdc_sim_quote_is_sim(&quote));
	assert_int_equal(quote.signed_len, 48 + 584);
	assert_int_equal(quote.trailing, 0);
	assert_memory_equal(quote.body.report_data, r.report_data, 64);
	assert_int_equal(quote.body.td_attributes, r.td.attributes);
	assert_int_equal(quote.body.xfam, r.td.xfam);
	assert_memory_equal(quote.body.mr_td, r.td.mr_td, 48);
	assert_memory_equal(quote.body.rtmr[3], r.td.rtmr[3], 48);
	assert_memory_equal(quote.body.mr_seam, r.tcb.mr_seam, 48);
	assert_memory_equal(quote.body.tee_tcb_svn, r.tcb.tee_tcb_svn, 16);

	/* Every strict prefix is rejected by the parser. */
	for (size_t n = 0; n < q.len; n += (n < 700 ? 1 : 37))
		assert_int_not_equal(tdx_quote_parse(q.data, n, false, &quote), 0);
	tdc_buf_free(&q);

	/* A report with a bad MAC is not quoted. */
	rep[TDX_OFF_MAC] ^= 1;
	tdc_buf_init(&q);
	assert_int_equal(tdc_sim_quote(&keys, rep, &q), TDC_ERR_SIGNATURE);
	tdc_buf_free(&q);
}

static void test_quote_signatures(void **state)
{
	struct tdc_buf q;
	struct tdx_quote quote;
	uint8_t rep[1024], md[32];
	unsigned int mdlen;
	EVP_PKEY *att, *pck;
	STACK_OF(X509) *sk;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	X509 *intel_root;
	BIO *bio;

	make_quote(&q, rep);
	assert_int_equal(tdx_quote_parse(q.data, q.len, false, &quote), 0);

	/* 1. attestation key over header||body */
	att = p256_from_xy(quote.attest_key);
	assert_true(verify_raw(att, quote.signed_data, quote.signed_len, quote.signature));
	q.data[0x3c] ^= 1;
	assert_false(verify_raw(att, quote.signed_data, quote.signed_len, quote.signature));
	q.data[0x3c] ^= 1;

	/* 2. QE report signed by the PCK leaf key from the embedded chain */
	sk = chain_from_pem(quote.pck_chain_pem, quote.pck_chain_len);
	assert_int_equal(sk_X509_num(sk), 3);
	pck = X509_get0_pubkey(sk_X509_value(sk, 0));
	assert_true(verify_raw(pck, quote.qe_report.raw, 384, quote.qe_report_sig));
	assert_false(verify_raw(att, quote.qe_report.raw, 384, quote.qe_report_sig));

	/* 3. QE report data = SHA-256(attest key || QE auth data) || zeros */
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, quote.attest_key, 64);
	EVP_DigestUpdate(ctx, quote.qe_auth_data, quote.qe_auth_len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	assert_int_equal(quote.qe_auth_len, 32);
	assert_memory_equal(quote.qe_report.report_data, md, 32);
	for (int i = 32; i < 64; i++)
		assert_int_equal(quote.qe_report.report_data[i], 0);

	/* 4. chain to the sim root, and only to it */
	assert_int_equal(X509_cmp(sk_X509_value(sk, 2), keys.root_cert), 0);
	assert_true(chain_ok(sk, keys.root_cert));
	bio = BIO_new_file(tdc_testdata("tdx/trust/Intel_SGX_Root_CA.pem"), "r");
	assert_non_null(bio);
	intel_root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(intel_root);
	assert_false(chain_ok(sk, intel_root));

	/* 5. the leaf carries the SGX extension, labelled, with the sim FMSPC */
	{
		ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
		X509 *leaf = sk_X509_value(sk, 0);
		int idx = X509_get_ext_by_OBJ(leaf, oid, -1);
		ASN1_OCTET_STRING *os;
		char cn[256];

		assert_true(idx >= 0);
		os = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
		assert_non_null(memmem(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os),
				       TDC_SIM_FMSPC, 6));
		X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
					  sizeof(cn));
		assert_non_null(strstr(cn, "SIMULATED"));
		ASN1_OBJECT_free(oid);
	}
	/* 6. the project's PCK extension decoder (verifier/quote/pck_ext.c) reads it */
	{
		struct tdc_pck_ext ext;

		assert_int_equal(tdc_pck_ext_from_cert(sk_X509_value(sk, 0), &ext), 0);
		assert_memory_equal(ext.fmspc, TDC_SIM_FMSPC, 6);
		assert_memory_equal(ext.ppid, "TDCPUID-SIM-PPID", 16);
		assert_int_equal(ext.pcesvn, TDC_SIM_PCESVN);
		assert_int_equal(ext.sgx_type, 0);
		assert_memory_equal(ext.cpusvn, quote.qe_report.cpu_svn, 16);
	}

	X509_free(intel_root);
	sk_X509_pop_free(sk, X509_free);
	EVP_PKEY_free(att);
	EVP_MD_CTX_free(ctx);
	tdc_buf_free(&q);
}

/*
 * REPORTDATA binding over a real claims encoding (this machine's CPUID on
 * CPU 0, via the agent's probe): the sim report and quote carry
 * SHA-512(tag || 0 || claims), and flipping any single bit of any claims
 * byte gives a different REPORTDATA.
 */
static void test_reportdata_binding(void **state)
{
	struct tdc_probe_opts opts = { .cpus = "0" };
	struct tdc_sim_params p;
	struct tdc_claims c;
	struct tdc_buf claims, q;
	struct tdx_quote quote;
	struct tdx_report r;
	uint8_t rd[64], rd2[64], rep[1024];

	tdc_claims_init(&c);
	tdc_buf_init(&claims);
	tdc_buf_init(&q);
	assert_int_equal(tdc_probe_run(&opts, &c), 0);
	c.tee = TDC_TEE_SIM;
	c.nonce_len = 16;
	memset(c.nonce, 0x42, 16);
	assert_int_equal(tdc_claims_encode(&c, &claims), 0);
	assert_true(claims.len > 100);
	assert_int_equal(tdc_reportdata_compute(claims.data, claims.len, rd), 0);
	tdc_sim_params_init(&p);
	assert_int_equal(tdc_sim_report(&keys, &p, rd, rep), 0);
	assert_int_equal(tdc_sim_quote(&keys, rep, &q), 0);
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	assert_int_equal(tdx_quote_parse(q.data, q.len, false, &quote), 0);
	assert_memory_equal(r.report_data, rd, 64);
	assert_memory_equal(quote.body.report_data, rd, 64);

	for (size_t i = 0; i < claims.len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			claims.data[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(tdc_reportdata_compute(claims.data, claims.len, rd2), 0);
			assert_memory_not_equal(rd2, r.report_data, 64);
			assert_memory_not_equal(rd2, quote.body.report_data, 64);
			claims.data[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* Appending or dropping a byte breaks it too. */
	assert_int_equal(tdc_reportdata_compute(claims.data, claims.len - 1, rd2), 0);
	assert_memory_not_equal(rd2, rd, 64);
	assert_int_equal(tdc_buf_put_u8(&claims, 0), 0);
	assert_int_equal(tdc_reportdata_compute(claims.data, claims.len, rd2), 0);
	assert_memory_not_equal(rd2, rd, 64);

	tdc_claims_free(&c);
	tdc_buf_free(&claims);
	tdc_buf_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_roundtrip),
		cmocka_unit_test(test_report_params),
		cmocka_unit_test(test_keys_save_load),
		cmocka_unit_test(test_quote_parses),
		cmocka_unit_test(test_quote_signatures),
		cmocka_unit_test(test_reportdata_binding),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
