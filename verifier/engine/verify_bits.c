// SPDX-License-Identifier: Apache-2.0
/*
 * The per-bit CPUID engine: guest-observed table + request + model
 * prediction -> one verdict per bit, kept as masks per register.
 * The rules are the numbered list in engine.h; DESIGN.md has the table.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "model.h"
#include "tdcpuid/error.h"
#include "verify_bits.h"

/*
 * Verdict for a bit whose value the model explains but that the host did
 * not request.  Where the host's input is absent, the TDX module and KVM
 * both act as if it were 0 (CPUID_CONFIG / an unset entry), so a
 * fixed1 bit the guest sees is "forced" and the others are confirmed.
 * Bits the model cannot predict fall back to what owns them.
 */
static const struct {
	enum tdc_verdict predicted;   /* explained by a known prediction */
	enum tdc_verdict unpredicted; /* model could not predict the value */
} class_default[TDC_C__COUNT] = {
	[TDC_C_FIXED0] = { TDC_V_CONFIRMED, TDC_V_NATIVE },
	[TDC_C_FIXED1] = { TDC_V_FORCED, TDC_V_NATIVE },
	[TDC_C_CONFIGURABLE] = { TDC_V_CONFIRMED, TDC_V_NATIVE },
	[TDC_C_NATIVE] = { TDC_V_NATIVE, TDC_V_NATIVE },
	[TDC_C_XFAM] = { TDC_V_CALCULATED, TDC_V_CALCULATED },
	[TDC_C_ATTRIBUTES] = { TDC_V_CALCULATED, TDC_V_CALCULATED },
	[TDC_C_CALCULATED] = { TDC_V_CALCULATED, TDC_V_CALCULATED },
	[TDC_C_DYNAMIC] = { TDC_V_DYNAMIC, TDC_V_DYNAMIC },
	[TDC_C_VE] = { TDC_V_UNTRUSTED, TDC_V_UNTRUSTED },
	[TDC_C_AS_SET] = { TDC_V_CONFIRMED, TDC_V_NATIVE },
};

static void fill_classes(struct tdc_reg_result *rr, const struct tdc_pred_reg *pr,
			 bool vmm)
{
	/* A VMM-answered leaf is untrusted whatever its bits look like. */
	if (vmm) {
		memset(rr->cls, 0, sizeof(rr->cls));
		rr->cls[TDC_C_VE] = ~0u;
	} else {
		memcpy(rr->cls, pr->cls_mask, sizeof(rr->cls));
	}
	rr->source = NULL;
	for (unsigned b = 0; b < 32 && !rr->source; b++)
		rr->source = pr->src[b];
}

/*
 * The rules of engine.h, as mask arithmetic over one register (its inputs
 * read into locals first: the verdict stores cannot alias them then).
 */
static void decide(struct tdc_reg_result *rr)
{
	uint32_t s = rr->seen, rk = rr->req_known, r = rr->requested;
	uint32_t ve = rr->cls[TDC_C_VE], dyn = rr->cls[TDC_C_DYNAMIC];
	uint32_t as_set = rr->cls[TDC_C_AS_SET];
	uint32_t k = rr->exp_known & ~ve;
	uint32_t mismatch, rest, confirmed, forced, unsupported;

	/* 1. A known prediction the guest contradicts. */
	mismatch = (s ^ rr->expected) & k;
	rest = ~mismatch;
	/* 2. Dynamic and #VE bits keep their own verdict. */
	memset(rr->verdict, 0, sizeof(rr->verdict));
	rr->verdict[TDC_V_UNTRUSTED] = rest & ve;
	rr->verdict[TDC_V_DYNAMIC] = rest & dyn & ~ve;
	rest &= ~(dyn | ve);
	/*
	 * kvm-style "as set" bits with a request but no prediction still have
	 * one expectation: the requested value.
	 */
	mismatch |= rest & as_set & rk & ~k & (s ^ r);
	rest &= ~mismatch;
	rr->verdict[TDC_V_MISMATCH] = mismatch;
	/*
	 * 3. The host's request, where known.  forced/unsupported say the
	 * model explains the difference, so they need a prediction or a class
	 * whose value the model owns outright; other unpredicted differences
	 * fall through to their class (native, calculated).
	 */
	uint32_t explained = k | rr->cls[TDC_C_FIXED0] | rr->cls[TDC_C_FIXED1] |
			     rr->cls[TDC_C_CONFIGURABLE] | as_set;
	confirmed = rest & rk & ~(s ^ r);
	forced = rest & rk & s & ~r & explained;
	unsupported = rest & rk & ~s & r & explained;
	rr->verdict[TDC_V_CONFIRMED] = confirmed;
	rr->verdict[TDC_V_FORCED] = forced;
	rr->verdict[TDC_V_UNSUPPORTED] = unsupported;
	rest &= ~(confirmed | forced | unsupported);
	/* 4. The class decides (most registers have nothing left here). */
	if (!rest)
		return;
	for (unsigned c = 0; c < TDC_C__COUNT; c++) {
		uint32_t m = rest & rr->cls[c];

		if (!m)
			continue;
		rr->verdict[class_default[c].predicted] |= m & k;
		rr->verdict[class_default[c].unpredicted] |= m & ~k;
	}
}

