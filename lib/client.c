// SPDX-License-Identifier: Apache-2.0
/* Agent side of the challenge-response exchange (docs/protocol.md). */
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tdcpuid/cli.h"
#include "tdcpuid/client.h"
#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"
#include "tdcpuid/transport.h"

void tdc_client_result_init(struct tdc_client_result *r)
{
	memset(r, 0, sizeof(*r));
	tdc_buf_init(&r->doc);
}

void tdc_client_result_free(struct tdc_client_result *r)
{
	tdc_buf_free(&r->doc);
	tdc_client_result_init(r);
}

/*
 * What a verifier's refusal means on this side, where it differs from the
 * code the verifier sent.  A verifier whose own audit log, disk or memory
 * failed ("audit log unavailable, retry later") judged nothing and may
 * answer later: that is "try later" here (exit 75, as its REST API's 503),
 * not an error of this machine (exit 3).  Any other code in the error space
 * stands; one outside it is a protocol violation.
 */
static const struct { int verifier, here; } refusal_map[] = {
	{ TDC_ERR_IO, TDC_ERR_BUSY },
	{ TDC_ERR_ALLOC, TDC_ERR_BUSY },
};

int tdc_client_refusal_code(int64_t code)
{
	if (code >= 0 || code <= TDC_ERR__LAST)
		return TDC_ERR_PROTOCOL;
	for (size_t i = 0; i < sizeof(refusal_map) / sizeof(refusal_map[0]); i++)
		if (refusal_map[i].verifier == code)
			return refusal_map[i].here;
	return (int)code;
}

/* Read one frame; an error frame becomes its code (tdc_client_refusal_code) and message. */
static int read_frame(int fd, uint64_t deadline_ms, enum tdc_frame_type want,
		      struct tdc_frame *f)
{
	struct tdc_buf body;
	int e;

	tdc_buf_init(&body);
	if ((e = tdc_io_read_frame(fd, TDC_FRAME_REPLY_MAX, deadline_ms, &body)) != 0 ||
	    (e = tdc_frame_decode(body.data, body.len, f)) != 0)
		goto out;
	if (f->type == TDC_FRAME_ERROR) {
		e = tdc_err(tdc_client_refusal_code(f->code), "verifier: %s", f->message);
		goto out;
	}
	if (f->type != want)
		e = tdc_err(TDC_ERR_PROTOCOL, "verifier sent a %s frame, expected %s",
			    tdc_frame_type_name(f->type), tdc_frame_type_name(want));
out:
	tdc_buf_free(&body);
	return e;
}

int tdc_client_hello(int fd, uint64_t deadline_ms, uint8_t nonce[TDC_NONCE_LEN], uint32_t *ttl)
{
	struct tdc_frame f;
	int e;

	tdc_frame_init(&f);
	if ((e = read_frame(fd, deadline_ms, TDC_FRAME_HELLO, &f)) == 0) {
		memcpy(nonce, f.nonce, TDC_NONCE_LEN);
		if (ttl)
			*ttl = f.ttl;
	}
	tdc_frame_free(&f);
	return e;
}

int tdc_client_send_evidence(int fd, uint64_t deadline_ms, const uint8_t *nonce,
			     const char *vm, const uint8_t *ev, size_t len)
{
	struct tdc_frame f;
	struct tdc_buf out;
	int e;

	tdc_frame_init(&f);
	tdc_buf_init(&out);
	f.type = TDC_FRAME_EVIDENCE;
	memcpy(f.nonce, nonce, TDC_NONCE_LEN);
	if (vm)
		snprintf(f.vm, sizeof(f.vm), "%s", vm);
	if ((e = tdc_buf_put(&f.payload, ev, len)) == 0 &&
	    (e = tdc_frame_encode(&f, &out)) == 0)
		e = tdc_io_write_all(fd, out.data, out.len, deadline_ms);
	tdc_frame_free(&f);
	tdc_buf_free(&out);
	return e;
}

