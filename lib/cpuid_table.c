// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

void tdc_cpuid_table_init(struct tdc_cpuid_table *t)
{
	t->e = NULL;
	t->n = t->cap = 0;
	t->sorted = true;
}

static int key_cmp(uint32_t leaf, uint32_t subleaf, const struct tdc_cpuid_entry *e)
{
	if (leaf != e->leaf)
		return leaf < e->leaf ? -1 : 1;
	if (subleaf != e->subleaf)
		return subleaf < e->subleaf ? -1 : 1;
	return 0;
}

/* First index whose key is >= (leaf, subleaf); the table must be sorted. */
static size_t lower_bound(const struct tdc_cpuid_table *t, uint32_t leaf, uint32_t subleaf)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(leaf, subleaf, &t->e[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void tdc_cpuid_table_free(struct tdc_cpuid_table *t)
{
	free(t->e);
	tdc_cpuid_table_init(t);
}

static struct tdc_cpuid_entry *find_exact(const struct tdc_cpuid_table *t,
					  uint32_t leaf, uint32_t subleaf)
{
	if (t->sorted) {
		size_t i = lower_bound(t, leaf, subleaf);

		return i < t->n && !key_cmp(leaf, subleaf, &t->e[i]) ? &t->e[i] : NULL;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf && t->e[i].subleaf == subleaf)
			return &t->e[i];
	return NULL;
}

int tdc_cpuid_table_set(struct tdc_cpuid_table *t, const struct tdc_cpuid_entry *e)
{
	struct tdc_cpuid_entry *slot = find_exact(t, e->leaf, e->subleaf);

	if (slot) {
		*slot = *e;
		return 0;
	}
	if (t->n >= TDC_CPUID_MAX_ENTRIES)
		return tdc_err(TDC_ERR_TOO_LARGE, "CPUID table: more than %d entries",
			       TDC_CPUID_MAX_ENTRIES);
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct tdc_cpuid_entry *p = realloc(t->e, ncap * sizeof(*p));

		if (!p)
			return tdc_err(TDC_ERR_ALLOC, "CPUID table of %zu entries", ncap);
		t->e = p;
		t->cap = ncap;
	}
	if (t->n && key_cmp(e->leaf, e->subleaf, &t->e[t->n - 1]) < 0)
		t->sorted = false;
	t->e[t->n++] = *e;
	return 0;
}

const struct tdc_cpuid_entry *tdc_cpuid_table_find(const struct tdc_cpuid_table *t,
						   uint32_t leaf, uint32_t subleaf)
{
	const struct tdc_cpuid_entry *e = find_exact(t, leaf, subleaf);

	if (e)
		return e;
	if (t->sorted) {
		/* A non-indexed leaf's entries sit together from (leaf, 0). */
		for (size_t i = lower_bound(t, leaf, 0); i < t->n && t->e[i].leaf == leaf; i++)
			if (!(t->e[i].flags & TDC_CPUID_F_INDEXED))
				return &t->e[i];
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf && !(t->e[i].flags & TDC_CPUID_F_INDEXED))
			return &t->e[i];
	return NULL;
}

void tdc_cpuid_cursor_init(struct tdc_cpuid_cursor *c, const struct tdc_cpuid_table *t)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
}

/* tdc_cpuid_table_find's two steps (exact key, else the leaf's non-indexed
 * entry) from the cursor's two positions, moved forward to this key. */
