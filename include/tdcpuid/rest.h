/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The REST API's untrusted text, both sides (docs/rest.md): what the
 * service reads from a request before any of it reaches the engine (path,
 * media type, nonce parameters, body size) and what the agent reads from
 * the service's session object.  Pure functions over bytes, no I/O, so one
 * harness (fuzz/fuzz_rest.c) drives every one of them.
 *
 * The shape is the challenge-response API of Veraison
 * (github.com/veraison/docs, api/challenge-response):
 *   POST   /challenge-response/v1/newSession?nonce=B64 | ?nonceSize=N
 *   POST   /challenge-response/v1/session/ID   (Content-Type: evidence type)
 *   GET    /challenge-response/v1/session/ID
 *   DELETE /challenge-response/v1/session/ID
 *   GET    /.well-known/veraison/verification  (the EAR signer's public key)
 */
#ifndef TDCPUID_REST_H
#define TDCPUID_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_REST_BASE "/challenge-response/v1/"
#define TDC_REST_NEW_SESSION TDC_REST_BASE "newSession"
#define TDC_REST_SESSION TDC_REST_BASE "session/"
#define TDC_REST_WELL_KNOWN "/.well-known/veraison/verification"

/* The evidence envelope (docs/evidence.cddl) as a media type. */
#define TDC_REST_MT_EVIDENCE "application/vnd.tdcpuid.evidence+cbor"
#define TDC_REST_MT_SESSION "application/vnd.veraison.challenge-response-session+json"
#define TDC_REST_MT_DISCOVERY "application/vnd.veraison.discovery+json"
#define TDC_REST_MT_PROBLEM "application/problem+json"
#define TDC_REST_MT_EAR_JWT "application/eat+jwt"
#define TDC_REST_MT_EAR_JSON "application/ear+json"
#define TDC_REST_MT_VERDICT_JSON "application/vnd.tdcpuid.verdict+json"
#define TDC_REST_MT_VERDICT_JWT "application/vnd.tdcpuid.verdict+jwt"

/* Session ids: 16 random bytes in hex, a capability (unguessable). */
#define TDC_REST_ID_LEN 32
/* Nonces: a caller's at least 16 bytes (shorter ones are guessable), the
 * claims' cap at most; generated ones 32 bytes unless nonceSize says. */
#define TDC_REST_NONCE_MIN 16
#define TDC_REST_NONCE_MAX 64
#define TDC_REST_NONCE_DEFAULT 32
/* Text a request may carry before we look at it: URL, media type, query. */
#define TDC_REST_URL_MAX 512
#define TDC_REST_MT_MAX 128
/* A session object we are willing to read (agent side). */
#define TDC_REST_SESSION_MAX (20u * 1024 * 1024)

enum tdc_rest_route_kind {
	TDC_REST_R_NONE = 0,       /* nothing here: 404 */
	TDC_REST_R_NEW_SESSION,
	TDC_REST_R_SESSION,
	TDC_REST_R_WELL_KNOWN,
};

struct tdc_rest_route {
	enum tdc_rest_route_kind kind;
	char id[TDC_REST_ID_LEN + 1];   /* TDC_REST_R_SESSION */
};

/* The path (no query: the server library splits it off) to a route. */
int tdc_rest_route(const char *path, struct tdc_rest_route *out);

/*
 * A Content-Type value to its bare media type, lower case, into @out
 * (RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS parameter )).
 * Parameters are checked for syntax and dropped.  TDC_ERR_FORMAT if it is
 * not a media type at all.
 */
int tdc_rest_media_type(const char *ct, char *out, size_t cap);

/*
 * newSession's query: @nonce (base64 or base64url, padding optional) or
 * @size (decimal), at most one of them; neither means a generated
 * TDC_REST_NONCE_DEFAULT bytes.  *@generate says whether the service makes
 * the nonce (then *@len is its size) or the caller gave it (in @out).
 */
int tdc_rest_nonce_param(const char *nonce, const char *size, uint8_t out[TDC_REST_NONCE_MAX],
			 size_t *len, bool *generate);

/* Base64 in either alphabet, padding optional, into at most @cap bytes. */
int tdc_rest_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len);
/* ... appended to @out, any length (a JWS payload). */
int tdc_rest_b64_decode_buf(const char *s, size_t n, struct tdc_buf *out);

/* Append a request body chunk, refusing to grow past @cap (TDC_ERR_TOO_LARGE). */
int tdc_rest_body_add(struct tdc_buf *b, const void *data, size_t n, size_t cap);

/* The session object as the agent reads it. */
struct tdc_rest_session {
	uint8_t nonce[TDC_REST_NONCE_MAX];
	size_t nonce_len;
	char status[16];            /* waiting, processing, complete, failed */
	char expiry[40];
	bool has_result;
	bool result_jwt;            /* result is a compact JWS string, else JSON text */
	struct tdc_buf result;      /* NUL-terminated */
	char result_type[64];       /* tdcpuid.result-type */
	bool has_passed;
	bool passed;                /* tdcpuid.passed (unauthenticated unless signed) */
	uint64_t record;
	char error[256];            /* tdcpuid.error of a failed session */
};

void tdc_rest_session_init(struct tdc_rest_session *s);
void tdc_rest_session_free(struct tdc_rest_session *s);
int tdc_rest_session_parse(const uint8_t *json, size_t len, struct tdc_rest_session *s);
/*
 * What a verdict document (EAR or JSON, e.g. a verified JWS payload) says:
 * its nonce must be @nonce (TDC_ERR_NONCE otherwise), *@passed its verdict.
 */
int tdc_rest_doc_verdict(const uint8_t *doc, size_t len, const uint8_t *nonce, size_t nonce_len,
			 bool *passed);
/*
 * A problem document's title and detail as one line into @out ("" if none),
 * and its tdcpuid.code (*@has_code: an integer is there), the framed error
 * code of the refusal (docs/rest.md "Refusals").
 */
void tdc_rest_problem_text(const uint8_t *json, size_t len, char *out, size_t cap,
			   bool *has_code, int64_t *code);

#endif