/* Room for @n more registers at res->regs[res->nregs], filled in place. */
static int reserve_regs(struct tdc_check_result *res, size_t n)
{
	size_t ncap = res->capregs ? res->capregs * 2 : 512;
	struct tdc_reg_result *p;

	if (res->nregs + n <= res->capregs)
		return 0;
	if (ncap > (size_t)TDC_CPUID_MAX_ENTRIES * TDC_NREGS * 4)
		return tdc_err(TDC_ERR_TOO_LARGE, "verdict: too many registers");
	if (!(p = realloc(res->regs, ncap * sizeof(*p))))
		return tdc_err(TDC_ERR_ALLOC, "verdict table");
	res->regs = p;
	res->capregs = ncap;
	return 0;
}

/*
 * Does this leaf belong in the report?  Everything the guest or the host
 * names does; of the model's own leaves, those that are not plain #VE zeros.
 */
static bool leaf_wanted(const struct tdc_pred_leaf *pl)
{
	return !pl->ve;
}

static int append_key(struct tdc_cpuid_table *keys, uint32_t leaf, uint32_t subleaf,
		      uint32_t flags)
{
	struct tdc_cpuid_entry e = { .leaf = leaf, .subleaf = subleaf, .flags = flags };

	if (keys->n == keys->cap) {
		size_t ncap = keys->cap ? keys->cap * 2 : 256;
		void *p;

		if (ncap > 3 * (size_t)TDC_CPUID_MAX_ENTRIES)
			return tdc_err(TDC_ERR_TOO_LARGE, "verdict: too many CPUID entries");
		if (!(p = realloc(keys->e, ncap * sizeof(e))))
			return tdc_err(TDC_ERR_ALLOC, "verdict keys");
		keys->e = p;
		keys->cap = ncap;
	}
	keys->e[keys->n++] = e;
	return 0;
}

/* (leaf, subleaf) as one number: the tables' order is its order. */
static inline uint64_t key_of(uint32_t leaf, uint32_t subleaf)
{
	return (uint64_t)leaf << 32 | subleaf;
}

/*
 * One of the three sources of keys, read in order: a table's entries, or
 * the prediction's reported leaves (leaf_wanted).  The head is the next
 * key, UINT64_MAX at the end.
 */
struct key_src {
	const struct tdc_cpuid_table *t;
	const struct tdc_prediction *p;
	size_t i;
};

static inline uint64_t src_head(struct key_src *s, bool *indexed)
{
	if (s->t) {
		if (s->i >= s->t->n)
			return UINT64_MAX;
		*indexed = s->t->e[s->i].flags & TDC_CPUID_F_INDEXED;
		return key_of(s->t->e[s->i].leaf, s->t->e[s->i].subleaf);
	}
	while (s->i < s->p->n && !leaf_wanted(&s->p->leaves[s->i]))
		s->i++;
	if (s->i >= s->p->n)
		return UINT64_MAX;
	*indexed = s->p->leaves[s->i].indexed;
	return key_of(s->p->leaves[s->i].leaf, s->p->leaves[s->i].subleaf);
}

/* Every key read (a real key UINT64_MAX stops the merge short of this). */
static bool src_done(struct key_src *s)
{
	bool idx;

	return src_head(s, &idx) == UINT64_MAX &&
	       s->i >= (s->t ? s->t->n : s->p->n);
}

