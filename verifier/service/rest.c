// SPDX-License-Identifier: Apache-2.0
/*
 * The challenge-response REST API (rest.h, docs/rest.md) on libmicrohttpd.
 *
 * libmicrohttpd parses HTTP; it never listens or runs a thread of its own
 * (MHD_USE_NO_LISTEN_SOCKET, external epoll mode): the service's loop
 * accepts, admits the peer, owns the deadline, and runs the daemons when
 * their descriptor is ready.  A request with evidence suspends its
 * connection until the verdict is committed to the audit log, then
 * resumes it with the answer, so an acknowledged verdict is a durable one
 * here as on the framed protocol.
 *
 * Every refusal is an RFC 9457 problem document (application/problem+json).
 */
#include <errno.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "nonce.h"
#include "rest.h"
#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"
#include "tdcpuid/serial.h"
#include "tdcpuid/text.h"

/* Headers and the URL of one request live in libmicrohttpd's pool. */
#define CONN_MEMORY (32u * 1024)
/* newSession, GET and DELETE carry no body worth reading. */
#define SMALL_BODY 1024
/* Past the cap, this much more is read and dropped before the 413. */
#define DISCARD_MAX (8u << 20)

enum sess_state { S_FREE = 0, S_WAITING, S_PROCESSING, S_COMPLETE, S_FAILED };
static const char *const state_name[] = { "", "waiting", "processing", "complete", "failed" };

struct req;

struct session {
	enum sess_state st;
	uint32_t gen;
	char id[TDC_REST_ID_LEN + 1];
	uint8_t nonce[TDC_REST_NONCE_MAX];
	size_t nonce_len;
	bool caller_nonce;
	uint64_t born_ms, expiry_ms;
	time_t born_wall, expiry_wall;
	char peer[TDC_PEER_KEY_MAX];
	char vm[TDC_FRAME_STR_MAX];
	struct req *waiter;             /* the suspended request answering for it */
	/* the outcome */
	bool passed;
	int64_t record;
	char format[16];
	/* JSON text of the result: the JWS as a string, or the document itself,
	 * kept as text so a 240 KB JSON verdict is never parsed again */
	struct tdc_buf result;
	bool result_jwt;
	int err;
	char errmsg[TDC_FRAME_STR_MAX];
};

/* One connection slot (indexed like the loop's). */
struct hconn {
	bool used, tls, in_request, responding, suspended, expired;
	int fd;
	struct MHD_Connection *mc;
	struct tdc_peer peer;
};

enum req_kind { Q_NEW, Q_GET, Q_POST, Q_DELETE, Q_KEY };

struct req {
	enum req_kind kind;
	struct hconn *hc;
	size_t slot;
	size_t sess;                    /* Q_GET/Q_POST/Q_DELETE */
	uint32_t sess_gen;
	size_t cap;
	struct tdc_buf body;
	bool queued;                    /* a response went out already */
	size_t over;                    /* bytes dropped past the cap */
	bool waiting, done;             /* evidence submitted / its verdict is in */
	char vm[TDC_FRAME_STR_MAX];
	uint8_t nonce[TDC_REST_NONCE_MAX];
	size_t nonce_len;
	bool gen_nonce;
};

struct tdc_rest {
	struct tdc_rest_config cfg;
	struct tdc_rest_host host;
	struct MHD_Daemon *plain, *tls;
	struct hconn *hc;
	size_t adding;                  /* the slot tdc_rest_add is handing over */
	struct session *sess;
	size_t nsess;
	size_t *free_sess, nfree;       /* free session slots, a stack */
	size_t open;                    /* sessions waiting or processing */
	uint64_t next_purge;
	char *cert, *key;
	char *discovery;                /* the /.well-known document */
	bool draining;
};

/* ---- responses -------------------------------------------------------------- */

static enum MHD_Result send_text(struct req *q, struct MHD_Connection *mc, unsigned code,
				 const char *type, char *text, const char *location,
				 const char *allow)
{
	struct MHD_Response *rsp;
	enum MHD_Result ok;

	rsp = MHD_create_response_from_buffer(text ? strlen(text) : 0, text,
					      text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!rsp) {
		free(text);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (location)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_LOCATION, location);
	if (allow)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_ALLOW, allow);
	MHD_add_response_header(rsp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ok = MHD_queue_response(mc, code, rsp);
	MHD_destroy_response(rsp);
	if (q) {
		q->queued = true;
		q->hc->responding = true;
	}
	return ok;
}

static const char *title_of(unsigned code)
{
	const char *t = MHD_get_reason_phrase_for(code);

	return t && *t ? t : "Error";
}

