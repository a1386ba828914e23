// SPDX-License-Identifier: MIT
/*
 * Protocol frames: uint32be length || CBOR map (docs/protocol.md).
 *
 * Frames come from unauthenticated peers, so the body is first walked with
 * the bounds-checked reader (prescan) and only then handed to libcbor: a
 * declared array of 2^32 items or a 100000-deep nest would otherwise make
 * libcbor allocate or recurse before we could say no.
 */
#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/frame.h"

#define FRAME_MAX_KEYS 16
#define FRAME_KEY_MAX 16

static const char *const type_names[] = {
	[TDC_FRAME_NONE] = "none",
	[TDC_FRAME_HELLO] = "hello",
	[TDC_FRAME_EVIDENCE] = "evidence",
	[TDC_FRAME_VERDICT] = "verdict",
	[TDC_FRAME_ERROR] = "error",
};

const char *tdc_frame_type_name(enum tdc_frame_type t)
{
	if ((unsigned)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "unknown";
	return type_names[t];
}

void tdc_frame_init(struct tdc_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->version = TDC_PROTO_VERSION;
	tdc_buf_init(&f->payload);
}

void tdc_frame_free(struct tdc_frame *f)
{
	tdc_buf_free(&f->payload);
	tdc_frame_init(f);
}

int tdc_frame_header(const uint8_t hdr[TDC_FRAME_HDR_LEN], size_t cap, uint32_t *len)
{
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		     (uint32_t)hdr[2] << 8 | hdr[3];

	if (n == 0)
		return tdc_err(TDC_ERR_FORMAT, "frame: zero length");
	if (n > cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame: length %u exceeds cap %zu", n, cap);
	*len = n;
	return 0;
}

/* ---- prescan: structure only, through tdc_reader ------------------------ */

static int get_arg(struct tdc_reader *r, uint8_t ai, uint64_t *arg)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t hi, lo;
	int e;

	if (ai < 24) {
		*arg = ai;
		return 0;
	}
	switch (ai) {
	case 24: e = tdc_get_u8(r, &v8); *arg = v8; return e;
	case 25: e = tdc_get_u16be(r, &v16); *arg = v16; return e;
	case 26: e = tdc_get_u32be(r, &lo); *arg = lo; return e;
	case 27:
		if ((e = tdc_get_u32be(r, &hi)) != 0 || (e = tdc_get_u32be(r, &lo)) != 0)
			return e;
		*arg = (uint64_t)hi << 32 | lo;
		return 0;
	}
	/* 28..30 are reserved, 31 is an indefinite length: neither is allowed. */
	return tdc_err(TDC_ERR_FORMAT, "frame: indefinite or reserved CBOR length at offset %zu",
		       tdc_reader_offset(r) - 1);
}

static int prescan(struct tdc_reader *r, unsigned depth)
{
	uint8_t ib, major, ai;
	uint64_t arg, items;
	int e;

	if ((e = tdc_get_u8(r, &ib)) != 0)
		return e;
	major = ib >> 5;
	ai = ib & 0x1f;
	if (major == 7) {
		/* Only true/false: frames carry no floats, null or simple values. */
		if (ai == 20 || ai == 21)
			return 0;
		return tdc_err(TDC_ERR_TYPE, "frame: CBOR simple/float 0x%02x at offset %zu not allowed",
			       ib, tdc_reader_offset(r) - 1);
	}
	if (major == 6)
		return tdc_err(TDC_ERR_TYPE, "frame: CBOR tag at offset %zu not allowed",
			       tdc_reader_offset(r) - 1);
	if ((e = get_arg(r, ai, &arg)) != 0)
		return e;
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (arg > tdc_reader_remaining(r))
			return tdc_err(TDC_ERR_TRUNCATED, "frame: string of %llu bytes at offset %zu, %zu remain",
				       (unsigned long long)arg, tdc_reader_offset(r),
				       tdc_reader_remaining(r));
		return tdc_skip(r, (size_t)arg);
	}
	if (depth >= TDC_FRAME_MAX_DEPTH)
		return tdc_err(TDC_ERR_RANGE, "frame: CBOR nesting deeper than %d", TDC_FRAME_MAX_DEPTH);
	/* Every item takes at least one byte: a count larger than what remains is a lie. */
	if (arg > tdc_reader_remaining(r) || (major == 5 && arg * 2 > tdc_reader_remaining(r)))
		return tdc_err(TDC_ERR_TRUNCATED, "frame: container of %llu items at offset %zu, %zu bytes remain",
			       (unsigned long long)arg, tdc_reader_offset(r), tdc_reader_remaining(r));
	items = major == 5 ? arg * 2 : arg;
	for (uint64_t i = 0; i < items; i++)
		if ((e = prescan(r, depth + 1)) != 0)
			return e;
	return 0;
}

