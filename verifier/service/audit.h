/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Append-only audit log of verdicts (docs/protocol.md "Audit log").  One
 * interface, one backend per database (audit_store.h): SQLite (WAL,
 * synchronous=FULL) is the embedded default, PostgreSQL (libpq) the store
 * a fleet of verifiers shares (docs/deploy.md).  A record counts as
 * acknowledged only after tdc_audit_append() returned: the commit is
 * durable, so a crash after the ack cannot lose it.
 *
 * Every row is a link of a hash chain (tdc_audit_chain): each row's chain
 * value hashes the row and the previous row's chain value, so a row that
 * was changed, removed or inserted later shows in tdc_audit_verify().
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
	bool has_chain;               /* from select: rows older than the chain have none */
	uint8_t chain[32];
	int result;                   /* 0, or TDC_ERR_NONCE if the nonce was already logged */
};

/* What --db strings name a PostgreSQL database (for messages and tests). */
bool tdc_audit_is_postgresql(const char *where);

struct tdc_audit_opts {
	unsigned pool;          /* concurrent appends allowed (PostgreSQL connections); 0: 1 */
	unsigned timeout_ms;    /* bound on every database round trip and connect; 0: 5000 */
};
/*
 * @where: the --db string: an SQLite file path, or a PostgreSQL URI
 * (postgresql://... or postgres://...) or keyword string after
 * "postgresql:" (postgresql:service=tdcpuid).  A password in the string is
 * refused: it would show in process lists and logs (use PGPASSFILE).
 */
int tdc_audit_open(const char *where, struct tdc_audit **out);
int tdc_audit_open_opts(const char *where, const struct tdc_audit_opts *o,
			struct tdc_audit **out);
void tdc_audit_close(struct tdc_audit *a);
/* "sqlite" or "postgresql" */
const char *tdc_audit_kind(const struct tdc_audit *a);
/* The database in words without secrets ("/var/lib/x.db", "postgresql db@host:port"). */
const char *tdc_audit_where(const struct tdc_audit *a);
/* How many tdc_audit_append() calls may run at once on this handle. */
unsigned tdc_audit_pool(const struct tdc_audit *a);
/*
 * Is the database reachable?  Reconnects if it was not, with a bounded
 * backoff between attempts (an attempt inside the backoff fails at once).
 */
int tdc_audit_ping(struct tdc_audit *a);
/*
 * Commit @n records in one transaction (group commit: one fsync for all).
 * Per-record conflicts (a nonce already in the log, e.g. consumed by
 * another verifier sharing this database) set rec->result and do not stop
 * the others; the function's own return is non-zero only if nothing
 * committed (then no record has an id).  An error whose commit outcome is
 * unknown (the connection died during COMMIT) is an error too: the caller
 * must not acknowledge, although the rows may exist.
 * Thread-safe up to tdc_audit_pool() concurrent callers.
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

/* The chain value of @r given the previous row's (zeros before the first). */
int tdc_audit_chain(const uint8_t prev[32], const struct tdc_audit_record *r, uint8_t out[32]);

struct tdc_audit_report {
	uint64_t rows;          /* rows read */
	uint64_t unchained;     /* rows written before the chain began (older logs) */
	int64_t head_id;        /* last chained row (0: none) */
	uint8_t head[32];       /* its chain value */
	bool ok;
	char problem[256];      /* the first problem found, if !ok */
};
/*
 * Walk the whole log in id order and recompute the chain; compare its end
 * with the head the database keeps.  Returns 0 when the walk completed
 * (then rep->ok tells), an error if the log could not be read.
 */
int tdc_audit_verify(struct tdc_audit *a, struct tdc_audit_report *rep);

#endif
