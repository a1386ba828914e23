// SPDX-License-Identifier: Apache-2.0
/*
 * Platform model files (policies/models/NAME.json, docs/models.md): loading
 * with a strict schema, and the static per-bit classification `explain`
 * prints.  The forward algorithm is in model_predict.c.
 *
 * A model file is untrusted input like any other: capped before jansson
 * sees it, every key checked against the schema, every error naming the
 * file and the JSON path ("tdx.json: leaves[3].fields[2].class: unknown
 * class 'fixed2'").
 */
#include <stdlib.h>
#include <string.h>

#include "model_int.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"

/* A source label is one sentence or two, not a document. */
#define MODEL_STR_MAX 1024

const char tdc_model_native_label[] =
	"the platform's own CPUID value (sampled by the TDX module at TDH.SYS.INIT)";

/* ---- small JSON helpers ---------------------------------------------- */

struct mload {
	const char *what;
	struct tdc_model *m;
};

static int get_str(struct mload *L, const json_t *obj, const char *key, bool required,
		   const char *path, char **out)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;
	const char *s;
	int r;

	*out = NULL;
	if ((r = tdc_json_member(obj, key, required, L->what, path, &v)) != 0 || !v)
		return r;
	tdc_json_path(p, sizeof(p), path, key);
	if ((r = tdc_json_string(v, MODEL_STR_MAX, L->what, p, &s)) != 0)
		return r;
	if (!(*out = strdup(s)))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", L->what, p);
	return 0;
}

static int get_u32(struct mload *L, const json_t *obj, const char *key, bool required,
		   const char *path, bool *present, uint32_t *out)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;
	int r;

	if (present)
		*present = false;
	if ((r = tdc_json_member(obj, key, required, L->what, path, &v)) != 0 || !v)
		return r;
	if (present)
		*present = true;
	return tdc_json_u32(v, L->what, tdc_json_path(p, sizeof(p), path, key), out);
}

static int get_u64(struct mload *L, const json_t *obj, const char *key, const char *path,
		   uint64_t *out)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;
	int r;

	if ((r = tdc_json_member(obj, key, false, L->what, path, &v)) != 0 || !v)
		return r;
	return tdc_json_u64(v, UINT64_MAX, L->what, tdc_json_path(p, sizeof(p), path, key), out);
}

static int get_bool(struct mload *L, const json_t *obj, const char *key, const char *path,
		    bool *out)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;
	int r;

	*out = false;
	if ((r = tdc_json_member(obj, key, false, L->what, path, &v)) != 0 || !v)
		return r;
	return tdc_json_bool(v, L->what, tdc_json_path(p, sizeof(p), path, key), out);
}

/* "subleaf": null (any subleaf) or a number. */
static int get_subleaf(struct mload *L, const json_t *obj, const char *path,
		       uint32_t *sub, bool *any)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;
	int r;

	*sub = 0;
	*any = true;
	if ((r = tdc_json_member(obj, "subleaf", true, L->what, path, &v)) != 0)
		return r;
	if (json_is_null(v))
		return 0;
	*any = false;
	return tdc_json_u32(v, L->what, tdc_json_path(p, sizeof(p), path, "subleaf"), sub);
}

static int get_class(struct mload *L, const json_t *obj, bool required, const char *path,
		     bool *present, uint8_t *cls)
{
	char p[TDC_JSON_PATH_MAX];
	enum tdc_bitclass c;
	const char *s;
	json_t *v;
	int r;

	*present = false;
	if ((r = tdc_json_member(obj, "class", required, L->what, path, &v)) != 0 || !v)
		return r;
	tdc_json_path(p, sizeof(p), path, "class");
	if ((r = tdc_json_string(v, 32, L->what, p, &s)) != 0)
		return r;
	if (tdc_bitclass_parse(s, &c) != 0)
		return tdc_err(TDC_ERR_FORMAT, "%s: %s: unknown class '%s'", L->what, p, s);
	*present = true;
	*cls = (uint8_t)c;
	return 0;
}

/* ---- rule names (data: which name runs which code) -------------------- */

struct rule_name {
	const char *name;
	uint8_t rule;
	bool leaf_rule;
};

static const struct rule_name rule_names[] = {
	{ "fms", RULE_FMS, false },
	{ "attr_bit", RULE_ATTR_BIT, false },
	{ "const", RULE_CONST, false },
	{ "xsave_max_size", RULE_XSAVE_MAX, false },
	{ "xfd", RULE_XFD, false },
	{ "tsc_frequency", RULE_TSC_FREQUENCY, false },
	{ "la_bits", RULE_LA_BITS, false },
	{ "maxpa", RULE_MAXPA, false },
	{ "maxgpa", RULE_MAXGPA, false },
	{ "native_if_ctl", RULE_NATIVE_IF_CTL, false },
	{ "zero", RULE_ZERO, true },
	{ "zero_unless_xfam", RULE_ZERO_UNLESS_XFAM, true },
	{ "zero_unless_attr", RULE_ZERO_UNLESS_ATTR, true },
	{ "zero_unless_bit", RULE_ZERO_UNLESS_BIT, true },
	{ "hle_eq_rtm", RULE_HLE_EQ_RTM, true },
	{ "zero_if_attr", RULE_ZERO_IF_ATTR, true },
	{ "ve_if_bit", RULE_VE_IF_BIT, true },
	{ "cpuid_1f_1505", RULE_CPUID_1F_1505, true },
	{ "cpuid_1f_1506", RULE_CPUID_1F_1506, true },
	{ "cpuid_0b_1505", RULE_CPUID_0B_1505, true },
	{ "cpuid_0b_1506", RULE_CPUID_0B_1506, true },
	{ "cpuid_0b_1516", RULE_CPUID_0B_1516, true },
};

