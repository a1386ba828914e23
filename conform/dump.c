// SPDX-License-Identifier: Apache-2.0
/*
 * Files a conformance run can leave behind, so a user (or a test) can redo
 * the comparison independently: the requested configuration in a format the
 * importers read back, and every vCPU's observed table.
 */
#include <jansson.h>
#include <stdlib.h>

#include "dump.h"
#include "tdcpuid/error.h"

static json_t *entries_json(const struct tdc_cpuid_table *t)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];
		json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				      "function", (json_int_t)e->leaf,
				      "index", (json_int_t)e->subleaf,
				      "flags", (json_int_t)(e->flags & TDC_CPUID_F_INDEXED ? 1 : 0),
				      "eax", (json_int_t)e->regs[TDC_EAX],
				      "ebx", (json_int_t)e->regs[TDC_EBX],
				      "ecx", (json_int_t)e->regs[TDC_ECX],
				      "edx", (json_int_t)e->regs[TDC_EDX]);

		if (!o || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int emit(json_t *root, struct tdc_buf *out)
{
	char *s = root ? json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	int r;

	json_decref(root);
	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "JSON document");
	r = tdc_buf_printf(out, "%s\n", s);
	free(s);
	return r;
}

int tdc_conform_kvmjson(const struct tdc_cpuid_table *t, struct tdc_buf *out)
{
	json_t *entries = entries_json(t);

	if (!entries)
		return tdc_err(TDC_ERR_ALLOC, "kvm-json document");
	return emit(json_pack("{s:s, s:i, s:I, s:o}", "format", "tdcpuid-kvm-cpuid2",
			      "version", 1, "nent", (json_int_t)t->n, "entries", entries), out);
}

int tdc_conform_dump_requested(struct tdc_conform_run *run, const char *path)
{
	int r;

	if (!run->requested_doc.len &&
	    (r = tdc_conform_kvmjson(&run->requested.table, &run->requested_doc)) != 0)
		return r;
	return tdc_write_file(path, run->requested_doc.data, run->requested_doc.len);
}

int tdc_conform_dump_observed(const struct tdc_conform_run *run, const char *path)
{
	json_t *vcpus = json_array();
	struct tdc_buf out;
	int r;

	for (size_t i = 0; vcpus && i < run->ncpus; i++) {
		json_t *e = entries_json(&run->observed[i]);
		json_t *o = e ? json_pack("{s:I, s:o}", "cpu", (json_int_t)i, "entries", e) : NULL;

		if (!o || json_array_append_new(vcpus, o) != 0) {
			json_decref(vcpus);
			vcpus = NULL;
		}
	}
	if (!vcpus)
		return tdc_err(TDC_ERR_ALLOC, "observed CPUID document");
	tdc_buf_init(&out);
	if ((r = emit(json_pack("{s:s, s:o}", "format", "tdcpuid-conform-observed",
				"vcpus", vcpus), &out)) == 0)
		r = tdc_write_file(path, out.data, out.len);
	tdc_buf_free(&out);
	return r;
}
