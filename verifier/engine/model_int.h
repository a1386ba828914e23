/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to verifier/model*.c: the in-memory form of a model file
 * (docs/models.md).  The loader (model.c) builds it, the forward algorithm
 * (model_predict.c) runs it.
 */
#ifndef TDC_VERIFIER_MODEL_INT_H
#define TDC_VERIFIER_MODEL_INT_H

#include "model.h"

/*
 * The order in which the TDX module builds a TD's CPUID value
 * (tdh_mng_init.c read_and_set_cpuid_configurations, then td_cpuid.c at run
 * time).  Fields are kept sorted by step; for a bit, the last step that owns
 * it gives its class.
 */
enum model_step {
	STEP_NATIVE,   /* platform value (verify_mask pins some bits) */
	STEP_FIXED0,   /* value &= ~mask */
	STEP_FIXED1,   /* value |= mask */
	STEP_DIRECT,   /* value = value & ~mask | input & mask */
	STEP_ALLOW,    /* value &= input | ~mask */
	STEP_XFAM,     /* value &= ~mask unless XFAM has every bit of param */
	STEP_RULE,     /* leaf-specific rule (code) */
	STEP_DYNAMIC,  /* run-time field: value at reset */
};

/* Rule kinds: what code a "rule" name in the model file runs. */
enum model_rule {
	RULE_NONE = 0,
	/* field rules (one register, a mask) */
	RULE_FMS,            /* 1.EAX: input, 0 = native family/model/stepping */
	RULE_ATTR_BIT,       /* bits := ATTRIBUTES has param */
	RULE_CONST,          /* bits := value */
	RULE_XSAVE_MAX,      /* 0xD.0 ECX: max XSAVE size for XFAM user components */
	RULE_XFD,            /* 0xD.1 EAX.XFD: cleared unless an XFAM component has XFD */
	RULE_TSC_FREQUENCY,  /* 0x15 EBX := TSC frequency / 25 MHz */
	RULE_LA_BITS,        /* 0x80000008 EAX[15:8] := LA57 ? 57 : 48 */
	RULE_MAXPA,          /* 0x80000008 EAX[7:0]: native unless CONFIG_FLAGS.MAXPA_VIRT */
	RULE_MAXGPA,         /* 0x80000008 EAX[23:16]: GPA width with MAXGPA_VIRT, else 0 */
	RULE_NATIVE_IF_CTL,  /* bits := native (sampled) while a TD control is set */
	/* leaf rules (all four registers) */
	RULE_ZERO,
	RULE_ZERO_UNLESS_XFAM,
	RULE_ZERO_UNLESS_ATTR,
	RULE_ZERO_UNLESS_BIT,  /* zero unless an earlier predicted bit is 1 */
	RULE_HLE_EQ_RTM,       /* check only: 7.0 EBX.HLE == EBX.RTM */
	RULE_ZERO_IF_ATTR,     /* zero if ATTRIBUTES has every bit */
	RULE_VE_IF_BIT,        /* #VE (run time) while that earlier predicted bit is 1 */
	RULE_CPUID_1F_1505,    /* 0x1F: platform's if all-zero configured; format check */
	RULE_CPUID_1F_1506,    /* the same with the 1.5.06 format checks */
	RULE_CPUID_0B_1505,    /* 0xB derived from 0x1F, three variants (models.md) */
	RULE_CPUID_0B_1506,
	RULE_CPUID_0B_1516,
	/* dynamic fields: label only, except the vCPU index and paravirt */
	RULE_DYN_LABEL,
	RULE_DYN_APIC_ID,      /* bits := vCPU index (apic_id, x2apic_id) */
	RULE_DYN_PARAVIRT,     /* under a TD control: configured AND a guest-written bit */
};

/*
 * TD controls a model may depend on (TDCS.TD_CTLS bit numbers, from
 * include/tdcpuid/evidence.h).  A model names them; 0 = none.
 */
enum model_ctl {
	CTL_NONE = 0,
	CTL_ENUM_TOPOLOGY = 1,
	CTL_VIRT_CPUID2 = 2,
	CTL_REDUCE_VE = 3,
};