/* ---- field table --------------------------------------------------------- */

enum kind { K_UINT, K_INT, K_BYTES, K_TEXT, K_BOOL };

enum key {
	KEY_V, KEY_T, KEY_NONCE, KEY_TTL, KEY_SERVER, KEY_EVIDENCE, KEY_VM,
	KEY_PASS, KEY_FORMAT, KEY_DOC, KEY_RECORD, KEY_CODE, KEY_MSG, KEY__COUNT
};

#define B(k) (1u << (k))

static const struct field {
	const char *name;
	enum kind kind;
	uint64_t max;   /* uint: value cap; bytes/text: length cap */
} fields[KEY__COUNT] = {
	[KEY_V] = { "v", K_UINT, UINT32_MAX },
	[KEY_T] = { "t", K_TEXT, 16 },
	[KEY_NONCE] = { "nonce", K_BYTES, TDC_NONCE_LEN },
	[KEY_TTL] = { "ttl", K_UINT, UINT32_MAX },
	[KEY_SERVER] = { "server", K_TEXT, TDC_FRAME_STR_MAX - 1 },
	[KEY_EVIDENCE] = { "evidence", K_BYTES, TDC_EVIDENCE_MAX },
	[KEY_VM] = { "vm", K_TEXT, TDC_FRAME_STR_MAX - 1 },
	[KEY_PASS] = { "pass", K_BOOL, 0 },
	[KEY_FORMAT] = { "format", K_TEXT, 15 },
	[KEY_DOC] = { "doc", K_TEXT, TDC_FRAME_REPLY_MAX },
	[KEY_RECORD] = { "record", K_UINT, UINT64_MAX },
	[KEY_CODE] = { "code", K_INT, 0 },
	[KEY_MSG] = { "msg", K_TEXT, TDC_FRAME_STR_MAX - 1 },
};

/* Per frame type: keys that must be present and keys that may be. */
static const struct {
	unsigned required, optional;
} schema[] = {
	[TDC_FRAME_HELLO] = { B(KEY_NONCE) | B(KEY_TTL), B(KEY_SERVER) },
	[TDC_FRAME_EVIDENCE] = { B(KEY_NONCE) | B(KEY_EVIDENCE), B(KEY_VM) },
	[TDC_FRAME_VERDICT] = { B(KEY_PASS) | B(KEY_FORMAT) | B(KEY_DOC), B(KEY_RECORD) },
	[TDC_FRAME_ERROR] = { B(KEY_CODE) | B(KEY_MSG), 0 },
};

/* ---- decode -------------------------------------------------------------- */

static int key_of(cbor_item_t *k, char *name, size_t cap)
{
	size_t n;

	if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
		return tdc_err(TDC_ERR_TYPE, "frame: map key is not a text string");
	n = cbor_string_length(k);
	if (n >= cap)
		return tdc_err(TDC_ERR_FORMAT, "frame: map key of %zu bytes is too long", n);
	memcpy(name, cbor_string_handle(k), n);
	name[n] = '\0';
	if (strlen(name) != n)
		return tdc_err(TDC_ERR_FORMAT, "frame: map key contains NUL");
	return 0;
}

static int find_key(const char *name)
{
	for (int i = 0; i < KEY__COUNT; i++)
		if (!strcmp(fields[i].name, name))
			return i;
	return -1;
}

static int get_uint(cbor_item_t *v, const struct field *fd, uint64_t *out)
{
	if (!cbor_isa_uint(v))
		return tdc_err(TDC_ERR_TYPE, "frame.%s: expected unsigned integer", fd->name);
	*out = cbor_get_int(v);
	if (*out > fd->max)
		return tdc_err(TDC_ERR_RANGE, "frame.%s: %llu exceeds %llu", fd->name,
			       (unsigned long long)*out, (unsigned long long)fd->max);
	return 0;
}

