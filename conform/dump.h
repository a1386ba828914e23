/* SPDX-License-Identifier: Apache-2.0 */
/* What a conformance run requested and observed, as files (docs/conformance.md). */
#ifndef TDC_CONFORM_DUMP_H
#define TDC_CONFORM_DUMP_H

#include "conform.h"

/* A table as the project's kvm-json document (docs/requested-formats.md). */
int tdc_conform_kvmjson(const struct tdc_cpuid_table *t, struct tdc_buf *out);
/* run->requested_doc, or kvm-json of run->requested.table if the backend left none. */
int tdc_conform_dump_requested(struct tdc_conform_run *run, const char *path);
/* {"vcpus": [{"cpu": N, "entries": [kvm-json entries]}]} */
int tdc_conform_dump_observed(const struct tdc_conform_run *run, const char *path);

#endif
