// SPDX-License-Identifier: Apache-2.0
/* Agent side of the challenge-response exchange (docs/protocol.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tdcpuid/client.h"
#include "tdcpuid/error.h"
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

/* Read one frame; an error frame becomes its own code and message. */
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
		e = tdc_err(f->code < 0 && f->code > TDC_ERR__LAST ? f->code : TDC_ERR_PROTOCOL,
			    "verifier: %s", f->message);
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
	    (e = tdc_client_hello(fd, deadline, nonce, NULL)) != 0 ||
	    (e = fn(ctx, nonce, sizeof(nonce), &ev)) != 0 ||
	    (e = tdc_client_send_evidence(fd, deadline, nonce, vm, ev.data, ev.len)) != 0)
		goto out;
	e = tdc_client_verdict(fd, deadline, res);
out:
	if (fd >= 0)
		close(fd);
	tdc_buf_free(&ev);
	return e;
}
