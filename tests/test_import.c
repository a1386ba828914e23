// SPDX-License-Identifier: Apache-2.0
/*
 * Requested-configuration importers: real and hand-written samples in
 * tests/data/requested/ (see SOURCES.md there), content detection, and
 * malformed inputs that must each fail naming the field.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

static void load(const char *rel, const char *format, struct tdc_requested *r)
{
	int e = tdc_requested_load(tdc_testdata(rel), format, r);

	if (e)
		fail_msg("%s: %s", rel, tdc_errmsg(e));
}

static const struct tdc_cpuid_entry *get(const struct tdc_cpuid_table *t, uint32_t leaf,
					 uint32_t sub)
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(t, leaf, sub);

	if (!e)
		fail_msg("no entry 0x%x.%u", leaf, sub);
	return e;
}

static void test_kvmjson(void **state)
{
	struct tdc_requested r, r2;

	load("requested/kvm-cpuid2.json", NULL, &r);
	assert_string_equal(r.format, "kvm-json");
	assert_int_equal(r.table.n, 7);
	assert_int_equal(r.known.n, 7);
	assert_int_equal(get(&r.table, 0, 0)->regs[TDC_EBX], 0x756e6547);
	assert_true(get(&r.table, 7, 1)->flags & TDC_CPUID_F_INDEXED);
	assert_int_equal(get(&r.table, 7, 1)->regs[TDC_EAX], 0x1c30);
	assert_false(get(&r.table, 1, 0)->flags & TDC_CPUID_F_INDEXED);
	assert_int_equal(get(&r.table, 0x80000001, 0)->regs[TDC_EDX], 0x2c100800);
	for (int i = 0; i < TDC_NREGS; i++)
		assert_int_equal(get(&r.known, 0xd, 0)->regs[i], 0xffffffff);
	assert_int_equal(r.ncpus, 0);
	assert_false(r.has_td_params);
	load("requested/kvm-cpuid2.json", "kvm-json", &r2);
	assert_int_equal(r2.table.n, r.table.n);
	assert_memory_equal(r2.table.e, r.table.e, r.table.n * sizeof(*r.table.e));
	tdc_requested_free(&r);
	tdc_requested_free(&r2);
}

#define FPU (1u << 0)
#define CX16 (1u << 13)

/* Real captures from QEMU 7.2 (-cpu qemu64, and -cpu qemu64,-cx16), 2 vCPUs. */
static void test_qmp_capture(void **state)
{
	struct tdc_requested base, edit;
	const struct tdc_cpuid_entry *fb, *fe, *ff;

	load("requested/qmp-capture-qemu64-kvm.json", NULL, &base);
	load("requested/qmp-capture-qemu64-nocx16-kvm.json", "qmp", &edit);
	assert_string_equal(base.format, "qmp");
	assert_int_equal(base.ncpus, 2);
	assert_non_null(base.per_cpu);
	assert_int_equal(base.per_cpu[1].n, base.table.n);
	fb = get(&base.table, 1, 0);
	fe = get(&edit.table, 1, 0);
	ff = get(&base.filtered, 1, 0);
	assert_true(fb->regs[TDC_EDX] & FPU);
	assert_true(get(&base.per_cpu[1], 1, 0)->regs[TDC_EDX] & FPU);
	/* qemu64 asks for cx16: QEMU sets it, or files it under filtered-features. */
	assert_true((fb->regs[TDC_ECX] | ff->regs[TDC_ECX]) & CX16);
	assert_false((fe->regs[TDC_ECX] | get(&edit.filtered, 1, 0)->regs[TDC_ECX]) & CX16);
	/* Feature words cover whole registers; leaf 1 EAX/EBX are not feature words. */
	assert_int_equal(get(&base.known, 1, 0)->regs[TDC_ECX], 0xffffffff);
	assert_int_equal(get(&base.known, 1, 0)->regs[TDC_EAX], 0);
	assert_true(get(&base.table, 7, 0)->flags & TDC_CPUID_F_INDEXED);
	tdc_requested_free(&base);
	tdc_requested_free(&edit);
}

/*
 * A capture with QEMU's level/xlevel/vendor and -smp (QEMU 7.2 TCG, -cpu max
 * -smp 2): leaf 0 and 0x80000000 as QEMU builds them, no words above level
 * 0xd (0x12, 0x14), and the bits QEMU derives from two cores per package.
 */
