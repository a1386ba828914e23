// SPDX-License-Identifier: Apache-2.0
/*
 * Running a platform model forward: from the host's native CPUID, the
 * requested configuration and the TD parameters to the CPUID the guest sees,
 * with a class and a source for every bit.
 *
 * TDX: the module's algorithm as docs/models.md describes it (TD creation,
 * per lookup entry, steps 1-5, then the run-time exit), i.e. intel/tdx-module 1.5.01 tdh_mng_init.c
 * read_and_set_cpuid_configurations() and td_cpuid.c td_cpuid_exit().  The
 * per-leaf data (fixed0/fixed1/config_direct/allow_direct/XFAM masks, which
 * leaf runs which rule) comes from the model file; this file has one small
 * function per rule kind, for the parts that are arithmetic.
 *
 * kvm: the guest sees the requested entries, except the dynamic fields.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_int.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/kvm_tdx.h"
#include "tdcpuid/tdx.h"

/* TD ATTRIBUTES.MIGRATABLE (tdx-abi.md section 8). */
#define ATTR_MIGRATABLE (1ull << 29)
/* XCR0 bits a TD can enable in user state: x87..Hi16_ZMM, PKRU, AMX (XCR0_USER_BIT_MASK). */
#define XCR0_USER_MASK 0x000602FFull
#define XCR0_MAX_VALID_BIT 18
/* Legacy XSAVE area + header: the size with only x87/SSE enabled. */
#define XSAVE_BASE_SIZE 576u
/* TD_PARAMS.TSC_FREQUENCY is in units of 25 MHz, 100 MHz .. 10 GHz. */
#define TSC_UNIT_KHZ 25000u
#define TSC_FREQ_MIN 4u
#define TSC_FREQ_MAX 400u
/* #VE leaves listed per range: no real CPU has more leaves than this. */
#define VE_FILL_MAX 0x100u
#define LEAF_EXT 0x80000000u
/* TDX module MIN_VIRT_MAXPA (tdh_mng_init.c, MAXPA virtualization). */
#define MIN_VIRT_MAXPA 45u
/* CPUID(0x1F) sub-leaves the module's table has, and its level types. */
#define TOPO_LEVELS 6
#define TOPO_INVALID 0
#define TOPO_SMT 1
#define TOPO_CORE 2
#define ALL_BITS 0xffffffffu

struct topo {
	uint32_t lv[TOPO_LEVELS][TDC_NREGS]; /* the 0x1F levels the TD gets */
	uint32_t cdir[TDC_NREGS];             /* 0x1F.0 config_direct (same for every level) */
	bool known;                           /* the levels are known */
	bool native;                          /* all-zero configuration: the platform's */
	bool zero_then_nonzero;               /* 0x1F.0 all zero but a later sub-leaf is not */
};

struct pctx {
	const struct tdc_model *m;
	const struct tdc_predict_in *in;
	struct tdc_prediction *out;
	bool refused;
	char refusal[512];  /* the first refusal: the module reports one operand error */
	uint64_t config_flags;  /* TD_PARAMS.CONFIG_FLAGS as the module gets them */
	/* The platform's CPUID(0).EAX and CPUID(0x80000000).EAX, read once. */
	uint32_t plat_max_basic, plat_max_ext;
	/* The TD's 0x1F levels: the same for every 0x1F and 0xB sub-leaf. */
	bool have_topo;
	struct topo topo;
};

/* What a TD control is, as far as the inputs say. */
enum ctl_state { CTL_OFF, CTL_ON, CTL_UNKNOWN };

/*
 * A control the module lacks can never be set (TDG.VM.WR refuses reserved
 * TD_CTLS bits); REDUCE_VE forces ENUM_TOPOLOGY and VIRT_CPUID2 on
 * (metadata_td.c md_td_write_element()).
 */
static enum ctl_state ctl_state(struct pctx *c, uint8_t ctl)
{
	const struct tdc_predict_in *in = c->in;
	uint64_t bit = 1ull << ctl, rve = 1ull << CTL_REDUCE_VE;

	if (ctl == CTL_NONE)
		return CTL_ON;
	if (!(c->m->td_controls & bit))
		return CTL_OFF;
	if (ctl != CTL_REDUCE_VE && (c->m->td_controls & rve) && (in->td_ctls_known & in->td_ctls & rve))
		return CTL_ON;
	if (in->td_ctls_known & bit)
		return in->td_ctls & bit ? CTL_ON : CTL_OFF;
	return CTL_UNKNOWN;
}

/* ---- small helpers ---------------------------------------------------- */

/*
 * The class and source of the bits of @mask.  cls_mask[] (cls[] as one
 * mask per class, for consumers that work a register at a time: the
 * engine) is kept with it; a class out of range counts as native.
 */
static void set_cls(struct tdc_pred_reg *r, uint32_t mask, uint8_t cls, const char *src)
{
	if (mask == ALL_BITS) {
		/* A whole register (every leaf starts so): stores, no loops over bits. */
		memset(r->cls_mask, 0, sizeof(r->cls_mask));
		r->cls_mask[cls < TDC_C__COUNT ? cls : TDC_C_NATIVE] = ALL_BITS;
		memset(r->cls, cls, sizeof(r->cls));
		for (unsigned b = 0; b < 32; b += 4)
			r->src[b] = r->src[b + 1] = r->src[b + 2] = r->src[b + 3] = src;
		return;
	}
	for (unsigned c = 0; c < TDC_C__COUNT; c++)
		r->cls_mask[c] &= ~mask;
	r->cls_mask[cls < TDC_C__COUNT ? cls : TDC_C_NATIVE] |= mask;
	for (; mask; mask &= mask - 1) {
		unsigned b = (unsigned)__builtin_ctz(mask);

		r->cls[b] = cls;
		r->src[b] = src;
	}
}

static void set_bits(struct tdc_pred_reg *r, uint32_t mask, uint32_t value)
{
	r->value = (r->value & ~mask) | (value & mask);
}

/* A whole leaf becomes one constant (zero rules, #VE leaves). */
static void set_leaf(struct tdc_pred_leaf *pl, uint32_t value, uint32_t known, uint8_t cls,
		     const char *src)
{
	for (int i = 0; i < TDC_NREGS; i++) {
		pl->r[i].value = value;
		pl->r[i].known = known;
		set_cls(&pl->r[i], 0xffffffffu, cls, src);
	}
}

static unsigned lowest_bit(uint32_t mask)
{
	return mask ? (unsigned)__builtin_ctz(mask) : 0;
}

static void refuse(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void refuse(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->refused)
		return;
	c->refused = true;
	va_start(ap, fmt);
	vsnprintf(c->refusal, sizeof(c->refusal), fmt, ap);
	va_end(ap);
}

static void note(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct pctx *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Notes are advisory: running out of memory for one is not a prediction error. */
	(void)tdc_buf_printf(&c->out->notes, "%s\n", line);
	(void)tdc_buf_cstr(&c->out->notes);
}

static const char *regname(char *buf, size_t len, const struct tdc_pred_leaf *pl, int reg)
{
	return tdc_format_reg(buf, len, pl->leaf, pl->subleaf, pl->indexed, reg);
}

/*
 * The platform's native value as the module samples it at TD creation: a
 * leaf above the maximum of its range is stored as zeros (the module reads
 * only leaves the platform enumerates; the CPU's "above the maximum reads
 * the maximum basic leaf" answer is a run-time rule, tdc_prediction_lookup),
 * and a subleaf a dump omits is all zero (`cpuid -r` dumps leave out the
 * terminating zero subleaves).
 */
static bool native_regs(const struct pctx *c, uint32_t leaf, uint32_t sub,
			uint32_t regs[TDC_NREGS])
{
	const struct tdc_cpuid_table *plat = c->in->platform;
	const struct tdc_cpuid_entry *e;

	memset(regs, 0, TDC_NREGS * sizeof(regs[0]));
	if (!plat)
		return false;
	if (leaf < LEAF_EXT ? leaf > c->plat_max_basic : leaf > c->plat_max_ext)
		return true;
	if ((e = tdc_cpuid_table_find(plat, leaf, sub)))
		memcpy(regs, e->regs, TDC_NREGS * sizeof(regs[0]));
	return true;
}

