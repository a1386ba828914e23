// SPDX-License-Identifier: Apache-2.0
/*
 * The `cpuid -r` importer (lib/import_cpuidr.c): the real Intel dump, a
 * live `cpuid -r` of this machine when the tool is installed (compared with
 * its own text, not with expectations about this host), and one named error
 * per kind of malformed input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

static void free_cpus(struct tdc_cpuid_table *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tdc_cpuid_table_free(&c[i]);
	free(c);
}

static int import(const char *s, struct tdc_cpuid_table **c, size_t *n)
{
	return tdc_import_cpuid_r((const uint8_t *)s, strlen(s), "t.txt", c, n);
}

static void test_emr_dump(void **state)
{
	struct tdc_cpuid_table *c;
	const struct tdc_cpuid_entry *e;
	struct tdc_buf b;
	size_t n, lines = 0;

	tdc_test_read("platforms/emr-gold-5520p.baremetal.cpuid-r.txt", &b);
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, "emr", &c, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].n, lines - 1); /* every line but "CPU 0:" */
	e = tdc_cpuid_table_find(&c[0], 7, 0);
	assert_non_null(e);
	assert_true(e->flags & TDC_CPUID_F_INDEXED);
	assert_int_equal(e->regs[TDC_EBX], 0xf3bfbfff);
	e = tdc_cpuid_table_find(&c[0], 1, 0);
	assert_false(e->flags & TDC_CPUID_F_INDEXED);
	assert_int_equal(e->regs[TDC_ECX], 0x7ffefbff);
	e = tdc_cpuid_table_find(&c[0], 0xd, 0x12);
	assert_int_equal(e->regs[TDC_EAX], 0x2000);
	/* Sorted: the canonical order. */
	for (size_t i = 1; i < c[0].n; i++)
		assert_true(c[0].e[i - 1].leaf < c[0].e[i].leaf ||
			    (c[0].e[i - 1].leaf == c[0].e[i].leaf &&
			     c[0].e[i - 1].subleaf < c[0].e[i].subleaf));
	free_cpus(c, n);
	tdc_buf_free(&b);
}

/* The real tool's output, all CPUs: as many tables as "CPU n:" headers. */
static void test_live_cpuid_r(void **state)
{
	struct tdc_cpuid_table *c;
	struct tdc_buf b;
	size_t n, headers = 0;
	char chunk[4096];
	size_t got;
	FILE *f;

	/* scripts/setup installs cpuid: absent means a broken setup, not a skip. */
	if (system("command -v cpuid >/dev/null 2>&1") != 0)
		fail_msg("the cpuid tool (Debian package cpuid, installed by scripts/setup) is missing");
	if (!(f = popen("cpuid -r 2>/dev/null", "r")))
		fail_msg("cannot run cpuid -r");
	tdc_buf_init(&b);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(tdc_buf_put(&b, chunk, got), 0);
	if (pclose(f) != 0 || !b.len)
		fail_msg("cpuid -r failed or printed nothing");
	for (size_t i = 0; i + 4 <= b.len; i++)
		headers += (i == 0 || b.data[i - 1] == '\n') && !memcmp(b.data + i, "CPU ", 4);
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, "cpuid -r", &c, &n), 0);
	assert_int_equal(n, headers);
	assert_non_null(tdc_cpuid_table_find(&c[0], 0, 0));
	free_cpus(c, n);
	tdc_buf_free(&b);
}

static void test_variants(void **state)
{
	struct tdc_cpuid_table *c;
	size_t n;

	/* No header: one CPU.  CRLF line ends, comments and blank lines pass. */
	assert_int_equal(import("   0x00000000 0x00: eax=0x0000000d ebx=0x1 ecx=0x2 edx=0x3\r\n"
				"# comment\n\n", &c, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].e[0].regs[TDC_EDX], 3);
	free_cpus(c, n);
	/* "CPU:" (cpuid -1) */
	assert_int_equal(import("CPU:\n   0x00000001 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\n",
				&c, &n), 0);
	free_cpus(c, n);
	/* A leaf the rules do not know, shown with two subleaves, is indexed. */
	assert_int_equal(import("CPU 0:\n   0x00000033 0x00: eax=0x1 ebx=0x0 ecx=0x0 edx=0x0\n"
				"   0x00000033 0x01: eax=0x2 ebx=0x0 ecx=0x0 edx=0x0\n", &c, &n), 0);
	assert_true(c[0].e[0].flags & TDC_CPUID_F_INDEXED);
	assert_int_equal(tdc_cpuid_table_find(&c[0], 0x33, 1)->regs[TDC_EAX], 2);
	free_cpus(c, n);
}

