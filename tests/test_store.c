// SPDX-License-Identifier: Apache-2.0
/*
 * One test suite for every audit store (verifier/service/audit_store.h):
 * each backend in the table below runs the same cases, so "both stores keep
 * the same promises" is a test, not a claim.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "audit.h"
#include "pg_util.h"
#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

struct ctx;

struct backend {
	const char *name;
	/* Fresh, empty store; its --db string into @where.  77: skip this backend. */
	int (*setup)(char *where, size_t len);
	void (*teardown)(void);
	/* Run @sql as another client with full table rights: 0 if it succeeded. */
	int (*raw)(const char *where, const char *sql);
	/* Rewrite history as someone who can first switch the append-only guard
	 * off: change the second row; remove the last one. */
	const char *tamper_update, *tamper_delete_last;
	/* Cases only this backend has (NULL: none). */
	void (*extra)(struct ctx *c);
};

struct ctx {
	const struct backend *b;
	char where[512];
};

static void rec_init(struct tdc_audit_record *r, const char *vm, int nonce_byte,
		     enum tdc_audit_verdict v);
static int select_all_e(struct tdc_audit *a, struct tdc_audit_record *rows, size_t cap);

static char scratch[] = "/tmp/tdc-store-XXXXXX";
static unsigned seq;

static int sqlite_setup(char *where, size_t len)
{
	if (!seq && !mkdtemp(scratch))
		return -1;
	snprintf(where, len, "%s/audit-%u.db", scratch, seq++);
	return 0;
}

static void sqlite_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (seq && system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", scratch);
}

static int sqlite_raw(const char *where, const char *sql)
{
	sqlite3 *db;
	int rc;

	if (sqlite3_open(where, &db) != SQLITE_OK)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* A log written before the schema was versioned (and before the chain). */
static void sqlite_legacy(struct ctx *c)
{
	struct tdc_audit_record r, *p = &r;
	struct tdc_audit_report rep;
	struct tdc_audit *a;

	assert_int_equal(sqlite_raw(c->where,
		"CREATE TABLE verdicts(id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
		" vm TEXT NOT NULL, peer TEXT NOT NULL, evidence_sha256 TEXT, verdict TEXT NOT NULL"
		" CHECK (verdict IN ('pass','fail','error','reject')), failing TEXT NOT NULL DEFAULT"
		" '', nonce TEXT UNIQUE, detail TEXT NOT NULL DEFAULT '', count INTEGER NOT NULL"
		" DEFAULT 1);"
		"INSERT INTO verdicts(time, vm, peer, verdict, nonce) VALUES (1, 'old', 'p', 'pass',"
		" 'aa'), (2, 'old', 'p', 'fail', 'bb');"), 0);
	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	memset(&r, 0, sizeof(r));
	snprintf(r.vm, sizeof(r.vm), "new");
	r.has_nonce = true;
	r.nonce_len = 1;
	r.nonce[0] = 0xaa; /* consumed before the migration: still spent */
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	assert_int_equal(r.result, TDC_ERR_NONCE);
	r.nonce[0] = 0xcc;
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.id, 3);
	assert_int_equal(tdc_audit_verify(a, &rep), 0);
	assert_true(rep.ok);
	assert_int_equal(rep.rows, 3);
	assert_int_equal(rep.unchained, 2);
	assert_int_equal(rep.head_id, 3);
	tdc_audit_close(a);
}

/* ---- PostgreSQL: a cluster of our own for the whole run ---------------------- */

static struct pgu pg;
static bool pg_up;

static int pg_setup(char *where, size_t len)
{
	char why[256], db[64];
	int r;

	if (!pg_up) {
		if ((r = pgu_start(&pg, why, sizeof(why))) != 0) {
			fprintf(stderr, "%s: %s\n", r == 77 ? "SKIP" : "FAIL", why);
			return r;
		}
		pg_up = true;
	}
	if (pgu_new_db(&pg, db, sizeof(db)) != 0)
		return -1;
	pgu_uri(&pg, "tdc_owner", db, where, len);
	return 0;
}

static void pg_teardown(void)
{
	pgu_destroy(&pg);
}

static int pg_raw(const char *where, const char *sql)
{
	return pgu_exec(where, sql, false);
}

