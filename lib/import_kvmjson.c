// SPDX-License-Identifier: Apache-2.0
/*
 * Importer for the project's JSON form of struct kvm_cpuid2
 * (docs/requested-formats.md, "kvm-json"):
 *
 *   {"entries": [{"function": 7, "index": 0, "flags": 1,
 *                 "eax": 0, "ebx": "0x219c07ab", "ecx": 0, "edx": 0}, ...]}
 *
 * Layout of the C struct it mirrors: tdx-abi.md §3 (struct kvm_cpuid2,
 * struct kvm_cpuid_entry2; flags bit 0 = KVM_CPUID_FLAG_SIGNIFCANT_INDEX).
 * A kvm_cpuid2 gives whole registers, so every bit of every entry is known.
 */
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "import.h"

#define KVM_CPUID_FLAG_SIGNIFCANT_INDEX 0x1u

static const char *const entry_keys[] = {
	"function", "index", "flags", "eax", "ebx", "ecx", "edx", NULL,
};
static const char *const reg_keys[TDC_NREGS] = { "eax", "ebx", "ecx", "edx" };

/* Optional u32 member, 0 when absent. */
static int opt_u32(const json_t *obj, const char *key, const char *what,
		   const char *path, uint32_t *out)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;

	*out = 0;
	if (!(v = json_object_get(obj, key)))
		return 0;
	return tdc_json_u32(v, what, tdc_json_path(p, sizeof(p), path, key), out);
}

static int parse_entry(const json_t *v, const char *what, const char *path,
		       struct tdc_cpuid_entry *e)
{
	char p[TDC_JSON_PATH_MAX];
	uint32_t kflags;
	json_t *m;
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = tdc_json_check_object(v, entry_keys, what, path)) != 0)
		return r;
	if ((r = tdc_json_member(v, "function", true, what, path, &m)) != 0 ||
	    (r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, "function"),
			      &e->leaf)) != 0)
		return r;
	if ((r = opt_u32(v, "index", what, path, &e->subleaf)) != 0 ||
	    (r = opt_u32(v, "flags", what, path, &kflags)) != 0)
		return r;
	/* The stateful-function flags (bits 1, 2) are long dead in KVM. */
	if (kflags & ~KVM_CPUID_FLAG_SIGNIFCANT_INDEX)
		return tdc_err(TDC_ERR_RANGE, "%s: %s: unsupported flags 0x%x (only bit 0, "
			       "KVM_CPUID_FLAG_SIGNIFCANT_INDEX)", what,
			       tdc_json_path(p, sizeof(p), path, "flags"), kflags);
	if (kflags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX)
		e->flags = TDC_CPUID_F_INDEXED;
	else if (e->subleaf != 0)
		/* KVM ignores index then; a non-zero one means the writer was confused. */
		return tdc_err(TDC_ERR_RANGE, "%s: %s: index %u without flag "
			       "KVM_CPUID_FLAG_SIGNIFCANT_INDEX", what,
			       tdc_json_path(p, sizeof(p), path, "index"), e->subleaf);
	for (int i = 0; i < TDC_NREGS; i++) {
		if ((r = tdc_json_member(v, reg_keys[i], true, what, path, &m)) != 0 ||
		    (r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, reg_keys[i]),
				      &e->regs[i])) != 0)
			return r;
	}
	return 0;
}

/* One function may not appear both indexed and not, nor twice. */
static int check_duplicate(const struct tdc_cpuid_table *t, const struct tdc_cpuid_entry *e,
			   const char *what, const char *path)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tdc_cpuid_entry *o = &t->e[i];

		if (o->leaf != e->leaf)
			continue;
		if ((o->flags ^ e->flags) & TDC_CPUID_F_INDEXED)
			return tdc_err(TDC_ERR_DUPLICATE, "%s: %s: function 0x%x is both "
				       "indexed and not indexed", what, path, e->leaf);
		if (o->subleaf == e->subleaf)
			return tdc_err(TDC_ERR_DUPLICATE, "%s: %s: duplicate entry for "
				       "function 0x%x index %u", what, path, e->leaf, e->subleaf);
	}
	return 0;
}

int tdc_import_kvm_cpuid2(const json_t *obj, const char *what, const char *path,
			  struct tdc_cpuid_table *t, struct tdc_cpuid_table *known)
{
	/* "format"/"version" describe a whole document, not an embedded array. */
	static const char *const top_keys[] = { "nent", "entries", "format", "version", NULL };
	static const char *const sub_keys[] = { "nent", "entries", NULL };
	const char *const *keys = path && *path ? sub_keys : top_keys;
	char p[TDC_JSON_PATH_MAX], ep[TDC_JSON_PATH_MAX];
	json_t *entries, *m;
	size_t n;
	int r;

	if ((r = tdc_json_check_object(obj, keys, what, path)) != 0)
		return r;
	if ((r = tdc_json_member(obj, "entries", true, what, path, &entries)) != 0)
		return r;
	tdc_json_path(p, sizeof(p), path, "entries");
	if ((r = tdc_json_array(entries, TDC_CPUID_MAX_ENTRIES, what, p, &n)) != 0)
		return r;
	if ((m = json_object_get(obj, "nent"))) {
		uint32_t nent;

		if ((r = tdc_json_u32(m, what, tdc_json_path(ep, sizeof(ep), path, "nent"),
				      &nent)) != 0)
			return r;
		if (nent != n)
			return tdc_err(TDC_ERR_FORMAT, "%s: %s: %u but entries has %zu elements",
				       what, ep, nent, n);
	}
	for (size_t i = 0; i < n; i++) {
		struct tdc_cpuid_entry e, k;

		tdc_json_path_idx(ep, sizeof(ep), p, i);
		if ((r = parse_entry(json_array_get(entries, i), what, ep, &e)) != 0 ||
		    (r = check_duplicate(t, &e, what, ep)) != 0)
			return r;
		k = e;
		memset(k.regs, 0xff, sizeof(k.regs));
		if ((r = tdc_cpuid_table_set(t, &e)) != 0 ||
		    (r = tdc_cpuid_table_set(known, &k)) != 0)
			return r;
	}
	tdc_cpuid_table_sort(t);
	tdc_cpuid_table_sort(known);
	return 0;
}

/* Optional self-description of a top-level document: "format" and "version". */
static int check_header(const json_t *root, const char *what)
{
	const char *fmt;
	uint32_t ver;
	json_t *m;
	int r;

	if ((m = json_object_get(root, "format"))) {
		if ((r = tdc_json_string(m, TDC_IMPORT_STR_MAX, what, "format", &fmt)) != 0)
			return r;
		if (strcmp(fmt, TDC_KVMJSON_FORMAT))
			return tdc_err(TDC_ERR_FORMAT, "%s: format: \"%s\" is not \"%s\"",
				       what, fmt, TDC_KVMJSON_FORMAT);
	}
	if ((m = json_object_get(root, "version"))) {
		if ((r = tdc_json_u32(m, what, "version", &ver)) != 0)
			return r;
		if (ver != 1)
			return tdc_err(TDC_ERR_VERSION, "%s: version: %u is not supported "
				       "(expected 1)", what, ver);
	}
	return 0;
}

int tdc_import_kvmjson(const json_t *root, const char *what, struct tdc_requested *out)
{
	int r;

	if (!json_is_object(root))
		return tdc_err(TDC_ERR_TYPE, "%s: (top level): expected object", what);
	if ((r = check_header(root, what)) != 0)
		return r;
	snprintf(out->format, sizeof(out->format), "kvm-json");
	return tdc_import_kvm_cpuid2(root, what, "", &out->table, &out->known);
}
