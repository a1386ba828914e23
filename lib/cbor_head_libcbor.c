// SPDX-License-Identifier: Apache-2.0
/*
 * CBOR item heads through libcbor: its streaming decoder (which never
 * allocates) records the one head just decoded, and its encoders write
 * shortest heads.  The default head codec; lib/cbor_head_native.c replaces
 * it in the static agent (TDC_CBOR_NATIVE).
 */
#ifndef TDC_CBOR_NATIVE
#include <string.h>

#include <cbor.h>

#include "cbor_strict.h"

struct head_ctx {
	struct tdc_cbor_head *h;
	bool seen; /* a callback ran: never mistake "nothing" for uint 0 */
};

static void set_int(void *ctx, enum tdc_cbor_major m, uint64_t v)
{
	struct head_ctx *c = ctx;

	c->h->it.major = m;
	c->h->it.val = v;
	c->seen = true;
}

static void cb_u8(void *c, uint8_t v) { set_int(c, TDC_CBOR_UINT, v); }
static void cb_u16(void *c, uint16_t v) { set_int(c, TDC_CBOR_UINT, v); }
static void cb_u32(void *c, uint32_t v) { set_int(c, TDC_CBOR_UINT, v); }
static void cb_u64(void *c, uint64_t v) { set_int(c, TDC_CBOR_UINT, v); }
static void cb_n8(void *c, uint8_t v) { set_int(c, TDC_CBOR_NEGINT, v); }
static void cb_n16(void *c, uint16_t v) { set_int(c, TDC_CBOR_NEGINT, v); }
static void cb_n32(void *c, uint32_t v) { set_int(c, TDC_CBOR_NEGINT, v); }
static void cb_n64(void *c, uint64_t v) { set_int(c, TDC_CBOR_NEGINT, v); }
static void cb_tag(void *c, uint64_t v) { set_int(c, TDC_CBOR_TAG, v); }
static void cb_array(void *c, size_t n) { set_int(c, TDC_CBOR_ARRAY, n); }
static void cb_map(void *c, size_t n) { set_int(c, TDC_CBOR_MAP, n); }

static void set_str(void *ctx, enum tdc_cbor_major m, cbor_data p, size_t n)
{
	struct head_ctx *c = ctx;

	c->h->it.major = m;
	c->h->it.val = n;
	c->h->it.data = p;
	c->seen = true;
}

static void cb_bytes(void *c, cbor_data p, size_t n) { set_str(c, TDC_CBOR_BYTES, p, n); }
static void cb_text(void *c, cbor_data p, size_t n) { set_str(c, TDC_CBOR_TEXT, p, n); }

static void set_indef(void *ctx, enum tdc_cbor_major m)
{
	struct head_ctx *c = ctx;

	c->h->it.major = m;
	c->h->indefinite = true;
	c->seen = true;
}

static void cb_ibytes(void *c) { set_indef(c, TDC_CBOR_BYTES); }
static void cb_itext(void *c) { set_indef(c, TDC_CBOR_TEXT); }
static void cb_iarray(void *c) { set_indef(c, TDC_CBOR_ARRAY); }
static void cb_imap(void *c) { set_indef(c, TDC_CBOR_MAP); }

static void set_simple(void *ctx, const char *what)
{
	struct head_ctx *c = ctx;

	c->h->it.major = TDC_CBOR_SIMPLE;
	c->h->it.simple = what;
	c->seen = true;
}

static void cb_float(void *c, float v) { (void)v; set_simple(c, "floating-point number"); }
static void cb_double(void *c, double v) { (void)v; set_simple(c, "floating-point number"); }
static void cb_undef(void *c) { set_simple(c, "undefined"); }
static void cb_null(void *c) { set_simple(c, "null"); }
static void cb_bool(void *c, bool v)
{
	set_simple(c, "boolean");
	((struct head_ctx *)c)->h->it.val = v;
}
static void cb_break(void *c) { set_simple(c, "break"); }

static const struct cbor_callbacks head_callbacks = {
	.uint8 = cb_u8, .uint16 = cb_u16, .uint32 = cb_u32, .uint64 = cb_u64,
	.negint8 = cb_n8, .negint16 = cb_n16, .negint32 = cb_n32, .negint64 = cb_n64,
	.byte_string = cb_bytes, .byte_string_start = cb_ibytes,
	.string = cb_text, .string_start = cb_itext,
	.array_start = cb_array, .indef_array_start = cb_iarray,
	.map_start = cb_map, .indef_map_start = cb_imap,
	.tag = cb_tag,
	.float2 = cb_float, .float4 = cb_float, .float8 = cb_double,
	.undefined = cb_undef, .null = cb_null, .boolean = cb_bool,
	.indef_break = cb_break,
};

int tdc_cbor_head_decode(const uint8_t *p, size_t rem, struct tdc_cbor_head *h, size_t *read)
{
	struct head_ctx c = { .h = h };
	struct cbor_decoder_result res;

	memset(h, 0, sizeof(*h));
	res = cbor_stream_decode(p, rem, &head_callbacks, &c);
	if (res.status == CBOR_DECODER_NEDATA)
		return TDC_CBOR_HEAD_NEED;
	if (res.status != CBOR_DECODER_FINISHED || !c.seen || res.read == 0 || res.read > rem)
		return TDC_CBOR_HEAD_BAD;
	*read = res.read;
	return TDC_CBOR_HEAD_OK;
}

size_t tdc_cbor_head_encode(enum tdc_cbor_major m, uint64_t v, uint8_t out[9])
{
	switch (m) {
	case TDC_CBOR_UINT:
		return cbor_encode_uint(v, out, 9);
	case TDC_CBOR_NEGINT:
		return cbor_encode_negint(v, out, 9);
	case TDC_CBOR_BYTES:
		return cbor_encode_bytestring_start((size_t)v, out, 9);
	case TDC_CBOR_TEXT:
		return cbor_encode_string_start((size_t)v, out, 9);
	case TDC_CBOR_ARRAY:
		return cbor_encode_array_start((size_t)v, out, 9);
	case TDC_CBOR_MAP:
		return cbor_encode_map_start((size_t)v, out, 9);
	case TDC_CBOR_TAG:
		return cbor_encode_tag(v, out, 9);
	default:
		return 0; /* nothing we write */
	}
}
#endif
