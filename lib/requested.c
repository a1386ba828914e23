// SPDX-License-Identifier: Apache-2.0
/*
 * The requested CPUID configuration: format dispatch and content detection
 * in front of the importers (lib/import_*.c, docs/requested-formats.md).
 */
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/requested.h"
#include "import.h"

void tdc_requested_init(struct tdc_requested *r)
{
	memset(r, 0, sizeof(*r));
	tdc_cpuid_table_init(&r->table);
	tdc_cpuid_table_init(&r->known);
	tdc_cpuid_table_init(&r->filtered);
	tdc_cpuid_table_init(&r->configurable);
}

void tdc_requested_free(struct tdc_requested *r)
{
	tdc_cpuid_table_free(&r->table);
	tdc_cpuid_table_free(&r->known);
	tdc_cpuid_table_free(&r->filtered);
	tdc_cpuid_table_free(&r->configurable);
	for (size_t i = 0; i < r->ncpus; i++)
		tdc_cpuid_table_free(&r->per_cpu[i]);
	free(r->per_cpu);
	tdc_requested_init(r);
}

typedef int (*json_importer)(const json_t *root, const char *what,
			     struct tdc_requested *out);

static const struct {
	const char *name;
	json_importer fn;    /* NULL: not a JSON format */
	const char *marker;  /* value of a top-level "format" member that identifies it */
	const char *key;     /* a top-level key that identifies it */
	const char *key2;
} formats[] = {
	{ "kvm-json", tdc_import_kvmjson, TDC_KVMJSON_FORMAT, "entries", NULL },
	{ "qmp", tdc_import_qmp, TDC_QMP_CAPTURE_FORMAT, "return", "feature-words" },
	{ "tdx-init-vm", tdc_import_tdxinit, TDC_TDXINIT_FORMAT, "init_vm", NULL },
	{ "cpuid-r", NULL, NULL, NULL, NULL },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static int find_format(const char *name, size_t *idx)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i].name, name)) {
			*idx = i;
			return 0;
		}
	return tdc_err(TDC_ERR_USAGE, "unknown requested-configuration format '%s' "
		       "(kvm-json, qmp, cpuid-r, tdx-init-vm or auto)", name);
}

/* A self-describing "format" member wins; otherwise a telltale key. */
static int detect_json(const json_t *root, const char *what, size_t *idx)
{
	const json_t *fmt = json_object_get(root, "format");

	if (!json_is_object(root))
		return tdc_err(TDC_ERR_TYPE, "%s: (top level): expected object", what);
	for (size_t i = 0; i < NFORMATS; i++) {
		if (!formats[i].fn)
			continue;
		if (fmt && json_is_string(fmt) && !strcmp(json_string_value(fmt), formats[i].marker))
			goto found;
		if (!fmt && (json_object_get(root, formats[i].key) ||
			     (formats[i].key2 && json_object_get(root, formats[i].key2))))
			goto found;
		continue;
found:
		*idx = i;
		return 0;
	}
	return tdc_err(TDC_ERR_FORMAT, "%s: not a known requested-configuration document "
		       "(kvm-json \"entries\", QMP \"return\", capture or tdx-init-vm "
		       "\"format\")", what);
}

static bool looks_like_json(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')
			continue;
		return data[i] == '{' || data[i] == '[';
	}
	return false;
}

static int import_cpuid_r(const uint8_t *data, size_t len, const char *what,
			  struct tdc_requested *out)
{
	int r;

	snprintf(out->format, sizeof(out->format), "cpuid-r");
	if ((r = tdc_import_cpuid_r(data, len, what, &out->per_cpu, &out->ncpus)) != 0)
		return r;
	if (out->ncpus == 0)
		return tdc_err(TDC_ERR_MISSING, "%s: no CPUs in the dump", what);
	if (out->ncpus > TDC_REQUESTED_MAX_CPUS)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu CPUs exceed the limit of %d",
			       what, out->ncpus, TDC_REQUESTED_MAX_CPUS);
	if ((r = tdc_cpuid_table_copy(&out->table, &out->per_cpu[0])) != 0 ||
	    (r = tdc_cpuid_table_copy(&out->known, &out->per_cpu[0])) != 0)
		return r;
	/* A dump gives whole registers: everything it lists is known. */
	for (size_t i = 0; i < out->known.n; i++)
		memset(out->known.e[i].regs, 0xff, sizeof(out->known.e[i].regs));
	return 0;
}

static int parse(const uint8_t *data, size_t len, const char *format, const char *what,
		 struct tdc_requested *out)
{
	json_t *root = NULL;
	size_t idx = NFORMATS;
	bool automatic = !format || !strcmp(format, "auto");
	int r;

	if (len > TDC_REQUESTED_FILE_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu bytes exceed the %u-byte limit",
			       what, len, TDC_REQUESTED_FILE_MAX);
	if (len == 0)
		return tdc_err(TDC_ERR_TRUNCATED, "%s: empty input", what);
	if (!automatic && (r = find_format(format, &idx)) != 0)
		return r;
	if (automatic ? !looks_like_json(data, len) : !formats[idx].fn)
		return import_cpuid_r(data, len, what, out);
	if ((r = tdc_json_parse(data, len, TDC_REQUESTED_FILE_MAX, what, &root)) != 0)
		return r;
	if (automatic && (r = detect_json(root, what, &idx)) != 0)
		goto out;
	r = formats[idx].fn(root, what, out);
out:
	json_decref(root);
	return r;
}

int tdc_requested_parse(const uint8_t *data, size_t len, const char *format,
			const char *what, struct tdc_requested *out)
{
	int r;

	tdc_requested_init(out);
	if ((r = parse(data, len, format, what ? what : "requested", out)) != 0)
		tdc_requested_free(out);
	return r;
}

int tdc_requested_load(const char *path, const char *format, struct tdc_requested *out)
{
	struct tdc_buf b;
	int r;

	tdc_requested_init(out);
	tdc_buf_init(&b);
	if ((r = tdc_read_file(path, TDC_REQUESTED_FILE_MAX, &b)) == 0)
		r = tdc_requested_parse(b.data, b.len, format, path, out);
	tdc_buf_free(&b);
	return r;
}
