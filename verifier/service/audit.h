/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Append-only audit log of verdicts (docs/protocol.md "Audit log").  One
 * interface, one backend per database (audit_store.h): SQLite (WAL,
 * synchronous=FULL) is the embedded default.  A record counts as
 * acknowledged only after tdc_audit_append() returned: the commit is
 * durable, so a crash after the ack cannot lose it.
 */
#ifndef TDC_AUDIT_H
#define TDC_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_AUDIT_STR_MAX 256
#define TDC_AUDIT_FAILING_MAX 1024
#define TDC_AUDIT_NONCE_MAX 64      /* bytes: the claims' nonce cap */

struct tdc_audit;

enum tdc_audit_verdict {
	TDC_AUDIT_PASS = 0,   /* evidence checked, policy passed */
	TDC_AUDIT_FAIL,       /* evidence checked, policy failed */
	TDC_AUDIT_ERROR,      /* evidence could not be evaluated (malformed, binding) */
	TDC_AUDIT_REJECT,     /* refused before checking: nonce or VM problem */
};
const char *tdc_audit_verdict_name(enum tdc_audit_verdict v);
int tdc_audit_verdict_parse(const char *s, enum tdc_audit_verdict *out);

struct tdc_audit_record {
	int64_t time;                 /* unix seconds, set by append if 0 */
	char vm[TDC_AUDIT_STR_MAX];
	char peer[TDC_AUDIT_STR_MAX];
	bool has_evidence;
	uint8_t evidence_sha256[32];
	enum tdc_audit_verdict verdict;
	char failing[TDC_AUDIT_FAILING_MAX]; /* "CPUID.01H:ECX[24],..." or "" */
	bool has_nonce;               /* consumed nonce: UNIQUE in the log */
	uint8_t nonce[TDC_AUDIT_NONCE_MAX];
	size_t nonce_len;             /* 0 means 32 (the service's nonces) */
	char detail[TDC_AUDIT_STR_MAX];
	uint32_t count;               /* events this row stands for: refusals from one
				       * peer are aggregated per interval (0 means 1) */
	/* out */
	int64_t id;
	int result;                   /* 0, or TDC_ERR_NONCE if the nonce was already logged */
};

/* @where: the --db string (an SQLite file path). */
int tdc_audit_open(const char *where, struct tdc_audit **out);
void tdc_audit_close(struct tdc_audit *a);
/* "sqlite" */
const char *tdc_audit_kind(const struct tdc_audit *a);
/*
 * Commit @n records in one transaction (group commit: one fsync for all).
 * Per-record conflicts (a nonce already in the log, e.g. consumed by
 * another verifier sharing this file) set rec->result and do not stop the
 * others; the function's own return is non-zero only if nothing committed.
 */
int tdc_audit_append(struct tdc_audit *a, struct tdc_audit_record **recs, size_t n);

struct tdc_audit_query {
	const char *vm;      /* NULL: all */
	int64_t since;       /* unix seconds, 0: all */
	size_t limit;        /* 0: no limit */
};
typedef int (*tdc_audit_row_fn)(void *ctx, const struct tdc_audit_record *r);
int tdc_audit_select(struct tdc_audit *a, const struct tdc_audit_query *q,
		     tdc_audit_row_fn fn, void *ctx);
/* "ok", or the first problem the database's own check reports
 * (SQLite: PRAGMA integrity_check), into @out. */
int tdc_audit_integrity(struct tdc_audit *a, char *out, size_t len);

#endif
