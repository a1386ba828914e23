/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TDC_EAR_H
#define TDC_EAR_H

#include <stdbool.h>

#include "engine.h"

#define TDC_EAR_PROFILE "tag:github.com,2023:veraison/ear"
#define TDC_EAR_BIT_NAMES 64   /* mismatching (and policy-failing) bits named in the verdict */
#define TDC_EAR_CLAIMS 3       /* hardware, configuration, instance-identity */

/* The AR4SI trustworthiness vector of a verdict and the reason for each claim. */
struct tdc_ear_vector {
	int v[TDC_EAR_CLAIMS];
	char why[TDC_EAR_CLAIMS][200];
};

struct tdc_ear_vector tdc_ear_vector_of(const struct tdc_check_result *res);
/* The claim's name in ear.trustworthiness-vector ("hardware", ...). */
const char *tdc_ear_claim_name(int claim);
/* ear.status: the tier of the worst claim. */
const char *tdc_ear_status(const struct tdc_ear_vector *x);

/*
 * The EAR claims set as text, no trailing newline (@compact: the JWS
 * payload form, else JSON_INDENT(1)'s bytes), written directly; the jansson
 * builder it is tested against is tests/verdict_oracle.c's.
 */
int tdc_ear_claims_write(const struct tdc_check_result *res, bool compact, struct tdc_buf *out);

#endif