static int get_text(cbor_item_t *v, const struct field *fd, char *dst, size_t cap)
{
	size_t n;

	if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
		return tdc_err(TDC_ERR_TYPE, "frame.%s: expected text string", fd->name);
	n = cbor_string_length(v);
	if (n > fd->max || n >= cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame.%s: %zu bytes exceeds %llu", fd->name, n,
			       (unsigned long long)fd->max);
	if (memchr(cbor_string_handle(v), 0, n))
		return tdc_err(TDC_ERR_FORMAT, "frame.%s: contains NUL", fd->name);
	memcpy(dst, cbor_string_handle(v), n);
	dst[n] = '\0';
	return 0;
}

static int get_blob(cbor_item_t *v, const struct field *fd, bool text, struct tdc_buf *out)
{
	const uint8_t *p;
	size_t n;

	if (text ? (!cbor_isa_string(v) || !cbor_string_is_definite(v))
		 : (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v)))
		return tdc_err(TDC_ERR_TYPE, "frame.%s: expected %s string", fd->name,
			       text ? "text" : "byte");
	n = text ? cbor_string_length(v) : cbor_bytestring_length(v);
	p = text ? cbor_string_handle(v) : cbor_bytestring_handle(v);
	if (n > fd->max)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame.%s: %zu bytes exceeds cap %llu", fd->name, n,
			       (unsigned long long)fd->max);
	tdc_buf_reset(out);
	return n ? tdc_buf_put(out, p, n) : 0;
}

static int get_code(cbor_item_t *v, int32_t *code)
{
	uint64_t mag;

	if (!cbor_isa_uint(v) && !cbor_isa_negint(v))
		return tdc_err(TDC_ERR_TYPE, "frame.code: expected integer");
	mag = cbor_get_int(v);
	if (mag > INT32_MAX)
		return tdc_err(TDC_ERR_RANGE, "frame.code: out of range");
	/* A negint item stores -1 - value. */
	*code = cbor_isa_negint(v) ? -1 - (int32_t)mag : (int32_t)mag;
	return 0;
}

static int set_field(struct tdc_frame *f, int k, cbor_item_t *v)
{
	const struct field *fd = &fields[k];
	uint64_t u;
	int e;

	switch (k) {
	case KEY_NONCE:
		if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
			return tdc_err(TDC_ERR_TYPE, "frame.nonce: expected byte string");
		if (cbor_bytestring_length(v) != TDC_NONCE_LEN)
			return tdc_err(TDC_ERR_FORMAT, "frame.nonce: %zu bytes, expected %d",
				       cbor_bytestring_length(v), TDC_NONCE_LEN);
		memcpy(f->nonce, cbor_bytestring_handle(v), TDC_NONCE_LEN);
		f->has_nonce = true;
		return 0;
	case KEY_TTL:
		if ((e = get_uint(v, fd, &u)) == 0)
			f->ttl = (uint32_t)u;
		return e;
	case KEY_RECORD:
		return get_uint(v, fd, &f->record);
	case KEY_SERVER: return get_text(v, fd, f->server, sizeof(f->server));
	case KEY_VM: return get_text(v, fd, f->vm, sizeof(f->vm));
	case KEY_FORMAT: return get_text(v, fd, f->format, sizeof(f->format));
	case KEY_MSG: return get_text(v, fd, f->message, sizeof(f->message));
	case KEY_EVIDENCE: return get_blob(v, fd, false, &f->payload);
	case KEY_DOC: return get_blob(v, fd, true, &f->payload);
	case KEY_CODE: return get_code(v, &f->code);
	case KEY_PASS:
		if (!cbor_is_bool(v))
			return tdc_err(TDC_ERR_TYPE, "frame.pass: expected bool");
		f->passed = cbor_get_bool(v);
		return 0;
	}
	return tdc_err(TDC_ERR_INTERNAL, "frame: unhandled key %d", k);
}

