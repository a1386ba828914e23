// SPDX-License-Identifier: Apache-2.0
/*
 * The VM registry of `serve`: one JSON file per VM in a directory
 * (docs/protocol.md "Registry").  A registry is built completely (every
 * file parsed, every referenced config loaded by the verifier ops) before
 * it replaces the old one, so a broken edit followed by SIGHUP leaves the
 * service on the last good registry.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"

static const char *const entry_keys[] = {
	"name", "cid", "requested", "requested_format", "model", "policy", "platform",
	"trust_root", "collateral", "collateral_ca", "tcb_update_type", "sim_dir", "mrconfigid",
	"format", "comment", NULL,
};

static bool is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* Relative paths are relative to the registry directory (URLs stay as they
 * are; file://DIR is a path). */
static int path_member(const json_t *o, const char *key, const char *what, const char *dir,
		       bool required, char *dst, size_t cap)
{
	json_t *v;
	const char *s;
	int e;

	dst[0] = '\0';
	if ((e = tdc_json_member(o, key, required, what, "", &v)) != 0 || !v)
		return e;
	if ((e = tdc_json_string(v, cap - 1, what, key, &s)) != 0)
		return e;
	if (!strncmp(s, "file://", 7))
		s += 7;
	if (s[0] == '/' || !dir || is_url(s))
		snprintf(dst, cap, "%s", s);
	else if ((size_t)snprintf(dst, cap, "%s/%s", dir, s) >= cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %s: path too long", what, key);
	return 0;
}

static int text_member(const json_t *o, const char *key, const char *what, bool required,
		       char *dst, size_t cap)
{
	json_t *v;
	const char *s;
	int e;

	if ((e = tdc_json_member(o, key, required, what, "", &v)) != 0 || !v)
		return e;
	if ((e = tdc_json_string(v, cap - 1, what, key, &s)) != 0)
		return e;
	snprintf(dst, cap, "%s", s);
	return 0;
}

static int parse_fields(const json_t *o, const char *what, const char *dir,
			struct tdc_vm_entry *vm)
{
	json_t *v;
	int e;

	if ((e = tdc_json_check_object(o, entry_keys, what, "")) != 0 ||
	    (e = text_member(o, "name", what, true, vm->name, sizeof(vm->name))) != 0 ||
	    (e = path_member(o, "requested", what, dir, true, vm->requested,
			     sizeof(vm->requested))) != 0 ||
	    (e = text_member(o, "model", what, false, vm->model, sizeof(vm->model))) != 0 ||
	    (e = path_member(o, "policy", what, dir, false, vm->policy, sizeof(vm->policy))) != 0 ||
	    (e = path_member(o, "platform", what, dir, false, vm->platform,
			     sizeof(vm->platform))) != 0 ||
	    (e = path_member(o, "trust_root", what, dir, false, vm->trust_root,
			     sizeof(vm->trust_root))) != 0 ||
	    (e = path_member(o, "collateral", what, dir, false, vm->collateral,
			     sizeof(vm->collateral))) != 0 ||
	    (e = path_member(o, "collateral_ca", what, dir, false, vm->collateral_ca,
			     sizeof(vm->collateral_ca))) != 0 ||
	    (e = text_member(o, "tcb_update_type", what, false, vm->tcb_update,
			     sizeof(vm->tcb_update))) != 0 ||
	    (e = path_member(o, "sim_dir", what, dir, false, vm->sim_dir, sizeof(vm->sim_dir))) != 0 ||
	    (e = text_member(o, "requested_format", what, false, vm->requested_format,
			     sizeof(vm->requested_format))) != 0 ||
	    (e = text_member(o, "format", what, false, vm->format, sizeof(vm->format))) != 0)
		return e;
	/* A model given as a relative path ("x/y.json") lives next to the entry. */
	if (strchr(vm->model, '/') && vm->model[0] != '/' && dir) {
		char tmp[TDC_REGISTRY_PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s", vm->model);
		snprintf(vm->model, sizeof(vm->model), "%s/%s", dir, tmp);
	}
	if ((e = tdc_json_member(o, "cid", false, what, "", &v)) != 0)
		return e;
	if (v) {
		if ((e = tdc_json_u32(v, what, "cid", &vm->cid)) != 0)
			return e;
		/* 0, 1, 2 and -1 are the hypervisor, loopback, host and "any". */
		if (vm->cid < 3 || vm->cid == UINT32_MAX)
			return tdc_err(TDC_ERR_RANGE, "%s: cid: %u is reserved", what, vm->cid);
		vm->has_cid = true;
	}
	if ((e = tdc_json_member(o, "mrconfigid", false, what, "", &v)) != 0)
		return e;
	if (v) {
		if ((e = tdc_json_hex(v, vm->mrconfigid, sizeof(vm->mrconfigid), what,
				      "mrconfigid")) != 0)
			return e;
		vm->has_mrconfigid = true;
	}
	return 0;
}

/* ASCII only, whatever the locale says a letter is. */
static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool tdc_vm_name_valid(const char *name)
{
	size_t n = strnlen(name, TDC_VM_NAME_MAX + 1);

	if (n == 0 || n > TDC_VM_NAME_MAX || !alnum(name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(name[i]) && (!name[i] || !strchr("._:@/+-", name[i])))
			return false;
	return true;
}

int tdc_registry_parse_entry(const uint8_t *data, size_t len, const char *what,
			     const char *dir, struct tdc_vm_entry *vm)
{
	json_t *root = NULL;
	int e;

	memset(vm, 0, sizeof(*vm));
	if ((e = tdc_json_parse(data, len, TDC_REGISTRY_FILE_MAX, what, &root)) != 0)
		return e;
	e = parse_fields(root, what, dir, vm);
	json_decref(root);
	if (e)
		return e;
	if (!tdc_vm_name_valid(vm->name))
		return tdc_err(TDC_ERR_FORMAT, "%s: name: not a valid VM name (1 to %d of "
			       "A-Z a-z 0-9 . _ : @ / + -, starting with a letter or digit)", what,
			       TDC_VM_NAME_MAX);
	if (!vm->format[0])
		snprintf(vm->format, sizeof(vm->format), "json");
	if (strcmp(vm->format, "json") && strcmp(vm->format, "ear"))
		return tdc_err(TDC_ERR_FORMAT, "%s: format: '%s' (expected json or ear)", what,
			       vm->format);
	if (!vm->requested_format[0])
		snprintf(vm->requested_format, sizeof(vm->requested_format), "auto");
	if (!vm->tcb_update[0])
		snprintf(vm->tcb_update, sizeof(vm->tcb_update), "standard");
	if (strcmp(vm->tcb_update, "standard") && strcmp(vm->tcb_update, "early"))
		return tdc_err(TDC_ERR_FORMAT, "%s: tcb_update_type: '%s' (expected early or "
			       "standard)", what, vm->tcb_update);
	if (vm->collateral_ca[0] && strncmp(vm->collateral, "https://", 8))
		return tdc_err(TDC_ERR_FORMAT, "%s: collateral_ca needs an https:// collateral",
			       what);
	return 0;
}

static void registry_free(struct tdc_registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->vms[i].prepared && r->ops && r->ops->release)
			r->ops->release(r->ops_ctx, &r->vms[i]);
	free(r->vms);
	free(r);
}

void tdc_registry_get(struct tdc_registry *r)
{
	atomic_fetch_add(&r->refs, 1);
}

void tdc_registry_put(struct tdc_registry *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1)
		registry_free(r);
}

const struct tdc_vm_entry *tdc_registry_by_name(const struct tdc_registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->vms[i].name, name))
			return &r->vms[i];
	return NULL;
}