/* A JSON text of the problem; @extra (may be NULL) is merged in. */
static char *problem_text(unsigned code, const char *detail, json_t *extra)
{
	char safe[512];
	json_t *o = json_object();
	char *s;

	tdc_text_clean(detail, safe, sizeof(safe), TDC_TEXT_ESCAPE_CTL);
	json_object_set_new(o, "type", json_string("about:blank"));
	json_object_set_new(o, "title", json_string(title_of(code)));
	json_object_set_new(o, "status", json_integer(code));
	json_object_set_new(o, "detail", json_string(safe));
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static enum MHD_Result problem(struct req *q, struct MHD_Connection *mc, unsigned code,
			       const char *allow, json_t *extra, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static enum MHD_Result problem(struct req *q, struct MHD_Connection *mc, unsigned code,
			       const char *allow, json_t *extra, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return send_text(q, mc, code, TDC_REST_MT_PROBLEM, problem_text(code, detail, extra),
			 NULL, allow);
}

/* ---- sessions --------------------------------------------------------------- */

static void rfc3339(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *b64_json(const uint8_t *p, size_t n)
{
	struct tdc_buf b;
	json_t *s;

	tdc_buf_init(&b);
	s = tdc_base64_encode(p, n, &b) == 0 ? json_stringn((const char *)b.data, b.len)
					      : json_null();
	tdc_buf_free(&b);
	return s;
}

static json_t *accept_list(void)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string(TDC_REST_MT_EVIDENCE));
	return a;
}

static const char *result_type(const struct session *s)
{
	bool ear = !strcmp(s->format, "ear");

	if (s->result_jwt)
		return ear ? TDC_REST_MT_EAR_JWT : TDC_REST_MT_VERDICT_JWT;
	return ear ? TDC_REST_MT_EAR_JSON : TDC_REST_MT_VERDICT_JSON;
}

/* {...} + "result": the text as it is, spliced in before the closing brace. */
static char *with_result(char *text, const struct session *s)
{
	size_t n = strlen(text), m = s->result.len;
	char *out = malloc(n + m + 16);

	if (out && n >= 2) {
		memcpy(out, text, n - 1);
		memcpy(out + n - 1, ",\"result\":", 10);
		memcpy(out + n + 9, s->result.data, m);
		memcpy(out + n + 9 + m, "}", 2);
	} else {
		free(out);
		out = NULL;
	}
	free(text);
	return out;
}

static char *session_text(const struct session *s)
{
	json_t *o = json_object(), *x;
	char when[40];
	char *text;

	rfc3339(s->expiry_wall, when, sizeof(when));
	json_object_set_new(o, "nonce", b64_json(s->nonce, s->nonce_len));
	json_object_set_new(o, "expiry", json_string(when));
	json_object_set_new(o, "accept", accept_list());
	json_object_set_new(o, "status", json_string(state_name[s->st]));
	if (s->st == S_COMPLETE) {
		x = json_pack("{s:b,s:I,s:s,s:s}", "passed", s->passed, "record",
			      (json_int_t)s->record, "format", s->format, "result-type",
			      result_type(s));
		json_object_set_new(o, "tdcpuid", x);
	} else if (s->st == S_FAILED) {
		json_object_set_new(o, "tdcpuid", json_pack("{s:s, s:i}", "error", s->errmsg,
							     "code", s->err));
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text && s->st == S_COMPLETE)
		text = with_result(text, s);
	return text;
}

static void session_free(struct tdc_rest *r, size_t i)
{
	struct session *s = &r->sess[i];

	tdc_buf_free(&s->result);
	s->result_jwt = false;
	OPENSSL_cleanse(s->nonce, sizeof(s->nonce));
	if (s->st == S_WAITING || s->st == S_PROCESSING)
		r->open--;
	r->free_sess[r->nfree++] = i;
	s->waiter = NULL;
	s->st = S_FREE;
	s->gen++;
}

/* Sessions live their nonce's TTL, then as long again as "expired" (410). */
static bool session_gone(const struct tdc_rest *r, const struct session *s, uint64_t now)
{
	return s->st != S_PROCESSING && now >= s->expiry_ms + (uint64_t)r->cfg.nonce_ttl_s * 1000;
}

/* At most once a second, or when the table is full: not a scan per session. */
static void purge(struct tdc_rest *r, uint64_t now)
{
	if (now < r->next_purge && r->nfree)
		return;
	r->next_purge = now + 1000;
	for (size_t i = 0; i < r->nsess; i++)
		if (r->sess[i].st != S_FREE && session_gone(r, &r->sess[i], now))
			session_free(r, i);
}

/*
 * The id is the slot in 4 hex digits and 14 random bytes: found without
 * a search, and a capability nobody guesses (112 bits).
 */
static int session_find(struct tdc_rest *r, const char *id, size_t *out)
{
	unsigned long ix = 0;

	for (int i = 0; i < 4; i++)
		ix = ix * 16 + (unsigned long)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
	if (ix >= r->nsess || r->sess[ix].st == S_FREE ||
	    CRYPTO_memcmp(r->sess[ix].id, id, TDC_REST_ID_LEN) != 0 ||
	    session_gone(r, &r->sess[ix], tdc_now_ms()))
		return -1;
	*out = ix;
	return 0;
}

static bool session_expired(const struct session *s, uint64_t now)
{
	return s->st == S_WAITING && now >= s->expiry_ms;
}

/* ---- the handlers ------------------------------------------------------------ */

static enum MHD_Result send_session(struct req *q, struct MHD_Connection *mc, unsigned code,
				    const struct session *s, bool location)
{
	char loc[sizeof(TDC_REST_SESSION) + TDC_REST_ID_LEN];

	snprintf(loc, sizeof(loc), "%s%s", TDC_REST_SESSION, s->id);
	return send_text(q, mc, code, TDC_REST_MT_SESSION, session_text(s),
			 location ? loc : NULL, NULL);
}

static unsigned peer_sessions(const struct tdc_rest *r, const char *peer)
{
	unsigned n = 0;

	/* Fewer open in all than one peer may hold: nobody is at the limit. */
	if (r->open < r->cfg.peer_sessions)
		return 0;

	for (size_t i = 0; i < r->nsess; i++)
		n += (r->sess[i].st == S_WAITING || r->sess[i].st == S_PROCESSING) &&
		     !strcmp(r->sess[i].peer, peer);
	return n;
}

static enum MHD_Result new_session(struct tdc_rest *r, struct req *q, struct MHD_Connection *mc)
{
	uint64_t now = tdc_now_ms();
	uint8_t rnd[TDC_REST_ID_LEN / 2 - 2];
	size_t i, free_ix;
	struct session *s;

	purge(r, now);
	for (i = 0; !q->gen_nonce && i < r->nsess; i++) {
		if (r->sess[i].st != S_FREE && r->sess[i].caller_nonce &&
			   r->sess[i].nonce_len == q->nonce_len &&
			   !CRYPTO_memcmp(r->sess[i].nonce, q->nonce, q->nonce_len)) {
			/* A caller's nonce is single use here as everywhere. */
			r->host.refusal(r->host.ctx, q->hc->peer.key, q->vm,
					"REST newSession: nonce already has a session");
			return problem(q, mc, MHD_HTTP_CONFLICT, NULL, NULL,
				       "nonce: already used by another session (single use)");
		}
	}
	if (peer_sessions(r, q->hc->peer.key) >= r->cfg.peer_sessions)
		return problem(q, mc, MHD_HTTP_TOO_MANY_REQUESTS, NULL, NULL,
			       "verifier busy: %s holds %u open sessions (the per-peer limit)",
			       q->hc->peer.text, r->cfg.peer_sessions);
	if (!r->nfree)
		return problem(q, mc, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL,
			       "verifier busy: %zu sessions open, retry later", r->nsess);
	free_ix = r->free_sess[r->nfree - 1];
	s = &r->sess[free_ix];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    (q->gen_nonce && (q->nonce_len == TDC_NONCE_LEN
			      ? tdc_nonce_generate(r->cfg.nonces, q->nonce) != 0
			      : RAND_bytes(q->nonce, (int)q->nonce_len) != 1)))
		return problem(q, mc, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL,
			       "no randomness for a nonce");
	snprintf(s->id, sizeof(s->id), "%04zx", free_ix);
	tdc_hex_encode(rnd, sizeof(rnd), s->id + 4);
	memcpy(s->nonce, q->nonce, q->nonce_len);
	s->nonce_len = q->nonce_len;
	s->caller_nonce = !q->gen_nonce;
	s->born_ms = now;
	s->expiry_ms = now + (uint64_t)r->cfg.nonce_ttl_s * 1000;
	s->born_wall = time(NULL);
	s->expiry_wall = s->born_wall + r->cfg.nonce_ttl_s;
	snprintf(s->peer, sizeof(s->peer), "%s", q->hc->peer.key);
	snprintf(s->vm, sizeof(s->vm), "%s", q->vm);
	s->st = S_WAITING;
	s->err = 0;
	s->errmsg[0] = '\0';
	r->nfree--;
	r->open++;
	return send_session(q, mc, MHD_HTTP_CREATED, s, true);
}

