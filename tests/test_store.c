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
#include "tdcpuid/error.h"

struct backend {
	const char *name;
	/* Fresh, empty store; its --db string into @where. */
	int (*setup)(char *where, size_t len);
	void (*teardown)(void);
	/* Run @sql as another client with full table rights: 0 if it succeeded. */
	int (*raw)(const char *where, const char *sql);
};

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

static const struct backend backends[] = {
	{ "sqlite", sqlite_setup, sqlite_teardown, sqlite_raw },
};

struct ctx {
	const struct backend *b;
	char where[512];
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

static int setup_one(void **state)
{
	struct ctx *c = *state;

	return c->b->setup(c->where, sizeof(c->where));
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
	};
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];
	int failed = 0;

	for (size_t b = 0; b < sizeof(backends) / sizeof(backends[0]); b++) {
		static struct ctx ctx;

		ctx.b = &backends[b];
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			tests[i] = cases[i];
			tests[i].initial_state = &ctx;
		}
		failed += _cmocka_run_group_tests(backends[b].name, tests,
						  sizeof(tests) / sizeof(tests[0]), NULL, NULL);
		backends[b].teardown();
	}
	return failed ? 1 : 0;
}
