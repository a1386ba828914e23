/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TDC_OUTPUT_H
#define TDC_OUTPUT_H

#include "engine.h"
#include "jsonw.h"

/*
 * The verdict header fields (no registers), written as members of the
 * object open in @w (output.c): `check --format json` and the EAR's
 * tdcpuid.verdict (ear.c) share it.  output.c calls nothing of ear.c; the
 * one dispatcher over every format is format.c.  The bytes are those of
 * the jansson builders in tests/verdict_oracle.c, which the tests compare
 * them with.
 */
void tdc_check_summary_write(struct tdc_jw *w, const struct tdc_check_result *res);

/* One bit of a register: its model class name ("?" if none) and its verdict. */
const char *tdc_bit_class(const struct tdc_reg_result *rr, unsigned bit);
enum tdc_verdict tdc_bit_verdict(const struct tdc_reg_result *rr, unsigned bit);

#endif
