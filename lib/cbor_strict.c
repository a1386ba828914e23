// SPDX-License-Identifier: Apache-2.0
/*
 * Strict CBOR pull reader and deterministic writers (see cbor_strict.h for
 * why this rather than cbor_load()).  RFC 8949 §4.2.1 is the reference for
 * "deterministic": shortest heads, definite lengths, sorted map keys.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cbor_strict.h"
#include "tdcpuid/error.h"

/* ---- error paths ---- */

void tdc_cbor_rd_init(struct tdc_cbor_rd *d, const void *data, size_t len,
		      const char *root)
{
	tdc_reader_init(&d->r, data, len, root);
	d->depth = 0;
	tdc_cbor_push_key(d, root);
}

void tdc_cbor_push_key(struct tdc_cbor_rd *d, const char *key)
{
	/* The schema is shallower than the stack; clamp rather than overflow. */
	if (d->depth < TDC_CBOR_PATH_MAX)
		d->path[d->depth] = (struct tdc_cbor_pathel){ .key = key, .idx = -1 };
	d->depth++;
}

void tdc_cbor_push_idx(struct tdc_cbor_rd *d, long idx)
{
	if (d->depth < TDC_CBOR_PATH_MAX)
		d->path[d->depth] = (struct tdc_cbor_pathel){ .key = NULL, .idx = idx };
	d->depth++;
}

void tdc_cbor_set_idx(struct tdc_cbor_rd *d, long idx)
{
	if (d->depth > 0 && d->depth <= TDC_CBOR_PATH_MAX)
		d->path[d->depth - 1].idx = idx;
}

void tdc_cbor_pop(struct tdc_cbor_rd *d)
{
	if (d->depth > 0)
		d->depth--;
}

static void path_format(const struct tdc_cbor_rd *d, char *buf, size_t len)
{
	size_t o = 0;
	int depth = d->depth < TDC_CBOR_PATH_MAX ? d->depth : TDC_CBOR_PATH_MAX;

	buf[0] = '\0';
	for (int i = 0; i < depth && o < len; i++) {
		const struct tdc_cbor_pathel *p = &d->path[i];
		int w = 0;

		if (p->key)
			w = snprintf(buf + o, len - o, i ? ".%s" : "%s", p->key);
		else if (p->idx >= 0)
			w = snprintf(buf + o, len - o, "[%ld]", p->idx);
		if (w > 0)
			o += (size_t)w;
	}
}

int tdc_cbor_fail(const struct tdc_cbor_rd *d, int code, const char *fmt, ...)
{
	char path[160], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	path_format(d, path, sizeof(path));
	return tdc_err(code, "%s: %s", path, msg);
}

static const char *type_name(const struct tdc_cbor_item *it)
{
	static const char *const names[] = {
		"unsigned integer", "negative integer", "byte string",
		"text string", "array", "map", "tag",
	};

	if (it->major == TDC_CBOR_SIMPLE)
		return it->simple ? it->simple : "simple value";
	return names[it->major];
}

/* ---- the strict head reader ---- */

/* Length of the shortest head that carries @v (RFC 8949 §4.2.1). */
static size_t head_len(uint64_t v)
{
	if (v < 24)
		return 1;
	if (v <= UINT8_MAX)
		return 2;
	if (v <= UINT16_MAX)
		return 3;
	if (v <= UINT32_MAX)
		return 5;
	return 9;
}

int tdc_cbor_next(struct tdc_cbor_rd *d, struct tdc_cbor_item *it)
{
	struct tdc_reader look = d->r;
	size_t rem = tdc_reader_remaining(&d->r), off = tdc_reader_offset(&d->r);
	struct tdc_cbor_head h;
	const uint8_t *p;
	size_t hl, read = 0;
	int st;

	if (rem == 0)
		return tdc_cbor_fail(d, TDC_ERR_TRUNCATED,
				     "input ends at offset %zu where an item is expected", off);
	if (tdc_get_ref(&look, rem, &p) != 0)
		return TDC_ERR_INTERNAL;
	/* Decodes exactly one head; strings only if their payload is present. */
	st = tdc_cbor_head_decode(p, rem, &h, &read);
	if (st == TDC_CBOR_HEAD_NEED)
		return tdc_cbor_fail(d, TDC_ERR_TRUNCATED,
				     "item at offset %zu runs past the end of the input", off);
	if (st != TDC_CBOR_HEAD_OK || read == 0 || read > rem)
		return tdc_cbor_fail(d, TDC_ERR_FORMAT,
				     "malformed CBOR item at offset %zu (initial byte 0x%02x)",
				     off, p[0]);
	if (h.indefinite)
		return tdc_cbor_fail(d, TDC_ERR_FORMAT,
				     "indefinite-length %s at offset %zu (only definite lengths allowed)",
				     type_name(&h.it), off);
	if (h.it.major != TDC_CBOR_SIMPLE) {
		hl = read;
		if (h.it.major == TDC_CBOR_BYTES || h.it.major == TDC_CBOR_TEXT)
			hl -= h.it.val;
		if (hl != head_len(h.it.val))
			return tdc_cbor_fail(d, TDC_ERR_FORMAT,
					     "non-shortest encoding of %s head at offset %zu",
					     type_name(&h.it), off);
	}
	if (tdc_skip(&d->r, read) != 0)
		return TDC_ERR_INTERNAL;
	*it = h.it;
	return 0;
}

