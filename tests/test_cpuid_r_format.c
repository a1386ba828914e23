// SPDX-License-Identifier: Apache-2.0
/*
 * tdc_format_cpuid_r (lib/cpuid_r_format.c): byte-exact `cpuid -r` lines
 * (the expected text is real output of cpuid 20230120 on an AMD EPYC), and
 * the importer reads back what it prints.
 */
#include <stdlib.h>

#include "testutil.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/requested.h"

static const char expected[] =
	"CPU 1:\n"
	"   0x00000000 0x00: eax=0x0000000d ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65\n"
	"   0x0000000b 0x02: eax=0x00000000 ebx=0x00000000 ecx=0x00000002 edx=0x00000001\n"
	"   0x0000000d 0x0b: eax=0x00000010 ebx=0x00000000 ecx=0x00000001 edx=0x00000000\n"
	"   0x80000000 0x00: eax=0x80000021 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65\n"
	"   0x8000001d 0x03: eax=0x00004163 ebx=0x03c0003f ecx=0x00007fff edx=0x00000001\n";

static void add(struct tdc_cpuid_table *t, uint32_t leaf, uint32_t sub, uint32_t a, uint32_t b,
		uint32_t c, uint32_t d)
{
	struct tdc_cpuid_entry e = { .leaf = leaf, .subleaf = sub,
				     .flags = tdc_leaf_is_indexed(leaf) ? TDC_CPUID_F_INDEXED : 0,
				     .regs = { a, b, c, d } };

	assert_int_equal(tdc_cpuid_table_set(t, &e), 0);
}

static void test_bytes_and_round_trip(void **state)
{
	struct tdc_cpuid_table t, *back = NULL;
	struct tdc_buf out;
	size_t n = 0;

	tdc_cpuid_table_init(&t);
	add(&t, 0, 0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	add(&t, 0xb, 2, 0, 0, 2, 1);
	add(&t, 0xd, 11, 0x10, 0, 1, 0);
	add(&t, 0x80000000, 0, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65);
	add(&t, 0x8000001d, 3, 0x4163, 0x03c0003f, 0x7fff, 1);
	tdc_buf_init(&out);
	assert_int_equal(tdc_format_cpuid_r(&t, 1, &out), 0);
	assert_string_equal(tdc_buf_cstr(&out), expected);

	assert_int_equal(tdc_import_cpuid_r(out.data, out.len, "round trip", &back, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(back[0].n, t.n);
	for (size_t i = 0; i < t.n; i++) {
		const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(&back[0], t.e[i].leaf,
								       t.e[i].subleaf);

		assert_non_null(e);
		assert_memory_equal(e->regs, t.e[i].regs, sizeof(e->regs));
	}
	tdc_cpuid_table_free(&back[0]);
	free(back);

	/* A delta's absent markers are not CPUID results: never printed. */
	t.e[1].flags |= TDC_CPUID_F_ABSENT;
	tdc_buf_reset(&out);
	assert_int_equal(tdc_format_cpuid_r(&t, 0, &out), 0);
	assert_null(strstr(tdc_buf_cstr(&out), "0x0000000b"));
	assert_non_null(strstr(tdc_buf_cstr(&out), "CPU 0:\n"));
	tdc_buf_free(&out);
	tdc_cpuid_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_and_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
