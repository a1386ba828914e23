/* SPDX-License-Identifier: Apache-2.0 */
/* Crypto helpers of the quote layer: ECDSA-P256 over raw r||s, SHA-256. */
#ifndef TDC_QUOTE_CRYPTO_H
#define TDC_QUOTE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* ECDSA-P256-SHA256 over @msg with a big-endian r||s signature. */
int tdc_ecdsa_verify_rs(EVP_PKEY *key, const uint8_t *msg, size_t len,
			const uint8_t sig[64]);
/* ECDSA-SHA256 over @msg with a DER ECDSA-Sig-Value (a CRL's signature). */
int tdc_ecdsa_verify_der(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *sig,
			 size_t sig_len);
/* Raw uncompressed x||y point -> EVP_PKEY (P-256). */
int tdc_p256_key_from_xy(const uint8_t xy[64], EVP_PKEY **out);
/* ECDSA verifications done by this thread (benchmarks count them). */
unsigned long tdc_ecdsa_verify_count(void);
/* A certificate's validity window as time_t, converted once. */
struct tdc_window {
	time_t not_before, not_after;
};
int tdc_cert_window(X509 *cert, struct tdc_window *w);
int tdc_window_valid_at(const struct tdc_window *w, time_t at, const char *what);
/* SHA-256 with a digest implementation fetched once per process. */
void tdc_sha256(const void *data, size_t len, uint8_t out[32]);
/* SHA-256 of a certificate's DER encoding. */
void tdc_cert_sha256(X509 *cert, uint8_t out[32]);
/* Count one ECDSA verification done outside tdc_ecdsa_verify_rs (X509_verify). */
void tdc_ecdsa_count_one(void);

/*
 * Certificates are parsed in a library context of their own (see crypto.c):
 * OpenSSL 3.0 decodes every certificate's key through its decoder
 * framework, which enumerates each decoder of every provider on each call
 * (~300 us per certificate); this context offers the default provider's
 * digests, signatures and EC key management but only the one decoder a
 * P-256 SubjectPublicKeyInfo needs.  The X509 objects are ordinary ones:
 * X509_verify, X509_verify_cert, X509_CRL_verify and X509_check_ca work.
 * NULL if the context could not be set up (callers then use the default).
 */
OSSL_LIB_CTX *tdc_cert_libctx(void);
/* PEM certificate from @bio parsed in tdc_cert_libctx() (NULL at the end
 * of the input or on a parse error, as PEM_read_bio_X509). */
X509 *tdc_pem_read_cert(BIO *bio);
/*
 * The next PEM certificate in *@p..@end, decoded (free @der): optional
 * whitespace, "-----BEGIN CERTIFICATE-----", base64 lines (no headers),
 * "-----END CERTIFICATE-----"; *@p moves past the END marker.  Nothing else
 * is skipped, so text before or between certificates is an error.
 */
int tdc_pem_cert_next(const char **p, const char *end, uint8_t **der, size_t *len);
/* DER certificate (exactly @len bytes) parsed in tdc_cert_libctx(). */
X509 *tdc_der_read_cert(const uint8_t *der, size_t len);
/* DER CRL (exactly @len bytes) in the same context, so that verifying it
 * with a certificate's key needs no export of the key to another provider. */
X509_CRL *tdc_der_read_crl(const uint8_t *der, size_t len);

#endif
