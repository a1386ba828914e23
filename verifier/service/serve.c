// SPDX-License-Identifier: Apache-2.0
/*
 * The attestation service's machinery (service.h).  One poll() loop owns
 * every socket; blocking work (verification, audit commits) happens on
 * other threads and comes back through a queue and a wake-up pipe.
 *
 * Nobody who can connect gets to hold more than a bounded share
 * (docs/protocol.md "Limits"): per-peer admission (peers.h) before a
 * connection gets a slot, a handshake deadline until the evidence frame
 * has begun and a deadline for the whole exchange, a nonce that lives in
 * its connection and dies with it, refusals aggregated into one audit row
 * per peer per interval, and a descriptor budget checked at start with a
 * back-off when accept() runs out anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nonce.h"
#include "peers.h"
#include "rest.h"
#include "service.h"
#include "tdcpuid/client.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/jws.h"
#include "tdcpuid/text.h"

#define AUDIT_BATCH 256
#define ACCEPT_BURST 64
/* Descriptors the process needs besides connections: stdio, wake pipe,
 * listeners, SQLite (db, WAL, shm), files opened on reload, a refusal. */
#define FD_RESERVE 32
#define ACCEPT_BACKOFF_MS 100
/* Peers whose refusals are being counted at once; more flush early. */
#define AGG_MAX 1024
/* How often an idle auditor looks whether a lost database is back. */
#define DB_PROBE_MS 200

/* C_LINGER: reply sent, write side shut, reading until the peer closes so
 * unread input does not turn our close into a RST that eats the reply. */
enum conn_state { C_FREE = 0, C_HELLO, C_READ, C_BUSY, C_REPLY, C_LINGER,
	C_HTTP /* owned by libmicrohttpd (rest.c); the loop keeps slot and deadline */ };

/* Listeners: framed (tcp:/vsock:) first, then http:// and https://. */
enum listen_kind { L_FRAMED, L_HTTP, L_HTTPS };
#define MAX_LISTEN (2 * TDC_SERVE_MAX_LISTEN)
/* poll slots that are no connection: listeners below, the REST daemons at */
#define PSLOT_REST (SIZE_MAX - MAX_LISTEN - 1)

struct conn {
	int fd;
	enum conn_state st;
	uint32_t gen;
	uint64_t deadline;              /* the one that applies now */
	uint64_t full_deadline;         /* accept + --timeout */
	uint64_t hello_ms;              /* the nonce's birth: monotonic ... */
	time_t hello_wall;              /* ... and wall clock (policy nonce_max_age) */
	size_t live_ix;                 /* index in server.live */
	bool counted;                   /* held against its peer's limits */
	struct tdc_peer peer;
	uint8_t nonce[TDC_NONCE_LEN];   /* this connection's, and only valid here */
	uint8_t hdr[TDC_FRAME_HDR_LEN];
	size_t hdr_got;
	uint32_t body_len;
	struct tdc_buf in;
	struct tdc_buf out;
	size_t out_off;
};

struct job {
	struct job *next;
	size_t slot;                    /* SIZE_MAX: an aggregated row, nobody to answer */
	uint32_t gen;
	char peer_key[TDC_PEER_KEY_MAX];
	time_t nonce_issued;
	bool agg;                       /* not evaluated: count with the refusals */
	bool rest;                      /* from a REST session: answered through rest.c */
	uint64_t token;                 /* ... its session */
	struct tdc_buf jws;             /* REST: the verdict document signed */
	struct tdc_registry *reg;       /* reference held while the job lives */
	const struct tdc_vm_entry *vm;
	bool by_name;
	struct tdc_buf ev;
	uint8_t nonce[TDC_AUDIT_NONCE_MAX];
	size_t nonce_len;
	struct tdc_verify_out vout;
	struct tdc_audit_record rec;
	int err;                        /* reply with an error frame */
	char errmsg[TDC_FRAME_STR_MAX];
	char sig[TDC_FRAME_SIG_MAX];    /* signed verdict token */
};

/* Refusals of one peer in the current interval: one audit row at the end. */
struct agg {
	char peer[TDC_PEER_KEY_MAX];
	char vm[TDC_AUDIT_STR_MAX];     /* the first VM named */
	char first[112], last[112];     /* first and last reason */
	uint32_t count;
	time_t first_wall;
	uint64_t first_ms;
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool closed;
};

struct server {
	const struct tdc_serve_config *cfg;
	int lfd[MAX_LISTEN];
	enum listen_kind lkind[MAX_LISTEN];
	const struct tdc_addr *laddr[MAX_LISTEN];
	uint64_t lpause[MAX_LISTEN];    /* accept backs off until then */
	size_t nl;
	struct tdc_rest *rest;          /* the REST API, if an http(s) listener is configured */
	unsigned max_conns;             /* --max-conns within the descriptor budget */
	struct conn *conns;
	size_t *live, nlive;            /* slots in use, in no order */
	size_t *free_slots, nfree;
	size_t active;
	struct tdc_peers *peers;
	struct agg *agg;
	size_t nagg;
	size_t pending;                 /* jobs submitted, reply not yet handled */
	struct queue jobs, done;
	/* Group commit: rows waiting for the next commit (rows.head, under
	 * rows.mu), commits running (at most ncommit, the connections the audit
	 * store allows), by a worker for its own row or by an auditor. */
	struct queue rows;
	unsigned committing, ncommit;
	pthread_t *workers;
	pthread_t *auditors;            /* one per connection the audit store allows */
	struct tdc_registry *reg;
	struct tdc_nonce_store *nonces;
	struct tdc_audit *db;
	/* Set when a commit failed, cleared when the database answers
	 * again: meanwhile new connections are refused with db_why. */
	atomic_bool db_down;
	pthread_mutex_t db_mu;
	char db_why[TDC_FRAME_STR_MAX];
	bool draining;
	struct pollfd *pfd;
	size_t *pslot;
	struct {
		unsigned long accepted, busy, timeouts, verdicts, rejects, errors, emfile, db_refused;
	} stats;
};

static int wake_fd[2] = { -1, -1 };

/* ---- queues ---------------------------------------------------------------- */

static void q_init(struct queue *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->head = q->tail = NULL;
	q->closed = false;
}