/* What native_regs() compares with: the platform's maximum basic and extended leaves. */
static void platform_maxima(struct pctx *c)
{
	const struct tdc_cpuid_table *plat = c->in->platform;
	const struct tdc_cpuid_entry *b = plat ? tdc_cpuid_table_find(plat, 0, 0) : NULL;
	const struct tdc_cpuid_entry *x = plat ? tdc_cpuid_table_find(plat, LEAF_EXT, 0) : NULL;

	c->plat_max_basic = b ? b->regs[TDC_EAX] : 0;
	c->plat_max_ext = x ? x->regs[TDC_EAX] : LEAF_EXT;
}

/*
 * The requested value of (leaf, subleaf) and which bits the input specifies.
 * An absent entry is zero (CPUID_CONFIG: unlisted = 0; a dump omits zero
 * subleaves), unless a partial format (known masks) says nothing at all
 * about that leaf: then nothing is known.
 */
static bool request_regs(const struct tdc_predict_in *in, uint32_t leaf, uint32_t sub,
			 uint32_t val[TDC_NREGS], uint32_t known[TDC_NREGS])
{
	const struct tdc_cpuid_entry *e = NULL, *k = NULL;
	bool all;

	if (in->requested)
		e = tdc_cpuid_table_find(in->requested, leaf, sub);
	if (e && in->requested_known)
		k = tdc_cpuid_table_find(in->requested_known, leaf, sub);
	/* Without an entry: known if the input speaks for the whole leaf. */
	all = e || !in->requested_known || in->strict_config ||
	      (in->requested && tdc_cpuid_table_has_leaf(in->requested, leaf));
	for (int i = 0; i < TDC_NREGS; i++) {
		val[i] = e ? e->regs[i] : 0;
		known[i] = k ? k->regs[i] : all ? 0xffffffffu : 0;
	}
	/* KVM's GPAW knob is not a request for a guest-visible value (kvm_tdx.h). */
	if (in->kvm_layer && leaf == TDC_KVM_TDX_GPAW_LEAF) {
		val[TDC_EAX] &= ~TDC_KVM_TDX_GPAW_MASK;
		known[TDC_EAX] &= ~TDC_KVM_TDX_GPAW_MASK;
	}
	return e != NULL;
}

static const struct tdc_pred_leaf *find_pred(const struct tdc_prediction *p, uint32_t leaf,
					     uint32_t sub, bool any)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct tdc_pred_leaf *pl = &p->leaves[i];

		if (pl->leaf == leaf && (any || !pl->indexed || pl->subleaf == sub))
			return pl;
	}
	return NULL;
}

/*
 * find_pred() on a finished prediction (sorted by (leaf, subleaf), see
 * predict_all): bisect to the leaf's first entry, then the same rule.
 */
static size_t pred_lower_bound(const struct tdc_prediction *p, uint32_t leaf)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->leaves[mid].leaf < leaf)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* From @lo, the leaf's first entry (lower bound): find_pred()'s rule. */
static const struct tdc_pred_leaf *pred_match(const struct tdc_prediction *p, size_t lo,
					      uint32_t leaf, uint32_t sub)
{
	for (; lo < p->n && p->leaves[lo].leaf == leaf; lo++)
		if (!p->leaves[lo].indexed || p->leaves[lo].subleaf == sub)
			return &p->leaves[lo];
	return NULL;
}

static const struct tdc_pred_leaf *find_pred_sorted(const struct tdc_prediction *p,
						    uint32_t leaf, uint32_t sub)
{
	return pred_match(p, pred_lower_bound(p, leaf), leaf, sub);
}

static int grow(struct tdc_prediction *p, size_t *cap)
{
	struct tdc_pred_leaf *nl;
	size_t ncap = *cap ? *cap * 2 : 128;

	if (p->n < *cap)
		return 0;
	if (ncap > TDC_CPUID_MAX_ENTRIES)
		return tdc_err(TDC_ERR_TOO_LARGE, "prediction: more than %d leaves",
			       TDC_CPUID_MAX_ENTRIES);
	if (!(nl = realloc(p->leaves, ncap * sizeof(*nl))))
		return tdc_err(TDC_ERR_ALLOC, "prediction of %zu leaves", ncap);
	p->leaves = nl;
	*cap = ncap;
	return 0;
}

/* ---- the CPUID_CONFIG input of one leaf --------------------------------- */

struct leaf_input {
	uint32_t val[TDC_NREGS];
	uint32_t known[TDC_NREGS];
};

/*
 * Step 2: an input bit set outside config_direct|allow_direct fails
 * TDH.MNG.INIT with TDX_OPERAND_INVALID (CPUID_CONFIG).  In filter mode the
 * host stack masks such bits away first (QEMU tdx_filter_cpuid()).
 */
static void config_input(struct pctx *c, const struct model_leaf *ml,
			 const struct tdc_pred_leaf *pl, struct leaf_input *li)
{
	uint32_t allowed[TDC_NREGS] = { 0 };
	struct tdc_cpuid_entry bad = { .leaf = pl->leaf, .subleaf = pl->subleaf };
	bool configurable = false, any = false;
	char rb[TDC_BITNAME_MAX];

	request_regs(c->in, pl->leaf, pl->subleaf, li->val, li->known);
	for (size_t i = 0; i < ml->nf; i++) {
		if (ml->f[i].step == STEP_DIRECT || ml->f[i].step == STEP_ALLOW) {
			allowed[ml->f[i].reg] |= ml->f[i].mask;
			configurable = true;
		}
	}
	if (!configurable)
		return;
	for (int r = 0; r < TDC_NREGS; r++) {
		const char *what;
		uint32_t kvm = c->in->kvm_layer ?
			       tdc_kvm_tdx_unsupported_mask(pl->leaf, pl->subleaf, (unsigned)r, &what) : 0;
		uint32_t kbad = li->val[r] & kvm & li->known[r];

		/* KVM refuses these before the module sees them (tdx_unsupported_cpuid()). */
		if (c->in->strict_config && kbad && !any) {
			refuse(c, "KVM_TDX_INIT_VM: -EINVAL: %s bit %u: KVM does not support %s "
			       "for a TD (arch/x86/kvm/vmx/tdx.c tdx_unsupported_cpuid())",
			       regname(rb, sizeof(rb), pl, r), lowest_bit(kbad), what);
			any = true;
		}
		allowed[r] &= ~kvm;
		bad.regs[r] = li->val[r] & ~allowed[r] & li->known[r];
		if (c->in->strict_config && bad.regs[r] && !any) {
			refuse(c, "TDX_OPERAND_INVALID (CPUID_CONFIG): %s bit %u is not configurable",
			       regname(rb, sizeof(rb), pl, r), lowest_bit(bad.regs[r]));
			any = true;
		}
		li->val[r] &= allowed[r];
	}
	if (c->in->strict_config && any)
		(void)tdc_cpuid_table_set(&c->out->refused, &bad);
}

/* ---- field rules -------------------------------------------------------- */

struct leaf_state {
	struct pctx *c;
	const struct model_leaf *ml;
	struct tdc_pred_leaf *pl;
	uint32_t nat[TDC_NREGS];
	bool have_native;
	struct leaf_input in;
};

/* 0x1 EAX: the configured family/model/stepping; 0 = the platform's. */
static void rule_fms(struct leaf_state *s, const struct model_field *f, struct tdc_pred_reg *r)
{
	uint32_t cfg = r->value & f->mask;
	char rb[TDC_BITNAME_MAX];

	if (!(s->in.known[f->reg] & f->mask) && cfg == 0) {
		r->known &= ~f->mask;
		return;
	}
	if (cfg == 0) {
		set_bits(r, f->mask, s->nat[f->reg]);
		r->known = s->have_native ? r->known | f->mask : r->known & ~f->mask;
		set_cls(r, f->mask, TDC_C_NATIVE, f->source);
		return;
	}
	set_cls(r, f->mask, TDC_C_CONFIGURABLE, f->source);
	if (!(s->c->in->attributes & ATTR_MIGRATABLE) && s->have_native &&
	    cfg != (s->nat[f->reg] & f->mask))
		refuse(s->c, "TDX_OPERAND_INVALID (CPUID_CONFIG): %s = 0x%08x is neither 0 nor the "
		       "platform's family/model/stepping 0x%08x (non-migratable TD)",
		       regname(rb, sizeof(rb), s->pl, f->reg), cfg, s->nat[f->reg] & f->mask);
}

/*
 * 0xD.0 ECX: CPUID(0xD,0).EBX with XCR0 = XFAM's user bits, which the CPU
 * computes as the end of the furthest enabled component in the standard
 * (non-compacted) layout: max(offset + size) over CPUID(0xD,n).EBX/EAX.
 */