static enum MHD_Result gone(struct req *q, struct MHD_Connection *mc, const struct session *s,
			    const char *what)
{
	char when[40];

	rfc3339(s->expiry_wall, when, sizeof(when));
	return problem(q, mc, MHD_HTTP_GONE, NULL, NULL,
		       "session expired at %s: %s (its nonce is no longer accepted)", when, what);
}

/* An error of the judging, as HTTP: what the client can do about it. */
static unsigned http_of(int err)
{
	static const struct { int err; unsigned code; } map[] = {
		{ TDC_ERR_NONCE, MHD_HTTP_CONFLICT },
		{ TDC_ERR_NOT_FOUND, MHD_HTTP_FORBIDDEN },
		{ TDC_ERR_IO, MHD_HTTP_SERVICE_UNAVAILABLE },
		{ TDC_ERR_ALLOC, MHD_HTTP_SERVICE_UNAVAILABLE },
		{ TDC_ERR_INTERNAL, MHD_HTTP_INTERNAL_SERVER_ERROR },
		{ TDC_ERR_TOO_LARGE, MHD_HTTP_CONTENT_TOO_LARGE },
		{ TDC_ERR_BUSY, MHD_HTTP_SERVICE_UNAVAILABLE },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].err == err)
			return map[i].code;
	return MHD_HTTP_UNPROCESSABLE_CONTENT; /* the evidence could not be evaluated */
}

