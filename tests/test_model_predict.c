// SPDX-License-Identifier: Apache-2.0
/*
 * The TDX 1.5.01 model run forward on a real Intel server's CPUID
 * (tests/data/platforms/emr-gold-5520p.baremetal.cpuid-r.txt, Xeon Gold
 * 5520+, Emerald Rapids).  Every expected value below is derived by hand
 * from the module's tables (policies/models/src/tdx-module-1.5.01-cpuid.json:
 * cpuid_lookup fixed0_or_dynamic/fixed1, cpuid_configurable
 * config_direct/allow_direct, xfam_masks) following the algorithm in
 * docs/models.md; the derivation is in the
 * comment next to each value.  "&~" is AND NOT.
 *
 * Cross-check that needs no trust in this code: with XFAM = x87|SSE and an
 * all-zero CPUID_CONFIG, the bits a TD still sees in 1.ECX, 1.EDX and 7.0
 * EBX/ECX/EDX are exactly QEMU's hand-maintained tdx_fixed1_bits
 * (tdx-abi.md section 4.2): 0xC6FAA217, 0x07A9FBFF, 0x219424C1, 0x19000000,
 * 0xFC000400.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "model.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/tdx.h"

#define EMR "platforms/emr-gold-5520p.baremetal.cpuid-r.txt"
#define ALL 0xffffffffu

static struct tdc_model *tdx;
static struct tdc_cpuid_table *emr; /* CPU 0 of the dump */
static size_t nemr;

static int setup(void **state)
{
	struct tdc_buf b;
	int r;

	setenv("TDCPUID_DATADIR", TDC_SOURCE_DIR "/policies", 1);
	if ((r = tdc_model_load("tdx-1.5.01", &tdx)) != 0) {
		fprintf(stderr, "%s\n", tdc_errmsg(r));
		return -1;
	}
	tdc_test_read(EMR, &b);
	r = tdc_import_cpuid_r(b.data, b.len, EMR, &emr, &nemr);
	tdc_buf_free(&b);
	return r == 0 && nemr == 1 ? 0 : -1;
}

static int teardown(void **state)
{
	tdc_model_free(tdx);
	for (size_t i = 0; i < nemr; i++)
		tdc_cpuid_table_free(&emr[i]);
	free(emr);
	return 0;
}

static int predict(struct tdc_prediction *p, uint64_t xfam, uint64_t attrs,
		   const struct tdc_cpuid_table *platform, const struct tdc_cpuid_table *req,
		   bool strict)
{
	struct tdc_predict_in in = { .platform = platform, .requested = req,
				     .strict_config = strict, .xfam = xfam,
				     .attributes = attrs, .has_tsc_khz = true,
				     .tsc_khz = 2000000 };

	tdc_prediction_init(p);
	return tdc_model_predict(tdx, &in, p);
}

static const struct tdc_pred_reg *reg_of(const struct tdc_prediction *p, uint32_t leaf,
					 uint32_t sub, enum tdc_reg reg)
{
	static struct tdc_pred_leaf tmp;

	return &tdc_prediction_lookup(p, leaf, sub, &tmp)->r[reg];
}

/* Predicted value, fully known. */
static void expect(const struct tdc_prediction *p, uint32_t leaf, uint32_t sub,
		   enum tdc_reg reg, uint32_t value)
{
	const struct tdc_pred_reg *r = reg_of(p, leaf, sub, reg);

	if (r->value != value || r->known != ALL)
		fail_msg("CPUID 0x%x.%u %s: predicted 0x%08x (known 0x%08x), expected 0x%08x",
			 leaf, sub, tdc_reg_name(reg), r->value, r->known, value);
}

static void expect_known(const struct tdc_prediction *p, uint32_t leaf, uint32_t sub,
			 enum tdc_reg reg, uint32_t value, uint32_t known)
{
	const struct tdc_pred_reg *r = reg_of(p, leaf, sub, reg);

	if ((r->value & known) != (value & known) || r->known != known)
		fail_msg("CPUID 0x%x.%u %s: predicted 0x%08x known 0x%08x, expected 0x%08x known 0x%08x",
			 leaf, sub, tdc_reg_name(reg), r->value, r->known, value, known);
}

static void expect_class(const struct tdc_prediction *p, uint32_t leaf, uint32_t sub,
			 enum tdc_reg reg, unsigned bit, enum tdc_bitclass cls)
{
	const struct tdc_pred_reg *r = reg_of(p, leaf, sub, reg);