static int expect(const struct tdc_cbor_rd *d, const struct tdc_cbor_item *it,
		  enum tdc_cbor_major m, const char *what)
{
	if (it->major != m)
		return tdc_cbor_fail(d, TDC_ERR_TYPE, "expected %s, got %s", what,
				     type_name(it));
	return 0;
}

int tdc_cbor_uint(struct tdc_cbor_rd *d, uint64_t max, uint64_t *v)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0 ||
	    (r = expect(d, &it, TDC_CBOR_UINT, "unsigned integer")) != 0)
		return r;
	if (it.val > max)
		return tdc_cbor_fail(d, TDC_ERR_RANGE, "value %llu exceeds the maximum %llu",
				     (unsigned long long)it.val, (unsigned long long)max);
	*v = it.val;
	return 0;
}

int tdc_cbor_u32(struct tdc_cbor_rd *d, uint32_t *v)
{
	uint64_t x;
	int r;

	if ((r = tdc_cbor_uint(d, UINT32_MAX, &x)) != 0)
		return r;
	*v = (uint32_t)x;
	return 0;
}

static int count_check(struct tdc_cbor_rd *d, const struct tdc_cbor_item *it,
		       size_t max, size_t min_bytes)
{
	size_t rem = tdc_reader_remaining(&d->r);

	if (it->val > max)
		return tdc_cbor_fail(d, TDC_ERR_TOO_LARGE,
				     "%s of %llu elements exceeds the limit of %zu",
				     type_name(it), (unsigned long long)it->val, max);
	/* it->val <= max (small), so the product cannot overflow. */
	if (it->val * min_bytes > rem)
		return tdc_cbor_fail(d, TDC_ERR_TRUNCATED,
				     "%s declares %llu elements but only %zu bytes remain",
				     type_name(it), (unsigned long long)it->val, rem);
	return 0;
}

int tdc_cbor_array(struct tdc_cbor_rd *d, size_t max, size_t min_bytes, size_t *n)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0 ||
	    (r = expect(d, &it, TDC_CBOR_ARRAY, "array")) != 0 ||
	    (r = count_check(d, &it, max, min_bytes ? min_bytes : 1)) != 0)
		return r;
	*n = (size_t)it.val;
	return 0;
}

int tdc_cbor_array_exact(struct tdc_cbor_rd *d, size_t k, const char *what)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0)
		return r;
	if (it.major != TDC_CBOR_ARRAY)
		return tdc_cbor_fail(d, TDC_ERR_TYPE, "expected %s, got %s", what,
				     type_name(&it));
	if (it.val != k)
		return tdc_cbor_fail(d, TDC_ERR_TYPE, "expected %s, got array of %llu",
				     what, (unsigned long long)it.val);
	return 0;
}

int tdc_cbor_map(struct tdc_cbor_rd *d, size_t max, size_t *n)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0 ||
	    (r = expect(d, &it, TDC_CBOR_MAP, "map")) != 0)
		return r;
	if (it.val > max)
		return tdc_cbor_fail(d, TDC_ERR_FORMAT,
				     "map has %llu entries but only %zu keys are defined",
				     (unsigned long long)it.val, max);
	if ((r = count_check(d, &it, max, 2)) != 0)
		return r;
	*n = (size_t)it.val;
	return 0;
}

int tdc_cbor_bytes(struct tdc_cbor_rd *d, size_t max, const uint8_t **p, size_t *n)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0 ||
	    (r = expect(d, &it, TDC_CBOR_BYTES, "byte string")) != 0)
		return r;
	if (it.val > max)
		return tdc_cbor_fail(d, TDC_ERR_TOO_LARGE,
				     "byte string of %llu bytes exceeds the limit of %zu",
				     (unsigned long long)it.val, max);
	*p = it.data;
	*n = (size_t)it.val;
	return 0;
}

int tdc_cbor_text(struct tdc_cbor_rd *d, char *dst, size_t cap)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0 ||
	    (r = expect(d, &it, TDC_CBOR_TEXT, "text string")) != 0)
		return r;
	if (it.val >= cap)
		return tdc_cbor_fail(d, TDC_ERR_TOO_LARGE,
				     "text of %llu bytes exceeds the limit of %zu",
				     (unsigned long long)it.val, cap - 1);
	/* Stored as C strings: an embedded NUL would silently truncate. */
	if (memchr(it.data, 0, it.val))
		return tdc_cbor_fail(d, TDC_ERR_FORMAT, "text contains a NUL character");
	if (!tdc_utf8_valid(it.data, it.val))
		return tdc_cbor_fail(d, TDC_ERR_FORMAT, "text is not valid UTF-8");
	memcpy(dst, it.data, it.val);
	dst[it.val] = '\0';
	return 0;
}

