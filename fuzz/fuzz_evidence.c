// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the evidence envelope decoder (the verifier's front
 * door), then the claims decoder on the envelope's claims and the
 * REPORTDATA computation over them, as the verifier does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rd[TDC_REPORTDATA_LEN];
	struct tdc_envelope e;
	struct tdc_claims c;
	struct tdc_buf b;

	if (tdc_envelope_decode(data, size, &e) != 0)
		return 0;
	/* One spelling only: re-encoding reproduces the input. */
	tdc_buf_init(&b);
	if (tdc_envelope_encode(&e, &b) != 0 || b.len != size || memcmp(b.data, data, size))
		abort();
	tdc_buf_free(&b);
	if (tdc_reportdata_compute(e.claims.data, e.claims.len, rd) != 0)
		abort();
	if (tdc_claims_decode(e.claims.data, e.claims.len, &c) == 0) {
		tdc_buf_init(&b);
		if (tdc_claims_encode(&c, &b) != 0 || b.len != e.claims.len ||
		    memcmp(b.data, e.claims.data, b.len))
			abort();
		tdc_buf_free(&b);
		tdc_claims_free(&c);
	}
	tdc_envelope_free(&e);
	return 0;
}