	if (r->cls[bit] != cls)
		fail_msg("CPUID 0x%x.%u %s[%u]: class %s, expected %s", leaf, sub,
			 tdc_reg_name(reg), bit, tdc_bitclass_name(r->cls[bit]),
			 tdc_bitclass_name(cls));
	assert_non_null(r->src[bit]);
}

/*
 * XFAM = 0x3 (x87, SSE), ATTRIBUTES = 0, CPUID_CONFIG all zero (no
 * --requested), TSC 2 GHz: the smallest TD this platform can run.
 */
static void test_minimal_td(void **state)
{
	struct tdc_prediction p;
	struct tdc_pred_leaf tmp;

	assert_int_equal(predict(&p, 0x3, 0, emr, NULL, true), 0);
	/* 0.EAX: native 0x20 &~ fixed0 0xffffffdc = 0x00, | fixed1 0x23 = 0x23. */
	expect(&p, 0, 0, TDC_EAX, 0x23);
	/* 0.EBX: native "Genu", pinned by verify_mask = verify_value 0x756e6547. */
	expect(&p, 0, 0, TDC_EBX, 0x756e6547);
	/*
	 * 1.EAX: native 0x000c06f2 &~ fixed0 0xf000c000 = 0x000c06f2; config_direct
	 * 0x0fff3fff takes input 0 -> 0x00000000; the FMS rule turns 0 into the
	 * native family/model/stepping: 0x000c06f2.
	 */
	expect(&p, 1, 0, TDC_EAX, 0x000c06f2);
	expect_class(&p, 1, 0, TDC_EAX, 4, TDC_C_NATIVE);
	/*
	 * 1.EBX: native 0x00800800 &~ fixed0 0xff0000ff = 0x00800800; config_direct
	 * 0x00ff0000 <- 0 -> 0x00000800; [31:24] initial APIC ID dynamic = vCPU 0.
	 */
	expect_known(&p, 1, 0, TDC_EBX, 0x00000800, 0x00ffffff);
	expect_class(&p, 1, 0, TDC_EBX, 24, TDC_C_DYNAMIC);
	/*
	 * 1.ECX: native 0x7ffefbff &~ fixed0 0x08010060 = 0x77fefb9f; | fixed1
	 * 0x80000000 = 0xf7fefb9f; allow_direct 0x31044d88 with input 0 clears
	 * them = 0xc6fab217; XFAM[2] = 0 clears xfam mask 0x30001000 = 0xc6faa217
	 * (= QEMU's 1.ECX fixed1 list).  OSXSAVE [27] is dynamic, 0 at reset.
	 */
	expect_known(&p, 1, 0, TDC_ECX, 0xc6faa217, ~(1u << 27));
	expect_class(&p, 1, 0, TDC_ECX, 31, TDC_C_FIXED1);     /* hypervisor */
	expect_class(&p, 1, 0, TDC_ECX, 5, TDC_C_FIXED0);      /* VMX */
	expect_class(&p, 1, 0, TDC_ECX, 27, TDC_C_DYNAMIC);    /* OSXSAVE */
	expect_class(&p, 1, 0, TDC_ECX, 28, TDC_C_XFAM);       /* AVX, XFAM[2] = 0 */
	expect_class(&p, 1, 0, TDC_ECX, 24, TDC_C_CONFIGURABLE); /* TSC-deadline */
	expect_class(&p, 1, 0, TDC_ECX, 0, TDC_C_NATIVE);      /* SSE3 */
	/*
	 * 1.EDX: native 0xbfebfbff &~ fixed0 0x40120400 = 0xbfe9fbff; | fixed1
	 * 0x00000200 (APIC, already 1); allow_direct 0xb8440000 <- 0 = 0x07a9fbff
	 * (= QEMU's 1.EDX fixed1 list).
	 */
	expect(&p, 1, 0, TDC_EDX, 0x07a9fbff);
	/*
	 * 4.0: EAX native 0xfc004121 &~ fixed0 0x3c00, config_direct 0xffffc3ff <- 0:
	 * 0x00000000.  EBX config_direct 0xfffff000 <- 0: 0x0000003f (line size
	 * bits stay native).  ECX config_direct all <- 0.  EDX: 0.
	 */
	expect(&p, 4, 0, TDC_EAX, 0);
	expect(&p, 4, 0, TDC_EBX, 0x0000003f);
	expect(&p, 4, 0, TDC_ECX, 0);
	/* 5: MONITOR (1.ECX[3], allow_direct) was cleared, so leaf 5 is all zero. */
	expect(&p, 5, 0, TDC_EAX, 0);
	expect(&p, 5, 0, TDC_EDX, 0);
	/*
	 * 7.0 EBX: native 0xf3bfbfff &~ fixed0 0x00404006 = 0xf3bfbff9; allow_direct
	 * 0xdc2b9b18 <- 0 = 0x239424e1; XFAM masks of absent bits 2 (0x20), 5-7
	 * (0xdc230000), 8 (0x02000000) = 0x219424c1 (QEMU's list).
	 * HLE [4] and RTM [11] are dynamic (TSX_CTRL), here 0.
	 */
	expect_known(&p, 7, 0, TDC_EBX, 0x219424c1, ~((1u << 4) | (1u << 11)));
	/*
	 * 7.0 ECX: native 0xfb417fee &~ fixed0 0x643e8010 = 0x9b417fee; allow_direct
	 * 0x02417f65 <- 0 = 0x9900008a; XFAM masks 2 (0x600), 5-7 (0x5842), 9 (0x8),
	 * 11/12 (0x80) = 0x99000000; PKS [31] := ATTRIBUTES.PKS = 0, KL [23] := 0:
	 * 0x19000000 (QEMU's list).  OSPKE [4] dynamic, 0.
	 */
	expect_known(&p, 7, 0, TDC_ECX, 0x19000000, ~(1u << 4));
	expect_class(&p, 7, 0, TDC_ECX, 31, TDC_C_ATTRIBUTES);
	/*
	 * 7.0 EDX: native 0xffdd4432 &~ fixed0 0x002298c3 = 0xffdd4430; allow_direct
	 * 0x0005411c <- 0 = 0xffd80420; XFAM masks 5-7 (0x0080010c), 11/12
	 * (0x00100000), 14 (0x20), 15 (0x80000), 17/18 (0x03400000) = 0xfc000400.
	 */
	expect(&p, 7, 0, TDC_EDX, 0xfc000400);
	/* 0xA: ATTRIBUTES.PERFMON = 0, all zero, class attributes. */
	expect(&p, 0xa, 0, TDC_EAX, 0);
	expect_class(&p, 0xa, 0, TDC_EAX, 0, TDC_C_ATTRIBUTES);
	/*
	 * 0xD.0 EAX: native 0x000602e7 &~ fixed0 0xfff9fd18 = 0x000602e7; XFAM masks
	 * of absent 2 (0x4), 5-7 (0xe0), 9 (0x200), 17/18 (0x60000) = 0x00000003.
	 * ECX: max XSAVE size with XCR0 = 0x3 = the 576-byte legacy area + header.
	 */
	expect(&p, 0xd, 0, TDC_EAX, 0x3);
	expect(&p, 0xd, 0, TDC_ECX, 576);
	expect_class(&p, 0xd, 0, TDC_ECX, 9, TDC_C_CALCULATED);
	expect_known(&p, 0xd, 0, TDC_EBX, 576, 0);  /* dynamic, 576 at reset */
	/*
	 * 0xD.1 EAX: native 0x1f &~ fixed0 0xffffffe0 = 0x1f; XFD [4] needs an XFAM
	 * component with XFD support (platform 0xD.18 ECX[2] = 1 only): cleared
	 * = 0x0f.  ECX: 0xdd00 &~ 0xffff26ff = 0xd900; XFAM masks 8 (0x100), 11/12
	 * (0x1800), 14 (0x4000), 15 (0x8000) = 0.
	 */
	expect(&p, 0xd, 1, TDC_EAX, 0x0f);
	expect_class(&p, 0xd, 1, TDC_EAX, 4, TDC_C_XFAM);
	expect(&p, 0xd, 1, TDC_ECX, 0);
	/* 0xD.2 (AVX state): XFAM[2] = 0, all zero. */
	expect(&p, 0xd, 2, TDC_EAX, 0);
	expect(&p, 0xd, 2, TDC_EBX, 0);
	/* 0x14: XFAM[8] = 0, zero.  0x1D: XFAM[17,18] = 0, zero. */
	expect(&p, 0x14, 0, TDC_EBX, 0);
	expect(&p, 0x1d, 1, TDC_EAX, 0);
	/* 0x15: EAX fixed1 1, EBX = 2000000 kHz / 25000 = 80, ECX fixed1 25,000,000. */
	expect(&p, 0x15, 0, TDC_EAX, 1);
	expect(&p, 0x15, 0, TDC_EBX, 80);
	expect(&p, 0x15, 0, TDC_ECX, 25000000);
	/* 0x21: fixed1 "IntelTDX    ". */
	expect(&p, 0x21, 0, TDC_EBX, 0x65746e49);
	expect(&p, 0x21, 0, TDC_EDX, 0x5844546c);
	/* 0x80000000 EAX: fixed1 0x80000008. */
	expect(&p, 0x80000000, 0, TDC_EAX, 0x80000008);
	/*
	 * 0x80000008 EAX: native 0x392e &~ fixed0 0xffff0000 = 0x392e; LA bits [15:8]:
	 * 7.0 ECX.LA57 [16] was cleared (allow_direct <- 0), so 48 = 0x302e.
	 * EBX: native 0x200 &~ 0xfffffdff = 0x200, allow_direct 0x200 <- 0 = 0.
	 */
	expect(&p, 0x80000008, 0, TDC_EAX, 0x302e);
	expect_class(&p, 0x80000008, 0, TDC_EAX, 8, TDC_C_CALCULATED);
	expect(&p, 0x80000008, 0, TDC_EBX, 0);
	/* 0x80000001 EDX: 0x2c100000 &~ 0xd3efffff = 0x2c100000; SYSCALL dynamic. */
	expect_known(&p, 0x80000001, 0, TDC_EDX, 0x2c100000, ~(1u << 11));
	/* #VE: 0x6 (faulting), 0xB (not in the table), 0x1F.0; zeros from Linux. */
	assert_true(tdc_prediction_lookup(&p, 6, 0, &tmp)->ve);
	expect(&p, 0xb, 0, TDC_EAX, 0);
	expect_class(&p, 0xb, 0, TDC_EAX, 0, TDC_C_VE);
	assert_true(tdc_prediction_lookup(&p, 0x1f, 0, &tmp)->ve);
	/* 0x40000000: #VE forwarded to the VMM: untrusted, nothing predicted. */
	assert_true(tdc_prediction_lookup(&p, 0x40000000, 0, &tmp)->vmm);
	expect_known(&p, 0x40000001, 0, TDC_EAX, 0, 0);
	/* Above the maximum basic leaf 0x23: read as leaf 0x23 (all zero here). */
	expect(&p, 0x30, 0, TDC_EAX, 0);
	assert_int_equal(p.max_basic, 0x23);
	tdc_prediction_free(&p);
}

