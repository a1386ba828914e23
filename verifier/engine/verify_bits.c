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

/* The rules of engine.h, as mask arithmetic over one register. */
static void decide(struct tdc_reg_result *rr)
{
	uint32_t s = rr->seen, rk = rr->req_known, r = rr->requested;
	uint32_t pinned = rr->cls[TDC_C_DYNAMIC] | rr->cls[TDC_C_VE];
	uint32_t k = rr->exp_known & ~rr->cls[TDC_C_VE];
	uint32_t rest;

	memset(rr->verdict, 0, sizeof(rr->verdict));
	/* 1. A known prediction the guest contradicts. */
	rr->verdict[TDC_V_MISMATCH] = (s ^ rr->expected) & k;
	rest = ~rr->verdict[TDC_V_MISMATCH];
	/* 2. Dynamic and #VE bits keep their own verdict. */
	rr->verdict[TDC_V_UNTRUSTED] = rest & rr->cls[TDC_C_VE];
	rr->verdict[TDC_V_DYNAMIC] = rest & rr->cls[TDC_C_DYNAMIC] & ~rr->cls[TDC_C_VE];
	rest &= ~pinned;
	/*
	 * kvm-style "as set" bits with a request but no prediction still have
	 * one expectation: the requested value.
	 */
	rr->verdict[TDC_V_MISMATCH] |= rest & rr->cls[TDC_C_AS_SET] & rk & ~k & (s ^ r);
	rest &= ~rr->verdict[TDC_V_MISMATCH];
	/*
	 * 3. The host's request, where known.  forced/unsupported say the
	 * model explains the difference, so they need a prediction or a class
	 * whose value the model owns outright; other unpredicted differences
	 * fall through to their class (native, calculated).
	 */
	uint32_t explained = k | rr->cls[TDC_C_FIXED0] | rr->cls[TDC_C_FIXED1] |
			     rr->cls[TDC_C_CONFIGURABLE] | rr->cls[TDC_C_AS_SET];
	rr->verdict[TDC_V_CONFIRMED] = rest & rk & ~(s ^ r);
	rr->verdict[TDC_V_FORCED] = rest & rk & s & ~r & explained;
	rr->verdict[TDC_V_UNSUPPORTED] = rest & rk & ~s & r & explained;
	rest &= ~(rr->verdict[TDC_V_CONFIRMED] | rr->verdict[TDC_V_FORCED] |
		  rr->verdict[TDC_V_UNSUPPORTED]);
	/* 4. The class decides. */
	for (unsigned c = 0; c < TDC_C__COUNT; c++) {
		uint32_t m = rest & rr->cls[c];

		rr->verdict[class_default[c].predicted] |= m & k;
		rr->verdict[class_default[c].unpredicted] |= m & ~k;
	}
}

static int push_reg(struct tdc_check_result *res, const struct tdc_reg_result *rr)
{
	if (res->nregs == res->capregs) {
		size_t ncap = res->capregs ? res->capregs * 2 : 512;
		struct tdc_reg_result *p;

		if (ncap > (size_t)TDC_CPUID_MAX_ENTRIES * TDC_NREGS * 4)
			return tdc_err(TDC_ERR_TOO_LARGE, "verdict: too many registers");
		if (!(p = realloc(res->regs, ncap * sizeof(*p))))
			return tdc_err(TDC_ERR_ALLOC, "verdict table");
		res->regs = p;
		res->capregs = ncap;
	}
	res->regs[res->nregs++] = *rr;
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

/*
 * keys->e holds three sorted runs [0,a) [a,a+b) [a+b,n): merge them into
 * order (stable, duplicates kept for the caller).  Sets keys->sorted.
 */
static int merge_runs(struct tdc_cpuid_table *keys, size_t a, size_t b)
{
	size_t run[4] = { 0, a, a + b, keys->n }, pos[3] = { 0, a, a + b };
	struct tdc_cpuid_entry *tmp = malloc(keys->n * sizeof(*tmp) + 1);

	if (!tmp)
		return tdc_err(TDC_ERR_ALLOC, "verdict keys");
	for (size_t i = a + b + 1; i < keys->n; i++)
		if (tdc_cpuid_entry_cmp(&keys->e[i - 1], &keys->e[i]) > 0)
			goto out; /* the prediction run is not sorted: leave it to qsort */
	for (size_t o = 0; o < keys->n; o++) {
		int best = -1;

		for (int k = 0; k < 3; k++)
			if (pos[k] < run[k + 1] &&
			    (best < 0 || tdc_cpuid_entry_cmp(&keys->e[pos[k]], &keys->e[pos[best]]) < 0))
				best = k;
		tmp[o] = keys->e[pos[best]++];
	}
	memcpy(keys->e, tmp, keys->n * sizeof(*tmp));
	keys->sorted = true;
out:
	free(tmp);
	return 0;
}

/*
 * The union of (leaf, subleaf) keys of the guest table, the request and the
 * model, sorted and without duplicates (the INDEXED flag merged), so later
 * lookups bisect.  All three inputs are normally sorted already (claims are
 * decoded in order, the prediction is sorted): then this is one merge; any
 * unsorted input falls back to a sort.
 */
static int collect_keys(const struct tdc_cpuid_table *guest, const struct tdc_requested *req,
			const struct tdc_prediction *pred, struct tdc_cpuid_table *keys)
{
	size_t out = 0;
	int r = 0;

	tdc_cpuid_table_init(keys);
	for (size_t i = 0; i < guest->n && !r; i++)
		r = append_key(keys, guest->e[i].leaf, guest->e[i].subleaf, guest->e[i].flags);
	for (size_t i = 0; i < req->table.n && !r; i++)
		r = append_key(keys, req->table.e[i].leaf, req->table.e[i].subleaf,
			       req->table.e[i].flags);
	for (size_t i = 0; i < pred->n && !r; i++)
		if (leaf_wanted(&pred->leaves[i]))
			r = append_key(keys, pred->leaves[i].leaf, pred->leaves[i].subleaf,
				       pred->leaves[i].indexed ? TDC_CPUID_F_INDEXED : 0);
	if (r)
		return r;
	keys->sorted = false;
	if (guest->sorted && req->table.sorted &&
	    (r = merge_runs(keys, guest->n, req->table.n)) != 0)
		return r;
	if (!keys->sorted)
		tdc_cpuid_table_sort(keys);
	for (size_t i = 0; i < keys->n; i++) {
		if (out && !tdc_cpuid_entry_cmp(&keys->e[out - 1], &keys->e[i])) {
			keys->e[out - 1].flags |= keys->e[i].flags & TDC_CPUID_F_INDEXED;
			continue;
		}
		keys->e[out++] = keys->e[i];
	}
	keys->n = out;
	return 0;
}

/* The request's entry for one (leaf, subleaf): looked up once per leaf. */
struct req_view {
	const struct tdc_cpuid_entry *value, *known;
};

static struct req_view request_of(const struct tdc_requested *req, uint32_t leaf,
				  uint32_t subleaf)
{
	struct req_view v = { tdc_cpuid_table_find(&req->table, leaf, subleaf), NULL };

	if (v.value)
		v.known = tdc_cpuid_table_find(&req->known, leaf, subleaf);
	return v;
}

static void fill_request(struct tdc_reg_result *rr, struct req_view v, unsigned reg)
{
	rr->requested_has = v.value != NULL;
	rr->requested = v.value ? v.value->regs[reg] : 0;
	rr->req_known = v.value ? (v.known ? v.known->regs[reg] : ~0u) : 0;
}

/* CPUID answered from the guest's own table (absent: zeros), to re-enumerate it. */
static int guest_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(ctx, leaf, subleaf);

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
	tdc_cpuid_table_init(reach);
	if (!guest->n || tdc_cpuid_enumerate(guest_fn, (void *)guest, reach, NULL) != 0) {
		tdc_cpuid_table_free(reach);
		return false;
	}
	return true;
}