static bool pred_sorted(const struct tdc_prediction *p)
{
	for (size_t i = 1; i < p->n; i++)
		if (key_of(p->leaves[i - 1].leaf, p->leaves[i - 1].subleaf) >
		    key_of(p->leaves[i].leaf, p->leaves[i].subleaf))
			return false;
	return true;
}

/*
 * The sorted sources merged in one walk: each step takes the smallest
 * head, drains it from every source that has it (duplicates in one source
 * too) and ORs their INDEXED flags.  A real key (0xffffffff, 0xffffffff)
 * reads as the end: the walk is then incomplete, and the caller sorts.
 */
static int merge_keys(struct key_src src[3], struct tdc_cpuid_table *keys, bool *complete)
{
	uint64_t head[3];
	bool idx[3];
	int r;

	*complete = false;
	for (int j = 0; j < 3; j++)
		head[j] = src_head(&src[j], &idx[j]);
	for (;;) {
		uint64_t k = head[0] < head[1] ? head[0] : head[1];
		uint32_t flags = 0;

		k = head[2] < k ? head[2] : k;
		if (k == UINT64_MAX)
			break;
		for (int j = 0; j < 3; j++)
			while (head[j] == k) {
				flags |= idx[j] ? TDC_CPUID_F_INDEXED : 0;
				src[j].i++;
				head[j] = src_head(&src[j], &idx[j]);
			}
		if ((r = append_key(keys, (uint32_t)(k >> 32), (uint32_t)k, flags)) != 0)
			return r;
	}
	*complete = src_done(&src[0]) && src_done(&src[1]) && src_done(&src[2]);
	return 0;
}

/* Any order: everything appended, sorted, duplicates folded. */
static int sort_keys(const struct tdc_cpuid_table *guest, const struct tdc_requested *req,
		     const struct tdc_prediction *pred, struct tdc_cpuid_table *keys)
{
	const struct tdc_cpuid_table *t[2] = { guest, &req->table };
	size_t out = 0;
	int r = 0;

	for (int j = 0; j < 2; j++)
		for (size_t i = 0; i < t[j]->n && !r; i++)
			r = append_key(keys, t[j]->e[i].leaf, t[j]->e[i].subleaf,
				       t[j]->e[i].flags & TDC_CPUID_F_INDEXED);
	for (size_t i = 0; i < pred->n && !r; i++)
		if (leaf_wanted(&pred->leaves[i]))
			r = append_key(keys, pred->leaves[i].leaf, pred->leaves[i].subleaf,
				       pred->leaves[i].indexed ? TDC_CPUID_F_INDEXED : 0);
	if (r)
		return r;
	tdc_cpuid_table_sort(keys);
	for (size_t i = 0; i < keys->n; i++) {
		if (out && !tdc_cpuid_entry_cmp(&keys->e[out - 1], &keys->e[i])) {
			keys->e[out - 1].flags |= keys->e[i].flags;
			continue;
		}
		keys->e[out++] = keys->e[i];
	}
	keys->n = out;
	return 0;
}

/*
 * The union of (leaf, subleaf) keys of the guest table, the request and the
 * model, sorted and without duplicates (the INDEXED flag merged), so the
 * walk below visits each once, in order.  All three inputs are normally
 * sorted already (claims are decoded in order, the prediction is sorted):
 * then this is one merge; any unsorted input falls back to a sort.
 */
static int collect_keys(const struct tdc_cpuid_table *guest, const struct tdc_requested *req,
			const struct tdc_prediction *pred, struct tdc_cpuid_table *keys)
{
	struct key_src src[3] = { { .t = guest }, { .t = &req->table }, { .p = pred } };
	bool complete = false;
	int r;

	tdc_cpuid_table_init(keys);
	if (guest->sorted && req->table.sorted && pred_sorted(pred) &&
	    (r = merge_keys(src, keys, &complete)) != 0)
		return r;
	if (complete)
		return 0;
	keys->n = 0;
	return sort_keys(guest, req, pred, keys);
}

/* The request's value and known-bits tables, walked in key order. */
struct req_walk {
	struct tdc_cpuid_cursor value, known;
};

/* The request's entry for one (leaf, subleaf): looked up once per leaf. */
struct req_view {
	const struct tdc_cpuid_entry *value, *known;
};

static void req_walk_init(struct req_walk *w, const struct tdc_requested *req)
{
	tdc_cpuid_cursor_init(&w->value, &req->table);
	tdc_cpuid_cursor_init(&w->known, &req->known);
}