/*
 * XFAM = 0x2e7 (x87 SSE AVX OPMASK ZMM_Hi256 Hi16_ZMM PKRU), ATTRIBUTES = 0,
 * requested = the platform's own CPUID (like `-cpu host`), filtered to the
 * configurable bits as QEMU does.
 */
static void test_avx512_td(void **state)
{
	struct tdc_prediction p;

	assert_int_equal(predict(&p, 0x2e7, 0, emr, emr, false), 0);
	/*
	 * 1.ECX: 0xf7fefb9f after fixed0/fixed1 (as above); allow_direct input =
	 * native 0x7ffefbff & 0x31044d88 = 0x31044988: only bit 10 (allowed, native
	 * 0) would be cleared and it is already 0: 0xf7fefb9f; XFAM[2] = 1 keeps AVX.
	 */
	expect_known(&p, 1, 0, TDC_ECX, 0xf7fefb9f, ~(1u << 27));
	expect_class(&p, 1, 0, TDC_ECX, 28, TDC_C_CONFIGURABLE);
	/* 1.EBX: config_direct [23:16] <- requested 0x80: 0x00800800. */
	expect_known(&p, 1, 0, TDC_EBX, 0x00800800, 0x00ffffff);
	/* 1.EDX: 0xbfe9fbff; allow_direct input 0xbfebfbff & 0xb8440000 = 0xb8400000 clears bit 18 (already 0). */
	expect(&p, 1, 0, TDC_EDX, 0xbfe9fbff);
	/* 1.EAX: config_direct <- requested 0x000c06f2 (= native, non-migratable OK). */
	expect(&p, 1, 0, TDC_EAX, 0x000c06f2);
	expect_class(&p, 1, 0, TDC_EAX, 4, TDC_C_CONFIGURABLE);
	/*
	 * 7.0 EBX: 0xf3bfbff9 after fixed0; allow_direct with input = native keeps
	 * it; XFAM[8] = 0 clears PT (0x02000000): 0xf1bfbff9.  5-7 present: AVX512 kept.
	 */
	expect_known(&p, 7, 0, TDC_EBX, 0xf1bfbff9, ~((1u << 4) | (1u << 11)));
	expect_class(&p, 7, 0, TDC_EBX, 5, TDC_C_NATIVE);      /* AVX2: XFAM[2] = 1, native */
	expect_class(&p, 7, 0, TDC_EBX, 16, TDC_C_CONFIGURABLE); /* AVX512F: allow_direct */
	/*
	 * 7.0 ECX: 0x9b417fee after fixed0; allow_direct keeps; XFAM[11/12] = 0 clears
	 * CET_SS (0x80): 0x9b417f6e; PKS := 0: 0x1b417f6e.
	 */
	expect_known(&p, 7, 0, TDC_ECX, 0x1b417f6e, ~(1u << 4));
	/*
	 * 7.0 EDX: 0xffdd4430 after fixed0; allow_direct keeps; XFAM 11/12
	 * (0x00100000), 14 (0x20), 15 (0x80000), 17/18 (0x03400000) cleared:
	 * 0xfc854410.
	 */
	expect(&p, 7, 0, TDC_EDX, 0xfc854410);
	/*
	 * 0xD.0 EAX: 0x602e7 &~ XFAM 17/18 mask 0x60000 = 0x2e7.  ECX: ends of the
	 * enabled components from the platform's 0xD.n (offset EBX + size EAX):
	 * 2: 0x240+0x100, 5: 0x440+0x40, 6: 0x480+0x200, 7: 0x680+0x400,
	 * 9: 0xa80+0x8 -> max 0xa88.
	 */
	expect(&p, 0xd, 0, TDC_EAX, 0x2e7);
	expect(&p, 0xd, 0, TDC_ECX, 0xa88);
	/* 0xD.2: XFAM[2] = 1, native 0x100 / 0x240. */
	expect(&p, 0xd, 2, TDC_EAX, 0x100);
	expect(&p, 0xd, 2, TDC_EBX, 0x240);
	/* 0xD.1 EAX XFD: XFAM[18] = 0 -> 0x0f. */
	expect(&p, 0xd, 1, TDC_EAX, 0x0f);
	/* 0x80000008 EAX: LA57 kept (allow_direct <- 1) -> 57 = 0x39: 0x392e. */
	expect(&p, 0x80000008, 0, TDC_EAX, 0x392e);
	/* 0x80000008 EBX: allow_direct 0x200 <- 1: 0x200. */
	expect(&p, 0x80000008, 0, TDC_EBX, 0x200);
	/* 5: MONITOR kept (allow_direct <- 1): native 0x40 &~ fixed0 0xffff0000. */
	expect(&p, 5, 0, TDC_EAX, 0x40);
	/* QEMU-style: hypervisor forced on, VMX refused-as-unsupported, PKS off. */
	assert_int_equal(tdc_cpuid_table_find(&p.forced_on, 1, 0)->regs[TDC_ECX], 1u << 31);
	assert_true(tdc_cpuid_table_find(&p.forced_off, 1, 0)->regs[TDC_ECX] & (1u << 5));
	assert_true(tdc_cpuid_table_find(&p.forced_off, 7, 0)->regs[TDC_ECX] & (1u << 31));
	assert_int_equal(p.refused.n, 0);
	tdc_prediction_free(&p);
}