static void rule_xsave_max(struct leaf_state *s, const struct model_field *f,
			   struct tdc_pred_reg *r)
{
	uint64_t user = s->c->in->xfam & XCR0_USER_MASK;
	uint32_t size = XSAVE_BASE_SIZE, regs[TDC_NREGS];

	if (!s->have_native) {
		r->known &= ~f->mask;
		return;
	}
	for (unsigned n = 2; n <= XCR0_MAX_VALID_BIT; n++) {
		if (!(user & (1ull << n)))
			continue;
		native_regs(s->c, 0xd, n, regs);
		if (regs[TDC_EBX] + (uint64_t)regs[TDC_EAX] > size)
			size = regs[TDC_EBX] + regs[TDC_EAX];
	}
	set_bits(r, f->mask, size);
	r->known |= f->mask;
}

/* 0xD.1 EAX.XFD: kept only if some XFAM component supports XFD (CPUID(0xD,n).ECX[2]). */
static void rule_xfd(struct leaf_state *s, const struct model_field *f, struct tdc_pred_reg *r)
{
	uint64_t xfd = 0;
	uint32_t regs[TDC_NREGS];

	if (!s->have_native) {
		r->known &= ~f->mask;
		return;
	}
	for (unsigned n = 2; n <= XCR0_MAX_VALID_BIT; n++) {
		native_regs(s->c, 0xd, n, regs);
		if (regs[TDC_ECX] & (1u << 2))
			xfd |= 1ull << n;
	}
	if (!(xfd & s->c->in->xfam)) {
		set_bits(r, f->mask, 0);
		r->known |= f->mask;
		set_cls(r, f->mask, f->cls, f->source);
	}
}

/* 0x15 EBX := TD_PARAMS.TSC_FREQUENCY, the TSC rate in units of 25 MHz. */
static void rule_tsc(struct leaf_state *s, const struct model_field *f, struct tdc_pred_reg *r)
{
	const struct tdc_predict_in *in = s->c->in;
	uint64_t units;

	if (!in->has_tsc_khz) {
		r->known &= ~f->mask;
		return;
	}
	units = in->tsc_khz / TSC_UNIT_KHZ;
	if (in->tsc_khz % TSC_UNIT_KHZ)
		note(s->c, "TSC frequency %llu kHz is not a multiple of 25 MHz; KVM rounds it "
		     "down to %llu x 25 MHz", (unsigned long long)in->tsc_khz,
		     (unsigned long long)units);
	if (units < TSC_FREQ_MIN || units > TSC_FREQ_MAX)
		refuse(s->c, "TDX_OPERAND_INVALID (TSC_FREQUENCY): %llu kHz is outside "
		       "100000..10000000 kHz", (unsigned long long)in->tsc_khz);
	set_bits(r, f->mask, (uint32_t)units);
	r->known |= f->mask;
}

/* 0x80000008 EAX[15:8]: 57 linear-address bits with LA57, else 48. */
static void rule_la_bits(struct leaf_state *s, const struct model_field *f,
			 struct tdc_pred_reg *r)
{
	const struct tdc_pred_leaf *l7 = find_pred(s->c->out, 7, 0, false);
	const uint32_t la57 = 1u << 16;

	if (!l7 || !(l7->r[TDC_ECX].known & la57)) {
		r->known &= ~f->mask;
		return;
	}
	set_bits(r, f->mask, (l7->r[TDC_ECX].value & la57 ? 57u : 48u) << lowest_bit(f->mask));
	r->known |= f->mask;
}

/* Bits whose value depends on a TD control nobody told us: listed, never guessed. */
static void mark_ambiguous(struct pctx *c, const struct tdc_pred_leaf *pl, int reg,
			   uint32_t mask, uint8_t ctl)
{
	struct tdc_cpuid_entry e = { .leaf = pl->leaf, .subleaf = pl->subleaf,
				     .flags = pl->indexed ? TDC_CPUID_F_INDEXED : 0 };
	const struct tdc_cpuid_entry *old;

	if (!mask)
		return;
	c->out->ambiguous_ctls |= 1ull << ctl;
	if ((old = tdc_cpuid_table_find(&c->out->ambiguous, pl->leaf, pl->subleaf)))
		e = *old;
	e.regs[reg] |= mask;
	/* Advisory like the notes: out of memory here is not a prediction error. */
	(void)tdc_cpuid_table_set(&c->out->ambiguous, &e);
}

/*
 * With the control set, the run-time exit returns what the module sampled
 * from the platform at TD creation instead of the configured value (1.5.09+
 * leaf 4 under REDUCE_VE: TDCS.CPUID4_NATIVE_VALUES).
 */
static void rule_native_if_ctl(struct leaf_state *s, const struct model_field *f,
			       struct tdc_pred_reg *r)
{
	enum ctl_state st = ctl_state(s->c, f->ctl);
	uint32_t nat = s->nat[f->reg] & f->mask;

	if (st == CTL_OFF)
		return;
	if (st == CTL_UNKNOWN) {
		/* Either value: known only where the two agree. */
		uint32_t differ = s->have_native ? ((r->value & f->mask) ^ nat) | (f->mask & ~r->known) :
				  f->mask;

		r->known &= ~differ;
		mark_ambiguous(s->c, s->pl, f->reg, differ, f->ctl);
		return;
	}
	set_bits(r, f->mask, nat);
	r->known = s->have_native ? r->known | f->mask : r->known & ~f->mask;
	set_cls(r, f->mask, TDC_C_NATIVE, f->source);
}

static uint32_t gpa_limit(const struct pctx *c)
{
	return c->config_flags & TDC_TDX_CONFIG_GPAW ? 52u : 48u;
}

/*
 * 0x80000008 EAX[7:0] (1.5.06+): the platform's MAXPA unless CONFIG_FLAGS
 * asks the module to virtualize it (MAXPA_VIRT; MAXGPA_VIRT keeps it native).
 */
static void rule_maxpa(struct leaf_state *s, const struct model_field *f, struct tdc_pred_reg *r)
{
	uint32_t nat = s->nat[f->reg] & f->mask, cfg = r->value & f->mask;
	uint32_t lim = gpa_limit(s->c);
	char rb[TDC_BITNAME_MAX];

	if (!(s->c->config_flags & TDC_TDX_CONFIG_MAXPA_VIRT) ||
	    (s->c->config_flags & TDC_TDX_CONFIG_MAXGPA_VIRT)) {
		set_bits(r, f->mask, nat);
		r->known = s->have_native ? r->known | f->mask : r->known & ~f->mask;
		set_cls(r, f->mask, TDC_C_NATIVE, f->source);
		return;
	}
	if (!(r->known & f->mask) || cfg == 0) {
		/* Configured 0: the largest the platform and the GPAW allow. */
		set_bits(r, f->mask, nat < lim ? nat : lim);
		r->known = s->have_native ? r->known | f->mask : r->known & ~f->mask;
		set_cls(r, f->mask, TDC_C_CALCULATED, f->source);
		return;
	}
	set_cls(r, f->mask, TDC_C_CONFIGURABLE, f->source);
	if (cfg > lim || cfg < MIN_VIRT_MAXPA || (s->have_native && cfg > nat))
		refuse(s->c, "TDX_OPERAND_INVALID (CPUID_CONFIG): %s[7:0] = %u: a virtual MAXPA "
		       "must be %u..%u (MIN_VIRT_MAXPA, the platform's %u, %u with%s GPAW)",
		       regname(rb, sizeof(rb), s->pl, f->reg), cfg, MIN_VIRT_MAXPA,
		       nat < lim ? nat : lim, nat, lim, s->c->config_flags & TDC_TDX_CONFIG_GPAW ? "" : "out");
}

/* 0x80000008 EAX[23:16] (1.5.08+): the GPA width with MAXGPA_VIRT, else 0. */
static void rule_maxgpa(struct leaf_state *s, const struct model_field *f, struct tdc_pred_reg *r)
{
	uint32_t nat = s->nat[f->reg] & 0xffu, lim = gpa_limit(s->c);

	if (!(s->c->config_flags & TDC_TDX_CONFIG_MAXGPA_VIRT)) {
		set_bits(r, f->mask, 0);
		r->known |= f->mask;
		return;
	}
	set_bits(r, f->mask, (nat < lim ? nat : lim) << lowest_bit(f->mask));
	r->known = s->have_native ? r->known | f->mask : r->known & ~f->mask;
}