static void test_qmp_capture_props(void **state)
{
	struct tdc_requested r;
	const struct tdc_cpuid_entry *e;

	load("requested/qmp-capture-max-tcg-smp2.json", NULL, &r);
	assert_int_equal(r.ncpus, 2);
	e = get(&r.table, 0, 0);
	assert_int_equal(e->regs[TDC_EAX], 0xd);
	assert_int_equal(e->regs[TDC_EBX], 0x68747541); /* "Auth" */
	assert_int_equal(get(&r.known, 0, 0)->regs[TDC_ECX], 0xffffffff);
	assert_int_equal(get(&r.table, 0x80000000, 0)->regs[TDC_EAX], 0x8000000a);
	assert_null(tdc_cpuid_table_find(&r.table, 0x12, 0));
	assert_null(tdc_cpuid_table_find(&r.table, 0x14, 0));
	assert_null(tdc_cpuid_table_find(&r.known, 0x12, 1));
	assert_non_null(tdc_cpuid_table_find(&r.table, 0x40000001, 0)); /* own range, kept */
	assert_true(get(&r.table, 1, 0)->regs[TDC_EDX] >> 28 & 1);          /* ht */
	assert_true(get(&r.table, 0x80000001, 0)->regs[TDC_ECX] >> 1 & 1);  /* cmp-legacy */
	assert_true(get(&r.per_cpu[1], 1, 0)->regs[TDC_EDX] >> 28 & 1);
	tdc_requested_free(&r);
}

static void test_qmp_raw_replies(void **state)
{
	struct tdc_requested reply, pair;

	load("requested/qmp-feature-words-tcg.reply.json", NULL, &reply);
	load("requested/qmp-pair-tcg.json", NULL, &pair);
	assert_string_equal(reply.format, "qmp");
	assert_int_equal(reply.ncpus, 0);
	assert_int_equal(reply.filtered.n, 0);
	assert_true(get(&reply.table, 1, 0)->regs[TDC_EDX] & FPU);
	assert_int_equal(pair.table.n, reply.table.n);
	assert_memory_equal(pair.table.e, reply.table.e, reply.table.n * sizeof(*reply.table.e));
	assert_true(pair.filtered.n > 0);
	tdc_requested_free(&reply);
	tdc_requested_free(&pair);
}

static void test_tdxinit(void **state)
{
	struct tdc_requested r;

	load("requested/tdx-init-vm.json", NULL, &r);
	assert_string_equal(r.format, "tdx-init-vm");
	assert_true(r.has_td_params);
	assert_int_equal(r.attributes, 0x10000000);
	assert_int_equal(r.xfam, 0x602e7);
	assert_true(r.has_tsc_khz);
	assert_int_equal(r.tsc_khz, 2000000);
	assert_true(r.has_mrconfigid);
	assert_int_equal(r.mrconfigid[47], 0xab);
	assert_false(r.has_mrowner);
	assert_int_equal(r.table.n, 3);
	assert_int_equal(get(&r.table, 7, 0)->regs[TDC_EBX], 0x10000);
	assert_true(r.has_caps);
	/* As upstream KVM reports them: SEPT_VE_DISABLE only, TSX cleared, GPAW knob set. */
	assert_int_equal(r.supported_attrs, 0x10000000ull);
	assert_int_equal(r.supported_xfam, 0x6dbe7);
	assert_int_equal(get(&r.configurable, 7, 0)->regs[TDC_EBX], 0xdc2b9308);
	assert_int_equal(get(&r.configurable, 0x80000008, 0)->regs[TDC_EAX], 0x00ff00ff);
	/* 0x80000008.EAX[23:16] is KVM's GPAW knob: recorded, not part of the request. */
	assert_true(r.has_gpaw);
	assert_int_equal(r.gpaw, 48);
	assert_int_equal(get(&r.table, 0x80000008, 0)->regs[TDC_EAX], 0x00300034);
	assert_int_equal(get(&r.known, 0x80000008, 0)->regs[TDC_EAX], 0xff00ffffu);
	tdc_requested_free(&r);
}