/*
 * The status says what a plain HTTP client can do; tdcpuid.code is the
 * framed error code of the same refusal, so our agent exits as it does over
 * the framed protocol (several codes share one status: 422 is a malformed
 * envelope, a collateral timeout or a policy that did not load alike).
 */
static json_t *code_member(int err)
{
	return json_pack("{s:i}", "code", err);
}

char *tdc_rest_failure_text(int err, const char *detail, unsigned *status)
{
	*status = http_of(err);
	return problem_text(*status, detail, json_pack("{s:s, s:o}", "session-status", "failed",
						       "tdcpuid", code_member(err)));
}

static enum MHD_Result submit_evidence(struct tdc_rest *r, struct req *q,
				       struct MHD_Connection *mc)
{
	struct session *s = &r->sess[q->sess];
	struct tdc_rest_evidence ev = { .slot = q->slot };
	int e;

	if (s->gen != q->sess_gen || s->st == S_FREE)
		return problem(q, mc, MHD_HTTP_NOT_FOUND, NULL, NULL, "no such session");
	if (session_expired(s, tdc_now_ms())) {
		r->host.refusal(r->host.ctx, q->hc->peer.key, s->vm, "REST: session expired");
		return gone(q, mc, s, "evidence refused");
	}
	if (s->st != S_WAITING) {
		r->host.refusal(r->host.ctx, q->hc->peer.key, s->vm,
				"REST: evidence for a session that already had its answer");
		return problem(q, mc, MHD_HTTP_CONFLICT, NULL, NULL,
			       "session is %s: evidence was already submitted (a nonce answers "
			       "once)", state_name[s->st]);
	}
	ev.token = (uint64_t)q->sess << 32 | s->gen;
	snprintf(ev.peer_key, sizeof(ev.peer_key), "%s", q->hc->peer.key);
	snprintf(ev.peer_text, sizeof(ev.peer_text), "http%s:%s", q->hc->tls ? "s" : "",
		 q->hc->peer.text);
	/* A name on the evidence request wins over the session's; both are optional. */
	snprintf(ev.vm, sizeof(ev.vm), "%s", q->vm[0] ? q->vm : s->vm);
	memcpy(ev.nonce, s->nonce, s->nonce_len);
	ev.nonce_len = s->nonce_len;
	ev.nonce_issued = s->born_wall;
	ev.ev = q->body;
	tdc_buf_init(&q->body);
	if ((e = r->host.submit(r->host.ctx, &ev)) != 0) {
		tdc_buf_free(&ev.ev);
		return problem(q, mc, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
			       json_pack("{s:o}", "tdcpuid", code_member(e)),
			       "evidence not queued: %s", tdc_errmsg(e));
	}
	s->st = S_PROCESSING;
	s->waiter = q;
	q->waiting = true;
	q->hc->suspended = true;
	/* The verdict comes when it is committed; the loop's deadline waits for it. */
	r->host.deadline(r->host.ctx, q->slot, UINT64_MAX);
	MHD_suspend_connection(mc);
	return MHD_YES;
}

static enum MHD_Result answer_verdict(struct tdc_rest *r, struct req *q,
				      struct MHD_Connection *mc)
{
	struct session *s = &r->sess[q->sess];

	q->hc->suspended = false;
	r->host.deadline(r->host.ctx, q->slot, tdc_now_ms() + (uint64_t)r->cfg.timeout_s * 1000);
	if (s->gen != q->sess_gen)
		return problem(q, mc, MHD_HTTP_GONE, NULL, NULL, "session deleted meanwhile");
	if (s->st == S_FAILED) {
		unsigned code;
		char *text = tdc_rest_failure_text(s->err, s->errmsg, &code);

		return send_text(q, mc, code, TDC_REST_MT_PROBLEM, text, NULL, NULL);
	}
	return send_session(q, mc, MHD_HTTP_OK, s, false);
}

