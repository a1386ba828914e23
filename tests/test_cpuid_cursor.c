// SPDX-License-Identifier: Apache-2.0
/*
 * The forward cursors the engine walks its tables with
 * (tdc_cpuid_cursor_find, tdc_pred_cursor_lookup) against the lookups they
 * replace (tdc_cpuid_table_find, tdc_prediction_lookup): the same answer
 * for every key of random walks over random tables (sorted and not,
 * indexed and non-indexed entries, keys present and absent, repeated and
 * occasionally descending), and over real predictions.
 */
#include <stdlib.h>

#include "model.h"
#include "testutil.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

#define EMR "platforms/emr-gold-5520p.baremetal.cpuid-r.txt"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	return tdc_test_rnd(&rng_state, n);
}

/* Leaves and subleaves from a small range, so keys collide and leaves repeat. */
static uint32_t rnd_leaf(void)
{
	static const uint32_t base[] = { 0, 0x40000000, 0x80000000, 0xffffffff };
	uint32_t b = base[rnd(4)];

	return b == 0xffffffff ? b - rnd(2) : b + rnd(12);
}

static uint32_t rnd_sub(void)
{
	return rnd(8) ? rnd(5) : 0xffffffff - rnd(2);
}

static void rnd_table(struct tdc_cpuid_table *t)
{
	size_t n = rnd(5) ? rnd(40) : rnd(3);

	tdc_cpuid_table_init(t);
	for (size_t i = 0; i < n; i++) {
		struct tdc_cpuid_entry e = { .leaf = rnd_leaf(), .subleaf = rnd_sub(),
					     .flags = rnd(3) ? TDC_CPUID_F_INDEXED : 0 };

		e.regs[0] = rnd(0xffffffff);
		assert_int_equal(tdc_cpuid_table_set(t, &e), 0);
	}
	/* Mostly sorted, as decoded claims and parsed requests are. */
	if (rnd(4))
		tdc_cpuid_table_sort(t);
}

static int cmp_key(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* A walk: random keys, sorted (some repeated), with a few out of order. */
static size_t rnd_walk(uint64_t *keys, size_t max)
{
	size_t n = rnd((uint32_t)max);

	for (size_t i = 0; i < n; i++)
		keys[i] = (uint64_t)rnd_leaf() << 32 | rnd_sub();
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t i = 0; n && i < rnd(3); i++)
		keys[rnd((uint32_t)n)] = (uint64_t)rnd_leaf() << 32 | rnd_sub();
	return n;
}

static bool has_leaf_linear(const struct tdc_cpuid_table *t, uint32_t leaf)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf)
			return true;
	return false;
}

static void test_table_cursor(void **state)
{
	uint64_t keys[96];

	for (int round = 0; round < 20000; round++) {
		struct tdc_cpuid_table t;
		struct tdc_cpuid_cursor c;
		size_t n;

		rnd_table(&t);
		n = rnd_walk(keys, 96);
		tdc_cpuid_cursor_init(&c, &t);
		for (size_t i = 0; i < n; i++) {
			uint32_t leaf = (uint32_t)(keys[i] >> 32), sub = (uint32_t)keys[i];

			if (tdc_cpuid_cursor_find(&c, leaf, sub) != tdc_cpuid_table_find(&t, leaf, sub))
				fail_msg("round %d: (0x%x, %u) after %zu keys of a %s table of %zu",
					 round, leaf, sub, i, t.sorted ? "sorted" : "unsorted", t.n);
			assert_int_equal(tdc_cpuid_table_has_leaf(&t, leaf), has_leaf_linear(&t, leaf));
		}
		tdc_cpuid_table_free(&t);
	}
}

/* Same leaf, or the same synthesized leaf in @tmp (init_leaf zeroes it whole). */
static void assert_same(const struct tdc_pred_leaf *a, const struct tdc_pred_leaf *ta,
			const struct tdc_pred_leaf *b, const struct tdc_pred_leaf *tb)
{
	if (a == ta || b == tb) {
		assert_true(a == ta && b == tb);
		assert_memory_equal(a, b, sizeof(*a));
	} else {
		assert_ptr_equal(a, b);
	}
}

static void walk_prediction(const struct tdc_prediction *p)
{
	struct tdc_pred_leaf ta, tb;
	uint64_t keys[160];

	for (int round = 0; round < 2000; round++) {
		struct tdc_pred_cursor c;
		size_t n = rnd_walk(keys, 160);

		/* Half the walks over the prediction's own keys and their neighbours. */
		for (size_t i = 0; round % 2 && p->n && i < n; i++) {
			const struct tdc_pred_leaf *pl = &p->leaves[rnd((uint32_t)p->n)];

			keys[i] = (uint64_t)pl->leaf << 32 | (pl->subleaf + rnd(3));
		}
		if (round % 2)
			qsort(keys, n, sizeof(*keys), cmp_key);
		tdc_pred_cursor_init(&c, p);
		for (size_t i = 0; i < n; i++) {
			uint32_t leaf = (uint32_t)(keys[i] >> 32), sub = (uint32_t)keys[i];

			memset(&ta, 0xa5, sizeof(ta));
			memset(&tb, 0x5a, sizeof(tb));
			assert_same(tdc_pred_cursor_lookup(&c, leaf, sub, &ta), &ta,
				    tdc_prediction_lookup(p, leaf, sub, &tb), &tb);
		}
	}
}

static void test_prediction_cursor(void **state)
{
	static const char *const models[] = { "tdx-1.5.01", "tdx-1.5.25", "tdx-2.0.08", "kvm" };
	struct tdc_cpuid_table *plat;
	size_t nplat;
	struct tdc_buf b;

	tdc_test_read(EMR, &b);
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, EMR, &plat, &nplat), 0);
	tdc_buf_free(&b);
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		struct tdc_predict_in in = { .platform = &plat[0], .requested = &plat[0],
					     .xfam = 0x2e7, .kvm_layer = i < 3 };
		struct tdc_prediction p;
		struct tdc_model *m;
		int r;

		assert_int_equal(tdc_model_load(models[i], &m), 0);
		tdc_prediction_init(&p);
		r = tdc_model_predict(m, &in, &p);
		assert_true(r == 0 || r == TDC_ERR_MODEL);
		walk_prediction(&p);
		tdc_prediction_free(&p);
		tdc_model_free(m);
	}
	for (size_t i = 0; i < nplat; i++)
		tdc_cpuid_table_free(&plat[i]);
	free(plat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_cursor),
		cmocka_unit_test(test_prediction_cursor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
