// SPDX-License-Identifier: Apache-2.0
/*
 * Feature-name database (lib/features.c): table integrity, lookups, the
 * project-wide message form, and parse <-> format round trips.
 */
#include <ctype.h>
#include <stdio.h>

#include "testutil.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

/* Lowercase, '_' -> '-': the equivalence tdc_feature_by_name applies. */
static void norm(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in[i] && i + 1 < len; i++)
		out[i] = in[i] == '_' ? '-' : (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int cmp_key(const struct tdc_feature *a, const struct tdc_feature *b)
{
	uint64_t x = (uint64_t)a->leaf << 32 | a->subleaf, y = (uint64_t)b->leaf << 32 | b->subleaf;

	if (x != y)
		return x < y ? -1 : 1;
	if (a->reg != b->reg)
		return a->reg < b->reg ? -1 : 1;
	return a->bit < b->bit ? -1 : a->bit > b->bit;
}

static void test_table_integrity(void **state)
{
	size_t n;
	const struct tdc_feature *t = tdc_feature_table(&n);
	char a[64], b[64];

	assert_true(n > 300);
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i].reg < TDC_NREGS);
		assert_true(t[i].bit < 32);
		assert_non_null(t[i].qemu_name);
		assert_true(strlen(t[i].qemu_name) > 0);
		/* No whitespace or syntax characters: names go into "REG.name". */
		assert_int_equal(strcspn(t[i].qemu_name, " \t[]:"), strlen(t[i].qemu_name));
		if (!tdc_leaf_is_indexed(t[i].leaf))
			assert_int_equal(t[i].subleaf, 0);
		/* Sorted, hence no duplicate (leaf, subleaf, reg, bit). */
		if (i > 0 && cmp_key(&t[i - 1], &t[i]) >= 0) {
			fprintf(stderr, "row %zu (%s) not after row %zu (%s)\n", i, t[i].qemu_name,
				i - 1, t[i - 1].qemu_name);
			fail();
		}
		if (t[i].linux_name) {
			norm(t[i].qemu_name, a, sizeof(a));
			norm(t[i].linux_name, b, sizeof(b));
			/* Only names that really differ are listed. */
			assert_string_not_equal(a, b);
		}
	}
	/* No name (QEMU or Linux spelling) twice within a leaf. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n && t[j].leaf == t[i].leaf; j++) {
			const char *ni[2] = { t[i].qemu_name, t[i].linux_name };
			const char *nj[2] = { t[j].qemu_name, t[j].linux_name };

			for (int x = 0; x < 2; x++) {
				for (int y = 0; y < 2; y++) {
					if (!ni[x] || !nj[y])
						continue;
					norm(ni[x], a, sizeof(a));
					norm(nj[y], b, sizeof(b));
					if (!strcmp(a, b)) {
						fprintf(stderr, "leaf %#x: name '%s' twice\n", t[i].leaf, a);
						fail();
					}
				}
			}
		}
	}
}

/* Every (leaf, subleaf) the issue requires has named bits. */
static void test_coverage(void **state)
{
	static const struct {
		uint32_t leaf, sub;
		int reg; /* -1 = any */
	} need[] = {
		{ 0x1, 0, TDC_ECX }, { 0x1, 0, TDC_EDX }, { 0x6, 0, -1 }, { 0x7, 0, TDC_EBX },
		{ 0x7, 0, TDC_ECX }, { 0x7, 0, TDC_EDX }, { 0x7, 1, -1 }, { 0x7, 2, -1 },
		{ 0xd, 1, -1 }, { 0x14, 0, -1 }, { 0x19, 0, -1 }, { 0x1e, 1, -1 }, { 0x24, 0, -1 },
		{ 0x80000001, 0, TDC_ECX }, { 0x80000001, 0, TDC_EDX }, { 0x80000007, 0, -1 },
		{ 0x80000008, 0, -1 }, { 0x8000001f, 0, -1 }, { 0x80000021, 0, -1 },
	};
	size_t n;
	const struct tdc_feature *t = tdc_feature_table(&n);

	for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++) {
		size_t hits = 0;

		for (size_t i = 0; i < n; i++)
			hits += t[i].leaf == need[k].leaf && t[i].subleaf == need[k].sub &&
				(need[k].reg < 0 || t[i].reg == need[k].reg);
		if (!hits) {
			fprintf(stderr, "no names for %#x.%u\n", need[k].leaf, need[k].sub);
			fail();
		}
	}
}