/* Route, method, session and media type: decided on the headers, before any body. */
static enum MHD_Result start(struct tdc_rest *r, struct req *q, struct MHD_Connection *mc,
			     const char *url, const char *method)
{
	struct tdc_rest_route rt;
	const char *ct, *v;
	char mt[TDC_REST_MT_MAX + 1];
	unsigned long long clen;
	bool post = !strcmp(method, "POST");

	q->cap = SMALL_BODY;
	if (tdc_rest_route(url, &rt) != 0)
		return problem(q, mc, MHD_HTTP_URI_TOO_LONG, NULL, NULL, "%s", tdc_errdetail());
	if ((v = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "vm"))) {
		if (strlen(v) >= sizeof(q->vm))
			return problem(q, mc, MHD_HTTP_BAD_REQUEST, NULL, NULL, "vm: name too long");
		snprintf(q->vm, sizeof(q->vm), "%s", v);
	}
	switch (rt.kind) {
	case TDC_REST_R_NONE:
		return problem(q, mc, MHD_HTTP_NOT_FOUND, NULL, NULL,
			       "no such resource (the API is under %s)", TDC_REST_BASE);
	case TDC_REST_R_WELL_KNOWN:
		if (strcmp(method, "GET"))
			return problem(q, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "GET", NULL,
				       "%s: only GET", TDC_REST_WELL_KNOWN);
		q->kind = Q_KEY;
		return MHD_YES;
	case TDC_REST_R_NEW_SESSION:
		if (!post)
			return problem(q, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "POST", NULL,
				       "newSession: only POST");
		q->kind = Q_NEW;
		if (tdc_rest_nonce_param(MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND,
								     "nonce"),
					 MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND,
								     "nonceSize"),
					 q->nonce, &q->nonce_len, &q->gen_nonce) != 0)
			return problem(q, mc, MHD_HTTP_BAD_REQUEST, NULL, NULL, "%s",
				       tdc_errdetail());
		return MHD_YES;
	case TDC_REST_R_SESSION:
		break;
	}
	if (session_find(r, rt.id, &q->sess) != 0)
		return problem(q, mc, MHD_HTTP_NOT_FOUND, NULL, NULL, "no such session (unknown, "
			       "deleted, or expired more than %u s ago)", r->cfg.nonce_ttl_s);
	q->sess_gen = r->sess[q->sess].gen;
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		q->kind = Q_GET;
		return MHD_YES;
	}
	if (!strcmp(method, "DELETE")) {
		q->kind = Q_DELETE;
		return MHD_YES;
	}
	if (!post)
		return problem(q, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, POST, DELETE", NULL,
			       "session: GET, POST (evidence) or DELETE");
	q->kind = Q_POST;
	q->cap = r->cfg.body_cap;
	ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ct || tdc_rest_media_type(ct, mt, sizeof(mt)) != 0 ||
	    strcmp(mt, TDC_REST_MT_EVIDENCE)) {
		char why[160];

		tdc_text_clean(ct ? ct : "(none)", why, sizeof(why), TDC_TEXT_ESCAPE_CTL);
		r->host.refusal(r->host.ctx, q->hc->peer.key, r->sess[q->sess].vm,
				"REST: evidence of an unsupported media type");
		return problem(q, mc, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL,
			       json_pack("{s:o}", "accept", accept_list()),
			       "Content-Type %s: this verifier accepts %s", why,
			       TDC_REST_MT_EVIDENCE);
	}
	v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v && sscanf(v, "%llu", &clen) == 1 && clen > q->cap) {
		r->host.refusal(r->host.ctx, q->hc->peer.key, r->sess[q->sess].vm,
				"REST: evidence body over the cap");
		return problem(q, mc, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL,
			       "evidence: Content-Length %llu exceeds the cap of %zu bytes", clen,
			       q->cap);
	}
	return MHD_YES;
}

/* The whole request is in: act on it. */
static enum MHD_Result finish(struct tdc_rest *r, struct req *q, struct MHD_Connection *mc)
{
	struct session *s = q->kind == Q_NEW || q->kind == Q_KEY ? NULL : &r->sess[q->sess];

	if (s && s->gen != q->sess_gen)
		return problem(q, mc, MHD_HTTP_NOT_FOUND, NULL, NULL, "no such session");
	switch (q->kind) {
	case Q_KEY:
		return send_text(q, mc, MHD_HTTP_OK, TDC_REST_MT_DISCOVERY, strdup(r->discovery),
				 NULL, NULL);
	case Q_NEW:
		return new_session(r, q, mc);
	case Q_GET:
		if (session_expired(s, tdc_now_ms()))
			return gone(q, mc, s, "no evidence came in time");
		return send_session(q, mc, MHD_HTTP_OK, s, false);
	case Q_DELETE:
		if (s->st == S_PROCESSING)
			return problem(q, mc, MHD_HTTP_CONFLICT, NULL, NULL,
				       "session is being verified: delete it once it is complete");
		session_free(r, q->sess);
		return send_text(q, mc, MHD_HTTP_NO_CONTENT, NULL, NULL, NULL, NULL);
	case Q_POST:
		break;
	}
	if (!q->body.len)
		return problem(q, mc, MHD_HTTP_BAD_REQUEST, NULL, NULL, "evidence: empty body");
	return submit_evidence(r, q, mc);
}