/* XFAM = 0x602e7 (+ AMX), ATTRIBUTES = PKS | PERFMON. */
static void test_amx_pks_perfmon(void **state)
{
	struct tdc_prediction p;

	assert_int_equal(predict(&p, 0x602e7, TDX_ATTR_PKS | TDX_ATTR_PERFMON, emr, emr, false), 0);
	/* 7.0 ECX: 0x9b417f6e (as with 0x2e7), PKS [31] := ATTRIBUTES.PKS = 1: 0x9b417f6e. */
	expect_known(&p, 7, 0, TDC_ECX, 0x9b417f6e, ~(1u << 4));
	expect_class(&p, 7, 0, TDC_ECX, 31, TDC_C_ATTRIBUTES);
	/* 7.0 EDX: AMX bits 0x03400000 now kept: 0xfc854410 | 0x03400000 = 0xffc54410. */
	expect(&p, 7, 0, TDC_EDX, 0xffc54410);
	/* 0xD.0 EAX: nothing cleared: 0x602e7.  ECX: + 17: 0xac0+0x40, 18: 0xb00+0x2000 = 0x2b00. */
	expect(&p, 0xd, 0, TDC_EAX, 0x602e7);
	expect(&p, 0xd, 0, TDC_ECX, 0x2b00);
	/* 0xD.1 EAX: XFAM[18] has XFD: 0x1f kept. */
	expect(&p, 0xd, 1, TDC_EAX, 0x1f);
	/* 0xA (PERFMON): native; EDX 0x8604 &~ fixed0 0xffff6000 = 0x8604. */
	expect(&p, 0xa, 0, TDC_EAX, 0x08300805);
	expect(&p, 0xa, 0, TDC_ECX, 0xf);
	expect(&p, 0xa, 0, TDC_EDX, 0x8604);
	/* 0x1D (AMX, XFAM[17] and [18]): native. */
	expect(&p, 0x1d, 1, TDC_EAX, 0x04002000);
	tdc_prediction_free(&p);

	/* PKS without PERFMON: 0xA is zero again, PKS stays 1. */
	assert_int_equal(predict(&p, 0x602e7, TDX_ATTR_PKS, emr, emr, false), 0);
	expect(&p, 0xa, 0, TDC_EAX, 0);
	expect_known(&p, 7, 0, TDC_ECX, 0x9b417f6e, ~(1u << 4));
	tdc_prediction_free(&p);
}

