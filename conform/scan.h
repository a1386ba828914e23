/* SPDX-License-Identifier: Apache-2.0 */
/* --scan: which requested CPUID bits this KVM honours (conform/scan.c). */
#ifndef TDC_CONFORM_SCAN_H
#define TDC_CONFORM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/requested.h"

enum tdc_scan_result {
	TDC_SCAN_HONOURED = 0, /* the guest follows the table both ways */
	TDC_SCAN_STUCK0,       /* guest sees 0 whatever is set */
	TDC_SCAN_STUCK1,       /* guest sees 1 whatever is set */
	TDC_SCAN_OTHER,        /* anything else (inverted, flaky) */
	TDC_SCAN__COUNT,
};

struct tdc_scan_bit {
	uint32_t leaf, subleaf;
	bool indexed;
	uint8_t reg, bit;
	uint8_t requested;     /* value in the unmodified table */
	uint8_t seen_base;     /* guest value with the unmodified table */
	uint8_t seen_flipped;  /* guest value with the bit flipped */
	enum tdc_scan_result result;
};

struct tdc_scan {
	struct tdc_scan_bit *bits;
	size_t n, cap;
	size_t count[TDC_SCAN__COUNT];
	size_t runs;
	double ms;
};

/* Flip every bit of every feature register of @req, one fresh VM each. */
int tdc_conform_scan(const struct tdc_requested *req, unsigned timeout_ms, struct tdc_scan *s);
void tdc_scan_free(struct tdc_scan *s);
int tdc_scan_format(const struct tdc_scan *s, bool json, struct tdc_buf *out);

#endif
