// SPDX-License-Identifier: Apache-2.0
/*
 * The certificate library context (verifier/quote/crypto.c): certificates
 * parsed there are ordinary X509 objects — the genuine SPR quote's PCK
 * chain verifies with X509_verify_cert against the pinned Intel root and
 * with X509_verify link by link, X509_check_ca tells CA from leaf — and a
 * key our one decoder does not take (RSA, P-384, a compressed point, a point
 * off the curve) leaves the certificate without a key.
 * The P-256 key built from a template copy rejects a point off the curve.
 * The chain's PEM reader decodes what OpenSSL's does and nothing looser,
 * and any base64 wrapped anyhow.
 * r||s signatures verify whatever their leading bytes (the DER written by
 * hand), and fail with any bit changed.
 */
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "testutil.h"
#include "crypto.h"
#include "quote_verify.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

static void read_chain(X509 *c[3])
{
	struct tdc_buf b;
	struct tdx_quote q;
	BIO *bio;

	tdc_test_read("tdx/tdx_prod_quote_SPR_E4.dat", &b);
	assert_int_equal(tdx_quote_parse(b.data, b.len, true, &q), 0);
	bio = BIO_new_mem_buf(q.pck_chain_pem, (int)q.pck_chain_len);
	for (int i = 0; i < 3; i++)
		assert_non_null(c[i] = tdc_pem_read_cert(bio));
	assert_null(tdc_pem_read_cert(bio));
	BIO_free(bio);
	tdc_buf_free(&b);
}

static void chain_is_ordinary(void **state)
{
	X509 *c[3], *root;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(tdc_cert_libctx(), NULL);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	time_t at;

	assert_non_null(tdc_cert_libctx());
	read_chain(c);
	assert_int_equal(tdc_load_root(tdc_testdata("tdx/trust/Intel_SGX_Root_CA.pem"), &root), 0);
	assert_int_equal(X509_cmp(c[2], root), 0);
	assert_int_equal(X509_verify(c[1], X509_get0_pubkey(root)), 1);
	assert_int_equal(X509_verify(c[0], X509_get0_pubkey(c[1])), 1);
	assert_int_equal(X509_verify(c[0], X509_get0_pubkey(root)), 0);
	assert_int_not_equal(X509_check_ca(c[1]), 0);
	assert_int_equal(X509_check_ca(c[0]), 0);
	assert_int_equal(tdc_time_parse("2023-07-01T01:00:00Z", 0, &at), 0);
	X509_STORE_add_cert(st, root);
	sk_X509_push(untrusted, c[1]);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, c[0], untrusted), 1);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(st);
	X509_free(root);
	for (int i = 0; i < 3; i++)
		X509_free(c[i]);
}

/* A self-signed certificate for @k, DER-encoded (free with OPENSSL_free). */
static int self_signed(EVP_PKEY *k, unsigned char **der)
{
	X509 *x = X509_new();
	int len;

	assert_non_null(k);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"self", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	*der = NULL;
	assert_true((len = i2d_X509(x, der)) > 0);
	X509_free(x);
	return len;
}

/* Parses in the certificate context, but without a key: nothing verifies. */
static void parses_without_key(const unsigned char *der, int len)
{
	X509 *y;

	assert_non_null(y = tdc_der_read_cert(der, (size_t)len));
	assert_null(X509_get0_pubkey(y));
	assert_int_not_equal(X509_verify(y, X509_get0_pubkey(y)), 1);
	X509_free(y);
}

