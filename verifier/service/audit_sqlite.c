// SPDX-License-Identifier: Apache-2.0
/*
 * SQLite audit log, the embedded default.  Durability reasoning
 * (https://sqlite.org/wal.html, https://sqlite.org/pragma.html#pragma_synchronous):
 * in WAL mode, synchronous=NORMAL does not fsync on commit, so the last
 * transactions can vanish on power loss after we told the agent they were
 * recorded; synchronous=FULL fsyncs the WAL at every commit.  We take FULL
 * and win the throughput back with group commit (append takes a batch).
 *
 * Append-only: this file has no UPDATE or DELETE statement, and triggers
 * make the database itself refuse them from any other client.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

struct sq {
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *head_get, *head_set, *max_id;
	sqlite3_stmt *begin, *commit;   /* prepared once: exec() parsed them per batch */
	char path[1024];
};

/* Anything that is not a PostgreSQL connection string is a file path. */
static bool sq_claims(const char *where)
{
	return true;
}

static int db_err(sqlite3 *db, const char *what)
{
	return tdc_err(TDC_ERR_IO, "audit: %s: %s", what, db ? sqlite3_errmsg(db) : "no handle");
}

static int exec(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int e = tdc_err(TDC_ERR_IO, "audit: %s: %s", what, msg ? msg : "?");

		sqlite3_free(msg);
		return e;
	}
	return 0;
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Logs made before the schema was versioned have user_version 0 but a
 * table: version 1, or 2 if they already have the count column.
 */
static int64_t schema_version(sqlite3 *db)
{
	int64_t v = one_int(db, "PRAGMA user_version");

	if (v != 0 || one_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
			      "name='verdicts'") <= 0)
		return v;
	return one_int(db, "SELECT count(*) FROM pragma_table_info('verdicts') WHERE "
		       "name='count'") > 0 ? 2 : 1;
}

/* Apply the versioned files (sql/sqlite/) this log has not seen, in one transaction. */
static int migrate(sqlite3 *db)
{
	char sql[64];
	int64_t have;
	int e;

	if ((e = exec(db, "BEGIN IMMEDIATE", "migrate")) != 0)
		return e;
	if ((have = schema_version(db)) < 0)
		e = db_err(db, "schema version");
	for (const struct tdc_audit_migration *m = tdc_audit_sql_sqlite; !e && m->sql; m++) {
		if (m->version <= have)
			continue;
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", m->version);
		if ((e = exec(db, m->sql, m->name)) == 0)
			e = exec(db, sql, m->name);
	}
	if (e) {
		exec(db, "ROLLBACK", "rollback");
		return e;
	}
	return exec(db, "COMMIT", "migrate");
}

static void sq_close(void *h)
{
	struct sq *a = h;

	if (!a)
		return;
	sqlite3_finalize(a->insert);
	sqlite3_finalize(a->head_get);
	sqlite3_finalize(a->head_set);
	sqlite3_finalize(a->max_id);
	sqlite3_finalize(a->begin);
	sqlite3_finalize(a->commit);
	sqlite3_close(a->db);
	free(a);
}

static int prepare(struct sq *a, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(a->db, sql, -1, st, NULL) == SQLITE_OK ? 0
		: db_err(a->db, "prepare");
}

