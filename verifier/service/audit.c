// SPDX-License-Identifier: Apache-2.0
/*
 * The audit log's front: picks the backend named by the --db string
 * (audit_store.h) and holds what every backend shares.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_store.h"
#include "tdcpuid/error.h"

/* Tried in order; the last one claims every string (a file path). */
static const struct tdc_audit_store *const stores[] = {
	&tdc_audit_postgresql,
	&tdc_audit_sqlite,
};

struct tdc_audit {
	const struct tdc_audit_store *store;
	void *h;
};

bool tdc_audit_is_postgresql(const char *where)
{
	return tdc_audit_postgresql.claims(where);
}

int tdc_audit_open(const char *where, struct tdc_audit **out)
{
	return tdc_audit_open_opts(where, NULL, out);
}

int tdc_audit_open_opts(const char *where, const struct tdc_audit_opts *o,
			struct tdc_audit **out)
{
	struct tdc_audit_opts def = { 0 };
	const struct tdc_audit_store *st = NULL;
	struct tdc_audit *a;
	int e;

	for (size_t i = 0; !st && i < sizeof(stores) / sizeof(stores[0]); i++)
		if (stores[i]->claims(where))
			st = stores[i];
	if (!st)
		return tdc_err(TDC_ERR_UNSUPPORTED, "audit: no store for this --db");
	if (!(a = calloc(1, sizeof(*a))))
		return tdc_err(TDC_ERR_ALLOC, "audit: alloc");
	a->store = st;
	def = o ? *o : def;
	def.pool = def.pool ? def.pool : 1;
	def.timeout_ms = def.timeout_ms ? def.timeout_ms : 5000;
	if ((e = st->open(where, &def, &a->h)) != 0) {
		free(a);
		return e;
	}
	*out = a;
	return 0;
}

void tdc_audit_close(struct tdc_audit *a)
{
	if (!a)
		return;
	a->store->close(a->h);
	free(a);
}

const char *tdc_audit_kind(const struct tdc_audit *a)
{
	return a->store->kind;
}

const char *tdc_audit_where(const struct tdc_audit *a)
{
	return a->store->where(a->h);
}

unsigned tdc_audit_pool(const struct tdc_audit *a)
{
	return a->store->pool(a->h);
}

int tdc_audit_ping(struct tdc_audit *a)
{
	return a->store->ping ? a->store->ping(a->h) : 0;
}

int tdc_audit_append(struct tdc_audit *a, struct tdc_audit_record **recs, size_t n)
{
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < n; i++) {
		recs[i]->id = 0;
		recs[i]->result = 0;
		if (recs[i]->time == 0)
			recs[i]->time = now;
	}
	return n ? a->store->append(a->h, recs, n) : 0;
}

int tdc_audit_select(struct tdc_audit *a, const struct tdc_audit_query *q,
		     tdc_audit_row_fn fn, void *ctx)
{
	return a->store->select(a->h, q, fn, ctx);
}

int tdc_audit_integrity(struct tdc_audit *a, char *out, size_t len)
{
	return a->store->integrity(a->h, out, len);
}

/* ---- tamper evidence: walking the chain (audit_chain.c computes it) ---- */

struct walk {
	struct tdc_audit_report *rep;
	uint8_t prev[32];
	int64_t last_id;
	int64_t head_id;        /* the stored head, read before the walk */
	uint8_t head[32];
	bool head_seen;         /* the walk reached it with the same value */
};

static int walk_row(void *ctx, const struct tdc_audit_record *r)
{
	struct walk *w = ctx;
	struct tdc_audit_report *rep = w->rep;
	uint8_t want[32];
	int e;

	rep->rows++;
	if (!rep->ok)
		return 0;
	if (r->id <= w->last_id) {
		rep->ok = false;
		snprintf(rep->problem, sizeof(rep->problem), "row %" PRId64 " after row %" PRId64
			 ": ids out of order", r->id, w->last_id);
		return 0;
	}
	w->last_id = r->id;
	if (!r->has_chain) {
		/* Rows older than the chain come first, or somebody wrote around it. */
		if (rep->head_id) {
			rep->ok = false;
			snprintf(rep->problem, sizeof(rep->problem), "row %" PRId64 " has no chain "
				 "value but follows chained row %" PRId64 ": written around the "
				 "verifier", r->id, rep->head_id);
		}
		rep->unchained++;
		return 0;
	}
	if ((e = tdc_audit_chain(w->prev, r, want)) != 0)
		return e;
	if (memcmp(want, r->chain, 32)) {
		rep->ok = false;
		snprintf(rep->problem, sizeof(rep->problem), "row %" PRId64 ": chain value does "
			 "not match (the row was changed, or one before it was changed, removed "
			 "or inserted)", r->id);
		return 0;
	}
	memcpy(w->prev, r->chain, 32);
	if (r->id == w->head_id && !memcmp(r->chain, w->head, 32))
		w->head_seen = true;
	rep->head_id = r->id;
	memcpy(rep->head, r->chain, 32);
	return 0;
}

int tdc_audit_verify(struct tdc_audit *a, struct tdc_audit_report *rep)
{
	struct tdc_audit_query q = { 0 };
	struct walk w = { .rep = rep };
	int e;

	memset(rep, 0, sizeof(*rep));
	rep->ok = true;
	/* The head first: rows appended during the walk are then simply extra. */
	if ((e = a->store->head(a->h, &w.head_id, w.head)) != 0 ||
	    (e = tdc_audit_select(a, &q, walk_row, &w)) != 0)
		return e;
	if (rep->ok && w.head_id && !w.head_seen) {
		rep->ok = false;
		snprintf(rep->problem, sizeof(rep->problem), "the chain head names row %" PRId64
			 " but the chain %s: rows were removed from the end", w.head_id,
			 rep->head_id < w.head_id ? "ends before it" : "passes it with another value");
	}
	return 0;
}
