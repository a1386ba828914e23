// SPDX-License-Identifier: Apache-2.0
/*
 * Policy parser and evaluation helpers (verifier/engine/policy.h, docs/policy.md).
 *
 * Strict: every key is known, every value type- and range-checked, errors
 * name the file and the JSON path.  A key a policy leaves out takes the
 * built-in default's value: the built-in default *is* the text of
 * policies/default.json (tests/test_policy.c keeps the two identical).
 */
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/tdx.h"

#define POLICY_VERSION 1
#define POLICY_STR_MAX 1024

/* policies/default.json, verbatim. */
static const char default_json[] =
	"{\n"
	"  \"version\": 1,\n"
	"  \"name\": \"default\",\n"
	"  \"description\": \"Fails on any unexplained CPUID bit (mismatch); rejects simulated evidence and debug TDs; TDREPORT-only evidence is rejected: a TDREPORT is MAC'd for its own platform only and authenticates nothing off-platform.\",\n"
	"  \"required_bits\": [],\n"
	"  \"forbidden_bits\": [],\n"
	"  \"fail_on\": [\"mismatch\"],\n"
	"  \"untrusted_leaves\": [],\n"
	"  \"allow_simulated\": false,\n"
	"  \"allow_debug\": false,\n"
	"  \"require_quote\": true,\n"
	"  \"require_nonce\": true,\n"
	"  \"require_tcb\": true,\n"
	"  \"attributes\": {\n"
	"    \"allowed\": [\"SEPT_VE_DISABLE\", \"LASS\", \"PKS\", \"KL\", \"PERFMON\"],\n"
	"    \"required\": []\n"
	"  },\n"
	"  \"xfam\": {\n"
	"    \"allowed\": \"0xffffffffffffffff\",\n"
	"    \"required\": [\"FP\", \"SSE\"]\n"
	"  },\n"
	"  \"min_tee_tcb_svn\": \"00000000000000000000000000000000\",\n"
	"  \"mrtd\": [],\n"
	"  \"rtmr0\": [],\n"
	"  \"rtmr1\": [],\n"
	"  \"rtmr2\": [],\n"
	"  \"rtmr3\": [],\n"
	"  \"mrconfigid\": [],\n"
	"  \"trust_anchor\": \"trust/Intel_SGX_Root_CA.pem\",\n"
	"  \"accept_tcb\": [\"UpToDate\", \"SWHardeningNeeded\"],\n"
	"  \"nonce_max_age\": 300\n"
	"}\n";

const char *tdc_policy_default_json(void)
{
	return default_json;
}

/* ---- parsing ------------------------------------------------------------ */

struct pctx {
	const char *what;
	const char *base_dir;
};

typedef int (*field_fn)(struct tdc_policy *p, const json_t *v, const struct pctx *c,
			const char *key, size_t off);

static int f_ignore(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		    const char *key, size_t off)
{
	const char *s;

	return tdc_json_string(v, POLICY_STR_MAX, c->what, key, &s);
}

static int f_version(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		     const char *key, size_t off)
{
	uint32_t ver;
	int r;

	if ((r = tdc_json_u32(v, c->what, key, &ver)) != 0)
		return r;
	if (ver != POLICY_VERSION)
		return tdc_err(TDC_ERR_VERSION, "%s: version: %u is not supported (expected %d)",
			       c->what, ver, POLICY_VERSION);
	p->version = ver;
	return 0;
}

static int f_name(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		  const char *key, size_t off)
{
	const char *s;
	int r;

	if ((r = tdc_json_string(v, sizeof(p->name) - 1, c->what, key, &s)) != 0)
		return r;
	snprintf(p->name, sizeof(p->name), "%s", s);
	return 0;
}

static int f_bool(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		  const char *key, size_t off)
{
	return tdc_json_bool(v, c->what, key, (bool *)((char *)p + off));
}

static int parse_bitspec(const json_t *v, const struct pctx *c, const char *path,
			 struct tdc_policy_bit *b)
{
	const char *s;
	int r;

