// SPDX-License-Identifier: Apache-2.0
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "tdcpuid/error.h"

static _Thread_local unsigned long ecdsa_verifies;

unsigned long tdc_ecdsa_verify_count(void)
{
	return ecdsa_verifies;
}

int tdc_ecdsa_verify_rs(EVP_PKEY *key, const uint8_t *msg, size_t len,
			const uint8_t sig[64])
{
	uint8_t der[80], *p = der, digest[SHA256_DIGEST_LENGTH];
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int der_len, ok = 0;

	if (!s || !r || !ss || !ctx || !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		goto out;
	}
	ecdsa_verifies++;
	der_len = i2d_ECDSA_SIG(s, &p);
	/* Hash, then verify the digest: the same ECDSA-SHA256 as
	 * EVP_DigestVerify without a digest fetch per call. */
	tdc_sha256(msg, len, digest);
	ok = der_len > 0 && EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, sizeof(digest)) == 1;
out:
	ECDSA_SIG_free(s);
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : tdc_err(TDC_ERR_SIGNATURE, "ECDSA-P256 signature does not verify");
}

/* The P-256 generator: a valid point for the template key. */
static const uint8_t p256_g[65] = {
	0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
	0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39,
	0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e,
	0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e,
	0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};
static pthread_once_t template_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *p256_template;

static void template_make(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)p256_g,
						      sizeof(p256_g));
	params[2] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &p256_template, EVP_PKEY_PUBLIC_KEY, params) != 1)
		p256_template = NULL;
	EVP_PKEY_CTX_free(ctx);
}

/*
 * A copy of a P-256 template key with the new point: EVP_PKEY_fromdata
 * would build the curve group from its parameters each time (a Montgomery
 * setup and a modular inverse, four times the cost); copying the template
 * copies the group.  Setting the point checks that it is on the curve.
 */
int tdc_p256_key_from_xy(const uint8_t xy[64], EVP_PKEY **out)
{
	uint8_t pt[65];
	EVP_PKEY *k;

	pthread_once(&template_once, template_make);
	pt[0] = 0x04;
	memcpy(pt + 1, xy, 64);
	if (!p256_template || !(k = EVP_PKEY_dup(p256_template)))
		return tdc_err(TDC_ERR_ALLOC, "P-256 key");
	if (EVP_PKEY_set1_encoded_public_key(k, pt, sizeof(pt)) != 1) {
		EVP_PKEY_free(k);
		return tdc_err(TDC_ERR_FORMAT, "attestation key is not a P-256 point");
	}
	*out = k;
	return 0;
}

int tdc_cert_window(X509 *cert, struct tdc_window *w)
{
	struct tm a, b;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &a) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(cert), &b) != 1)
		return tdc_err(TDC_ERR_CHAIN, "certificate validity times unreadable");
	w->not_before = timegm(&a);
	w->not_after = timegm(&b);
	return 0;
}

int tdc_window_valid_at(const struct tdc_window *w, time_t at, const char *what)
{
	if (at < w->not_before)
		return tdc_err(TDC_ERR_CHAIN, "%s is not yet valid at the appraisal time", what);
	if (at > w->not_after)
		return tdc_err(TDC_ERR_CHAIN, "%s has expired at the appraisal time", what);
	return 0;
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* OpenSSL 3's one-shot SHA256() fetches the implementation on every call;
 * per appraisal that costs more than the hashing. */
void tdc_sha256(const void *data, size_t len, uint8_t out[32])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || EVP_Digest(data, len, out, NULL, sha256_md, NULL) != 1)
		SHA256(data, len, out);
}

void tdc_cert_sha256(X509 *cert, uint8_t out[32])
{
	unsigned int n = 32;

	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || X509_digest(cert, sha256_md, out, &n) != 1)
		memset(out, 0, 32);
}

void tdc_ecdsa_count_one(void)
{
	ecdsa_verifies++;
}