int tdc_cbor_expect_end(const struct tdc_cbor_rd *d)
{
	size_t rem = tdc_reader_remaining(&d->r);

	if (rem)
		return tdc_err(TDC_ERR_TRAILING, "%s: %zu trailing bytes after the item at offset %zu",
			       d->r.what, rem, tdc_reader_offset(&d->r));
	return 0;
}

static int map_key(struct tdc_cbor_rd *d, size_t i, bool have_prev, uint64_t prev,
		   uint64_t *key)
{
	struct tdc_cbor_item it;
	int r;

	if ((r = tdc_cbor_next(d, &it)) != 0)
		return r;
	if (it.major != TDC_CBOR_UINT)
		return tdc_cbor_fail(d, TDC_ERR_TYPE,
				     "map key #%zu: expected unsigned integer, got %s",
				     i, type_name(&it));
	if (have_prev && it.val == prev)
		return tdc_cbor_fail(d, TDC_ERR_DUPLICATE, "duplicate map key %llu",
				     (unsigned long long)it.val);
	/* Canonical order also makes duplicate detection a single compare. */
	if (have_prev && it.val < prev)
		return tdc_cbor_fail(d, TDC_ERR_FORMAT,
				     "map key %llu after %llu: keys must be in ascending order",
				     (unsigned long long)it.val, (unsigned long long)prev);
	*key = it.val;
	return 0;
}

int tdc_cbor_decode_map(struct tdc_cbor_rd *d, const struct tdc_cbor_field *f,
			size_t nf, void *obj)
{
	uint64_t seen = 0, key = 0;
	size_t n, j;
	int r;

	if (nf > 64)
		return tdc_err(TDC_ERR_INTERNAL, "cbor: schema map too wide");
	if ((r = tdc_cbor_map(d, nf, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((r = map_key(d, i, i > 0, key, &key)) != 0)
			return r;
		for (j = 0; j < nf && f[j].key != key; j++)
			;
		if (j == nf)
			return tdc_cbor_fail(d, TDC_ERR_FORMAT, "unknown map key %llu",
					     (unsigned long long)key);
		tdc_cbor_push_key(d, f[j].name);
		r = f[j].decode(d, obj);
		tdc_cbor_pop(d);
		if (r)
			return r;
		seen |= 1ull << j;
	}
	for (j = 0; j < nf; j++)
		if (f[j].required && !(seen & (1ull << j)))
			return tdc_cbor_fail(d, TDC_ERR_MISSING,
					     "required field '%s' (key %llu) missing",
					     f[j].name, (unsigned long long)f[j].key);
	return 0;
}

/* Strict UTF-8 (RFC 3629): no overlongs, surrogates or code points > U+10FFFF. */
bool tdc_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint8_t lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return false;
		if (n - i <= k)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* ---- deterministic writers (the head codec picks the shortest head) ---- */

static int put_head(struct tdc_buf *b, enum tdc_cbor_major m, uint64_t v)
{
	uint8_t tmp[9];
	size_t n = tdc_cbor_head_encode(m, v, tmp);

	if (n == 0)
		return tdc_err(TDC_ERR_INTERNAL, "cbor: head encoding failed");
	return tdc_buf_put(b, tmp, n);
}

int tdc_cbor_put_uint(struct tdc_buf *b, uint64_t v)
{
	return put_head(b, TDC_CBOR_UINT, v);
}

int tdc_cbor_put_array(struct tdc_buf *b, size_t n)
{
	return put_head(b, TDC_CBOR_ARRAY, n);
}

int tdc_cbor_put_map(struct tdc_buf *b, size_t n)
{
	return put_head(b, TDC_CBOR_MAP, n);
}

int tdc_cbor_put_bytes(struct tdc_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = put_head(b, TDC_CBOR_BYTES, n)) != 0)
		return r;
	return n ? tdc_buf_put(b, p, n) : 0;
}

int tdc_cbor_put_text_n(struct tdc_buf *b, const char *s, size_t n)
{
	int r;

	if ((r = put_head(b, TDC_CBOR_TEXT, n)) != 0)
		return r;
	return n ? tdc_buf_put(b, s, n) : 0;
}

int tdc_cbor_put_text(struct tdc_buf *b, const char *s)
{
	return tdc_cbor_put_text_n(b, s, strlen(s));
}

int tdc_cbor_put_int(struct tdc_buf *b, int64_t v)
{
	/* RFC 8949 §3.1: major type 1 carries -1 - v. */
	return v >= 0 ? put_head(b, TDC_CBOR_UINT, (uint64_t)v) :
			put_head(b, TDC_CBOR_NEGINT, (uint64_t)(-1 - v));
}

int tdc_cbor_put_bool(struct tdc_buf *b, bool v)
{
	return tdc_buf_put_u8(b, v ? 0xf5 : 0xf4);
}
