/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TDC_OUTPUT_H
#define TDC_OUTPUT_H

#include <jansson.h>

#include "engine.h"
#include "jsonw.h"

/*
 * Verdict header fields (no registers) as a JSON object (output.c): the
 * JSON output and the EAR (ear.c) share it.  output.c calls nothing of
 * ear.c; the one dispatcher over every format is format.c.
 */
json_t *tdc_check_summary_json(const struct tdc_check_result *res);
/*
 * The same fields written as members of the object open in @w, in the
 * same order and bytes as tdc_check_summary_json dumped (the EAR's
 * tdcpuid.verdict, written per verdict without building it).
 */
void tdc_check_summary_write(struct tdc_jw *w, const struct tdc_check_result *res);

/*
 * The EAR claims set as text, no trailing newline (@compact: the JWS
 * payload form, else JSON_INDENT(1)): written directly (ear.c), and built
 * with jansson and dumped, the reference the writer is tested against.
 */
int tdc_ear_claims_write(const struct tdc_check_result *res, bool compact, struct tdc_buf *out);
int tdc_ear_claims_jansson(const struct tdc_check_result *res, bool compact,
			   struct tdc_buf *out);

#endif
