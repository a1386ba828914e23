// SPDX-License-Identifier: Apache-2.0
/*
 * CBOR item heads without libcbor (RFC 8949 §3): the fully static agent
 * needs this because Debian ships libcbor only as a shared library.  Same
 * contract as lib/cbor_head_libcbor.c; tests and a fuzz harness check that
 * the two agree on every input.
 */
#include <string.h>

#include "cbor_strict.h"

/* Simple values and floats (major 7), by additional information. */
static const char *simple_name(uint8_t ai)
{
	switch (ai) {
	case 20:
	case 21:
		return "boolean";
	case 22:
		return "null";
	case 23:
		return "undefined";
	case 25:
	case 26:
	case 27:
		return "floating-point number";
	case 31:
		return "break";
	default:
		return NULL; /* unassigned simple values: malformed for us */
	}
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int tdc_cbor_head_decode_native(const uint8_t *p, size_t rem, struct tdc_cbor_head *h,
				size_t *read)
{
	static const uint8_t arg_len[4] = { 1, 2, 4, 8 }; /* ai 24..27 */
	uint8_t major, ai;
	size_t n = 1;
	uint64_t v;

	memset(h, 0, sizeof(*h));
	if (rem == 0)
		return TDC_CBOR_HEAD_NEED;
	major = p[0] >> 5;
	ai = p[0] & 31;
	h->it.major = major;
	if (major == TDC_CBOR_SIMPLE) {
		if (!(h->it.simple = simple_name(ai)))
			return TDC_CBOR_HEAD_BAD;
		h->it.val = ai == 21; /* true */
		n += ai >= 25 && ai <= 27 ? arg_len[ai - 24] : 0;
		if (n > rem)
			return TDC_CBOR_HEAD_NEED;
		*read = n;
		return TDC_CBOR_HEAD_OK;
	}
	if (ai == 31) {
		/* Indefinite lengths exist only for strings, arrays and maps. */
		if (major < TDC_CBOR_BYTES || major > TDC_CBOR_MAP)
			return TDC_CBOR_HEAD_BAD;
		h->indefinite = true;
		*read = 1;
		return TDC_CBOR_HEAD_OK;
	}
	if (ai >= 28)
		return TDC_CBOR_HEAD_BAD;
	/*
	 * libcbor 0.8 rejects one-byte tags 6..20 as malformed; follow it so
	 * both codecs agree byte for byte (every tag is an error for us anyway).
	 */
	if (major == TDC_CBOR_TAG && ai >= 6 && ai <= 20)
		return TDC_CBOR_HEAD_BAD;
	if (ai < 24) {
		v = ai;
	} else {
		n += arg_len[ai - 24];
		if (n > rem)
			return TDC_CBOR_HEAD_NEED;
		v = load_be(p + 1, n - 1);
	}
	h->it.val = v;
	if (major == TDC_CBOR_BYTES || major == TDC_CBOR_TEXT) {
		if (v > rem - n)
			return TDC_CBOR_HEAD_NEED;
		h->it.data = p + n;
		n += (size_t)v;
	}
	*read = n;
	return TDC_CBOR_HEAD_OK;
}

size_t tdc_cbor_head_encode_native(enum tdc_cbor_major m, uint64_t v, uint8_t out[9])
{
	uint8_t mt = (uint8_t)(m << 5);
	size_t n;

	if (m > TDC_CBOR_TAG)
		return 0;
	if (v < 24) {
		out[0] = mt | (uint8_t)v;
		return 1;
	}
	n = v <= UINT8_MAX ? 1 : v <= UINT16_MAX ? 2 : v <= UINT32_MAX ? 4 : 8;
	out[0] = mt | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n + 1;
}

#ifdef TDC_CBOR_NATIVE
int tdc_cbor_head_decode(const uint8_t *p, size_t rem, struct tdc_cbor_head *h, size_t *read)
{
	return tdc_cbor_head_decode_native(p, rem, h, read);
}

size_t tdc_cbor_head_encode(enum tdc_cbor_major m, uint64_t v, uint8_t out[9])
{
	return tdc_cbor_head_encode_native(m, v, out);
}
#endif