/* Without --platform: native bits are unpredicted, pinned and fixed bits known. */
static void test_no_platform(void **state)
{
	struct tdc_prediction p;

	assert_int_equal(predict(&p, 0x3, 0, NULL, NULL, true), 0);
	/* Vendor string pinned by verify_mask: known without a platform. */
	expect(&p, 0, 0, TDC_EBX, 0x756e6547);
	/*
	 * 1.ECX: known = fixed0 0x08010060 (minus dynamic OSXSAVE 0x08000000)
	 * | fixed1 0x80000000 | allow_direct cleared by input 0 0x31044d88
	 * | xfam 0x30001000 | pinned verify_mask 0x47faa217, value = pinned | fixed1.
	 */
	expect_known(&p, 1, 0, TDC_ECX, 0xc6faa217 & (0x00010060u | 0x80000000u | 0x31044d88u |
			0x30001000u | 0x47faa217u), 0x00010060u | 0x80000000u | 0x31044d88u |
			0x30001000u | 0x47faa217u);
	expect_class(&p, 7, 0, TDC_EBX, 0, TDC_C_NATIVE);
	/* 0xD.0 ECX needs the platform's component sizes: unpredicted. */
	expect_known(&p, 0xd, 0, TDC_ECX, 0, 0);
	tdc_prediction_free(&p);
}

