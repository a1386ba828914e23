// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness: protocol frame header + body decoder (lib/frame.c). */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_frame f;
	struct tdc_buf re;
	uint32_t len;

	tdc_frame_init(&f);
	tdc_buf_init(&re);
	/* As the verifier reads it: header, then exactly that many bytes. */
	if (size >= TDC_FRAME_HDR_LEN && tdc_frame_header(data, TDC_FRAME_MAX, &len) == 0 &&
	    len <= size - TDC_FRAME_HDR_LEN &&
	    tdc_frame_decode(data + TDC_FRAME_HDR_LEN, len, &f) == 0) {
		/* Whatever decodes must re-encode and decode again. */
		if (tdc_frame_encode(&f, &re) != 0 || re.len < TDC_FRAME_HDR_LEN)
			__builtin_trap();
		tdc_frame_free(&f);
		if (tdc_frame_decode(re.data + TDC_FRAME_HDR_LEN, re.len - TDC_FRAME_HDR_LEN, &f) != 0)
			__builtin_trap();
	}
	tdc_frame_free(&f);
	tdc_buf_free(&re);
	return 0;
}
