// SPDX-License-Identifier: Apache-2.0
/*
 * The attestation service's machinery (service.h).  One poll() loop owns
 * every socket; blocking work (verification, SQLite commits) happens on
 * other threads and comes back through a queue and a wake-up pipe.  Each
 * connection has one deadline counted from accept, so a client that
 * dribbles bytes or goes silent holds a slot for at most --timeout seconds,
 * and --max-conns bounds how many slots exist at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nonce.h"
#include "service.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"

#define AUDIT_BATCH 256
#define ACCEPT_BURST 64

/* C_LINGER: reply sent, write side shut, reading until the peer closes so
 * unread input does not turn our close into a RST that eats the reply. */
enum conn_state { C_FREE = 0, C_HELLO, C_READ, C_BUSY, C_REPLY, C_LINGER };

struct conn {
	int fd;
	enum conn_state st;
	uint32_t gen;
	uint64_t deadline;
	struct tdc_peer peer;
	uint8_t nonce[TDC_NONCE_LEN];
	uint8_t hdr[TDC_FRAME_HDR_LEN];
	size_t hdr_got;
	uint32_t body_len;
	struct tdc_buf in;
	struct tdc_buf out;
	size_t out_off;
};

struct job {
	struct job *next;
	size_t slot;
	uint32_t gen;
	struct tdc_registry *reg;       /* reference held while the job lives */
	const struct tdc_vm_entry *vm;
	bool by_name;
	struct tdc_buf ev;
	uint8_t nonce[TDC_NONCE_LEN];
	int reject;                     /* refused before verification: code */
	struct tdc_verify_out vout;
	struct tdc_audit_record rec;
	int err;                        /* reply with an error frame */
	char errmsg[TDC_FRAME_STR_MAX];
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool closed;
};

