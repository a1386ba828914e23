// SPDX-License-Identifier: Apache-2.0
/*
 * Capture of the requested CPUID configuration of a running QEMU over QMP
 * (`tdcpuid-verifier capture`, conform --backend qemu): feature-words and filtered-features of
 * every vCPU.  Reply shapes checked against QEMU 7.2 (lib/import_qmp.c).
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

/* One element of the capture's "cpus" from one element of query-cpus-fast. */
static int capture_cpu(struct tdc_qmp *q, const json_t *info, size_t i, json_t *cpus)
{
	const json_t *qp = json_object_get(info, "qom-path"), *idx = json_object_get(info, "cpu-index");
	json_t *fw = NULL, *ff = NULL, *cpu;
	int r;

	if (!json_is_string(qp) || !json_is_integer(idx) || json_integer_value(idx) < 0)
		return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: query-cpus-fast[%zu]: no qom-path "
			       "or cpu-index", q->path, i);
	/* vCPU paths are not device[i] (vCPU 1 is often device[2]): use QEMU's. */
	if ((r = qom_get(q, json_string_value(qp), "feature-words", &fw)) != 0 ||
	    (r = qom_get(q, json_string_value(qp), "filtered-features", &ff)) != 0)
		goto out;
	cpu = json_pack("{s:I, s:O, s:O, s:O}", "cpu-index", json_integer_value(idx),
			"qom-path", qp, "feature-words", fw, "filtered-features", ff);
	if (!cpu || json_array_append_new(cpus, cpu) != 0)
		r = tdc_err(TDC_ERR_ALLOC, "capture document");
out:
	json_decref(fw);
	json_decref(ff);
	return r;
}

static int capture_document(struct tdc_qmp *q, json_t **doc)
{
	json_t *list = NULL, *cpus = json_array();
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
	*doc = json_pack("{s:s, s:i, s:s, s:O}", "format", "tdcpuid-qmp-capture",
			 "version", 1, "qemu", q->version, "cpus", cpus);
	if (!*doc)
		r = tdc_err(TDC_ERR_ALLOC, "capture document");
out:
	json_decref(list);
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
