/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TDC_OUTPUT_H
#define TDC_OUTPUT_H

#include <jansson.h>

#include "engine.h"

/*
 * Verdict header fields (no registers) as a JSON object (output.c): the
 * JSON output and the EAR (ear.c) share it.  output.c calls nothing of
 * ear.c; the one dispatcher over every format is format.c.
 */
json_t *tdc_check_summary_json(const struct tdc_check_result *res);

#endif