const struct tdc_vm_entry *tdc_registry_by_cid(const struct tdc_registry *r, uint32_t cid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->vms[i].has_cid && r->vms[i].cid == cid)
			return &r->vms[i];
	return NULL;
}

static int is_entry(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

static int load_one(const char *dir, const char *file, struct tdc_registry *r)
{
	char path[TDC_REGISTRY_PATH_MAX];
	struct tdc_vm_entry *vm = &r->vms[r->n];
	struct tdc_buf b;
	int e;

	tdc_buf_init(&b);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((e = tdc_read_file(path, TDC_REGISTRY_FILE_MAX, &b)) != 0 ||
	    (e = tdc_registry_parse_entry(b.data, b.len, path, dir, vm)) != 0)
		goto out;
	if (tdc_registry_by_name(r, vm->name)) {
		e = tdc_err(TDC_ERR_DUPLICATE, "%s: VM name '%s' already defined", path, vm->name);
		goto out;
	}
	if (vm->has_cid && tdc_registry_by_cid(r, vm->cid)) {
		e = tdc_err(TDC_ERR_DUPLICATE, "%s: CID %u already mapped", path, vm->cid);
		goto out;
	}
	if (r->ops && r->ops->prepare && (e = r->ops->prepare(r->ops_ctx, vm)) != 0) {
		e = tdc_err_wrap(e, "%s: ", path);
		goto out;
	}
	r->n++;
out:
	tdc_buf_free(&b);
	return e;
}

int tdc_registry_load(const char *dir, const struct tdc_verifier_ops *ops, void *ctx,
		      struct tdc_registry **out)
{
	static atomic_uint_fast64_t generation;
	struct dirent **names = NULL;
	struct tdc_registry *r = calloc(1, sizeof(*r));
	int n, e = 0;

	if (!r)
		return tdc_err(TDC_ERR_ALLOC, "registry");
	atomic_init(&r->refs, 1);
	r->ops = ops;
	r->ops_ctx = ctx;
	n = scandir(dir, &names, is_entry, alphasort);
	if (n < 0) {
		e = tdc_err(TDC_ERR_NOT_FOUND, "registry %s: %m", dir);
		goto out;
	}
	if ((size_t)n > TDC_REGISTRY_MAX_VMS) {
		e = tdc_err(TDC_ERR_TOO_LARGE, "registry %s: %d entries, cap %d", dir, n,
			    TDC_REGISTRY_MAX_VMS);
		goto out;
	}
	if (n && !(r->vms = calloc((size_t)n, sizeof(*r->vms)))) {
		e = tdc_err(TDC_ERR_ALLOC, "registry");
		goto out;
	}
	for (int i = 0; i < n && !e; i++)
		e = load_one(dir, names[i]->d_name, r);
	r->generation = atomic_fetch_add(&generation, 1) + 1;
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (e) {
		registry_free(r);
		return e;
	}
	*out = r;
	return 0;
}
