/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ES256 compact JWS (RFC 7515, RFC 7518 §3.4): what signs EARs
 * (`check --sign-key`), the service's verdicts (`serve --sign-key`) and
 * what the agent checks them with (`evidence --verifier-key`).  One
 * header only, {"alg":"ES256","typ":"JWT"}, and a verifier that accepts
 * nothing else, so no algorithm is ever chosen by the token.
 */
#ifndef TDCPUID_JWS_H
#define TDCPUID_JWS_H

#include <stddef.h>
#include <openssl/types.h>

#include "tdcpuid/buf.h"

/* A token we are willing to verify: as large as the largest reply a verifier
 * may send (frame.h TDC_FRAME_REPLY_MAX), since a signed full JSON verdict of
 * a many-vCPU TD is several hundred KiB; 64 KiB refused honest verdicts. */
#define TDC_JWS_MAX (16u * 1024 * 1024)

/* A P-256 private key (PEM). */
int tdc_es256_load_private(const char *path, EVP_PKEY **out);
/* A P-256 public key: PEM "PUBLIC KEY", a certificate, or a private key PEM. */
int tdc_es256_load_public(const char *path, EVP_PKEY **out);
/* Append header.payload.signature (no newline) to @out. */
int tdc_jws_es256_sign(EVP_PKEY *key, const void *payload, size_t n, struct tdc_buf *out);
/* Check @jws with @key; the decoded payload goes to @payload.  TDC_ERR_SIGNATURE
 * if the signature does not verify, TDC_ERR_FORMAT for anything malformed. */
int tdc_jws_es256_verify(EVP_PKEY *key, const char *jws, size_t n, struct tdc_buf *payload);
/* base64url without padding (RFC 7515 §2), appended to @out. */
int tdc_b64url_encode(const void *p, size_t n, struct tdc_buf *out);

#endif