/* TD control names (TDCS.TD_CTLS bits, docs/models.md "TD controls"). */
static const char *const ctl_names[] = {
	[CTL_ENUM_TOPOLOGY] = "enum_topology",
	[CTL_VIRT_CPUID2] = "virt_cpuid2",
	[CTL_REDUCE_VE] = "reduce_ve",
};

static int find_ctl(struct mload *L, const char *name, const char *path, uint8_t *ctl)
{
	for (unsigned i = 1; i < sizeof(ctl_names) / sizeof(ctl_names[0]); i++) {
		if (ctl_names[i] && !strcmp(ctl_names[i], name)) {
			*ctl = (uint8_t)i;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_FORMAT, "%s: %s: unknown TD control '%s' (enum_topology, "
		       "virt_cpuid2, reduce_ve)", L->what, path, name);
}

const char *tdc_model_ctl_name(unsigned ctl)
{
	return ctl && ctl < sizeof(ctl_names) / sizeof(ctl_names[0]) ? ctl_names[ctl] : "none";
}

/* An optional TD control name at @key of @obj. */
static int get_ctl(struct mload *L, const json_t *obj, const char *key, const char *path,
		   uint8_t *ctl)
{
	char p[TDC_JSON_PATH_MAX];
	char *name = NULL;
	int r;

	*ctl = CTL_NONE;
	if ((r = get_str(L, obj, key, false, path, &name)) != 0 || !name)
		return r;
	r = find_ctl(L, name, tdc_json_path(p, sizeof(p), path, key), ctl);
	free(name);
	return r;
}

static int find_rule(struct mload *L, const char *name, bool leaf_rule, const char *path,
		     uint8_t *rule)
{
	for (size_t i = 0; i < sizeof(rule_names) / sizeof(rule_names[0]); i++) {
		if (!strcmp(rule_names[i].name, name) && rule_names[i].leaf_rule == leaf_rule) {
			*rule = rule_names[i].rule;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_FORMAT, "%s: %s.rule: unknown %s rule '%s'", L->what, path,
		       leaf_rule ? "leaf" : "field", name);
}

/* ---- fields ----------------------------------------------------------- */

static const char *const field_keys[] = {
	"reg", "mask", "class", "config", "rule", "xfam", "attr", "ctl", "pinned", "reset",
	"value", "source", NULL
};

/* Which step of the algorithm a field is, from its class and keys. */
static int field_step(struct mload *L, struct model_field *f, const char *config,
		      const char *path)
{
	switch (f->cls) {
	case TDC_C_FIXED0:
		f->step = f->rule ? STEP_RULE : STEP_FIXED0;
		return 0;
	case TDC_C_FIXED1:
		f->step = STEP_FIXED1;
		return 0;
	case TDC_C_NATIVE:
		f->step = f->rule ? STEP_RULE : STEP_NATIVE;
		return 0;
	case TDC_C_DYNAMIC:
		f->step = STEP_DYNAMIC;
		return 0;
	case TDC_C_XFAM:
		f->step = f->rule ? STEP_RULE : STEP_XFAM;
		if (!f->rule && !f->param)
			return tdc_err(TDC_ERR_MISSING, "%s: %s: class xfam needs \"xfam\" or a rule",
				       L->what, path);
		return 0;
	case TDC_C_CONFIGURABLE:
		if (f->rule) {
			f->step = STEP_RULE;
			return 0;
		}
		if (config && !strcmp(config, "direct"))
			f->step = STEP_DIRECT;
		else if (config && !strcmp(config, "allow"))
			f->step = STEP_ALLOW;
		else
			return tdc_err(TDC_ERR_FORMAT, "%s: %s.config: expected \"direct\" or \"allow\"",
				       L->what, path);
		return 0;
	case TDC_C_ATTRIBUTES:
	case TDC_C_CALCULATED:
		if (!f->rule)
			return tdc_err(TDC_ERR_MISSING, "%s: %s: class %s needs a rule", L->what,
				       path, tdc_bitclass_name(f->cls));
		f->step = STEP_RULE;
		return 0;
	default:
		return tdc_err(TDC_ERR_FORMAT, "%s: %s.class: %s is not a field class",
			       L->what, path, tdc_bitclass_name(f->cls));
	}
}

static int parse_field_rule(struct mload *L, struct model_field *f, const char *path)
{
	int r;

	if (f->cls == TDC_C_DYNAMIC) {
		/* The x2APIC ID follows the vCPU index as the 8-bit one does (1.EBX[31:24]). */
		f->rule = !strcmp(f->rule_name, "apic_id") || !strcmp(f->rule_name, "x2apic_id") ?
				  RULE_DYN_APIC_ID :
			  !strcmp(f->rule_name, "paravirt") ? RULE_DYN_PARAVIRT : RULE_DYN_LABEL;
	} else if ((r = find_rule(L, f->rule_name, false, path, &f->rule)) != 0) {
		return r;
	}
	if ((f->rule == RULE_DYN_PARAVIRT || f->rule == RULE_NATIVE_IF_CTL) && !f->ctl)
		return tdc_err(TDC_ERR_MISSING, "%s: %s: rule %s needs a \"ctl\"", L->what, path,
			       f->rule_name);
	return 0;
}

static int parse_field(struct mload *L, const json_t *v, const char *path,
		       struct model_field *f)
{
	const char *regname, *config = NULL;
	char *cfg = NULL;
	enum tdc_reg reg;
	json_t *j;
	bool present;
	int r;

	if ((r = tdc_json_check_object(v, field_keys, L->what, path)) != 0)
		return r;
	if ((r = tdc_json_member(v, "reg", true, L->what, path, &j)) != 0 ||
	    (r = tdc_json_string(j, 8, L->what, path, &regname)) != 0)
		return r;
	if (tdc_reg_parse(regname, &reg) != 0)
		return tdc_err(TDC_ERR_FORMAT, "%s: %s.reg: unknown register '%s'", L->what,
			       path, regname);
	f->reg = (uint8_t)reg;
	if ((r = get_u32(L, v, "mask", true, path, NULL, &f->mask)) != 0 ||
	    (r = get_class(L, v, true, path, &present, &f->cls)) != 0 ||
	    (r = get_str(L, v, "source", true, path, &f->source)) != 0 ||
	    (r = get_str(L, v, "rule", false, path, &f->rule_name)) != 0 ||
	    (r = get_str(L, v, "config", false, path, &cfg)) != 0)
		goto out;
	if (!f->mask) {
		r = tdc_err(TDC_ERR_RANGE, "%s: %s.mask: empty", L->what, path);
		goto out;
	}
	if ((r = get_u64(L, v, "xfam", path, &f->param)) != 0 ||
	    (!f->param && (r = get_u64(L, v, "attr", path, &f->param)) != 0) ||
	    (r = get_ctl(L, v, "ctl", path, &f->ctl)) != 0)
		goto out;
	/* One value per field; its key says what it is (docs/models.md). */
	if ((r = get_u32(L, v, "pinned", false, path, &f->has_value, &f->value)) != 0 ||
	    (!f->has_value &&
	     (r = get_u32(L, v, "reset", false, path, &f->has_value, &f->value)) != 0) ||
	    (!f->has_value &&
	     (r = get_u32(L, v, "value", false, path, &f->has_value, &f->value)) != 0))
		goto out;
	if (f->rule_name && (r = parse_field_rule(L, f, path)) != 0)
		goto out;
	config = cfg;
	r = field_step(L, f, config, path);
out:
	free(cfg);
	return r;
}

/* ---- leaf rules ------------------------------------------------------- */

static const char *const rule_keys[] = {
	"rule", "class", "xfam", "attr", "leaf", "subleaf", "reg", "bit", "source", NULL
};

static int parse_ref_bit(struct mload *L, const json_t *v, const char *path,
			 struct model_rule_ent *e)
{
	const char *regname;
	enum tdc_reg reg;
	uint32_t bit;
	json_t *j;
	int r;

	if ((r = get_u32(L, v, "leaf", true, path, NULL, &e->ref_leaf)) != 0 ||
	    (r = get_subleaf(L, v, path, &e->ref_subleaf, &e->ref_any_subleaf)) != 0 ||
	    (r = get_u32(L, v, "bit", true, path, NULL, &bit)) != 0 ||
	    (r = tdc_json_member(v, "reg", true, L->what, path, &j)) != 0 ||
	    (r = tdc_json_string(j, 8, L->what, path, &regname)) != 0)
		return r;
	if (tdc_reg_parse(regname, &reg) != 0 || bit > 31)
		return tdc_err(TDC_ERR_RANGE, "%s: %s: bad register or bit", L->what, path);
	e->ref_reg = (uint8_t)reg;
	e->ref_bit = (uint8_t)bit;
	return 0;
}

static int parse_rule(struct mload *L, const json_t *v, const char *path,
		      struct model_rule_ent *e)
{
	int r;

	if ((r = tdc_json_check_object(v, rule_keys, L->what, path)) != 0 ||
	    (r = get_str(L, v, "rule", true, path, &e->rule_name)) != 0 ||
	    (r = get_str(L, v, "source", true, path, &e->source)) != 0 ||
	    (r = find_rule(L, e->rule_name, true, path, &e->rule)) != 0 ||
	    (r = get_class(L, v, e->rule != RULE_HLE_EQ_RTM && e->rule != RULE_VE_IF_BIT, path,
			   &e->has_cls, &e->cls)) != 0 ||
	    (r = get_u64(L, v, "xfam", path, &e->param)) != 0 ||
	    (!e->param && (r = get_u64(L, v, "attr", path, &e->param)) != 0))
		return r;
	if ((e->rule == RULE_ZERO_UNLESS_XFAM || e->rule == RULE_ZERO_UNLESS_ATTR ||
	     e->rule == RULE_ZERO_IF_ATTR) && !e->param)
		return tdc_err(TDC_ERR_MISSING, "%s: %s: rule %s needs a nonzero \"xfam\"/\"attr\"",
			       L->what, path, e->rule_name);
	if (e->rule == RULE_ZERO_UNLESS_BIT || e->rule == RULE_VE_IF_BIT)
		return parse_ref_bit(L, v, path, e);
	return 0;
}

/* ---- leaves ----------------------------------------------------------- */

static const char *const leaf_keys[] = {
	"leaf", "subleaf", "source", "faulting", "configurable", "ve_unless", "fields", "rules",
	NULL
};

/*
 * Insertion sort by step: stable, because file order within a step is the
 * order the rules run in (at most TDC_MODEL_MAX_FIELDS entries).
 */
static void sort_fields(struct model_field *f, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct model_field t = f[i];
		size_t j = i;

		while (j > 0 && f[j - 1].step > t.step) {
			f[j] = f[j - 1];
			j--;
		}
		f[j] = t;
	}
}

static int parse_fields(struct mload *L, const json_t *v, const char *path,
			struct model_leaf *ml)
{
	char p[TDC_JSON_PATH_MAX], pi[TDC_JSON_PATH_MAX];
	json_t *arr;
	size_t n;
	int r;

	if ((r = tdc_json_member(v, "fields", false, L->what, path, &arr)) != 0 || !arr)
		return r;
	tdc_json_path(p, sizeof(p), path, "fields");
	if ((r = tdc_json_array(arr, TDC_MODEL_MAX_FIELDS, L->what, p, &n)) != 0)
		return r;
	if (n && !(ml->f = calloc(n, sizeof(*ml->f))))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", L->what, p);
	for (size_t i = 0; i < n; i++) {
		ml->nf = i + 1;
		tdc_json_path_idx(pi, sizeof(pi), p, i);
		if ((r = parse_field(L, json_array_get(arr, i), pi, &ml->f[i])) != 0)
			return r;
	}
	sort_fields(ml->f, ml->nf);
	return 0;
}

static int parse_rules(struct mload *L, const json_t *v, const char *path,
		       struct model_leaf *ml)
{
	char p[TDC_JSON_PATH_MAX], pi[TDC_JSON_PATH_MAX];
	json_t *arr;
	size_t n;
	int r;

	if ((r = tdc_json_member(v, "rules", false, L->what, path, &arr)) != 0 || !arr)
		return r;
	tdc_json_path(p, sizeof(p), path, "rules");
	if ((r = tdc_json_array(arr, TDC_MODEL_MAX_RULES, L->what, p, &n)) != 0)
		return r;
	if (n && !(ml->r = calloc(n, sizeof(*ml->r))))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", L->what, p);
	for (size_t i = 0; i < n; i++) {
		ml->nr = i + 1;
		tdc_json_path_idx(pi, sizeof(pi), p, i);
		if ((r = parse_rule(L, json_array_get(arr, i), pi, &ml->r[i])) != 0)
			return r;
	}
	return 0;
}

static int parse_leaf(struct mload *L, const json_t *v, const char *path,
		      struct model_leaf *ml)
{
	int r;

	if ((r = tdc_json_check_object(v, leaf_keys, L->what, path)) != 0 ||
	    (r = get_u32(L, v, "leaf", true, path, NULL, &ml->leaf)) != 0 ||
	    (r = get_subleaf(L, v, path, &ml->subleaf, &ml->any_subleaf)) != 0 ||
	    (r = get_str(L, v, "source", true, path, &ml->source)) != 0 ||
	    (r = get_bool(L, v, "faulting", path, &ml->faulting)) != 0 ||
	    (r = get_bool(L, v, "configurable", path, &ml->configurable)) != 0 ||
	    (r = get_ctl(L, v, "ve_unless", path, &ml->ve_unless)) != 0 ||
	    (r = parse_fields(L, v, path, ml)) != 0 ||
	    (r = parse_rules(L, v, path, ml)) != 0)
		return r;
	if (ml->faulting && (ml->nf || ml->nr))
		return tdc_err(TDC_ERR_FORMAT, "%s: %s: a faulting leaf has no fields or rules",
			       L->what, path);
	return 0;
}

static int cmp_leaf(const void *a, const void *b)
{
	const struct model_leaf *x = a, *y = b;

	if (x->leaf != y->leaf)
		return x->leaf < y->leaf ? -1 : 1;
	if (x->subleaf != y->subleaf)
		return x->subleaf < y->subleaf ? -1 : 1;
	return 0;
}

/* Sorted; no duplicate (leaf, subleaf); no leaf both any-subleaf and indexed. */
static int check_leaves(struct mload *L)
{
	struct tdc_model *m = L->m;

	if (m->nleaves > 1)
		qsort(m->leaves, m->nleaves, sizeof(*m->leaves), cmp_leaf);
	for (size_t i = 1; i < m->nleaves; i++) {
		const struct model_leaf *a = &m->leaves[i - 1], *b = &m->leaves[i];

		if (a->leaf != b->leaf)
			continue;
		if (a->any_subleaf || b->any_subleaf)
			return tdc_err(TDC_ERR_FORMAT, "%s: leaf 0x%08x listed with \"subleaf\": null "
				       "and again", L->what, a->leaf);
		if (a->subleaf == b->subleaf)
			return tdc_err(TDC_ERR_DUPLICATE, "%s: leaf 0x%08x subleaf %u listed twice",
				       L->what, a->leaf, a->subleaf);
	}
	return 0;
}

static int parse_leaves(struct mload *L, const json_t *root)
{
	char pi[TDC_JSON_PATH_MAX];
	json_t *arr;
	size_t n;
	int r;

	if ((r = tdc_json_member(root, "leaves", true, L->what, "", &arr)) != 0 ||
	    (r = tdc_json_array(arr, TDC_MODEL_MAX_LEAVES, L->what, "leaves", &n)) != 0)
		return r;
	if (n && !(L->m->leaves = calloc(n, sizeof(*L->m->leaves))))
		return tdc_err(TDC_ERR_ALLOC, "%s: leaves", L->what);
	for (size_t i = 0; i < n; i++) {
		L->m->nleaves = i + 1;
		tdc_json_path_idx(pi, sizeof(pi), "leaves", i);
		if ((r = parse_leaf(L, json_array_get(arr, i), pi, &L->m->leaves[i])) != 0)
			return r;
	}
	return check_leaves(L);
}

/* ---- top level -------------------------------------------------------- */

static const char *const top_keys[] = {
	"format", "format_version", "name", "kind", "module_version", "logic", "logic_verified",
	"releases", "td_controls", "description", "source", "generated_by", "unlisted",
	"out_of_range", "td_params", "ranges", "leaves", NULL
};
static const char *const td_keys[] = {
	"xfam_fixed0", "xfam_fixed1", "xfam_together", "xfam_requires", "attributes_fixed0",
	"attributes_fixed1", "attributes_need_cpuid", "attributes_conflicts",
	"config_flags_fixed0", "config_flags_conflicts", "source", NULL
};
static const char *const requires_keys[] = { "bits", "needs", NULL };
static const char *const conflict_keys[] = { "bits", "excludes", NULL };
static const char *const need_keys[] = { "bits", "leaf", "subleaf", "reg", "bit", NULL };
static const char *const unlisted_keys[] = { "class", "source", "zero_if", NULL };
static const char *const range_keys[] = { "first", "last", "class", "vmm", "source", NULL };

/* An optional array of short strings, kept joined by ", " (for messages). */
static int parse_names(struct mload *L, const json_t *root, const char *key, char **out)
{
	char pi[TDC_JSON_PATH_MAX];
	struct tdc_buf b;
	json_t *arr;
	const char *s;
	size_t n;
	int r;

	*out = NULL;
	if ((r = tdc_json_member(root, key, false, L->what, "", &arr)) != 0 || !arr)
		return r;
	if ((r = tdc_json_array(arr, TDC_MODEL_MAX_RANGES * 2, L->what, key, &n)) != 0)
		return r;
	tdc_buf_init(&b);
	for (size_t i = 0; i < n && !r; i++) {
		tdc_json_path_idx(pi, sizeof(pi), key, i);
		if ((r = tdc_json_string(json_array_get(arr, i), TDC_MODEL_NAME_MAX, L->what, pi,
					 &s)) == 0)
			r = tdc_buf_printf(&b, "%s%s", i ? ", " : "", s);
	}
	if (!r && (r = tdc_buf_cstr(&b) ? 0 : tdc_err(TDC_ERR_ALLOC, "%s: %s", L->what, key)) == 0 &&
	    !(*out = strdup(b.len ? (const char *)b.data : "")))
		r = tdc_err(TDC_ERR_ALLOC, "%s: %s", L->what, key);
	tdc_buf_free(&b);
	return r;
}

/* "td_controls": the TD_CTLS the module supports, by name. */
static int parse_td_controls(struct mload *L, const json_t *root)
{
	char pi[TDC_JSON_PATH_MAX];
	const char *s;
	json_t *arr;
	uint8_t ctl;
	size_t n;
	int r;

	if ((r = tdc_json_member(root, "td_controls", false, L->what, "", &arr)) != 0 || !arr)
		return r;
	if ((r = tdc_json_array(arr, 8, L->what, "td_controls", &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		tdc_json_path_idx(pi, sizeof(pi), "td_controls", i);
		if ((r = tdc_json_string(json_array_get(arr, i), 32, L->what, pi, &s)) != 0 ||
		    (r = find_ctl(L, s, pi, &ctl)) != 0)
			return r;
		L->m->td_controls |= 1ull << ctl;
	}
	return 0;
}

static int parse_header(struct mload *L, const json_t *root)
{
	char *format = NULL, *name = NULL, *kind = NULL, *gen = NULL;
	uint32_t version;
	int r;

	if ((r = tdc_json_check_object(root, top_keys, L->what, "")) != 0 ||
	    (r = get_str(L, root, "format", true, "", &format)) != 0)
		goto out;
	if (strcmp(format, TDC_MODEL_FORMAT) != 0) {
		r = tdc_err(TDC_ERR_FORMAT, "%s: format: '%s' is not a tdcpuid model ('%s')",
			    L->what, format, TDC_MODEL_FORMAT);
		goto out;
	}
	if ((r = get_u32(L, root, "format_version", true, "", NULL, &version)) != 0)
		goto out;
	if (version != TDC_MODEL_FORMAT_VERSION) {
		r = tdc_err(TDC_ERR_VERSION, "%s: format_version: %u is not supported (this "
			    "build reads version %d)", L->what, version, TDC_MODEL_FORMAT_VERSION);
		goto out;
	}
	if ((r = get_str(L, root, "name", true, "", &name)) != 0 ||
	    (r = get_str(L, root, "kind", true, "", &kind)) != 0 ||
	    (r = get_str(L, root, "description", true, "", &L->m->description)) != 0 ||
	    (r = get_str(L, root, "source", true, "", &L->m->source)) != 0 ||
	    (r = get_str(L, root, "module_version", false, "", &L->m->module_version)) != 0 ||
	    (r = get_str(L, root, "logic", false, "", &L->m->logic)) != 0 ||
	    (r = get_bool(L, root, "logic_verified", "", &L->m->logic_verified)) != 0 ||
	    (r = parse_names(L, root, "releases", &L->m->releases)) != 0 ||
	    (r = parse_td_controls(L, root)) != 0 ||
	    (r = get_str(L, root, "generated_by", false, "", &gen)) != 0)
		goto out;
	if (strlen(name) >= sizeof(L->m->name)) {
		r = tdc_err(TDC_ERR_RANGE, "%s: name: longer than %d bytes", L->what,
			    TDC_MODEL_NAME_MAX - 1);
		goto out;
	}
	snprintf(L->m->name, sizeof(L->m->name), "%s", name);
	if (!strcmp(kind, "tdx"))
		L->m->kind = TDC_MODEL_TDX;
	else if (!strcmp(kind, "kvm"))
		L->m->kind = TDC_MODEL_KVM;
	else
		r = tdc_err(TDC_ERR_FORMAT, "%s: kind: unknown kind '%s' (tdx or kvm)", L->what, kind);
out:
	free(format);
	free(name);
	free(kind);
	free(gen);
	return r;
}

static int parse_unlisted(struct mload *L, const json_t *root)
{
	char *oor = NULL;
	json_t *v;
	bool present;
	int r;

	if ((r = tdc_json_member(root, "unlisted", true, L->what, "", &v)) != 0 ||
	    (r = tdc_json_check_object(v, unlisted_keys, L->what, "unlisted")) != 0 ||
	    (r = get_class(L, v, true, "unlisted", &present, &L->m->unlisted_cls)) != 0 ||
	    (r = get_str(L, v, "source", true, "unlisted", &L->m->unlisted_source)) != 0 ||
	    (r = get_ctl(L, v, "zero_if", "unlisted", &L->m->unlisted_zero_if)) != 0 ||
	    (r = get_str(L, root, "out_of_range", false, "", &oor)) != 0)
		goto out;
	if (oor && strcmp(oor, "max_basic") != 0 && strcmp(oor, "max_basic_intel") != 0)
		r = tdc_err(TDC_ERR_FORMAT, "%s: out_of_range: unknown rule '%s' (max_basic, "
			    "max_basic_intel)", L->what, oor);
	L->m->out_of_range_max_basic = oor != NULL;
	L->m->out_of_range_intel_only = oor && !strcmp(oor, "max_basic_intel");
out:
	free(oor);
	return r;
}

static int parse_u64_array(struct mload *L, const json_t *obj, const char *key,
			   const char *path, uint64_t *out, size_t *n)
{
	char p[TDC_JSON_PATH_MAX], pi[TDC_JSON_PATH_MAX];
	json_t *arr;
	int r;

	*n = 0;
	if ((r = tdc_json_member(obj, key, false, L->what, path, &arr)) != 0 || !arr)
		return r;
	tdc_json_path(p, sizeof(p), path, key);
	if ((r = tdc_json_array(arr, MODEL_XFAM_RULES_MAX, L->what, p, n)) != 0)
		return r;
	for (size_t i = 0; i < *n; i++)
		if ((r = tdc_json_u64(json_array_get(arr, i), UINT64_MAX, L->what,
				      tdc_json_path_idx(pi, sizeof(pi), p, i), &out[i])) != 0)
			return r;
	return 0;
}

static int parse_requires(struct mload *L, const json_t *td, struct model_td_params *t)
{
	char pi[TDC_JSON_PATH_MAX];
	json_t *arr, *v;
	int r;

	if ((r = tdc_json_member(td, "xfam_requires", false, L->what, "td_params", &arr)) != 0 ||
	    !arr)
		return r;
	if ((r = tdc_json_array(arr, MODEL_XFAM_RULES_MAX, L->what, "td_params.xfam_requires",
				&t->nrequires)) != 0)
		return r;
	for (size_t i = 0; i < t->nrequires; i++) {
		v = json_array_get(arr, i);
		tdc_json_path_idx(pi, sizeof(pi), "td_params.xfam_requires", i);
		if ((r = tdc_json_check_object(v, requires_keys, L->what, pi)) != 0 ||
		    (r = get_u64(L, v, "bits", pi, &t->requires[i].bits)) != 0 ||
		    (r = get_u64(L, v, "needs", pi, &t->requires[i].needs)) != 0)
			return r;
	}
	return 0;
}

static int parse_conflicts(struct mload *L, const json_t *td, const char *key,
			   struct model_conflict *c, size_t *n)
{
	char p[TDC_JSON_PATH_MAX], pi[TDC_JSON_PATH_MAX];
	json_t *arr, *v;
	int r;

	*n = 0;
	if ((r = tdc_json_member(td, key, false, L->what, "td_params", &arr)) != 0 || !arr)
		return r;
	tdc_json_path(p, sizeof(p), "td_params", key);
	if ((r = tdc_json_array(arr, MODEL_XFAM_RULES_MAX, L->what, p, n)) != 0)
		return r;
	for (size_t i = 0; i < *n; i++) {
		v = json_array_get(arr, i);
		tdc_json_path_idx(pi, sizeof(pi), p, i);
		if ((r = tdc_json_check_object(v, conflict_keys, L->what, pi)) != 0 ||
		    (r = get_u64(L, v, "bits", pi, &c[i].bits)) != 0 ||
		    (r = get_u64(L, v, "excludes", pi, &c[i].excludes)) != 0)
			return r;
	}
	return 0;
}

static int parse_attr_need(struct mload *L, const json_t *td, struct model_td_params *t)
{
	const char *p = "td_params.attributes_need_cpuid";
	char pi[TDC_JSON_PATH_MAX];
	struct model_rule_ent ref;
	json_t *arr, *v;
	int r;

	if ((r = tdc_json_member(td, "attributes_need_cpuid", false, L->what, "td_params",
				 &arr)) != 0 || !arr)
		return r;
	if ((r = tdc_json_array(arr, MODEL_XFAM_RULES_MAX, L->what, p, &t->nattr_need)) != 0)
		return r;
	for (size_t i = 0; i < t->nattr_need; i++) {
		v = json_array_get(arr, i);
		tdc_json_path_idx(pi, sizeof(pi), p, i);
		memset(&ref, 0, sizeof(ref));
		if ((r = tdc_json_check_object(v, need_keys, L->what, pi)) != 0 ||
		    (r = get_u64(L, v, "bits", pi, &t->attr_need[i].bits)) != 0 ||
		    (r = parse_ref_bit(L, v, pi, &ref)) != 0)
			return r;
		t->attr_need[i].leaf = ref.ref_leaf;
		t->attr_need[i].subleaf = ref.ref_subleaf;
		t->attr_need[i].reg = ref.ref_reg;
		t->attr_need[i].bit = ref.ref_bit;
	}
	return 0;
}

static int parse_td_params(struct mload *L, const json_t *root)
{
	struct model_td_params *t = &L->m->td;
	json_t *td;
	int r;

	if ((r = tdc_json_member(root, "td_params", false, L->what, "", &td)) != 0 || !td)
		return r;
	t->present = true;
	t->xfam_fixed0 = UINT64_MAX;
	if ((r = tdc_json_check_object(td, td_keys, L->what, "td_params")) != 0 ||
	    (r = get_str(L, td, "source", true, "td_params", &t->source)) != 0 ||
	    (r = get_u64(L, td, "xfam_fixed0", "td_params", &t->xfam_fixed0)) != 0 ||
	    (r = get_u64(L, td, "xfam_fixed1", "td_params", &t->xfam_fixed1)) != 0 ||
	    (r = parse_u64_array(L, td, "xfam_together", "td_params", t->together,
				 &t->ntogether)) != 0 ||
	    (r = parse_requires(L, td, t)) != 0 ||
	    (r = parse_attr_need(L, td, t)) != 0 ||
	    (r = parse_conflicts(L, td, "attributes_conflicts", t->attr_conflicts,
				 &t->nattr_conflicts)) != 0 ||
	    (r = parse_conflicts(L, td, "config_flags_conflicts", t->config_conflicts,
				 &t->nconfig_conflicts)) != 0)
		return r;
	t->has_attributes = json_object_get(td, "attributes_fixed0") != NULL;
	t->attributes_fixed0 = UINT64_MAX;
	t->has_config_flags = json_object_get(td, "config_flags_fixed0") != NULL;
	t->config_flags_fixed0 = UINT64_MAX;
	if ((r = get_u64(L, td, "attributes_fixed0", "td_params", &t->attributes_fixed0)) != 0 ||
	    (r = get_u64(L, td, "attributes_fixed1", "td_params", &t->attributes_fixed1)) != 0)
		return r;
	return get_u64(L, td, "config_flags_fixed0", "td_params", &t->config_flags_fixed0);
}

static int parse_ranges(struct mload *L, const json_t *root)
{
	char pi[TDC_JSON_PATH_MAX];
	json_t *arr, *v;
	size_t n;
	bool present;
	int r;

	if ((r = tdc_json_member(root, "ranges", false, L->what, "", &arr)) != 0 || !arr)
		return r;
	if ((r = tdc_json_array(arr, TDC_MODEL_MAX_RANGES, L->what, "ranges", &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct model_range *g = &L->m->ranges[i];

		L->m->nranges = i + 1;
		v = json_array_get(arr, i);
		tdc_json_path_idx(pi, sizeof(pi), "ranges", i);
		if ((r = tdc_json_check_object(v, range_keys, L->what, pi)) != 0 ||
		    (r = get_u32(L, v, "first", true, pi, NULL, &g->first)) != 0 ||
		    (r = get_u32(L, v, "last", true, pi, NULL, &g->last)) != 0 ||
		    (r = get_class(L, v, true, pi, &present, &g->cls)) != 0 ||
		    (r = get_bool(L, v, "vmm", pi, &g->vmm)) != 0 ||
		    (r = get_str(L, v, "source", true, pi, &g->source)) != 0)
			return r;
		if (g->last < g->first)
			return tdc_err(TDC_ERR_RANGE, "%s: %s: last < first", L->what, pi);
	}
	return 0;
}

int tdc_model_parse(const uint8_t *data, size_t len, const char *what,
		    struct tdc_model **out)
{
	struct mload L = { .what = what ? what : "model" };
	json_t *root = NULL;
	int r;

	*out = NULL;
	if ((r = tdc_json_parse(data, len, TDC_MODEL_FILE_MAX, L.what, &root)) != 0)
		return r;
	if (!json_is_object(root)) {
		r = tdc_err(TDC_ERR_TYPE, "%s: expected a JSON object", L.what);
		goto out;
	}
	if (!(L.m = calloc(1, sizeof(*L.m)))) {
		r = tdc_err(TDC_ERR_ALLOC, "%s", L.what);
		goto out;
	}
	if ((r = parse_header(&L, root)) != 0 || (r = parse_unlisted(&L, root)) != 0 ||
	    (r = parse_td_params(&L, root)) != 0 || (r = parse_ranges(&L, root)) != 0 ||
	    (r = parse_leaves(&L, root)) != 0)
		goto out;
	*out = L.m;
	L.m = NULL;
out:
	tdc_model_free(L.m);
	json_decref(root);
	return r;
}

/* ---- locating model files --------------------------------------------- */

/* For messages only: files are found through tdc_data_path(). */
const char *tdc_model_dir(void)
{
	static _Thread_local char dir[4096];
	char base[4000];

	if (tdc_data_dir(base, sizeof(base), NULL, NULL) != 0)
		snprintf(base, sizeof(base), "(invalid data directory)");
	snprintf(dir, sizeof(dir), "%s/models", base);
	return dir;
}

/* A model name is a file name stem: no path tricks through it. */
static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= TDC_MODEL_NAME_MAX || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
			return false;
	return true;
}

static bool is_path(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".json"));
}

int tdc_model_open(const char *name_or_path, struct tdc_model **out)
{
	char path[4096], rel[TDC_MODEL_NAME_MAX + 16];
	struct tdc_buf b;
	int r = 0;

	*out = NULL;
	if (!name_or_path)
		return tdc_err(TDC_ERR_USAGE, "model: no name given");
	if (is_path(name_or_path)) {
		snprintf(path, sizeof(path), "%s", name_or_path);
	} else {
		if (!valid_name(name_or_path))
			return tdc_err(TDC_ERR_USAGE, "model: '%s' is not a model name", name_or_path);
		snprintf(rel, sizeof(rel), "models/%s.json", name_or_path);
		r = tdc_data_path(path, sizeof(path), rel, NULL);
	}
	tdc_buf_init(&b);
	if (!r)
		r = tdc_read_file(path, TDC_MODEL_FILE_MAX, &b);
	if (!r)
		r = tdc_model_parse(b.data, b.len, path, out);
	tdc_buf_free(&b);
	return r;
}

static void free_leaf(struct model_leaf *ml)
{
	for (size_t i = 0; i < ml->nf; i++) {
		free(ml->f[i].rule_name);
		free(ml->f[i].source);
	}
	for (size_t i = 0; i < ml->nr; i++) {
		free(ml->r[i].rule_name);
		free(ml->r[i].source);
	}
	free(ml->f);
	free(ml->r);
	free(ml->source);
}

void tdc_model_free(struct tdc_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nleaves; i++)
		free_leaf(&m->leaves[i]);
	for (size_t i = 0; i < m->nranges; i++)
		free(m->ranges[i].source);
	free(m->leaves);
	free(m->description);
	free(m->source);
	free(m->module_version);
	free(m->logic);
	free(m->releases);
	free(m->unlisted_source);
	free(m->td.source);
	free(m);
}

const char *tdc_model_name(const struct tdc_model *m) { return m->name; }
enum tdc_model_kind tdc_model_kind(const struct tdc_model *m) { return m->kind; }
const char *tdc_model_module_version(const struct tdc_model *m) { return m->module_version; }
const char *tdc_model_releases(const struct tdc_model *m) { return m->releases; }
bool tdc_model_logic_verified(const struct tdc_model *m) { return !m->logic || m->logic_verified; }
uint64_t tdc_model_td_controls(const struct tdc_model *m) { return m->td_controls; }

uint64_t tdc_model_attributes_allowed(const struct tdc_model *m)
{
	return m->td.has_attributes ? m->td.attributes_fixed0 : UINT64_MAX;
}

uint64_t tdc_model_xfam_allowed(const struct tdc_model *m)
{
	return m->td.present ? m->td.xfam_fixed0 : UINT64_MAX;
}

int tdc_model_configurable(const struct tdc_model *m, struct tdc_cpuid_table *out)
{
	int r = 0;

	tdc_cpuid_table_init(out);
	for (size_t i = 0; i < m->nleaves && !r; i++) {
		const struct model_leaf *ml = &m->leaves[i];
		struct tdc_cpuid_entry e = { .leaf = ml->leaf, .subleaf = ml->subleaf,
					     .flags = ml->any_subleaf ? 0 : TDC_CPUID_F_INDEXED };

		if (!ml->configurable)
			continue;
		for (size_t j = 0; j < ml->nf; j++)
			if (ml->f[j].step == STEP_DIRECT || ml->f[j].step == STEP_ALLOW)
				e.regs[ml->f[j].reg] |= ml->f[j].mask;
		r = tdc_cpuid_table_set(out, &e);
	}
	if (r)
		tdc_cpuid_table_free(out);
	else
		tdc_cpuid_table_sort(out);
	return r;
}

/* ---- lookup and explanation ------------------------------------------- */

const struct model_leaf *tdc_model_find_leaf(const struct tdc_model *m, uint32_t leaf,
					     uint32_t subleaf)
{
	for (size_t i = 0; i < m->nleaves; i++) {
		const struct model_leaf *ml = &m->leaves[i];

		if (ml->leaf == leaf && (ml->any_subleaf || ml->subleaf == subleaf))
			return ml;
	}
	return NULL;
}

const struct model_range *tdc_model_find_range(const struct tdc_model *m, uint32_t leaf)
{
	for (size_t i = 0; i < m->nranges; i++)
		if (leaf >= m->ranges[i].first && leaf <= m->ranges[i].last)
			return &m->ranges[i];
	return NULL;
}

static bool field_covers(const struct model_field *f, enum tdc_reg reg, unsigned bit)
{
	return f->reg == reg && (f->mask & (1u << bit));
}

int tdc_model_describe(const struct tdc_model *m, uint32_t leaf, uint32_t subleaf,
		       enum tdc_reg reg, unsigned bit, tdc_model_rule_fn fn, void *ctx)
{
	const struct model_range *g = tdc_model_find_range(m, leaf);
	const struct model_leaf *ml;

	if ((unsigned)reg >= TDC_NREGS || bit > 31)
		return tdc_err(TDC_ERR_RANGE, "model: register %d bit %u", reg, bit);
	if (g) {
		fn(ctx, g->cls, g->vmm ? "vmm" : NULL, g->source);
		return 0;
	}
	if (!(ml = tdc_model_find_leaf(m, leaf, subleaf))) {
		fn(ctx, m->unlisted_cls, NULL, m->unlisted_source);
		return 0;
	}
	if (ml->faulting) {
		fn(ctx, TDC_C_VE, NULL, ml->source);
		return 0;
	}
	/* The run-time #VE condition first: the class below holds when the TD set the control. */
	if (ml->ve_unless)
		fn(ctx, TDC_C_VE, ml->ve_unless == CTL_REDUCE_VE ? "unless reduce_ve" :
		   ml->ve_unless == CTL_ENUM_TOPOLOGY ? "unless enum_topology" :
		   "unless virt_cpuid2", ml->source);
	if (m->kind == TDC_MODEL_TDX)
		fn(ctx, TDC_C_NATIVE, NULL, tdc_model_native_label);
	else
		fn(ctx, m->unlisted_cls, NULL, m->unlisted_source);
	for (size_t i = 0; i < ml->nf; i++) {
		const struct model_field *f = &ml->f[i];

		/* Leaf rules run after the field rules of the same step. */
		if (f->step == STEP_DYNAMIC)
			break;
		if (field_covers(f, reg, bit))
			fn(ctx, f->cls, f->rule_name, f->source);
	}
	for (size_t i = 0; i < ml->nr; i++)
		if (ml->r[i].has_cls)
			fn(ctx, ml->r[i].cls, ml->r[i].rule_name, ml->r[i].source);
	for (size_t i = 0; i < ml->nf; i++)
		if (ml->f[i].step == STEP_DYNAMIC && field_covers(&ml->f[i], reg, bit))
			fn(ctx, TDC_C_DYNAMIC, ml->f[i].rule_name, ml->f[i].source);
	return 0;
}

struct last_rule {
	enum tdc_bitclass cls;
	const char *source;
};

static void keep_last(void *ctx, enum tdc_bitclass cls, const char *rule, const char *source)
{
	struct last_rule *l = ctx;

	l->cls = cls;
	l->source = source;
}

int tdc_model_classify(const struct tdc_model *m, uint32_t leaf, uint32_t subleaf,
		       enum tdc_reg reg, unsigned bit, enum tdc_bitclass *cls,
		       const char **source)
{
	struct last_rule l = { TDC_C_NATIVE, NULL };
	int r;

	if ((r = tdc_model_describe(m, leaf, subleaf, reg, bit, keep_last, &l)) != 0)
		return r;
	*cls = l.cls;
	if (source)
		*source = l.source;
	return 0;
}
