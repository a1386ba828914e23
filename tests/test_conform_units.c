// SPDX-License-Identifier: Apache-2.0
/*
 * Host-independent unit tests of the conformance pipeline:
 *  - the leaf-rule fixed point (conform/pipeline.c) over a fake guest that
 *    answers from a real Intel `cpuid -r` dump ends with exactly what the
 *    probe's own enumeration gives on that dump, plus the seed entries, and
 *    never reports the read-ahead subleaves;
 *  - the guest serial protocol parser (conform/guest_proto.c) accepts a
 *    correct reply and rejects each kind of broken one with a named error;
 *  - the judge (conform/compare.c) holds the trust anchor for evidence,
 *    loaded once when it is opened, and never loads one per check.
 */
#include "testutil.h"

#include <stdlib.h>

#include "compare.h"
#include "conform.h"
#include "guest_proto.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "trust.h"

struct fake_guest {
	const struct tdc_cpuid_table *cpu; /* what the "CPU" answers */
	unsigned calls;
	size_t executed;
};

static int dump_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	const struct tdc_cpuid_table *t = ctx;

	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].leaf == leaf && t->e[i].subleaf == subleaf) {
			memcpy(regs, t->e[i].regs, sizeof(t->e[i].regs));
			return 0;
		}
	}
	memset(regs, 0, TDC_NREGS * sizeof(regs[0]));
	return 0;
}

/* tdc_guest_exec_fn: every vCPU answers from the same dump. */
static int fake_exec(void *ctx, const struct tdc_cpuid_table *list,
		     struct tdc_cpuid_table *out, size_t ncpus)
{
	struct fake_guest *g = ctx;

	g->calls++;
	g->executed += list->n;
	for (size_t c = 0; c < ncpus; c++) {
		for (size_t i = 0; i < list->n; i++) {
			struct tdc_cpuid_entry e = list->e[i];

			dump_fn((void *)g->cpu, e.leaf, e.subleaf, e.regs);
			assert_int_equal(tdc_cpuid_table_set(&out[c], &e), 0);
		}
	}
	return 0;
}

static void load_dump(struct tdc_cpuid_table *cpu0)
{
	struct tdc_cpuid_table *cpus = NULL;
	struct tdc_buf b;
	size_t n = 0;

	tdc_test_read("platforms/emr-gold-5520p.baremetal.cpuid-r.txt", &b);
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, "dump", &cpus, &n), 0);
	assert_true(n >= 1);
	*cpu0 = cpus[0];
	for (size_t i = 1; i < n; i++)
		tdc_cpuid_table_free(&cpus[i]);
	free(cpus);
	tdc_buf_free(&b);
}

static void test_fixpoint_matches_enumeration(void **state)
{
	struct tdc_cpuid_table cpu0, want, seed, out[2];
	struct fake_guest g = { .cpu = &cpu0 };
	struct tdc_cpuid_entry extra = { .leaf = 0x40000010 }; /* requested, not enumerated */
	unsigned rounds = 0;
	unsigned long count = 0;

	(void)state;
	load_dump(&cpu0);
	tdc_cpuid_table_init(&want);
	tdc_cpuid_table_init(&seed);
	tdc_cpuid_table_init(&out[0]);
	tdc_cpuid_table_init(&out[1]);
	assert_int_equal(tdc_cpuid_enumerate(dump_fn, &cpu0, &want, NULL), 0);
	assert_int_equal(tdc_cpuid_table_set(&seed, &extra), 0);
	assert_int_equal(tdc_conform_fixpoint(fake_exec, &g, &seed, out, 2, &rounds, &count), 0);
	assert_true(rounds >= 2 && rounds <= 4);
	assert_int_equal(g.calls, rounds);
	assert_int_equal(count, g.executed * 2);
	for (int c = 0; c < 2; c++) {
		/* Everything the rules enumerate, with the same values and flags ... */
		for (size_t i = 0; i < want.n; i++) {
			const struct tdc_cpuid_entry *o =
				tdc_cpuid_table_find(&out[c], want.e[i].leaf, want.e[i].subleaf);

			assert_non_null(o);
			assert_int_equal(o->subleaf, want.e[i].subleaf);
			assert_memory_equal(o->regs, want.e[i].regs, sizeof(o->regs));
			assert_int_equal(o->flags & TDC_CPUID_F_INDEXED,
					 want.e[i].flags & TDC_CPUID_F_INDEXED);
		}
		/* ... plus the seed entry, and nothing else (no read-ahead leftovers). */
		assert_int_equal(out[c].n, want.n + 1);
		assert_non_null(tdc_cpuid_table_find(&out[c], 0x40000010, 0));
	}
	/* The read-ahead did run extra subleaves in the guest: more executed than kept. */
	assert_true(g.executed > want.n);
	tdc_cpuid_table_free(&out[0]);
	tdc_cpuid_table_free(&out[1]);
	tdc_cpuid_table_free(&seed);
	tdc_cpuid_table_free(&want);
	tdc_cpuid_table_free(&cpu0);
}

static void make_list(struct tdc_cpuid_table *list)
{
	static const uint32_t keys[][2] = { { 0, 0 }, { 4, 1 } };

	tdc_cpuid_table_init(list);
	for (size_t i = 0; i < 2; i++) {
		struct tdc_cpuid_entry e = { .leaf = keys[i][0], .subleaf = keys[i][1],
					     .flags = keys[i][0] == 4 ? TDC_CPUID_F_INDEXED : 0 };

		assert_int_equal(tdc_cpuid_table_set(list, &e), 0);
	}
}