static void apply_rule_field(struct leaf_state *s, const struct model_field *f)
{
	struct tdc_pred_reg *r = &s->pl->r[f->reg];

	/*
	 * A rule owns its bits whatever value it leaves in them; XFD and FMS
	 * decide themselves (XFD owns the bit only when it clears it, FMS is
	 * native when the input is 0).
	 */
	if (f->rule != RULE_XFD && f->rule != RULE_FMS && f->rule != RULE_NATIVE_IF_CTL &&
	    f->rule != RULE_MAXPA)
		set_cls(r, f->mask, f->cls, f->source);
	switch (f->rule) {
	case RULE_FMS:
		rule_fms(s, f, r);
		break;
	case RULE_ATTR_BIT:
		set_bits(r, f->mask, (s->c->in->attributes & f->param) == f->param ? f->mask : 0);
		r->known |= f->mask;
		break;
	case RULE_CONST:
		set_bits(r, f->mask, f->value);
		r->known |= f->mask;
		break;
	case RULE_XSAVE_MAX:
		rule_xsave_max(s, f, r);
		break;
	case RULE_XFD:
		rule_xfd(s, f, r);
		break;
	case RULE_TSC_FREQUENCY:
		rule_tsc(s, f, r);
		break;
	case RULE_LA_BITS:
		rule_la_bits(s, f, r);
		break;
	case RULE_MAXPA:
		rule_maxpa(s, f, r);
		break;
	case RULE_MAXGPA:
		rule_maxgpa(s, f, r);
		break;
	case RULE_NATIVE_IF_CTL:
		rule_native_if_ctl(s, f, r);
		break;
	default:
		break;
	}
}

/* ---- steps 1-5 for one field ------------------------------------------ */

/* Bits of @reg the model rewrites at run time: the dump may show either value. */
static uint32_t dynamic_mask(const struct model_leaf *ml, unsigned reg)
{
	uint32_t m = 0;

	for (size_t i = 0; i < ml->nf; i++)
		if (ml->f[i].step == STEP_DYNAMIC && ml->f[i].reg == reg)
			m |= ml->f[i].mask;
	return m;
}

static void apply_pinned(struct leaf_state *s, const struct model_field *f,
			 struct tdc_pred_reg *r)
{
	uint32_t check = f->mask & ~dynamic_mask(s->ml, f->reg);
	char rb[TDC_BITNAME_MAX];

	set_cls(r, f->mask, TDC_C_NATIVE, f->source);
	if (!f->has_value)
		return;
	if (!s->have_native) {
		/* The module refuses platforms that differ, so these bits are known. */
		set_bits(r, f->mask, f->value);
		r->known |= f->mask;
	} else if ((s->nat[f->reg] & check) != (f->value & check)) {
		note(s->c, "platform %s = 0x%08x, but the TDX module requires 0x%08x in bits "
		     "0x%08x (verify_mask): TDH.SYS.INIT would fail on this platform",
		     regname(rb, sizeof(rb), s->pl, f->reg), s->nat[f->reg], f->value & check,
		     check);
	}
}

static void apply_field(struct leaf_state *s, const struct model_field *f)
{
	struct tdc_pred_reg *r = &s->pl->r[f->reg];
	uint32_t in = s->in.val[f->reg], ink = s->in.known[f->reg];
	uint64_t xfam = s->c->in->xfam;

	switch (f->step) {
	case STEP_NATIVE:
		apply_pinned(s, f, r);
		return;
	case STEP_FIXED0:
		r->value &= ~f->mask;
		break;
	case STEP_FIXED1:
		r->value |= f->mask;
		break;
	case STEP_DIRECT:
		set_bits(r, f->mask, in);
		r->known = (r->known & ~f->mask) | (ink & f->mask);
		set_cls(r, f->mask, f->cls, f->source);
		return;
	case STEP_ALLOW:
		/* Input 0 clears; input 1 keeps the native bit; unknown input, unknown bit. */
		r->value &= in | ~f->mask;
		r->known = (r->known & ~(f->mask & ~ink)) | (f->mask & ink & ~in);
		set_cls(r, f->mask, f->cls, f->source);
		return;
	case STEP_XFAM:
		if ((xfam & f->param) == f->param)
			return;
		r->value &= ~f->mask;
		break;
	case STEP_RULE:
		apply_rule_field(s, f);
		return;
	case STEP_DYNAMIC:
		if (f->rule == RULE_DYN_PARAVIRT) {
			/*
			 * Under the control a bit is the configured bit AND a bit only
			 * the guest writes (FEATURE_PARAVIRT_CTLS): a configured 0
			 * stays a known 0, a 1 becomes the guest's choice.  The value
			 * keeps the TD-creation bit (the module's CPUID_FLAGS).
			 */
			uint32_t open = f->mask & ~(r->known & ~r->value);

			if (ctl_state(s->c, f->ctl) == CTL_OFF)
				return;
			r->known &= ~open;
			set_cls(r, open, TDC_C_DYNAMIC, f->source);
			return;
		}
		if (f->rule == RULE_DYN_APIC_ID)
			set_bits(r, f->mask, s->c->in->vcpu << lowest_bit(f->mask));
		else if (f->has_value)
			set_bits(r, f->mask, f->value);
		r->known &= ~f->mask;
		set_cls(r, f->mask, TDC_C_DYNAMIC, f->source);
		return;
	}
	r->known |= f->mask;
	set_cls(r, f->mask, f->cls, f->source);
}

/* ---- leaf rules ----------------------------------------------------------- */

static void rule_hle_eq_rtm(struct leaf_state *s)
{
	const struct tdc_pred_reg *b = &s->pl->r[TDC_EBX];
	const uint32_t hle = 1u << 4, rtm = 1u << 11;
	char rb[TDC_BITNAME_MAX];

	if ((b->known & (hle | rtm)) != (hle | rtm))
		return;
	if (!(b->value & hle) != !(b->value & rtm))
		refuse(s->c, "TDX_OPERAND_INVALID (CPUID_CONFIG): %s.HLE [bit 4] = %u but .RTM "
		       "[bit 11] = %u; both must be equal", regname(rb, sizeof(rb), s->pl, TDC_EBX),
		       !!(b->value & hle), !!(b->value & rtm));
}

/* ---- topology: CPUID(0x1F) and the CPUID(0xB) derived from it (1.5.05+) ---- */

static unsigned topo_type(const uint32_t lv[TDC_NREGS])
{
	return (lv[TDC_ECX] >> 8) & 0xff;
}

/*
 * helpers.c check_cpuid_1f*(): the configured 0x1F sub-leaves (what the
 * config_direct masks take from CPUID_CONFIG), or, when 0x1F.0 is configured
 * all-zero, the platform's after the fixed bits.
 */
static void topo_compute(struct pctx *c, struct topo *t)
{
	bool have_native = true, req_known = true, zero0 = true;

	memset(t, 0, sizeof(*t));
	for (unsigned n = 0; n < TOPO_LEVELS; n++) {
		const struct model_leaf *ml = tdc_model_find_leaf(c->m, 0x1f, n);
		uint32_t val[TDC_NREGS], known[TDC_NREGS], cdir[TDC_NREGS] = { 0 };
		bool zero = true;

		for (size_t i = 0; ml && i < ml->nf; i++)
			if (ml->f[i].step == STEP_DIRECT)
				cdir[ml->f[i].reg] |= ml->f[i].mask;
		request_regs(c->in, 0x1f, n, val, known);
		for (int r = 0; r < TDC_NREGS; r++) {
			t->lv[n][r] = val[r] & cdir[r];
			req_known &= (known[r] & cdir[r]) == cdir[r];
			zero &= t->lv[n][r] == 0;
		}
		if (n == 0) {
			memcpy(t->cdir, cdir, sizeof(cdir));
			zero0 = zero;
		} else if (zero0 && !zero) {
			t->zero_then_nonzero = true;
		}
	}
	t->known = req_known;
	if (!req_known || !zero0)
		return;
	t->native = true;
	for (unsigned n = 0; n < TOPO_LEVELS; n++) {
		uint32_t nat[TDC_NREGS];

		have_native &= native_regs(c, 0x1f, n, nat);
		for (int r = 0; r < TDC_NREGS; r++)
			t->lv[n][r] = nat[r] & t->cdir[r];
	}
	t->known = have_native;
}

/* topo_compute() once per prediction: it reads only the model and the inputs. */
static void topo_levels(struct pctx *c, struct topo *t)
{
	if (!c->have_topo) {
		topo_compute(c, &c->topo);
		c->have_topo = true;
	}
	*t = c->topo;
}