/* The database name at the end of an owner URI made by pgu_uri. */
static const char *db_of(const char *where, char *out, size_t len)
{
	const char *s = strrchr(where, '/') + 1;

	snprintf(out, len, "%.*s", (int)strcspn(s, "?"), s);
	return out;
}

/*
 * The roles of roles.sql as the database enforces them: the service adds
 * rows and nothing else, the reader reads; a password in --db is refused
 * without being repeated; an address nobody answers fails within the bound.
 */
static void pg_roles(struct ctx *c)
{
	struct tdc_audit_record r, rows[4], *p = &r;
	struct tdc_audit_opts o = { .pool = 1, .timeout_ms = 2000 };
	struct tdc_audit *svc, *rd, *x;
	char db[64], uri[300];
	uint64_t t0;

	db_of(c->where, db, sizeof(db));
	pgu_uri(&pg, "tdc_service", db, uri, sizeof(uri));
	assert_int_equal(tdc_audit_open(uri, &svc), 0);
	assert_string_equal(tdc_audit_kind(svc), "postgresql");
	assert_non_null(strstr(tdc_audit_where(svc), db));
	rec_init(&r, "alpha", 0x44, TDC_AUDIT_PASS);
	assert_int_equal(tdc_audit_append(svc, &p, 1), 0);
	assert_int_equal(r.result, 0);
	assert_int_equal(r.id, 1);
	rec_init(&r, "alpha", 0x44, TDC_AUDIT_PASS);
	assert_int_equal(tdc_audit_append(svc, &p, 1), 0);
	assert_int_equal(r.result, TDC_ERR_NONCE);
	assert_int_not_equal(select_all_e(svc, rows, 4), 0);      /* no SELECT */
	tdc_audit_close(svc);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db, "DELETE FROM verdicts"), 0);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db,
					 "UPDATE verdicts SET verdict = 'fail'"), 0);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db, "TRUNCATE verdicts"), 0);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db, "SELECT nonce FROM verdicts"), 0);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db, "INSERT INTO verdicts(id, time,"
					 " vm, peer, verdict, chain) VALUES (99, 1, 'x', 'y', 'pass',"
					 " 'z')"), 0);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db,
					 "UPDATE tdc_chain_head SET id = 0"), 0);
	assert_int_not_equal(pgu_exec_as(&pg, "tdc_service", db, "DROP TABLE verdicts"), 0);
	/* The reader reads and checks, and writes nothing. */
	pgu_uri(&pg, "tdc_reader", db, uri, sizeof(uri));
	assert_int_equal(tdc_audit_open(uri, &rd), 0);
	assert_int_equal(select_all_e(rd, rows, 4), 0);
	{
		struct tdc_audit_report rep;

		/* log --check needs nothing more than the reader's rights. */
		assert_int_equal(tdc_audit_verify(rd, &rep), 0);
		assert_true(rep.ok);
		assert_int_equal(rep.rows, 1);
	}
	rec_init(&r, "alpha", 0x45, TDC_AUDIT_PASS);
	assert_int_not_equal(tdc_audit_append(rd, &p, 1), 0);
	assert_int_equal(r.id, 0);
	tdc_audit_close(rd);
	/* Never a password on the command line, and never one repeated. */
	snprintf(uri, sizeof(uri), "postgresql://tdc_service:service-pw@127.0.0.1:%d/%s", pg.port, db);
	assert_int_equal(tdc_audit_open(uri, &x), TDC_ERR_USAGE);
	assert_null(strstr(tdc_errdetail(), "service-pw"));
	snprintf(uri, sizeof(uri), "postgresql:host=127.0.0.1 port=%d dbname=%s user=tdc_service "
		 "password=service-pw", pg.port, db);
	assert_int_equal(tdc_audit_open(uri, &x), TDC_ERR_USAGE);
	/* The keyword form works like the URI. */
	snprintf(uri, sizeof(uri), "postgresql:host=127.0.0.1 port=%d dbname=%s user=tdc_reader",
		 pg.port, db);
	assert_int_equal(tdc_audit_open(uri, &x), 0);
	tdc_audit_close(x);
	/* Nobody listening: refused at once; a role without a password: said so. */
	snprintf(uri, sizeof(uri), "postgresql://tdc_service@127.0.0.1:%d/%s", pgu_free_port(), db);
	t0 = tdc_now_ms();
	assert_int_not_equal(tdc_audit_open_opts(uri, &o, &x), 0);
	assert_true(tdc_now_ms() - t0 < 3000);
	assert_non_null(strstr(tdc_errdetail(), "cannot connect"));
	pgu_uri(&pg, "nosuch", db, uri, sizeof(uri));
	assert_int_not_equal(tdc_audit_open_opts(uri, &o, &x), 0);
	assert_non_null(strstr(tdc_errdetail(), "cannot connect"));
	assert_non_null(strstr(tdc_errdetail(), "password"));
}

