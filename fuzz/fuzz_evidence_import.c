// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: evidence in pipeline shapes (lib/evidence_import.c):
 * shape detection, Trustee's TDX evidence JSON with its base64 members, raw
 * quotes, event logs appended after the evidence's own (the input's second
 * half), then the envelope decoder on the result.
 */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t claims[] = { 0xa0 };
	struct tdc_evidence_parts parts = { .claims = claims, .claims_len = sizeof(claims) };
	struct tdc_envelope e;
	struct tdc_buf out;
	size_t half = size / 2;

	tdc_buf_init(&out);
	if (tdc_evidence_import(data, size, &parts, &out, NULL) == 0 &&
	    tdc_envelope_decode(out.data, out.len, &e) == 0)
		tdc_envelope_free(&e);
	tdc_buf_reset(&out);
	parts.eventlog[0] = data + half;
	parts.eventlog_len[0] = size - half;
	parts.neventlogs = 1;
	(void)tdc_evidence_import(data, half, &parts, &out, NULL);
	tdc_buf_reset(&out);
	(void)tdc_evidence_import(data, size, NULL, &out, NULL);
	tdc_buf_free(&out);
	return 0;
}
