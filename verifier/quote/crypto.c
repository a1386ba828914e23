// SPDX-License-Identifier: Apache-2.0
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
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

int tdc_p256_key_from_xy(const uint8_t xy[64], EVP_PKEY **out)
{
	uint8_t pt[65];
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[3];
	int ok;

	pt[0] = 0x04;
	memcpy(pt + 1, xy, 64);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return tdc_err(TDC_ERR_FORMAT, "attestation key is not a P-256 point");
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