static int sq_open(const char *path, const struct tdc_audit_opts *o, void **out)
{
	struct sq *a = calloc(1, sizeof(*a));
	int e;

	if (!a)
		return tdc_err(TDC_ERR_ALLOC, "audit: alloc");
	snprintf(a->path, sizeof(a->path), "%s", path);
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		e = tdc_err(TDC_ERR_IO, "audit: open %s: %s", path,
			    a->db ? sqlite3_errmsg(a->db) : "out of memory");
		goto fail;
	}
	/* Several verifiers may share one file: wait for the writer lock. */
	sqlite3_busy_timeout(a->db, 10000);
	if ((e = exec(a->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "pragmas")) != 0 ||
	    (e = migrate(a->db)) != 0)
		goto fail;
	if ((e = prepare(a, "INSERT INTO verdicts(id, time, vm, peer, evidence_sha256, verdict,"
			 " failing, nonce, detail, count, chain) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
			 &a->insert)) != 0 ||
	    (e = prepare(a, "SELECT id, chain FROM chain_head WHERE one = 1", &a->head_get)) != 0 ||
	    (e = prepare(a, "UPDATE chain_head SET id = ?, chain = ? WHERE one = 1",
			 &a->head_set)) != 0 ||
	    (e = prepare(a, "SELECT coalesce(max(id), 0) FROM verdicts", &a->max_id)) != 0 ||
	    (e = prepare(a, "BEGIN IMMEDIATE", &a->begin)) != 0 ||
	    (e = prepare(a, "COMMIT", &a->commit)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	sq_close(a);
	return e;
}

static int bind_hex(sqlite3_stmt *st, int col, bool has, const uint8_t *p, size_t n)
{
	char hex[2 * TDC_AUDIT_NONCE_MAX + 1];

	if (!has)
		return sqlite3_bind_null(st, col);
	tdc_hex_encode(p, n, hex);
	return sqlite3_bind_text(st, col, hex, -1, SQLITE_TRANSIENT);
}

/* The chain's head and the next id, inside the write transaction. */
struct link {
	int64_t next_id;
	uint8_t prev[32];
};

static int link_start(struct sq *a, struct link *l)
{
	const unsigned char *hex;
	size_t n = 0;
	int e = 0;

	sqlite3_reset(a->head_get);
	sqlite3_reset(a->max_id);
	if (sqlite3_step(a->head_get) != SQLITE_ROW || sqlite3_step(a->max_id) != SQLITE_ROW)
		e = db_err(a->db, "chain head");
	else if (!(hex = sqlite3_column_text(a->head_get, 1)) ||
		 tdc_hex_decode((const char *)hex, l->prev, 32, &n) != 0 || n != 32)
		e = tdc_err(TDC_ERR_FORMAT, "audit: chain head is not a SHA-256 value");
	/* Past every row, chained or older. */
	l->next_id = sqlite3_column_int64(a->max_id, 0) + 1;
	sqlite3_reset(a->head_get);
	sqlite3_reset(a->max_id);
	return e;
}

static int insert_one(struct sq *a, struct link *l, struct tdc_audit_record *r)
{
	sqlite3_stmt *st = a->insert;
	uint8_t chain[32];
	char hex[65];
	int rc, e;

	if (!r->count)
		r->count = 1;
	r->id = l->next_id;
	if ((e = tdc_audit_chain(l->prev, r, chain)) != 0)
		return e;
	tdc_hex_encode(chain, 32, hex);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->time);
	sqlite3_bind_text(st, 3, r->vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->peer, -1, SQLITE_STATIC);
	bind_hex(st, 5, r->has_evidence, r->evidence_sha256, 32);
	sqlite3_bind_text(st, 6, tdc_audit_verdict_name(r->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->failing, -1, SQLITE_STATIC);
	bind_hex(st, 8, r->has_nonce, r->nonce,
		 r->nonce_len && r->nonce_len <= sizeof(r->nonce) ? r->nonce_len : 32);
	sqlite3_bind_text(st, 9, r->detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, r->count);
	sqlite3_bind_text(st, 11, hex, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		l->next_id++;
		memcpy(l->prev, chain, 32);
		return 0;
	}
	r->id = 0;
	if (rc == SQLITE_CONSTRAINT) {
		r->result = tdc_err(TDC_ERR_NONCE, "audit: nonce already recorded (replay)");
		return 0;
	}
	return db_err(a->db, "insert");
}

static int head_store(struct sq *a, const struct link *l)
{
	char hex[65];
	int rc;

	tdc_hex_encode(l->prev, 32, hex);
	sqlite3_reset(a->head_set);
	sqlite3_bind_int64(a->head_set, 1, l->next_id - 1);
	sqlite3_bind_text(a->head_set, 2, hex, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(a->head_set);
	sqlite3_reset(a->head_set);
	return rc == SQLITE_DONE ? 0 : db_err(a->db, "chain head");
}

/* One prepared statement without rows (BEGIN, COMMIT), as exec() would run it. */
static int step_once(struct sq *a, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_err(a->db, what);
}

/* BEGIN IMMEDIATE takes the file's write lock: the chain has one writer at a time. */
static int sq_append(void *h, struct tdc_audit_record **recs, size_t n)
{
	struct sq *a = h;
	struct link l;
	size_t stored = 0;
	int e;

	if ((e = step_once(a, a->begin, "begin")) != 0)
		return e;
	if ((e = link_start(a, &l)) != 0)
		goto rollback;
	for (size_t i = 0; i < n; i++) {
		if ((e = insert_one(a, &l, recs[i])) != 0)
			goto rollback;
		stored += recs[i]->id != 0;
	}
	sqlite3_reset(a->insert);
	if ((stored && (e = head_store(a, &l)) != 0) || (e = step_once(a, a->commit, "commit")) != 0)
		goto rollback;
	return 0;
rollback:
	sqlite3_reset(a->insert);
	exec(a->db, "ROLLBACK", "rollback");
	for (size_t i = 0; i < n; i++)
		recs[i]->id = 0;
	return e;
}

static void col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, cap, "%s", s ? (const char *)s : "");
}