static void q_push(struct queue *q, struct job *j)
{
	pthread_mutex_lock(&q->mu);
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* Block for the next job (or all queued jobs if @all); NULL once closed and empty. */
static struct job *q_pop(struct queue *q, bool all, bool wait)
{
	struct job *j;

	pthread_mutex_lock(&q->mu);
	while (wait && !q->head && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	j = q->head;
	if (j && all) {
		q->head = q->tail = NULL;
	} else if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		j->next = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return j;
}

static void q_close(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void wake(char c)
{
	ssize_t r = write(wake_fd[1], &c, 1);

	(void)r; /* a full pipe already guarantees a wake-up */
}

static void on_signal(int sig)
{
	int saved = errno;

	wake(sig == SIGHUP ? 'H' : 'T');
	errno = saved;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	tdc_registry_put(j->reg);
	tdc_buf_free(&j->ev);
	tdc_buf_free(&j->vout.doc);
	tdc_buf_free(&j->jws);
	free(j);
}

/* ---- worker and audit threads --------------------------------------------- */

/* What goes into the audit log is valid UTF-8 with no control characters,
 * whatever the guest put into the names and texts it quotes. */
static void clean(char *dst, size_t cap, const char *src)
{
	tdc_text_clean(src, dst, cap, TDC_TEXT_ESCAPE_CTL);
}

static void append_failing(struct tdc_verify_out *o, const char *what)
{
	size_t fl = strlen(o->failing);

	snprintf(o->failing + fl, sizeof(o->failing) - fl, "%s%s", fl ? "," : "", what);
}

/*
 * A VM reached by name over HTTP(S): the name only picks the entry (the
 * claims must name it too, see verify_job); an entry bound to a vsock CID
 * is reachable from that guest only.
 */
static const struct tdc_vm_entry *http_lookup(const struct tdc_registry *reg, const char *name,
					      const char *safe, char *why, size_t wl)
{
	const struct tdc_vm_entry *vm;

	if (!tdc_vm_name_valid(name)) {
		snprintf(why, wl, "invalid VM name '%s'", safe);
		return NULL;
	}
	if (!(vm = tdc_registry_by_name(reg, name))) {
		snprintf(why, wl, "unknown VM '%s'", safe);
		return NULL;
	}
	if (vm->has_cid) {
		snprintf(why, wl, "VM '%s' is bound to vsock CID %u: not reachable over HTTP",
			 vm->name, vm->cid);
		return NULL;
	}
	return vm;
}

/* A REST session that named no VM: the claims do (decoded on the worker). */
static int vm_from_claims(struct job *j)
{
	struct tdc_envelope env;
	struct tdc_claims cl;
	char safe[TDC_AUDIT_STR_MAX];
	int e;

	tdc_envelope_init(&env);
	tdc_claims_init(&cl);
	if ((e = tdc_envelope_decode(j->ev.data, j->ev.len, &env)) != 0 ||
	    (e = tdc_claims_decode(env.claims.data, env.claims.len, &cl)) != 0) {
		snprintf(j->vout.detail, sizeof(j->vout.detail), "%s", tdc_errdetail());
	} else if (!cl.vm_name[0]) {
		e = tdc_err(TDC_ERR_NOT_FOUND, "no VM named (?vm=) and the claims name none");
		snprintf(j->vout.detail, sizeof(j->vout.detail), "%s", tdc_errdetail());
	} else {
		clean(safe, sizeof(safe), cl.vm_name);
		snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", safe);
		if (!(j->vm = http_lookup(j->reg, cl.vm_name, safe, j->vout.detail,
					  sizeof(j->vout.detail))))
			e = TDC_ERR_NOT_FOUND;
		j->by_name = true;
	}
	tdc_claims_free(&cl);
	tdc_envelope_free(&env);
	return e;
}

static void verify_job(struct server *s, struct job *j)
{
	struct tdc_audit_record *r = &j->rec;
	const struct tdc_vm_entry *vm = j->vm;
	char claims_vm[TDC_FRAME_STR_MAX];
	int e;

	tdc_service_sha256(j->ev.data, j->ev.len, r->evidence_sha256);
	r->has_evidence = true;
	r->has_nonce = true;
	memcpy(r->nonce, j->nonce, j->nonce_len);
	r->nonce_len = j->nonce_len;
	e = vm ? 0 : vm_from_claims(j);
	if (!e && !(vm = j->vm)->prepared && j->reg->ops->prepare)
		e = tdc_err(TDC_ERR_INTERNAL, "registry entry not prepared");
	/* A name the agent typed into the frame is only an index: the name that
	 * counts is the one inside the hardware-bound claims. */
	j->vout.expect_vm = !e && j->by_name ? vm->name : NULL;
	if (!e)
		e = j->reg->ops->verify(j->reg->ops_ctx, vm, j->ev.data, j->ev.len, j->nonce,
					j->nonce_len, j->nonce_issued, &j->vout);
	if (e) {
		/* Nothing was evaluated, so nothing is attributable to anyone: the
		 * row is counted with this peer's refusals, not written per attempt. */
		r->verdict = TDC_AUDIT_ERROR;
		clean(r->detail, sizeof(r->detail), j->vout.detail[0] ? j->vout.detail : tdc_errmsg(e));
		j->err = e;
		j->agg = true;
		snprintf(j->errmsg, sizeof(j->errmsg), "evidence not evaluated: %s", r->detail);
		return;
	}
	/* The verifier judged it (vm_name); this keeps the frame failing for any
	 * verifier that did not. */
	if (j->by_name && strcmp(j->vout.claims_vm, vm->name) && !strstr(j->vout.failing, "vm_name")) {
		j->vout.passed = false;
		append_failing(&j->vout, "vm_name");
		clean(claims_vm, sizeof(claims_vm), j->vout.claims_vm);
		snprintf(j->vout.detail, sizeof(j->vout.detail),
			 "claims name VM '%s', registry entry is '%s'", claims_vm, vm->name);
	}
	r->verdict = j->vout.passed ? TDC_AUDIT_PASS : TDC_AUDIT_FAIL;
	clean(r->failing, sizeof(r->failing), j->vout.failing);
	clean(r->detail, sizeof(r->detail), j->vout.detail);
}

/* After the commit: the verdict token, signed, so the agent can tell it is ours. */
static void sign_reply(struct server *s, struct job *j)
{
	struct tdc_buf tok, jws;

	if (!s->cfg->sign_key || j->err || j->slot == SIZE_MAX)
		return;
	if (j->rest) {
		/* REST: the document itself is the signed result (EAR as a JWT). */
		if (tdc_jws_es256_sign(s->cfg->sign_key, j->vout.doc.data, j->vout.doc.len,
				       &j->jws) != 0) {
			j->err = TDC_ERR_INTERNAL;
			snprintf(j->errmsg, sizeof(j->errmsg), "verdict recorded (record %lld) but "
				 "not signed: %s", (long long)j->rec.id, tdc_errdetail());
		}
		return;
	}
	tdc_buf_init(&tok);
	tdc_buf_init(&jws);
	if (tdc_verdict_token(j->nonce, j->vout.passed, j->vout.format[0] ? j->vout.format : "json",
			      (uint64_t)j->rec.id, j->vout.doc.data, j->vout.doc.len, &tok) != 0 ||
	    tdc_jws_es256_sign(s->cfg->sign_key, tok.data, tok.len, &jws) != 0 ||
	    jws.len >= sizeof(j->sig)) {
		/* Unsigned would read as "not ours" to an agent that checks: say why. */
		j->err = TDC_ERR_INTERNAL;
		snprintf(j->errmsg, sizeof(j->errmsg), "verdict recorded (record %lld) but not "
			 "signed: %s", (long long)j->rec.id, tdc_errdetail());
	} else {
		memcpy(j->sig, jws.data, jws.len);
		j->sig[jws.len] = '\0';
	}
	tdc_buf_free(&tok);
	tdc_buf_free(&jws);
}

/*
 * The audit database failed a commit: say so once, and refuse new
 * exchanges (accept_on) until it answers again.  Nothing is acknowledged
 * meanwhile: every verdict waiting for this commit gets an error.
 */
static void db_failed(struct server *s, int e)
{
	char why[TDC_FRAME_STR_MAX];

	snprintf(why, sizeof(why), "%s", tdc_errmsg(e));
	/* Quoted into refusals, HTTP problem documents included: no quotes, no escapes. */
	for (char *c = why; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '\'';
	pthread_mutex_lock(&s->db_mu);
	snprintf(s->db_why, sizeof(s->db_why), "%s", why);
	pthread_mutex_unlock(&s->db_mu);
	if (!atomic_exchange(&s->db_down, true))
		fprintf(stderr, "tdcpuid-verifier serve: audit log unavailable, refusing new "
			"exchanges until it is back: %s\n", why);
}

/* While the database is down: probe it (the store bounds and spaces the attempts). */
static void db_probe(struct server *s)
{
	if (!atomic_load(&s->db_down) || tdc_audit_ping(s->db) != 0)
		return;
	if (atomic_exchange(&s->db_down, false))
		fprintf(stderr, "tdcpuid-verifier serve: audit log reachable again (%s), serving\n",
			tdc_audit_where(s->db));
}

/*
 * One transaction for the rows of @first (@n of them), then their replies:
 * nothing is handed to the loop before the commit returned.
 */
static void commit_batch(struct server *s, struct job *first, size_t n)
{
	struct tdc_audit_record *recs[AUDIT_BATCH];
	struct job *j, *next;
	size_t k = 0;
	int e;

	for (j = first; k < n; j = j->next)
		recs[k++] = &j->rec;
	if ((e = tdc_audit_append(s->db, recs, n)) != 0)
		db_failed(s, e);
	for (j = first; n--; j = next) {
		next = j->next;
		if (e && j->slot == SIZE_MAX) {
			/* Nobody waits for an aggregated row: say it on stderr at least. */
			fprintf(stderr, "tdcpuid-verifier serve: audit log unavailable, "
				"%u refusals from %s not recorded: %s\n", j->rec.count,
				j->rec.peer, tdc_errmsg(e));
		} else if (e && !j->err) {
			j->err = TDC_ERR_IO;
			snprintf(j->errmsg, sizeof(j->errmsg),
				 "audit log unavailable, verdict not recorded: %s", tdc_errmsg(e));
		} else if (!e && j->rec.result && !j->err) {
			j->err = j->rec.result;
			snprintf(j->errmsg, sizeof(j->errmsg),
				 "nonce already used (found in the audit log)");
		}
		sign_reply(s, j);
		q_push(&s->done, j);
	}
	wake('D');
}

/* Up to AUDIT_BATCH waiting rows, unlinked from the list (rows.mu held); their count in *@n. */
static struct job *rows_take(struct server *s, size_t *n)
{
	struct job *first = s->rows.head, *j = first;

	for (*n = 0; j && *n < AUDIT_BATCH; (*n)++) {
		s->rows.head = j->next;
		j = j->next;
	}
	if (!s->rows.head)
		s->rows.tail = NULL;
	return *n ? first : NULL;
}

/*
 * A verdict's row, from its worker.  When no commit runs and nothing is
 * queued (one exchange at a time, the usual case at low load) the worker
 * commits the row itself: no hand-off to an auditor and back.  Otherwise
 * the row waits for the next batch, which an auditor commits (under load
 * the workers keep verifying while a commit waits for its fsync).  Either
 * way the reply is handed to the loop only after the commit returned.
 */
static void commit_row(struct server *s, struct job *j)
{
	pthread_mutex_lock(&s->rows.mu);
	if (s->committing < s->ncommit && !s->rows.head) {
		s->committing++;
		pthread_mutex_unlock(&s->rows.mu);
		j->next = NULL;
		commit_batch(s, j, 1);
		pthread_mutex_lock(&s->rows.mu);
		s->committing--;
		/* Rows queued meanwhile: an auditor takes them now. */
		if (s->rows.head)
			pthread_cond_signal(&s->rows.cv);
		pthread_mutex_unlock(&s->rows.mu);
		return;
	}
	pthread_mutex_unlock(&s->rows.mu);
	q_push(&s->rows, j);
}

/* Group commit of everything queued, one transaction (one fsync) per batch. */
static void *auditor_main(void *arg)
{
	struct server *s = arg;
	struct timespec ts;
	struct job *batch;
	size_t n;

	pthread_mutex_lock(&s->rows.mu);
	while (s->rows.head || !s->rows.closed) {
		if (s->rows.head && s->committing < s->ncommit) {
			batch = rows_take(s, &n);
			s->committing++;
			pthread_mutex_unlock(&s->rows.mu);
			commit_batch(s, batch, n);
			pthread_mutex_lock(&s->rows.mu);
			s->committing--;
			continue;
		}
		if (s->rows.closed) {
			/* Rows left but every connection busy: the commit running signals. */
			pthread_cond_wait(&s->rows.cv, &s->rows.mu);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)DB_PROBE_MS * 1000000;
		ts.tv_sec += ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		if (pthread_cond_timedwait(&s->rows.cv, &s->rows.mu, &ts) != 0 && !s->rows.head) {
			/* Idle: while the database is down, look whether it is back. */
			pthread_mutex_unlock(&s->rows.mu);
			db_probe(s);
			pthread_mutex_lock(&s->rows.mu);
		}
	}
	/* Another auditor may wait for a connection this one no longer uses. */
	pthread_cond_broadcast(&s->rows.cv);
	pthread_mutex_unlock(&s->rows.mu);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct server *s = arg;
	struct job *j;

	while ((j = q_pop(&s->jobs, false, true))) {
		verify_job(s, j);
		if (j->agg) {
			q_push(&s->done, j);
			wake('D');
		} else {
			commit_row(s, j);
		}
	}
	return NULL;
}

/* ---- refusals: one audit row per peer per interval -------------------------- */

static void agg_emit(struct server *s, struct agg *a)
{
	struct job *j = calloc(1, sizeof(*j));
	struct tdc_audit_record *r;

	if (!j) {
		fprintf(stderr, "tdcpuid-verifier serve: out of memory: %u refusals from %s not "
			"recorded\n", a->count, a->peer);
		return;
	}
	j->slot = SIZE_MAX;
	tdc_buf_init(&j->ev);
	tdc_buf_init(&j->vout.doc);
	r = &j->rec;
	r->time = (int64_t)a->first_wall;
	r->verdict = TDC_AUDIT_REJECT;
	r->count = a->count;
	snprintf(r->peer, sizeof(r->peer), "%s", a->peer);
	snprintf(r->vm, sizeof(r->vm), "%s", a->vm);
	if (a->count == 1)
		snprintf(r->detail, sizeof(r->detail), "%s", a->first);
	else
		snprintf(r->detail, sizeof(r->detail), "%u refusals in %llu s; first: %s; last: %s",
			 a->count, (unsigned long long)((tdc_now_ms() - a->first_ms) / 1000 + 1),
			 a->first, a->last);
	s->pending++;
	q_push(&s->rows, j);
}

/* Emit the rows whose interval is over (all of them with @all). */
static void agg_flush(struct server *s, uint64_t now, bool all)
{
	uint64_t iv = (uint64_t)s->cfg->reject_interval_s * 1000;

	for (size_t i = 0; i < s->nagg;) {
		if (all || now - s->agg[i].first_ms >= iv) {
			agg_emit(s, &s->agg[i]);
			s->agg[i] = s->agg[--s->nagg];
		} else {
			i++;
		}
	}
}

static uint64_t agg_next_due(const struct server *s)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < s->nagg; i++)
		if (s->agg[i].first_ms + (uint64_t)s->cfg->reject_interval_s * 1000 < next)
			next = s->agg[i].first_ms + (uint64_t)s->cfg->reject_interval_s * 1000;
	return next;
}

/*
 * Count one refusal of @peer (vm and reason already cleaned).  Never
 * dropped: a full table writes out its oldest entry early.
 */
static void agg_add(struct server *s, const char *peer, const char *vm, const char *why)
{
	struct agg *a = NULL;

	s->stats.rejects++;
	for (size_t i = 0; i < s->nagg && !a; i++)
		if (!strcmp(s->agg[i].peer, peer))
			a = &s->agg[i];
	if (!a && s->nagg == AGG_MAX) {
		size_t old = 0;

		for (size_t i = 1; i < s->nagg; i++)
			if (s->agg[i].first_ms < s->agg[old].first_ms)
				old = i;
		agg_emit(s, &s->agg[old]);
		s->agg[old] = s->agg[--s->nagg];
	}
	if (!a) {
		a = &s->agg[s->nagg++];
		memset(a, 0, sizeof(*a));
		snprintf(a->peer, sizeof(a->peer), "%s", peer);
		snprintf(a->vm, sizeof(a->vm), "%s", vm);
		snprintf(a->first, sizeof(a->first), "%.*s",
			 (int)tdc_text_utf8_prefix(why, sizeof(a->first) - 1), why);
		a->first_wall = time(NULL);
		a->first_ms = tdc_now_ms();
	}
	snprintf(a->last, sizeof(a->last), "%.*s",
		 (int)tdc_text_utf8_prefix(why, sizeof(a->last) - 1), why);
	a->count++;
}

/* ---- connections ------------------------------------------------------------ */

static void conn_close(struct server *s, size_t slot)
{
	struct conn *c = &s->conns[slot];
	size_t last;

	if (c->st == C_FREE)
		return;
	if (c->st != C_HTTP) /* libmicrohttpd closes its own */
		close(c->fd);
	c->fd = -1;
	c->st = C_FREE;
	c->gen++;
	OPENSSL_cleanse(c->nonce, sizeof(c->nonce));
	tdc_buf_free(&c->in);
	tdc_buf_free(&c->out);
	if (c->counted)
		tdc_peers_release(s->peers, c->peer.key);
	c->counted = false;
	last = s->live[--s->nlive];
	s->live[c->live_ix] = last;
	s->conns[last].live_ix = c->live_ix;
	s->free_slots[s->nfree++] = slot;
	s->active--;
}

static void conn_send_frame(struct conn *c, const struct tdc_frame *f)
{
	tdc_buf_reset(&c->out);
	c->out_off = 0;
	if (tdc_frame_encode(f, &c->out) != 0)
		tdc_buf_reset(&c->out);
	c->st = C_REPLY;
}

static void conn_send_error(struct server *s, struct conn *c, int code, const char *msg)
{
	tdc_buf_reset(&c->out);
	c->out_off = 0;
	tdc_frame_encode_error(code, msg, &c->out);
	c->st = C_REPLY;
	s->stats.errors++;
}

static int issue_hello(struct server *s, struct conn *c)
{
	struct tdc_frame f;
	int e;

	tdc_frame_init(&f);
	/* The nonce lives in this connection only: it dies with it, whatever the peer does. */
	if ((e = tdc_nonce_generate(s->nonces, c->nonce)) != 0)
		return e;
	c->hello_ms = tdc_now_ms();
	c->hello_wall = time(NULL);
	f.type = TDC_FRAME_HELLO;
	memcpy(f.nonce, c->nonce, sizeof(f.nonce));
	f.ttl = s->cfg->nonce_ttl_s;
	snprintf(f.server, sizeof(f.server), "tdcpuid-verifier %s", TDC_VERSION);
	e = tdc_frame_encode(&f, &c->out);
	tdc_frame_free(&f);
	return e;
}

/* Best effort, for a connection we will not serve: one send, then close. */
static void refuse(int fd, int code, const char *msg)
{
	struct tdc_buf b;

	tdc_buf_init(&b);
	if (tdc_frame_encode_error(code, msg, &b) == 0)
		(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	tdc_buf_free(&b);
	close(fd);
}

/* Turned away at accept: a frame on framed listeners, a problem on plain HTTP. */
static void refuse_on(struct server *s, size_t li, int fd, int code, const char *msg)
{
	char text[512];
	int n;

	if (s->lkind[li] == L_FRAMED) {
		refuse(fd, code, msg);
		return;
	}
	/* TLS would need a handshake first: the client just sees the close.
	 * @msg is ours (peers.c, the line above): no quotes to escape. */
	if (s->lkind[li] == L_HTTP) {
		char body[320];
		int bl = snprintf(body, sizeof(body), "{\"type\":\"about:blank\",\"title\":"
				  "\"Service Unavailable\",\"status\":503,\"detail\":\"%s\"}", msg);

		n = snprintf(text, sizeof(text), "HTTP/1.1 503 Service Unavailable\r\n"
			     "Content-Type: " TDC_REST_MT_PROBLEM "\r\nRetry-After: 1\r\n"
			     "Connection: close\r\nContent-Length: %d\r\n\r\n%s", bl, body);
		if (bl > 0 && (size_t)bl < sizeof(body) && n > 0 && (size_t)n < sizeof(text))
			(void)!send(fd, text, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

static void conn_write(struct server *s, size_t slot);

static void accept_on(struct server *s, size_t li)
{
	const struct tdc_transport_ops *ops = tdc_transport_of(s->laddr[li]);
	struct tdc_peer peer;
	const char *why;
	uint64_t now;
	size_t slot;
	int fd, e;

	for (int k = 0; k < ACCEPT_BURST; k++) {
		if ((e = ops->accept(s->lfd[li], &fd, &peer)) != 0) {
			/*
			 * Out of descriptors (EMFILE) or memory: the pending connection
			 * stays queued and the listener readable, so retrying at once
			 * would spin.  Stop listening for a moment instead.
			 */
			if (e == TDC_ERR_ALLOC) {
				if (!s->stats.emfile++ && !s->cfg->quiet)
					fprintf(stderr, "tdcpuid-verifier serve: %s; backing off\n",
						tdc_errdetail());
				s->lpause[li] = tdc_now_ms() + ACCEPT_BACKOFF_MS;
			}
			return;
		}
		now = tdc_now_ms();
		/* Lingering connections hold slots but no longer count for their peer. */
		if (!s->nfree) {
			s->stats.busy++;
			refuse_on(s, li, fd, TDC_ERR_BUSY, "verifier busy: connection limit "
				  "reached, retry later");
			continue;
		}
		if ((e = tdc_peers_admit(s->peers, peer.key, now, &why)) != 0) {
			s->stats.busy++;
			refuse_on(s, li, fd, e, why);
			continue;
		}
		/* No verdict could be recorded, so none could be given: say why at once. */
		if (atomic_load(&s->db_down)) {
			char msg[TDC_FRAME_STR_MAX];

			pthread_mutex_lock(&s->db_mu);
			snprintf(msg, sizeof(msg), "audit log unavailable, not accepting exchanges; "
				 "retry later (%s)", s->db_why);
			pthread_mutex_unlock(&s->db_mu);
			s->stats.db_refused++;
			tdc_peers_release(s->peers, peer.key);
			refuse_on(s, li, fd, TDC_ERR_IO, msg);
			continue;
		}
		slot = s->free_slots[--s->nfree];
		struct conn *c = &s->conns[slot];

		c->fd = fd;
		c->peer = peer;
		c->full_deadline = now + (uint64_t)s->cfg->timeout_s * 1000;
		c->deadline = now + (uint64_t)(s->cfg->handshake_s < s->cfg->timeout_s ?
					       s->cfg->handshake_s : s->cfg->timeout_s) * 1000;
		c->hdr_got = 0;
		c->body_len = 0;
		c->out_off = 0;
		tdc_buf_init(&c->in);
		tdc_buf_init(&c->out);
		c->st = C_HELLO;
		c->counted = true;
		c->live_ix = s->nlive;
		s->live[s->nlive++] = slot;
		s->active++;
		s->stats.accepted++;
		if (s->lkind[li] != L_FRAMED) {
			/* HTTP: the socket goes to libmicrohttpd, slot and deadline stay here. */
			c->st = C_HTTP;
			if (tdc_rest_add(s->rest, s->lkind[li] == L_HTTPS, fd, slot, &peer) != 0)
				conn_close(s, slot);
			continue;
		}
		if ((e = issue_hello(s, c)) != 0)
			conn_send_error(s, c, e, tdc_errmsg(e));
		/* A new socket has room for the hello: send it now, not a poll round later. */
		conn_write(s, slot);
	}
}

static struct job *job_new(struct conn *c, size_t slot)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->slot = slot;
	j->gen = c->gen;
	j->nonce_issued = c->hello_wall;
	snprintf(j->peer_key, sizeof(j->peer_key), "%s", c->peer.key);
	tdc_buf_init(&j->ev);
	tdc_buf_init(&j->vout.doc);
	snprintf(j->rec.peer, sizeof(j->rec.peer), "%s", c->peer.text);
	return j;
}

/*
 * Refused before checking (unknown VM, wrong nonce, ...): answered at once,
 * and counted into this peer's aggregated audit row.  Nothing about the
 * refusal is authenticated, so it never earns a row of its own.
 */
static void refuse_frame(struct server *s, struct conn *c, int code, const char *vm,
			 const char *why)
{
	conn_send_error(s, c, code, why);
	agg_add(s, c->peer.key, vm, why);
}

static const struct tdc_vm_entry *lookup(struct server *s, struct conn *c,
					 const struct tdc_frame *f, const char *name,
					 bool *by_name, char *why, size_t wl)
{
	const struct tdc_vm_entry *vm = NULL;
	bool vsock = c->peer.kind == TDC_TRANSPORT_VSOCK;

	*by_name = false;
	/* A vsock CID is assigned by the host: it outranks any name the guest claims. */
	if (vsock && (vm = tdc_registry_by_cid(s->reg, c->peer.cid))) {
		if (f->vm[0] && strcmp(f->vm, vm->name)) {
			snprintf(why, wl, "wrong VM: CID %u belongs to '%s', agent claims '%s'",
				 c->peer.cid, vm->name, name);
			return NULL;
		}
		return vm;
	}
	if (!f->vm[0]) {
		snprintf(why, wl, "no VM name given and %s is not mapped in the registry",
			 c->peer.text);
		return NULL;
	}
	if (!tdc_vm_name_valid(f->vm)) {
		snprintf(why, wl, "invalid VM name '%s'", name);
		return NULL;
	}
	if (!(vm = tdc_registry_by_name(s->reg, f->vm))) {
		snprintf(why, wl, "unknown VM '%s'", name);
		return NULL;
	}
	/* The CID binds the entry to one guest: its name is no way in from elsewhere. */
	if (vm->has_cid && !(vsock && c->peer.cid == vm->cid)) {
		snprintf(why, wl, "VM '%s' is bound to vsock CID %u: not reachable from %s",
			 vm->name, vm->cid, c->peer.text);
		return NULL;
	}
	*by_name = true;
	return vm;
}

static void submit(struct server *s, struct conn *c, size_t slot, struct tdc_frame *f)
{
	char why[TDC_FRAME_STR_MAX], name[TDC_AUDIT_STR_MAX];
	const struct tdc_vm_entry *vm;
	struct job *j;
	bool by_name;

	/* The guest chose these bytes: quoted only in escaped form. */
	clean(name, sizeof(name), f->vm);
	/* docs/protocol.md: the nonce answers this connection's hello, no other. */
	if (CRYPTO_memcmp(f->nonce, c->nonce, TDC_NONCE_LEN) != 0) {
		refuse_frame(s, c, TDC_ERR_NONCE, name, "nonce: not the nonce this connection was "
			     "given (evidence answers the hello of its own connection)");
		return;
	}
	if (tdc_now_ms() - c->hello_ms > (uint64_t)s->cfg->nonce_ttl_s * 1000) {
		snprintf(why, sizeof(why), "nonce: expired (ttl %u s)", s->cfg->nonce_ttl_s);
		refuse_frame(s, c, TDC_ERR_NONCE, name, why);
		return;
	}
	if (!(vm = lookup(s, c, f, name, &by_name, why, sizeof(why)))) {
		refuse_frame(s, c, TDC_ERR_NOT_FOUND, name, why);
		return;
	}
	if (!(j = job_new(c, slot))) {
		conn_send_error(s, c, TDC_ERR_ALLOC, "out of memory");
		return;
	}
	tdc_registry_get(s->reg);
	j->reg = s->reg;
	memcpy(j->nonce, f->nonce, TDC_NONCE_LEN);
	j->nonce_len = TDC_NONCE_LEN;
	j->vm = vm;
	j->by_name = by_name;
	snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", vm->name);
	/* Move the evidence out of the frame instead of copying a megabyte. */
	j->ev = f->payload;
	tdc_buf_init(&f->payload);
	c->st = C_BUSY;
	s->pending++;
	q_push(&s->jobs, j);
}

static void on_frame(struct server *s, struct conn *c, size_t slot)
{
	struct tdc_frame f;
	int e;

	tdc_frame_init(&f);
	if ((e = tdc_frame_decode(c->in.data, c->in.len, &f)) != 0)
		conn_send_error(s, c, e, tdc_errdetail());
	else if (f.type != TDC_FRAME_EVIDENCE)
		conn_send_error(s, c, TDC_ERR_PROTOCOL, "expected an evidence frame");
	else
		submit(s, c, slot, &f);
	tdc_frame_free(&f);
	tdc_buf_free(&c->in);
}

static void conn_read(struct server *s, size_t slot)
{
	struct conn *c = &s->conns[slot];
	uint8_t *dst;
	size_t want;
	ssize_t r;
	int e;

	for (;;) {
		if (c->hdr_got < TDC_FRAME_HDR_LEN) {
			dst = c->hdr + c->hdr_got;
			want = TDC_FRAME_HDR_LEN - c->hdr_got;
		} else {
			dst = c->in.data + c->in.len;
			want = c->body_len - c->in.len;
		}
		r = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) { /* peer gone or reset: nothing to answer */
			conn_close(s, slot);
			return;
		}
		if (c->hdr_got < TDC_FRAME_HDR_LEN) {
			c->hdr_got += (size_t)r;
			if (c->hdr_got < TDC_FRAME_HDR_LEN)
				continue;
			/* The cap is checked before a byte of the body is buffered. */
			if ((e = tdc_frame_header(c->hdr, TDC_FRAME_MAX, &c->body_len)) != 0 ||
			    (e = tdc_buf_reserve(&c->in, c->body_len)) != 0) {
				conn_send_error(s, c, e, tdc_errdetail());
				return;
			}
			/* The evidence frame has begun: the handshake is over. */
			c->deadline = c->full_deadline;
			continue;
		}
		c->in.len += (size_t)r;
		if (c->in.len == c->body_len) {
			on_frame(s, c, slot);
			return;
		}
	}
}

static void conn_write(struct server *s, size_t slot)
{
	struct conn *c = &s->conns[slot];
	ssize_t w;

	while (c->out_off < c->out.len) {
		w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w < 0) {
			conn_close(s, slot);
			return;
		}
		c->out_off += (size_t)w;
	}
	if (c->st == C_HELLO) {
		c->st = C_READ;
		tdc_buf_reset(&c->out);
		c->out_off = 0;
		return;
	}
	/* Reply sent: this exchange is over, and the peer may start the next one. */
	shutdown(c->fd, SHUT_WR);
	c->st = C_LINGER;
	if (c->counted)
		tdc_peers_release(s->peers, c->peer.key);
	c->counted = false;
	if (c->deadline > tdc_now_ms() + 1000)
		c->deadline = tdc_now_ms() + 1000;
}

static void conn_linger(struct server *s, size_t slot)
{
	uint8_t sink[4096];
	ssize_t r;

	while ((r = recv(s->conns[slot].fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
		;
	if (r == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(s, slot);
}

/* ---- replies from the workers and the audit threads ----------------------- */

static void reply(struct server *s, struct job *j)
{
	struct conn *c;
	struct tdc_frame f;

	if (j->slot == SIZE_MAX)
		return; /* an aggregated row: nobody to answer */
	c = &s->conns[j->slot];
	if (j->agg)
		agg_add(s, j->peer_key, j->rec.vm, j->errmsg);
	else if (!j->err)
		s->stats.verdicts++;
	if (j->rest) {
		/* The session keeps the outcome even if its connection is gone. */
		struct tdc_rest_result res = {
			.token = j->token, .err = j->err, .errmsg = j->errmsg,
			.passed = j->vout.passed, .record = j->rec.id,
			.format = j->vout.format[0] ? j->vout.format : "json",
			.doc = &j->vout.doc, .jws = s->cfg->sign_key ? &j->jws : NULL,
		};

		tdc_rest_done(s->rest, &res);
		return;
	}
	/* The client may have hit its deadline meanwhile: the record stays, the reply goes. */
	if (c->st != C_BUSY || c->gen != j->gen)
		return;
	if (j->err) {
		conn_send_error(s, c, j->err, j->errmsg);
		conn_write(s, j->slot);
		return;
	}
	tdc_frame_init(&f);
	f.type = TDC_FRAME_VERDICT;
	f.passed = j->vout.passed;
	f.record = (uint64_t)j->rec.id;
	snprintf(f.format, sizeof(f.format), "%s", j->vout.format[0] ? j->vout.format : "json");
	snprintf(f.sig, sizeof(f.sig), "%s", j->sig);
	f.payload = j->vout.doc;
	conn_send_frame(c, &f);
	tdc_buf_init(&f.payload); /* still owned by the job */
	tdc_frame_free(&f);
	/* The socket is idle while the check runs: write at once, poll only if it is full. */
	conn_write(s, j->slot);
}

static void drain_done(struct server *s)
{
	struct job *j, *next;

	for (j = q_pop(&s->done, true, false); j; j = next) {
		next = j->next;
		reply(s, j);
		s->pending--;
		job_free(j);
	}
}

static void reload(struct server *s)
{
	struct tdc_registry *r;
	int e;

	if ((e = tdc_registry_load(s->cfg->registry_dir, s->cfg->ops, s->cfg->ops_ctx, &r)) != 0) {
		fprintf(stderr, "tdcpuid-verifier serve: reload failed, keeping the old registry: %s\n",
			tdc_errmsg(e));
		return;
	}
	tdc_registry_put(s->reg);
	s->reg = r;
	/* Said even with --quiet: it is the event a SIGHUP waits for. */
	fprintf(stderr, "tdcpuid-verifier serve: registry reloaded (%zu VMs)\n", r->n);
}

static void on_wake(struct server *s)
{
	char buf[64];
	ssize_t n;

	while ((n = read(wake_fd[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 'T' && !s->draining) {
				s->draining = true;
				for (size_t l = 0; l < s->nl; l++)
					close(s->lfd[l]);
				if (s->rest)
					tdc_rest_drain(s->rest);
				/* Said even with --quiet: the listeners are gone now. */
				fprintf(stderr, "tdcpuid-verifier serve: draining\n");
			} else if (buf[i] == 'H') {
				reload(s);
			}
		}
	}
	drain_done(s);
}

/* ---- the loop -------------------------------------------------------------- */

static int build_poll(struct server *s, uint64_t now, int *timeout)
{
	uint64_t next = agg_next_due(s);
	size_t n = 0;

	s->pfd[n++] = (struct pollfd){ .fd = wake_fd[0], .events = POLLIN };
	for (size_t l = 0; !s->draining && l < s->nl; l++) {
		if (s->lpause[l] > now) {
			next = s->lpause[l] < next ? s->lpause[l] : next;
			continue;
		}
		s->pfd[n] = (struct pollfd){ .fd = s->lfd[l], .events = POLLIN };
		s->pslot[n++] = SIZE_MAX - l;
	}
	if (s->rest) {
		size_t k = tdc_rest_pollfds(s->rest, &s->pfd[n], now, &next);

		for (size_t i = 0; i < k; i++)
			s->pslot[n++] = PSLOT_REST;
	}
	for (size_t k = 0; k < s->nlive; k++) {
		size_t i = s->live[k];
		struct conn *c = &s->conns[i];

		if (c->deadline < next)
			next = c->deadline;
		if (c->st == C_BUSY || c->st == C_HTTP)
			continue;
		s->pfd[n] = (struct pollfd){ .fd = c->fd, .events = c->st == C_READ ||
						c->st == C_LINGER ? POLLIN : POLLOUT };
		s->pslot[n++] = i;
	}
	*timeout = next == UINT64_MAX ? 1000 : next <= now ? 0 : next - now > 1000 ? 1000
		   : (int)(next - now);
	return (int)n;
}

static void expire(struct server *s, uint64_t now)
{
	/* Backwards: closing moves the last live slot into the hole. */
	for (size_t k = s->nlive; k-- > 0;) {
		size_t i = s->live[k];

		if (s->conns[i].deadline > now)
			continue;
		s->stats.timeouts += s->conns[i].st != C_LINGER;
		if (s->conns[i].st == C_HTTP)
			tdc_rest_expire(s->rest, i); /* answers 408, hangs up; the slot follows */
		else
			conn_close(s, i);
	}
}

static void loop(struct server *s)
{
	int n, timeout;

	while (!s->draining || s->active || s->pending || s->nagg) {
		n = build_poll(s, tdc_now_ms(), &timeout);
		if (poll(s->pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (s->pfd[0].revents)
			on_wake(s);
		for (int i = 1; i < n; i++) {
			short re = s->pfd[i].revents;
			size_t slot = s->pslot[i];

			if (!re)
				continue;
			if (slot == PSLOT_REST)
				continue; /* run below, every turn */
			if (slot >= SIZE_MAX - MAX_LISTEN) {
				if (!s->draining)
					accept_on(s, SIZE_MAX - slot);
				continue;
			}
			if (s->conns[slot].st == C_READ)
				conn_read(s, slot);
			else if (s->conns[slot].st == C_HELLO || s->conns[slot].st == C_REPLY)
				conn_write(s, slot);
			else if (s->conns[slot].st == C_LINGER)
				conn_linger(s, slot);
		}
		/* Cheap when idle (one epoll_wait(0)); it also answers resumed requests. */
		if (s->rest)
			tdc_rest_run(s->rest);
		expire(s, tdc_now_ms());
		agg_flush(s, tdc_now_ms(), s->draining);
	}
}

/* ---- setup ------------------------------------------------------------------ */

void tdc_serve_config_init(struct tdc_serve_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 2;
	c->max_conns = 256;
	c->timeout_s = 10;
	c->handshake_s = 5;
	c->nonce_ttl_s = 60;
	c->peer_conns = 16;
	c->peer_rate = 20;
	c->reject_interval_s = 60;
	c->rest_sessions = 4096;
	c->peer_sessions = 64;
	c->ops = &tdc_verifier_basic;
}

int tdc_serve_http_parse(const char *s, struct tdc_serve_http *out)
{
	char tcp[TDC_ADDR_MAX + 8];
	const char *rest;

	memset(out, 0, sizeof(*out));
	if (!strncmp(s, "http://", 7)) {
		rest = s + 7;
	} else if (!strncmp(s, "https://", 8)) {
		rest = s + 8;
		out->tls = true;
	} else {
		return tdc_err(TDC_ERR_USAGE, "listen: '%s' is not http://HOST:PORT or "
			       "https://HOST:PORT", s);
	}
	if (strchr(rest, '/') && strcmp(strchr(rest, '/'), "/"))
		return tdc_err(TDC_ERR_USAGE, "listen: '%s': no path (the API lives at %s)", s,
			       TDC_REST_BASE);
	if ((size_t)snprintf(tcp, sizeof(tcp), "tcp:%.*s", (int)strcspn(rest, "/"), rest) >=
	    sizeof(tcp))
		return tdc_err(TDC_ERR_USAGE, "listen: '%s': too long", s);
	return tdc_addr_parse(tcp, &out->addr);
}

/*
 * Every connection is a descriptor: --max-conns beyond RLIMIT_NOFILE would
 * only turn into EMFILE at accept.  Raise the soft limit as far as the hard
 * one allows, then fit the connection table into what there is.
 */
static int fd_budget(struct server *s)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)s->max_conns + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { need < rl.rlim_max ? need : rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl = up;
	}
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_cur <= FD_RESERVE)
		return tdc_err(TDC_ERR_RANGE, "serve: RLIMIT_NOFILE is %llu: not even room for "
			       "one connection (%d descriptors are kept for the service itself)",
			       (unsigned long long)rl.rlim_cur, FD_RESERVE);
	fprintf(stderr, "tdcpuid-verifier serve: --max-conns %u exceeds the descriptor limit "
		"(RLIMIT_NOFILE %llu): serving at most %llu connections\n", s->max_conns,
		(unsigned long long)rl.rlim_cur, (unsigned long long)(rl.rlim_cur - FD_RESERVE));
	s->max_conns = (unsigned)(rl.rlim_cur - FD_RESERVE);
	return 0;
}

static int open_listeners(struct server *s)
{
	struct tdc_buf ready;
	struct tdc_addr bound;
	char text[TDC_ADDR_MAX];
	int e = 0;

	tdc_buf_init(&ready);
	for (s->nl = 0; s->nl < s->cfg->nlisten + s->cfg->nhttp; s->nl++) {
		bool http = s->nl >= s->cfg->nlisten;
		const struct tdc_serve_http *h = http ? &s->cfg->http[s->nl - s->cfg->nlisten] : NULL;
		const struct tdc_addr *a = http ? &h->addr : &s->cfg->listen[s->nl];
		const struct tdc_transport_ops *ops = tdc_transport_of(a);

		s->laddr[s->nl] = a;
		s->lkind[s->nl] = !http ? L_FRAMED : h->tls ? L_HTTPS : L_HTTP;
		/* A backlog as deep as the table: a burst of connects the service
		 * could take waits for accept (or its refusal), not for SYN retries. */
		if ((e = ops->listen(a, s->max_conns > 128 ? (int)s->max_conns : 128,
				     &s->lfd[s->nl])) != 0)
			goto out;
		if (ops->local(s->lfd[s->nl], &bound) != 0)
			bound = *a;
		tdc_addr_str(&bound, text, sizeof(text));
		if (http) {
			/* "tcp:HOST:PORT" -> "http://HOST:PORT", as --listen took it */
			char url[TDC_ADDR_MAX + 8];

			snprintf(url, sizeof(url), "http%s://%s", h->tls ? "s" : "", text + 4);
			snprintf(text, sizeof(text), "%s", url);
		}
		if (!s->cfg->quiet)
			printf("listening on %s\n", text);
		if ((e = tdc_buf_printf(&ready, "%s\n", text)) != 0)
			goto out;
	}
	fflush(stdout);
	if (s->cfg->ready_file)
		e = tdc_write_file(s->cfg->ready_file, ready.data, ready.len);
out:
	tdc_buf_free(&ready);
	return e;
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		return tdc_err(TDC_ERR_IO, "serve: pipe: %s", strerror(errno));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int start_threads(struct server *s)
{
	q_init(&s->jobs);
	q_init(&s->rows);
	q_init(&s->done);
	s->ncommit = tdc_audit_pool(s->db);
	if (!(s->workers = calloc(s->cfg->workers, sizeof(*s->workers))))
		return tdc_err(TDC_ERR_ALLOC, "serve: workers");
	for (unsigned i = 0; i < s->cfg->workers; i++)
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			return tdc_err(TDC_ERR_INTERNAL, "serve: pthread_create failed");
	if (!(s->auditors = calloc(s->ncommit, sizeof(*s->auditors))))
		return tdc_err(TDC_ERR_ALLOC, "serve: auditors");
	for (unsigned i = 0; i < s->ncommit; i++)
		if (pthread_create(&s->auditors[i], NULL, auditor_main, s) != 0)
			return tdc_err(TDC_ERR_INTERNAL, "serve: pthread_create failed");
	return 0;
}

static void stop_threads(struct server *s)
{
	q_close(&s->jobs);
	for (unsigned i = 0; s->workers && i < s->cfg->workers; i++)
		pthread_join(s->workers[i], NULL);
	/* The auditors leave once nothing is queued. */
	q_close(&s->rows);
	for (unsigned i = 0; s->auditors && i < s->ncommit; i++)
		pthread_join(s->auditors[i], NULL);
	free(s->workers);
	free(s->auditors);
}

static int alloc_tables(struct server *s)
{
	size_t n = s->max_conns, np = n + MAX_LISTEN + 3;
	struct tdc_peer_limits lim = {
		.max_conns = s->max_conns, .per_peer = s->cfg->peer_conns,
		.rate = s->cfg->peer_rate, .burst = s->cfg->peer_burst,
	};

	s->conns = calloc(n, sizeof(*s->conns));
	s->live = calloc(n, sizeof(*s->live));
	s->free_slots = calloc(n, sizeof(*s->free_slots));
	s->pfd = calloc(np, sizeof(*s->pfd));
	s->pslot = calloc(np, sizeof(*s->pslot));
	s->agg = calloc(AGG_MAX, sizeof(*s->agg));
	if (!s->conns || !s->live || !s->free_slots || !s->pfd || !s->pslot || !s->agg)
		return tdc_err(TDC_ERR_ALLOC, "serve: connection table");
	for (size_t i = 0; i < n; i++)
		s->free_slots[s->nfree++] = n - 1 - i;
	return tdc_peers_new(&lim, &s->peers);
}

/* ---- the REST API's view of the loop (rest.h) ------------------------------- */

static int rest_submit(void *ctx, struct tdc_rest_evidence *ev)
{
	struct server *s = ctx;
	struct conn *c = &s->conns[ev->slot];
	char name[TDC_AUDIT_STR_MAX];
	struct job *j;

	if (!(j = calloc(1, sizeof(*j))))
		return tdc_err(TDC_ERR_ALLOC, "out of memory");
	j->slot = ev->slot;
	j->gen = c->gen;
	j->rest = true;
	j->token = ev->token;
	j->nonce_issued = ev->nonce_issued;
	memcpy(j->nonce, ev->nonce, ev->nonce_len);
	j->nonce_len = ev->nonce_len;
	snprintf(j->peer_key, sizeof(j->peer_key), "%s", ev->peer_key);
	snprintf(j->rec.peer, sizeof(j->rec.peer), "%s", ev->peer_text);
	tdc_buf_init(&j->vout.doc);
	tdc_buf_init(&j->jws);
	j->ev = ev->ev;
	tdc_buf_init(&ev->ev);
	tdc_registry_get(s->reg);
	j->reg = s->reg;
	s->pending++;
	if (ev->vm[0]) {
		clean(name, sizeof(name), ev->vm);
		snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", name);
		if (!(j->vm = http_lookup(s->reg, ev->vm, name, j->errmsg, sizeof(j->errmsg)))) {
			/* Refused before checking, like a framed exchange naming no VM we know. */
			j->err = TDC_ERR_NOT_FOUND;
			j->agg = true;
			q_push(&s->done, j);
			wake('D');
			return 0;
		}
		snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", j->vm->name);
		j->by_name = true;
	}
	/* No name: the worker takes the one inside the claims (vm_from_claims). */
	q_push(&s->jobs, j);
	return 0;
}

static void rest_refusal(void *ctx, const char *peer_key, const char *vm, const char *why)
{
	char name[TDC_AUDIT_STR_MAX];

	clean(name, sizeof(name), vm);
	agg_add(ctx, peer_key, name, why);
}

static void rest_deadline(void *ctx, size_t slot, uint64_t at_ms)
{
	struct server *s = ctx;

	s->conns[slot].deadline = at_ms;
}

static void rest_hung_up(void *ctx, size_t slot)
{
	struct server *s = ctx;
	struct conn *c = &s->conns[slot];

	/* As a lingering framed connection: the slot is held, the peer's count is not. */
	if (c->counted)
		tdc_peers_release(s->peers, c->peer.key);
	c->counted = false;
}

static void rest_closed(void *ctx, size_t slot)
{
	conn_close(ctx, slot);
}

static int start_rest(struct server *s)
{
	const struct tdc_serve_config *c = s->cfg;
	struct tdc_rest_config rc = {
		.max_conns = s->max_conns, .timeout_s = c->timeout_s,
		.handshake_s = c->handshake_s < c->timeout_s ? c->handshake_s : c->timeout_s,
		.nonce_ttl_s = c->nonce_ttl_s, .peer_sessions = c->peer_sessions,
		.max_sessions = c->rest_sessions, .body_cap = TDC_EVIDENCE_MAX,
		.tls_cert = c->tls_cert, .tls_key = c->tls_key, .sign_key = c->sign_key,
		.nonces = s->nonces, .quiet = c->quiet,
	};
	struct tdc_rest_host h = {
		.ctx = s, .submit = rest_submit, .refusal = rest_refusal,
		.deadline = rest_deadline, .hung_up = rest_hung_up, .closed = rest_closed,
	};
	bool tls = false;

	if (!c->nhttp)
		return 0;
	for (size_t i = 0; i < c->nhttp; i++)
		tls |= c->http[i].tls;
	if (tls && (!c->tls_cert || !c->tls_key))
		return tdc_err(TDC_ERR_USAGE, "serve: https:// needs --tls-cert and --tls-key");
	if (!tls && (c->tls_cert || c->tls_key))
		return tdc_err(TDC_ERR_USAGE, "serve: --tls-cert/--tls-key without an https:// "
			       "listener");
	return tdc_rest_new(&rc, &h, &s->rest);
}

int tdc_serve_run(const struct tdc_serve_config *cfg)
{
	struct server s = { .cfg = cfg, .max_conns = cfg->max_conns };
	/* A connection per worker: commits of one instance never wait for a free one. */
	struct tdc_audit_opts dbo = { .pool = cfg->workers, .timeout_ms = cfg->db_timeout_ms };
	int e;

	pthread_mutex_init(&s.db_mu, NULL);
	if (!(cfg->nlisten + cfg->nhttp) || !cfg->workers || !cfg->max_conns || !cfg->timeout_s ||
	    !cfg->handshake_s || !cfg->peer_conns || !cfg->peer_rate || !cfg->reject_interval_s)
		return tdc_err(TDC_ERR_USAGE, "serve: need --listen, and workers, max-conns, timeouts, "
			       "peer limits and reject interval > 0");
	if ((e = fd_budget(&s)) != 0 || (e = alloc_tables(&s)) != 0)
		goto out;
	if ((e = tdc_registry_load(cfg->registry_dir, cfg->ops, cfg->ops_ctx, &s.reg)) != 0 ||
	    (e = tdc_nonce_store_new(cfg->nonce_ttl_s, cfg->stateless ? cfg->nonce_key : NULL,
				     &s.nonces)) != 0 ||
	    (e = tdc_audit_open_opts(cfg->db_path, &dbo, &s.db)) != 0 ||
	    (e = start_rest(&s)) != 0 ||
	    (e = setup_signals()) != 0 ||
	    (e = open_listeners(&s)) != 0 ||
	    (e = start_threads(&s)) != 0)
		goto out;
	loop(&s);
	stop_threads(&s);
	drain_done(&s);
	if (!cfg->quiet)
		fprintf(stderr, "tdcpuid-verifier serve: stopped: %lu connections, %lu verdicts, "
			"%lu refused (aggregated in the log), %lu timed out, %lu turned away at "
			"accept, %lu accept back-offs, %lu refused while the audit log was down\n",
			s.stats.accepted, s.stats.verdicts, s.stats.rejects, s.stats.timeouts,
			s.stats.busy, s.stats.emfile, s.stats.db_refused);
out:
	if (!s.draining)
		for (size_t l = 0; l < s.nl; l++)
			close(s.lfd[l]);
	/* libmicrohttpd closes its connections, and tells rest_closed. */
	tdc_rest_free(s.rest);
	for (size_t i = 0; s.conns && s.live && i < s.max_conns; i++)
		conn_close(&s, i);
	tdc_audit_close(s.db);
	tdc_nonce_store_free(s.nonces);
	tdc_registry_put(s.reg);
	tdc_peers_free(s.peers);
	free(s.conns);
	free(s.live);
	free(s.free_slots);
	free(s.pfd);
	free(s.pslot);
	free(s.agg);
	pthread_mutex_destroy(&s.db_mu);
	return e;
}