#define L1 "   0x00000001 0x00: eax=0x00000001 ebx=0x00000002 ecx=0x00000003 edx=0x00000004\n"

static void expect_error(const char *in, int code, const char *detail)
{
	struct tdc_cpuid_table *c = (void *)1;
	size_t n = 7;

	assert_int_equal(import(in, &c, &n), code);
	assert_null(c);
	assert_int_equal(n, 0);
	if (!strstr(tdc_errdetail(), detail))
		fail_msg("error '%s' does not mention '%s'", tdc_errdetail(), detail);
}

static void test_errors(void **state)
{
	char *big;

	expect_error("", TDC_ERR_FORMAT, "no CPUID lines");
	expect_error("CPU 0:\n" L1 L1, TDC_ERR_DUPLICATE, "t.txt: line 3: CPUID 0x00000001.0x0 appears twice");
	expect_error("CPU 0:\n   0x0000000g 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\n",
		     TDC_ERR_FORMAT, "line 2: leaf");
	expect_error("CPU 0:\n   0x000000001 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\n",
		     TDC_ERR_FORMAT, "line 2: leaf");
	expect_error("CPU 0:\n   0x00000001 0x00: eax=1 ebx=0x2 ecx=0x3 edx=0x4\n",
		     TDC_ERR_FORMAT, "line 2: eax=");
	expect_error("CPU 0:\n   0x00000001 0x00: eax=0x1 ebx=0x2 ecx=0x3\n",
		     TDC_ERR_FORMAT, "expected \"edx=0x...\"");
	expect_error("CPU 0:\n   0x00000001 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4 x\n",
		     TDC_ERR_FORMAT, "trailing text");
	expect_error("CPU 0:\n   0x00000001 0x00 eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\n",
		     TDC_ERR_FORMAT, "line 2");
	expect_error(L1 "CPU 1:\n" L1, TDC_ERR_FORMAT, "line 2: CPU header after entries");
	expect_error("CPU 1:\n" L1 "CPU 1:\n" L1, TDC_ERR_DUPLICATE, "line 3: CPU 1 after CPU 1");
	expect_error("CPU 0:\nCPU 1:\n" L1, TDC_ERR_FORMAT, "CPU 0 has no CPUID lines");
	expect_error("CPUX 0:\n" L1, TDC_ERR_FORMAT, "line 1: malformed CPU header");
	expect_error("CPU 0:\n" L1 "junk\n", TDC_ERR_FORMAT, "line 3");
	{
		static const char nul[] = "CPU 0:\n   0x1 0x0: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\0\n";
		struct tdc_cpuid_table *c;
		size_t n;

		assert_int_equal(tdc_import_cpuid_r((const uint8_t *)nul, sizeof(nul) - 1, "t.txt",
						    &c, &n), TDC_ERR_FORMAT);
		assert_non_null(strstr(tdc_errdetail(), "line 2: NUL byte"));
	}

	/* A line longer than any real one. */
	big = calloc(1, 600);
	memset(big, ' ', 500);
	memcpy(big + 500, L1, strlen(L1));
	expect_error(big, TDC_ERR_TOO_LARGE, "line 1: longer than");
	free(big);
}

static void test_caps(void **state)
{
	struct tdc_buf b;
	struct tdc_cpuid_table *c;
	size_t n;

	/* One CPU more than allowed. */
	tdc_buf_init(&b);
	for (int i = 0; i <= TDC_REQUESTED_MAX_CPUS; i++)
		assert_int_equal(tdc_buf_printf(&b, "CPU %d:\n" L1, i), 0);
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, "t", &c, &n), TDC_ERR_TOO_LARGE);
	assert_non_null(strstr(tdc_errdetail(), "more than 1024 CPUs"));
	tdc_buf_free(&b);
	/* The file cap is checked before anything is parsed. */
	uint8_t *huge = calloc(1, TDC_REQUESTED_FILE_MAX + 1);

	assert_non_null(huge);
	assert_int_equal(tdc_import_cpuid_r(huge, TDC_REQUESTED_FILE_MAX + 1, "t", &c, &n),
			 TDC_ERR_TOO_LARGE);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emr_dump),
		cmocka_unit_test(test_live_cpuid_r),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