/* ---- the certificate library context ------------------------------------ */

/*
 * A built-in provider that lends the default provider's implementations:
 * every digest and signature, the EC key manager, and of the decoders only
 * DER SubjectPublicKeyInfo -> EC.  The implementations run with the
 * default provider's own provider context, exactly as they do there.
 */
static OSSL_PROVIDER *lend_from;
static OSSL_ALGORITHM lent_keymgmt[4], lent_decoder[4];

/* The entries of @all named @name (and, for decoders, with @props), copied
 * into @out (terminated by a zero entry). */
static void lend(const OSSL_ALGORITHM *all, const char *name, size_t name_len,
		 const char *props, OSSL_ALGORITHM *out, size_t cap)
{
	size_t n = 0;

	for (; all && all->algorithm_names && n + 1 < cap; all++)
		if (strncmp(all->algorithm_names, name, name_len) == 0 &&
		    (all->algorithm_names[name_len] == '\0' ||
		     all->algorithm_names[name_len] == ':') &&
		    (!props || strstr(all->property_definition, props)))
			out[n++] = *all;
}

static const OSSL_ALGORITHM *lent_query(void *provctx, int op, int *no_cache)
{
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_DIGEST:
	case OSSL_OP_SIGNATURE:
		return OSSL_PROVIDER_query_operation(lend_from, op, no_cache);
	case OSSL_OP_KEYMGMT:
		return lent_keymgmt;
	case OSSL_OP_DECODER:
		return lent_decoder;
	default:
		return NULL;
	}
}

static const OSSL_DISPATCH lent_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))lent_query },
	{ 0, NULL },
};

static int lent_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		     const OSSL_DISPATCH **out, void **provctx)
{
	*out = lent_dispatch;
	*provctx = OSSL_PROVIDER_get0_provider_ctx(lend_from);
	return 1;
}

static pthread_once_t cert_ctx_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *cert_ctx;

static void cert_ctx_make(void)
{
	OSSL_LIB_CTX *ctx;
	int nc;

	if (!(lend_from = OSSL_PROVIDER_load(NULL, "default")))
		return;
	lend(OSSL_PROVIDER_query_operation(lend_from, OSSL_OP_KEYMGMT, &nc), "EC", 2, NULL,
	     lent_keymgmt, 4);
	lend(OSSL_PROVIDER_query_operation(lend_from, OSSL_OP_DECODER, &nc), "EC", 2,
	     "input=der,structure=SubjectPublicKeyInfo", lent_decoder, 4);
	if (!lent_keymgmt[0].algorithm_names || !lent_decoder[0].algorithm_names ||
	    !(ctx = OSSL_LIB_CTX_new()))
		return;
	if (OSSL_PROVIDER_add_builtin(ctx, "tdc-cert", lent_init) != 1 ||
	    !OSSL_PROVIDER_load(ctx, "tdc-cert")) {
		OSSL_LIB_CTX_free(ctx);
		return;
	}
	cert_ctx = ctx;
}

OSSL_LIB_CTX *tdc_cert_libctx(void)
{
	pthread_once(&cert_ctx_once, cert_ctx_make);
	return cert_ctx;
}

X509 *tdc_pem_read_cert(BIO *bio)
{
	X509 *x = X509_new_ex(tdc_cert_libctx(), NULL);

	/* On a parse error PEM_read_bio_X509 frees and clears x; at the end
	 * of the input it leaves it as it was. */
	if (x && !PEM_read_bio_X509(bio, &x, NULL, NULL)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *tdc_der_read_cert(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = X509_new_ex(tdc_cert_libctx(), NULL);

	if (!x || len > LONG_MAX || !d2i_X509(&x, &p, (long)len) || p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_CRL *tdc_der_read_crl(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = X509_CRL_new_ex(tdc_cert_libctx(), NULL);

	if (!crl || len > LONG_MAX || !d2i_X509_CRL(&crl, &p, (long)len) || p != der + len) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}
