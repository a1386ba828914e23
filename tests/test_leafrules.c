// SPDX-License-Identifier: Apache-2.0
/*
 * Leaf rules (lib/leafrules.c) against a fake CPUID: for each rule, given
 * the values a leaf declares, exactly the right subleaves are enumerated,
 * each executed once; hostile values hit the caps with a named error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

#define FAKE_MAX 512
#define LOG_MAX 8192

/* Programmed (leaf, subleaf) values; anything else reads as zeros (AMD-like). */
struct fake {
	struct tdc_cpuid_entry e[FAKE_MAX];
	size_t n;
	uint32_t log_leaf[LOG_MAX], log_sub[LOG_MAX];
	size_t nlog;
	uint32_t fail_leaf; /* 0 = never fail */
	const struct tdc_cpuid_table *table; /* alternative source: a real dump */
};

static void fake_set(struct fake *f, uint32_t leaf, uint32_t sub, uint32_t a, uint32_t b,
		     uint32_t c, uint32_t d)
{
	assert_true(f->n < FAKE_MAX);
	f->e[f->n++] = (struct tdc_cpuid_entry){ .leaf = leaf, .subleaf = sub,
						 .regs = { a, b, c, d } };
}

static int fake_fn(void *ctx, uint32_t leaf, uint32_t sub, uint32_t regs[TDC_NREGS])
{
	struct fake *f = ctx;

	if (f->nlog < LOG_MAX) {
		f->log_leaf[f->nlog] = leaf;
		f->log_sub[f->nlog++] = sub;
	}
	if (f->fail_leaf && leaf == f->fail_leaf)
		return tdc_err(TDC_ERR_IO, "fake: leaf %x fails", leaf);
	memset(regs, 0, TDC_NREGS * sizeof(*regs));
	if (f->table) {
		const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(f->table, leaf, sub);

		if (e)
			memcpy(regs, e->regs, sizeof(e->regs));
		return 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		if (f->e[i].leaf == leaf && f->e[i].subleaf == sub) {
			memcpy(regs, f->e[i].regs, sizeof(f->e[i].regs));
			break;
		}
	}
	return 0;
}

/* Enumerate; check every (leaf, subleaf) was executed exactly once. */
static int run(struct fake *f, struct tdc_cpuid_table *t)
{
	unsigned long count = 0;
	int r;

	tdc_cpuid_table_init(t);
	r = tdc_cpuid_enumerate(fake_fn, f, t, &count);
	assert_int_equal(count, f->nlog);
	for (size_t i = 0; i < f->nlog; i++)
		for (size_t j = i + 1; j < f->nlog; j++)
			assert_false(f->log_leaf[i] == f->log_leaf[j] && f->log_sub[i] == f->log_sub[j]);
	if (r == 0) {
		assert_int_equal(count, t->n);
		for (size_t i = 1; i < t->n; i++) /* canonical order */
			assert_true(t->e[i - 1].leaf < t->e[i].leaf ||
				    (t->e[i - 1].leaf == t->e[i].leaf &&
				     t->e[i - 1].subleaf < t->e[i].subleaf));
	}
	return r;
}

/* The subleaves of @leaf in @t must be exactly @want[0..n). */
static void expect_subs(const struct tdc_cpuid_table *t, uint32_t leaf, const uint32_t *want,
			size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].leaf != leaf)
			continue;
		if (k >= n || t->e[i].subleaf != want[k]) {
			fprintf(stderr, "leaf %#x: unexpected subleaf %u (expected %s%u)\n", leaf,
				t->e[i].subleaf, k < n ? "" : "none, had ", k < n ? want[k] : (unsigned)n);
			fail();
		}
		assert_int_equal(t->e[i].flags & TDC_CPUID_F_INDEXED,
				 tdc_leaf_is_indexed(leaf) ? TDC_CPUID_F_INDEXED : 0);
		k++;
	}
	if (k != n) {
		fprintf(stderr, "leaf %#x: %zu subleaves, expected %zu\n", leaf, k, n);
		fail();
	}
}

