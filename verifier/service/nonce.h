/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verifier nonces (docs/protocol.md "Nonces"): 32 bytes, single use,
 * expiring after a TTL.
 *
 *  memory mode:    random bytes kept in a bounded table until used/expired.
 *  stateless mode: nonce = time(8, BE seconds) || random(8) ||
 *                  HMAC-SHA-256(key, "tdcpuid-nonce-v1" || time || random)[0..16)
 *                  Any verifier holding the key accepts it until it expires;
 *                  single use is per instance (a table of consumed nonces
 *                  until expiry) plus the audit log's UNIQUE(nonce) when the
 *                  instances share one log file.
 */
#ifndef TDC_NONCE_H
#define TDC_NONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/frame.h"

#define TDC_NONCE_KEY_LEN 32
#define TDC_NONCE_MAX_OUTSTANDING 65536

struct tdc_nonce_store;

/* @key NULL: memory mode. */
int tdc_nonce_store_new(uint32_t ttl_s, const uint8_t *key, struct tdc_nonce_store **out);
void tdc_nonce_store_free(struct tdc_nonce_store *s);
bool tdc_nonce_stateless(const struct tdc_nonce_store *s);
/* Thread-safe.  TDC_ERR_TOO_LARGE when too many are outstanding. */
int tdc_nonce_issue(struct tdc_nonce_store *s, uint8_t nonce[TDC_NONCE_LEN]);
/*
 * A nonce for an exchange that keeps it itself: the framed protocol's
 * connection holds its own nonce, is the only place it can be answered,
 * and closes after one evidence frame, so nothing is stored and no peer
 * can fill a table by opening connections (stateless mode still makes the
 * HMAC form, for the record and for other instances).  Thread-safe.
 */
int tdc_nonce_generate(struct tdc_nonce_store *s, uint8_t nonce[TDC_NONCE_LEN]);
/* Check and mark used.  TDC_ERR_NONCE naming why: unknown, expired, reused. */
int tdc_nonce_consume(struct tdc_nonce_store *s, const uint8_t nonce[TDC_NONCE_LEN]);

/* Read a key file (exactly 32 raw bytes, or 64 hex chars). */
int tdc_nonce_key_load(const char *path, uint8_t key[TDC_NONCE_KEY_LEN]);

#endif
