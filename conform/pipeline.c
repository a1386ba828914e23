// SPDX-License-Identifier: Apache-2.0
/*
 * The part of the conformance pipeline every backend shares: the run record,
 * the clock, and which (leaf, subleaf) the guest executes.  It calls no
 * backend (the backends call it; --cpu host lives with KVM in kvm.c).
 *
 * The guest cannot run the leaf rules itself (it is a few hundred bytes of
 * freestanding code), so the host runs the probe's own enumeration
 * (tdc_cpuid_enumerate, lib/leafrules.c) over the results the guest already
 * returned, collects every (leaf, subleaf) the rules asked for that the
 * guest has not executed yet, and has the guest execute those: a fixed
 * point, reached when the rules ask for nothing new.  The result is the
 * exact set the agent's probe would enumerate inside that guest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform.h"
#include "tdcpuid/error.h"

void tdc_conform_run_init(struct tdc_conform_run *run)
{
	memset(run, 0, sizeof(*run));
	tdc_requested_init(&run->requested);
	tdc_buf_init(&run->requested_doc);
	tdc_buf_init(&run->evidence);
}

void tdc_conform_run_free(struct tdc_conform_run *run)
{
	for (size_t i = 0; run->observed && i < run->ncpus; i++)
		tdc_cpuid_table_free(&run->observed[i]);
	free(run->observed);
	tdc_requested_free(&run->requested);
	tdc_buf_free(&run->requested_doc);
	tdc_buf_free(&run->evidence);
	tdc_conform_run_init(run);
}

int tdc_conform_run_alloc(struct tdc_conform_run *run, size_t ncpus)
{
	if (ncpus == 0 || ncpus > TDC_CONFORM_MAX_SMP)
		return tdc_err(TDC_ERR_RANGE, "%zu vCPUs: must be 1..%d", ncpus,
			       TDC_CONFORM_MAX_SMP);
	if (!(run->observed = calloc(ncpus, sizeof(*run->observed))))
		return tdc_err(TDC_ERR_ALLOC, "results of %zu vCPUs", ncpus);
	run->ncpus = ncpus;
	for (size_t i = 0; i < ncpus; i++)
		tdc_cpuid_table_init(&run->observed[i]);
	return 0;
}

/* Subleaves fetched past a missing one (see lookup_fn). */
#define SUBLEAF_READAHEAD 8

/* Monotonic milliseconds: every backend times its guest part with it. */
double tdc_conform_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static bool have_entry(const struct tdc_cpuid_table *t, uint32_t leaf, uint32_t subleaf)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf && t->e[i].subleaf == subleaf)
			return true;
	return false;
}

/* A tdc_cpuid_fn over one vCPU's results so far; notes what is missing. */
struct lookup_ctx {
	const struct tdc_cpuid_table *have;
	struct tdc_cpuid_table *missing;
	int err;
};

static int lookup_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	struct lookup_ctx *lc = ctx;
	const struct tdc_cpuid_entry *e = NULL;
	struct tdc_cpuid_entry want = { .leaf = leaf, .subleaf = subleaf };

	for (size_t i = 0; i < lc->have->n; i++) {
		if (lc->have->e[i].leaf == leaf && lc->have->e[i].subleaf == subleaf) {
			e = &lc->have->e[i];
			break;
		}
	}
	if (e) {
		memcpy(regs, e->regs, sizeof(e->regs));
		return 0;
	}
	/* Zeros for now: they end the enumeration of this leaf, and the next
	 * round continues from the real value. */
	memset(regs, 0, TDC_NREGS * sizeof(regs[0]));
	if (!tdc_leaf_is_indexed(leaf))
		return tdc_cpuid_table_set(lc->missing, &want);
	/*
	 * Rules that walk subleaves until a terminator (4, 0xB, 0x1F, ...) learn
	 * one subleaf per guest run; a short read-ahead saves those runs (a QEMU
	 * round trip costs seconds under emulation).  Extra subleaves are never
	 * reported: the final table holds only what the rules enumerate.
	 */
	want.flags = TDC_CPUID_F_INDEXED;
	for (uint32_t s = subleaf; s < subleaf + SUBLEAF_READAHEAD && s >= subleaf; s++) {
		int r;

		want.subleaf = s;
		if (have_entry(lc->have, leaf, s))
			continue;
		if ((r = tdc_cpuid_table_set(lc->missing, &want)) != 0)
			return r;
	}
	return 0;
}