#define EXPECT(t, leaf, ...)                                                        \
	do {                                                                        \
		const uint32_t w_[] = { __VA_ARGS__ };                               \
		expect_subs(t, leaf, w_, sizeof(w_) / sizeof(w_[0]));               \
	} while (0)

static struct fake *fake_new(uint32_t max_basic, uint32_t max_ext)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fake_set(f, 0, 0, max_basic, 0x756e6547, 0x6c65746e, 0x49656e69);
	if (max_ext)
		fake_set(f, 0x80000000, 0, max_ext, 0, 0, 0);
	return f;
}

static void test_minimal(void **state)
{
	struct fake *f = fake_new(0, 0);
	struct tdc_cpuid_table t;

	assert_int_equal(run(f, &t), 0);
	/* Range bases are always recorded; nothing else exists. */
	assert_int_equal(t.n, 6);
	EXPECT(&t, 0, 0);
	EXPECT(&t, 0x20000000, 0);
	EXPECT(&t, 0x40000000, 0);
	EXPECT(&t, 0x80000000, 0);
	EXPECT(&t, 0x80860000, 0);
	EXPECT(&t, 0xc0000000, 0);
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_basic_rules(void **state)
{
	struct fake *f = fake_new(0x24, 0);
	struct tdc_cpuid_table t;

	fake_set(f, 4, 0, 0x121, 0, 0, 0);
	fake_set(f, 4, 1, 0x122, 0, 0, 0);
	fake_set(f, 4, 2, 0x143, 0, 0, 0);        /* sub 3: type 0 = end */
	fake_set(f, 7, 0, 2, 0, 0, 0);
	fake_set(f, 0xb, 0, 0, 1, 0x100, 0);
	fake_set(f, 0xb, 1, 0, 2, 0x201, 0);      /* sub 2: type 0 = end */
	fake_set(f, 0xd, 0, 0x207, 0, 0, 0x40000000); /* x87 SSE AVX PKRU, bit 62 */
	fake_set(f, 0xd, 1, 0xf, 0, 0x1800, 0);   /* XSS: CET_U, CET_S */
	fake_set(f, 0xf, 0, 0, 0, 0, 0x2);
	fake_set(f, 0x10, 0, 0, 0xe, 0, 0);
	fake_set(f, 0x12, 0, 1, 0, 0, 0);
	fake_set(f, 0x12, 2, 0x1, 0, 0, 0);       /* EPC section */
	fake_set(f, 0x12, 3, 0x1, 0, 0, 0);       /* EPC section; sub 4 type 0 */
	fake_set(f, 0x14, 0, 1, 0, 0, 0);
	fake_set(f, 0x17, 0, 3, 0, 0, 0);
	fake_set(f, 0x18, 0, 8, 0, 0, 0);
	fake_set(f, 0x1a, 0, 0x40000001, 0, 0, 0); /* EAX is a core type, not a count */
	fake_set(f, 0x1b, 0, 1, 0, 0, 0);          /* sub 1: type 0 */
	fake_set(f, 0x1d, 0, 1, 0, 0, 0);
	fake_set(f, 0x1e, 0, 1, 0, 0, 0);
	fake_set(f, 0x1f, 0, 1, 2, 0x100, 0);
	fake_set(f, 0x1f, 1, 4, 8, 0x201, 0);
	fake_set(f, 0x1f, 2, 7, 16, 0x502, 0);     /* die level; sub 3 ends */
	fake_set(f, 0x20, 0, 0, 1, 0, 0);
	fake_set(f, 0x23, 0, 0xa, 0, 0, 0);        /* subleaves 1 and 3 valid */
	fake_set(f, 0x24, 0, 1, 0x70000, 0, 0);
	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 1, 0);
	EXPECT(&t, 4, 0, 1, 2, 3);
	EXPECT(&t, 7, 0, 1, 2);
	EXPECT(&t, 0xb, 0, 1, 2);
	EXPECT(&t, 0xd, 0, 1, 2, 9, 11, 12, 62);
	EXPECT(&t, 0xf, 0, 1);
	EXPECT(&t, 0x10, 0, 1, 2, 3);
	EXPECT(&t, 0x12, 0, 1, 2, 3, 4);
	EXPECT(&t, 0x14, 0, 1);
	EXPECT(&t, 0x17, 0, 1, 2, 3);
	EXPECT(&t, 0x18, 0, 1, 2, 3, 4, 5, 6, 7, 8);
	EXPECT(&t, 0x1a, 0);
	EXPECT(&t, 0x1b, 0, 1);
	EXPECT(&t, 0x1d, 0, 1);
	EXPECT(&t, 0x1e, 0, 1);
	EXPECT(&t, 0x1f, 0, 1, 2, 3);
	EXPECT(&t, 0x20, 0);
	EXPECT(&t, 0x23, 0, 1, 3);
	EXPECT(&t, 0x24, 0, 1);
	EXPECT(&t, 0x25); /* beyond the basic maximum */
	tdc_cpuid_table_free(&t);
	free(f);
}