static const struct backend backends[] = {
	{ "sqlite", sqlite_setup, sqlite_teardown, sqlite_raw,
	  "DROP TRIGGER verdicts_no_update;"
	  " UPDATE verdicts SET verdict = 'pass' WHERE id = (SELECT min(id) + 1 FROM verdicts)",
	  "DROP TRIGGER verdicts_no_delete;"
	  " DELETE FROM verdicts WHERE id = (SELECT max(id) FROM verdicts)", sqlite_legacy },
	{ "postgresql", pg_setup, pg_teardown, pg_raw,
	  "ALTER TABLE verdicts DISABLE TRIGGER verdicts_no_update;"
	  " UPDATE verdicts SET verdict = 'pass' WHERE id = (SELECT min(id) + 1 FROM verdicts)",
	  "ALTER TABLE verdicts DISABLE TRIGGER verdicts_no_update;"
	  " DELETE FROM verdicts WHERE id = (SELECT max(id) FROM verdicts)", pg_roles },
};

static void rec_init(struct tdc_audit_record *r, const char *vm, int nonce_byte,
		     enum tdc_audit_verdict v)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->vm, sizeof(r->vm), "%s", vm);
	snprintf(r->peer, sizeof(r->peer), "tcp:127.0.0.1:4242");
	r->verdict = v;
	if (nonce_byte >= 0) {
		r->has_nonce = true;
		memset(r->nonce, nonce_byte, sizeof(r->nonce));
	}
}

static int collect(void *arg, const struct tdc_audit_record *r)
{
	struct { struct tdc_audit_record *rows; size_t n, cap; } *c = arg;

	if (c->n < c->cap)
		c->rows[c->n] = *r;
	c->n++;
	return 0;
}

static size_t select_all(struct tdc_audit *a, const struct tdc_audit_query *q,
			 struct tdc_audit_record *rows, size_t cap)
{
	struct { struct tdc_audit_record *rows; size_t n, cap; } c = { rows, 0, cap };
	struct tdc_audit_query all = { 0 };

	assert_int_equal(tdc_audit_select(a, q ? q : &all, collect, &c), 0);
	return c.n;
}

static int select_all_e(struct tdc_audit *a, struct tdc_audit_record *rows, size_t cap)
{
	struct { struct tdc_audit_record *rows; size_t n, cap; } c = { rows, 0, cap };
	struct tdc_audit_query all = { 0 };

	return tdc_audit_select(a, &all, collect, &c);
}

static int setup_one(void **state)
{
	struct ctx *c = *state;

	return c->b->setup(c->where, sizeof(c->where));
}

static void append3(struct ctx *c, int64_t ids[3])
{
	struct tdc_audit_record r[3], *batch[3] = { &r[0], &r[1], &r[2] };
	struct tdc_audit *a;

	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	rec_init(&r[0], "alpha", 0x51, TDC_AUDIT_PASS);
	rec_init(&r[1], "beta", 0x52, TDC_AUDIT_FAIL);
	snprintf(r[1].failing, sizeof(r[1].failing), "CPUID.01H:ECX[24]");
	snprintf(r[1].detail, sizeof(r[1].detail), "caf\xc3\xa9 \\ \"q\" 1:2\n");
	rec_init(&r[2], "gamma", -1, TDC_AUDIT_REJECT);
	r[2].count = 5;
	assert_int_equal(tdc_audit_append(a, batch, 3), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].result, 0);
		ids[i] = r[i].id;
	}
	tdc_audit_close(a);
}

