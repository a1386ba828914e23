// SPDX-License-Identifier: Apache-2.0
/*
 * CPUID enumeration driven by data: which leaf ranges exist, and for every
 * leaf with subleaves, which subleaves the leaf itself declares valid.
 *
 * Sources for the subleaf rules (facts only, no code copied):
 *   - Intel SDM Vol. 2A, CPUID instruction, Table 3-8 (leaves 04H..24H).
 *   - AMD APM Vol. 3, Appendix E (8000001DH, 80000020H, 80000026H).
 *   - Linux tools/arch/x86/kcpuid/cpuid.csv (x86-cpuid-db v1.0), torvalds/linux
 *     @ 25768de50b1f, the SUBLEAVES column of every leaf.
 *   - Linux arch/x86/kvm/cpuid.c __do_cpuid_func(): KVM also keeps the
 *     terminating (type 0) subleaf of leaves 4, 0xB, 0x1F, 0x8000001D, so a
 *     requested configuration (struct kvm_cpuid2) contains it too.  We keep
 *     it for the same reason: the verifier can see that the list ended.
 *
 * There is no blind 0..255 subleaf loop: a rule that would need more than
 * TDC_SUBLEAF_CAP subleaves means the values are hostile or broken (in a TD
 * the hypervisor range is answered by the untrusted VMM), and enumeration
 * fails with TDC_ERR_TOO_LARGE naming the leaf.
 */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

/* More subleaves than any leaf defines today (0xD tops out at 63). */
#define TDC_SUBLEAF_CAP 64
/* Leaves per range (and per hypervisor block); Intel is at 0x24, AMD at 0x80000028. */
#define TDC_RANGE_CAP 0x100
/* Hypervisor blocks 0x40000000, 0x40000100, ... (Hyper-V + KVM, Xen + Viridian). */
#define TDC_HV_BLOCKS_MAX 16

enum rule_kind {
	/* Subleaves 0..EAX of subleaf 0 (EAX = highest valid subleaf). */
	RULE_MAX_EAX,
	/*
	 * Subleaves from 0 on, until the field (reg >> shift) & mask of a subleaf
	 * at or after @first is 0; that terminating subleaf is kept.
	 */
	RULE_UNTIL_ZERO,
	/* Subleaf 0, plus subleaf n for every bit n >= 1 set in @reg of subleaf 0. */
	RULE_BITMAP,
	/* 0xD: 0, 1, and n >= 2 for every bit set in XCR0 | IA32_XSS supported masks. */
	RULE_XSAVE,
	/* Indexed, but only subleaf 0 is defined. */
	RULE_SINGLE,
};

struct leaf_rule {
	uint32_t leaf;
	uint8_t kind;  /* enum rule_kind */
	uint8_t reg;   /* enum tdc_reg: the register holding the max/bitmap/field */
	uint8_t shift; /* RULE_UNTIL_ZERO field position */
	uint8_t first; /* RULE_UNTIL_ZERO: subleaves below this are unconditional */
	uint32_t mask; /* RULE_UNTIL_ZERO field mask (after shift) */
};

