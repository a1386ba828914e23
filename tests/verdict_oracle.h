/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verdict documents built with jansson and dumped (JSON_INDENT(1) or
 * JSON_COMPACT, JSON_PRESERVE_ORDER): the reference the product's direct
 * writer (verifier/engine/jsonw.h: `check --format json`, the EAR) must
 * equal byte for byte, and a generator of hostile verdicts to compare
 * them on.  Test code only: the product no longer builds these.
 */
#ifndef TDC_TEST_VERDICT_ORACLE_H
#define TDC_TEST_VERDICT_ORACLE_H

#include <stdbool.h>

#include "engine.h"

/* What `check --format json` must print, trailing newline included. */
int tdc_oracle_check_json(const struct tdc_check_result *res, struct tdc_buf *out);
/* The EAR claims set, no trailing newline (tdc_ear_claims_write's form). */
int tdc_oracle_ear_claims(const struct tdc_check_result *res, bool compact,
			  struct tdc_buf *out);

/*
 * A random verdict as hostile as guest-quoted text can make one: control
 * characters, valid and invalid UTF-8 in names, details, model and policy
 * names, collateral and register sources; every verdict class.  Strings
 * the result borrows live in @store (@rng: tdc_test_rnd's state, so the
 * same seed gives the same verdicts).  Free with tdc_check_result_free.
 */
struct tdc_oracle_store {
	char from[TDC_CHECK_COLL_DOCS][64];
	char source[8][64];
};
void tdc_oracle_random_result(uint64_t *rng, struct tdc_check_result *res,
			      struct tdc_oracle_store *store);

#endif
