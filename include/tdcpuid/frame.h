/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wire frames of the attestation protocol (docs/protocol.md).
 *
 *   frame = uint32be length || CBOR map   (length <= TDC_FRAME_MAX)
 *
 * The map has text keys; "v" (protocol version) and "t" (frame type) are
 * always present.  Decoding is strict and uses the evidence's pull reader
 * (lib/cbor_strict.c): the length cap is checked before any allocation, one
 * head at a time, no indefinite lengths, tags or floats, declared counts
 * must fit the remaining bytes, keys must be unique known text strings,
 * every value is a scalar of exactly one allowed type, and nothing may
 * follow the map.
 */
#ifndef TDCPUID_FRAME_H
#define TDCPUID_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/evidence.h"

#define TDC_PROTO_VERSION 1
/* Evidence is capped at 1 MiB; the frame adds keys, nonce and VM name. */
#define TDC_FRAME_MAX (TDC_EVIDENCE_MAX + 4096)
#define TDC_FRAME_HDR_LEN 4
#define TDC_NONCE_LEN 32
#define TDC_FRAME_STR_MAX 256     /* VM name, error message, format */
#define TDC_FRAME_SIG_MAX 2048    /* verdict: signed verdict token (compact JWS) */
/* What an agent accepts back: a verdict document lists every bit. */
#define TDC_FRAME_REPLY_MAX (16u * 1024 * 1024)

enum tdc_frame_type {
	TDC_FRAME_NONE = 0,
	TDC_FRAME_HELLO,     /* verifier -> agent: version, nonce, ttl */
	TDC_FRAME_EVIDENCE,  /* agent -> verifier: nonce, evidence, optional vm */
	TDC_FRAME_VERDICT,   /* verifier -> agent: pass, format, document, record */
	TDC_FRAME_ERROR,     /* either way: code, message; connection then closes */
};
const char *tdc_frame_type_name(enum tdc_frame_type t);

struct tdc_frame {
	uint32_t version;           /* TDC_PROTO_VERSION on encode */
	enum tdc_frame_type type;
	/* hello, evidence */
	uint8_t nonce[TDC_NONCE_LEN];
	bool has_nonce;
	uint32_t ttl;               /* hello: seconds the nonce stays valid */
	char server[TDC_FRAME_STR_MAX]; /* hello: optional server id */
	/* evidence: envelope bytes; verdict: the JSON/EAR document */
	struct tdc_buf payload;
	char vm[TDC_FRAME_STR_MAX]; /* evidence: optional claimed VM name */
	/* verdict */
	bool passed;
	char format[16];            /* "json" or "ear" */
	uint64_t record;            /* audit log row id */
	char sig[TDC_FRAME_SIG_MAX]; /* optional ES256 JWS over the verdict token (client.h) */
	/* error */
	int32_t code;               /* negative TDC_ERR_* */
	char message[TDC_FRAME_STR_MAX];
};

void tdc_frame_init(struct tdc_frame *f);
void tdc_frame_free(struct tdc_frame *f);

/*
 * Append header + CBOR body of @f to @out.  Every text that goes out is
 * valid UTF-8: a string cut mid-character by a bounded copy, or holding
 * bytes that are not UTF-8, is sent with those bytes escaped (tdcpuid/text.h);
 * a verdict document that is not UTF-8 is refused (TDC_ERR_FORMAT).
 */
int tdc_frame_encode(const struct tdc_frame *f, struct tdc_buf *out);
/*
 * Decode one frame body (the bytes after the length header).  An unknown
 * "v" fails with TDC_ERR_VERSION before any other key is interpreted, so a
 * peer speaking a newer protocol gets a clear answer.
 */
int tdc_frame_decode(const uint8_t *body, size_t len, struct tdc_frame *f);
/* Validate a 4-byte header: TDC_ERR_TOO_LARGE above @cap, FORMAT if zero. */
int tdc_frame_header(const uint8_t hdr[TDC_FRAME_HDR_LEN], size_t cap, uint32_t *len);

/* Convenience for error frames. */
int tdc_frame_encode_error(int code, const char *message, struct tdc_buf *out);

#endif