static struct tdc_cpuid_table one_entry(uint32_t leaf, uint32_t sub, enum tdc_reg reg,
					uint32_t value)
{
	struct tdc_cpuid_table t;
	struct tdc_cpuid_entry e = { .leaf = leaf, .subleaf = sub,
				     .flags = tdc_leaf_is_indexed(leaf) ? TDC_CPUID_F_INDEXED : 0 };

	tdc_cpuid_table_init(&t);
	e.regs[reg] = value;
	assert_int_equal(tdc_cpuid_table_set(&t, &e), 0);
	return t;
}

/* The module's operand errors, as TDH.MNG.INIT would return them. */
static void test_refusals(void **state)
{
	struct tdc_prediction p;
	struct tdc_cpuid_table t;

	/* 7.0 EBX bit 0 (FSGSBASE) is neither config_direct nor allow_direct. */
	t = one_entry(7, 0, TDC_EBX, 0x1);
	assert_int_equal(predict(&p, 0x3, 0, emr, &t, true), TDC_ERR_MODEL);
	assert_string_equal(tdc_errdetail(),
			    "TDX_OPERAND_INVALID (CPUID_CONFIG): CPUID.07H.0:EBX bit 0 is not configurable");
	assert_int_equal(tdc_cpuid_table_find(&p.refused, 7, 0)->regs[TDC_EBX], 0x1);
	tdc_prediction_free(&p);
	/* The same request as a desired CPUID (filter mode): masked, not refused. */
	assert_int_equal(predict(&p, 0x3, 0, emr, &t, false), 0);
	assert_int_equal(p.refused.n, 0);
	tdc_prediction_free(&p);
	tdc_cpuid_table_free(&t);

	/* HLE [4] without RTM [11]: both allow_direct, native 1; RTM cleared. */
	t = one_entry(7, 0, TDC_EBX, 1u << 4);
	assert_int_equal(predict(&p, 0x3, 0, emr, &t, true), TDC_ERR_MODEL);
	assert_non_null(strstr(tdc_errdetail(), "HLE [bit 4] = 1 but .RTM [bit 11] = 0"));
	tdc_prediction_free(&p);
	tdc_cpuid_table_free(&t);

	/* 1.EAX: a family/model/stepping other than the native 0xc06f2, non-migratable. */
	t = one_entry(1, 0, TDC_EAX, 0x000c06f3);
	assert_int_equal(predict(&p, 0x3, 0, emr, &t, true), TDC_ERR_MODEL);
	assert_non_null(strstr(tdc_errdetail(), "family/model/stepping"));
	tdc_prediction_free(&p);
	tdc_cpuid_table_free(&t);
}

