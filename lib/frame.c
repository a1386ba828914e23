// SPDX-License-Identifier: Apache-2.0
/*
 * Protocol frames: uint32be length || CBOR map (docs/protocol.md).
 *
 * Frames come from unauthenticated peers.  They are read with the same
 * strict pull reader as the evidence (lib/cbor_strict.c): one head at a
 * time over the bounds-checked reader, nothing allocated for a declared
 * count, no nesting at all (every frame value is a scalar), so neither a
 * declared array of 2^32 items nor a deep nest costs anything.  The same
 * code runs in the fully static agent, which has no libcbor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/text.h"
#include "cbor_strict.h"

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

/* ---- field table --------------------------------------------------------- */

enum kind { K_UINT, K_INT, K_BYTES, K_TEXT, K_BOOL };

enum key {
	KEY_V, KEY_T, KEY_NONCE, KEY_TTL, KEY_SERVER, KEY_EVIDENCE, KEY_VM,
	KEY_PASS, KEY_FORMAT, KEY_DOC, KEY_RECORD, KEY_CODE, KEY_MSG, KEY_SIG, KEY__COUNT
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
	[KEY_SIG] = { "sig", K_TEXT, TDC_FRAME_SIG_MAX - 1 },
};

/* Per frame type: keys that must be present and keys that may be. */
static const struct {
	unsigned required, optional;
} schema[] = {
	[TDC_FRAME_HELLO] = { B(KEY_NONCE) | B(KEY_TTL), B(KEY_SERVER) },
	[TDC_FRAME_EVIDENCE] = { B(KEY_NONCE) | B(KEY_EVIDENCE), B(KEY_VM) },
	[TDC_FRAME_VERDICT] = { B(KEY_PASS) | B(KEY_FORMAT) | B(KEY_DOC), B(KEY_RECORD) | B(KEY_SIG) },
	[TDC_FRAME_ERROR] = { B(KEY_CODE) | B(KEY_MSG), 0 },
};

/* ---- decode -------------------------------------------------------------- */

/* One key/value pair as read: the value is a scalar head (strings carry data). */
struct pair {
	int key;                 /* enum key */
	struct tdc_cbor_item v;
};

static int find_key(const char *name)
{
	for (int i = 0; i < KEY__COUNT; i++)
		if (!strcmp(fields[i].name, name))
			return i;
	return -1;
}

static const char *major_name(enum tdc_cbor_major m)
{
	static const char *const names[] = { "unsigned integer", "negative integer",
					     "byte string", "text string", "array", "map",
					     "tag", "simple value" };
	return names[m];
}

static int want(const struct pair *p, enum tdc_cbor_major m, const char *what)
{
	if (p->v.major != m)
		return tdc_err(TDC_ERR_TYPE, "frame.%s: expected %s, got %s", fields[p->key].name,
			       what, major_name(p->v.major));
	return 0;
}

static int get_uint(const struct pair *p, uint64_t *out)
{
	int e;

	if ((e = want(p, TDC_CBOR_UINT, "unsigned integer")) != 0)
		return e;
	if (p->v.val > fields[p->key].max)
		return tdc_err(TDC_ERR_RANGE, "frame.%s: %llu exceeds %llu", fields[p->key].name,
			       (unsigned long long)p->v.val,
			       (unsigned long long)fields[p->key].max);
	*out = p->v.val;
	return 0;
}

static int get_string(const struct pair *p, bool text)
{
	int e;

	if ((e = want(p, text ? TDC_CBOR_TEXT : TDC_CBOR_BYTES, text ? "text string" :
		      "byte string")) != 0)
		return e;
	if (p->v.val > fields[p->key].max)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame.%s: %llu bytes exceeds %llu",
			       fields[p->key].name, (unsigned long long)p->v.val,
			       (unsigned long long)fields[p->key].max);
	if (text && !tdc_utf8_valid(p->v.data, (size_t)p->v.val))
		return tdc_err(TDC_ERR_FORMAT, "frame.%s: not valid UTF-8", fields[p->key].name);
	return 0;
}