static struct hconn *hconn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **req_cls)
{
	struct tdc_rest *r = cls;
	struct req *q = *req_cls;

	if (!q) {
		struct hconn *hc = hconn_of(mc);

		if (!hc || !(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		*req_cls = q;
		q->hc = hc;
		q->slot = (size_t)(hc - r->hc);
		tdc_buf_init(&q->body);
		hc->in_request = true;
		/* The request has begun: from here it has --timeout to finish. */
		r->host.deadline(r->host.ctx, q->slot,
				 tdc_now_ms() + (uint64_t)r->cfg.timeout_s * 1000);
		return start(r, q, mc, url, method);
	}
	if (q->queued) {
		*upload_size = 0; /* refused already: the rest of the body is not read */
		return MHD_YES;
	}
	if (*upload_size) {
		/*
		 * libmicrohttpd answers only once the body is in, so a body past the
		 * cap (chunked: no Content-Length to refuse up front) is counted and
		 * dropped, within the request's deadline, and the 413 follows.  A
		 * peer that keeps sending far beyond it is cut off.
		 */
		if (q->over || tdc_rest_body_add(&q->body, upload, *upload_size, q->cap) != 0) {
			if (!q->over)
				tdc_buf_free(&q->body);
			q->over += *upload_size;
			if (q->over > DISCARD_MAX)
				return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->over) {
		if (q->kind == Q_POST)
			r->host.refusal(r->host.ctx, q->hc->peer.key, r->sess[q->sess].vm,
					"REST: evidence body over the cap");
		return problem(q, mc, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL,
			       "body: more than %zu bytes (the cap for this request)", q->cap);
	}
	if (q->waiting)
		return q->done ? answer_verdict(r, q, mc) : MHD_YES;
	return finish(r, q, mc);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct tdc_rest *r = cls;
	struct req *q = *req_cls;
	struct hconn *hc;

	if (!q)
		return;
	if (q->waiting && !q->done && r->sess[q->sess].waiter == q)
		r->sess[q->sess].waiter = NULL;
	hc = q->hc;
	hc->in_request = hc->responding = false;
	tdc_buf_free(&q->body);
	free(q);
	*req_cls = NULL;
	if (hc->used && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		/* Kept alive: the next request must begin within the handshake time. */
		r->host.deadline(r->host.ctx, (size_t)(hc - r->hc),
				 tdc_now_ms() + (uint64_t)r->cfg.handshake_s * 1000);
		if (r->draining)
			shutdown(hc->fd, SHUT_RDWR);
	}
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct tdc_rest *r = cls;
	struct hconn *hc;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* Called from inside MHD_add_connection: tdc_rest_add set the slot. */
		hc = &r->hc[r->adding];
		hc->mc = mc;
		*socket_context = hc;
		return;
	}
	if (!(hc = *socket_context) || !hc->used)
		return;
	hc->used = false;
	hc->mc = NULL;
	r->host.closed(r->host.ctx, (size_t)(hc - r->hc));
}

/* libmicrohttpd's own messages: its format strings, checked as such. */
__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct tdc_rest *r = cls;

	if (r->cfg.quiet)
		return;
	fputs("tdcpuid-verifier serve: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- the loop's side ----------------------------------------------------------- */

int tdc_rest_add(struct tdc_rest *r, bool tls, int fd, size_t slot, const struct tdc_peer *peer)
{
	struct MHD_Daemon *d = tls ? r->tls : r->plain;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct hconn *hc = &r->hc[slot];

	if (!d || slot >= r->cfg.max_conns || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
		close(fd);
		return tdc_err(TDC_ERR_INTERNAL, "http: cannot hand over the connection");
	}
	memset(hc, 0, sizeof(*hc));
	hc->used = true;
	hc->tls = tls;
	hc->fd = fd;
	hc->peer = *peer;
	r->adding = slot;
	if (MHD_add_connection(d, fd, (struct sockaddr *)&ss, sl) != MHD_YES) {
		hc->used = false; /* libmicrohttpd closed the socket */
		return tdc_err(TDC_ERR_ALLOC, "http: connection not taken: %s", strerror(errno));
	}
	return 0;
}

size_t tdc_rest_pollfds(struct tdc_rest *r, struct pollfd *p, uint64_t now, uint64_t *next)
{
	struct MHD_Daemon *d[2] = { r->plain, r->tls };
	MHD_UNSIGNED_LONG_LONG to;
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		const union MHD_DaemonInfo *di;

		if (!d[i] || !(di = MHD_get_daemon_info(d[i], MHD_DAEMON_INFO_EPOLL_FD)))
			continue;
		p[n++] = (struct pollfd){ .fd = di->epoll_fd, .events = POLLIN };
		if (MHD_get_timeout(d[i], &to) == MHD_YES && now + to < *next)
			*next = now + to;
	}
	return n;
}

void tdc_rest_run(struct tdc_rest *r)
{
	if (r->plain)
		MHD_run(r->plain);
	if (r->tls)
		MHD_run(r->tls);
}

void tdc_rest_expire(struct tdc_rest *r, size_t slot)
{
	struct hconn *hc = &r->hc[slot];
	char *body;

	if (!hc->used)
		return;
	if (hc->suspended) {
		r->host.deadline(r->host.ctx, slot, UINT64_MAX);
		return;
	}
	/*
	 * Nothing of a response is on the wire yet, and on plain HTTP the socket
	 * is ours to write: say why before hanging up.  (Under TLS the record
	 * layer is libmicrohttpd's; the client sees the connection close.)
	 */
	if (!hc->tls && !hc->responding && !hc->expired &&
	    (body = problem_text(MHD_HTTP_REQUEST_TIMEOUT, hc->in_request
				 ? "request not complete within the deadline (--timeout)"
				 : "no request within the deadline (--handshake-timeout)", NULL))) {
		char head[256];
		int n = snprintf(head, sizeof(head), "HTTP/1.1 408 Request Timeout\r\n"
				 "Content-Type: " TDC_REST_MT_PROBLEM "\r\nContent-Length: %zu\r\n"
				 "Connection: close\r\n\r\n", strlen(body));

		(void)!send(hc->fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)!send(hc->fd, body, strlen(body), MSG_NOSIGNAL | MSG_DONTWAIT);
		free(body);
	}
	hc->expired = true;
	/* Before the shutdown: the peer may reconnect as soon as it reads the end. */
	r->host.hung_up(r->host.ctx, slot);
	/* libmicrohttpd sees end of file and closes; on_connection frees the slot. */
	shutdown(hc->fd, SHUT_RDWR);
	r->host.deadline(r->host.ctx, slot, tdc_now_ms() + 1000);
}

void tdc_rest_done(struct tdc_rest *r, const struct tdc_rest_result *res)
{
	size_t ix = (size_t)(res->token >> 32);
	struct session *s;
	int e = 0;

	if (ix >= r->nsess || r->sess[ix].gen != (uint32_t)res->token)
		return;
	s = &r->sess[ix];
	s->passed = res->passed;
	s->record = res->record;
	snprintf(s->format, sizeof(s->format), "%s", res->format ? res->format : "json");
	tdc_buf_init(&s->result);
	/* The engine's document is a JSON object (output.c, ear.c); a JWS is
	 * base64url and dots: both go into the session as they are. */
	if (!res->err && res->jws) {
		s->result_jwt = true;
		if ((e = tdc_buf_put_u8(&s->result, '"')) == 0 &&
		    (e = tdc_buf_put(&s->result, res->jws->data, res->jws->len)) == 0)
			e = tdc_buf_put_u8(&s->result, '"');
	} else if (!res->err) {
		e = res->doc->len && res->doc->data[0] == '{'
			? tdc_buf_put(&s->result, res->doc->data, res->doc->len)
			: tdc_err(TDC_ERR_INTERNAL, "verdict document is not a JSON object");
	}
	s->err = res->err ? res->err : e;
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", res->err ? res->errmsg
		 : e ? tdc_errdetail() : "");
	s->st = s->err ? S_FAILED : S_COMPLETE;
	r->open--;
	if (s->waiter) {
		s->waiter->done = true;
		MHD_resume_connection(s->waiter->hc->mc);
		s->waiter = NULL;
	}
}

void tdc_rest_drain(struct tdc_rest *r)
{
	r->draining = true;
	for (size_t i = 0; i < r->cfg.max_conns; i++)
		if (r->hc[i].used && !r->hc[i].in_request)
			shutdown(r->hc[i].fd, SHUT_RDWR);
}

/* ---- setup ------------------------------------------------------------------- */

/* RFC 7517 JWK of the signer, in the discovery document Veraison publishes. */
static json_t *jwk_of(EVP_PKEY *k)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t bx[32], by[32];
	struct tdc_buf ex, ey;
	json_t *o = NULL;