static void test_cpuid_r(void **state)
{
	struct tdc_requested r;

	load("platforms/emr-gold-5520p.baremetal.cpuid-r.txt", NULL, &r);
	assert_string_equal(r.format, "cpuid-r");
	assert_true(r.ncpus >= 1);
	assert_true(r.table.n > 10);
	assert_int_equal(r.known.n, r.table.n);
	assert_int_equal(get(&r.known, 0, 0)->regs[TDC_EDX], 0xffffffff);
	/* GenuineIntel */
	assert_int_equal(get(&r.table, 0, 0)->regs[TDC_EBX], 0x756e6547);
	tdc_requested_free(&r);
}

struct bad {
	const char *format;
	const char *doc;
	int code;
	const char *needle;
};

#define E "{\"function\":1,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}"
#define W(reg, eax, feat) "{\"cpuid-register\":\"" reg "\",\"cpuid-input-eax\":" #eax ",\"features\":" feat "}"
#define CPU(idx, words) "{\"cpu-index\":" #idx ",\"qom-path\":\"/machine/unattached/device[" #idx "]\",\"feature-words\":[" words "]}"
#define TDX(init) "{\"format\":\"tdcpuid-tdx-init-vm\",\"version\":1,\"init_vm\":" init "}"
#define CPUID "\"cpuid\":{\"entries\":[" E "]}"

