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

#endif
