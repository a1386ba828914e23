/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log's backends (docs/protocol.md "Audit log"): one small ops
 * struct, one file behind it per database, as the transports and TEE
 * backends are built.  audit.c picks the backend from the --db string and
 * holds everything the backends share; a backend only moves records in and
 * out of its database.
 *
 * Every backend keeps the same promises, checked by one test suite
 * (tests/test_store.c) run against each of them:
 *  - append commits a batch atomically and durably before it returns;
 *  - a nonce is recorded at most once, whoever wrote it first: a second
 *    record with the same nonce gets result TDC_ERR_NONCE and is not stored,
 *    and the rest of the batch is unaffected;
 *  - rows come back from select in id order, exactly as they were written;
 *  - nothing in the backend updates or deletes a row, and the database
 *    refuses it from other clients where it can;
 *  - every row stored gets its chain value (tdc_audit_chain) over the
 *    previous one in id order, and the head (last id and chain value) is
 *    kept in the same transaction;
 *  - the schema is the store's versioned SQL files (sql/<kind>/NNN-*.sql,
 *    embedded as tdc_audit_sql_<kind>), applied in order.
 */
#ifndef TDC_AUDIT_STORE_H
#define TDC_AUDIT_STORE_H

#include "audit.h"

struct tdc_audit_migration {
	int version;
	const char *name;
	const char *sql;
};
extern const struct tdc_audit_migration tdc_audit_sql_sqlite[];
extern const struct tdc_audit_migration tdc_audit_sql_postgresql[];

struct tdc_audit_store {
	const char *kind;                       /* "sqlite", ... */
	/* Does @where name a database of this kind? */
	bool (*claims)(const char *where);
	int (*open)(const char *where, const struct tdc_audit_opts *o, void **out);
	void (*close)(void *h);
	const char *(*where)(void *h);
	unsigned (*pool)(void *h);
	int (*ping)(void *h);                  /* NULL: always reachable */
	int (*append)(void *h, struct tdc_audit_record **recs, size_t n);
	int (*select)(void *h, const struct tdc_audit_query *q, tdc_audit_row_fn fn, void *ctx);
	/* The database's own consistency check: "ok" or its first complaint. */
	int (*integrity)(void *h, char *out, size_t len);
	/* The chain's head as stored: last chained id (0: none) and its value. */
	int (*head)(void *h, int64_t *id, uint8_t chain[32]);
};

extern const struct tdc_audit_store tdc_audit_sqlite;
extern const struct tdc_audit_store tdc_audit_postgresql;

#endif