static const struct bad bad_cases[] = {
	/* kvm-json */
	{ NULL, "{\"entries\":[" E ",{\"function\":2,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0},"
		"{\"function\":3,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0},{\"function\":5,\"eax\":1.5,\"ebx\":0,\"ecx\":0,\"edx\":0}]}",
	  TDC_ERR_TYPE, "x.json: entries[3].eax: expected integer 0..0xffffffff" },
	{ NULL, "{\"entries\":[{\"function\":1,\"eax\":0,\"ebx\":0,\"ecx\":0}]}", TDC_ERR_MISSING, "entries[0].edx: missing" },
	{ NULL, "{\"entries\":[{\"function\":1,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0,\"padding\":0}]}", TDC_ERR_FORMAT, "entries[0].padding: unknown key" },
	{ NULL, "{\"entries\":[" E "," E "]}", TDC_ERR_DUPLICATE, "entries[1]: duplicate entry for function 0x1" },
	{ NULL, "{\"entries\":[{\"function\":1,\"flags\":2,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}]}", TDC_ERR_RANGE, "entries[0].flags" },
	{ NULL, "{\"entries\":[{\"function\":4,\"index\":1,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}]}", TDC_ERR_RANGE, "entries[0].index" },
	{ NULL, "{\"entries\":[{\"function\":4,\"index\":0,\"flags\":1,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0},{\"function\":4,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}]}",
	  TDC_ERR_DUPLICATE, "entries[1]: function 0x4 is both indexed and not" },
	{ NULL, "{\"nent\":2,\"entries\":[" E "]}", TDC_ERR_FORMAT, "nent: 2 but entries has 1" },
	{ NULL, "{\"entries\":[{\"function\":1,\"eax\":4294967296,\"ebx\":0,\"ecx\":0,\"edx\":0}]}", TDC_ERR_RANGE, "entries[0].eax" },
	{ NULL, "{\"entries\":[{\"function\":-1,\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}]}", TDC_ERR_RANGE, "entries[0].function" },
	{ NULL, "{\"entries\":[{\"function\":\"0x1g\",\"eax\":0,\"ebx\":0,\"ecx\":0,\"edx\":0}]}", TDC_ERR_RANGE, "entries[0].function" },
	{ NULL, "{\"entries\":{}}", TDC_ERR_TYPE, "entries: expected array" },
	{ NULL, "{\"entries\":[],\"entries\":[]}", TDC_ERR_DUPLICATE, "x.json: line 1" },
	{ NULL, "{\"format\":\"tdcpuid-kvm-cpuid2\",\"version\":3,\"entries\":[]}", TDC_ERR_VERSION, "version: 3" },
	/* qmp */
	{ NULL, "{\"return\":[" W("EXX", 1, "0") "]}", TDC_ERR_RANGE, "return[0].cpuid-register" },
	{ NULL, "{\"return\":[" W("EDX", 1, "4294967296") "]}", TDC_ERR_RANGE, "return[0].features" },
	{ NULL, "{\"return\":[" W("EDX", 1, "1") "," W("EDX", 1, "2") "]}", TDC_ERR_DUPLICATE, "return[1]: second feature word" },
	{ NULL, "{\"return\":[{\"cpuid-register\":\"EDX\",\"features\":1}]}", TDC_ERR_MISSING, "return[0].cpuid-input-eax: missing" },
	{ NULL, "{\"return\":[" W("EDX", 1, "1") "],\"extra\":1}", TDC_ERR_FORMAT, "extra: unknown key" },
	{ NULL, "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"x\"}}", TDC_ERR_FORMAT, "not a known" },
	{ "qmp", "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"x\"}}", TDC_ERR_FORMAT, "QMP error reply" },
	{ NULL, "{\"feature-words\":{\"return\":[]},\"filtered-features\":{\"return\":[" W("EDX", 1, "true") "]}}",
	  TDC_ERR_TYPE, "filtered-features.return[0].features" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":2,\"cpus\":[]}", TDC_ERR_VERSION, "version: 2" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"cpus\":[]}", TDC_ERR_MISSING, "cpus: no vCPUs" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"cpus\":[" CPU(0, W("EDX", 1, "1")) "," CPU(0, W("EDX", 1, "1")) "]}",
	  TDC_ERR_DUPLICATE, "cpus[1].cpu-index: 0 appears twice" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"cpus\":[{\"cpu-index\":0,\"qom-path\":\"/x\"}]}",
	  TDC_ERR_MISSING, "cpus[0].feature-words: missing" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"cpus\":[" CPU(0, W("EDX", 1, "1") ",7") "]}",
	  TDC_ERR_TYPE, "cpus[0].feature-words[1]: expected object" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"cpus\":[{\"cpu-index\":0,\"qom-path\":\"/x\","
		"\"feature-words\":[],\"cpuid-props\":{\"level\":13,\"xlevel\":2147483658,\"vendor\":\"Intel\"}}]}",
	  TDC_ERR_FORMAT, "cpus[0].cpuid-props.vendor: \"Intel\" is not 12 characters" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"cpus\":[{\"cpu-index\":0,\"qom-path\":\"/x\","
		"\"feature-words\":[],\"cpuid-props\":{\"level\":13,\"xlevel\":5,\"vendor\":\"GenuineIntel\"}}]}",
	  TDC_ERR_RANGE, "cpuid-props.xlevel" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"smp\":{\"cores\":0},\"cpus\":[" CPU(0, W("EDX", 1, "1")) "]}",
	  TDC_ERR_RANGE, "smp: 1 dies x 0 cores" },
	{ NULL, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,\"smp\":{\"cores\":2,\"x\":1},\"cpus\":[" CPU(0, W("EDX", 1, "1")) "]}",
	  TDC_ERR_FORMAT, "smp.x: unknown key" },
	/* tdx-init-vm */
	{ NULL, TDX("{\"attributes\":0," CPUID "}"), TDC_ERR_MISSING, "init_vm.xfam: missing" },
	{ NULL, TDX("{\"attributes\":0,\"xfam\":3,\"mrconfigid\":\"abcd\"," CPUID "}"), TDC_ERR_FORMAT, "init_vm.mrconfigid" },
	{ NULL, TDX("{\"attributes\":0,\"xfam\":3,\"mrsigner\":\"abcd\"," CPUID "}"), TDC_ERR_FORMAT, "init_vm.mrsigner: unknown key" },
	{ NULL, TDX("{\"attributes\":0,\"xfam\":3,\"tsc_khz\":0," CPUID "}"), TDC_ERR_RANGE, "init_vm.tsc_khz" },
	{ NULL, TDX("{\"attributes\":0,\"xfam\":3,\"cpuid\":{\"entries\":[" E "],\"format\":\"x\"}}"), TDC_ERR_FORMAT, "init_vm.cpuid.format: unknown key" },
	{ NULL, TDX("{\"attributes\":\"0x1ffffffffffffffff\",\"xfam\":3," CPUID "}"), TDC_ERR_RANGE, "init_vm.attributes" },
	{ NULL, "{\"format\":\"tdcpuid-tdx-init-vm\",\"version\":1,\"init_vm\":{\"attributes\":0,\"xfam\":3," CPUID "},"
		"\"capabilities\":{\"supported_attrs\":0,\"supported_xfam\":0}}", TDC_ERR_MISSING, "capabilities.cpuid: missing" },
	{ NULL, "{\"format\":\"tdcpuid-tdx-init-vm\",\"version\":9,\"init_vm\":{}}", TDC_ERR_VERSION, "version: 9" },
	/* detection and dispatch */
	{ NULL, "{\"hello\":1}", TDC_ERR_FORMAT, "x.json: not a known requested-configuration document" },
	{ NULL, "", TDC_ERR_TRUNCATED, "x.json: empty" },
	{ "kvm-json", "{\"return\":[]}", TDC_ERR_FORMAT, "return: unknown key" },
	{ "xml", "{}", TDC_ERR_USAGE, "unknown requested-configuration format 'xml'" },
	{ NULL, "{\"entries\":[" E "]}\x00", TDC_ERR_FORMAT, "NUL" },
};

