// SPDX-License-Identifier: Apache-2.0
/*
 * PostgreSQL audit log: the store a fleet of verifiers shares
 * (docs/deploy.md).  libpq, one connection per concurrent appender (the
 * pool), every statement prepared once per connection with its values
 * passed as parameters: no query text is ever built from a record.
 *
 * Every round trip is bounded (opts.timeout_ms): libpq runs non-blocking
 * and we poll its socket against a deadline, so a database that stalls
 * (a network partition, a proxy that stops forwarding) turns into an error
 * after the bound instead of a thread stuck forever.  A connection that
 * failed or timed out is dropped; the next use reconnects, no sooner than
 * a backoff (doubling up to BACKOFF_MAX_MS) after the last failed attempt.
 *
 * What makes the fleet safe lives in the schema (sql/postgresql/): the
 * UNIQUE nonce column, and the database numbering and chaining the rows
 * under one row lock.  An INSERT ... ON CONFLICT DO NOTHING RETURNING id
 * that returns no row is a nonce already consumed, by any instance.
 * Durability: synchronous_commit is forced on for our sessions, so COMMIT
 * returns only once the commit is flushed (with replicas configured, as
 * synchronous_standby_names says).
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define WHERE_MAX 300
#define PG_PREFIX "postgresql:"

enum { ST_INSERT, ST_HEAD, ST_COUNT };

static const struct {
	const char *name, *sql;
	int nparams;
} stmts[] = {
	[ST_INSERT] = { "tdc_insert",
		"INSERT INTO verdicts(time, vm, peer, evidence_sha256, verdict, failing, nonce,"
		" detail, count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
		" ON CONFLICT DO NOTHING RETURNING id", 9 },
	[ST_HEAD] = { "tdc_head", "SELECT id, chain FROM tdc_chain_head WHERE one = 1", 0 },
};

struct pgc {
	PGconn *c;
	bool busy;
	unsigned gen;               /* p->failures when it connected */
};

struct pg {
	char *conninfo;             /* what libpq gets; may name a service file entry */
	char where[WHERE_MAX];      /* for messages: no password, ever */
	unsigned timeout_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pgc *pool;
	unsigned n;
	uint64_t next_try;          /* monotonic ms: no connect attempt before */
	unsigned backoff;
	/* Connections lost so far: one lost connection (a server restart, a
	 * partition) means the others are suspect too, so each is made anew
	 * before its next use instead of failing one batch each. */
	unsigned failures;
	char last_error[256];
};

static bool pg_claims(const char *where)
{
	return !strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11) ||
	       !strncmp(where, PG_PREFIX, strlen(PG_PREFIX));
}

/* The string libpq parses: URIs as they are, "postgresql:k=v ..." without the prefix. */
static const char *conninfo_of(const char *where)
{
	return strncmp(where, "postgresql://", 13) && strncmp(where, "postgres://", 11)
		? where + strlen(PG_PREFIX) : where;
}

static const char *opt(PQconninfoOption *o, const char *key)
{
	for (; o && o->keyword; o++)
		if (!strcmp(o->keyword, key))
			return o->val && o->val[0] ? o->val : NULL;
	return NULL;
}

/* Parse once up front: a malformed string or a password in it stops here. */
static int describe(struct pg *p)
{
	char *err = NULL;
	PQconninfoOption *o = PQconninfoParse(p->conninfo, &err);
	const char *host, *port, *db, *svc;

	if (!o) {
		/* libpq's message quotes no value of the string, only its syntax. */
		int e = tdc_err(TDC_ERR_USAGE, "--db: not a PostgreSQL connection string: %s",
				err ? err : "out of memory");

		PQfreemem(err);
		return e;
	}
	if (opt(o, "password")) {
		PQconninfoFree(o);
		return tdc_err(TDC_ERR_USAGE, "--db: the connection string carries a password, "
			       "which would show in process lists and logs: put it in a PGPASSFILE "
			       "(or PGPASSWORD, a service file) instead");
	}
	host = opt(o, "host") ? opt(o, "host") : opt(o, "hostaddr");
	port = opt(o, "port");
	db = opt(o, "dbname");
	svc = opt(o, "service");
	snprintf(p->where, sizeof(p->where), "postgresql %s%s%s%s%s%s%s", db ? db : "",
		 host || !db ? "@" : "", host ? host : "(default host)", port ? ":" : "",
		 port ? port : "", svc ? " service " : "", svc ? svc : "");
	PQconninfoFree(o);
	return 0;
}