	if ((r = tdc_json_string(v, sizeof(b->spec) - 1, c->what, path, &s)) != 0)
		return r;
	if ((r = tdc_parse_bit(s, &b->leaf, &b->subleaf, &b->reg, &b->bit)) != 0)
		return tdc_err_wrap(r, "%s: %s: ", c->what, path);
	snprintf(b->spec, sizeof(b->spec), "%s", s);
	return 0;
}

/* required_bits / forbidden_bits: the array and its count sit side by side. */
static int f_bits(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		  const char *key, size_t off)
{
	struct tdc_policy_bit **list = (struct tdc_policy_bit **)((char *)p + off);
	size_t *count = (size_t *)((char *)list + sizeof(*list));
	struct tdc_policy_bit *bits = NULL;
	char path[TDC_JSON_PATH_MAX];
	size_t n;
	int r;

	if ((r = tdc_json_array(v, TDC_POLICY_MAX_BITS, c->what, key, &n)) != 0)
		return r;
	if (n && !(bits = calloc(n, sizeof(*bits))))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", c->what, key);
	for (size_t i = 0; i < n; i++) {
		tdc_json_path_idx(path, sizeof(path), key, i);
		if ((r = parse_bitspec(json_array_get(v, i), c, path, &bits[i])) != 0) {
			free(bits);
			return r;
		}
	}
	free(*list);
	*list = bits;
	*count = n;
	return 0;
}