struct server {
	const struct tdc_serve_config *cfg;
	int lfd[TDC_SERVE_MAX_LISTEN];
	size_t nl;
	struct conn *conns;
	size_t active;
	size_t pending;                 /* jobs submitted, reply not yet handled */
	struct queue jobs, audit, done;
	pthread_t *workers;
	pthread_t auditor;
	struct tdc_registry *reg;
	struct tdc_nonce_store *nonces;
	struct tdc_audit *db;
	bool draining;
	struct pollfd *pfd;
	size_t *pslot;
	struct {
		unsigned long accepted, busy, timeouts, verdicts, rejects, errors;
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
	free(j);
}

/* ---- worker and audit threads --------------------------------------------- */

static void append_failing(struct tdc_verify_out *o, const char *what)
{
	size_t fl = strlen(o->failing);

	snprintf(o->failing + fl, sizeof(o->failing) - fl, "%s%s", fl ? "," : "", what);
}

static void verify_job(struct server *s, struct job *j)
{
	struct tdc_audit_record *r = &j->rec;
	const struct tdc_vm_entry *vm = j->vm;
	int e;

	tdc_service_sha256(j->ev.data, j->ev.len, r->evidence_sha256);
	r->has_evidence = true;
	r->has_nonce = true;
	memcpy(r->nonce, j->nonce, sizeof(r->nonce));
	e = vm->prepared || !j->reg->ops->prepare
		? j->reg->ops->verify(j->reg->ops_ctx, vm, j->ev.data, j->ev.len, j->nonce,
				      sizeof(j->nonce), &j->vout)
		: tdc_err(TDC_ERR_INTERNAL, "registry entry not prepared");
	if (e) {
		r->verdict = TDC_AUDIT_ERROR;
		snprintf(r->detail, sizeof(r->detail), "%s",
			 j->vout.detail[0] ? j->vout.detail : tdc_errmsg(e));
		j->err = e;
		snprintf(j->errmsg, sizeof(j->errmsg), "evidence not evaluated: %s", r->detail);
		return;
	}
	/*
	 * A name the agent typed into the frame is only an index: the name that
	 * counts is the one inside the hardware-bound claims.
	 */
	if (j->by_name && strcmp(j->vout.claims_vm, vm->name)) {
		j->vout.passed = false;
		append_failing(&j->vout, "vm_name");
		snprintf(j->vout.detail, sizeof(j->vout.detail),
			 "claims name VM '%s', registry entry is '%s'", j->vout.claims_vm, vm->name);
	}
	r->verdict = j->vout.passed ? TDC_AUDIT_PASS : TDC_AUDIT_FAIL;
	snprintf(r->failing, sizeof(r->failing), "%s", j->vout.failing);
	snprintf(r->detail, sizeof(r->detail), "%s", j->vout.detail);
}

static void *worker_main(void *arg)
{
	struct server *s = arg;
	struct job *j;

	while ((j = q_pop(&s->jobs, false, true))) {
		if (!j->reject)
			verify_job(s, j);
		q_push(&s->audit, j);
	}
	return NULL;
}

static void *auditor_main(void *arg)
{
	struct server *s = arg;
	struct tdc_audit_record *recs[AUDIT_BATCH];
	struct job *batch, *j, *next;
	size_t n;
	int e;

	while ((batch = q_pop(&s->audit, true, true))) {
		while (batch) {
			/* Group commit: one transaction, one fsync, for everything queued. */
			struct job *first = batch;

			for (n = 0, j = batch; j && n < AUDIT_BATCH; j = j->next)
				recs[n++] = &j->rec;
			batch = j;
			e = tdc_audit_append(s->db, recs, n);
			for (j = first; n--; j = next) {
				next = j->next;
				if (e && !j->err) {
					j->err = TDC_ERR_IO;
					snprintf(j->errmsg, sizeof(j->errmsg),
						 "audit log unavailable, verdict not recorded: %s",
						 tdc_errmsg(e));
				} else if (!e && j->rec.result && !j->err) {
					j->err = j->rec.result;
					snprintf(j->errmsg, sizeof(j->errmsg),
						 "nonce already used (found in the audit log)");
				}
				q_push(&s->done, j);
			}
			wake('D');
		}
	}
	return NULL;
}

/* ---- connections ------------------------------------------------------------ */

static void conn_close(struct server *s, size_t slot)
{
	struct conn *c = &s->conns[slot];

	if (c->st == C_FREE)
		return;
	close(c->fd);
	c->fd = -1;
	c->st = C_FREE;
	c->gen++;
	tdc_buf_free(&c->in);
	tdc_buf_free(&c->out);
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
	if ((e = tdc_nonce_issue(s->nonces, c->nonce)) != 0)
		return e;
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

static void accept_on(struct server *s, size_t li)
{
	const struct tdc_transport_ops *ops = tdc_transport_of(&s->cfg->listen[li]);
	struct tdc_peer peer;
	size_t slot;
	int fd, e;

	for (int k = 0; k < ACCEPT_BURST; k++) {
		if (ops->accept(s->lfd[li], &fd, &peer) != 0)
			return;
		if (s->active >= s->cfg->max_conns) {
			s->stats.busy++;
			refuse(fd, TDC_ERR_TOO_LARGE, "verifier busy: connection limit reached, retry later");
			continue;
		}
		for (slot = 0; s->conns[slot].st != C_FREE; slot++)
			;
		struct conn *c = &s->conns[slot];

		c->fd = fd;
		c->peer = peer;
		c->deadline = tdc_now_ms() + (uint64_t)s->cfg->timeout_s * 1000;
		c->hdr_got = 0;
		c->body_len = 0;
		c->out_off = 0;
		tdc_buf_init(&c->in);
		tdc_buf_init(&c->out);
		c->st = C_HELLO;
		s->active++;
		s->stats.accepted++;
		if ((e = issue_hello(s, c)) != 0)
			conn_send_error(s, c, e, tdc_errmsg(e));
	}
}

static struct job *job_new(struct conn *c, size_t slot, const char *vmname)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->slot = slot;
	j->gen = c->gen;
	tdc_buf_init(&j->ev);
	tdc_buf_init(&j->vout.doc);
	snprintf(j->rec.peer, sizeof(j->rec.peer), "%s", c->peer.text);
	snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", vmname);
	return j;
}

/* Refusals of a well-formed evidence frame are security events: logged too. */
static void reject_job(struct job *j, int code, const char *detail)
{
	j->reject = code;
	j->err = code;
	j->rec.verdict = TDC_AUDIT_REJECT;
	snprintf(j->rec.detail, sizeof(j->rec.detail), "%s", detail);
	snprintf(j->errmsg, sizeof(j->errmsg), "%s", detail);
}

static const struct tdc_vm_entry *lookup(struct server *s, struct conn *c,
					 const struct tdc_frame *f, bool *by_name,
					 char *why, size_t wl)
{
	const struct tdc_vm_entry *vm = NULL;

	*by_name = false;
	/* A vsock CID is assigned by the host: it outranks any name the guest claims. */
	if (c->peer.kind == TDC_TRANSPORT_VSOCK && (vm = tdc_registry_by_cid(s->reg, c->peer.cid))) {
		if (f->vm[0] && strcmp(f->vm, vm->name)) {
			snprintf(why, wl, "wrong VM: CID %u belongs to '%s', agent claims '%s'",
				 c->peer.cid, vm->name, f->vm);
			return NULL;
		}
		return vm;
	}
	if (!f->vm[0]) {
		snprintf(why, wl, "no VM name given and %s is not mapped in the registry",
			 c->peer.text);
		return NULL;
	}
	if (!(vm = tdc_registry_by_name(s->reg, f->vm))) {
		snprintf(why, wl, "unknown VM '%s'", f->vm);
		return NULL;
	}
	*by_name = true;
	return vm;
}

static void submit(struct server *s, struct conn *c, size_t slot, struct tdc_frame *f)
{
	char why[TDC_FRAME_STR_MAX];
	const struct tdc_vm_entry *vm;
	struct job *j;
	bool by_name;
	int e;

	if (!(j = job_new(c, slot, f->vm))) {
		conn_send_error(s, c, TDC_ERR_ALLOC, "out of memory");
		return;
	}
	tdc_registry_get(s->reg);
	j->reg = s->reg;
	memcpy(j->nonce, f->nonce, sizeof(j->nonce));
	if (!(vm = lookup(s, c, f, &by_name, why, sizeof(why)))) {
		reject_job(j, TDC_ERR_NOT_FOUND, why);
	} else if ((e = tdc_nonce_consume(s->nonces, f->nonce)) != 0) {
		snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", vm->name);
		reject_job(j, e, tdc_errdetail());
	} else {
		j->vm = vm;
		j->by_name = by_name;
		snprintf(j->rec.vm, sizeof(j->rec.vm), "%s", vm->name);
		/* Move the evidence out of the frame instead of copying a megabyte. */
		j->ev = f->payload;
		tdc_buf_init(&f->payload);
	}
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
	/* Reply sent: this exchange is over. */
	shutdown(c->fd, SHUT_WR);
	c->st = C_LINGER;
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

/* ---- replies from the audit thread ---------------------------------------- */

static void reply(struct server *s, struct job *j)
{
	struct conn *c = &s->conns[j->slot];
	struct tdc_frame f;

	if (j->reject)
		s->stats.rejects++;
	else if (!j->err)
		s->stats.verdicts++;
	/* The client may have hit its deadline meanwhile: the record stays, the reply goes. */
	if (c->st != C_BUSY || c->gen != j->gen)
		return;
	if (j->err) {
		conn_send_error(s, c, j->err, j->errmsg);
		return;
	}
	tdc_frame_init(&f);
	f.type = TDC_FRAME_VERDICT;
	f.passed = j->vout.passed;
	f.record = (uint64_t)j->rec.id;
	snprintf(f.format, sizeof(f.format), "%s", j->vout.format[0] ? j->vout.format : "json");
	f.payload = j->vout.doc;
	conn_send_frame(c, &f);
	tdc_buf_init(&f.payload); /* still owned by the job */
	tdc_frame_free(&f);
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
	if (!s->cfg->quiet)
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
	uint64_t next = UINT64_MAX;
	size_t n = 0;

	s->pfd[n++] = (struct pollfd){ .fd = wake_fd[0], .events = POLLIN };
	for (size_t l = 0; !s->draining && l < s->nl; l++) {
		s->pfd[n] = (struct pollfd){ .fd = s->lfd[l], .events = POLLIN };
		s->pslot[n++] = SIZE_MAX - l;
	}
	for (size_t i = 0; i < s->cfg->max_conns; i++) {
		struct conn *c = &s->conns[i];

		if (c->st == C_FREE)
			continue;
		if (c->deadline < next)
			next = c->deadline;
		if (c->st == C_BUSY)
			continue;
		s->pfd[n] = (struct pollfd){ .fd = c->fd, .events = c->st == C_READ ||
						c->st == C_LINGER ? POLLIN : POLLOUT };
		s->pslot[n++] = i;
	}
	*timeout = next == UINT64_MAX ? 1000 : next <= now ? 0 : (int)(next - now);
	return (int)n;
}

static void expire(struct server *s, uint64_t now)
{
	for (size_t i = 0; i < s->cfg->max_conns; i++) {
		if (s->conns[i].st != C_FREE && s->conns[i].deadline <= now) {
			s->stats.timeouts += s->conns[i].st != C_LINGER;
			conn_close(s, i);
		}
	}
}

static void loop(struct server *s)
{
	int n, timeout;

	while (!s->draining || s->active || s->pending) {
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
			if (slot >= SIZE_MAX - TDC_SERVE_MAX_LISTEN) {
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
		expire(s, tdc_now_ms());
	}
}

/* ---- setup ------------------------------------------------------------------ */

void tdc_serve_config_init(struct tdc_serve_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 2;
	c->max_conns = 256;
	c->timeout_s = 10;
	c->nonce_ttl_s = 60;
	c->ops = &tdc_verifier_basic;
}

static int open_listeners(struct server *s)
{
	struct tdc_buf ready;
	struct tdc_addr bound;
	char text[TDC_ADDR_MAX];
	int e = 0;

	tdc_buf_init(&ready);
	for (s->nl = 0; s->nl < s->cfg->nlisten; s->nl++) {
		const struct tdc_addr *a = &s->cfg->listen[s->nl];
		const struct tdc_transport_ops *ops = tdc_transport_of(a);

		if ((e = ops->listen(a, 128, &s->lfd[s->nl])) != 0)
			goto out;
		if (ops->local(s->lfd[s->nl], &bound) != 0)
			bound = *a;
		tdc_addr_str(&bound, text, sizeof(text));
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
	q_init(&s->audit);
	q_init(&s->done);
	if (!(s->workers = calloc(s->cfg->workers, sizeof(*s->workers))))
		return tdc_err(TDC_ERR_ALLOC, "serve: workers");
	for (unsigned i = 0; i < s->cfg->workers; i++)
		if (pthread_create(&s->workers[i], NULL, worker_main, s) != 0)
			return tdc_err(TDC_ERR_INTERNAL, "serve: pthread_create failed");
	if (pthread_create(&s->auditor, NULL, auditor_main, s) != 0)
		return tdc_err(TDC_ERR_INTERNAL, "serve: pthread_create failed");
	return 0;
}

static void stop_threads(struct server *s)
{
	q_close(&s->jobs);
	for (unsigned i = 0; s->workers && i < s->cfg->workers; i++)
		pthread_join(s->workers[i], NULL);
	q_close(&s->audit);
	pthread_join(s->auditor, NULL);
	free(s->workers);
}

int tdc_serve_run(const struct tdc_serve_config *cfg)
{
	struct server s = { .cfg = cfg };
	int e;

	if (!cfg->nlisten || !cfg->workers || !cfg->max_conns || !cfg->timeout_s)
		return tdc_err(TDC_ERR_USAGE, "serve: need --listen, workers, max-conns, timeout > 0");
	s.conns = calloc(cfg->max_conns, sizeof(*s.conns));
	s.pfd = calloc(cfg->max_conns + TDC_SERVE_MAX_LISTEN + 1, sizeof(*s.pfd));
	s.pslot = calloc(cfg->max_conns + TDC_SERVE_MAX_LISTEN + 1, sizeof(*s.pslot));
	if (!s.conns || !s.pfd || !s.pslot) {
		e = tdc_err(TDC_ERR_ALLOC, "serve: connection table");
		goto out;
	}
	if ((e = tdc_registry_load(cfg->registry_dir, cfg->ops, cfg->ops_ctx, &s.reg)) != 0 ||
	    (e = tdc_nonce_store_new(cfg->nonce_ttl_s, cfg->stateless ? cfg->nonce_key : NULL,
				     &s.nonces)) != 0 ||
	    (e = tdc_audit_open(cfg->db_path, &s.db)) != 0 ||
	    (e = setup_signals()) != 0 ||
	    (e = open_listeners(&s)) != 0 ||
	    (e = start_threads(&s)) != 0)
		goto out;
	loop(&s);
	stop_threads(&s);
	drain_done(&s);
	if (!cfg->quiet)
		fprintf(stderr, "tdcpuid-verifier serve: stopped: %lu connections, %lu verdicts, "
			"%lu rejected, %lu timed out, %lu refused busy\n", s.stats.accepted,
			s.stats.verdicts, s.stats.rejects, s.stats.timeouts, s.stats.busy);
out:
	if (!s.draining)
		for (size_t l = 0; l < s.nl; l++)
			close(s.lfd[l]);
	for (size_t i = 0; s.conns && i < cfg->max_conns; i++)
		conn_close(&s, i);
	tdc_audit_close(s.db);
	tdc_nonce_store_free(s.nonces);
	tdc_registry_put(s.reg);
	free(s.conns);
	free(s.pfd);
	free(s.pslot);
	return e;
}
