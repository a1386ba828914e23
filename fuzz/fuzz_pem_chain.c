// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for a quote's PCK chain: the PEM reader
 * (tdc_pem_cert_next) on the bytes, then each decoded certificate parsed in
 * the certificate context, whose SubjectPublicKeyInfo decoder is ours.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	uint8_t *der;
	size_t len;
	X509 *x;

	for (int i = 0; i < 4 && tdc_pem_cert_next(&p, end, &der, &len) == 0; i++) {
		/* Decoded bytes are fewer than the base64 that held them. */
		if (len == 0 || len > size || p > end)
			__builtin_trap();
		if ((x = tdc_der_read_cert(der, len))) {
			EVP_PKEY *k = X509_get0_pubkey(x);

			/* A key from our decoder is a P-256 key. */
			if (k && EVP_PKEY_get_bits(k) != 256)
				__builtin_trap();
			X509_free(x);
		}
		free(der);
	}
	return 0;
}
