/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A DER CRL read for the appraisal (RFC 5280 5.1) without d2i_X509_CRL:
 * a bounded walk over the bytes that keeps what the appraisal uses (the
 * issuer, thisUpdate/nextUpdate, the revoked serials, whether an extension
 * is critical, the signed TBS bytes and the signature), the issuer name
 * alone decoded by OpenSSL (d2i_X509_NAME: its rules for names and its
 * X509_NAME_cmp).  OpenSSL's CRL object with its 44 revoked entries, each
 * with an extension stack, was a sixth of an uncached appraisal.
 *
 * Strict DER (definite, minimal lengths) where d2i_X509_CRL also takes BER;
 * every CRL in a tdc_collateral has passed d2i_X509_CRL when it was added,
 * so the walk only ever refuses, never admits, more than OpenSSL did.
 * fuzz/fuzz_crl.c checks both against each other on the same bytes.
 */
#ifndef TDC_QUOTE_CRL_H
#define TDC_QUOTE_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "crypto.h"

#define TDC_CRL_MAX (1u << 20)      /* TDC_COLL_FILE_MAX */

struct tdc_crl_serial {
	uint32_t off, len;          /* INTEGER content bytes in der[] */
};

struct tdc_crl {
	X509_NAME *issuer;
	struct tdc_window window;   /* thisUpdate..nextUpdate; not_after < not_before:
				     * no nextUpdate, or a time OpenSSL cannot read */
	bool critical;              /* a CRL or CRL entry extension is critical */
	bool ecdsa_sha256;          /* signatureAlgorithm ecdsa-with-SHA256, as in the TBS */
	uint8_t unused_bits;        /* of the signature BIT STRING */
	size_t tbs_off, tbs_len;    /* tbsCertList, as signed */
	size_t sig_off, sig_len;    /* the BIT STRING's bytes: an ECDSA-Sig-Value */
	size_t n_revoked;
	struct tdc_crl_serial *revoked;
	size_t len;
	uint8_t der[];
};

/*
 * Walk @len bytes of DER (nothing after the CRL).  TDC_ERR_FORMAT: not a
 * DER CRL; TDC_ERR_UNSUPPORTED: a CRL whose revocations this reader would
 * not read as OpenSSL does (a certificateIssuer entry extension, an entry
 * reasonCode that is not one DER ENUMERATED 0..10, removeFromCRL, the
 * same extension twice in an entry); TDC_ERR_TOO_LARGE; TDC_ERR_ALLOC.
 */
int tdc_crl_read(const uint8_t *der, size_t len, struct tdc_crl **out);
void tdc_crl_free(struct tdc_crl *crl);
/* Does @crl list @cert's serial number?  (X509_CRL_get0_by_serial == 1.) */
bool tdc_crl_revokes(const struct tdc_crl *crl, X509 *cert);
/* The signature over the TBS bytes with @key (ecdsa-with-SHA256 only). */
int tdc_crl_verify(const struct tdc_crl *crl, EVP_PKEY *key);

#endif