static void test_lookup(void **state)
{
	const struct tdc_feature *f;

	f = tdc_feature_lookup(1, 0, TDC_ECX, 24);
	assert_non_null(f);
	assert_string_equal(f->qemu_name, "tsc-deadline");
	assert_string_equal(f->linux_name, "tsc_deadline_timer");
	assert_ptr_equal(tdc_feature_by_name("tsc_deadline_timer"), f);
	assert_ptr_equal(tdc_feature_by_name("TSC-Deadline"), f);
	assert_ptr_equal(tdc_feature_by_name("tsc_deadline"), f);
	f = tdc_feature_by_name("avx2");
	assert_non_null(f);
	assert_true(f->leaf == 7 && f->subleaf == 0 && f->reg == TDC_EBX && f->bit == 5);
	f = tdc_feature_by_name("hypervisor");
	assert_true(f && f->leaf == 1 && f->reg == TDC_ECX && f->bit == 31);
	assert_null(tdc_feature_by_name("no-such-feature"));
	assert_null(tdc_feature_lookup(0x80000001, 0, TDC_ECX, 14));
	/* A non-indexed leaf ignores the subleaf. */
	assert_non_null(tdc_feature_lookup(1, 5, TDC_ECX, 31));
	/* An indexed one does not. */
	assert_null(tdc_feature_lookup(7, 3, TDC_EBX, 5));
	/* Every name finds its own row: names are unique across the table. */
	{
		size_t n;
		const struct tdc_feature *t = tdc_feature_table(&n);

		for (size_t i = 0; i < n; i++) {
			assert_ptr_equal(tdc_feature_by_name(t[i].qemu_name), &t[i]);
			if (t[i].linux_name)
				assert_ptr_equal(tdc_feature_by_name(t[i].linux_name), &t[i]);
		}
	}
}

static void test_format(void **state)
{
	char buf[TDC_BITNAME_MAX];

	assert_string_equal(tdc_format_bit(buf, sizeof(buf), 1, 0, false, TDC_ECX, 24),
			    "CPUID.01H:ECX.tsc-deadline [bit 24]");
	assert_string_equal(tdc_format_bit(buf, sizeof(buf), 1, 0, false, TDC_ECX, 31),
			    "CPUID.01H:ECX.hypervisor [bit 31]");
	assert_string_equal(tdc_format_bit(buf, sizeof(buf), 7, 0, true, TDC_EBX, 5),
			    "CPUID.07H.0:EBX.avx2 [bit 5]");
	assert_string_equal(tdc_format_bit(buf, sizeof(buf), 0x80000001, 0, false, TDC_ECX, 14),
			    "CPUID.80000001H:ECX [bit 14]");
	assert_string_equal(tdc_format_bit(buf, sizeof(buf), 0xd, 11, true, TDC_EAX, 3),
			    "CPUID.0DH.11:EAX [bit 3]");
	assert_string_equal(tdc_format_reg(buf, sizeof(buf), 7, 0, true, TDC_EBX),
			    "CPUID.07H.0:EBX");
	assert_string_equal(tdc_format_reg(buf, sizeof(buf), 0x40000001, 0, false, TDC_EAX),
			    "CPUID.40000001H:EAX");
	/* Truncation is safe. */
	tdc_format_bit(buf, 8, 1, 0, false, TDC_ECX, 24);
	assert_int_equal(strlen(buf), 7);
}

static void expect_parse(const char *s, uint32_t leaf, uint32_t sub, enum tdc_reg reg,
			 unsigned bit)
{
	uint32_t l = 0xdead, sl = 0xdead;
	enum tdc_reg r = TDC_NREGS;
	unsigned b = 99;
	int rc = tdc_parse_bit(s, &l, &sl, &r, &b);

	if (rc || l != leaf || sl != sub || r != reg || b != bit) {
		fprintf(stderr, "parse '%s': rc %d (%s) -> %#x.%u reg %d bit %u\n", s, rc,
			tdc_errdetail(), l, sl, r, b);
		fail();
	}
}

static void test_parse(void **state)
{
	expect_parse("CPUID.07H.0:EBX[5]", 7, 0, TDC_EBX, 5);
	expect_parse("CPUID.01H:ECX.tsc-deadline", 1, 0, TDC_ECX, 24);
	expect_parse("CPUID.01H:ECX.tsc-deadline [bit 24]", 1, 0, TDC_ECX, 24);
	expect_parse("7.0:ebx.5", 7, 0, TDC_EBX, 5);
	expect_parse("0x80000001:ecx[8]", 0x80000001, 0, TDC_ECX, 8);
	expect_parse("0x80000001:ecx [bit 8]", 0x80000001, 0, TDC_ECX, 8);
	expect_parse("avx2", 7, 0, TDC_EBX, 5);
	expect_parse("tsc_deadline_timer", 1, 0, TDC_ECX, 24);
	expect_parse("CPUID.0DH.1:EAX.xsaves", 0xd, 1, TDC_EAX, 3);
	expect_parse("cpuid.0dh.0x0b:eax[3]", 0xd, 11, TDC_EAX, 3);
	expect_parse("CPUID.0DH.11:EAX [bit 3]", 0xd, 11, TDC_EAX, 3);
	expect_parse("1e.1:eax.amx-fp8", 0x1e, 1, TDC_EAX, 4);
	expect_parse("CPUID.07H.1:EAX.avx_vnni", 7, 1, TDC_EAX, 4);
	/* Non-indexed leaf: a subleaf given is ignored. */
	expect_parse("1.3:ecx[31]", 1, 0, TDC_ECX, 31);
	/* Indexed leaf without subleaf: subleaf 0. */
	expect_parse("7:ebx.avx2", 7, 0, TDC_EBX, 5);
	/* Current QEMU (feature_word_description(), QEMU 10.1+). */
	expect_parse("CPUID[eax=07h,ecx=00h].EBX[bit 16]", 7, 0, TDC_EBX, 16);
	expect_parse("CPUID[eax=07h,ecx=00h].EBX.avx512f [bit 16]", 7, 0, TDC_EBX, 16);
	expect_parse("CPUID[eax=07h,ecx=01h].EAX.avx-vnni [bit 4]", 7, 1, TDC_EAX, 4);
	expect_parse("CPUID[eax=0Dh,ecx=01h].EAX [bit 3]", 0xd, 1, TDC_EAX, 3);
	expect_parse("CPUID[eax=01h].ECX.hypervisor [bit 31]", 1, 0, TDC_ECX, 31);
	expect_parse("CPUID[eax=80000001h].ECX.lahf-lm [bit 0]", 0x80000001, 0, TDC_ECX, 0);
	expect_parse("qemu-system-x86_64: warning: host doesn't support requested feature: "
		     "CPUID[eax=07h,ecx=00h].EBX.avx512f [bit 16]", 7, 0, TDC_EBX, 16);
	expect_parse("TDX forcibly sets features: CPUID.01H:ECX.hypervisor [bit 31]", 1, 0,
		     TDC_ECX, 31);
	/* Older QEMU's "_" subleaf (hex). */
	expect_parse("CPUID.0DH_01H:EAX [bit 3]", 0xd, 1, TDC_EAX, 3);
	expect_parse("CPUID.07H:EBX.avx512f [bit 16]", 7, 0, TDC_EBX, 16);
}