static int get_text(const struct pair *p, char *dst, size_t cap)
{
	size_t n = (size_t)p->v.val;
	int e;

	if ((e = get_string(p, true)) != 0)
		return e;
	if (n >= cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame.%s: %zu bytes", fields[p->key].name, n);
	if (memchr(p->v.data, 0, n))
		return tdc_err(TDC_ERR_FORMAT, "frame.%s: contains NUL", fields[p->key].name);
	memcpy(dst, p->v.data, n);
	dst[n] = '\0';
	return 0;
}

static int get_blob(const struct pair *p, bool text, struct tdc_buf *out)
{
	int e;

	if ((e = get_string(p, text)) != 0)
		return e;
	tdc_buf_reset(out);
	return p->v.val ? tdc_buf_put(out, p->v.data, (size_t)p->v.val) : 0;
}

static int get_code(const struct pair *p, int32_t *code)
{
	if (p->v.major != TDC_CBOR_UINT && p->v.major != TDC_CBOR_NEGINT)
		return tdc_err(TDC_ERR_TYPE, "frame.code: expected integer, got %s",
			       major_name(p->v.major));
	if (p->v.val > INT32_MAX)
		return tdc_err(TDC_ERR_RANGE, "frame.code: out of range");
	/* A negative integer's head carries -1 - value. */
	*code = p->v.major == TDC_CBOR_NEGINT ? -1 - (int32_t)p->v.val : (int32_t)p->v.val;
	return 0;
}

static int set_field(struct tdc_frame *f, const struct pair *p)
{
	uint64_t u;
	int e;

	switch (p->key) {
	case KEY_NONCE:
		if ((e = get_string(p, false)) != 0)
			return e;
		if (p->v.val != TDC_NONCE_LEN)
			return tdc_err(TDC_ERR_FORMAT, "frame.nonce: %llu bytes, expected %d",
				       (unsigned long long)p->v.val, TDC_NONCE_LEN);
		memcpy(f->nonce, p->v.data, TDC_NONCE_LEN);
		f->has_nonce = true;
		return 0;
	case KEY_TTL:
		if ((e = get_uint(p, &u)) == 0)
			f->ttl = (uint32_t)u;
		return e;
	case KEY_RECORD: return get_uint(p, &f->record);
	case KEY_SERVER: return get_text(p, f->server, sizeof(f->server));
	case KEY_VM: return get_text(p, f->vm, sizeof(f->vm));
	case KEY_FORMAT: return get_text(p, f->format, sizeof(f->format));
	case KEY_MSG: return get_text(p, f->message, sizeof(f->message));
	case KEY_SIG: return get_text(p, f->sig, sizeof(f->sig));
	case KEY_EVIDENCE: return get_blob(p, false, &f->payload);
	case KEY_DOC: return get_blob(p, true, &f->payload);
	case KEY_CODE: return get_code(p, &f->code);
	case KEY_PASS:
		if (p->v.major != TDC_CBOR_SIMPLE || !p->v.simple || strcmp(p->v.simple, "boolean"))
			return tdc_err(TDC_ERR_TYPE, "frame.pass: expected bool, got %s",
				       p->v.simple ? p->v.simple : major_name(p->v.major));
		f->passed = p->v.val != 0;
		return 0;
	}
	return tdc_err(TDC_ERR_INTERNAL, "frame: unhandled key %d", p->key);
}

/* Read every pair; keys must be known, unique text strings; values scalars. */
static int read_pairs(struct tdc_cbor_rd *d, struct pair *pairs, size_t *n)
{
	struct tdc_cbor_item k;
	char name[FRAME_KEY_MAX];
	unsigned seen = 0;
	size_t count;
	int e;

	if ((e = tdc_cbor_map(d, FRAME_MAX_KEYS, &count)) != 0)
		return e;
	for (size_t i = 0; i < count; i++) {
		struct pair *p = &pairs[i];

		if ((e = tdc_cbor_next(d, &k)) != 0)
			return e;
		if (k.major != TDC_CBOR_TEXT)
			return tdc_err(TDC_ERR_TYPE, "frame: map key is a %s, not a text string",
				       major_name(k.major));
		if (k.val >= sizeof(name) || memchr(k.data, 0, (size_t)k.val))
			return tdc_err(TDC_ERR_FORMAT, "frame: map key of %llu bytes is not a frame key",
				       (unsigned long long)k.val);
		memcpy(name, k.data, (size_t)k.val);
		name[k.val] = '\0';
		if ((p->key = find_key(name)) < 0)
			return tdc_err(TDC_ERR_FORMAT, "frame: unknown key \"%s\"", name);
		if (seen & B(p->key))
			return tdc_err(TDC_ERR_DUPLICATE, "frame: duplicate key \"%s\"", name);
		seen |= B(p->key);
		if ((e = tdc_cbor_next(d, &p->v)) != 0)
			return e;
		if (p->v.major == TDC_CBOR_ARRAY || p->v.major == TDC_CBOR_MAP ||
		    p->v.major == TDC_CBOR_TAG)
			return tdc_err(TDC_ERR_TYPE, "frame.%s: %s not allowed (frame values are scalars)",
				       name, major_name(p->v.major));
	}
	*n = count;
	return 0;
}

/* Version and type first: they decide how to read everything else. */
static int decode_head(const struct pair *pairs, size_t n, struct tdc_frame *f)
{
	const struct pair *v = NULL, *t = NULL;
	char type[17] = "";
	uint64_t ver;
	int e;

	for (size_t i = 0; i < n; i++) {
		v = pairs[i].key == KEY_V ? &pairs[i] : v;
		t = pairs[i].key == KEY_T ? &pairs[i] : t;
	}
	if (!v)
		return tdc_err(TDC_ERR_MISSING, "frame: no protocol version \"v\"");
	if ((e = get_uint(v, &ver)) != 0)
		return e;
	if (ver != TDC_PROTO_VERSION)
		return tdc_err(TDC_ERR_VERSION, "frame: protocol version %llu not supported (this side speaks %d)",
			       (unsigned long long)ver, TDC_PROTO_VERSION);
	f->version = (uint32_t)ver;
	if (t && (e = get_text(t, type, sizeof(type))) != 0)
		return e;
	for (unsigned i = TDC_FRAME_HELLO; i <= TDC_FRAME_ERROR; i++)
		if (!strcmp(type, type_names[i]))
			f->type = (enum tdc_frame_type)i;
	if (f->type == TDC_FRAME_NONE)
		return tdc_err(t ? TDC_ERR_FORMAT : TDC_ERR_MISSING,
			       "frame: type \"t\" %s", t ? "unknown" : "missing");
	return 0;
}

static int decode_fields(const struct pair *pairs, size_t n, struct tdc_frame *f)
{
	unsigned seen = 0, allowed, req = schema[f->type].required;
	int e, k;

	allowed = req | schema[f->type].optional | B(KEY_V) | B(KEY_T);
	for (size_t i = 0; i < n; i++) {
		k = pairs[i].key;
		if (!(allowed & B(k)))
			return tdc_err(TDC_ERR_FORMAT, "frame: key \"%s\" not allowed in a %s frame",
				       fields[k].name, tdc_frame_type_name(f->type));
		seen |= B(k);
		if (k != KEY_V && k != KEY_T && (e = set_field(f, &pairs[i])) != 0)
			return e;
	}
	for (k = 0; k < KEY__COUNT; k++)
		if ((req & B(k)) && !(seen & B(k)))
			return tdc_err(TDC_ERR_MISSING, "frame: %s frame lacks \"%s\"",
				       tdc_frame_type_name(f->type), fields[k].name);
	return 0;
}

int tdc_frame_decode(const uint8_t *body, size_t len, struct tdc_frame *f)
{
	struct pair pairs[FRAME_MAX_KEYS];
	struct tdc_cbor_rd d;
	size_t n = 0;
	int e;

	tdc_frame_free(f);
	if (len == 0 || len > TDC_FRAME_REPLY_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "frame: body of %zu bytes", len);
	tdc_cbor_rd_init(&d, body, len, "frame");
	if ((e = read_pairs(&d, pairs, &n)) != 0 ||
	    (e = tdc_cbor_expect_end(&d)) != 0 ||
	    (e = decode_head(pairs, n, f)) != 0 ||
	    (e = decode_fields(pairs, n, f)) != 0)
		tdc_frame_free(f);
	return e;
}

/* ---- encode -------------------------------------------------------------- */

/* Our own strings are bounded copies (snprintf may cut a character) and may
 * quote what a peer sent: on the wire they are always valid UTF-8. */
static int put_text(struct tdc_buf *b, const char *key, const char *s)
{
	char clean[TDC_FRAME_SIG_MAX];
	int k = find_key(key), e = tdc_cbor_put_text(b, key);
	size_t cap = k >= 0 && fields[k].max < sizeof(clean) ? (size_t)fields[k].max + 1
							     : sizeof(clean);

	if (e)
		return e;
	if (tdc_text_utf8_valid(s, strlen(s)))
		return tdc_cbor_put_text(b, s);
	/* Escaped, and still within what the other side accepts for this key. */
	tdc_text_clean(s, clean, cap, 0);
	return tdc_cbor_put_text(b, clean);
}

static int put_uint(struct tdc_buf *b, const char *key, uint64_t v)
{
	int e = tdc_cbor_put_text(b, key);

	return e ? e : tdc_cbor_put_uint(b, v);
}

static int put_bytes(struct tdc_buf *b, const char *key, const void *p, size_t n)
{
	int e = tdc_cbor_put_text(b, key);

	return e ? e : tdc_cbor_put_bytes(b, p, n);
}

/* The doc is text of known length (not NUL-terminated in the buffer). */
static int put_doc(struct tdc_buf *b, const struct tdc_buf *doc)
{
	int e;

	if (!tdc_text_utf8_valid(doc->data, doc->len))
		return tdc_err(TDC_ERR_FORMAT, "frame: verdict document is not valid UTF-8");
	e = tdc_cbor_put_text(b, "doc");

	return e ? e : tdc_cbor_put_text_n(b, (const char *)doc->data, doc->len);
}

static size_t key_count(const struct tdc_frame *f)
{
	switch (f->type) {
	case TDC_FRAME_HELLO: return 4 + (f->server[0] != 0);
	case TDC_FRAME_EVIDENCE: return 4 + (f->vm[0] != 0);
	case TDC_FRAME_VERDICT: return 6 + (f->sig[0] != 0);
	case TDC_FRAME_ERROR: return 4;
	default: return 0;
	}
}

static int build_body(const struct tdc_frame *f, struct tdc_buf *b)
{
	size_t n = key_count(f);
	int e;

	if (!n)
		return tdc_err(TDC_ERR_INTERNAL, "frame: cannot encode type %d", f->type);
	if ((e = tdc_cbor_put_map(b, n)) != 0 || (e = put_uint(b, "v", f->version)) != 0 ||
	    (e = put_text(b, "t", tdc_frame_type_name(f->type))) != 0)
		return e;
	switch (f->type) {
	case TDC_FRAME_HELLO:
		if ((e = put_bytes(b, "nonce", f->nonce, TDC_NONCE_LEN)) != 0 ||
		    (e = put_uint(b, "ttl", f->ttl)) != 0)
			return e;
		return f->server[0] ? put_text(b, "server", f->server) : 0;
	case TDC_FRAME_EVIDENCE:
		if ((e = put_bytes(b, "nonce", f->nonce, TDC_NONCE_LEN)) != 0 ||
		    (e = put_bytes(b, "evidence", f->payload.data, f->payload.len)) != 0)
			return e;
		return f->vm[0] ? put_text(b, "vm", f->vm) : 0;
	case TDC_FRAME_VERDICT:
		if ((e = tdc_cbor_put_text(b, "pass")) != 0 ||
		    (e = tdc_cbor_put_bool(b, f->passed)) != 0 ||
		    (e = put_text(b, "format", f->format)) != 0 ||
		    (e = put_doc(b, &f->payload)) != 0 ||
		    (e = put_uint(b, "record", f->record)) != 0)
			return e;
		return f->sig[0] ? put_text(b, "sig", f->sig) : 0;
	default: /* TDC_FRAME_ERROR */
		if ((e = tdc_cbor_put_text(b, "code")) != 0 ||
		    (e = tdc_cbor_put_int(b, f->code)) != 0)
			return e;
		return put_text(b, "msg", f->message);
	}
}

int tdc_frame_encode(const struct tdc_frame *f, struct tdc_buf *out)
{
	struct tdc_buf body;
	int e;

	tdc_buf_init(&body);
	if ((e = build_body(f, &body)) != 0)
		goto out;
	if (body.len > TDC_FRAME_REPLY_MAX) {
		e = tdc_err(TDC_ERR_TOO_LARGE, "frame: %zu bytes", body.len);
		goto out;
	}
	if ((e = tdc_buf_put_u32be(out, (uint32_t)body.len)) == 0)
		e = tdc_buf_put(out, body.data, body.len);
out:
	tdc_buf_free(&body);
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