	tdc_buf_init(&ex);
	tdc_buf_init(&ey);
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
	    BN_bn2binpad(x, bx, 32) == 32 && BN_bn2binpad(y, by, 32) == 32 &&
	    tdc_b64url_encode(bx, 32, &ex) == 0 && tdc_b64url_encode(by, 32, &ey) == 0)
		o = json_pack("{s:s,s:s,s:s%,s:s%,s:s,s:s}", "kty", "EC", "crv", "P-256",
			      "x", (const char *)ex.data, ex.len, "y", (const char *)ey.data,
			      ey.len, "alg", "ES256", "use", "sig");
	BN_free(x);
	BN_free(y);
	tdc_buf_free(&ex);
	tdc_buf_free(&ey);
	return o;
}

static int make_discovery(struct tdc_rest *r)
{
	json_t *o = json_object(), *ep = json_object(), *key;

	json_object_set_new(o, "version", json_string("tdcpuid-verifier " TDC_VERSION));
	json_object_set_new(o, "service-state", json_string("READY"));
	json_object_set_new(o, "media-types", accept_list());
	json_object_set_new(ep, "newChallengeResponseSession", json_string(TDC_REST_NEW_SESSION));
	json_object_set_new(o, "api-endpoints", ep);
	if (r->cfg.sign_key) {
		if (!(key = jwk_of(r->cfg.sign_key))) {
			json_decref(o);
			return tdc_err(TDC_ERR_INTERNAL, "http: cannot export the EAR signing key");
		}
		json_object_set_new(o, "ear-verification-key", key);
	}
	r->discovery = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return r->discovery ? 0 : tdc_err(TDC_ERR_ALLOC, "http: discovery document");
}