static void expect_reject(const char *s, int code)
{
	uint32_t l, sl;
	enum tdc_reg r;
	unsigned b;
	int rc = tdc_parse_bit(s, &l, &sl, &r, &b);

	if (rc != code) {
		fprintf(stderr, "parse '%s': rc %d, expected %d\n", s, rc, code);
		fail();
	}
	assert_true(strlen(tdc_errdetail()) > 0);
}

static void test_parse_errors(void **state)
{
	expect_reject("CPUID.01H:EXX[1]", TDC_ERR_FORMAT);
	expect_reject("1:ecx[32]", TDC_ERR_FORMAT);
	expect_reject("1:ecx.32", TDC_ERR_FORMAT);
	expect_reject("7.0:ebx.avx3", TDC_ERR_NOT_FOUND);
	expect_reject("1:edx.avx2", TDC_ERR_NOT_FOUND); /* a name of another register */
	expect_reject("CPUID.01H:ECX.tsc-deadline [bit 23]", TDC_ERR_FORMAT);
	expect_reject("no-such-feature", TDC_ERR_NOT_FOUND);
	expect_reject("0x1:ecx", TDC_ERR_FORMAT);
	expect_reject("1:ecx[5] junk", TDC_ERR_FORMAT);
	expect_reject("1:ecx[5", TDC_ERR_FORMAT);
	expect_reject("0x100000000:eax[1]", TDC_ERR_FORMAT);
	expect_reject("CPUID.zz:eax[1]", TDC_ERR_FORMAT);
	expect_reject("7.x:ebx[1]", TDC_ERR_FORMAT);
	expect_reject(":eax[1]", TDC_ERR_FORMAT);
	expect_reject("", TDC_ERR_NOT_FOUND);
	expect_reject("1:", TDC_ERR_FORMAT);
	expect_reject("CPUID[eax=07h,ecx=00h].EBX.avx512f [bit 17]", TDC_ERR_FORMAT);
	expect_reject("CPUID[eax=07h,ecx=00h]EBX[bit 16]", TDC_ERR_FORMAT);
	expect_reject("CPUID[ecx=00h].EBX[bit 16]", TDC_ERR_FORMAT);
	expect_reject("CPUID[eax=07h;ecx=00h].EBX[bit 16]", TDC_ERR_FORMAT);
	expect_reject("CPUID[eax=07h,ecx=00h].EBX", TDC_ERR_FORMAT);
	expect_reject("CPUID[eax=zz].EBX[bit 1]", TDC_ERR_FORMAT);
	expect_reject("warning: host doesn't support requested feature: MSR(10Ah).rdctl-no [bit 0]",
		      TDC_ERR_FORMAT);
}

/* Every bit formats to a string that parses back to the same bit. */
static void test_round_trip(void **state)
{
	uint32_t leaves[] = { 1, 6, 7, 0xd, 0x14, 0x1e, 0x24, 0x40000001, 0x80000001,
			      0x80000008, 0x8000001f, 0x80000021 };
	char buf[TDC_BITNAME_MAX];

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		bool idx = tdc_leaf_is_indexed(leaves[i]);

		for (uint32_t sub = 0; sub < (idx ? 3u : 1u); sub++)
			for (int reg = 0; reg < TDC_NREGS; reg++)
				for (unsigned bit = 0; bit < 32; bit++) {
					tdc_format_bit(buf, sizeof(buf), leaves[i], sub, idx, reg, bit);
					expect_parse(buf, leaves[i], sub, reg, bit);
				}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_integrity),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
