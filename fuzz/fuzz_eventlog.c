// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: TCG2 event log parser (CCEL / runtime log), RTMR
 * replay over every index, AAEL entry decoding and digest checks.  The
 * input is also split in two at its first byte's position and parsed as a
 * CCEL followed by a runtime log, as the verifier does.
 */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mr[TDC_EVENTLOG_SHA384_LEN];
	struct tdc_eventlog l;
	size_t used, cut = size ? data[0] % (size + 1) : 0;

	tdc_eventlog_init(&l);
	if (tdc_eventlog_parse(data, size, "fuzz", &l) == 0) {
		for (uint32_t i = 0; i < TDC_CCMR_COUNT; i++)
			(void)tdc_eventlog_replay(&l, i, SIZE_MAX, mr);
		for (size_t i = 0; i < l.n; i++) {
			struct tdc_aael a;

			(void)tdc_event_digest_matches(&l.ev[i]);
			(void)tdc_event_type_name(l.ev[i].type);
			if (tdc_event_aael(&l.ev[i], &a) == 0)
				(void)tdc_aael_is(&a, "urn:tdcpuid", "cpuid-claims");
		}
	}
	tdc_eventlog_free(&l);
	(void)tdc_eventlog_used_len(data, size, "fuzz", &used);
	/* Two logs appended into one replay. */
	if (tdc_eventlog_parse(data, cut, "ccel", &l) == 0 &&
	    tdc_eventlog_parse(data + cut, size - cut, "runtime", &l) == 0)
		(void)tdc_eventlog_replay(&l, TDC_CCMR_RTMR3, SIZE_MAX, mr);
	tdc_eventlog_free(&l);
	return 0;
}