static void expect_chain(struct ctx *c, bool ok, const char *needle, uint64_t rows)
{
	struct tdc_audit_report rep;
	struct tdc_audit *a;

	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	assert_int_equal(tdc_audit_verify(a, &rep), 0);
	tdc_audit_close(a);
	if (rep.ok != ok)
		fail_msg("chain %s, expected %s: %s", rep.ok ? "ok" : "broken", ok ? "ok" : "broken",
			 rep.problem);
	assert_int_equal(rep.rows, rows);
	if (needle && !strstr(rep.problem, needle))
		fail_msg("problem '%s' does not say '%s'", rep.problem, needle);
}

/*
 * Each row is a link of the hash chain, computed by the database
 * (PostgreSQL) or by the verifier (SQLite), checked by the same code: a
 * changed row is named, a removed last row shows against the head.
 */
static void test_chain_tamper(void **state)
{
	struct ctx *c = *state;
	int64_t ids[3];
	char needle[32];

	append3(c, ids);
	assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
	expect_chain(c, true, NULL, 3);
	assert_int_equal(c->b->raw(c->where, c->b->tamper_update), 0);
	snprintf(needle, sizeof(needle), "row %lld:", (long long)ids[1]);
	expect_chain(c, false, needle, 3);
}

static void test_chain_truncated(void **state)
{
	struct ctx *c = *state;
	int64_t ids[3];

	append3(c, ids);
	assert_int_equal(c->b->raw(c->where, c->b->tamper_delete_last), 0);
	expect_chain(c, false, "removed from the end", 2);
}

static void test_backend_extra(void **state)
{
	struct ctx *c = *state;

	if (c->b->extra)
		c->b->extra(c);
}

/* A batch commits as a whole; a replay inside it is refused alone. */
static void test_batch_and_replay(void **state)
{
	struct ctx *c = *state;
	struct tdc_audit_record r1, r2, r3, rows[8], *batch[3] = { &r1, &r2, &r3 };
	struct tdc_audit_query q = { 0 };
	struct tdc_audit *a;
	char ic[64];

	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	rec_init(&r1, "alpha", 1, TDC_AUDIT_PASS);
	r2 = r1; /* same nonce: the second consumption is a replay */
	rec_init(&r3, "beta", -1, TDC_AUDIT_REJECT);
	r3.time = 1000;
	assert_int_equal(tdc_audit_append(a, batch, 3), 0);
	assert_int_equal(r1.result, 0);
	assert_true(r1.id > 0);
	assert_int_equal(r2.result, TDC_ERR_NONCE);
	assert_int_equal(r3.result, 0);
	assert_true(r3.id > r1.id);
	assert_int_equal(select_all(a, NULL, rows, 8), 2);
	assert_int_equal(rows[0].id, r1.id);
	assert_int_equal(rows[1].id, r3.id);
	q.vm = "beta";
	assert_int_equal(select_all(a, &q, rows, 8), 1);
	assert_string_equal(rows[0].vm, "beta");
	q.vm = NULL;
	q.since = 2000;
	assert_int_equal(select_all(a, &q, rows, 8), 1); /* r1: time set to now */
	q.since = 0;
	q.limit = 1;
	assert_int_equal(select_all(a, &q, rows, 8), 1);
	assert_int_equal(tdc_audit_integrity(a, ic, sizeof(ic)), 0);
	assert_string_equal(ic, "ok");
	tdc_audit_close(a);
}