static struct req_view request_of(struct req_walk *w, uint32_t leaf, uint32_t subleaf)
{
	struct req_view v = { tdc_cpuid_cursor_find(&w->value, leaf, subleaf), NULL };

	if (v.value)
		v.known = tdc_cpuid_cursor_find(&w->known, leaf, subleaf);
	return v;
}

static void fill_request(struct tdc_reg_result *rr, struct req_view v, unsigned reg)
{
	rr->requested_has = v.value != NULL;
	rr->requested = v.value ? v.value->regs[reg] : 0;
	rr->req_known = v.value ? (v.known ? v.known->regs[reg] : ~0u) : 0;
}

/* CPUID answered from the guest's own table (absent: zeros), to re-enumerate
 * it; the enumeration asks in ascending order, mostly. */
static int guest_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_cursor_find(ctx, leaf, subleaf);

	for (int i = 0; i < TDC_NREGS; i++)
		regs[i] = e ? e->regs[i] : 0;
	return 0;
}

/*
 * The (leaf, subleaf) keys the agent's enumeration (lib/leafrules.c) reaches
 * on the guest's own answers: it reads no leaf above the guest's maximum and
 * no subleaf past the one that ends its leaf (leaf 4: the first null cache
 * type; 7: EAX of subleaf 0; ...).  A key outside this set that the guest
 * lacks is not "absent": nobody read it, in the agent or in any guest
 * software following the same rules.  The TDX module does answer there
 * (e.g. CPUID(4, n).EBX[11:0] is the platform's line size on every n <= 3,
 * cache or not, so a request without leaf 4 made 18 "leaf absent"
 * mismatches on 4.1-4.3 behind a 4.0 of type 0).  Where the enumeration
 * diverges from the model the entry that ends it (leaf 0, the terminating
 * subleaf) is in the table and judged.  false: judge every key (fail closed).
 */
static bool reachable_keys(const struct tdc_cpuid_table *guest, struct tdc_cpuid_table *reach)
{
	struct tdc_cpuid_cursor gc;

	tdc_cpuid_table_init(reach);
	tdc_cpuid_cursor_init(&gc, guest);
	if (!guest->n || tdc_cpuid_enumerate(guest_fn, &gc, reach, NULL) != 0) {
		tdc_cpuid_table_free(reach);
		return false;
	}
	return true;
}

/* The four registers of one key: their inputs, then the rules of decide(). */
static void judge_leaf(struct tdc_reg_result *out, const struct tdc_cpuid_entry *k,
		       const struct tdc_cpuid_entry *ge, const struct tdc_pred_leaf *pl,
		       struct req_view rv)
{
	for (unsigned reg = 0; reg < TDC_NREGS; reg++) {
		struct tdc_reg_result *rr = &out[reg];

		/* Every field written once (fill_* and decide() do the rest). */
		rr->leaf = k->leaf;
		rr->subleaf = k->subleaf;
		rr->reg = (uint8_t)reg;
		rr->indexed = (k->flags & TDC_CPUID_F_INDEXED) || pl->indexed;
		rr->guest_has = ge != NULL;
		rr->seen = ge ? ge->regs[reg] : 0;
		rr->expected = pl->r[reg].value;
		rr->exp_known = pl->r[reg].known;
		rr->policy_fail = 0;
		rr->cpu = -1;
		fill_request(rr, rv, reg);
		fill_classes(rr, &pl->r[reg], pl->vmm);
		decide(rr);
	}
}

/*
 * One walk over the sorted keys; every table and the prediction are read
 * through a cursor that moves forward with it (no bisection per key).
 */