/* Exactly @n bytes, or with @len any length up to @n (ingest's nonces). */
static void col_hex(sqlite3_stmt *st, int col, bool *has, uint8_t *dst, size_t n, size_t *len)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	size_t got = 0;

	*has = s && tdc_hex_decode((const char *)s, dst, n, &got) == 0 &&
	       (len ? got > 0 : got == n);
	if (len)
		*len = *has ? got : 0;
}

static void row_of(sqlite3_stmt *st, struct tdc_audit_record *r)
{
	char v[16];

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->time = sqlite3_column_int64(st, 1);
	col_text(st, 2, r->vm, sizeof(r->vm));
	col_text(st, 3, r->peer, sizeof(r->peer));
	col_hex(st, 4, &r->has_evidence, r->evidence_sha256, 32, NULL);
	col_text(st, 5, v, sizeof(v));
	col_text(st, 6, r->failing, sizeof(r->failing));
	col_hex(st, 7, &r->has_nonce, r->nonce, sizeof(r->nonce), &r->nonce_len);
	col_text(st, 8, r->detail, sizeof(r->detail));
	r->count = (uint32_t)sqlite3_column_int64(st, 9);
	col_hex(st, 10, &r->has_chain, r->chain, 32, NULL);
	tdc_audit_verdict_parse(v, &r->verdict);
}

static int sq_select(void *h, const struct tdc_audit_query *q, tdc_audit_row_fn fn, void *ctx)
{
	struct sq *a = h;
	sqlite3_stmt *st = NULL;
	struct tdc_audit_record *r = malloc(sizeof(*r));
	int rc, e = 0;

	if (!r)
		return tdc_err(TDC_ERR_ALLOC, "audit: alloc");
	if (sqlite3_prepare_v2(a->db,
			       "SELECT id, time, vm, peer, evidence_sha256, verdict, failing, nonce,"
			       " detail, count, chain FROM verdicts WHERE (?1 IS NULL OR vm = ?1) AND time >= ?2"
			       " ORDER BY id LIMIT ?3", -1, &st, NULL) != SQLITE_OK) {
		e = db_err(a->db, "prepare select");
		goto out;
	}
	if (q->vm)
		sqlite3_bind_text(st, 1, q->vm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, q->since);
	sqlite3_bind_int64(st, 3, q->limit ? (int64_t)q->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_of(st, r);
		if ((e = fn(ctx, r)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		e = db_err(a->db, "select");
out:
	sqlite3_finalize(st);
	free(r);
	return e;
}

static int sq_integrity(void *h, char *out, size_t len)
{
	struct sq *a = h;
	sqlite3_stmt *st = NULL;
	int e = 0;

	if (sqlite3_prepare_v2(a->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
		return db_err(a->db, "integrity_check");
	if (sqlite3_step(st) == SQLITE_ROW)
		col_text(st, 0, out, len);
	else
		e = db_err(a->db, "integrity_check");
	sqlite3_finalize(st);
	return e;
}

static int sq_head(void *h, int64_t *id, uint8_t chain[32])
{
	struct sq *a = h;
	struct link l;
	int e;

	if ((e = exec(a->db, "BEGIN", "begin")) != 0)
		return e;
	e = link_start(a, &l);
	*id = one_int(a->db, "SELECT id FROM chain_head WHERE one = 1");
	memcpy(chain, l.prev, 32);
	exec(a->db, "COMMIT", "commit");
	return e;
}

static const char *sq_where(void *h)
{
	return ((struct sq *)h)->path;
}

/* One connection; several verifiers sharing a file queue on its write lock. */
static unsigned sq_pool(void *h)
{
	return 1;
}

const struct tdc_audit_store tdc_audit_sqlite = {
	.kind = "sqlite",
	.claims = sq_claims,
	.open = sq_open,
	.close = sq_close,
	.where = sq_where,
	.pool = sq_pool,
	.head = sq_head,
	.append = sq_append,
	.select = sq_select,
	.integrity = sq_integrity,
};
