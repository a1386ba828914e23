/* SPDX-License-Identifier: Apache-2.0 */
#ifndef TDC_VERIFY_RTMR_H
#define TDC_VERIFY_RTMR_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

/*
 * The rtmr3 binding's checks (verify_rtmr.c, private to the engine): event
 * log format, RTMR3 replay against the attested @rtmr (NULL: no report), the
 * claims event, the other events.  With !@bound_rtmr3 an attached log is only parsed and reported.
 */
int tdc_engine_rtmr3(const struct tdc_envelope *env, bool bound_rtmr3,
		     const uint8_t (*rtmr)[48], struct tdc_check_result *res);

#endif