static int f_fail_on(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		     const char *key, size_t off)
{
	char path[TDC_JSON_PATH_MAX];
	uint32_t mask = 0;
	size_t n;
	int r;

	if ((r = tdc_json_array(v, TDC_V__COUNT, c->what, key, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		enum tdc_verdict vd;
		const char *s;

		tdc_json_path_idx(path, sizeof(path), key, i);
		if ((r = tdc_json_string(json_array_get(v, i), 32, c->what, path, &s)) != 0)
			return r;
		if (tdc_verdict_parse(s, &vd) != 0)
			return tdc_err(TDC_ERR_RANGE, "%s: %s: unknown verdict \"%s\"", c->what,
				       path, s);
		if (mask & (1u << vd))
			return tdc_err(TDC_ERR_DUPLICATE, "%s: %s: \"%s\" listed twice", c->what,
				       path, s);
		mask |= 1u << vd;
	}
	p->fail_on = mask;
	return 0;
}

/* "0x40000001", "0x40000000-0x400000ff" or a JSON integer. */
static int parse_leafrange(const json_t *v, const struct pctx *c, const char *path,
			   struct tdc_policy_leafrange *lr)
{
	char first[24], *dash;
	json_t *tmp;
	int r;

	if (!json_is_string(v) || !(dash = strchr(json_string_value(v), '-'))) {
		if ((r = tdc_json_u32(v, c->what, path, &lr->first)) != 0)
			return r;
		lr->last = lr->first;
		return 0;
	}
	snprintf(first, sizeof(first), "%.*s", (int)(dash - json_string_value(v)),
		 json_string_value(v));
	if (!(tmp = json_string(first)))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", c->what, path);
	r = tdc_json_u32(tmp, c->what, path, &lr->first);
	json_decref(tmp);
	if (r || !(tmp = json_string(dash + 1)))
		return r ? r : tdc_err(TDC_ERR_ALLOC, "%s: %s", c->what, path);
	r = tdc_json_u32(tmp, c->what, path, &lr->last);
	json_decref(tmp);
	if (r == 0 && lr->last < lr->first)
		r = tdc_err(TDC_ERR_RANGE, "%s: %s: range ends before it starts", c->what, path);
	return r;
}

static int f_leaves(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		    const char *key, size_t off)
{
	struct tdc_policy_leafrange *lr = NULL;
	char path[TDC_JSON_PATH_MAX];
	size_t n;
	int r;

	if ((r = tdc_json_array(v, TDC_POLICY_MAX_LEAVES, c->what, key, &n)) != 0)
		return r;
	if (n && !(lr = calloc(n, sizeof(*lr))))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", c->what, key);
	for (size_t i = 0; i < n; i++) {
		tdc_json_path_idx(path, sizeof(path), key, i);
		if ((r = parse_leafrange(json_array_get(v, i), c, path, &lr[i])) != 0) {
			free(lr);
			return r;
		}
	}
	free(p->untrusted_leaves);
	p->untrusted_leaves = lr;
	p->nuntrusted_leaves = n;
	return 0;
}

/* A 64-bit mask: integer / "0x..." or a list of bit names from @names. */
static int parse_mask(const json_t *v, const struct tdx_bitname *names, size_t nnames,
		      const struct pctx *c, const char *path, uint64_t *out)
{
	char ep[TDC_JSON_PATH_MAX];
	size_t n;
	int r;

	if (!json_is_array(v))
		return tdc_json_u64(v, UINT64_MAX, c->what, path, out);
	if ((r = tdc_json_array(v, 64, c->what, path, &n)) != 0)
		return r;
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s;
		bool found = false;

		tdc_json_path_idx(ep, sizeof(ep), path, i);
		if ((r = tdc_json_string(json_array_get(v, i), 32, c->what, ep, &s)) != 0)
			return r;
		for (size_t j = 0; j < nnames && !found; j++)
			if (!strcasecmp(s, names[j].name)) {
				*out |= 1ull << names[j].bit;
				found = true;
			}
		if (!found)
			return tdc_err(TDC_ERR_RANGE, "%s: %s: unknown bit name \"%s\"", c->what,
				       ep, s);
	}
	return 0;
}

/* {"allowed": mask, "required": mask} into two adjacent uint64_t. */
static int f_masks(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		   const char *key, size_t off)
{
	static const char *const keys[] = { "allowed", "required", NULL };
	uint64_t *allowed = (uint64_t *)((char *)p + off), *required = allowed + 1;
	char path[TDC_JSON_PATH_MAX];
	const struct tdx_bitname *names;
	size_t nnames;
	json_t *m;
	int r;

	names = !strcmp(key, "attributes") ? tdx_attribute_names(&nnames) :
					      tdx_xfam_names(&nnames);
	if ((r = tdc_json_check_object(v, keys, c->what, key)) != 0)
		return r;
	if ((m = json_object_get(v, "allowed")) &&
	    (r = parse_mask(m, names, nnames, c, tdc_json_path(path, sizeof(path), key,
							       "allowed"), allowed)) != 0)
		return r;
	if ((m = json_object_get(v, "required")) &&
	    (r = parse_mask(m, names, nnames, c, tdc_json_path(path, sizeof(path), key,
							       "required"), required)) != 0)
		return r;
	return 0;
}

static int f_svn(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		 const char *key, size_t off)
{
	return tdc_json_hex(v, p->min_tee_tcb_svn, TDC_POLICY_SVN_LEN, c->what, key);
}

static int f_mrlist(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		    const char *key, size_t off)
{
	struct tdc_policy_mrlist *l = (struct tdc_policy_mrlist *)((char *)p + off);
	uint8_t (*mr)[TDC_POLICY_MR_LEN] = NULL;
	char path[TDC_JSON_PATH_MAX];
	size_t n;
	int r;

	if ((r = tdc_json_array(v, TDC_POLICY_MAX_MEASUREMENTS, c->what, key, &n)) != 0)
		return r;
	if (n && !(mr = calloc(n, sizeof(*mr))))
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", c->what, key);
	for (size_t i = 0; i < n; i++) {
		tdc_json_path_idx(path, sizeof(path), key, i);
		if ((r = tdc_json_hex(json_array_get(v, i), mr[i], TDC_POLICY_MR_LEN, c->what,
				      path)) != 0) {
			free(mr);
			return r;
		}
	}
	free(l->mr);
	l->mr = mr;
	l->n = n;
	return 0;
}

/*
 * One rule for a relative trust_anchor, wherever the policy file lies: it
 * names a file in the data directory (tdcpuid/datadir.h), so a copied
 * policy ("cp strict.json mine.json") still loads the shipped root, and a
 * certificate planted next to a policy or in the working directory is never
 * picked up.  A custom anchor is an absolute path.
 */
static int f_trust_anchor(struct tdc_policy *p, const json_t *v, const struct pctx *c,
			  const char *key, size_t off)
{
	char dir[4096], *path = NULL;
	const char *s;
	int r;

	if (!json_is_null(v)) {
		if ((r = tdc_json_string(v, POLICY_STR_MAX, c->what, key, &s)) != 0)
			return r;
		if (s[0] != '/' && (!s[0] || strstr(s, "..")))
			return tdc_err(TDC_ERR_RANGE, "%s: %s \"%s\": a relative anchor names a "
				       "file in the data directory, without \"..\"", c->what, key, s);
		if (s[0] != '/' && (r = tdc_data_dir(dir, sizeof(dir), NULL, NULL)) != 0)
			return tdc_err_wrap(r, "%s: %s: ", c->what, key);
		if (s[0] != '/')
			r = asprintf(&path, "%s/%s", dir, s);
		else
			r = (path = strdup(s)) ? 0 : -1;
		if (r < 0 || !path)
			return tdc_err(TDC_ERR_ALLOC, "%s: %s", c->what, key);
	}
	free(p->trust_anchor);
	p->trust_anchor = path;
	return 0;
}

static int f_accept_tcb(struct tdc_policy *p, const json_t *v, const struct pctx *c,
			const char *key, size_t off)
{
	char path[TDC_JSON_PATH_MAX];
	uint32_t mask = 0;
	size_t n;
	int r;

	if ((r = tdc_json_array(v, TDC_TCB__COUNT, c->what, key, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		enum tdc_tcb_status st;
		const char *s;

		tdc_json_path_idx(path, sizeof(path), key, i);
		if ((r = tdc_json_string(json_array_get(v, i), 64, c->what, path, &s)) != 0)
			return r;
		if (tdc_tcb_status_parse(s, &st) != 0)
			return tdc_err(TDC_ERR_RANGE, "%s: %s: unknown TCB status \"%s\"",
				       c->what, path, s);
		mask |= 1u << st;
	}
	p->accept_tcb = mask;
	return 0;
}

static int f_age(struct tdc_policy *p, const json_t *v, const struct pctx *c,
		 const char *key, size_t off)
{
	int r;

	if ((r = tdc_json_u64(v, TDC_POLICY_MAX_AGE_S, c->what, key, &p->nonce_max_age)) != 0)
		return r;
	if (p->nonce_max_age == 0)
		return tdc_err(TDC_ERR_RANGE, "%s: %s: must be at least 1 second", c->what, key);
	return 0;
}

#define OFF(f) offsetof(struct tdc_policy, f)

static const struct field {
	const char *key;
	field_fn fn;
	size_t off;
} fields[] = {
	{ "version", f_version, 0 },
	{ "name", f_name, 0 },
	{ "description", f_ignore, 0 },
	{ "required_bits", f_bits, OFF(required) },
	{ "forbidden_bits", f_bits, OFF(forbidden) },
	{ "fail_on", f_fail_on, 0 },
	{ "untrusted_leaves", f_leaves, 0 },
	{ "allow_simulated", f_bool, OFF(allow_simulated) },
	{ "allow_debug", f_bool, OFF(allow_debug) },
	{ "require_quote", f_bool, OFF(require_quote) },
	{ "require_nonce", f_bool, OFF(require_nonce) },
	{ "require_tcb", f_bool, OFF(require_tcb) },
	{ "attributes", f_masks, OFF(attributes_allowed) },
	{ "xfam", f_masks, OFF(xfam_allowed) },
	{ "min_tee_tcb_svn", f_svn, 0 },
	{ "mrtd", f_mrlist, OFF(mrtd) },
	{ "rtmr0", f_mrlist, OFF(rtmr[0]) },
	{ "rtmr1", f_mrlist, OFF(rtmr[1]) },
	{ "rtmr2", f_mrlist, OFF(rtmr[2]) },
	{ "rtmr3", f_mrlist, OFF(rtmr[3]) },
	{ "mrconfigid", f_mrlist, OFF(mrconfigid) },
	{ "trust_anchor", f_trust_anchor, 0 },
	{ "accept_tcb", f_accept_tcb, 0 },
	{ "nonce_max_age", f_age, 0 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* The layout tricks in f_bits / f_masks rely on these adjacencies. */
_Static_assert(offsetof(struct tdc_policy, nrequired) ==
	       offsetof(struct tdc_policy, required) + sizeof(void *), "required/nrequired");
_Static_assert(offsetof(struct tdc_policy, nforbidden) ==
	       offsetof(struct tdc_policy, forbidden) + sizeof(void *), "forbidden/nforbidden");
_Static_assert(offsetof(struct tdc_policy, attributes_required) ==
	       offsetof(struct tdc_policy, attributes_allowed) + 8, "attributes masks");
_Static_assert(offsetof(struct tdc_policy, xfam_required) ==
	       offsetof(struct tdc_policy, xfam_allowed) + 8, "xfam masks");

static int apply(struct tdc_policy *p, const json_t *root, const struct pctx *c)
{
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(root))
		return tdc_err(TDC_ERR_TYPE, "%s: (top level): expected object", c->what);
	if (!json_object_get(root, "version"))
		return tdc_err(TDC_ERR_MISSING, "%s: version: missing", c->what);
	json_object_foreach((json_t *)root, key, v) {
		size_t i;

		for (i = 0; i < NFIELDS; i++)
			if (!strcmp(key, fields[i].key))
				break;
		if (i == NFIELDS)
			return tdc_err(TDC_ERR_FORMAT, "%s: %s: unknown key", c->what, key);
		if ((r = fields[i].fn(p, v, c, key, fields[i].off)) != 0)
			return r;
	}
	return 0;
}

static bool same_bit(const struct tdc_policy_bit *a, const struct tdc_policy_bit *b)
{
	return a->leaf == b->leaf && a->subleaf == b->subleaf && a->reg == b->reg &&
	       a->bit == b->bit;
}

/* Rules that span keys: contradictions a tenant cannot have meant.  Bad
 * input (exit 2), not a policy verdict on evidence (exit 1). */
static int validate(const struct tdc_policy *p, const char *what)
{
	for (size_t i = 0; i < p->nrequired; i++)
		for (size_t j = 0; j < p->nforbidden; j++)
			if (same_bit(&p->required[i], &p->forbidden[j]))
				return tdc_err(TDC_ERR_RANGE, "%s: forbidden_bits[%zu]: \"%s\" is "
					       "also required (required_bits[%zu])", what, j,
					       p->forbidden[j].spec, i);
	if ((p->attributes_required & TDX_ATTR_DEBUG) && !p->allow_debug)
		return tdc_err(TDC_ERR_RANGE, "%s: attributes.required: DEBUG, but allow_debug "
			       "is false", what);
	if (p->attributes_required & ~(p->attributes_allowed | TDX_ATTR_DEBUG))
		return tdc_err(TDC_ERR_RANGE, "%s: attributes.required: bits 0x%llx are not in "
			       "attributes.allowed", what, (unsigned long long)
			       (p->attributes_required & ~p->attributes_allowed));
	if (p->xfam_required & ~p->xfam_allowed)
		return tdc_err(TDC_ERR_RANGE, "%s: xfam.required: bits 0x%llx are not in "
			       "xfam.allowed", what,
			       (unsigned long long)(p->xfam_required & ~p->xfam_allowed));
	return 0;
}

static int parse_doc(const uint8_t *data, size_t len, const struct pctx *c,
		     struct tdc_policy *p)
{
	json_t *root;
	int r;

	if ((r = tdc_json_parse(data, len, TDC_POLICY_FILE_MAX, c->what, &root)) != 0)
		return r;
	r = apply(p, root, c);
	json_decref(root);
	return r;
}


/* "policies/strict.json" -> "strict". */
static void name_from_path(struct tdc_policy *p, const char *what)
{
	const char *base = strrchr(what, '/');
	size_t n;

	base = base ? base + 1 : what;
	n = strcspn(base, ".");
	snprintf(p->name, sizeof(p->name), "%.*s", (int)(n ? n : strlen(base)), base);
}

static void *dup_mem(const void *src, size_t n, int *r)
{
	void *d;

	if (!src || !n)
		return NULL;
	if (!(d = malloc(n)))
		*r = TDC_ERR_ALLOC;
	else
		memcpy(d, src, n);
	return d;
}

/* Deep copy, so every caller owns (and frees) its own policy. */
static int policy_clone(const struct tdc_policy *src, struct tdc_policy **out)
{
	struct tdc_policy *p = calloc(1, sizeof(*p));
	int r = 0;

	*out = NULL;
	if (!p)
		return tdc_err(TDC_ERR_ALLOC, "policy");
	*p = *src;
	p->required = dup_mem(src->required, src->nrequired * sizeof(*src->required), &r);
	p->forbidden = dup_mem(src->forbidden, src->nforbidden * sizeof(*src->forbidden), &r);
	p->untrusted_leaves = dup_mem(src->untrusted_leaves, src->nuntrusted_leaves *
				      sizeof(*src->untrusted_leaves), &r);
	p->mrtd.mr = dup_mem(src->mrtd.mr, src->mrtd.n * sizeof(*src->mrtd.mr), &r);
	for (int i = 0; i < 4; i++)
		p->rtmr[i].mr = dup_mem(src->rtmr[i].mr, src->rtmr[i].n * sizeof(*src->rtmr[i].mr),
					&r);
	p->mrconfigid.mr = dup_mem(src->mrconfigid.mr, src->mrconfigid.n *
				   sizeof(*src->mrconfigid.mr), &r);
	p->trust_anchor = src->trust_anchor ?
		dup_mem(src->trust_anchor, strlen(src->trust_anchor) + 1, &r) : NULL;
	if (r) {
		tdc_policy_free(p);
		return tdc_err(TDC_ERR_ALLOC, "policy copy");
	}
	*out = p;
	return 0;
}

/*
 * The built-in default, parsed once per process: every policy starts as a
 * copy of it, and the engine asks for it on every check without a --policy.
 */
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static struct tdc_policy *builtin;
static int builtin_err;
static char builtin_errmsg[256];

/*
 * The default's "trust/..." names a file in the data directory.  If it is
 * not there the anchor stays unset, so loading it later goes through
 * tdc_load_root(NULL), whose error names the directory searched.
 */
static void builtin_init(void)
{
	static char data_dir[4096];
	struct pctx dc = { .what = "built-in default policy", .base_dir = data_dir };
	struct tdc_policy *p = calloc(1, sizeof(*p));

	if (!p) {
		builtin_err = tdc_err(TDC_ERR_ALLOC, "built-in default policy");
	} else if ((builtin_err = tdc_data_dir(data_dir, sizeof(data_dir), NULL, NULL)) != 0 ||
		   (builtin_err = parse_doc((const uint8_t *)default_json, strlen(default_json),
					    &dc, p)) != 0 ||
		   (builtin_err = validate(p, dc.what)) != 0) {
		tdc_policy_free(p);
	} else {
		if (p->trust_anchor && access(p->trust_anchor, R_OK) != 0) {
			free(p->trust_anchor);
			p->trust_anchor = NULL;
		}
		builtin = p;
		return;
	}
	snprintf(builtin_errmsg, sizeof(builtin_errmsg), "%s", tdc_errdetail());
}

static int builtin_copy(struct tdc_policy **out)
{
	pthread_once(&builtin_once, builtin_init);
	if (!builtin)
		return tdc_err(builtin_err, "%s", builtin_errmsg);
	return policy_clone(builtin, out);
}

int tdc_policy_parse(const uint8_t *data, size_t len, const char *what,
		     const char *base_dir, struct tdc_policy **out)
{
	struct pctx c = { .what = what ? what : "policy", .base_dir = base_dir };
	struct tdc_policy *p;
	int r;

	*out = NULL;
	/* Absent keys keep the default's values: start from the default. */
	if ((r = builtin_copy(&p)) != 0)
		return r;
	/* A policy's name is its own: never report a custom policy as "default". */
	p->name[0] = '\0';
	if ((r = parse_doc(data, len, &c, p)) != 0 || (r = validate(p, c.what)) != 0) {
		tdc_policy_free(p);
		return r;
	}
	if (!p->name[0])
		name_from_path(p, c.what);
	*out = p;
	return 0;
}

int tdc_policy_default(struct tdc_policy **out)
{
	return builtin_copy(out);
}

int tdc_policy_load(const char *path, struct tdc_policy **out)
{
	struct tdc_buf b;
	char *copy = strdup(path);
	int r;

	*out = NULL;
	if (!copy)
		return tdc_err(TDC_ERR_ALLOC, "policy path");
	tdc_buf_init(&b);
	if ((r = tdc_read_file(path, TDC_POLICY_FILE_MAX, &b)) == 0)
		r = tdc_policy_parse(b.data ? b.data : (const uint8_t *)"", b.len, path,
				     dirname(copy), out);
	tdc_buf_free(&b);
	free(copy);
	return r;
}

void tdc_policy_free(struct tdc_policy *p)
{
	if (!p)
		return;
	free(p->required);
	free(p->forbidden);
	free(p->untrusted_leaves);
	free(p->mrtd.mr);
	for (int i = 0; i < 4; i++)
		free(p->rtmr[i].mr);
	free(p->mrconfigid.mr);
	free(p->trust_anchor);
	free(p);
}

const struct tdc_policy_bit *tdc_policy_required(const struct tdc_policy *p, size_t *n)
{
	*n = p->nrequired;
	return p->required;
}

const struct tdc_policy_bit *tdc_policy_forbidden(const struct tdc_policy *p, size_t *n)
{
	*n = p->nforbidden;
	return p->forbidden;
}

/* ---- evaluation helpers ------------------------------------------------- */

bool tdc_policy_verdict_fails(const struct tdc_policy *p, enum tdc_verdict v, uint32_t leaf)
{
	if ((unsigned)v >= TDC_V__COUNT)
		return true;
	if (p->fail_on & (1u << v))
		return true;
	if (v != TDC_V_UNTRUSTED)
		return false;
	for (size_t i = 0; i < p->nuntrusted_leaves; i++)
		if (leaf >= p->untrusted_leaves[i].first && leaf <= p->untrusted_leaves[i].last)
			return true;
	return false;
}

/* Record one violated rule: a line in @why, the first one as error detail. */
static void violation(struct tdc_buf *why, int *failed, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void violation(struct tdc_buf *why, int *failed, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!*failed)
		tdc_err(TDC_ERR_POLICY, "%s", line);
	*failed = 1;
	if (why)
		tdc_buf_printf(why, "%s\n", line);
}

static bool in_mrlist(const struct tdc_policy_mrlist *l, const uint8_t *mr)
{
	if (l->n == 0)
		return true;
	if (!mr)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->mr[i], mr, TDC_POLICY_MR_LEN))
			return true;
	return false;
}

static void check_mr(const struct tdc_policy_mrlist *l, const uint8_t *mr, const char *name,
		     struct tdc_buf *why, int *failed)
{
	char hex[2 * TDC_POLICY_MR_LEN + 1] = "(absent)";

	if (in_mrlist(l, mr))
		return;
	if (mr)
		tdc_hex_encode(mr, TDC_POLICY_MR_LEN, hex);
	violation(why, failed, "%s %s is not in the policy's allow-list (%zu entries)",
		  name, hex, l->n);
}

static void check_masks(const char *name, uint64_t v, uint64_t allowed, uint64_t required,
			const char *(*str)(uint64_t, char *, size_t), struct tdc_buf *why,
			int *failed)
{
	char buf[256];

	if (v & ~allowed)
		violation(why, failed, "TD %s 0x%016llx: %s not allowed by the policy", name,
			  (unsigned long long)v, str(v & ~allowed, buf, sizeof(buf)));
	if ((v & required) != required)
		violation(why, failed, "TD %s 0x%016llx: required %s not set", name,
			  (unsigned long long)v, str(required & ~v, buf, sizeof(buf)));
}

int tdc_policy_check_td(const struct tdc_policy *p, uint64_t attributes, uint64_t xfam,
			const uint8_t tee_tcb_svn[16], const uint8_t mrtd[48],
			const uint8_t rtmr[4][48], const uint8_t mrconfigid[48],
			struct tdc_buf *why)
{
	int failed = 0;
	char name[8];

	/* DEBUG is governed by allow_debug alone, whatever the masks say. */
	if ((attributes & TDX_ATTR_DEBUG) && !p->allow_debug)
		violation(why, &failed,
			  "TD ATTRIBUTES.DEBUG is set: debug TDs are not allowed by the policy");
	check_masks("ATTRIBUTES", attributes & ~TDX_ATTR_DEBUG, p->attributes_allowed,
		    p->attributes_required & ~TDX_ATTR_DEBUG, tdx_attributes_str, why, &failed);
	check_masks("XFAM", xfam, p->xfam_allowed, p->xfam_required, tdx_xfam_str, why,
		    &failed);
	for (int i = 0; i < TDC_POLICY_SVN_LEN; i++)
		if (tee_tcb_svn[i] < p->min_tee_tcb_svn[i])
			violation(why, &failed, "TEE_TCB_SVN[%d] = %u is below the policy "
				  "minimum %u", i, tee_tcb_svn[i], p->min_tee_tcb_svn[i]);
	check_mr(&p->mrtd, mrtd, "MRTD", why, &failed);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "RTMR%d", i);
		check_mr(&p->rtmr[i], rtmr ? rtmr[i] : NULL, name, why, &failed);
	}
	check_mr(&p->mrconfigid, mrconfigid, "MRCONFIGID", why, &failed);
	return failed ? TDC_ERR_POLICY : 0;
}

int tdc_policy_check_evidence(const struct tdc_policy *p, bool simulated, bool has_quote,
			      struct tdc_buf *why)
{
	int failed = 0;

	if (simulated && !p->allow_simulated)
		violation(why, &failed, "evidence comes from the simulated TEE: not allowed by "
			  "the policy (allow_simulated is false)");
	if (!has_quote && p->require_quote)
		violation(why, &failed, "evidence has a TDREPORT but no quote: it is not "
			  "authenticated off-platform and the policy requires a quote");
	return failed ? TDC_ERR_POLICY : 0;
}

int tdc_policy_check_tcb(const struct tdc_policy *p, const char *status, struct tdc_buf *why)
{
	enum tdc_tcb_status st;
	int failed = 0;

	if (tdc_tcb_status_parse(status, &st) != 0)
		violation(why, &failed, "quote TCB status \"%.64s\" is unknown", status);
	else if (!(p->accept_tcb & (1u << st)))
		violation(why, &failed, "quote TCB status %s is not accepted by the policy",
			  tdc_tcb_status_name(st));
	return failed ? TDC_ERR_POLICY : 0;
}