/* The format the module accepts (TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED otherwise). */
static void topo_check(struct pctx *c, const struct topo *t, bool strict1506)
{
	unsigned prev = 0;
	bool core = false;

	if (t->zero_then_nonzero) {
		refuse(c, "TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: CPUID.1FH.0 is configured all "
		       "zero but a later sub-leaf is not");
		return;
	}
	if (!t->known || t->native)
		return;
	for (unsigned n = 0; n < TOPO_LEVELS; n++) {
		unsigned type = topo_type(t->lv[n]);

		if (type == TOPO_INVALID) {
			if (n == 0)
				refuse(c, "TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: CPUID.1FH.0 is not a "
				       "valid level (level type 0)");
			else if (!core)
				refuse(c, "TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: no core level before "
				       "the first invalid CPUID.1FH sub-leaf (%u)", n);
			return;
		}
		if (type >= TOPO_LEVELS || type <= prev)
			refuse(c, "TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: CPUID.1FH.%u level type %u "
			       "(types must increase and stay below %u)", n, type, TOPO_LEVELS);
		if (strict1506 && (t->lv[n][TDC_ECX] & 0xff) != n)
			refuse(c, "TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: CPUID.1FH.%u ECX[7:0] = %u, "
			       "not its sub-leaf", n, t->lv[n][TDC_ECX] & 0xff);
		if (strict1506 && type == TOPO_SMT && n != 0)
			refuse(c, "TDX_CPUID_LEAF_1F_FORMAT_UNRECOGNIZED: SMT level at CPUID.1FH.%u "
			       "(only sub-leaf 0 may be SMT)", n);
		core |= type == TOPO_CORE;
		prev = type;
	}
}

/* 0x1F.n: the platform's levels when configured all zero; 0x1F.0 checks the format. */
static void rule_cpuid_1f(struct leaf_state *s, const struct model_rule_ent *e)
{
	struct topo t;

	topo_levels(s->c, &t);
	if (s->pl->subleaf == 0)
		topo_check(s->c, &t, e->rule == RULE_CPUID_1F_1506);
	if (!t.native || s->pl->subleaf >= TOPO_LEVELS)
		return;
	for (int r = 0; r < TDC_NREGS; r++) {
		struct tdc_pred_reg *pr = &s->pl->r[r];

		set_bits(pr, t.cdir[r], t.lv[s->pl->subleaf][r]);
		pr->known = t.known ? pr->known | t.cdir[r] : pr->known & ~t.cdir[r];
		set_cls(pr, t.cdir[r], TDC_C_NATIVE, e->source);
	}
}

/* Index of the last valid 0x1F level (before the first invalid one). */
static unsigned topo_last(const struct topo *t)
{
	unsigned last = 0;

	for (unsigned n = 0; n < TOPO_LEVELS && topo_type(t->lv[n]) != TOPO_INVALID; n++)
		last = n;
	return last;
}

/* CPUID(0xB, sub) derived from the TD's 0x1F, as each release's helpers.c does it. */
static void rule_cpuid_0b(struct leaf_state *s, const struct model_rule_ent *e)
{
	uint32_t v[TDC_NREGS] = { 0 };
	unsigned sub = s->pl->subleaf, next;
	bool smt, keep = false;
	struct topo t;

	topo_levels(s->c, &t);
	smt = topo_type(t.lv[0]) == TOPO_SMT;
	next = smt ? 1 : 0;
	switch (e->rule) {
	case RULE_CPUID_0B_1505:
		/* 0xB.1 is rewritten on every 0x1F iteration: it ends as 0x1F.5 (a bug fixed in 1.5.06). */
		if (sub == 0 && smt) {
			memcpy(v, t.lv[0], sizeof(v));
		} else if (sub == 1) {
			v[TDC_EAX] = t.lv[TOPO_LEVELS - 1][TDC_EAX];
			v[TDC_EBX] = t.lv[TOPO_LEVELS - 1][TDC_EBX];
			v[TDC_ECX] = (t.lv[TOPO_LEVELS - 1][TDC_ECX] & 0xff) | TOPO_CORE << 8;
		} else {
			keep = true;
		}
		break;
	default:
		if (sub == 0 && smt) {
			memcpy(v, t.lv[0], sizeof(v));
		} else if (sub == next) {
			v[TDC_EAX] = t.lv[topo_last(&t)][TDC_EAX];
			v[TDC_EBX] = t.lv[topo_last(&t)][TDC_EBX];
			v[TDC_ECX] = sub | TOPO_CORE << 8;
		} else if (e->rule == RULE_CPUID_0B_1516) {
			v[TDC_ECX] = sub;
		}
		break;
	}
	if (keep)
		return;
	v[TDC_EDX] = 0;
	for (int r = 0; r < TDC_NREGS; r++) {
		s->pl->r[r].value = v[r];
		s->pl->r[r].known = t.known ? ALL_BITS : 0;
		set_cls(&s->pl->r[r], ALL_BITS, TDC_C_CALCULATED, e->source);
	}
}

/* The referenced bit as the module's TD-creation flags have it (dynamic fields keep it). */
static int ref_bit(const struct pctx *c, const struct model_rule_ent *e)
{
	const struct tdc_pred_leaf *ref = find_pred(c->out, e->ref_leaf, e->ref_subleaf,
						    e->ref_any_subleaf);
	const struct tdc_pred_reg *r;

	if (!ref)
		return -1;
	r = &ref->r[e->ref_reg];
	if (!(r->known >> e->ref_bit & 1) && r->cls[e->ref_bit] != TDC_C_DYNAMIC)
		return -1;
	return (int)(r->value >> e->ref_bit & 1);
}

/* Run time: the leaf still raises #VE while the TD has the referenced feature. */
static void rule_ve_if_bit(struct leaf_state *s, const struct model_rule_ent *e)
{
	int b = ref_bit(s->c, e);

	if (b == 0)
		return;
	s->pl->ve = true;
	set_leaf(s->pl, 0, b < 0 ? 0 : ALL_BITS, TDC_C_VE, e->source);
}

static void apply_leaf_rule(struct leaf_state *s, const struct model_rule_ent *e)
{
	const struct tdc_predict_in *in = s->c->in;
	const struct tdc_pred_leaf *ref;
	bool zero = false;

	switch (e->rule) {
	case RULE_ZERO:
		zero = true;
		break;
	case RULE_ZERO_UNLESS_XFAM:
		zero = (in->xfam & e->param) != e->param;
		break;
	case RULE_ZERO_UNLESS_ATTR:
		zero = (in->attributes & e->param) != e->param;
		break;
	case RULE_ZERO_UNLESS_BIT:
		ref = find_pred(s->c->out, e->ref_leaf, e->ref_subleaf, e->ref_any_subleaf);
		if (!ref || !(ref->r[e->ref_reg].known & (1u << e->ref_bit))) {
			for (int i = 0; i < TDC_NREGS; i++)
				s->pl->r[i].known = 0;
			return;
		}
		zero = !(ref->r[e->ref_reg].value & (1u << e->ref_bit));
		break;
	case RULE_ZERO_IF_ATTR:
		zero = (in->attributes & e->param) == e->param;
		break;
	case RULE_HLE_EQ_RTM:
		rule_hle_eq_rtm(s);
		return;
	case RULE_VE_IF_BIT:
		rule_ve_if_bit(s, e);
		return;
	case RULE_CPUID_1F_1505:
	case RULE_CPUID_1F_1506:
		rule_cpuid_1f(s, e);
		return;
	case RULE_CPUID_0B_1505:
	case RULE_CPUID_0B_1506:
	case RULE_CPUID_0B_1516:
		rule_cpuid_0b(s, e);
		return;
	default:
		return;
	}
	if (zero)
		set_leaf(s->pl, 0, 0xffffffffu, e->cls, e->source);
}

/* ---- one leaf, both kinds ------------------------------------------------ */

static void init_leaf(struct tdc_pred_leaf *pl, uint32_t leaf, uint32_t sub, bool indexed)
{
	memset(pl, 0, sizeof(*pl));
	pl->leaf = leaf;
	pl->subleaf = indexed ? sub : 0;
	pl->indexed = indexed;
	/* cls[] all 0: every bit in class 0's mask (set_cls keeps them so). */
	for (int i = 0; i < TDC_NREGS; i++)
		pl->r[i].cls_mask[0] = ALL_BITS;
}

static void run_fields(struct leaf_state *s)
{
	const struct model_leaf *ml = s->ml;
	size_t i;

	for (i = 0; i < ml->nf && ml->f[i].step != STEP_DYNAMIC; i++)
		apply_field(s, &ml->f[i]);
	for (size_t j = 0; j < ml->nr; j++)
		apply_leaf_rule(s, &ml->r[j]);
	for (; i < ml->nf; i++)
		apply_field(s, &ml->f[i]);
}