/* Sorted by leaf.  The comment names the field the rule reads. */
static const struct leaf_rule leaf_rules[] = {
	/* Deterministic cache parameters: cache type EAX[4:0], 0 = no more caches. */
	{ 0x00000004, RULE_UNTIL_ZERO, TDC_EAX, 0, 0, 0x1f },
	/* Structured extended features: EAX = max subleaf. */
	{ 0x00000007, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* Extended topology: level type ECX[15:8], 0 = invalid level. */
	{ 0x0000000b, RULE_UNTIL_ZERO, TDC_ECX, 8, 0, 0xff },
	/* Processor extended state. */
	{ 0x0000000d, RULE_XSAVE, TDC_EAX, 0, 0, 0 },
	/* RDT monitoring: 0.EDX bit n = resource n (bit 1: L3). */
	{ 0x0000000f, RULE_BITMAP, TDC_EDX, 0, 0, 0 },
	/* RDT allocation: 0.EBX bit n = resource n (1 L3 CAT, 2 L2 CAT, 3 MBA). */
	{ 0x00000010, RULE_BITMAP, TDC_EBX, 0, 0, 0 },
	/* SGX: 0 and 1 always; EPC sections from 2 until sub-leaf type EAX[3:0] = 0. */
	{ 0x00000012, RULE_UNTIL_ZERO, TDC_EAX, 0, 2, 0xf },
	/* Processor trace: EAX = max subleaf. */
	{ 0x00000014, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* SoC vendor attributes: EAX = MaxSOCID_Index. */
	{ 0x00000017, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* Deterministic address translation: EAX = max subleaf. */
	{ 0x00000018, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* Hybrid information: defined for ECX = 0 only. */
	{ 0x0000001a, RULE_SINGLE, TDC_EAX, 0, 0, 0 },
	/* PCONFIG: sub-leaf type EAX[11:0], 0 = invalid (end of list). */
	{ 0x0000001b, RULE_UNTIL_ZERO, TDC_EAX, 0, 0, 0xfff },
	/* AMX tile information: EAX = max palette. */
	{ 0x0000001d, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* TMUL information: EAX = max subleaf (subleaf 1: AMX feature flags). */
	{ 0x0000001e, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* V2 extended topology: as 0xB. */
	{ 0x0000001f, RULE_UNTIL_ZERO, TDC_ECX, 8, 0, 0xff },
	/* HRESET: EAX = max subleaf (kcpuid reads it as a count; 0..EAX covers both). */
	{ 0x00000020, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* Architectural PerfMon extended: 0.EAX bit n = subleaf n valid. */
	{ 0x00000023, RULE_BITMAP, TDC_EAX, 0, 0, 0 },
	/* AVX10 converged vector ISA: EAX = max subleaf. */
	{ 0x00000024, RULE_MAX_EAX, TDC_EAX, 0, 0, 0 },
	/* AMD cache topology: cache type EAX[4:0], 0 = no more caches. */
	{ 0x8000001d, RULE_UNTIL_ZERO, TDC_EAX, 0, 0, 0x1f },
	/* AMD PQoS extended: 0.EBX bit n = subleaf n (1 MBA, 2 SMBA, 3 BMEC, 5 ABMC). */
	{ 0x80000020, RULE_BITMAP, TDC_EBX, 0, 0, 0 },
	/* AMD extended topology v2: level type ECX[15:8], 0 = end. */
	{ 0x80000026, RULE_UNTIL_ZERO, TDC_ECX, 8, 0, 0xff },
};

static const struct leaf_rule *rule_for(uint32_t leaf)
{
	size_t lo = 0, hi = sizeof(leaf_rules) / sizeof(leaf_rules[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (leaf_rules[mid].leaf == leaf)
			return &leaf_rules[mid];
		if (leaf_rules[mid].leaf < leaf)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool tdc_leaf_is_indexed(uint32_t leaf)
{
	return rule_for(leaf) != NULL;
}

/* One enumeration in progress: the backend, the output and the count. */
struct enum_ctx {
	tdc_cpuid_fn fn;
	void *ctx;
	struct tdc_cpuid_table *out;
	unsigned long count;
};

static int exec_one(struct enum_ctx *ec, uint32_t leaf, uint32_t sub, bool indexed,
		    uint32_t regs[TDC_NREGS])
{
	struct tdc_cpuid_entry e = { .leaf = leaf, .subleaf = sub,
				     .flags = indexed ? TDC_CPUID_F_INDEXED : 0 };
	int r;

	ec->count++;
	if ((r = ec->fn(ec->ctx, leaf, sub, e.regs)) != 0)
		return r;
	if (regs) {
		for (int i = 0; i < TDC_NREGS; i++)
			regs[i] = e.regs[i];
	}
	return tdc_cpuid_table_set(ec->out, &e);
}

static int too_many(uint32_t leaf, const char *why, unsigned long long n)
{
	return tdc_err(TDC_ERR_TOO_LARGE,
		       "CPUID.%08XH: %s declares %llu subleaves (cap %d): values are broken or hostile",
		       leaf, why, n, TDC_SUBLEAF_CAP);
}

static int enum_max_eax(struct enum_ctx *ec, const struct leaf_rule *lr,
			const uint32_t sub0[TDC_NREGS])
{
	uint32_t max = sub0[lr->reg];
	int r;

	if (max >= TDC_SUBLEAF_CAP)
		return too_many(lr->leaf, "max subleaf", (unsigned long long)max + 1);
	for (uint32_t s = 1; s <= max; s++)
		if ((r = exec_one(ec, lr->leaf, s, true, NULL)) != 0)
			return r;
	return 0;
}

static int enum_until_zero(struct enum_ctx *ec, const struct leaf_rule *lr,
			   const uint32_t sub0[TDC_NREGS])
{
	uint32_t regs[TDC_NREGS];
	int r;

	for (int i = 0; i < TDC_NREGS; i++)
		regs[i] = sub0[i];
	for (uint32_t s = 0;; s++) {
		if (s > 0 && (r = exec_one(ec, lr->leaf, s, true, regs)) != 0)
			return r;
		if (s >= lr->first && ((regs[lr->reg] >> lr->shift) & lr->mask) == 0)
			return 0;
		if (s + 1 >= TDC_SUBLEAF_CAP)
			return too_many(lr->leaf, "no terminating subleaf: more than", s + 1ull);
	}
}

static int enum_bits(struct enum_ctx *ec, uint32_t leaf, uint64_t bits, unsigned from)
{
	int r;

	for (unsigned b = from; b < 64; b++) {
		if (!(bits & (1ull << b)))
			continue;
		if (b >= TDC_SUBLEAF_CAP)
			return too_many(leaf, "bitmap", b + 1ull);
		if ((r = exec_one(ec, leaf, b, true, NULL)) != 0)
			return r;
	}
	return 0;
}

/*
 * 0xD: subleaf n >= 2 describes state component n, supported if bit n is set
 * in 0xD.0 EDX:EAX (XCR0-managed) or 0xD.1 EDX:ECX (IA32_XSS-managed).
 * Components 0 and 1 (x87, SSE) have no subleaf of their own.
 */
static int enum_xsave(struct enum_ctx *ec, const struct leaf_rule *lr,
		      const uint32_t sub0[TDC_NREGS])
{
	uint32_t sub1[TDC_NREGS];
	uint64_t bits;
	int r;

	if ((r = exec_one(ec, lr->leaf, 1, true, sub1)) != 0)
		return r;
	bits = ((uint64_t)sub0[TDC_EDX] << 32 | sub0[TDC_EAX]) |
	       ((uint64_t)sub1[TDC_EDX] << 32 | sub1[TDC_ECX]);
	return enum_bits(ec, lr->leaf, bits, 2);
}

static int enum_leaf(struct enum_ctx *ec, uint32_t leaf)
{
	const struct leaf_rule *lr = rule_for(leaf);
	uint32_t sub0[TDC_NREGS];
	int r;

	if ((r = exec_one(ec, leaf, 0, lr != NULL, sub0)) != 0)
		return r;
	if (!lr)
		return 0;
	switch (lr->kind) {
	case RULE_MAX_EAX:
		return enum_max_eax(ec, lr, sub0);
	case RULE_UNTIL_ZERO:
		return enum_until_zero(ec, lr, sub0);
	case RULE_BITMAP:
		return enum_bits(ec, leaf, sub0[lr->reg], 1);
	case RULE_XSAVE:
		return enum_xsave(ec, lr, sub0);
	case RULE_SINGLE:
		return 0;
	}
	return tdc_err(TDC_ERR_INTERNAL, "leaf rule %08X: unknown kind %u", leaf, lr->kind);
}

/*
 * Leaf ranges.  The base leaf of each is always executed and recorded (that
 * is how we learn the range is absent, and `cpuid -r` prints it too); the
 * rest only if the base's EAX names a maximum inside the range.
 */
enum range_gate { GATE_NONE, GATE_HYPERVISOR_BIT };

struct leaf_range {
	uint32_t base;
	uint8_t gate;       /* enum range_gate */
	uint8_t always;     /* the range must exist: a max beyond the cap is an error */
	uint8_t blocks;     /* number of 0x100-spaced blocks to try (hypervisor) */
	const char *what;
};

static const struct leaf_range leaf_ranges[] = {
	{ 0x00000000, GATE_NONE, 1, 1, "basic" },
	/* Intel Xeon Phi (Knights) range; absent elsewhere, one probe. */
	{ 0x20000000, GATE_NONE, 0, 1, "Xeon Phi" },
	/* Present only when CPUID.01H:ECX.hypervisor[31] says so. */
	{ 0x40000000, GATE_HYPERVISOR_BIT, 0, TDC_HV_BLOCKS_MAX, "hypervisor" },
	{ 0x80000000, GATE_NONE, 0, 1, "extended" },
	/* Transmeta range; absent elsewhere, one probe. */
	{ 0x80860000, GATE_NONE, 0, 1, "Transmeta" },
	/* Centaur/Zhaoxin range. */
	{ 0xc0000000, GATE_NONE, 0, 1, "Centaur" },
};

/*
 * Highest leaf of the block at @base given its EAX, 0 if the block is
 * absent.  KVM hosts older than 2.6.35-era set 0x40000000.EAX = 0, meaning
 * 0x40000001 (Documentation/virt/kvm/x86/cpuid.rst); honour that only with
 * the "KVMKVMKVM" signature present.
 */
static int block_max(const struct leaf_range *lr, uint32_t base,
		     const uint32_t regs[TDC_NREGS], uint32_t *max)
{
	uint32_t eax = regs[TDC_EAX];

	*max = 0;
	if (lr->gate == GATE_HYPERVISOR_BIT && eax == 0 &&
	    regs[TDC_EBX] == 0x4b4d564b && regs[TDC_ECX] == 0x564b4d56 &&
	    regs[TDC_EDX] == 0x4d) {
		*max = base + 1;
		return 0;
	}
	if (eax > base && eax - base < TDC_RANGE_CAP) {
		*max = eax;
		return 0;
	}
	/* Same 256M window but beyond the cap: a broken or hostile maximum. */
	if ((lr->always && eax >= TDC_RANGE_CAP) ||
	    (eax > base && (eax >> 28) == (base >> 28)))
		return tdc_err(TDC_ERR_TOO_LARGE,
			       "CPUID.%08XH: %s range declares max leaf %08XH (cap %d leaves)",
			       base, lr->what, eax, TDC_RANGE_CAP);
	return 0;
}

static int enum_block(struct enum_ctx *ec, const struct leaf_range *lr,
		      uint32_t base, bool *present)
{
	uint32_t regs[TDC_NREGS], max;
	int r;

	*present = false;
	if ((r = exec_one(ec, base, 0, false, regs)) != 0)
		return r;
	if ((r = block_max(lr, base, regs, &max)) != 0)
		return r;
	if (max == 0)
		return 0;
	*present = true;
	for (uint32_t leaf = base + 1; leaf <= max; leaf++)
		if ((r = enum_leaf(ec, leaf)) != 0)
			return r;
	return 0;
}

static int enum_range(struct enum_ctx *ec, const struct leaf_range *lr, bool hv_bit)
{
	bool present;
	int r;

	if (lr->gate == GATE_HYPERVISOR_BIT && !hv_bit)
		/* Still record the base leaf: it shows what the CPU answers there. */
		return exec_one(ec, lr->base, 0, false, NULL);
	for (unsigned b = 0; b < lr->blocks; b++) {
		if ((r = enum_block(ec, lr, lr->base + b * 0x100u, &present)) != 0)
			return r;
		if (!present)
			break;
	}
	return 0;
}

int tdc_cpuid_enumerate(tdc_cpuid_fn fn, void *ctx, struct tdc_cpuid_table *out,
			unsigned long *count)
{
	struct enum_ctx ec = { .fn = fn, .ctx = ctx, .out = out };
	const struct tdc_cpuid_entry *l1;
	bool hv_bit;
	int r = 0;

	for (size_t i = 0; i < sizeof(leaf_ranges) / sizeof(leaf_ranges[0]); i++) {
		/* Leaf 1 is enumerated with the basic range, which comes first. */
		l1 = tdc_cpuid_table_find(out, 1, 0);
		hv_bit = l1 && (l1->regs[TDC_ECX] & (1u << 31));
		if ((r = enum_range(&ec, &leaf_ranges[i], hv_bit)) != 0)
			break;
	}
	if (count)
		*count = ec.count;
	return r;
}
