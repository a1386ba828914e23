// SPDX-License-Identifier: Apache-2.0
/*
 * The audit log's front: picks the backend named by the --db string
 * (audit_store.h) and holds what every backend shares.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_store.h"
#include "tdcpuid/error.h"

/* Tried in order; the last one claims every string (a file path). */
static const struct tdc_audit_store *const stores[] = {
	&tdc_audit_sqlite,
};

struct tdc_audit {
	const struct tdc_audit_store *store;
	void *h;
};

int tdc_audit_open(const char *where, struct tdc_audit **out)
{
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
	if ((e = st->open(where, &a->h)) != 0) {
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
