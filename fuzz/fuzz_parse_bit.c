// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: tdc_parse_bit (lib/features.c), which reads bit names
 * from policies and command lines.  Whatever it accepts must format
 * (tdc_format_bit) to a string that parses back to the same bit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/cpuid.h"

#define MAX_INPUT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[MAX_INPUT + 1], buf[TDC_BITNAME_MAX];
	uint32_t leaf, sub, leaf2, sub2;
	enum tdc_reg reg, reg2;
	unsigned bit, bit2;

	if (size > MAX_INPUT)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tdc_parse_bit(s, &leaf, &sub, &reg, &bit) != 0)
		return 0;
	if (reg >= TDC_NREGS || bit > 31)
		abort();
	tdc_format_bit(buf, sizeof(buf), leaf, sub, tdc_leaf_is_indexed(leaf), reg, bit);
	if (tdc_parse_bit(buf, &leaf2, &sub2, &reg2, &bit2) != 0 || leaf2 != leaf ||
	    sub2 != sub || reg2 != reg || bit2 != bit)
		abort();
	return 0;
}
