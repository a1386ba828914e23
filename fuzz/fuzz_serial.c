// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness: serial-console armor finder/decoder (lib/serial_armor.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tdcpuid/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_buf out, arm;
	size_t pos = 0, prev;
	int e;

	tdc_buf_init(&out);
	tdc_buf_init(&arm);
	do {
		prev = pos;
		e = tdc_armor_next(data, size, &pos, &out);
		if (e == 0) {
			/* A block that decodes must survive a re-armor round trip. */
			size_t p2 = 0;
			struct tdc_buf back;

			tdc_buf_init(&back);
			tdc_buf_reset(&arm);
			if (tdc_armor_encode(out.data, out.len, &arm) != 0 ||
			    tdc_armor_next(arm.data, arm.len, &p2, &back) != 0 ||
			    back.len != out.len || (out.len && memcmp(back.data, out.data, out.len)))
				__builtin_trap();
			tdc_buf_free(&back);
		}
		if (pos <= prev && pos < size) /* must always make progress */
			__builtin_trap();
	} while (pos < size && e != -13 /* TDC_ERR_NOT_FOUND */);
	tdc_buf_free(&out);
	tdc_buf_free(&arm);
	return 0;
}