/* Parse @text for two vCPUs; returns the code, leaves the tables in @out. */
static int parse2(const char *text, struct tdc_guest_map *map, struct tdc_cpuid_table out[2])
{
	struct tdc_cpuid_table list;
	int r;

	make_list(&list);
	r = tdc_guest_parse_batch(text, strlen(text), &list, 2, map, out);
	tdc_cpuid_table_free(&list);
	return r;
}

#define GOOD \
	"R 0 2 0 0 d 68747541 444d4163 69746e65\n" \
	"R 0 2 4 1 121 1c0003f 3f 0\n" \
	"R 1 0 0 0 d 68747541 444d4163 69746e65\n" \
	"R 1 0 4 1 121 1c0003f 3f 1\n" \
	"E 2\n"

static void test_guest_reply_good(void **state)
{
	struct tdc_cpuid_table out[2];
	struct tdc_guest_map map = { 0 };
	const struct tdc_cpuid_entry *e;

	(void)state;
	tdc_cpuid_table_init(&out[0]);
	tdc_cpuid_table_init(&out[1]);
	assert_int_equal(parse2(GOOD, &map, out), 0);
	/* Slot 1 has the lower APIC ID (0), so it is vCPU 0. */
	assert_true(map.mapped);
	assert_int_equal(map.slot_cpu[1], 0);
	assert_int_equal(map.slot_cpu[0], 1);
	assert_non_null(e = tdc_cpuid_table_find(&out[0], 4, 1));
	assert_int_equal(e->regs[TDC_EDX], 1);
	assert_true(e->flags & TDC_CPUID_F_INDEXED);
	assert_non_null(e = tdc_cpuid_table_find(&out[1], 4, 1));
	assert_int_equal(e->regs[TDC_EDX], 0);
	assert_int_equal(out[0].n, 2);
	tdc_cpuid_table_free(&out[0]);
	tdc_cpuid_table_free(&out[1]);
}

static void expect_bad(const char *text, const char *detail)
{
	struct tdc_cpuid_table out[2];
	struct tdc_guest_map map = { 0 };
	int r;

	tdc_cpuid_table_init(&out[0]);
	tdc_cpuid_table_init(&out[1]);
	r = parse2(text, &map, out);
	if (r != TDC_ERR_PROTOCOL || !strstr(tdc_errdetail(), detail))
		fail_msg("reply %s: got %d '%s', expected a protocol error with '%s'", text, r,
			 tdc_errdetail(), detail);
	tdc_cpuid_table_free(&out[0]);
	tdc_cpuid_table_free(&out[1]);
}

static void test_guest_reply_bad(void **state)
{
	(void)state;
	expect_bad("R 0 2 0 0 d 68747541 444d4163 69746e65\nE 2\n", "returned 1 results");
	expect_bad("R 0 2 4 1 0 0 0 0\n", "was due");
	expect_bad("R 1 2 0 0 0 0 0 0\n", "slot 1 where 0 was due");
	expect_bad("R 0 2 0 0 d 68747541 444d4163\n", "unexpected line");
	expect_bad("R 0 2 0 0 d 68747541 444d4163 69746e65 7\n", "unexpected line");
	expect_bad("R 0 2 0 0 d 68747541 444d4163 1ffffffff\n", "unexpected line");
	expect_bad("R 0 2 0 0 d -1 444d4163 69746e65\n", "unexpected line");
	expect_bad("X\n", "unexpected line");
	expect_bad("R 0 2 0 0 d 68747541 444d4163 69746e65\nR 0 2 4 1 0 0 0 0\n", "without an end");
	expect_bad("R 0 2 0 0 0 0 0 0\nR 0 2 4 1 0 0 0 0\nR 1 2 0 0 0 0 0 0\nR 1 2 4 1 0 0 0 0\nE 2\n",
		   "same APIC ID");
	expect_bad("E 3\n", "bad end line");
}

/* Evidence is judged under the anchor loaded at open (the data directory's Intel root). */
static void test_judge_trust_once(void **state)
{
	struct tdc_conform_judge j;
	struct tdc_conform_report rep;
	struct tdc_requested req;
	const struct tdc_trust *held;

	(void)state;
	assert_int_equal(tdc_conform_judge_open("kvm", NULL, false, &j), 0);
	assert_null(j.trust); /* no evidence, no anchor needed */
	tdc_requested_init(&req);
	tdc_conform_report_init(&rep);
	/* A judge without an anchor refuses evidence rather than load one for it. */
	assert_int_equal(tdc_conform_compare_evidence(&j, &req, (const uint8_t *)"x", 1, NULL, 0,
						      &rep), TDC_ERR_INTERNAL);
	tdc_conform_judge_close(&j);

	assert_int_equal(tdc_conform_judge_open("tdx", NULL, true, &j), 0);
	assert_non_null(j.models);
	assert_non_null(held = j.trust);
	assert_non_null(held->root);
	assert_non_null(strstr(held->root_path, "/trust/Intel_SGX_Root_CA.pem"));
	assert_false(held->simulator);
	/* Bad evidence twice: it fails, and the judge keeps the very same anchor object. */
	for (int i = 0; i < 2; i++) {
		int r = tdc_conform_compare_evidence(&j, &req, (const uint8_t *)"x", 1, NULL, 0, &rep);

		assert_true(r != 0 || !rep.pass);
		assert_ptr_equal(j.trust, held);
		tdc_conform_report_free(&rep);
		tdc_conform_report_init(&rep);
	}
	tdc_conform_judge_close(&j);
	assert_null(j.trust);
	tdc_conform_report_free(&rep);
	tdc_requested_free(&req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixpoint_matches_enumeration),
		cmocka_unit_test(test_guest_reply_good),
		cmocka_unit_test(test_guest_reply_bad),
		cmocka_unit_test(test_judge_trust_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
