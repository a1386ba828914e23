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
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS verdicts("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" vm TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" evidence_sha256 TEXT,"
	" verdict TEXT NOT NULL CHECK (verdict IN ('pass','fail','error','reject')),"
	" failing TEXT NOT NULL DEFAULT '',"
	" nonce TEXT UNIQUE,"            /* single use across every writer of this file */
	" detail TEXT NOT NULL DEFAULT '',"
	" count INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX IF NOT EXISTS verdicts_vm_time ON verdicts(vm, time);"
	"CREATE INDEX IF NOT EXISTS verdicts_time ON verdicts(time);"
	"CREATE TRIGGER IF NOT EXISTS verdicts_no_update BEFORE UPDATE ON verdicts"
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS verdicts_no_delete BEFORE DELETE ON verdicts"
	" BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

/* Anything that is not a PostgreSQL connection string is a file path. */
static bool sq_claims(const char *where)
{
	return true;
}

/* Logs written before rows could stand for several refusals gain the column. */
static int migrate(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool has;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('verdicts') WHERE name='count'",
			       -1, &st, NULL) != SQLITE_OK)
		return tdc_err(TDC_ERR_IO, "audit: migrate: %s", sqlite3_errmsg(db));
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (has || sqlite3_exec(db, "ALTER TABLE verdicts ADD COLUMN count INTEGER NOT NULL"
				" DEFAULT 1", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return tdc_err(TDC_ERR_IO, "audit: migrate: %s", sqlite3_errmsg(db));
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

static void sq_close(void *h)
{
	struct sq *a = h;

	if (!a)
		return;
	sqlite3_finalize(a->insert);
	sqlite3_close(a->db);
	free(a);
}

static int sq_open(const char *path, void **out)
{
	struct sq *a = calloc(1, sizeof(*a));
	int e;

	if (!a)
		return tdc_err(TDC_ERR_ALLOC, "audit: alloc");
	if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		e = tdc_err(TDC_ERR_IO, "audit: open %s: %s", path,
			    a->db ? sqlite3_errmsg(a->db) : "out of memory");
		goto fail;
	}
	/* Several verifiers may share one file: wait for the writer lock. */
	sqlite3_busy_timeout(a->db, 10000);
	if ((e = exec(a->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "pragmas")) != 0 ||
	    (e = exec(a->db, schema, "schema")) != 0 || (e = migrate(a->db)) != 0)
		goto fail;
	if (sqlite3_prepare_v2(a->db,
			       "INSERT INTO verdicts(time, vm, peer, evidence_sha256, verdict,"
			       " failing, nonce, detail, count) VALUES (?,?,?,?,?,?,?,?,?)",
			       -1, &a->insert, NULL) != SQLITE_OK) {
		e = db_err(a->db, "prepare insert");
		goto fail;
	}
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

static int insert_one(struct sq *a, struct tdc_audit_record *r)
{
	sqlite3_stmt *st = a->insert;
	int rc;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, r->time);
	sqlite3_bind_text(st, 2, r->vm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->peer, -1, SQLITE_STATIC);
	bind_hex(st, 4, r->has_evidence, r->evidence_sha256, 32);
	sqlite3_bind_text(st, 5, tdc_audit_verdict_name(r->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->failing, -1, SQLITE_STATIC);
	bind_hex(st, 7, r->has_nonce, r->nonce,
		 r->nonce_len && r->nonce_len <= sizeof(r->nonce) ? r->nonce_len : 32);
	sqlite3_bind_text(st, 8, r->detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->count ? r->count : 1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r->id = sqlite3_last_insert_rowid(a->db);
		return 0;
	}
	if (rc == SQLITE_CONSTRAINT) {
		r->result = tdc_err(TDC_ERR_NONCE, "audit: nonce already recorded (replay)");
		return 0;
	}
	return db_err(a->db, "insert");
}

static int sq_append(void *h, struct tdc_audit_record **recs, size_t n)
{
	struct sq *a = h;
	int e;

	if ((e = exec(a->db, "BEGIN IMMEDIATE", "begin")) != 0)
		return e;
	for (size_t i = 0; i < n; i++)
		if ((e = insert_one(a, recs[i])) != 0)
			goto rollback;
	sqlite3_reset(a->insert);
	if ((e = exec(a->db, "COMMIT", "commit")) != 0)
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
			       " detail, count FROM verdicts WHERE (?1 IS NULL OR vm = ?1) AND time >= ?2"
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

const struct tdc_audit_store tdc_audit_sqlite = {
	.kind = "sqlite",
	.claims = sq_claims,
	.open = sq_open,
	.close = sq_close,
	.append = sq_append,
	.select = sq_select,
	.integrity = sq_integrity,
};