int tdc_engine_table(const struct tdc_requested *req, const struct tdc_prediction *pred,
		     const struct tdc_cpuid_table *guest, struct tdc_check_result *res)
{
	struct tdc_cpuid_table keys, reach;
	struct tdc_pred_leaf tmp;
	bool have_reach = reachable_keys(guest, &reach);
	int r = 0;

	if ((r = collect_keys(guest, req, pred, &keys)) != 0)
		goto out;
	for (size_t i = 0; i < keys.n; i++) {
		const struct tdc_cpuid_entry *k = &keys.e[i];
		const struct tdc_cpuid_entry *ge = tdc_cpuid_table_find(guest, k->leaf, k->subleaf);
		const struct tdc_pred_leaf *pl;
		struct req_view rv;

		if (!ge && have_reach && !tdc_cpuid_table_find(&reach, k->leaf, k->subleaf))
			continue;
		pl = tdc_prediction_lookup(pred, k->leaf, k->subleaf, &tmp);
		rv = request_of(req, k->leaf, k->subleaf);

		for (unsigned reg = 0; reg < TDC_NREGS; reg++) {
			struct tdc_reg_result rr = {
				.leaf = k->leaf, .subleaf = k->subleaf, .reg = reg,
				.indexed = (k->flags & TDC_CPUID_F_INDEXED) || pl->indexed,
				.guest_has = ge != NULL, .seen = ge ? ge->regs[reg] : 0,
				.expected = pl->r[reg].value, .exp_known = pl->r[reg].known,
				.cpu = -1,
			};

			fill_request(&rr, rv, reg);
			fill_classes(&rr, &pl->r[reg], pl->vmm);
			decide(&rr);
			if ((r = push_reg(res, &rr)) != 0)
				goto out;
		}
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
	struct tdc_pred_leaf tmp;
	int r;

	for (size_t i = 0; i < delta->n; i++) {
		const struct tdc_cpuid_entry *de = &delta->e[i];
		const struct tdc_cpuid_entry *ce = tdc_cpuid_table_find(common, de->leaf, de->subleaf);
		const struct tdc_pred_leaf *pl = tdc_prediction_lookup(pred, de->leaf, de->subleaf, &tmp);
		bool absent = de->flags & TDC_CPUID_F_ABSENT;

		for (unsigned reg = 0; reg < TDC_NREGS; reg++) {
			uint32_t seen = absent ? 0 : de->regs[reg];
			uint32_t diff = seen ^ (ce ? ce->regs[reg] : 0);
			struct tdc_reg_result rr = {
				.leaf = de->leaf, .subleaf = de->subleaf, .reg = reg,
				.indexed = (de->flags & TDC_CPUID_F_INDEXED) || pl->indexed,
				.guest_has = !absent, .seen = seen,
				.expected = pl->r[reg].value, .exp_known = pl->r[reg].known,
				.cpu = (int32_t)cpu,
			};

			if (!diff && !absent)
				continue;
			fill_request(&rr, request_of(req, de->leaf, de->subleaf), reg);
			fill_classes(&rr, &pl->r[reg], pl->vmm);
			decide(&rr);
			/* Disagreement outside per-vCPU fields is a mismatch on its own. */
			uint32_t bad = diff & ~(rr.cls[TDC_C_DYNAMIC] | rr.cls[TDC_C_VE]);
			for (unsigned v = 0; v < TDC_V__COUNT; v++)
				rr.verdict[v] &= ~bad;
			rr.verdict[TDC_V_MISMATCH] |= bad;
			if ((r = push_reg(res, &rr)) != 0)
				return r;
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
