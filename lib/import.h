/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to lib/: the JSON importers behind tdc_requested_parse().  Each
 * takes the already-parsed document so content detection parses only once.
 * Formats: docs/requested-formats.md.
 */
#ifndef TDC_LIB_IMPORT_H
#define TDC_LIB_IMPORT_H

#include <jansson.h>

#include "tdcpuid/requested.h"

/* Longest "cpuid-register" etc. string we bother to look at. */
#define TDC_IMPORT_STR_MAX 64

/*
 * A struct kvm_cpuid2 in JSON ({"nent"?, "entries": [...]}) at @path into
 * @t (values) and @known (all ones per entry).  Duplicate (function, index)
 * and mixed indexed/non-indexed entries of one function are rejected.
 */
int tdc_import_kvm_cpuid2(const json_t *obj, const char *what, const char *path,
			  struct tdc_cpuid_table *t, struct tdc_cpuid_table *known);

int tdc_import_kvmjson(const json_t *root, const char *what, struct tdc_requested *out);
int tdc_import_qmp(const json_t *root, const char *what, struct tdc_requested *out);
int tdc_import_tdxinit(const json_t *root, const char *what, struct tdc_requested *out);

/* Format markers of the project's own JSON documents. */
#define TDC_QMP_CAPTURE_FORMAT "tdcpuid-qmp-capture"
#define TDC_TDXINIT_FORMAT "tdcpuid-tdx-init-vm"
#define TDC_KVMJSON_FORMAT "tdcpuid-kvm-cpuid2"

#endif