/* Every field comes back as written, at its full size, NULLs as NULLs. */
static void test_round_trip(void **state)
{
	struct ctx *c = *state;
	struct tdc_audit_record r, rows[2], *p = &r;
	struct tdc_audit *a;

	rec_init(&r, "", 7, TDC_AUDIT_FAIL);
	memset(r.vm, 'v', sizeof(r.vm) - 1);
	memset(r.peer, 'p', sizeof(r.peer) - 1);
	memset(r.failing, 'f', sizeof(r.failing) - 1);
	memset(r.detail, 'd', sizeof(r.detail) - 1);
	r.vm[sizeof(r.vm) - 1] = r.peer[sizeof(r.peer) - 1] = '\0';
	r.failing[sizeof(r.failing) - 1] = r.detail[sizeof(r.detail) - 1] = '\0';
	r.has_evidence = true;
	for (int i = 0; i < 32; i++)
		r.evidence_sha256[i] = (uint8_t)(i * 7);
	r.time = 1700000000;
	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	assert_int_equal(r.result, 0);
	assert_int_equal(select_all(a, NULL, rows, 2), 1);
	assert_int_equal(rows[0].id, r.id);
	assert_int_equal(rows[0].time, r.time);
	assert_string_equal(rows[0].vm, r.vm);
	assert_string_equal(rows[0].peer, r.peer);
	assert_string_equal(rows[0].failing, r.failing);
	assert_string_equal(rows[0].detail, r.detail);
	assert_int_equal(rows[0].verdict, TDC_AUDIT_FAIL);
	assert_true(rows[0].has_evidence && rows[0].has_nonce);
	assert_memory_equal(rows[0].evidence_sha256, r.evidence_sha256, 32);
	assert_memory_equal(rows[0].nonce, r.nonce, 32);
	/* And without the optional fields. */
	rec_init(&r, "x", -1, TDC_AUDIT_ERROR);
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	assert_int_equal(select_all(a, NULL, rows, 2), 2);
	assert_false(rows[1].has_evidence || rows[1].has_nonce);
	assert_int_equal(rows[1].verdict, TDC_AUDIT_ERROR);
	tdc_audit_close(a);
}

/*
 * Rows that stand for several refusals keep their count; nonces of any
 * length (ingest: the host's choice, 1..64 bytes) are single-use, and a
 * short one is not the prefix of a long one.
 */
static void test_count_and_nonce_lengths(void **state)
{
	struct ctx *c = *state;
	struct tdc_audit_record r[4], rows[8], *batch[4] = { &r[0], &r[1], &r[2], &r[3] };
	struct tdc_audit *a;

	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	rec_init(&r[0], "nosuch", -1, TDC_AUDIT_REJECT);
	r[0].count = 37;
	rec_init(&r[1], "alpha", 9, TDC_AUDIT_PASS);
	r[1].nonce_len = 16;
	rec_init(&r[2], "alpha", 9, TDC_AUDIT_PASS);   /* 32 bytes, same first 16 */
	rec_init(&r[3], "alpha", 9, TDC_AUDIT_PASS);
	r[3].nonce_len = 64;
	assert_int_equal(tdc_audit_append(a, batch, 4), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r[i].result, 0);
	assert_int_equal(select_all(a, NULL, rows, 8), 4);
	assert_int_equal(rows[0].count, 37);
	assert_int_equal(rows[1].count, 1);
	assert_int_equal(rows[1].nonce_len, 16);
	assert_int_equal(rows[2].nonce_len, 32);
	assert_int_equal(rows[3].nonce_len, 64);
	assert_memory_equal(rows[3].nonce, r[3].nonce, 64);
	/* The 16-byte nonce again: a replay, like any other. */
	rec_init(&r[0], "alpha", 9, TDC_AUDIT_PASS);
	r[0].nonce_len = 16;
	assert_int_equal(tdc_audit_append(a, batch, 1), 0);
	assert_int_equal(r[0].result, TDC_ERR_NONCE);
	tdc_audit_close(a);
}

/* Two handles are two verifiers: a nonce spent at one is spent at both. */
static void test_replay_other_writer(void **state)
{
	struct ctx *c = *state;
	struct tdc_audit_record r, *p = &r;
	struct tdc_audit *a, *b;

	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	assert_int_equal(tdc_audit_open(c->where, &b), 0);
	rec_init(&r, "alpha", 0x21, TDC_AUDIT_PASS);
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	assert_int_equal(r.result, 0);
	rec_init(&r, "alpha", 0x21, TDC_AUDIT_PASS);
	assert_int_equal(tdc_audit_append(b, &p, 1), 0);
	assert_int_equal(r.result, TDC_ERR_NONCE);
	assert_int_equal(r.id, 0);
	/* Reopened later: still spent (durable, not a cache). */
	tdc_audit_close(a);
	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	rec_init(&r, "alpha", 0x21, TDC_AUDIT_PASS);
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	assert_int_equal(r.result, TDC_ERR_NONCE);
	tdc_audit_close(a);
	tdc_audit_close(b);
}

#define RACERS 4
#define PER_RACER 40

struct racer {
	const char *where;
	int idx;
	int won, lost;
};