/* Bits KVM keeps from the module's configurable set read as KVM's fixed 0. */
static void kvm_relabel(struct pctx *c, struct tdc_pred_leaf *pl)
{
	static const char src[] = "arch/x86/kvm/vmx/tdx.c tdx_clear_unsupported_cpuid(): KVM "
				  "removes this bit from the configurable set (KVM_TDX_CAPABILITIES)";

	for (int r = 0; r < TDC_NREGS && c->in->kvm_layer; r++) {
		struct tdc_pred_reg *pr = &pl->r[r];
		uint32_t m = tdc_kvm_tdx_unsupported_mask(pl->leaf, pl->subleaf, (unsigned)r, NULL);

		/* Configurable bits KVM keeps, known to be 0 (cls_mask: cls[] == configurable). */
		m &= pr->cls_mask[TDC_C_CONFIGURABLE] & pr->known & ~pr->value;
		if (m)
			set_cls(pr, m, TDC_C_FIXED0, src);
	}
}

/* A leaf that raises #VE at run time; unknown: every bit ambiguous. */
static void ve_leaf(struct pctx *c, struct tdc_pred_leaf *pl, bool known, uint8_t ctl,
		    const char *src)
{
	pl->ve = true;
	set_leaf(pl, 0, known ? ALL_BITS : 0, TDC_C_VE, src);
	for (int r = 0; r < TDC_NREGS && !known; r++)
		mark_ambiguous(c, pl, r, ALL_BITS, ctl);
}

static void predict_tdx_leaf(struct pctx *c, const struct model_leaf *ml,
			     struct tdc_pred_leaf *pl)
{
	struct leaf_state s = { .c = c, .ml = ml, .pl = pl };
	enum ctl_state vs = ctl_state(c, ml->ve_unless);

	init_leaf(pl, ml->leaf, ml->subleaf, !ml->any_subleaf);
	if (ml->faulting) {
		pl->ve = true;
		set_leaf(pl, 0, 0xffffffffu, TDC_C_VE, ml->source);
		return;
	}
	s.have_native = native_regs(c, ml->leaf, ml->subleaf, s.nat);
	for (int i = 0; i < TDC_NREGS; i++) {
		pl->r[i].value = s.nat[i];
		pl->r[i].known = s.have_native ? 0xffffffffu : 0;
		set_cls(&pl->r[i], 0xffffffffu, TDC_C_NATIVE, tdc_model_native_label);
	}
	config_input(c, ml, pl, &s.in);
	run_fields(&s);
	kvm_relabel(c, pl);
	/*
	 * The module computes the leaf at TD creation (its refusals above
	 * count) but returns it only while the TD has the control set:
	 * without it the guest sees the #VE handler's zeros; with the control
	 * unknown, either.
	 */
	if (vs != CTL_ON)
		ve_leaf(c, pl, vs == CTL_OFF, ml->ve_unless, ml->source);
}

/* kvm: the requested entry, then the model's dynamic fields. */
static void predict_kvm_leaf(struct pctx *c, const struct tdc_cpuid_entry *e,
			     struct tdc_pred_leaf *pl)
{
	const struct model_leaf *ml = tdc_model_find_leaf(c->m, e->leaf, e->subleaf);
	struct leaf_state s = { .c = c, .ml = ml, .pl = pl };

	init_leaf(pl, e->leaf, e->subleaf, e->flags & TDC_CPUID_F_INDEXED);
	request_regs(c->in, e->leaf, e->subleaf, s.in.val, s.in.known);
	for (int i = 0; i < TDC_NREGS; i++) {
		pl->r[i].value = e->regs[i];
		pl->r[i].known = s.in.known[i];
		set_cls(&pl->r[i], 0xffffffffu, c->m->unlisted_cls, c->m->unlisted_source);
	}
	if (ml)
		run_fields(&s);
}

/*
 * The bits a request speaks for.  A literal CPUID_CONFIG (strict) only
 * speaks for the configurable bits: its zeros elsewhere are not a request
 * for zero.  A desired full CPUID speaks for every bit.
 */
static void request_scope(struct pctx *c, const struct tdc_pred_leaf *pl,
			  uint32_t scope[TDC_NREGS])
{
	const struct model_leaf *ml;

	for (int i = 0; i < TDC_NREGS; i++)
		scope[i] = 0xffffffffu;
	if (!c->in->strict_config || c->m->kind != TDC_MODEL_TDX)
		return;
	memset(scope, 0, TDC_NREGS * sizeof(scope[0]));
	if (!(ml = tdc_model_find_leaf(c->m, pl->leaf, pl->subleaf)))
		return;
	for (size_t i = 0; i < ml->nf; i++)
		if (ml->f[i].step == STEP_DIRECT || ml->f[i].step == STEP_ALLOW)
			scope[ml->f[i].reg] |= ml->f[i].mask;
}

/* Requested bits the prediction does not honour (QEMU's two warnings). */
static void record_forced(struct pctx *c, const struct tdc_pred_leaf *pl)
{
	struct tdc_cpuid_entry on = { .leaf = pl->leaf, .subleaf = pl->subleaf };
	struct tdc_cpuid_entry off = on;
	uint32_t val[TDC_NREGS], known[TDC_NREGS], scope[TDC_NREGS];
	bool any_on = false, any_off = false;

	if (pl->ve || !request_regs(c->in, pl->leaf, pl->subleaf, val, known))
		return;
	request_scope(c, pl, scope);
	on.flags = off.flags = pl->indexed ? TDC_CPUID_F_INDEXED : 0;
	for (int i = 0; i < TDC_NREGS; i++) {
		uint32_t k = known[i] & pl->r[i].known & scope[i];

		on.regs[i] = ~val[i] & pl->r[i].value & k;
		off.regs[i] = val[i] & ~pl->r[i].value & k;
		any_on |= on.regs[i] != 0;
		any_off |= off.regs[i] != 0;
	}
	if (any_on)
		(void)tdc_cpuid_table_set(&c->out->forced_on, &on);
	if (any_off)
		(void)tdc_cpuid_table_set(&c->out->forced_off, &off);
}

/* ---- whole prediction ------------------------------------------------------ */

static int add_leaf(struct pctx *c, size_t *cap, struct tdc_pred_leaf **pl)
{
	int r;

	if ((r = grow(c->out, cap)) != 0)
		return r;
	*pl = &c->out->leaves[c->out->n++];
	return 0;
}

/*
 * A leaf the model does not list: the model's "unlisted" class (TDX: #VE,
 * the Linux handler answers zeros; 1.5.09+ with REDUCE_VE the module
 * answers zeros itself; with REDUCE_VE unknown, zeros of either origin).
 */
static void unlisted_leaf(const struct tdc_prediction *p, struct tdc_pred_leaf *pl)
{
	const struct tdc_model *m = p->model;
	uint8_t cls = m ? m->unlisted_cls : TDC_C_VE;

	if (p->unlisted_zero)
		cls = TDC_C_FIXED0;
	pl->ve = cls == TDC_C_VE;
	set_leaf(pl, 0, p->partial_request && !pl->ve ? 0 : 0xffffffffu, cls,
		 m ? m->unlisted_source : "no model");
}

/*
 * Leaves the module does not virtualize but a guest enumerating 0..max
 * reaches: #VE, and the Linux handler answers zeros.
 */
static int fill_ve(struct pctx *c, size_t *cap, uint32_t first, uint32_t max)
{
	struct tdc_pred_leaf *pl;
	int r;

	for (uint32_t leaf = first; leaf <= max && leaf - first < VE_FILL_MAX; leaf++) {
		if (tdc_model_find_leaf(c->m, leaf, 0) || find_pred(c->out, leaf, 0, true))
			continue;
		if ((r = add_leaf(c, cap, &pl)) != 0)
			return r;
		init_leaf(pl, leaf, 0, false);
		unlisted_leaf(c->out, pl);
	}
	return 0;
}

static int cmp_pred(const void *a, const void *b)
{
	const struct tdc_pred_leaf *x = a, *y = b;

	if (x->leaf != y->leaf)
		return x->leaf < y->leaf ? -1 : 1;
	if (x->subleaf != y->subleaf)
		return x->subleaf < y->subleaf ? -1 : 1;
	return 0;
}

