/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to lib/: a strict, pull-style CBOR reader for untrusted input and
 * a few deterministic head writers, both on top of libcbor.
 *
 * Why not cbor_load(): it builds a whole tree (allocations driven by the
 * declared counts), accepts non-shortest heads, indefinite lengths and
 * duplicate map keys, and gives no byte offsets.  Instead the evidence
 * decoders walk their fixed schema and pull one item head at a time with
 * libcbor's cbor_stream_decode() (which never allocates), over a tdc_reader
 * window so every length is checked against the bytes that remain before it
 * is trusted.  Nesting depth is bounded by the schema itself (no generic
 * "skip this item" recursion exists: an unknown key is an error), so hostile
 * nesting cannot exhaust the stack.
 *
 * Encoding rules enforced on input (RFC 8949 §4.2.1 core deterministic
 * encoding): definite lengths only; shortest argument encoding for every
 * head; no tags, floats or simple values; map keys unsigned integers in
 * strictly ascending order (so a duplicate key is always caught).
 */
#ifndef TDC_CBOR_STRICT_H
#define TDC_CBOR_STRICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_CBOR_PATH_MAX 8 /* deepest schema: claims.cpus[i].delta[j][k] */

struct tdc_cbor_pathel {
	const char *key; /* ".key" (or the root name at depth 0), or NULL */
	long idx;        /* "[idx]" when >= 0 */
};

struct tdc_cbor_rd {
	struct tdc_reader r;
	struct tdc_cbor_pathel path[TDC_CBOR_PATH_MAX];
	int depth;
};

enum tdc_cbor_major {
	TDC_CBOR_UINT = 0,
	TDC_CBOR_NEGINT = 1,
	TDC_CBOR_BYTES = 2,
	TDC_CBOR_TEXT = 3,
	TDC_CBOR_ARRAY = 4,
	TDC_CBOR_MAP = 5,
	TDC_CBOR_TAG = 6,
	TDC_CBOR_SIMPLE = 7, /* floats, booleans, null, undefined, break */
};

/* One decoded item head (strings carry their payload). */
struct tdc_cbor_item {
	enum tdc_cbor_major major;
	uint64_t val;         /* integer value, string length or element count */
	const uint8_t *data;  /* string payload (within the input) */
	const char *simple;   /* for TDC_CBOR_SIMPLE: "float", "null", ...; booleans: val = 0/1 */
};

/* @root names the top-level item in error paths ("claims", "envelope"). */
void tdc_cbor_rd_init(struct tdc_cbor_rd *d, const void *data, size_t len,
		      const char *root);

/* Path stack: push a map field name or an array element index. */
void tdc_cbor_push_key(struct tdc_cbor_rd *d, const char *key);
void tdc_cbor_push_idx(struct tdc_cbor_rd *d, long idx);
void tdc_cbor_set_idx(struct tdc_cbor_rd *d, long idx);
void tdc_cbor_pop(struct tdc_cbor_rd *d);

/* tdc_err() with "<path>: " in front of the message. */
int tdc_cbor_fail(const struct tdc_cbor_rd *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Next head, strictly: TRUNCATED / FORMAT on malformed or non-canonical. */
int tdc_cbor_next(struct tdc_cbor_rd *d, struct tdc_cbor_item *it);

/* Typed pulls; @what completes "expected ..." in the TYPE error. */
int tdc_cbor_uint(struct tdc_cbor_rd *d, uint64_t max, uint64_t *v);
int tdc_cbor_u32(struct tdc_cbor_rd *d, uint32_t *v);
/*
 * Array/map heads: count must be <= @max (TOO_LARGE) and, since every
 * element takes at least @min_bytes, fit the bytes left (TRUNCATED) —
 * checked before the caller allocates anything for it.
 */
int tdc_cbor_array(struct tdc_cbor_rd *d, size_t max, size_t min_bytes, size_t *n);
int tdc_cbor_map(struct tdc_cbor_rd *d, size_t max, size_t *n);
/* An array of exactly @k elements, else TYPE "expected <what>, got ...". */
int tdc_cbor_array_exact(struct tdc_cbor_rd *d, size_t k, const char *what);
int tdc_cbor_bytes(struct tdc_cbor_rd *d, size_t max, const uint8_t **p, size_t *n);
/* UTF-8 text without NUL into @dst (NUL-terminated, at most cap-1 bytes). */
int tdc_cbor_text(struct tdc_cbor_rd *d, char *dst, size_t cap);
int tdc_cbor_expect_end(const struct tdc_cbor_rd *d);

/*
 * Schema-driven map decoding: fields sorted by key; unknown keys, keys out
 * of ascending order, duplicates and missing required fields are errors.
 */
struct tdc_cbor_field {
	uint64_t key;
	const char *name;
	bool required;
	int (*decode)(struct tdc_cbor_rd *d, void *obj);
};
int tdc_cbor_decode_map(struct tdc_cbor_rd *d, const struct tdc_cbor_field *f,
			size_t nf, void *obj);

bool tdc_utf8_valid(const uint8_t *s, size_t n);

/* Deterministic writers: shortest heads, definite lengths. */
int tdc_cbor_put_uint(struct tdc_buf *b, uint64_t v);
int tdc_cbor_put_array(struct tdc_buf *b, size_t n);
int tdc_cbor_put_map(struct tdc_buf *b, size_t n);
int tdc_cbor_put_bytes(struct tdc_buf *b, const void *p, size_t n);
int tdc_cbor_put_text(struct tdc_buf *b, const char *s);
int tdc_cbor_put_text_n(struct tdc_buf *b, const char *s, size_t n);
int tdc_cbor_put_int(struct tdc_buf *b, int64_t v);
int tdc_cbor_put_bool(struct tdc_buf *b, bool v);

/*
 * The head codec under the reader and writers: one CBOR item head (with a
 * string's payload), nothing more.  Two implementations with the same
 * contract: lib/cbor_head_libcbor.c (libcbor's non-allocating streaming
 * decoder and encoders: the normal build) and lib/cbor_head_native.c (no
 * dependency: the fully static agent, since Debian ships no libcbor.a).
 * tests/test_cbor_head.c and fuzz/fuzz_cbor_head.c check that both agree.
 */
struct tdc_cbor_head {
	struct tdc_cbor_item it;
	bool indefinite;
};

enum { TDC_CBOR_HEAD_OK = 0, TDC_CBOR_HEAD_NEED = 1, TDC_CBOR_HEAD_BAD = 2 };

/* Decode the head at p[0..rem); *read = bytes used (head + string payload). */
int tdc_cbor_head_decode(const uint8_t *p, size_t rem, struct tdc_cbor_head *h, size_t *read);
int tdc_cbor_head_decode_native(const uint8_t *p, size_t rem, struct tdc_cbor_head *h,
				size_t *read);
/* Shortest head for (major, value) into out[0..9); returns its length (0: error). */
size_t tdc_cbor_head_encode(enum tdc_cbor_major m, uint64_t v, uint8_t out[9]);
size_t tdc_cbor_head_encode_native(enum tdc_cbor_major m, uint64_t v, uint8_t out[9]);

#endif
