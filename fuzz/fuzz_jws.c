// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the ES256 compact JWS reader (lib/jws.c), which the
 * agent runs on the signature a verifier sends with its verdict.  Any bytes
 * must come back as an error or a payload, never a crash; nothing but a
 * token signed by the key may verify.
 */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	struct tdc_buf payload;

	if (!key && !(key = EVP_EC_gen("P-256")))
		return 0;
	tdc_buf_init(&payload);
	/* A fresh key signed none of these: verifying one would be a forgery. */
	if (tdc_jws_es256_verify(key, (const char *)data, size, &payload) == 0)
		__builtin_trap();
	tdc_buf_free(&payload);
	return 0;
}