static void find_max(struct tdc_prediction *p)
{
	const struct tdc_pred_leaf *b = find_pred(p, 0, 0, true);
	const struct tdc_pred_leaf *x = find_pred(p, LEAF_EXT, 0, true);

	p->max_basic = b ? b->r[TDC_EAX].value : 0;
	p->max_extended = x ? x->r[TDC_EAX].value : 0;
	/* "GenuineIntel" in EBX, EDX, ECX, and only where the model knows it. */
	p->intel_vendor = b && !(~b->r[TDC_EBX].known | ~b->r[TDC_ECX].known | ~b->r[TDC_EDX].known) &&
			  b->r[TDC_EBX].value == 0x756e6547 && b->r[TDC_EDX].value == 0x49656e69 &&
			  b->r[TDC_ECX].value == 0x6c65746e;
}

/*
 * TD_PARAMS.XFAM as check_xfam() sees it: within the allowed bits and the
 * platform's XCR0|IA32_XSS support (CPUID.0DH.0 EAX/EDX, 0DH.1 ECX/EDX),
 * the required bits set, the feature groups whole.
 */
static void check_xfam(struct pctx *c)
{
	const struct model_td_params *t = &c->m->td;
	uint64_t x = c->in->xfam;
	uint32_t d0[TDC_NREGS], d1[TDC_NREGS];

	if (!t->present)
		return;
	/* setup_tdparams(): td_params->xfam = init_vm->xfam | xfam_fixed1. */
	if (c->in->kvm_layer)
		x |= t->xfam_fixed1;
	if (x & ~t->xfam_fixed0)
		refuse(c, "TDX_OPERAND_INVALID (XFAM): XFAM 0x%" PRIx64 " sets bits 0x%" PRIx64
		       " a TD cannot have (allowed 0x%" PRIx64 ")", x, x & ~t->xfam_fixed0,
		       t->xfam_fixed0);
	if ((x & t->xfam_fixed1) != t->xfam_fixed1)
		refuse(c, "TDX_OPERAND_INVALID (XFAM): XFAM 0x%" PRIx64 " lacks required bits 0x%"
		       PRIx64, x, t->xfam_fixed1 & ~x);
	for (size_t i = 0; i < t->ntogether; i++)
		if ((x & t->together[i]) && (x & t->together[i]) != t->together[i])
			refuse(c, "TDX_OPERAND_INVALID (XFAM): XFAM 0x%" PRIx64 " must set bits 0x%"
			       PRIx64 " all or none", x, t->together[i]);
	for (size_t i = 0; i < t->nrequires; i++)
		if ((x & t->requires[i].bits) && (x & t->requires[i].needs) != t->requires[i].needs)
			refuse(c, "TDX_OPERAND_INVALID (XFAM): XFAM bits 0x%" PRIx64 " need 0x%" PRIx64,
			       t->requires[i].bits, t->requires[i].needs);
	if (native_regs(c, 0xd, 0, d0) && native_regs(c, 0xd, 1, d1)) {
		uint64_t sup = d0[TDC_EAX] | (uint64_t)d0[TDC_EDX] << 32 | d1[TDC_ECX] |
			       (uint64_t)d1[TDC_EDX] << 32;

		if (x & ~sup)
			refuse(c, "TDX_OPERAND_INVALID (XFAM): XFAM bits 0x%" PRIx64 " are not "
			       "supported by the platform (CPUID.0DH.0/1: 0x%" PRIx64 ")", x & ~sup, sup);
	}
}

/* One platform CPUID bit, or -1 without a platform. */
static int platform_bit(const struct pctx *c, uint32_t leaf, uint32_t sub, unsigned reg,
			unsigned bit)
{
	uint32_t regs[TDC_NREGS];

	if (!native_regs(c, leaf, sub, regs))
		return -1;
	return (int)(regs[reg] >> bit & 1);
}

/*
 * TD_PARAMS.ATTRIBUTES as verify_td_attributes() sees it: within
 * ATTRIBUTES_FIXED0 (LASS only where the platform has it), FIXED1 set, no
 * excluded combination.
 */
static void check_attributes(struct pctx *c)
{
	const struct model_td_params *t = &c->m->td;
	uint64_t a = c->in->attributes, allowed = t->attributes_fixed0;

	if (!t->has_attributes)
		return;
	for (size_t i = 0; i < t->nattr_need; i++)
		if (platform_bit(c, t->attr_need[i].leaf, t->attr_need[i].subleaf,
				 t->attr_need[i].reg, t->attr_need[i].bit) == 0)
			allowed &= ~t->attr_need[i].bits;
	if (a & ~allowed)
		refuse(c, "TDX_OPERAND_INVALID (ATTRIBUTES): ATTRIBUTES 0x%" PRIx64 " sets bits 0x%"
		       PRIx64 " this module does not allow (ATTRIBUTES_FIXED0 0x%" PRIx64 ")", a,
		       a & ~allowed, allowed);
	if ((a & t->attributes_fixed1) != t->attributes_fixed1)
		refuse(c, "TDX_OPERAND_INVALID (ATTRIBUTES): ATTRIBUTES 0x%" PRIx64 " lacks required "
		       "bits 0x%" PRIx64, a, t->attributes_fixed1 & ~a);
	for (size_t i = 0; i < t->nattr_conflicts; i++)
		if ((a & t->attr_conflicts[i].bits) == t->attr_conflicts[i].bits &&
		    (a & t->attr_conflicts[i].excludes))
			refuse(c, "TDX_OPERAND_INVALID (ATTRIBUTES): ATTRIBUTES 0x%" PRIx64 ": bits 0x%"
			       PRIx64 " exclude 0x%" PRIx64, a, t->attr_conflicts[i].bits,
			       a & t->attr_conflicts[i].excludes);
}

/* TD_PARAMS.CONFIG_FLAGS as verify_td_config_flags() sees them. */
static void check_config_flags(struct pctx *c)
{
	const struct model_td_params *t = &c->m->td;
	uint64_t f = c->config_flags;

	if (!t->has_config_flags)
		return;
	if (f & ~t->config_flags_fixed0)
		refuse(c, "TDX_OPERAND_INVALID (CONFIG_FLAGS): CONFIG_FLAGS 0x%" PRIx64 " sets bits 0x%"
		       PRIx64 " this module does not allow", f, f & ~t->config_flags_fixed0);
	for (size_t i = 0; i < t->nconfig_conflicts; i++)
		if ((f & t->config_conflicts[i].bits) && (f & t->config_conflicts[i].excludes))
			refuse(c, "TDX_OPERAND_INVALID (CONFIG_FLAGS): CONFIG_FLAGS 0x%" PRIx64 ": bits 0x%"
			       PRIx64 " and 0x%" PRIx64 " exclude each other", f,
			       t->config_conflicts[i].bits, t->config_conflicts[i].excludes);
}

/*
 * What upstream KVM refuses in KVM_TDX_INIT_VM before the module runs
 * (arch/x86/kvm/vmx/tdx.c setup_tdparams()): only for a literal INIT_VM.
 */
static void check_kvm(struct pctx *c)
{
	const struct tdc_predict_in *in = c->in;
	const struct tdc_cpuid_entry *e;
	uint64_t supported = TDC_KVM_TDX_SUPPORTED_ATTRS;

	if (!in->kvm_layer || !in->strict_config)
		return;
	if (c->m->td.has_attributes)
		supported &= c->m->td.attributes_fixed0;
	if (in->attributes & ~supported)
		refuse(c, "KVM_TDX_INIT_VM: -EINVAL (ATTRIBUTES): 0x%" PRIx64 " sets bits 0x%" PRIx64
		       " outside KVM's supported_attrs 0x%" PRIx64 " (KVM_SUPPORTED_TD_ATTRS: "
		       "SEPT_VE_DISABLE)", in->attributes, in->attributes & ~supported, supported);
	e = in->requested ? tdc_cpuid_table_find(in->requested, TDC_KVM_TDX_GPAW_LEAF, 0) : NULL;
	if (!e)
		refuse(c, "KVM_TDX_INIT_VM: -EINVAL (CPUID): no CPUID.80000008H entry: KVM takes "
		       "the GPAW from its EAX[23:16] (setup_tdparams_eptp_controls())");
	else if (((e->regs[TDC_EAX] >> TDC_KVM_TDX_GPAW_SHIFT) & 0xff) != 48 &&
		 ((e->regs[TDC_EAX] >> TDC_KVM_TDX_GPAW_SHIFT) & 0xff) != 52)
		refuse(c, "KVM_TDX_INIT_VM: -EINVAL (CPUID): CPUID.80000008H:EAX[23:16] = %u: KVM "
		       "accepts a guest physical address width of 48 or 52 only",
		       (e->regs[TDC_EAX] >> TDC_KVM_TDX_GPAW_SHIFT) & 0xff);
	for (size_t i = 0; in->requested && i < in->requested->n; i++) {
		const struct tdc_cpuid_entry *q = &in->requested->e[i];
		const struct model_leaf *ml = tdc_model_find_leaf(c->m, q->leaf, q->subleaf);

		if (!ml || !ml->configurable)
			refuse(c, "KVM_TDX_INIT_VM: -EINVAL (CPUID): CPUID 0x%x subleaf %u has no "
			       "TD_PARAMS.CPUID_CONFIG slot (setup_tdparams_cpuids())", q->leaf,
			       q->subleaf);
	}
}