static int fail(struct pg *p, int code, const char *what, const char *why)
{
	char msg[sizeof(p->last_error)];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", why ? why : "unknown error");
	/* libpq messages end in newlines, some have several lines. */
	while ((n = strlen(msg)) && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[n - 1] = '\0';
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	pthread_mutex_lock(&p->mu);
	snprintf(p->last_error, sizeof(p->last_error), "%s", msg);
	pthread_mutex_unlock(&p->mu);
	return tdc_err(code, "audit: %s (%s): %s", what, p->where, msg);
}

/* ---- one round trip, bounded ----------------------------------------------- */

static int wait_sock(PGconn *c, short ev, uint64_t deadline)
{
	struct pollfd pfd = { .fd = PQsocket(c), .events = ev };
	uint64_t now;
	int r;

	if (pfd.fd < 0)
		return TDC_ERR_IO;
	for (;;) {
		now = tdc_now_ms();
		if (now >= deadline)
			return TDC_ERR_TIMEOUT;
		r = poll(&pfd, 1, (int)(deadline - now > 1000 ? 1000 : deadline - now));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return TDC_ERR_IO;
	}
}

/* Send what libpq has queued, then read until a result is complete. */
static int pump(PGconn *c, uint64_t deadline)
{
	int r, e;

	while ((r = PQflush(c)) == 1) {
		if ((e = wait_sock(c, POLLOUT | POLLIN, deadline)) != 0)
			return e;
		if (!PQconsumeInput(c))
			return TDC_ERR_IO;
	}
	if (r < 0)
		return TDC_ERR_IO;
	while (PQisBusy(c)) {
		if ((e = wait_sock(c, POLLIN, deadline)) != 0)
			return e;
		if (!PQconsumeInput(c))
			return TDC_ERR_IO;
	}
	return 0;
}

/*
 * The result of what was sent, every result read to the end (libpq needs
 * that before the next command).  Keeps the first non-OK result, else the
 * last one.
 */
static int collect(PGconn *c, uint64_t deadline, PGresult **out)
{
	PGresult *keep = NULL, *r;
	int e;

	for (;;) {
		if ((e = pump(c, deadline)) != 0) {
			PQclear(keep);
			return e;
		}
		if (!(r = PQgetResult(c)))
			break;
		if (!keep) {
			keep = r;
		} else if (PQresultStatus(keep) == PGRES_FATAL_ERROR) {
			PQclear(r);
		} else {
			PQclear(keep);
			keep = r;
		}
	}
	*out = keep;
	return 0;
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK);
}

/* Drop a connection that failed in a way that leaves its state unknown. */
static void drop(struct pg *p, struct pgc *pc)
{
	PQfinish(pc->c);
	pc->c = NULL;
	pthread_mutex_lock(&p->mu);
	p->next_try = tdc_now_ms() + p->backoff;
	p->failures++;
	pthread_mutex_unlock(&p->mu);
}

/*
 * The answer to a query just sent (@sent: whether libpq took it), within the
 * store's timeout.  A send that failed or an answer that never came leaves
 * the connection's state unknown: it is dropped.  An error result keeps the
 * connection unless libpq says it is gone.  @out NULL: the result is freed.
 */
