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
 *    refuses it from other clients where it can.
 */
#ifndef TDC_AUDIT_STORE_H
#define TDC_AUDIT_STORE_H

#include "audit.h"

struct tdc_audit_store {
	const char *kind;                       /* "sqlite", ... */
	/* Does @where name a database of this kind? */
	bool (*claims)(const char *where);
	int (*open)(const char *where, void **out);
	void (*close)(void *h);
	int (*append)(void *h, struct tdc_audit_record **recs, size_t n);
	int (*select)(void *h, const struct tdc_audit_query *q, tdc_audit_row_fn fn, void *ctx);
	/* The database's own consistency check: "ok" or its first complaint. */
	int (*integrity)(void *h, char *out, size_t len);
};

extern const struct tdc_audit_store tdc_audit_sqlite;

#endif
