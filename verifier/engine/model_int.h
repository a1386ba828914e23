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
	/* leaf rules (all four registers) */
	RULE_ZERO,
	RULE_ZERO_UNLESS_XFAM,
	RULE_ZERO_UNLESS_ATTR,
	RULE_ZERO_UNLESS_BIT,  /* zero unless an earlier predicted bit is 1 */
	RULE_HLE_EQ_RTM,       /* check only: 7.0 EBX.HLE == EBX.RTM */
	/* dynamic fields: label only, except the vCPU index */
	RULE_DYN_LABEL,
	RULE_DYN_APIC_ID,      /* bits := vCPU index */
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

/* TD_PARAMS checks the module makes before computing CPUID (optional). */
struct model_td_params {
	bool present;
	uint64_t xfam_fixed0;   /* XFAM bits that may be 1 */
	uint64_t xfam_fixed1;   /* XFAM bits that must be 1 */
	uint64_t together[MODEL_XFAM_RULES_MAX];  /* all or none */
	size_t ntogether;
	struct { uint64_t bits, needs; } requires[MODEL_XFAM_RULES_MAX];
	size_t nrequires;
	char *source;
};

struct tdc_model {
	char name[TDC_MODEL_NAME_MAX];
	enum tdc_model_kind kind;
	char *description;
	char *source;
	char *module_version;
	uint8_t unlisted_cls;
	char *unlisted_source;
	bool out_of_range_max_basic;
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