/* The CONFIG_FLAGS the module gets: given, else KVM's (NO_RBP_MOD, GPAW). */
static uint64_t config_flags_of(const struct tdc_predict_in *in)
{
	const struct tdc_cpuid_entry *e;

	if (in->has_config_flags)
		return in->config_flags;
	if (!in->kvm_layer)
		return 0;
	e = in->requested ? tdc_cpuid_table_find(in->requested, TDC_KVM_TDX_GPAW_LEAF, 0) : NULL;
	return tdc_kvm_tdx_config_flags(e ? (e->regs[TDC_EAX] >> TDC_KVM_TDX_GPAW_SHIFT) & 0xff : 48);
}

static int predict_all(struct pctx *c)
{
	const struct tdc_model *m = c->m;
	struct tdc_pred_leaf *pl;
	size_t cap = 0;
	int r;

	c->config_flags = config_flags_of(c->in);
	check_kvm(c);
	check_xfam(c);
	if (m->kind == TDC_MODEL_TDX) {
		check_attributes(c);
		check_config_flags(c);
		switch (ctl_state(c, m->unlisted_zero_if)) {
		case CTL_ON:
			c->out->unlisted_zero = m->unlisted_zero_if != CTL_NONE;
			break;
		case CTL_UNKNOWN:
			c->out->ambiguous_ctls |= 1ull << m->unlisted_zero_if;
			break;
		default:
			break;
		}
	}
	if (m->kind == TDC_MODEL_TDX) {
		for (size_t i = 0; i < m->nleaves; i++) {
			if ((r = add_leaf(c, &cap, &pl)) != 0)
				return r;
			predict_tdx_leaf(c, &m->leaves[i], pl);
		}
	} else if (c->in->requested) {
		for (size_t i = 0; i < c->in->requested->n; i++) {
			if ((r = add_leaf(c, &cap, &pl)) != 0)
				return r;
			predict_kvm_leaf(c, &c->in->requested->e[i], pl);
		}
	}
	find_max(c->out);
	if (m->kind == TDC_MODEL_TDX) {
		if ((r = fill_ve(c, &cap, 0, c->out->max_basic)) != 0 ||
		    (c->out->max_extended >= LEAF_EXT &&
		     (r = fill_ve(c, &cap, LEAF_EXT, c->out->max_extended)) != 0))
			return r;
	}
	if (c->out->n > 1)
		qsort(c->out->leaves, c->out->n, sizeof(*c->out->leaves), cmp_pred);
	for (size_t i = 0; i < c->out->n; i++)
		record_forced(c, &c->out->leaves[i]);
	return 0;
}

int tdc_model_predict(const struct tdc_model *m, const struct tdc_predict_in *in,
		      struct tdc_prediction *out)
{
	struct pctx c = { .m = m, .in = in, .out = out };
	int r;

	platform_maxima(&c);
	out->model = m;
	out->partial_request = in->requested_partial;
	if ((r = predict_all(&c)) != 0)
		return r;
	tdc_cpuid_table_sort(&out->refused);
	tdc_cpuid_table_sort(&out->ambiguous);
	tdc_cpuid_table_sort(&out->forced_on);
	tdc_cpuid_table_sort(&out->forced_off);
	if (c.refused)
		return tdc_err(TDC_ERR_MODEL, "%s", c.refusal);
	return 0;
}

void tdc_prediction_init(struct tdc_prediction *p)
{
	memset(p, 0, sizeof(*p));
	tdc_cpuid_table_init(&p->refused);
	tdc_cpuid_table_init(&p->ambiguous);
	tdc_cpuid_table_init(&p->forced_on);
	tdc_cpuid_table_init(&p->forced_off);
	tdc_buf_init(&p->notes);
}

void tdc_prediction_free(struct tdc_prediction *p)
{
	free(p->leaves);
	tdc_cpuid_table_free(&p->refused);
	tdc_cpuid_table_free(&p->ambiguous);
	tdc_cpuid_table_free(&p->forced_on);
	tdc_cpuid_table_free(&p->forced_off);
	tdc_buf_free(&p->notes);
	tdc_prediction_init(p);
}

/* ---- lookup ------------------------------------------------------------------ */

/*
 * kvm: a leaf the request does not list still has the fields KVM or QEMU
 * set per vCPU or at run time (APIC and topology IDs, OSXSAVE, ...).
 */
static void kvm_dynamic_overlay(const struct tdc_model *m, struct tdc_pred_leaf *pl)
{
	const struct model_leaf *ml = tdc_model_find_leaf(m, pl->leaf, pl->subleaf);

	for (size_t i = 0; ml && i < ml->nf; i++) {
		const struct model_field *f = &ml->f[i];

		if (f->step != STEP_DYNAMIC)
			continue;
		pl->r[f->reg].known &= ~f->mask;
		set_cls(&pl->r[f->reg], f->mask, TDC_C_DYNAMIC, f->source);
	}
}

/* tdc_prediction_lookup with the leaf's lower bound in p->leaves given (@lo). */
static const struct tdc_pred_leaf *lookup_at(const struct tdc_prediction *p, size_t lo,
					     uint32_t leaf, uint32_t subleaf,
					     struct tdc_pred_leaf *tmp)
{
	const struct tdc_model *m = p->model;
	const struct model_range *g = m ? tdc_model_find_range(m, leaf) : NULL;
	const struct tdc_pred_leaf *pl;

	if (g) {
		init_leaf(tmp, leaf, subleaf, true);
		tmp->ve = g->cls == TDC_C_VE;
		tmp->vmm = g->vmm;
		set_leaf(tmp, 0, g->vmm ? 0 : 0xffffffffu, g->cls, g->source);
		return tmp;
	}
	if ((pl = pred_match(p, lo, leaf, subleaf)))
		return pl;
	/*
	 * Above the maximum of its range (the hypervisor range aside): an Intel
	 * CPU, the TDX module and KVM for an Intel-vendor guest answer with the
	 * maximum basic leaf; KVM gives AMD/Hygon guests zeros
	 * (get_out_of_range_cpuid_entry() in arch/x86/kvm/cpuid.c).
	 */
	if (m && m->out_of_range_max_basic && (p->intel_vendor || !m->out_of_range_intel_only) &&
	    p->n && (leaf >> 28) != 0x4 &&
	    (leaf >= LEAF_EXT ? leaf > p->max_extended : leaf > p->max_basic) &&
	    (pl = find_pred_sorted(p, p->max_basic, subleaf)))
		return pl;
	init_leaf(tmp, leaf, subleaf, true);
	/* A partial request (QMP) says nothing about leaves it does not list. */
	unlisted_leaf(p, tmp);
	if (m && m->kind == TDC_MODEL_KVM)
		kvm_dynamic_overlay(m, tmp);
	return tmp;
}

const struct tdc_pred_leaf *tdc_prediction_lookup(const struct tdc_prediction *p,
						  uint32_t leaf, uint32_t subleaf,
						  struct tdc_pred_leaf *tmp)
{
	return lookup_at(p, pred_lower_bound(p, leaf), leaf, subleaf, tmp);
}

void tdc_pred_cursor_init(struct tdc_pred_cursor *c, const struct tdc_prediction *p)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
}

const struct tdc_pred_leaf *tdc_pred_cursor_lookup(struct tdc_pred_cursor *c, uint32_t leaf,
						   uint32_t subleaf, struct tdc_pred_leaf *tmp)
{
	const struct tdc_prediction *p = c->p;

	if (c->started && leaf < c->leaf)
		return tdc_prediction_lookup(p, leaf, subleaf, tmp);
	c->started = true;
	c->leaf = leaf;
	while (c->at < p->n && p->leaves[c->at].leaf < leaf)
		c->at++;
	return lookup_at(p, c->at, leaf, subleaf, tmp);
}
