// SPDX-License-Identifier: Apache-2.0
/*
 * TCG2 crypto-agile event logs (CCEL) and AAEL entries: parser, replay and
 * writers.  Formats and sources: include/tdcpuid/eventlog.h.
 *
 * Every byte goes through the bounds-checked reader (lib/buf.c): each record
 * is carved as a sub-reader whose event data must fit what its parent has
 * left, and every count is capped before anything is allocated for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"

#define SPEC_ID_SIGNATURE "Spec ID Event03" /* 16 bytes with its NUL */
#define SPEC_ID_FIXED 24   /* signature .. uintnSize, before numberOfAlgorithms */
#define PCR_EVENT_SHA1_LEN 20

/* TPM_ALG_ID -> digest size (TCG Algorithm Registry). */
static const struct {
	uint16_t alg;
	uint16_t size;
} known_algs[] = {
	{ TDC_TPM_ALG_SHA1, 20 },    { TDC_TPM_ALG_SHA256, 32 },
	{ TDC_TPM_ALG_SHA384, 48 },  { TDC_TPM_ALG_SHA512, 64 },
	{ TDC_TPM_ALG_SM3_256, 32 },
};

/* PFP §10.4.1 (and the EFI ranges of §10.4.1 table 9). */
static const struct {
	uint32_t type;
	const char *name;
} event_types[] = {
	{ 0x0, "EV_PREBOOT_CERT" },
	{ 0x1, "EV_POST_CODE" },
	{ 0x3, "EV_NO_ACTION" },
	{ 0x4, "EV_SEPARATOR" },
	{ 0x5, "EV_ACTION" },
	{ 0x6, "EV_EVENT_TAG" },
	{ 0x7, "EV_S_CRTM_CONTENTS" },
	{ 0x8, "EV_S_CRTM_VERSION" },
	{ 0x9, "EV_CPU_MICROCODE" },
	{ 0xa, "EV_PLATFORM_CONFIG_FLAGS" },
	{ 0xb, "EV_TABLE_OF_DEVICES" },
	{ 0xc, "EV_COMPACT_HASH" },
	{ 0xd, "EV_IPL" },
	{ 0xe, "EV_IPL_PARTITION_DATA" },
	{ 0xf, "EV_NONHOST_CODE" },
	{ 0x10, "EV_NONHOST_CONFIG" },
	{ 0x11, "EV_NONHOST_INFO" },
	{ 0x12, "EV_OMIT_BOOT_DEVICE_EVENTS" },
	{ 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
	{ 0x80000002, "EV_EFI_VARIABLE_BOOT" },
	{ 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
	{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" },
	{ 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
	{ 0x80000006, "EV_EFI_GPT_EVENT" },
	{ 0x80000007, "EV_EFI_ACTION" },
	{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
	{ 0x80000009, "EV_EFI_HANDOFF_TABLES" },
	{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
	{ 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
	{ 0x8000000c, "EV_EFI_VARIABLE_BOOT2" },
	{ 0x80000010, "EV_EFI_HCRTM_EVENT" },
	{ 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
	{ 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" },
	{ 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *tdc_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		if (event_types[i].type == type)
			return event_types[i].name;
	return NULL;
}

void tdc_eventlog_init(struct tdc_eventlog *l)
{
	memset(l, 0, sizeof(*l));
}

void tdc_eventlog_free(struct tdc_eventlog *l)
{
	free(l->ev);
	tdc_eventlog_init(l);
}

/* The digest sizes in force while parsing one log. */
struct algs {
	size_t n;
	uint16_t alg[TDC_EVENTLOG_MAX_ALGS];
	uint16_t size[TDC_EVENTLOG_MAX_ALGS];
};

static void algs_default(struct algs *a)
{
	a->n = sizeof(known_algs) / sizeof(known_algs[0]);
	for (size_t i = 0; i < a->n; i++) {
		a->alg[i] = known_algs[i].alg;
		a->size[i] = known_algs[i].size;
	}
}

static int algs_size(const struct algs *a, uint16_t alg)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->alg[i] == alg)
			return a->size[i];
	return -1;
}

static uint16_t known_size(uint16_t alg)
{
	for (size_t i = 0; i < sizeof(known_algs) / sizeof(known_algs[0]); i++)
		if (known_algs[i].alg == alg)
			return known_algs[i].size;
	return 0;
}

/*
 * TCG_EfiSpecIDEvent (PFP §10.4.5.1) inside the first record's event data:
 * must be consumed exactly.  A known algorithm must declare its real size.
 */
static int parse_spec_id(struct tdc_reader *ev, struct algs *a)
{
	uint8_t sig[16], vmin, vmaj, errata, uintn, vendor;
	uint32_t platform_class, nalg;
	int r;

	if ((r = tdc_get_bytes(ev, sig, sizeof(sig))) != 0 ||
	    (r = tdc_get_u32le(ev, &platform_class)) != 0 ||
	    (r = tdc_get_u8(ev, &vmin)) != 0 || (r = tdc_get_u8(ev, &vmaj)) != 0 ||
	    (r = tdc_get_u8(ev, &errata)) != 0 || (r = tdc_get_u8(ev, &uintn)) != 0 ||
	    (r = tdc_get_u32le(ev, &nalg)) != 0)
		return r;
	if (memcmp(sig, SPEC_ID_SIGNATURE, sizeof(sig)) != 0)
		return tdc_err(TDC_ERR_FORMAT, "%s: first record is EV_NO_ACTION but not a "
			       "\"%s\" event (offset %zu)", ev->what, SPEC_ID_SIGNATURE,
			       ev->base);
	if (vmaj != 2)
		return tdc_err(TDC_ERR_VERSION, "%s: Spec ID event version %u.%u, only the "
			       "crypto-agile format 2.x is read", ev->what, vmaj, vmin);
	if (nalg == 0 || nalg > TDC_EVENTLOG_MAX_ALGS)
		return tdc_err(nalg ? TDC_ERR_TOO_LARGE : TDC_ERR_FORMAT,
			       "%s: Spec ID event lists %u algorithms (1..%d allowed)", ev->what,
			       nalg, TDC_EVENTLOG_MAX_ALGS);
	a->n = 0;
	for (uint32_t i = 0; i < nalg; i++) {
		uint16_t alg, size, want;

		if ((r = tdc_get_u16le(ev, &alg)) != 0 || (r = tdc_get_u16le(ev, &size)) != 0)
			return r;
		if (algs_size(a, alg) >= 0)
			return tdc_err(TDC_ERR_DUPLICATE, "%s: Spec ID event lists algorithm "
				       "0x%04x twice", ev->what, alg);
		want = known_size(alg);
		if ((want && size != want) || size == 0 || size > 64)
			return tdc_err(TDC_ERR_FORMAT, "%s: Spec ID event says algorithm 0x%04x "
				       "has %u-byte digests", ev->what, alg, size);
		a->alg[a->n] = alg;
		a->size[a->n++] = size;
	}
	if ((r = tdc_get_u8(ev, &vendor)) != 0 || (r = tdc_skip(ev, vendor)) != 0)
		return r;
	return tdc_reader_expect_end(ev);
}

/* Does the log start with TCG_PCR_EVENT(EV_NO_ACTION, "Spec ID Event03")? */
static bool starts_with_header(const struct tdc_reader *r)
{
	uint32_t type, size;
	const uint8_t *p;
	struct tdc_reader c = *r;

	if (tdc_skip(&c, 4) != 0 || tdc_get_u32le(&c, &type) != 0 || type != TDC_EV_NO_ACTION ||
	    tdc_skip(&c, PCR_EVENT_SHA1_LEN) != 0 || tdc_get_u32le(&c, &size) != 0 ||
	    size < 16 || tdc_get_ref(&c, 16, &p) != 0)
		return false;
	return memcmp(p, SPEC_ID_SIGNATURE, 16) == 0;
}

static int parse_header(struct tdc_reader *r, struct algs *a)
{
	struct tdc_reader ev;
	uint32_t pcr, type, size;
	uint8_t sha1[PCR_EVENT_SHA1_LEN];
	int ret;

	if ((ret = tdc_get_u32le(r, &pcr)) != 0 || (ret = tdc_get_u32le(r, &type)) != 0 ||
	    (ret = tdc_get_bytes(r, sha1, sizeof(sha1))) != 0 ||
	    (ret = tdc_get_u32le(r, &size)) != 0 ||
	    (ret = tdc_get_sub(r, size, &ev, r->what)) != 0)
		return ret;
	/* PFP §10.4.5.1: PCR 0, EV_NO_ACTION, a zero digest. */
	for (size_t i = 0; i < sizeof(sha1); i++)
		if (sha1[i])
			return tdc_err(TDC_ERR_FORMAT, "%s: Spec ID record has a non-zero "
				       "digest", r->what);
	if (pcr != 0)
		return tdc_err(TDC_ERR_FORMAT, "%s: Spec ID record on index %u, expected 0",
			       r->what, pcr);
	return parse_spec_id(&ev, a);
}

/* Fill bytes (all 0xFF or all 0x00) to the end: the log area's unused tail. */
static bool rest_is_fill(const struct tdc_reader *r)
{
	size_t n = tdc_reader_remaining(r);
	const uint8_t *p = r->data + r->off;

	if (n == 0 || (p[0] != 0xff && p[0] != 0x00))
		return false;
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

static int push_event(struct tdc_eventlog *l, const struct tdc_event *e)
{
	if (l->n == TDC_EVENTLOG_MAX_EVENTS)
		return tdc_err(TDC_ERR_TOO_LARGE, "event log: more than %d events",
			       TDC_EVENTLOG_MAX_EVENTS);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->ev, ncap * sizeof(*l->ev));

		if (!p)
			return tdc_err(TDC_ERR_ALLOC, "event log: %zu events", ncap);
		l->ev = p;
		l->cap = ncap;
	}
	l->ev[l->n++] = *e;
	return 0;
}

static int parse_event2(struct tdc_reader *r, const struct algs *a, struct tdc_event *e)
{
	uint32_t count, size;
	uint16_t seen[TDC_EVENTLOG_MAX_DIGESTS];
	const uint8_t *p;
	int ret;

	memset(e, 0, sizeof(*e));
	e->offset = tdc_reader_offset(r);
	if ((ret = tdc_get_u32le(r, &e->mr_index)) != 0 ||
	    (ret = tdc_get_u32le(r, &e->type)) != 0 ||
	    (ret = tdc_get_u32le(r, &count)) != 0)
		return ret;
	if (count > TDC_EVENTLOG_MAX_DIGESTS)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: event at offset %zu has %u digests "
			       "(at most %d)", r->what, e->offset, count, TDC_EVENTLOG_MAX_DIGESTS);
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		int dsize;

		if ((ret = tdc_get_u16le(r, &alg)) != 0)
			return ret;
		if ((dsize = algs_size(a, alg)) < 0)
			return tdc_err(TDC_ERR_FORMAT, "%s: event at offset %zu uses algorithm "
				       "0x%04x, which the log's Spec ID event does not list",
				       r->what, e->offset, alg);
		for (uint32_t j = 0; j < i; j++)
			if (seen[j] == alg)
				return tdc_err(TDC_ERR_DUPLICATE, "%s: event at offset %zu has two "
					       "0x%04x digests", r->what, e->offset, alg);
		seen[i] = alg;
		if ((ret = tdc_get_ref(r, (size_t)dsize, &p)) != 0)
			return ret;
		if (alg == TDC_TPM_ALG_SHA384) {
			memcpy(e->sha384, p, TDC_EVENTLOG_SHA384_LEN);
			e->has_sha384 = true;
		}
	}
	e->ndigests = count;
	if ((ret = tdc_get_u32le(r, &size)) != 0 || (ret = tdc_get_ref(r, size, &p)) != 0)
		return ret;
	e->data = p;
	e->data_len = size;
	return 0;
}

static int parse_log(const uint8_t *data, size_t len, size_t max, const char *what,
		     struct tdc_eventlog *l)
{
	size_t n0 = l->n, pad0 = l->padding;
	struct tdc_reader r;
	struct algs a;
	int ret = 0;

	what = what ? what : "event log";
	if (len > max)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu bytes exceed the limit of %zu", what,
			       len, max);
	tdc_reader_init(&r, data, len, what);
	algs_default(&a);
	if (starts_with_header(&r)) {
		if ((ret = parse_header(&r, &a)) != 0)
			goto out;
		if (l->nlogs == 0)
			l->spec_header = true;
	}
	while (tdc_reader_remaining(&r)) {
		struct tdc_event e;

		/* The log area's tail: firmware leaves it 0xFF (some tools zero it). */
		if (rest_is_fill(&r)) {
			l->padding += tdc_reader_remaining(&r);
			break;
		}
		if ((ret = parse_event2(&r, &a, &e)) != 0)
			goto out;
		e.log = l->nlogs;
		if ((ret = push_event(l, &e)) != 0)
			goto out;
	}
	l->nlogs++;
out:
	if (ret) {
		l->n = n0;
		l->padding = pad0;
	}
	return ret;
}

int tdc_eventlog_parse(const uint8_t *data, size_t len, const char *what,
		       struct tdc_eventlog *l)
{
	return parse_log(data, len, TDC_EVENTLOG_MAX, what, l);
}

int tdc_eventlog_header_len(const uint8_t *data, size_t len, size_t *hlen)
{
	struct tdc_reader r;
	struct algs a;
	int ret;

	*hlen = 0;
	tdc_reader_init(&r, data, len, "event log");
	if (!starts_with_header(&r))
		return 0;
	algs_default(&a);
	if ((ret = parse_header(&r, &a)) != 0)
		return ret;
	*hlen = tdc_reader_offset(&r);
	return 0;
}

int tdc_eventlog_used_len(const uint8_t *data, size_t len, const char *what, size_t *used)
{
	struct tdc_eventlog l;
	int ret;

	tdc_eventlog_init(&l);
	if ((ret = parse_log(data, len, TDC_CCEL_AREA_MAX, what, &l)) == 0)
		*used = len - l.padding;
	tdc_eventlog_free(&l);
	if (!ret && *used > TDC_EVENTLOG_MAX)
		ret = tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu bytes of events exceed the limit of %u",
			      what ? what : "event log", *used, TDC_EVENTLOG_MAX);
	return ret;
}

static int sha384(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[48])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int ok;

	if (!ctx)
		return tdc_err(TDC_ERR_ALLOC, "SHA-384 context");
	ok = EVP_DigestInit_ex(ctx, EVP_sha384(), NULL) == 1 &&
	     (!alen || EVP_DigestUpdate(ctx, a, alen) == 1) &&
	     (!blen || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	     EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 48;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : tdc_err(TDC_ERR_INTERNAL, "SHA-384 failed");
}

int tdc_rtmr_extend(uint8_t mr[TDC_EVENTLOG_SHA384_LEN],
		    const uint8_t digest[TDC_EVENTLOG_SHA384_LEN])
{
	uint8_t next[TDC_EVENTLOG_SHA384_LEN];
	int r;

	if ((r = sha384(mr, TDC_EVENTLOG_SHA384_LEN, digest, TDC_EVENTLOG_SHA384_LEN, next)) != 0)
		return r;
	memcpy(mr, next, sizeof(next));
	return 0;
}

int tdc_eventlog_replay(const struct tdc_eventlog *l, uint32_t mr_index, size_t upto,
			uint8_t out[TDC_EVENTLOG_SHA384_LEN])
{
	int r;

	memset(out, 0, TDC_EVENTLOG_SHA384_LEN);
	for (size_t i = 0; i < l->n && i < upto; i++) {
		const struct tdc_event *e = &l->ev[i];

		/* PFP §10.4.2: EV_NO_ACTION is informational, never extended. */
		if (e->mr_index != mr_index || e->type == TDC_EV_NO_ACTION)
			continue;
		if (!e->has_sha384)
			return tdc_err(TDC_ERR_FORMAT, "event log: event %zu (offset %zu) on index "
				       "%u has no SHA-384 digest", i, e->offset, mr_index);
		if ((r = tdc_rtmr_extend(out, e->sha384)) != 0)
			return r;
	}
	return 0;
}

bool tdc_event_digest_matches(const struct tdc_event *e)
{
	uint8_t d[TDC_EVENTLOG_SHA384_LEN];

	return e->has_sha384 && sha384(e->data, e->data_len, NULL, 0, d) == 0 &&
	       CRYPTO_memcmp(d, e->sha384, sizeof(d)) == 0;
}

/* ---- AAEL ----------------------------------------------------------------- */

static bool printable(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

int tdc_event_aael(const struct tdc_event *e, struct tdc_aael *out)
{
	struct tdc_reader r;
	uint32_t id, size;
	const uint8_t *p;
	size_t i, sp1 = 0, sp2 = 0;
	int ret;

	if (e->type != TDC_EV_EVENT_TAG)
		return tdc_err(TDC_ERR_NOT_FOUND, "event at offset %zu is not EV_EVENT_TAG",
			       e->offset);
	tdc_reader_init(&r, e->data, e->data_len, "EV_EVENT_TAG");
	r.base = e->offset;
	if (tdc_get_u32le(&r, &id) != 0 || id != TDC_AAEL_TAGGED_EVENT_ID)
		return tdc_err(TDC_ERR_NOT_FOUND, "event at offset %zu is not an AAEL entry",
			       e->offset);
	if ((ret = tdc_get_u32le(&r, &size)) != 0)
		return ret;
	if (size != tdc_reader_remaining(&r))
		return tdc_err(TDC_ERR_FORMAT, "AAEL event at offset %zu: taggedEventDataSize "
			       "%u, but %zu bytes follow", e->offset, size, tdc_reader_remaining(&r));
	if (size > TDC_AAEL_TEXT_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "AAEL event at offset %zu: %u bytes of text "
			       "(at most %d)", e->offset, size, TDC_AAEL_TEXT_MAX);
	if ((ret = tdc_get_ref(&r, size, &p)) != 0)
		return ret;
	for (i = 0; i < size; i++) {
		if (!printable(p[i]))
			return tdc_err(TDC_ERR_FORMAT, "AAEL event at offset %zu: byte 0x%02x at "
				       "text position %zu is not printable ASCII", e->offset,
				       p[i], i);
		if (p[i] == ' ' && !sp1)
			sp1 = i;
		else if (p[i] == ' ' && !sp2)
			sp2 = i;
	}
	/* "<domain> <operation> <content>": both separators, no empty field. */
	if (!sp1 || !sp2 || sp2 == sp1 + 1 || sp2 + 1 >= size)
		return tdc_err(TDC_ERR_FORMAT, "AAEL event at offset %zu: not \"<domain> "
			       "<operation> <content>\"", e->offset);
	out->text = (const char *)p;
	out->len = size;
	out->domain_len = sp1;
	out->op_off = sp1 + 1;
	out->op_len = sp2 - sp1 - 1;
	out->content_off = sp2 + 1;
	return 0;
}

bool tdc_aael_is(const struct tdc_aael *a, const char *domain, const char *op)
{
	return strlen(domain) == a->domain_len && !memcmp(a->text, domain, a->domain_len) &&
	       strlen(op) == a->op_len && !memcmp(a->text + a->op_off, op, a->op_len);
}

/* ---- writers -------------------------------------------------------------- */

int tdc_eventlog_put_header(struct tdc_buf *out)
{
	static const uint8_t zero[PCR_EVENT_SHA1_LEN];
	size_t start = out->len;
	/* signature[16], platformClass, version 2.0 errata 0, uintnSize 2 (64-bit),
	 * one algorithm (SHA-384, 48), no vendor info. */
	uint32_t ev_size = 16 + 4 + 4 + 4 + 4 + 1;
	int r;

	if ((r = tdc_buf_put_u32le(out, 0)) != 0 ||
	    (r = tdc_buf_put_u32le(out, TDC_EV_NO_ACTION)) != 0 ||
	    (r = tdc_buf_put(out, zero, sizeof(zero))) != 0 ||
	    (r = tdc_buf_put_u32le(out, ev_size)) != 0 ||
	    (r = tdc_buf_put(out, SPEC_ID_SIGNATURE, 16)) != 0 ||
	    (r = tdc_buf_put_u32le(out, 0)) != 0 ||
	    (r = tdc_buf_put_u8(out, 0)) != 0 || (r = tdc_buf_put_u8(out, 2)) != 0 ||
	    (r = tdc_buf_put_u8(out, 0)) != 0 || (r = tdc_buf_put_u8(out, 2)) != 0 ||
	    (r = tdc_buf_put_u32le(out, 1)) != 0 ||
	    (r = tdc_buf_put_u16le(out, TDC_TPM_ALG_SHA384)) != 0 ||
	    (r = tdc_buf_put_u16le(out, TDC_EVENTLOG_SHA384_LEN)) != 0 ||
	    (r = tdc_buf_put_u8(out, 0)) != 0)
		out->len = start;
	return r;
}

static int aael_field_ok(const char *s, bool spaces, const char *name)
{
	if (!*s)
		return tdc_err(TDC_ERR_USAGE, "AAEL %s: empty", name);
	for (const char *p = s; *p; p++)
		if (!printable((uint8_t)*p) || (!spaces && *p == ' '))
			return tdc_err(TDC_ERR_USAGE, "AAEL %s: character 0x%02x at position %zu "
				       "is not allowed (%s)", name, (uint8_t)*p, (size_t)(p - s),
				       spaces ? "printable ASCII only" :
				       "printable ASCII without spaces");
	return 0;
}

int tdc_eventlog_put_aael(struct tdc_buf *out, uint32_t mr_index, const char *domain,
			  const char *operation, const char *content,
			  uint8_t digest[TDC_EVENTLOG_SHA384_LEN])
{
	struct tdc_buf ev;
	size_t start = out->len;
	int r;

	if ((r = aael_field_ok(domain, false, "domain")) != 0 ||
	    (r = aael_field_ok(operation, false, "operation")) != 0 ||
	    (r = aael_field_ok(content, true, "content")) != 0)
		return r;
	tdc_buf_init(&ev);
	if ((r = tdc_buf_put_u32le(&ev, TDC_AAEL_TAGGED_EVENT_ID)) != 0 ||
	    (r = tdc_buf_put_u32le(&ev, 0)) != 0 ||
	    (r = tdc_buf_printf(&ev, "%s %s %s", domain, operation, content)) != 0)
		goto out;
	if (ev.len - 8 > TDC_AAEL_TEXT_MAX) {
		r = tdc_err(TDC_ERR_TOO_LARGE, "AAEL entry: %zu bytes (at most %d)", ev.len - 8,
			    TDC_AAEL_TEXT_MAX);
		goto out;
	}
	for (int i = 0; i < 4; i++)
		ev.data[4 + i] = (uint8_t)((ev.len - 8) >> (8 * i));
	if ((r = sha384(ev.data, ev.len, NULL, 0, digest)) != 0 ||
	    (r = tdc_buf_put_u32le(out, mr_index)) != 0 ||
	    (r = tdc_buf_put_u32le(out, TDC_EV_EVENT_TAG)) != 0 ||
	    (r = tdc_buf_put_u32le(out, 1)) != 0 ||
	    (r = tdc_buf_put_u16le(out, TDC_TPM_ALG_SHA384)) != 0 ||
	    (r = tdc_buf_put(out, digest, TDC_EVENTLOG_SHA384_LEN)) != 0 ||
	    (r = tdc_buf_put_u32le(out, (uint32_t)ev.len)) != 0 ||
	    (r = tdc_buf_put(out, ev.data, ev.len)) != 0)
		out->len = start;
out:
	tdc_buf_free(&ev);
	return r;
}