/* Version and type first: they decide how to read everything else. */
static int decode_head(cbor_item_t *map, struct tdc_frame *f)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	char name[FRAME_KEY_MAX], t[17];
	bool have_v = false;
	unsigned seen = 0;
	uint64_t v;
	int e, k;

	t[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((e = key_of(pairs[i].key, name, sizeof(name))) != 0)
			return e;
		/* Duplicates first: which "v" would be the version? */
		if ((k = find_key(name)) >= 0 && (seen & B(k)))
			return tdc_err(TDC_ERR_DUPLICATE, "frame: duplicate key \"%s\"", name);
		if (k >= 0)
			seen |= B(k);
		if (!strcmp(name, "v")) {
			if ((e = get_uint(pairs[i].value, &fields[KEY_V], &v)) != 0)
				return e;
			have_v = true;
		} else if (!strcmp(name, "t") &&
			   (e = get_text(pairs[i].value, &fields[KEY_T], t, sizeof(t))) != 0) {
			return e;
		}
	}
	if (!have_v)
		return tdc_err(TDC_ERR_MISSING, "frame: no protocol version \"v\"");
	if (v != TDC_PROTO_VERSION)
		return tdc_err(TDC_ERR_VERSION, "frame: protocol version %llu not supported (this side speaks %d)",
			       (unsigned long long)v, TDC_PROTO_VERSION);
	f->version = (uint32_t)v;
	for (unsigned i = TDC_FRAME_HELLO; i <= TDC_FRAME_ERROR; i++)
		if (!strcmp(t, type_names[i]))
			f->type = (enum tdc_frame_type)i;
	if (f->type == TDC_FRAME_NONE)
		return tdc_err(t[0] ? TDC_ERR_FORMAT : TDC_ERR_MISSING,
			       "frame: type \"t\" %s", t[0] ? "unknown" : "missing");
	return 0;
}

static int decode_map(cbor_item_t *map, struct tdc_frame *f)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t n = cbor_map_size(map);
	unsigned seen = 0, allowed, req;
	char name[FRAME_KEY_MAX];
	int e, k;

	if ((e = decode_head(map, f)) != 0)
		return e;
	req = schema[f->type].required;
	allowed = req | schema[f->type].optional | B(KEY_V) | B(KEY_T);
	for (size_t i = 0; i < n; i++) {
		if ((e = key_of(pairs[i].key, name, sizeof(name))) != 0)
			return e;
		if ((k = find_key(name)) < 0 || !(allowed & B(k)))
			return tdc_err(TDC_ERR_FORMAT, "frame: key \"%s\" not allowed in a %s frame",
				       name, tdc_frame_type_name(f->type));
		if (seen & B(k))
			return tdc_err(TDC_ERR_DUPLICATE, "frame: duplicate key \"%s\"", name);
		seen |= B(k);
		if (k != KEY_V && k != KEY_T && (e = set_field(f, k, pairs[i].value)) != 0)
			return e;
	}
	if ((req & seen) != req) {
		for (k = 0; k < KEY__COUNT; k++)
			if ((req & B(k)) && !(seen & B(k)))
				break;
		return tdc_err(TDC_ERR_MISSING, "frame: %s frame lacks \"%s\"",
			       tdc_frame_type_name(f->type), fields[k].name);
	}
	return 0;
}