/* Leaves that declare nothing still get subleaf 0 and the terminators. */
static void test_basic_rules_empty(void **state)
{
	struct fake *f = fake_new(0x24, 0);
	struct tdc_cpuid_table t;

	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 4, 0);
	EXPECT(&t, 7, 0);
	EXPECT(&t, 0xb, 0);
	EXPECT(&t, 0xd, 0, 1);
	EXPECT(&t, 0xf, 0);
	EXPECT(&t, 0x10, 0);
	EXPECT(&t, 0x12, 0, 1, 2); /* 0 and 1 unconditional, 2 is the terminator */
	EXPECT(&t, 0x1b, 0);
	EXPECT(&t, 0x23, 0);
	/* Every basic leaf 0..0x24 is there once. */
	for (uint32_t l = 0; l <= 0x24; l++)
		assert_non_null(tdc_cpuid_table_find(&t, l, 0));
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_extended_rules(void **state)
{
	struct fake *f = fake_new(1, 0x80000026);
	struct tdc_cpuid_table t;

	fake_set(f, 0x8000001d, 0, 0x121, 0, 0, 0);
	fake_set(f, 0x8000001d, 1, 0x122, 0, 0, 0);
	fake_set(f, 0x8000001d, 2, 0x143, 0, 0, 0);
	fake_set(f, 0x8000001d, 3, 0x163, 0, 0, 0);
	fake_set(f, 0x80000020, 0, 0, 0x2e, 0, 0); /* 1 2 3 5 */
	fake_set(f, 0x80000026, 0, 1, 2, 0x100, 0);
	fake_set(f, 0x80000026, 1, 4, 16, 0x201, 0);
	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 0x8000001d, 0, 1, 2, 3, 4);
	EXPECT(&t, 0x80000020, 0, 1, 2, 3, 5);
	EXPECT(&t, 0x80000026, 0, 1, 2);
	EXPECT(&t, 0x80000001, 0);
	EXPECT(&t, 0x80000021, 0);
	for (uint32_t l = 0x80000000; l <= 0x80000026; l++)
		assert_non_null(tdc_cpuid_table_find(&t, l, 0));
	EXPECT(&t, 0x80000027);
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_hypervisor_range(void **state)
{
	struct fake *f = fake_new(1, 0);
	struct tdc_cpuid_table t;

	/* Hypervisor bit clear: the base is recorded, the range is not walked. */
	fake_set(f, 0x40000000, 0, 0x40000003, 0x7263694d, 0x666f736f, 0x76482074);
	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 0x40000000, 0);
	EXPECT(&t, 0x40000001);
	tdc_cpuid_table_free(&t);
	free(f);

	/* Bit set: Hyper-V at 0x40000000 and KVM at 0x40000100, then the end. */
	f = fake_new(1, 0);
	fake_set(f, 1, 0, 0, 0, 1u << 31, 0);
	fake_set(f, 0x40000000, 0, 0x40000003, 0x7263694d, 0x666f736f, 0x76482074);
	fake_set(f, 0x40000100, 0, 0x40000101, 0x4b4d564b, 0x564b4d56, 0x4d);
	assert_int_equal(run(f, &t), 0);
	for (uint32_t l = 0x40000000; l <= 0x40000003; l++)
		EXPECT(&t, l, 0);
	EXPECT(&t, 0x40000004);
	EXPECT(&t, 0x40000100, 0);
	EXPECT(&t, 0x40000101, 0);
	EXPECT(&t, 0x40000200, 0); /* probed once: absent, so the walk stops */
	EXPECT(&t, 0x40000300);
	tdc_cpuid_table_free(&t);
	free(f);

	/* Old KVM: EAX 0 with the KVM signature means 0x40000001. */
	f = fake_new(1, 0);
	fake_set(f, 1, 0, 0, 0, 1u << 31, 0);
	fake_set(f, 0x40000000, 0, 0, 0x4b4d564b, 0x564b4d56, 0x4d);
	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 0x40000001, 0);
	EXPECT(&t, 0x40000100, 0);
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_centaur_range(void **state)
{
	struct fake *f = fake_new(1, 0);
	struct tdc_cpuid_table t;

	fake_set(f, 0xc0000000, 0, 0xc0000002, 0, 0, 0);
	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 0xc0000001, 0);
	EXPECT(&t, 0xc0000002, 0);
	EXPECT(&t, 0xc0000003);
	tdc_cpuid_table_free(&t);
	free(f);

	/* An EAX outside the range (Intel: data of the highest basic leaf): absent. */
	f = fake_new(1, 0);
	fake_set(f, 0xc0000000, 0, 0x00000d00, 0, 0, 0);
	assert_int_equal(run(f, &t), 0);
	EXPECT(&t, 0xc0000000, 0);
	EXPECT(&t, 0xc0000001);
	tdc_cpuid_table_free(&t);
	free(f);
}

