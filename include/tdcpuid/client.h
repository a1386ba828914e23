/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Agent side of the attestation protocol (docs/protocol.md): connect,
 * receive the verifier's nonce, produce evidence bound to it, send it, and
 * read back the verdict.  The evidence producer is a callback so the same
 * exchange serves the real agent, the simulator, tests and benchmarks.
 */
#ifndef TDCPUID_CLIENT_H
#define TDCPUID_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <openssl/types.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/frame.h"

/* Produce an evidence envelope whose claims carry @nonce (32 bytes). */
typedef int (*tdc_evidence_fn)(void *ctx, const uint8_t *nonce, size_t nonce_len,
			       struct tdc_buf *evidence);

struct tdc_client_result {
	bool passed;
	char format[16];
	struct tdc_buf doc;      /* verdict document (JSON or EAR) */
	uint64_t record;         /* audit log row id */
	uint8_t nonce[TDC_NONCE_LEN]; /* the nonce of this exchange (tdc_client_attest) */
	char sig[TDC_FRAME_SIG_MAX];  /* the verifier's signature, "" if it sent none */
};

void tdc_client_result_init(struct tdc_client_result *r);
void tdc_client_result_free(struct tdc_client_result *r);

/*
 * One exchange on @addr ("tcp:H:P" / "vsock:C:P") within @timeout_ms.
 * 0 when a verdict came back (pass or fail: see res->passed); an error
 * frame from the verifier returns its code with its message as detail,
 * except that the verifier's own I/O or memory failure (its audit log is
 * unavailable) returns TDC_ERR_BUSY: nothing was judged, try later.
 */
int tdc_client_attest(const char *addr, const char *vm, int timeout_ms,
		      tdc_evidence_fn fn, void *ctx, struct tdc_client_result *res);

/* Pieces of the exchange, for tests that need to misbehave on purpose. */
int tdc_client_hello(int fd, uint64_t deadline_ms, uint8_t nonce[TDC_NONCE_LEN],
		     uint32_t *ttl);
int tdc_client_send_evidence(int fd, uint64_t deadline_ms, const uint8_t *nonce,
			     const char *vm, const uint8_t *ev, size_t len);
int tdc_client_verdict(int fd, uint64_t deadline_ms, struct tdc_client_result *res);
/*
 * The code a verifier's refusal carries (an error frame's, or a REST problem
 * document's tdcpuid.code) as this side's error: the same over both
 * transports, so the agent's exit status is too (lib/client.c).
 */
int tdc_client_refusal_code(int64_t code);

/*
 * The signed verdict token (docs/protocol.md "Signed verdicts"): the exact
 * bytes both sides build from the exchange, so the agent checks a signature
 * without parsing anything the verifier chose:
 *   {"typ":"tdcpuid-verdict-v1","nonce":"<hex>","pass":true,"format":"ear",
 *    "record":12,"doc_sha256":"<hex>"}
 */
int tdc_verdict_token(const uint8_t nonce[TDC_NONCE_LEN], bool passed, const char *format,
		      uint64_t record, const uint8_t *doc, size_t doc_len, struct tdc_buf *out);
/*
 * Check res->sig (ES256 JWS) with @key against the token of this exchange.
 * TDC_ERR_SIGNATURE if it is missing, malformed or does not verify: the
 * verdict then says nothing, whatever res->passed is.
 */
int tdc_client_verify_verdict(const struct tdc_client_result *res, EVP_PKEY *key);

#endif
