// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: untrusted text made safe (lib/text.c).  Whatever the
 * bytes, the result is valid UTF-8, fits its buffer, and with
 * TDC_TEXT_ESCAPE_CTL holds no control character a terminal acts on.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tdcpuid/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[300];
	size_t cap = size ? (size_t)data[0] % sizeof(out) + 1 : sizeof(out);

	for (unsigned flags = 0; flags <= TDC_TEXT_ESCAPE_CTL; flags++) {
		size_t n = tdc_text_sanitize(data, size, out, cap, flags);

		if (n >= cap || strlen(out) != n || !tdc_text_utf8_valid(out, n))
			__builtin_trap();
		for (size_t i = 0; flags && i < n; i++)
			if ((uint8_t)out[i] < 0x20 || (uint8_t)out[i] == 0x7f)
				__builtin_trap();
	}
	return 0;
}