const struct tdc_cpuid_entry *tdc_cpuid_cursor_find(struct tdc_cpuid_cursor *c, uint32_t leaf,
						    uint32_t subleaf)
{
	const struct tdc_cpuid_table *t = c->t;

	if (!t->sorted || (c->started && (leaf < c->leaf || (leaf == c->leaf && subleaf < c->subleaf))))
		return tdc_cpuid_table_find(t, leaf, subleaf);
	c->started = true;
	c->leaf = leaf;
	c->subleaf = subleaf;
	while (c->leaf_at < t->n && t->e[c->leaf_at].leaf < leaf)
		c->leaf_at++;
	if (c->key_at < c->leaf_at)
		c->key_at = c->leaf_at;
	while (c->key_at < t->n && key_cmp(leaf, subleaf, &t->e[c->key_at]) > 0)
		c->key_at++;
	if (c->key_at < t->n && !key_cmp(leaf, subleaf, &t->e[c->key_at]))
		return &t->e[c->key_at];
	for (size_t i = c->leaf_at; i < t->n && t->e[i].leaf == leaf; i++)
		if (!(t->e[i].flags & TDC_CPUID_F_INDEXED))
			return &t->e[i];
	return NULL;
}

bool tdc_cpuid_table_has_leaf(const struct tdc_cpuid_table *t, uint32_t leaf)
{
	size_t i;

	if (t->sorted)
		return (i = lower_bound(t, leaf, 0)) < t->n && t->e[i].leaf == leaf;
	for (i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf)
			return true;
	return false;
}

int tdc_cpuid_entry_cmp(const struct tdc_cpuid_entry *a, const struct tdc_cpuid_entry *b)
{
	return key_cmp(a->leaf, a->subleaf, b);
}

static int entry_qsort_cmp(const void *a, const void *b)
{
	return tdc_cpuid_entry_cmp(a, b);
}

void tdc_cpuid_table_sort(struct tdc_cpuid_table *t)
{
	if (t->n > 1)
		qsort(t->e, t->n, sizeof(*t->e), entry_qsort_cmp);
	t->sorted = true;
}

void tdc_cpuid_table_remove(struct tdc_cpuid_table *t, uint32_t leaf, uint32_t subleaf)
{
	struct tdc_cpuid_entry *e = find_exact(t, leaf, subleaf);

	if (!e)
		return;
	memmove(e, e + 1, (size_t)(t->e + t->n - (e + 1)) * sizeof(*e));
	t->n--;
}

int tdc_cpuid_table_copy(struct tdc_cpuid_table *dst, const struct tdc_cpuid_table *src)
{
	tdc_cpuid_table_init(dst);
	if (!src->n)
		return 0;
	if (!(dst->e = malloc(src->n * sizeof(*dst->e))))
		return tdc_err(TDC_ERR_ALLOC, "CPUID table copy");
	memcpy(dst->e, src->e, src->n * sizeof(*dst->e));
	dst->n = dst->cap = src->n;
	dst->sorted = src->sorted;
	return 0;
}

enum tdc_cpuid_range tdc_cpuid_range_of(uint32_t leaf)
{
	switch (leaf >> 28) {
	case 0x0:
		return TDC_RANGE_BASIC;
	case 0x4:
		return TDC_RANGE_HYPERVISOR;
	case 0x8:
		return TDC_RANGE_EXTENDED;
	case 0xc:
		return TDC_RANGE_CENTAUR;
	default:
		return TDC_RANGE_OTHER;
	}
}

const char *tdc_cpuid_range_name(enum tdc_cpuid_range r)
{
	static const char *const names[] = {
		[TDC_RANGE_BASIC] = "basic",
		[TDC_RANGE_HYPERVISOR] = "hypervisor",
		[TDC_RANGE_EXTENDED] = "extended",
		[TDC_RANGE_CENTAUR] = "centaur",
		[TDC_RANGE_OTHER] = "other",
	};
	return r <= TDC_RANGE_OTHER ? names[r] : "other";
}

const char *tdc_reg_name(enum tdc_reg r)
{
	static const char *const names[] = { "EAX", "EBX", "ECX", "EDX" };

	return (unsigned)r < TDC_NREGS ? names[r] : "?";
}

int tdc_reg_parse(const char *s, enum tdc_reg *r)
{
	for (int i = 0; i < TDC_NREGS; i++) {
		if (strcasecmp(s, tdc_reg_name(i)) == 0) {
			*r = i;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_FORMAT, "unknown register '%s' (expected EAX, EBX, ECX or EDX)", s);
}