int tdc_engine_table(const struct tdc_requested *req, const struct tdc_prediction *pred,
		     const struct tdc_cpuid_table *guest, struct tdc_check_result *res)
{
	struct tdc_cpuid_table keys, reach;
	struct tdc_cpuid_cursor gc, rc;
	struct tdc_pred_cursor pc;
	struct req_walk rw;
	struct tdc_pred_leaf tmp;
	bool have_reach = reachable_keys(guest, &reach);
	int r = 0;

	if ((r = collect_keys(guest, req, pred, &keys)) != 0)
		goto out;
	tdc_cpuid_cursor_init(&gc, guest);
	tdc_cpuid_cursor_init(&rc, &reach);
	tdc_pred_cursor_init(&pc, pred);
	req_walk_init(&rw, req);
	for (size_t i = 0; i < keys.n; i++) {
		const struct tdc_cpuid_entry *k = &keys.e[i];
		const struct tdc_cpuid_entry *ge = tdc_cpuid_cursor_find(&gc, k->leaf, k->subleaf);
		const struct tdc_pred_leaf *pl;

		if (!ge && have_reach && !tdc_cpuid_cursor_find(&rc, k->leaf, k->subleaf))
			continue;
		if ((r = reserve_regs(res, TDC_NREGS)) != 0)
			goto out;
		pl = tdc_pred_cursor_lookup(&pc, k->leaf, k->subleaf, &tmp);
		judge_leaf(&res->regs[res->nregs], k, ge, pl, request_of(&rw, k->leaf, k->subleaf));
		res->nregs += TDC_NREGS;
	}
out:
	tdc_cpuid_table_free(&keys);
	if (have_reach)
		tdc_cpuid_table_free(&reach);
	return r;
}

/*
 * One vCPU's entries that differ from the common table.  Bits owned by a
 * per-vCPU rule (dynamic) or by the VMM may differ; any other difference
 * means the vCPUs disagree, which no model explains.
 */
int tdc_engine_cpu_delta(const struct tdc_prediction *pred, const struct tdc_requested *req,
			 const struct tdc_cpuid_table *common, const struct tdc_cpuid_table *delta,
			 uint32_t cpu, struct tdc_check_result *res)
{
	struct tdc_cpuid_cursor cc;
	struct tdc_pred_cursor pc;
	struct req_walk rw;
	struct tdc_pred_leaf tmp;
	int r;

	tdc_cpuid_cursor_init(&cc, common);
	tdc_pred_cursor_init(&pc, pred);
	req_walk_init(&rw, req);
	for (size_t i = 0; i < delta->n; i++) {
		const struct tdc_cpuid_entry *de = &delta->e[i];
		const struct tdc_cpuid_entry *ce = tdc_cpuid_cursor_find(&cc, de->leaf, de->subleaf);
		const struct tdc_pred_leaf *pl = tdc_pred_cursor_lookup(&pc, de->leaf, de->subleaf,
									&tmp);
		bool absent = de->flags & TDC_CPUID_F_ABSENT;
		struct req_view rv = { NULL, NULL };
		bool have_rv = false;

		for (unsigned reg = 0; reg < TDC_NREGS; reg++) {
			uint32_t seen = absent ? 0 : de->regs[reg];
			uint32_t diff = seen ^ (ce ? ce->regs[reg] : 0);
			struct tdc_reg_result *rr;

			if (!diff && !absent)
				continue;
			if ((r = reserve_regs(res, 1)) != 0)
				return r;
			rr = &res->regs[res->nregs];
			*rr = (struct tdc_reg_result){
				.leaf = de->leaf, .subleaf = de->subleaf, .reg = reg,
				.indexed = (de->flags & TDC_CPUID_F_INDEXED) || pl->indexed,
				.guest_has = !absent, .seen = seen,
				.expected = pl->r[reg].value, .exp_known = pl->r[reg].known,
				.cpu = (int32_t)cpu,
			};
			if (!have_rv) {
				rv = request_of(&rw, de->leaf, de->subleaf);
				have_rv = true;
			}
			fill_request(rr, rv, reg);
			fill_classes(rr, &pl->r[reg], pl->vmm);
			decide(rr);
			/* Disagreement outside per-vCPU fields is a mismatch on its own. */
			uint32_t bad = diff & ~(rr->cls[TDC_C_DYNAMIC] | rr->cls[TDC_C_VE]);
			for (unsigned v = 0; v < TDC_V__COUNT; v++)
				rr->verdict[v] &= ~bad;
			rr->verdict[TDC_V_MISMATCH] |= bad;
			res->nregs++;
		}
	}
	return 0;
}

void tdc_engine_count(struct tdc_check_result *res)
{
	memset(res->counts, 0, sizeof(res->counts));
	for (size_t i = 0; i < res->nregs; i++)
		for (unsigned v = 0; v < TDC_V__COUNT; v++)
			if (res->regs[i].verdict[v])
				res->counts[v] += tdc_popcount32(res->regs[i].verdict[v]);
}