static void test_tsc_range(void **state)
{
	struct tdc_predict_in in = { .platform = emr, .xfam = 3, .has_tsc_khz = true,
				     .tsc_khz = 50000 };
	struct tdc_prediction p;

	tdc_prediction_init(&p);
	assert_int_equal(tdc_model_predict(tdx, &in, &p), TDC_ERR_MODEL);
	assert_non_null(strstr(tdc_errdetail(), "TSC_FREQUENCY"));
	tdc_prediction_free(&p);
}

/* check_xfam(): TDX_OPERAND_INVALID (XFAM) before any CPUID is computed. */
static void test_xfam_checks(void **state)
{
	static const struct { uint64_t xfam; const char *why; } bad[] = {
		{ 0x2, "lacks required bits 0x1" },                 /* x87 missing */
		{ 0x27, "must set bits 0xe0 all or none" },          /* OPMASK alone */
		{ 0xe3, "need 0x4" },                                /* AVX-512 without AVX */
		{ 0x20003, "must set bits 0x60000 all or none" },    /* XTILECFG alone */
		{ 0x100003, "sets bits 0x100000 a TD cannot have" }, /* bit 20 */
	};
	struct tdc_prediction p;
	struct tdc_cpuid_table noamx;
	struct tdc_cpuid_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(predict(&p, bad[i].xfam, 0, emr, NULL, true), TDC_ERR_MODEL);
		if (!strstr(tdc_errdetail(), bad[i].why))
			fail_msg("XFAM 0x%llx: '%s' lacks '%s'", (unsigned long long)bad[i].xfam,
				 tdc_errdetail(), bad[i].why);
		tdc_prediction_free(&p);
	}
	/* A platform without AMX state (0xD.0 EAX 0x2e7) cannot give a TD AMX. */
	assert_int_equal(tdc_cpuid_table_copy(&noamx, emr), 0);
	e = *tdc_cpuid_table_find(&noamx, 0xd, 0);
	e.regs[TDC_EAX] = 0x2e7;
	assert_int_equal(tdc_cpuid_table_set(&noamx, &e), 0);
	assert_int_equal(predict(&p, 0x602e7, 0, &noamx, NULL, true), TDC_ERR_MODEL);
	assert_non_null(strstr(tdc_errdetail(), "XFAM bits 0x60000 are not supported by the platform"));
	tdc_prediction_free(&p);
	assert_int_equal(predict(&p, 0x2e7, 0, &noamx, NULL, true), 0);
	tdc_prediction_free(&p);
	tdc_cpuid_table_free(&noamx);
}

static void test_classify(void **state)
{
	enum tdc_bitclass c;
	const char *src;

	assert_int_equal(tdc_model_classify(tdx, 7, 0, TDC_EBX, 5, &c, &src), 0);
	assert_int_equal(c, TDC_C_XFAM);
	assert_non_null(strstr(src, "xfam_bit_2"));
	assert_int_equal(tdc_model_classify(tdx, 1, 0, TDC_ECX, 31, &c, &src), 0);
	assert_int_equal(c, TDC_C_FIXED1);
	assert_int_equal(tdc_model_classify(tdx, 1, 0, TDC_ECX, 27, &c, &src), 0);
	assert_int_equal(c, TDC_C_DYNAMIC);
	assert_int_equal(tdc_model_classify(tdx, 0xd, 0, TDC_ECX, 0, &c, &src), 0);
	assert_int_equal(c, TDC_C_CALCULATED);
	assert_int_equal(tdc_model_classify(tdx, 4, 1, TDC_EAX, 20, &c, &src), 0);
	assert_int_equal(c, TDC_C_CONFIGURABLE);
	assert_int_equal(tdc_model_classify(tdx, 7, 0, TDC_ECX, 31, &c, &src), 0);
	assert_int_equal(c, TDC_C_ATTRIBUTES);
	assert_int_equal(tdc_model_classify(tdx, 0xb, 0, TDC_EAX, 0, &c, &src), 0);
	assert_int_equal(c, TDC_C_VE);
	assert_int_equal(tdc_model_classify(tdx, 0x1f, 3, TDC_EDX, 0, &c, &src), 0);
	assert_int_equal(c, TDC_C_VE);
	assert_int_equal(tdc_model_classify(tdx, 0x40000001, 0, TDC_EAX, 7, &c, &src), 0);
	assert_int_equal(c, TDC_C_VE);
	assert_int_equal(tdc_model_classify(tdx, 0x80000008, 0, TDC_EAX, 0, &c, &src), 0);
	assert_int_equal(c, TDC_C_NATIVE);
}