/* Each racer writes its own nonces and races the others for shared ones. */
static void *race(void *arg)
{
	struct racer *rc = arg;
	struct tdc_audit_record recs[4], *p[4];
	struct tdc_audit *a;

	if (tdc_audit_open(rc->where, &a) != 0)
		return NULL;
	for (int i = 0; i < PER_RACER; i++) {
		rec_init(&recs[0], "own", -1, TDC_AUDIT_PASS);
		recs[0].has_nonce = true;
		recs[0].nonce[0] = (uint8_t)rc->idx;
		recs[0].nonce[1] = (uint8_t)i;
		recs[0].nonce[2] = 0xAA;
		rec_init(&recs[1], "shared", -1, TDC_AUDIT_PASS);
		recs[1].has_nonce = true;
		recs[1].nonce[1] = (uint8_t)i;
		recs[1].nonce[2] = 0xBB;
		for (int k = 0; k < 2; k++)
			p[k] = &recs[k];
		if (tdc_audit_append(a, p, 2) != 0)
			break;
		rc->won += recs[1].result == 0;
		rc->lost += recs[1].result == TDC_ERR_NONCE;
	}
	tdc_audit_close(a);
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct ctx *c = *state;
	struct racer r[RACERS];
	pthread_t th[RACERS];
	struct tdc_audit_record *rows = calloc(RACERS * PER_RACER * 2 + 8, sizeof(*rows));
	struct tdc_audit *a;
	size_t n;
	int won = 0, lost = 0;

	assert_non_null(rows);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .where = c->where, .idx = i + 1 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		won += r[i].won;
		lost += r[i].lost;
	}
	/* Each shared nonce went to exactly one racer; every own nonce stored. */
	assert_int_equal(won, PER_RACER);
	assert_int_equal(lost, PER_RACER * (RACERS - 1));
	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	n = select_all(a, NULL, rows, RACERS * PER_RACER * 2 + 8);
	assert_int_equal(n, PER_RACER * RACERS + PER_RACER);
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i].id > rows[i - 1].id);
	tdc_audit_close(a);
	free(rows);
}

/* Other clients of the database cannot rewrite history either. */
static void test_append_only(void **state)
{
	struct ctx *c = *state;
	struct tdc_audit_record r, *p = &r;
	struct tdc_audit *a;

	assert_int_equal(tdc_audit_open(c->where, &a), 0);
	rec_init(&r, "alpha", 3, TDC_AUDIT_FAIL);
	assert_int_equal(tdc_audit_append(a, &p, 1), 0);
	tdc_audit_close(a);
	assert_int_not_equal(c->b->raw(c->where, "DELETE FROM verdicts"), 0);
	assert_int_not_equal(c->b->raw(c->where, "UPDATE verdicts SET verdict='pass'"), 0);
}

int main(void)
{
	const struct CMUnitTest cases[] = {
		cmocka_unit_test_setup(test_batch_and_replay, setup_one),
		cmocka_unit_test_setup(test_round_trip, setup_one),
		cmocka_unit_test_setup(test_replay_other_writer, setup_one),
		cmocka_unit_test_setup(test_count_and_nonce_lengths, setup_one),
		cmocka_unit_test_setup(test_concurrent_writers, setup_one),
		cmocka_unit_test_setup(test_append_only, setup_one),
		cmocka_unit_test_setup(test_chain_tamper, setup_one),
		cmocka_unit_test_setup(test_chain_truncated, setup_one),
		cmocka_unit_test_setup(test_backend_extra, setup_one),
	};
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];
	int failed = 0, skipped = 0;

	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		static struct ctx ctx;
		int r;

		ctx.b = &backends[b];
		/* One probe first: a backend whose server is not installed is skipped whole. */
		if ((r = backends[b].setup(ctx.where, sizeof(ctx.where))) == 77) {
			printf("SKIP: %s store: server not installed (see above)\n", backends[b].name);
			skipped++;
			continue;
		} else if (r != 0) {
			fprintf(stderr, "%s store: setup failed\n", backends[b].name);
			failed++;
			backends[b].teardown();
			continue;
		}
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			tests[i] = cases[i];
			tests[i].initial_state = &ctx;
		}
		failed += _cmocka_run_group_tests(backends[b].name, tests,
						  sizeof(tests) / sizeof(tests[0]), NULL, NULL);
		backends[b].teardown();
	}
	return failed ? 1 : skipped ? TDC_TEST_SKIP : 0;
}