struct model_field {
	uint8_t reg;      /* enum tdc_reg */
	uint8_t cls;      /* enum tdc_bitclass */
	uint8_t step;     /* enum model_step */
	uint8_t rule;     /* enum model_rule */
	uint32_t mask;
	uint32_t value;   /* pinned / const / reset, if has_value */
	bool has_value;
	uint64_t param;   /* xfam or attr bits */
	uint8_t ctl;      /* enum model_ctl of native_if_ctl / paravirt */
	char *rule_name;  /* NULL if none */
	char *source;
};

struct model_rule_ent {
	uint8_t rule;     /* enum model_rule */
	uint8_t cls;      /* enum tdc_bitclass (if has_cls) */
	bool has_cls;
	uint64_t param;
	/* RULE_ZERO_UNLESS_BIT: the bit it depends on */
	uint32_t ref_leaf, ref_subleaf;
	bool ref_any_subleaf;
	uint8_t ref_reg, ref_bit;
	char *rule_name;
	char *source;
};

struct model_leaf {
	uint32_t leaf;
	uint32_t subleaf;
	bool any_subleaf;  /* "subleaf": null: matches every subleaf (not indexed) */
	bool faulting;
	bool configurable; /* has a TD_PARAMS.CPUID_CONFIG slot (cpuid_configurable[]) */
	uint8_t ve_unless; /* enum model_ctl: #VE at run time unless that control is set */
	char *source;
	struct model_field *f;
	size_t nf;
	struct model_rule_ent *r;
	size_t nr;
};

struct model_range {
	uint32_t first, last;
	uint8_t cls;
	bool vmm;
	char *source;
};

#define MODEL_XFAM_RULES_MAX 8

/* Two bit sets a TD_PARAMS field may not have together. */
struct model_conflict {
	uint64_t bits, excludes;
};

/* TD_PARAMS checks the module makes before computing CPUID (optional). */
struct model_td_params {
	bool present;
	uint64_t xfam_fixed0;   /* XFAM bits that may be 1 */
	uint64_t xfam_fixed1;   /* XFAM bits that must be 1 */
	uint64_t together[MODEL_XFAM_RULES_MAX];  /* all or none */
	size_t ntogether;
	struct { uint64_t bits, needs; } requires[MODEL_XFAM_RULES_MAX];
	size_t nrequires;
	/* verify_td_attributes() */
	bool has_attributes;
	uint64_t attributes_fixed0, attributes_fixed1;
	struct {
		uint64_t bits;
		uint32_t leaf, subleaf;
		uint8_t reg, bit;
	} attr_need[MODEL_XFAM_RULES_MAX];   /* allowed only if the platform has the bit */
	size_t nattr_need;
	struct model_conflict attr_conflicts[MODEL_XFAM_RULES_MAX];
	size_t nattr_conflicts;
	/* verify_td_config_flags() */
	bool has_config_flags;
	uint64_t config_flags_fixed0;
	struct model_conflict config_conflicts[MODEL_XFAM_RULES_MAX];
	size_t nconfig_conflicts;
	char *source;
};

struct tdc_model {
	char name[TDC_MODEL_NAME_MAX];
	enum tdc_model_kind kind;
	char *description;
	char *source;
	char *module_version;
	char *logic;              /* release whose code the rules follow, or NULL */
	bool logic_verified;      /* read from that release's source (else inferred) */
	char *releases;           /* "1.5.16, 1.5.20, ..." (releases sharing the model) */
	uint64_t td_controls;     /* TD_CTLS bits the module supports (1ull << ctl) */
	uint8_t unlisted_cls;
	uint8_t unlisted_zero_if; /* enum model_ctl: unlisted leaves are zeros under it */
	char *unlisted_source;
	bool out_of_range_max_basic;
	bool out_of_range_intel_only; /* KVM: AMD/Hygon guests read zeros above the maximum */
	struct model_td_params td;
	struct model_range ranges[TDC_MODEL_MAX_RANGES];
	size_t nranges;
	struct model_leaf *leaves;  /* sorted by (leaf, subleaf) */
	size_t nleaves;
};

/* The model entry for (leaf, subleaf): exact, or an any-subleaf entry. */
const struct model_leaf *tdc_model_find_leaf(const struct tdc_model *m, uint32_t leaf,
					     uint32_t subleaf);
const struct model_range *tdc_model_find_range(const struct tdc_model *m, uint32_t leaf);

/* Label of bits the model takes from the CPU (TDX) or from the request (kvm). */
extern const char tdc_model_native_label[];

#endif