/* Each hostile value: TDC_ERR_TOO_LARGE, naming the leaf, bounded work. */
static void expect_too_large(struct fake *f, const char *leafname)
{
	struct tdc_cpuid_table t;

	assert_int_equal(run(f, &t), TDC_ERR_TOO_LARGE);
	if (!strstr(tdc_errdetail(), leafname)) {
		fprintf(stderr, "detail '%s' does not name %s\n", tdc_errdetail(), leafname);
		fail();
	}
	assert_true(f->nlog < 400);
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_hostile(void **state)
{
	struct fake *f;
	struct tdc_cpuid_table t;

	f = fake_new(0xffffffff, 0);
	expect_too_large(f, "CPUID.00000000H");

	f = fake_new(7, 0);
	fake_set(f, 7, 0, 0xffffffff, 0, 0, 0);
	expect_too_large(f, "CPUID.00000007H");

	f = fake_new(7, 0);
	fake_set(f, 7, 0, 64, 0, 0, 0); /* one past the cap */
	expect_too_large(f, "CPUID.00000007H");

	/* A cache list that never ends. */
	f = fake_new(4, 0);
	for (uint32_t s = 0; s < 100; s++)
		fake_set(f, 4, s, 0x121, 0, 0, 0);
	expect_too_large(f, "CPUID.00000004H");

	f = fake_new(0x1f, 0);
	for (uint32_t s = 0; s < 100; s++)
		fake_set(f, 0x1f, s, 0, 0, 0x100, 0);
	expect_too_large(f, "CPUID.0000001FH");

	f = fake_new(1, 0x8fffffff);
	expect_too_large(f, "CPUID.80000000H");

	f = fake_new(1, 0);
	fake_set(f, 1, 0, 0, 0, 1u << 31, 0);
	fake_set(f, 0x40000000, 0, 0x4fffffff, 0, 0, 0);
	expect_too_large(f, "CPUID.40000000H");

	f = fake_new(1, 0);
	fake_set(f, 0xc0000000, 0, 0xc0000100, 0, 0, 0);
	expect_too_large(f, "CPUID.C0000000H");

	/* All-ones bitmaps are bounded by their width, not an error. */
	f = fake_new(0x10, 0);
	fake_set(f, 0xd, 0, 0xffffffff, 0, 0, 0xffffffff);
	fake_set(f, 0x10, 0, 0, 0xffffffff, 0, 0);
	assert_int_equal(run(f, &t), 0);
	{
		size_t nd = 0, n10 = 0;

		for (size_t i = 0; i < t.n; i++) {
			nd += t.e[i].leaf == 0xd;
			n10 += t.e[i].leaf == 0x10;
		}
		assert_int_equal(nd, 64); /* 0, 1, 2..63 */
		assert_int_equal(n10, 32);
	}
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_backend_error(void **state)
{
	struct fake *f = fake_new(7, 0);
	struct tdc_cpuid_table t;

	f->fail_leaf = 5;
	assert_int_equal(run(f, &t), TDC_ERR_IO);
	assert_non_null(strstr(tdc_errdetail(), "leaf 5 fails"));
	tdc_cpuid_table_free(&t);
	free(f);
}

static void test_indexed_set(void **state)
{
	static const uint32_t indexed[] = { 4, 7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18,
					    0x1a, 0x1b, 0x1d, 0x1e, 0x1f, 0x20, 0x23, 0x24,
					    0x8000001d, 0x80000020, 0x80000026 };
	static const uint32_t plain[] = { 0, 1, 2, 6, 0x15, 0x40000000, 0x80000001,
					  0x80000008, 0x8000001e, 0xc0000001 };

	for (size_t i = 0; i < sizeof(indexed) / sizeof(indexed[0]); i++)
		assert_true(tdc_leaf_is_indexed(indexed[i]));
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_false(tdc_leaf_is_indexed(plain[i]));
}

/*
 * A real Intel server (tests/data/platforms, Emerald Rapids): every
 * (leaf, subleaf) of the dump is enumerated from the dump's own values.
 */
static void test_real_intel_dump(void **state)
{
	struct tdc_buf b;
	struct tdc_cpuid_table *cpus = NULL, t;
	size_t ncpus = 0;
	struct fake *f = calloc(1, sizeof(*f));

	tdc_test_read("platforms/emr-gold-5520p.baremetal.cpuid-r.txt", &b);
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, "emr", &cpus, &ncpus), 0);
	assert_true(ncpus >= 1);
	f->table = &cpus[0];
	assert_int_equal(run(f, &t), 0);
	for (size_t i = 0; i < cpus[0].n; i++) {
		const struct tdc_cpuid_entry *e = &cpus[0].e[i];

		if (!tdc_cpuid_table_find(&t, e->leaf, e->subleaf)) {
			fprintf(stderr, "dump has %#x.%u, enumeration missed it\n", e->leaf, e->subleaf);
			fail();
		}
	}
	EXPECT(&t, 0xd, 0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 17, 18);
	EXPECT(&t, 0x18, 0, 1, 2, 3, 4, 5, 6, 7, 8);
	EXPECT(&t, 4, 0, 1, 2, 3, 4);
	EXPECT(&t, 0x1b, 0, 1);
	tdc_cpuid_table_free(&t);
	for (size_t i = 0; i < ncpus; i++)
		tdc_cpuid_table_free(&cpus[i]);
	free(cpus);
	tdc_buf_free(&b);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_basic_rules),
		cmocka_unit_test(test_basic_rules_empty),
		cmocka_unit_test(test_extended_rules),
		cmocka_unit_test(test_hypervisor_range),
		cmocka_unit_test(test_centaur_range),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_backend_error),
		cmocka_unit_test(test_indexed_set),
		cmocka_unit_test(test_real_intel_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
