/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `serve --listen http://...|https://...`: the challenge-response REST API
 * (docs/rest.md) on libmicrohttpd, plugged into the service's one poll
 * loop (serve.c).  The loop accepts, admits the peer and owns the
 * connection slot and its deadline, exactly as for framed connections; it
 * hands the socket to this layer, which speaks HTTP through libmicrohttpd
 * driven from the same loop (external mode, one epoll descriptor per
 * daemon), keeps the sessions, and sends evidence back to the loop as a
 * job for the same workers, audit commit and signing.
 *
 * Everything here runs on the loop thread.
 */
#ifndef TDC_SERVICE_REST_H
#define TDC_SERVICE_REST_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/types.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/rest.h"
#include "tdcpuid/transport.h"

struct tdc_nonce_store;
struct tdc_rest;

/* Evidence of one session, to be judged (rest -> loop). */
struct tdc_rest_evidence {
	size_t slot;                      /* the connection waiting for it */
	uint64_t token;                   /* the session, for tdc_rest_done */
	char peer_key[TDC_PEER_KEY_MAX];
	char peer_text[TDC_ADDR_MAX];
	char vm[TDC_FRAME_STR_MAX];       /* "": the VM the claims name */
	uint8_t nonce[TDC_REST_NONCE_MAX];
	size_t nonce_len;
	time_t nonce_issued;
	struct tdc_buf ev;                /* moved to the job */
};

/* Its outcome, after the audit commit (loop -> rest). */
struct tdc_rest_result {
	uint64_t token;
	int err;                          /* 0: a verdict */
	const char *errmsg;
	bool passed;
	int64_t record;
	const char *format;               /* "json" or "ear" */
	const struct tdc_buf *doc;
	const struct tdc_buf *jws;        /* the doc signed (ES256), NULL if unsigned */
};

/* What the loop offers this layer. */
struct tdc_rest_host {
	void *ctx;
	int (*submit)(void *ctx, struct tdc_rest_evidence *ev);
	/* Refused before checking: counted into the peer's aggregated audit row. */
	void (*refusal)(void *ctx, const char *peer_key, const char *vm, const char *why);
	void (*deadline)(void *ctx, size_t slot, uint64_t at_ms);
	/* We hung up on @slot: it no longer counts for its peer, which may see
	 * the end of file before libmicrohttpd closes the socket. */
	void (*hung_up)(void *ctx, size_t slot);
	/* libmicrohttpd closed the socket: the slot is free again. */
	void (*closed)(void *ctx, size_t slot);
};

struct tdc_rest_config {
	size_t max_conns;                 /* slots the loop may hand over */
	unsigned timeout_s, handshake_s, nonce_ttl_s;
	unsigned peer_sessions;           /* open sessions one peer may hold */
	size_t max_sessions;
	size_t body_cap;                  /* evidence bytes */
	const char *tls_cert, *tls_key;   /* PEM files, NULL: no https */
	EVP_PKEY *sign_key;               /* EAR signer: result JWS and the published key */
	struct tdc_nonce_store *nonces;
	bool quiet;
};

int tdc_rest_new(const struct tdc_rest_config *c, const struct tdc_rest_host *h,
		 struct tdc_rest **out);
void tdc_rest_free(struct tdc_rest *r);
/* Hand an accepted socket over (closed by this layer, also on failure). */
int tdc_rest_add(struct tdc_rest *r, bool tls, int fd, size_t slot, const struct tdc_peer *peer);
/* Descriptors to poll (at most 2) and the earliest time to run again. */
size_t tdc_rest_pollfds(struct tdc_rest *r, struct pollfd *p, uint64_t now, uint64_t *next);
void tdc_rest_run(struct tdc_rest *r);
/* The loop's deadline for @slot passed: answer 408 if we can, then hang up. */
void tdc_rest_expire(struct tdc_rest *r, size_t slot);
void tdc_rest_done(struct tdc_rest *r, const struct tdc_rest_result *res);
/* Draining: idle keep-alive connections are closed, busy ones after their reply. */
void tdc_rest_drain(struct tdc_rest *r);

/*
 * The problem document (malloc'd, NULL without memory) and its HTTP status
 * that the evidence POST answers when judging failed with @err: the status
 * for any HTTP client, and the framed error code as tdcpuid.code for ours
 * (docs/rest.md "Refusals").
 */
char *tdc_rest_failure_text(int err, const char *detail, unsigned *status);

#endif