static int finish(struct pg *p, struct pgc *pc, bool sent, const char *what, PGresult **out)
{
	uint64_t deadline = tdc_now_ms() + p->timeout_ms;
	PGresult *r = NULL;
	int e = sent ? collect(pc->c, deadline, &r) : TDC_ERR_IO;

	if (e) {
		e = fail(p, e == TDC_ERR_TIMEOUT ? TDC_ERR_TIMEOUT : TDC_ERR_IO, what,
			 e == TDC_ERR_TIMEOUT ? "no answer within the timeout" : PQerrorMessage(pc->c));
		drop(p, pc);
		return e;
	}
	if (!result_ok(r)) {
		e = fail(p, TDC_ERR_IO, what, r ? PQresultErrorMessage(r) : PQerrorMessage(pc->c));
		PQclear(r);
		if (PQstatus(pc->c) != CONNECTION_OK)
			drop(p, pc);
		return e;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* Run plain SQL (no parameters: only our own text, never a record's). */
static int run_sql(struct pg *p, struct pgc *pc, const char *sql, const char *what,
		   PGresult **out)
{
	return finish(p, pc, PQsendQuery(pc->c, sql), what, out);
}

static int run_prepared(struct pg *p, struct pgc *pc, int st, const char *const *vals,
			const char *what, PGresult **out)
{
	return finish(p, pc,
		      PQsendQueryPrepared(pc->c, stmts[st].name, stmts[st].nparams, vals, NULL,
					  NULL, 0),
		      what, out);
}

/* ---- connecting ------------------------------------------------------------- */

static int connect_bounded(struct pg *p, PGconn **out)
{
	/* Ours first: anything the user's string sets wins over these defaults. */
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "10", "tdcpuid-verifier", p->conninfo, NULL };
	uint64_t deadline = tdc_now_ms() + p->timeout_ms;
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGconn *c = PQconnectStartParams(keys, vals, 1);
	int e = 0;

	if (!c)
		return tdc_err(TDC_ERR_ALLOC, "audit: libpq: out of memory");
	if (PQstatus(c) == CONNECTION_BAD)
		ps = PGRES_POLLING_FAILED;
	while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
		if ((e = wait_sock(c, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) != 0)
			break;
		ps = PQconnectPoll(c);
	}
	if (ps != PGRES_POLLING_OK) {
		e = fail(p, e == TDC_ERR_TIMEOUT ? TDC_ERR_TIMEOUT : TDC_ERR_IO, "cannot connect",
			 e == TDC_ERR_TIMEOUT ? "no answer within the timeout" : PQerrorMessage(c));
		PQfinish(c);
		return e;
	}
	if (PQsetnonblocking(c, 1) != 0) {
		e = fail(p, TDC_ERR_IO, "cannot connect", PQerrorMessage(c));
		PQfinish(c);
		return e;
	}
	*out = c;
	return 0;
}

/* Acknowledge nothing the database has not flushed, whatever the server's default. */
static int settings(struct pg *p, struct pgc *pc)
{
	return run_sql(p, pc, "SET synchronous_commit = on; SET client_encoding = 'UTF8';"
		       " SET idle_in_transaction_session_timeout = '60s'", "session", NULL);
}

static int prepare_all(struct pg *p, struct pgc *pc)
{
	uint64_t deadline;
	PGresult *r = NULL;
	int e;

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		if (!stmts[i].name)
			continue;
		deadline = tdc_now_ms() + p->timeout_ms;
		if (!PQsendPrepare(pc->c, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL) ||
		    (e = collect(pc->c, deadline, &r)) != 0 || !result_ok(r)) {
			e = fail(p, TDC_ERR_IO, "prepare", r ? PQresultErrorMessage(r)
						     : PQerrorMessage(pc->c));
			PQclear(r);
			drop(p, pc);
			return e;
		}
		PQclear(r);
		r = NULL;
	}
	return 0;
}

/* A usable connection in @pc, reconnecting unless inside the backoff. */
static int ensure(struct pg *p, struct pgc *pc)
{
	uint64_t now = tdc_now_ms(), next;
	char last[sizeof(p->last_error)];
	unsigned gen;
	int e;

	pthread_mutex_lock(&p->mu);
	gen = p->failures;
	pthread_mutex_unlock(&p->mu);
	if (pc->c && PQstatus(pc->c) == CONNECTION_OK && pc->gen == gen)
		return 0;
	if (pc->c) {
		PQfinish(pc->c);
		pc->c = NULL;
	}
	pthread_mutex_lock(&p->mu);
	next = p->next_try;
	snprintf(last, sizeof(last), "%s", p->last_error);
	pthread_mutex_unlock(&p->mu);
	if (now < next)
		return tdc_err(TDC_ERR_IO, "audit: database unreachable (%s): %s; next attempt in "
			       "%" PRIu64 " ms", p->where, last, next - now);
	if ((e = connect_bounded(p, &pc->c)) == 0 && (e = settings(p, pc)) == 0)
		e = prepare_all(p, pc);
	pc->gen = gen;
	pthread_mutex_lock(&p->mu);
	if (e) {
		p->next_try = tdc_now_ms() + p->backoff;
		p->backoff = p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff * 2;
	} else {
		p->backoff = BACKOFF_MIN_MS;
		p->next_try = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return e;
}

static struct pgc *checkout(struct pg *p)
{
	struct pgc *pc = NULL;

	pthread_mutex_lock(&p->mu);
	while (!pc) {
		for (unsigned i = 0; i < p->n && !pc; i++)
			if (!p->pool[i].busy)
				pc = &p->pool[i];
		if (!pc)
			pthread_cond_wait(&p->cv, &p->mu);
	}
	pc->busy = true;
	pthread_mutex_unlock(&p->mu);
	return pc;
}

static void checkin(struct pg *p, struct pgc *pc)
{
	pthread_mutex_lock(&p->mu);
	pc->busy = false;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* ---- schema ----------------------------------------------------------------- */

static int schema_version(struct pg *p, struct pgc *pc, int *out)
{
	PGresult *r = NULL;
	int e;

	if ((e = run_sql(p, pc, "SELECT CASE WHEN to_regclass('tdc_schema') IS NULL THEN -1 ELSE"
			 " 0 END", "schema", &r)) != 0)
		return e;
	*out = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (*out < 0) {
		*out = 0;
		return 0;
	}
	if ((e = run_sql(p, pc, "SELECT coalesce(max(version), 0) FROM tdc_schema", "schema",
			 &r)) != 0)
		return e;
	*out = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static int latest_version(void)
{
	int v = 0;

	for (const struct tdc_audit_migration *m = tdc_audit_sql_postgresql; m->sql; m++)
		v = m->version;
	return v;
}

/*
 * Bring the schema to this verifier's version.  Instances starting at once
 * serialize on an advisory lock; the one that comes second finds the work
 * done.  A role that may not create tables (the service's, by design)
 * gets a message saying who must run what.
 */
static int migrate(struct pg *p, struct pgc *pc)
{
	char sql[96];
	int have, want = latest_version(), e;

	if ((e = schema_version(p, pc, &have)) != 0)
		return e;
	if (have >= want)
		return 0;
	if ((e = run_sql(p, pc, "BEGIN; SELECT pg_advisory_xact_lock(hashtext('tdcpuid schema'))",
			 "migrate", NULL)) != 0)
		return e;
	if ((e = schema_version(p, pc, &have)) != 0)
		goto out;
	for (const struct tdc_audit_migration *m = tdc_audit_sql_postgresql; !e && m->sql; m++) {
		if (m->version <= have)
			continue;
		snprintf(sql, sizeof(sql), "INSERT INTO tdc_schema(version) VALUES (%d)", m->version);
		if ((e = run_sql(p, pc, m->sql, m->name, NULL)) == 0)
			e = run_sql(p, pc, sql, m->name, NULL);
	}
	if (!e)
		e = run_sql(p, pc, "COMMIT", "migrate", NULL);
out:
	if (e && pc->c) {
		run_sql(p, pc, "ROLLBACK", "rollback", NULL);
		char last[sizeof(p->last_error)];

		pthread_mutex_lock(&p->mu);
		snprintf(last, sizeof(last), "%s", p->last_error);
		pthread_mutex_unlock(&p->mu);
		e = tdc_err(TDC_ERR_PERM, "audit: %s: schema at version %d, this verifier needs %d "
			    "and could not apply it (%s): run it as the schema's owner (the files are "
			    "in share/tdcpuid/sql/postgresql/, docs/deploy.md)", p->where, have, want,
			    last);
	}
	return e;
}

/* ---- the store -------------------------------------------------------------- */

static void pg_close(void *h)
{
	struct pg *p = h;

	if (!p)
		return;
	for (unsigned i = 0; p->pool && i < p->n; i++)
		PQfinish(p->pool[i].c);
	free(p->pool);
	free(p->conninfo);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

/*
 * Opening connects one connection now, so a wrong address, role or schema
 * is an error at start, not at the first verdict.  The rest of the pool
 * connects when first used.
 */
static int pg_open(const char *where, const struct tdc_audit_opts *o, void **out)
{
	struct pg *p = calloc(1, sizeof(*p));
	int e;

	if (!p)
		return tdc_err(TDC_ERR_ALLOC, "audit: alloc");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->timeout_ms = o->timeout_ms;
	p->backoff = BACKOFF_MIN_MS;
	p->n = o->pool;
	if (!(p->conninfo = strdup(conninfo_of(where))) ||
	    !(p->pool = calloc(p->n, sizeof(*p->pool)))) {
		pg_close(p);
		return tdc_err(TDC_ERR_ALLOC, "audit: alloc");
	}
	/* The statements are prepared once the schema is there. */
	if ((e = describe(p)) != 0 || (e = connect_bounded(p, &p->pool[0].c)) != 0 ||
	    (e = settings(p, &p->pool[0])) != 0 || (e = migrate(p, &p->pool[0])) != 0 ||
	    (e = prepare_all(p, &p->pool[0])) != 0) {
		pg_close(p);
		return e;
	}
	*out = p;
	return 0;
}

static const char *pg_where(void *h)
{
	return ((struct pg *)h)->where;
}

static unsigned pg_pool(void *h)
{
	return ((struct pg *)h)->n;
}

static int pg_ping(void *h)
{
	struct pg *p = h;
	struct pgc *pc = checkout(p);
	int e = ensure(p, pc);

	if (!e)
		e = run_sql(p, pc, "SELECT 1", "ping", NULL);
	checkin(p, pc);
	return e;
}

static void hex_param(bool has, const uint8_t *b, size_t n, char *hex, const char **val)
{
	if (has) {
		tdc_hex_encode(b, n, hex);
		*val = hex;
	} else {
		*val = NULL;
	}
}

static int insert_one(struct pg *p, struct pgc *pc, struct tdc_audit_record *r)
{
	char t[24], count[16], ev[65], nonce[2 * TDC_AUDIT_NONCE_MAX + 1];
	const char *v[9];
	PGresult *res = NULL;
	int e;

	snprintf(t, sizeof(t), "%" PRId64, r->time);
	snprintf(count, sizeof(count), "%u", r->count ? r->count : 1);
	v[0] = t;
	v[1] = r->vm;
	v[2] = r->peer;
	hex_param(r->has_evidence, r->evidence_sha256, 32, ev, &v[3]);
	v[4] = tdc_audit_verdict_name(r->verdict);
	v[5] = r->failing;
	hex_param(r->has_nonce, r->nonce,
		  r->nonce_len && r->nonce_len <= sizeof(r->nonce) ? r->nonce_len : 32, nonce, &v[6]);
	v[7] = r->detail;
	v[8] = count;
	if ((e = run_prepared(p, pc, ST_INSERT, v, "insert", &res)) != 0)
		return e;
	/* No row back: ON CONFLICT skipped it, the nonce is already in the log. */
	if (PQntuples(res) == 1)
		r->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		r->result = tdc_err(TDC_ERR_NONCE, "audit: nonce already recorded (replay)");
	PQclear(res);
	return 0;
}

static int pg_append(void *h, struct tdc_audit_record **recs, size_t n)
{
	struct pg *p = h;
	struct pgc *pc = checkout(p);
	int e;

	if ((e = ensure(p, pc)) != 0 || (e = run_sql(p, pc, "BEGIN", "begin", NULL)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((e = insert_one(p, pc, recs[i])) != 0)
			goto rollback;
	/* An error here (timeout, lost connection) leaves the outcome unknown:
	 * reported as an error, so nothing is acknowledged. */
	if ((e = run_sql(p, pc, "COMMIT", "commit", NULL)) == 0)
		goto out;
rollback:
	if (pc->c)
		run_sql(p, pc, "ROLLBACK", "rollback", NULL);
	for (size_t i = 0; i < n; i++)
		recs[i]->id = 0;
out:
	checkin(p, pc);
	return e;
}

static void col_str(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

static void col_hex(const PGresult *r, int row, int col, bool *has, uint8_t *dst, size_t n,
		    size_t *len)
{
	size_t got = 0;

	*has = !PQgetisnull(r, row, col) &&
	       tdc_hex_decode(PQgetvalue(r, row, col), dst, n, &got) == 0 && (len ? got > 0 : got == n);
	if (len)
		*len = *has ? got : 0;
}

static void row_of(const PGresult *res, struct tdc_audit_record *r)
{
	char v[16];

	memset(r, 0, sizeof(*r));
	r->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	r->time = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	col_str(res, 0, 2, r->vm, sizeof(r->vm));
	col_str(res, 0, 3, r->peer, sizeof(r->peer));
	col_hex(res, 0, 4, &r->has_evidence, r->evidence_sha256, 32, NULL);
	col_str(res, 0, 5, v, sizeof(v));
	col_str(res, 0, 6, r->failing, sizeof(r->failing));
	col_hex(res, 0, 7, &r->has_nonce, r->nonce, sizeof(r->nonce), &r->nonce_len);
	col_str(res, 0, 8, r->detail, sizeof(r->detail));
	r->count = (uint32_t)strtoul(PQgetvalue(res, 0, 9), NULL, 10);
	col_hex(res, 0, 10, &r->has_chain, r->chain, 32, NULL);
	tdc_audit_verdict_parse(v, &r->verdict);
}

/* Streams the rows (single-row mode): `log` of a large table holds one row at a time. */
static int pg_select(void *h, const struct tdc_audit_query *q, tdc_audit_row_fn fn, void *ctx)
{
	static const char sql[] =
		"SELECT id, time, vm, peer, evidence_sha256, verdict, failing, nonce, detail, count,"
		" chain FROM verdicts WHERE ($1::text IS NULL OR vm = $1) AND time >= $2::bigint"
		" ORDER BY id LIMIT $3::bigint";
	struct pg *p = h;
	struct pgc *pc = checkout(p);
	struct tdc_audit_record *rec = malloc(sizeof(*rec));
	char since[24], limit[24];
	const char *v[3] = { q->vm, since, q->limit ? limit : NULL };
	PGresult *r;
	int e = 0, fe = 0, pe;

	snprintf(since, sizeof(since), "%" PRId64, q->since);
	snprintf(limit, sizeof(limit), "%zu", q->limit);
	if (!rec) {
		e = tdc_err(TDC_ERR_ALLOC, "audit: alloc");
		goto out;
	}
	if ((e = ensure(p, pc)) != 0)
		goto out;
	if (!PQsendQueryParams(pc->c, sql, 3, NULL, v, NULL, NULL, 0) || !PQsetSingleRowMode(pc->c)) {
		e = fail(p, TDC_ERR_IO, "select", PQerrorMessage(pc->c));
		drop(p, pc);
		goto out;
	}
	for (;;) {
		/* Each row must come within the bound; the whole log may take longer. */
		if ((pe = pump(pc->c, tdc_now_ms() + p->timeout_ms)) != 0) {
			e = fail(p, pe, "select", pe == TDC_ERR_TIMEOUT ? "no answer within the timeout"
				 : PQerrorMessage(pc->c));
			drop(p, pc);
			goto out;
		}
		if (!(r = PQgetResult(pc->c)))
			break;
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
			row_of(r, rec);
			if (!fe)
				fe = fn(ctx, rec);
		} else if (!result_ok(r) && !e) {
			e = fail(p, TDC_ERR_IO, "select", PQresultErrorMessage(r));
		}
		PQclear(r);
	}
	e = e ? e : fe;
out:
	free(rec);
	checkin(p, pc);
	return e;
}

/* PostgreSQL checks its pages itself; what we can add is that it answers. */
static int pg_integrity(void *h, char *out, size_t len)
{
	int e = pg_ping(h);

	if (!e)
		snprintf(out, len, "ok");
	return e;
}

static int pg_head(void *h, int64_t *id, uint8_t chain[32])
{
	struct pg *p = h;
	struct pgc *pc = checkout(p);
	PGresult *r = NULL;
	size_t n = 0;
	int e;

	if ((e = ensure(p, pc)) == 0 && (e = run_prepared(p, pc, ST_HEAD, NULL, "chain head",
							   &r)) == 0) {
		if (PQntuples(r) != 1 || tdc_hex_decode(PQgetvalue(r, 0, 1), chain, 32, &n) || n != 32)
			e = tdc_err(TDC_ERR_FORMAT, "audit: %s: no valid chain head", p->where);
		else
			*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	checkin(p, pc);
	return e;
}

const struct tdc_audit_store tdc_audit_postgresql = {
	.kind = "postgresql",
	.claims = pg_claims,
	.open = pg_open,
	.close = pg_close,
	.where = pg_where,
	.pool = pg_pool,
	.ping = pg_ping,
	.append = pg_append,
	.select = pg_select,
	.integrity = pg_integrity,
	.head = pg_head,
};
