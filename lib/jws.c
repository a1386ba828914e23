// SPDX-License-Identifier: Apache-2.0
/* ES256 compact JWS: sign and verify (tdcpuid/jws.h). */
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"

static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int tdc_b64url_encode(const void *src, size_t n, struct tdc_buf *out)
{
	const uint8_t *p = src;
	char q[4];
	int e;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		size_t k = n - i >= 3 ? 4 : n - i + 1;

		for (int j = 0; j < 4; j++)
			q[j] = b64url_alphabet[(v >> (18 - 6 * j)) & 63];
		if ((e = tdc_buf_put(out, q, k)) != 0)
			return e;
	}
	return 0;
}

/* Strict: only the URL alphabet, no padding, no non-zero unused bits. */
static int b64url_decode(const char *s, size_t n, struct tdc_buf *out)
{
	uint32_t v = 0;
	int bits = 0, e;

	if (n % 4 == 1)
		return tdc_err(TDC_ERR_FORMAT, "jws: base64url length %zu", n);
	for (size_t i = 0; i < n; i++) {
		const char *c = memchr(b64url_alphabet, s[i], 64);

		if (!c || !s[i])
			return tdc_err(TDC_ERR_FORMAT, "jws: not base64url at offset %zu", i);
		v = v << 6 | (uint32_t)(c - b64url_alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if ((e = tdc_buf_put_u8(out, (uint8_t)(v >> bits))) != 0)
				return e;
		}
	}
	if (v & ((1u << bits) - 1))
		return tdc_err(TDC_ERR_FORMAT, "jws: base64url with unused bits set");
	return 0;
}

static int check_p256(EVP_PKEY *k, const char *path, const char *what)
{
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC || EVP_PKEY_get_bits(k) != 256)
		return tdc_err(TDC_ERR_FORMAT, "%s %s: ES256 needs a P-256 key", what, path);
	return 0;
}

int tdc_es256_load_private(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	int e;

	if (!f)
		return tdc_err(TDC_ERR_NOT_FOUND, "signing key %s: %m", path);
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*out)
		return tdc_err(TDC_ERR_FORMAT, "signing key %s: not a PEM private key", path);
	if ((e = check_p256(*out, path, "signing key")) != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return e;
}

int tdc_es256_load_public(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	X509 *cert;
	int e;

	if (!f)
		return tdc_err(TDC_ERR_NOT_FOUND, "verifier key %s: %m", path);
	*out = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (!*out) {
		rewind(f);
		if ((cert = PEM_read_X509(f, NULL, NULL, NULL))) {
			*out = X509_get_pubkey(cert);
			X509_free(cert);
		}
	}
	if (!*out) {
		rewind(f);
		*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!*out)
		return tdc_err(TDC_ERR_FORMAT, "verifier key %s: no PEM public key, certificate "
			       "or private key", path);
	if ((e = check_p256(*out, path, "verifier key")) != 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return e;
}

int tdc_jws_es256_sign(EVP_PKEY *key, const void *payload, size_t n, struct tdc_buf *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct tdc_buf input;
	uint8_t der[80], raw[64];
	const uint8_t *p = der;
	size_t len = sizeof(der);
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	int e;

	tdc_buf_init(&input);
	if (!ctx) {
		e = tdc_err(TDC_ERR_ALLOC, "jws");
		goto out;
	}
	if ((e = tdc_b64url_encode(header, strlen(header), &input)) != 0 ||
	    (e = tdc_buf_put_u8(&input, '.')) != 0 ||
	    (e = tdc_b64url_encode(payload, n, &input)) != 0)
		goto out;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &len, input.data, input.len) != 1 ||
	    !(sig = d2i_ECDSA_SIG(NULL, &p, (long)len))) {
		e = tdc_err(TDC_ERR_INTERNAL, "jws: ES256 signing failed");
		goto out;
	}
	/* JWS wants the fixed 64-byte r||s, not DER. */
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32) {
		e = tdc_err(TDC_ERR_INTERNAL, "jws: ECDSA signature size");
		goto out;
	}
	if ((e = tdc_buf_put(out, input.data, input.len)) == 0 &&
	    (e = tdc_buf_put_u8(out, '.')) == 0)
		e = tdc_b64url_encode(raw, sizeof(raw), out);
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	tdc_buf_free(&input);
	return e;
}

int tdc_jws_es256_verify(EVP_PKEY *key, const char *jws, size_t n, struct tdc_buf *payload)
{
	const char *d1, *d2;
	struct tdc_buf hdr, sig;
	EVP_MD_CTX *ctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	uint8_t *der = NULL;
	int len, e;

	tdc_buf_init(&hdr);
	tdc_buf_init(&sig);
	if (n > TDC_JWS_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "jws: %zu bytes exceeds %u", n, TDC_JWS_MAX);
	if (!(d1 = memchr(jws, '.', n)) || !(d2 = memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - jws))) ||
	    memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - jws)))
		return tdc_err(TDC_ERR_FORMAT, "jws: not three dot-separated parts");
	if ((e = b64url_decode(jws, (size_t)(d1 - jws), &hdr)) != 0 ||
	    (e = b64url_decode(d2 + 1, n - (size_t)(d2 + 1 - jws), &sig)) != 0)
		goto out;
	/* Exactly the header we write: the token never picks the algorithm. */
	if (hdr.len != strlen(header) || memcmp(hdr.data, header, hdr.len)) {
		e = tdc_err(TDC_ERR_FORMAT, "jws: header is not {\"alg\":\"ES256\",\"typ\":\"JWT\"}");
		goto out;
	}
	if (sig.len != 64) {
		e = tdc_err(TDC_ERR_FORMAT, "jws: ES256 signature of %zu bytes, expected 64", sig.len);
		goto out;
	}
	tdc_buf_reset(payload);
	if ((e = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), payload)) != 0)
		goto out;
	if (!(es = ECDSA_SIG_new()) || !(r = BN_bin2bn(sig.data, 32, NULL)) ||
	    !(s = BN_bin2bn(sig.data + 32, 32, NULL)) || !ECDSA_SIG_set0(es, r, s)) {
		e = tdc_err(TDC_ERR_ALLOC, "jws");
		goto out;
	}
	r = s = NULL; /* owned by es */
	if ((len = i2d_ECDSA_SIG(es, &der)) <= 0 || !(ctx = EVP_MD_CTX_new())) {
		e = tdc_err(TDC_ERR_ALLOC, "jws");
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestVerify(ctx, der, (size_t)len, (const uint8_t *)jws, (size_t)(d2 - jws)) != 1)
		e = tdc_err(TDC_ERR_SIGNATURE, "jws: ES256 signature does not verify with the "
			    "configured key");
out:
	if (e)
		tdc_buf_reset(payload);
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	tdc_buf_free(&hdr);
	tdc_buf_free(&sig);
	return e;
}