/* A self-signed RSA certificate: parses, but our decoder does not take its key. */
static void rsa_key_fails_closed(void **state)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	unsigned char *der;
	int len = self_signed(k, &der);

	parses_without_key(der, len);
	/* One byte more than the certificate: not exactly one DER certificate. */
	der = OPENSSL_realloc(der, (size_t)len + 1);
	der[len] = 0;
	assert_null(tdc_der_read_cert(der, (size_t)len + 1));
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/* The SubjectPublicKeyInfo prefix of a P-256 key, uncompressed. */
static const unsigned char p256_spki[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

static unsigned char *find(unsigned char *hay, int len, const unsigned char *needle, size_t n)
{
	for (int i = 0; i + (int)n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

/*
 * Our decoder takes exactly a P-256 uncompressed point on the curve: such a
 * key is decoded and verifies its certificate; another curve, a compressed
 * point, a point off the curve (y changed) or an SPKI of another length
 * leave the certificate without a key.
 */
static void p256_decoder_exact(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384"), *comp;
	unsigned char *der, *spki;
	X509 *y;
	int len = self_signed(k, &der);

	assert_non_null(y = tdc_der_read_cert(der, (size_t)len));
	assert_non_null(X509_get0_pubkey(y));
	assert_int_equal(X509_verify(y, X509_get0_pubkey(y)), 1);
	assert_int_equal(EVP_PKEY_eq(k, X509_get0_pubkey(y)), 1);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(y)), 256);
	X509_free(y);
	assert_non_null(spki = find(der, len, p256_spki, sizeof(p256_spki)));
	spki[sizeof(p256_spki) + 63] ^= 1;
	parses_without_key(der, len);
	spki[sizeof(p256_spki) + 63] ^= 1;
	spki[1] = 0x5a;  /* SPKI one byte longer than its content: not DER */
	assert_null(tdc_der_read_cert(der, (size_t)len));
	OPENSSL_free(der);

	len = self_signed(p384, &der);
	parses_without_key(der, len);
	OPENSSL_free(der);

	comp = EVP_PKEY_dup(k);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(comp,
			 OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
	len = self_signed(comp, &der);
	assert_null(find(der, len, p256_spki, sizeof(p256_spki)));
	parses_without_key(der, len);
	OPENSSL_free(der);
	EVP_PKEY_free(comp);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(k);
}

static void p256_point_checked(void **state)
{
	uint8_t xy[64];
	EVP_PKEY *k = NULL;
	X509 *c[3];
	const unsigned char *pk;
	int pklen;

	read_chain(c);
	X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, X509_get_X509_PUBKEY(c[0]));
	assert_int_equal(pklen, 65);
	memcpy(xy, pk + 1, 64);
	assert_int_equal(tdc_p256_key_from_xy(xy, &k), 0);
	assert_int_equal(EVP_PKEY_eq(k, X509_get0_pubkey(c[0])), 1);
	EVP_PKEY_free(k);
	k = NULL;
	xy[63] ^= 1; /* y no longer matches x */
	assert_int_equal(tdc_p256_key_from_xy(xy, &k), TDC_ERR_FORMAT);
	assert_null(k);
	for (int i = 0; i < 3; i++)
		X509_free(c[i]);
}

/* @pem with @from replaced by @to (first occurrence), NUL-terminated. */
static char *edit(const char *pem, const char *from, const char *to)
{
	const char *at = strstr(pem, from);
	size_t n = strlen(pem) + strlen(to) + 1;
	char *out = malloc(n);

	assert_non_null(at);
	snprintf(out, n, "%.*s%s%s", (int)(at - pem), pem, to, at + strlen(from));
	return out;
}

static int pem_one(const char *pem, uint8_t **der, size_t *len)
{
	const char *p = pem;

	return tdc_pem_cert_next(&p, pem + strlen(pem), der, len);
}

/*
 * tdc_pem_cert_next: the genuine chain's three certificates decode to the
 * DER OpenSSL's PEM reader gives, CRLF line ends too; headers, another
 * label, text before the BEGIN line, a missing END line, a character or
 * '=' out of place, or a body not in groups of four are refused.
 */
static void pem_strict(void **state)
{
	static const struct {
		const char *from, *to, *detail;
	} bad[] = {
		{ "-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\n"
		  "Proc-Type: 4,ENCRYPTED\n\n", "PEM headers" },
		{ "BEGIN CERTIFICATE", "BEGIN X509 CERTIFICATE", "BEGIN CERTIFICATE" },
		{ "-----BEGIN", "junk\n-----BEGIN", "BEGIN CERTIFICATE" },
		{ "-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE----- x\n",
		  "text after" },
		{ "-----END CERTIFICATE-----", "-----END CERT-----", "no -----END" },
		{ "\n-----END", "-----END", "no -----END" },
		{ "MII", "M*I", "not base64" },
		{ "MII", "M=I", "not base64" },
		{ "MII", "MI", "not base64" },
	};
	struct tdc_buf b;
	struct tdx_quote q;
	BIO *bio;
	char *pem, *crlf, *e;
	const char *p, *end;
	uint8_t *der, *der2;
	unsigned char *want;
	size_t len, len2;
	int wlen;
	X509 *x;

	tdc_test_read("tdx/tdx_prod_quote_SPR_E4.dat", &b);
	assert_int_equal(tdx_quote_parse(b.data, b.len, true, &q), 0);
	bio = BIO_new_mem_buf(q.pck_chain_pem, (int)q.pck_chain_len);
	p = (const char *)q.pck_chain_pem;
	end = p + q.pck_chain_len;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tdc_pem_cert_next(&p, end, &der, &len), 0);
		assert_non_null(x = PEM_read_bio_X509(bio, NULL, NULL, NULL));
		want = NULL;
		assert_true((wlen = i2d_X509(x, &want)) > 0);
		assert_int_equal(len, (size_t)wlen);
		assert_memory_equal(der, want, len);
		OPENSSL_free(want);
		X509_free(x);
		free(der);
	}
	assert_int_not_equal(tdc_pem_cert_next(&p, end, &der, &len), 0);
	BIO_free(bio);

	/* The first certificate alone, as text; then with CRLF line ends. */
	p = strstr((const char *)q.pck_chain_pem, "-----END CERTIFICATE-----");
	assert_non_null(p);
	pem = strndup((const char *)q.pck_chain_pem,
		      (size_t)(p - (const char *)q.pck_chain_pem) + 25);
	assert_int_equal(pem_one(pem, &der, &len), 0);
	crlf = calloc(2 * strlen(pem) + 1, 1);
	for (size_t i = 0, j = 0; pem[i]; i++) {
		if (pem[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = pem[i];
	}
	assert_int_equal(pem_one(crlf, &der2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(der, der2, len);
	free(der2);
	free(der);
	free(crlf);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = edit(pem, bad[i].from, bad[i].to);
		assert_int_equal(pem_one(e, &der, &len), TDC_ERR_FORMAT);
		if (!strstr(tdc_errdetail(), bad[i].detail))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, tdc_errdetail(),
				 bad[i].detail);
		free(e);
	}
	free(pem);
	tdc_buf_free(&b);
}

/*
 * The base64 of any bytes, with whitespace at random places (inside groups
 * of four too, where the decoder leaves its four-at-once path), decodes to
 * those bytes; a digit after the '=' padding is refused.
 */
static void pem_base64_wrapped(void **state)
{
	static const char ws[] = " \t\r\n";
	uint8_t raw[64], *der;
	unsigned char b64[96];
	char pem[512];
	size_t len;
	int n, k;

	srand(17);
	for (int round = 0; round < 3000; round++) {
		int rawlen = 1 + rand() % 64, gap = 1 + rand() % 12;

		for (int i = 0; i < rawlen; i++)
			raw[i] = (uint8_t)rand();
		n = EVP_EncodeBlock(b64, raw, rawlen);
		k = snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n");
		for (int i = 0; i < n; i++) {
			pem[k++] = (char)b64[i];
			if (rand() % gap == 0)
				pem[k++] = ws[rand() % 4];
		}
		k += snprintf(pem + k, sizeof(pem) - (size_t)k, "\n-----END CERTIFICATE-----\n");
		assert_int_equal(pem_one(pem, &der, &len), 0);
		assert_int_equal(len, (size_t)rawlen);
		assert_memory_equal(der, raw, len);
		free(der);
	}
	assert_int_equal(pem_one("-----BEGIN CERTIFICATE-----\nAAA=AAAA\n"
				 "-----END CERTIFICATE-----\n", &der, &len), TDC_ERR_FORMAT);
	assert_int_equal(pem_one("-----BEGIN CERTIFICATE-----\nAA==\nAAAA\n"
				 "-----END CERTIFICATE-----\n", &der, &len), TDC_ERR_FORMAT);
}

/*
 * tdc_ecdsa_verify_rs writes the DER of r||s itself: signatures made by
 * OpenSSL verify when r or s has leading zero bytes or its high bit set
 * (both need a padding rule), and a flipped bit anywhere fails.
 */
static void ecdsa_rs_der(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *pub;
	uint8_t xy[65], rs[64], der[80], msg[8];
	size_t xy_len, der_len;
	int lead_zero = 0, high_bit = 0;

	assert_non_null(key);
	assert_int_equal(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, xy,
							 sizeof(xy), &xy_len), 1);
	assert_int_equal(tdc_p256_key_from_xy(xy + 1, &pub), 0);
	for (unsigned i = 0; i < 2000 && (lead_zero < 2 || high_bit < 2); i++) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		const uint8_t *p = der;
		ECDSA_SIG *sig;

		memcpy(msg, &i, sizeof(i));
		der_len = sizeof(der);
		assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
		assert_int_equal(EVP_DigestSign(md, der, &der_len, msg, sizeof(msg)), 1);
		EVP_MD_CTX_free(md);
		assert_non_null(sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len));
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32), 32);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32), 32);
		ECDSA_SIG_free(sig);
		lead_zero += rs[0] == 0 || rs[32] == 0;
		high_bit += (rs[0] | rs[32]) >> 7;
		assert_int_equal(tdc_ecdsa_verify_rs(pub, msg, sizeof(msg), rs), 0);
		rs[i % 64] ^= (uint8_t)(1u << (i % 8));
		assert_int_not_equal(tdc_ecdsa_verify_rs(pub, msg, sizeof(msg), rs), 0);
	}
	assert_true(lead_zero >= 2 && high_bit >= 2);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain_is_ordinary),
		cmocka_unit_test(rsa_key_fails_closed),
		cmocka_unit_test(p256_decoder_exact),
		cmocka_unit_test(p256_point_checked),
		cmocka_unit_test(pem_strict),
		cmocka_unit_test(pem_base64_wrapped),
		cmocka_unit_test(ecdsa_rs_der),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