static int read_pem(const char *path, char **out)
{
	struct tdc_buf b;
	int e;

	tdc_buf_init(&b);
	if ((e = tdc_read_file(path, 1u << 20, &b)) != 0)
		return e;
	*out = strdup(tdc_buf_cstr(&b));
	tdc_buf_free(&b);
	return *out ? 0 : tdc_err(TDC_ERR_ALLOC, "http: %s", path);
}

static struct MHD_Daemon *start_daemon(struct tdc_rest *r, bool tls)
{
	unsigned flags = MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_TURBO |
			 MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, r->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, r->key },
		/* TLS 1.3 only: nothing older is negotiated. */
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3" },
		{ MHD_OPTION_END, 0, NULL },
	};

	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, r,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, r,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, r,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)r->cfg.max_conns,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
				/* an idle backstop behind the loop's deadlines, which answer 408 */
				MHD_OPTION_CONNECTION_TIMEOUT, r->cfg.timeout_s + 5,
				MHD_OPTION_ARRAY, tls ? tls_opts : &tls_opts[3],
				MHD_OPTION_END);
}

int tdc_rest_new(const struct tdc_rest_config *c, const struct tdc_rest_host *h,
		 struct tdc_rest **out)
{
	struct tdc_rest *r = calloc(1, sizeof(*r));
	int e;

	*out = NULL;
	if (!r)
		return tdc_err(TDC_ERR_ALLOC, "http");
	r->cfg = *c;
	r->host = *h;
	r->nsess = c->max_sessions < 0xffff ? c->max_sessions : 0xffff;
	r->hc = calloc(c->max_conns, sizeof(*r->hc));
	r->sess = calloc(r->nsess, sizeof(*r->sess));
	r->free_sess = calloc(r->nsess, sizeof(*r->free_sess));
	if (!r->hc || !r->sess || !r->free_sess) {
		e = tdc_err(TDC_ERR_ALLOC, "http: tables");
		goto fail;
	}
	for (size_t i = r->nsess; i-- > 0;)
		r->free_sess[r->nfree++] = i;
	if ((e = make_discovery(r)) != 0)
		goto fail;
	if (!(r->plain = start_daemon(r, false))) {
		e = tdc_err(TDC_ERR_INTERNAL, "http: libmicrohttpd did not start");
		goto fail;
	}
	if (c->tls_cert || c->tls_key) {
		if (!c->tls_cert || !c->tls_key) {
			e = tdc_err(TDC_ERR_USAGE, "https needs both --tls-cert and --tls-key");
			goto fail;
		}
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			e = tdc_err(TDC_ERR_UNSUPPORTED, "https: this libmicrohttpd has no TLS");
			goto fail;
		}
		if ((e = read_pem(c->tls_cert, &r->cert)) != 0 ||
		    (e = read_pem(c->tls_key, &r->key)) != 0)
			goto fail;
		if (!(r->tls = start_daemon(r, true))) {
			e = tdc_err(TDC_ERR_FORMAT, "https: libmicrohttpd refused the certificate "
				    "or key (%s, %s)", c->tls_cert, c->tls_key);
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	tdc_rest_free(r);
	return e;
}

void tdc_rest_free(struct tdc_rest *r)
{
	if (!r)
		return;
	/* Suspended connections must be resumed before a daemon may stop. */
	for (size_t i = 0; r->hc && i < r->cfg.max_conns; i++)
		if (r->hc[i].used && r->hc[i].suspended && r->hc[i].mc)
			MHD_resume_connection(r->hc[i].mc);
	if (r->plain)
		MHD_stop_daemon(r->plain);
	if (r->tls)
		MHD_stop_daemon(r->tls);
	for (size_t i = 0; r->sess && i < r->nsess; i++)
		if (r->sess[i].st != S_FREE)
			session_free(r, i);
	if (r->key)
		OPENSSL_cleanse(r->key, strlen(r->key));
	free(r->key);
	free(r->cert);
	free(r->discovery);
	free(r->sess);
	free(r->free_sess);
	free(r->hc);
	free(r);
}