static void test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *b = &bad_cases[i];
		struct tdc_requested r;
		size_t len = strlen(b->doc) + (strstr(b->needle, "NUL") ? 1 : 0);
		int e = tdc_requested_parse((const uint8_t *)b->doc, len, b->format, "x.json", &r);

		if (e != b->code || !strstr(tdc_errdetail(), b->needle))
			fail_msg("case %zu (%.60s): got %d '%s', want %d containing '%s'", i,
				 b->doc, e, tdc_errdetail(), b->code, b->needle);
		/* A failed parse leaves nothing to free. */
		assert_int_equal(r.table.n, 0);
		assert_null(r.per_cpu);
	}
}

/* A skipped MSR-style word (no cpuid-register) does not count as a request. */
static void test_qmp_skips_non_cpuid_words(void **state)
{
	static const char doc[] = "{\"return\":[{\"msr-index\":266,\"features\":1}," W("EDX", 1, "1") "]}";
	struct tdc_requested r;

	assert_int_equal(tdc_requested_parse((const uint8_t *)doc, strlen(doc), NULL, "x", &r), 0);
	assert_int_equal(r.table.n, 1);
	assert_int_equal(get(&r.table, 1, 0)->regs[TDC_EDX], 1);
	tdc_requested_free(&r);
}

static void test_caps(void **state)
{
	size_t n = TDC_REQUESTED_FILE_MAX + 1, off;
	uint8_t *big = malloc(n);
	struct tdc_buf b;
	struct tdc_requested r;

	/* File size: refused before any parsing. */
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	assert_int_equal(tdc_requested_parse(big, n, NULL, "big.json", &r), TDC_ERR_TOO_LARGE);
	free(big);
	/* Entry count: TDC_CPUID_MAX_ENTRIES + 1 distinct entries. */
	tdc_buf_init(&b);
	assert_int_equal(tdc_buf_printf(&b, "{\"entries\":["), 0);
	for (unsigned i = 0; i <= TDC_CPUID_MAX_ENTRIES; i++)
		assert_int_equal(tdc_buf_printf(&b, "%s{\"function\":%u,\"eax\":0,\"ebx\":0,"
						"\"ecx\":0,\"edx\":0}", i ? "," : "", i), 0);
	assert_int_equal(tdc_buf_printf(&b, "]}"), 0);
	assert_int_equal(tdc_requested_parse(b.data, b.len, NULL, "many.json", &r),
			 TDC_ERR_TOO_LARGE);
	assert_non_null(strstr(tdc_errdetail(), "many.json: entries"));
	/* vCPU count of a capture. */
	tdc_buf_reset(&b);
	assert_int_equal(tdc_buf_printf(&b, "{\"format\":\"tdcpuid-qmp-capture\",\"version\":1,"
					"\"cpus\":["), 0);
	for (unsigned i = 0; i <= TDC_REQUESTED_MAX_CPUS; i++)
		assert_int_equal(tdc_buf_printf(&b, "%s{}", i ? "," : ""), 0);
	assert_int_equal(tdc_buf_printf(&b, "]}"), 0);
	off = b.len;
	assert_int_equal(tdc_requested_parse(b.data, off, NULL, "cpus.json", &r), TDC_ERR_TOO_LARGE);
	assert_non_null(strstr(tdc_errdetail(), "cpus.json: cpus"));
	tdc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvmjson),
		cmocka_unit_test(test_qmp_capture),
		cmocka_unit_test(test_qmp_raw_replies),
		cmocka_unit_test(test_qmp_capture_props),
		cmocka_unit_test(test_tdxinit),
		cmocka_unit_test(test_cpuid_r),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_qmp_skips_non_cpuid_words),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