static int seed_list(const struct tdc_cpuid_table *seed, struct tdc_cpuid_table *list)
{
	static const uint32_t bases[] = { 0x00000000, 0x40000000, 0x80000000 };
	int r;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		struct tdc_cpuid_entry e = { .leaf = bases[i] };

		if ((r = tdc_cpuid_table_set(list, &e)) != 0)
			return r;
	}
	for (size_t i = 0; seed && i < seed->n; i++) {
		struct tdc_cpuid_entry e = { .leaf = seed->e[i].leaf,
					     .subleaf = seed->e[i].subleaf,
					     .flags = seed->e[i].flags & TDC_CPUID_F_INDEXED };

		if ((r = tdc_cpuid_table_set(list, &e)) != 0)
			return r;
	}
	return 0;
}

/* The rules' enumeration of one vCPU plus the seed's entries, from @have. */
static int final_table(const struct tdc_cpuid_table *have, const struct tdc_cpuid_table *seed,
		       struct tdc_cpuid_table *out)
{
	struct tdc_cpuid_table enumerated, missing;
	struct lookup_ctx lc = { .have = have, .missing = &missing };
	int r;

	tdc_cpuid_table_init(&enumerated);
	tdc_cpuid_table_init(&missing);
	if ((r = tdc_cpuid_enumerate(lookup_fn, &lc, &enumerated, NULL)) != 0)
		goto out;
	for (size_t i = 0; seed && i < seed->n; i++) {
		const struct tdc_cpuid_entry *e = NULL;

		for (size_t k = 0; k < have->n && !e; k++)
			if (have->e[k].leaf == seed->e[i].leaf &&
			    have->e[k].subleaf == seed->e[i].subleaf)
				e = &have->e[k];
		if (e && !tdc_cpuid_table_find(&enumerated, e->leaf, e->subleaf) &&
		    (r = tdc_cpuid_table_set(&enumerated, e)) != 0)
			goto out;
	}
	tdc_cpuid_table_sort(&enumerated);
	tdc_cpuid_table_free(out);
	*out = enumerated;
	tdc_cpuid_table_init(&enumerated);
out:
	tdc_cpuid_table_free(&enumerated);
	tdc_cpuid_table_free(&missing);
	return r;
}

int tdc_conform_fixpoint(tdc_guest_exec_fn exec, void *ctx,
			 const struct tdc_cpuid_table *seed,
			 struct tdc_cpuid_table *out, size_t ncpus,
			 unsigned *rounds, unsigned long *count)
{
	struct tdc_cpuid_table list, missing, scratch;
	unsigned round = 0;
	int r;

	tdc_cpuid_table_init(&list);
	tdc_cpuid_table_init(&missing);
	tdc_cpuid_table_init(&scratch);
	*count = 0;
	if ((r = seed_list(seed, &list)) != 0)
		goto out;
	while (list.n) {
		if (++round > TDC_CONFORM_MAX_ROUNDS) {
			r = tdc_err(TDC_ERR_INTERNAL,
				    "leaf rules did not reach a fixed point in %d guest runs",
				    TDC_CONFORM_MAX_ROUNDS);
			goto out;
		}
		if ((r = exec(ctx, &list, out, ncpus)) != 0)
			goto out;
		*count += list.n * ncpus;
		tdc_cpuid_table_free(&missing);
		for (size_t i = 0; i < ncpus; i++) {
			struct lookup_ctx lc = { .have = &out[i], .missing = &missing };

			tdc_cpuid_table_free(&scratch);
			if ((r = tdc_cpuid_enumerate(lookup_fn, &lc, &scratch, NULL)) != 0)
				goto out;
		}
		tdc_cpuid_table_free(&list);
		list = missing;
		tdc_cpuid_table_init(&missing);
	}
	for (size_t i = 0; i < ncpus; i++)
		if ((r = final_table(&out[i], seed, &out[i])) != 0)
			goto out;
	r = 0;
out:
	if (rounds)
		*rounds = round;
	tdc_cpuid_table_free(&list);
	tdc_cpuid_table_free(&missing);
	tdc_cpuid_table_free(&scratch);
	return r;
}