int tdc_frame_decode(const uint8_t *body, size_t len, struct tdc_frame *f)
{
	struct cbor_load_result res;
	struct tdc_reader r;
	cbor_item_t *item = NULL;
	int e;

	tdc_frame_free(f);
	if (len == 0 || len > TDC_FRAME_REPLY_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame: body of %zu bytes", len);
	tdc_reader_init(&r, body, len, "frame");
	if ((e = prescan(&r, 0)) != 0)
		return e;
	if ((e = tdc_reader_expect_end(&r)) != 0)
		return e;
	item = cbor_load(body, len, &res);
	if (!item || res.error.code != CBOR_ERR_NONE)
		return tdc_err(res.error.code == CBOR_ERR_MEMERROR ? TDC_ERR_ALLOC : TDC_ERR_FORMAT,
			       "frame: CBOR error %d at offset %zu", (int)res.error.code,
			       res.error.position);
	if (res.read != len) {
		e = tdc_err(TDC_ERR_TRAILING, "frame: %zu bytes after the CBOR map", len - res.read);
		goto out;
	}
	if (!cbor_isa_map(item) || !cbor_map_is_definite(item)) {
		e = tdc_err(TDC_ERR_TYPE, "frame: body is not a definite CBOR map");
		goto out;
	}
	if (cbor_map_size(item) > FRAME_MAX_KEYS) {
		e = tdc_err(TDC_ERR_TOO_LARGE, "frame: %zu keys", cbor_map_size(item));
		goto out;
	}
	e = decode_map(item, f);
out:
	cbor_decref(&item);
	if (e)
		tdc_frame_free(f);
	return e;
}

/* ---- encode -------------------------------------------------------------- */

static cbor_item_t *build_uint(uint64_t v)
{
	/* Smallest width, so our own frames are canonical CBOR. */
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

static cbor_item_t *build_int(int32_t v)
{
	cbor_item_t *it;
	uint32_t mag;

	if (v >= 0)
		return build_uint((uint64_t)v);
	mag = (uint32_t)(-(int64_t)v - 1);
	it = build_uint(mag);
	if (it)
		cbor_mark_negint(it);
	return it;
}

static cbor_item_t *build_text(const char *s, size_t n)
{
	cbor_item_t *it = cbor_new_definite_string();
	unsigned char *copy;

	if (!it)
		return NULL;
	if (n) {
		if (!(copy = malloc(n))) {
			cbor_decref(&it);
			return NULL;
		}
		memcpy(copy, s, n);
		cbor_string_set_handle(it, copy, n);
	}
	return it;
}

static int add(cbor_item_t *map, const char *key, cbor_item_t *val)
{
	cbor_item_t *k = build_text(key, strlen(key));
	bool ok = k && val && cbor_map_add(map, (struct cbor_pair){ .key = k, .value = val });

	if (k)
		cbor_decref(&k);
	if (val)
		cbor_decref(&val);
	return ok ? 0 : tdc_err(TDC_ERR_ALLOC, "frame: building CBOR map");
}

static int build_body(const struct tdc_frame *f, cbor_item_t *m)
{
	const char *tn = tdc_frame_type_name(f->type);
	int e;

	if ((e = add(m, "v", build_uint(f->version))) != 0 ||
	    (e = add(m, "t", build_text(tn, strlen(tn)))) != 0)
		return e;
	switch (f->type) {
	case TDC_FRAME_HELLO:
		if ((e = add(m, "nonce", cbor_build_bytestring(f->nonce, TDC_NONCE_LEN))) != 0 ||
		    (e = add(m, "ttl", build_uint(f->ttl))) != 0)
			return e;
		if (f->server[0])
			e = add(m, "server", build_text(f->server, strlen(f->server)));
		return e;
	case TDC_FRAME_EVIDENCE:
		if ((e = add(m, "nonce", cbor_build_bytestring(f->nonce, TDC_NONCE_LEN))) != 0 ||
		    (e = add(m, "evidence", cbor_build_bytestring(f->payload.data, f->payload.len))) != 0)
			return e;
		if (f->vm[0])
			e = add(m, "vm", build_text(f->vm, strlen(f->vm)));
		return e;
	case TDC_FRAME_VERDICT:
		if ((e = add(m, "pass", cbor_build_bool(f->passed))) != 0 ||
		    (e = add(m, "format", build_text(f->format, strlen(f->format)))) != 0 ||
		    (e = add(m, "doc", build_text((const char *)f->payload.data, f->payload.len))) != 0)
			return e;
		return add(m, "record", build_uint(f->record));
	case TDC_FRAME_ERROR:
		if ((e = add(m, "code", build_int(f->code))) != 0)
			return e;
		return add(m, "msg", build_text(f->message, strlen(f->message)));
	default:
		return tdc_err(TDC_ERR_INTERNAL, "frame: cannot encode type %d", f->type);
	}
}

int tdc_frame_encode(const struct tdc_frame *f, struct tdc_buf *out)
{
	cbor_item_t *m = cbor_new_definite_map(FRAME_MAX_KEYS);
	unsigned char *ser = NULL;
	size_t cap = 0, n;
	int e;

	if (!m)
		return tdc_err(TDC_ERR_ALLOC, "frame: map");
	if ((e = build_body(f, m)) != 0)
		goto out;
	if ((n = cbor_serialize_alloc(m, &ser, &cap)) == 0) {
		e = tdc_err(TDC_ERR_ALLOC, "frame: serialize");
		goto out;
	}
	if (n > TDC_FRAME_REPLY_MAX) {
		e = tdc_err(TDC_ERR_TOO_LARGE, "frame: %zu bytes", n);
		goto out;
	}
	if ((e = tdc_buf_put_u32be(out, (uint32_t)n)) == 0)
		e = tdc_buf_put(out, ser, n);
out:
	free(ser);
	cbor_decref(&m);
	return e;
}

int tdc_frame_encode_error(int code, const char *message, struct tdc_buf *out)
{
	struct tdc_frame f;
	int e;

	tdc_frame_init(&f);
	f.type = TDC_FRAME_ERROR;
	f.code = code;
	snprintf(f.message, sizeof(f.message), "%s", message);
	e = tdc_frame_encode(&f, out);
	tdc_frame_free(&f);
	return e;
}