int tdc_client_verdict(int fd, uint64_t deadline_ms, struct tdc_client_result *res)
{
	struct tdc_frame f;
	int e;

	tdc_frame_init(&f);
	if ((e = read_frame(fd, deadline_ms, TDC_FRAME_VERDICT, &f)) == 0) {
		res->passed = f.passed;
		res->record = f.record;
		snprintf(res->format, sizeof(res->format), "%s", f.format);
		snprintf(res->sig, sizeof(res->sig), "%s", f.sig);
		tdc_buf_reset(&res->doc);
		e = tdc_buf_put(&res->doc, f.payload.data, f.payload.len);
	}
	tdc_frame_free(&f);
	return e;
}

int tdc_client_attest(const char *addr, const char *vm, int timeout_ms,
		      tdc_evidence_fn fn, void *ctx, struct tdc_client_result *res)
{
	uint64_t deadline = tdc_now_ms() + (uint64_t)timeout_ms;
	uint8_t nonce[TDC_NONCE_LEN];
	struct tdc_buf ev;
	int fd = -1, e;

	tdc_buf_init(&ev);
	if ((e = tdc_transport_dial(addr, timeout_ms, &fd)) != 0 ||
	    (e = tdc_client_hello(fd, deadline, nonce, NULL)) != 0)
		goto out;
	memcpy(res->nonce, nonce, sizeof(nonce));
	if ((e = fn(ctx, nonce, sizeof(nonce), &ev)) != 0 ||
	    (e = tdc_client_send_evidence(fd, deadline, nonce, vm, ev.data, ev.len)) != 0)
		goto out;
	e = tdc_client_verdict(fd, deadline, res);
out:
	if (fd >= 0)
		close(fd);
	tdc_buf_free(&ev);
	return e;
}

int tdc_verdict_token(const uint8_t nonce[TDC_NONCE_LEN], bool passed, const char *format,
		      uint64_t record, const uint8_t *doc, size_t doc_len, struct tdc_buf *out)
{
	char nhex[2 * TDC_NONCE_LEN + 1], dhex[2 * SHA256_DIGEST_LENGTH + 1], fmt[16];
	uint8_t sha[SHA256_DIGEST_LENGTH];

	/* The format is one of our own words; anything else never reaches the token. */
	snprintf(fmt, sizeof(fmt), "%s", strcmp(format, "ear") ? "json" : "ear");
	SHA256(doc, doc_len, sha);
	tdc_hex_encode(nonce, TDC_NONCE_LEN, nhex);
	tdc_hex_encode(sha, sizeof(sha), dhex);
	tdc_buf_reset(out);
	return tdc_buf_printf(out, "{\"typ\":\"tdcpuid-verdict-v1\",\"nonce\":\"%s\",\"pass\":%s,"
			      "\"format\":\"%s\",\"record\":%llu,\"doc_sha256\":\"%s\"}", nhex,
			      passed ? "true" : "false", fmt, (unsigned long long)record, dhex);
}

int tdc_client_verify_verdict(const struct tdc_client_result *res, EVP_PKEY *key)
{
	struct tdc_buf want, got;
	int e;

	if (!res->sig[0])
		return tdc_err(TDC_ERR_SIGNATURE, "verdict: not signed, but a verifier key is "
			       "configured");
	if (strcmp(res->format, "json") && strcmp(res->format, "ear"))
		return tdc_err(TDC_ERR_SIGNATURE, "verdict: unknown format");
	tdc_buf_init(&want);
	tdc_buf_init(&got);
	if ((e = tdc_verdict_token(res->nonce, res->passed, res->format, res->record,
				   res->doc.data, res->doc.len, &want)) != 0)
		goto out;
	if ((e = tdc_jws_es256_verify(key, res->sig, strlen(res->sig), &got)) != 0) {
		e = tdc_err_wrap(TDC_ERR_SIGNATURE, "verdict: ");
		goto out;
	}
	if (got.len != want.len || memcmp(got.data, want.data, got.len))
		e = tdc_err(TDC_ERR_SIGNATURE, "verdict: the signature is valid but covers another "
			    "exchange (nonce, verdict, record or document differ)");
out:
	tdc_buf_free(&want);
	tdc_buf_free(&got);
	return e;
}
