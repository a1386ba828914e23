// SPDX-License-Identifier: Apache-2.0
/*
 * Capture of the requested CPUID configuration of a running QEMU over QMP
 * (`tdcpuid-verifier capture`, conform --backend qemu): feature-words and
 * filtered-features of every vCPU, the vCPU properties that shape CPUID
 * beyond the feature words ("level", "xlevel", "vendor": which leaves exist
 * and what a leaf above them reads), and the machine's -smp topology (QEMU
 * derives 01H:EDX.ht and 80000001H:ECX.cmp-legacy from it).  Reply shapes
 * checked against QEMU 7.2 (lib/import_qmp.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/qmp.h"
#include "tdcpuid/requested.h"

#define QMP_WHAT "qmp"

static int qom_get(struct tdc_qmp *q, const char *path, const char *prop, json_t **ret)
{
	json_t *args = json_pack("{s:s, s:s}", "path", path, "property", prop);

	if (!args)
		return tdc_err(TDC_ERR_ALLOC, "qmp: qom-get arguments");
	return tdc_qmp_execute(q, "qom-get", args, ret);
}

/*
 * The X86CPU properties that decide which leaves exist ("level", "xlevel":
 * QEMU programs KVM with 0..level and 0x80000000..xlevel only, and TCG reads
 * a leaf above them as "level") and the vendor (CPUID 0, 0x80000000).
 */
static int cpu_props(struct tdc_qmp *q, const char *path, json_t **out)
{
	static const char *const names[] = { "level", "xlevel", "vendor" };
	json_t *o = json_object(), *v;
	int r = 0;

	if (!o)
		return tdc_err(TDC_ERR_ALLOC, "capture document");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !r; i++) {
		if ((r = qom_get(q, path, names[i], &v)) != 0)
			break;
		r = json_object_set_new(o, names[i], v) ? tdc_err(TDC_ERR_ALLOC, "capture") : 0;
	}
	if (r)
		json_decref(o);
	else
		*out = o;
	return r;
}

/* One element of the capture's "cpus" from one element of query-cpus-fast. */
static int capture_cpu(struct tdc_qmp *q, const json_t *info, size_t i, json_t *cpus)
{
	const json_t *qp = json_object_get(info, "qom-path"), *idx = json_object_get(info, "cpu-index");
	json_t *fw = NULL, *ff = NULL, *props = NULL, *cpu;
	int r;

	if (!json_is_string(qp) || !json_is_integer(idx) || json_integer_value(idx) < 0)
		return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: query-cpus-fast[%zu]: no qom-path "
			       "or cpu-index", q->path, i);
	/* vCPU paths are not device[i] (vCPU 1 is often device[2]): use QEMU's. */
	if ((r = qom_get(q, json_string_value(qp), "feature-words", &fw)) != 0 ||
	    (r = qom_get(q, json_string_value(qp), "filtered-features", &ff)) != 0 ||
	    (r = cpu_props(q, json_string_value(qp), &props)) != 0)
		goto out;
	cpu = json_pack("{s:I, s:O, s:O, s:O, s:O}", "cpu-index", json_integer_value(idx),
			"qom-path", qp, "feature-words", fw, "filtered-features", ff,
			"cpuid-props", props);
	if (!cpu || json_array_append_new(cpus, cpu) != 0)
		r = tdc_err(TDC_ERR_ALLOC, "capture document");
out:
	json_decref(fw);
	json_decref(ff);
	json_decref(props);
	return r;
}

static int capture_document(struct tdc_qmp *q, json_t **doc)
{
	json_t *list = NULL, *smp = NULL, *cpus = json_array();
	size_t n;
	int r;

	*doc = NULL;
	if (!cpus)
		return tdc_err(TDC_ERR_ALLOC, "capture document");
	if ((r = tdc_qmp_execute(q, "query-cpus-fast", NULL, &list)) != 0)
		goto out;
	if ((r = tdc_json_array(list, TDC_REQUESTED_MAX_CPUS, QMP_WHAT, "query-cpus-fast",
				&n)) != 0)
		goto out;
	if (n == 0) {
		r = tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: query-cpus-fast: no vCPUs", q->path);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = capture_cpu(q, json_array_get(list, i), i, cpus)) != 0)
			goto out;
	/* -smp as the machine resolved it: {"cpus", "sockets", "dies", "cores", "threads", ...}. */
	if ((r = qom_get(q, "/machine", "smp", &smp)) != 0)
		goto out;
	*doc = json_pack("{s:s, s:i, s:s, s:O, s:O}", "format", "tdcpuid-qmp-capture",
			 "version", 1, "qemu", q->version, "smp", smp, "cpus", cpus);
	if (!*doc)
		r = tdc_err(TDC_ERR_ALLOC, "capture document");
out:
	json_decref(list);
	json_decref(smp);
	json_decref(cpus);
	return r;
}

int tdc_capture_qmp(const char *socket_path, unsigned timeout_ms, struct tdc_buf *out,
		    size_t *ncpus)
{
	struct tdc_requested check;
	struct tdc_qmp q;
	json_t *doc = NULL;
	char *text = NULL;
	int r;

	tdc_buf_reset(out);
	if ((r = tdc_qmp_open(&q, socket_path, timeout_ms)) != 0)
		return r;
	if ((r = capture_document(&q, &doc)) != 0)
		goto out;
	if (!(text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		r = tdc_err(TDC_ERR_ALLOC, "capture document");
		goto out;
	}
	if ((r = tdc_buf_put(out, text, strlen(text))) != 0 || (r = tdc_buf_put(out, "\n", 1)) != 0)
		goto out;
	/* QEMU is untrusted too: never write what our own importer refuses. */
	if ((r = tdc_requested_parse(out->data, out->len, "qmp", "capture", &check)) != 0) {
		r = tdc_err_wrap(r, "qmp: %s: QEMU's replies do not form a valid capture: ",
				 socket_path);
		goto out;
	}
	*ncpus = check.ncpus;
	tdc_requested_free(&check);
out:
	free(text);
	json_decref(doc);
	tdc_qmp_close(&q);
	return r;
}