/* kvm: what was set, except the fields KVM rewrites at run time. */
static void test_kvm_model(void **state)
{
	struct tdc_model *kvm;
	struct tdc_prediction p;
	struct tdc_predict_in in = { .requested = emr };

	assert_int_equal(tdc_model_load("kvm", &kvm), 0);
	tdc_prediction_init(&p);
	assert_int_equal(tdc_model_predict(kvm, &in, &p), 0);
	expect(&p, 7, 0, TDC_EDX, 0xffdd4432);
	expect_class(&p, 7, 0, TDC_EDX, 0, TDC_C_AS_SET);
	expect_known(&p, 1, 0, TDC_ECX, 0x7ffefbff, ~((1u << 27) | (1u << 3)));
	expect_class(&p, 1, 0, TDC_ECX, 27, TDC_C_DYNAMIC);
	expect_known(&p, 0xd, 0, TDC_EBX, 0x2b00, 0);
	expect_known(&p, 0xb, 1, TDC_EDX, 0, 0);
	assert_int_equal(p.forced_on.n + p.forced_off.n + p.refused.n, 0);
	tdc_prediction_free(&p);
	tdc_model_free(kvm);
}

/* ---- model file errors: each names what is wrong -------------------------- */

static int parse_str(const char *s, struct tdc_model **m)
{
	return tdc_model_parse((const uint8_t *)s, strlen(s), "t.json", m);
}

#define HDR "{\"format\":\"tdcpuid-model\",\"format_version\":1,\"name\":\"t\",\"kind\":\"tdx\"," \
	    "\"description\":\"d\",\"source\":\"s\",\"unlisted\":{\"class\":\"ve\",\"source\":\"u\"},"

static void test_model_errors(void **state)
{
	struct tdc_model *m = NULL;

	assert_int_equal(parse_str(HDR "\"leaves\":[]}", &m), 0);
	tdc_model_free(m);
	assert_int_equal(parse_str("{\"format\":", &m), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "t.json: line 1"));
	assert_int_equal(parse_str("{\"format\":\"tdcpuid-model\",\"format_version\":2}", &m),
			 TDC_ERR_VERSION);
	assert_non_null(strstr(tdc_errdetail(), "format_version: 2"));
	assert_int_equal(parse_str(HDR "\"leaves\":[{\"leaf\":1,\"subleaf\":null,\"source\":\"x\","
				   "\"fields\":[{\"reg\":\"eax\",\"mask\":1,\"class\":\"fixed2\","
				   "\"source\":\"y\"}]}]}", &m), TDC_ERR_FORMAT);
	assert_string_equal(tdc_errdetail(),
			    "t.json: leaves[0].fields[0].class: unknown class 'fixed2'");
	assert_int_equal(parse_str(HDR "\"leaves\":[{\"leaf\":1,\"subleaf\":null,\"source\":\"x\","
				   "\"fields\":[{\"reg\":\"eax\",\"mask\":1,\"class\":\"calculated\","
				   "\"rule\":\"magic\",\"source\":\"y\"}]}]}", &m), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "unknown field rule 'magic'"));
	assert_int_equal(parse_str(HDR "\"leaves\":[{\"leaf\":1,\"subleaf\":null}]}", &m),
			 TDC_ERR_MISSING);
	assert_non_null(strstr(tdc_errdetail(), "source"));
	assert_int_equal(parse_str(HDR "\"extra\":1,\"leaves\":[]}", &m), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "extra"));
	assert_int_equal(parse_str(HDR "\"leaves\":[{\"leaf\":7,\"subleaf\":0,\"source\":\"x\"},"
				   "{\"leaf\":7,\"subleaf\":0,\"source\":\"y\"}]}", &m),
			 TDC_ERR_DUPLICATE);
	assert_int_equal(tdc_model_load("..", &m), TDC_ERR_USAGE);
	assert_int_equal(tdc_model_load("no-such-model", &m) == 0, 0);
	assert_non_null(strstr(tdc_errdetail(), "no-such-model.json"));
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_td),
		cmocka_unit_test(test_avx512_td),
		cmocka_unit_test(test_amx_pks_perfmon),
		cmocka_unit_test(test_no_platform),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_tsc_range),
		cmocka_unit_test(test_xfam_checks),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_kvm_model),
		cmocka_unit_test(test_model_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
