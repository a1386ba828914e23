// SPDX-License-Identifier: Apache-2.0
/*
 * SGX PCK certificate extension decoder (see pck_ext.h).  The structure is
 * SEQUENCE OF SEQUENCE { OBJECT IDENTIFIER, value } at two levels (TCB and
 * Configuration nest another such list), so one walker over {OID, value}
 * pairs, driven by a table of OID arcs, decodes all of it.  The walk is a
 * bounds-checked DER reader over the extension's bytes (definite, minimal
 * lengths; one-byte tags): OpenSSL's ASN1_TYPE sequences allocated an
 * object per element and were most of the decoder's cost.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "pck_ext.h"
#include "tdcpuid/error.h"

/* Field kinds a {OID, value} pair can carry. */
enum pck_kind { K_OCTETS, K_U8, K_U16, K_ENUM, K_BOOL, K_TCB, K_CONFIG };

struct pck_field {
	uint8_t arc[2];             /* after 1.2.840.113741.1.13.1; arc[1] 0: none */
	const char *name;
	enum pck_kind kind;
	size_t len;                 /* K_OCTETS: exact length */
	size_t off;                 /* offset of the destination in tdc_pck_ext */
	int bit;                    /* index in the "seen" mask */
};

#define F(a, b, n, k, l, m, bit) { { a, b }, n, k, l, offsetof(struct tdc_pck_ext, m), bit }
#define COMP(i) { { 2, i }, "tcb.comp" #i, K_U8, 0, \
		  offsetof(struct tdc_pck_ext, cpusvn_comp) + (i) - 1, 10 + (i) }

static const struct pck_field top_fields[] = {
	F(1, 0, "ppid", K_OCTETS, 16, ppid, 0),
	F(2, 0, "tcb", K_TCB, 0, pcesvn, 1),
	F(3, 0, "pceid", K_OCTETS, 2, pceid, 2),
	F(4, 0, "fmspc", K_OCTETS, 6, fmspc, 3),
	F(5, 0, "sgx_type", K_ENUM, 0, sgx_type, 4),
	F(6, 0, "platform_instance_id", K_OCTETS, 16, platform_instance_id, 5),
	F(7, 0, "configuration", K_CONFIG, 0, has_config, 6),
};

static const struct pck_field tcb_fields[] = {
	COMP(1), COMP(2), COMP(3), COMP(4), COMP(5), COMP(6), COMP(7), COMP(8),
	COMP(9), COMP(10), COMP(11), COMP(12), COMP(13), COMP(14), COMP(15), COMP(16),
	F(2, 17, "tcb.pcesvn", K_U16, 0, pcesvn, 27),
	F(2, 18, "tcb.cpusvn", K_OCTETS, 16, cpusvn, 28),
};

static const struct pck_field config_fields[] = {
	F(7, 1, "configuration.dynamicPlatform", K_BOOL, 0, dynamic_platform, 29),
	F(7, 2, "configuration.cachedKeys", K_BOOL, 0, cached_keys, 30),
	F(7, 3, "configuration.smtEnabled", K_BOOL, 0, smt_enabled, 31),
};

#define N(tab) (sizeof(tab) / sizeof((tab)[0]))

/* Everything but the optional instance ID and configuration. */
#define REQUIRED_MASK (0x1full | (0x3ffffull << 11))

/* DER content of 1.2.840.113741.1.13.1 (TDC_SGX_EXT_OID). */
static const uint8_t sgx_oid[9] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

enum { T_BOOLEAN = 0x01, T_INTEGER = 0x02, T_OCTETS = 0x04, T_OID = 0x06,
       T_ENUMERATED = 0x0a, T_SEQUENCE = 0x30 };

/* One DER element: its tag and the bounds of its content. */
struct tlv {
	uint8_t tag;
	const uint8_t *v;
	size_t len;
};

struct walk {
	struct tdc_pck_ext *out;
	uint64_t seen;
};

/*
 * The element at *@p, which must end by @end; *@p moves past it.  Lengths
 * are DER's: definite and minimal.  The extension is at most
 * TDC_PCK_EXT_MAX bytes, so a length needs at most two bytes.
 */
static int tlv_next(const uint8_t **p, const uint8_t *end, struct tlv *t, const char *where)
{
	const uint8_t *q = *p;
	size_t len, n, bytes;

	if (end - q < 2)
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: element truncated (%td bytes "
			       "left, a tag and a length need 2)", where, end - q);
	t->tag = *q++;
	if ((t->tag & 0x1f) == 0x1f)
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: multi-byte tag 0x%02x", where,
			       t->tag);
	len = *q++;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0)
			return tdc_err(TDC_ERR_FORMAT, "pck extension %s: indefinite length "
				       "(not DER)", where);
		if (n > 2 || (size_t)(end - q) < n)
			return tdc_err(TDC_ERR_FORMAT, "pck extension %s: %zu-byte length "
				       "overruns the extension", where, n);
		for (len = 0, bytes = n; n; n--)
			len = len << 8 | *q++;
		if (len < 0x80 || (bytes == 2 && len < 0x100))
			return tdc_err(TDC_ERR_FORMAT, "pck extension %s: length %zu not "
				       "minimally encoded (not DER)", where, len);
	}
	if (len > (size_t)(end - q))
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: length %zu overruns the %td "
			       "bytes left", where, len, end - q);
	t->v = q;
	t->len = len;
	*p = q + len;
	return 0;
}

/* X.690 8.19: subidentifiers in base 128, none starting with 0x80. */
static bool oid_valid(const struct tlv *o)
{
	if (o->len == 0 || (o->v[o->len - 1] & 0x80))
		return false;
	for (size_t i = 0; i < o->len; i++)
		if (o->v[i] == 0x80 && (i == 0 || !(o->v[i - 1] & 0x80)))
			return false;
	return true;
}

static bool oid_is(const struct tlv *o, const struct pck_field *f)
{
	size_t n = sizeof(sgx_oid) + (f->arc[1] ? 2 : 1);

	return o->len == n && memcmp(o->v, sgx_oid, sizeof(sgx_oid)) == 0 &&
	       o->v[sizeof(sgx_oid)] == f->arc[0] &&
	       (!f->arc[1] || o->v[sizeof(sgx_oid) + 1] == f->arc[1]);
}

static int get_int(const struct tlv *v, const struct pck_field *f, long max, long *out)
{
	uint64_t x = 0;

	if (v->tag != (f->kind == K_ENUM ? T_ENUMERATED : T_INTEGER))
		return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected %s", f->name,
			       f->kind == K_ENUM ? "ENUMERATED" : "INTEGER");
	if (v->len == 0 || (v->len > 1 && ((v->v[0] == 0 && !(v->v[1] & 0x80)) ||
					   (v->v[0] == 0xff && (v->v[1] & 0x80)))))
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: integer of %zu bytes not "
			       "minimally encoded (not DER)", f->name, v->len);
	if (v->v[0] & 0x80)
		return tdc_err(TDC_ERR_RANGE, "pck extension %s: negative value outside 0..%ld",
			       f->name, max);
	for (size_t i = 0; i < v->len; i++) {
		x = x << 8 | v->v[i];
		if (x > (uint64_t)max)
			return tdc_err(TDC_ERR_RANGE, "pck extension %s: value %s%llu outside "
				       "0..%ld", f->name, i + 1 < v->len ? "above " : "",
				       (unsigned long long)x, max);
	}
	*out = (long)x;
	return 0;
}

static int walk_list(struct walk *w, const uint8_t *p, const uint8_t *end,
		     const struct pck_field *tab, size_t n, const char *where);

static int store(struct walk *w, const struct pck_field *f, const struct tlv *v)
{
	uint8_t *dst = (uint8_t *)w->out + f->off;
	long x;
	int ret;

	switch (f->kind) {
	case K_OCTETS:
		if (v->tag != T_OCTETS)
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected OCTET STRING",
				       f->name);
		if (v->len != f->len)
			return tdc_err(TDC_ERR_FORMAT, "pck extension %s: %zu bytes, expected %zu",
				       f->name, v->len, f->len);
		memcpy(dst, v->v, f->len);
		if (f->off == offsetof(struct tdc_pck_ext, platform_instance_id))
			w->out->has_platform_instance_id = true;
		return 0;
	case K_U8:
		if ((ret = get_int(v, f, 255, &x)) != 0)
			return ret;
		*dst = (uint8_t)x;
		return 0;
	case K_U16:
		if ((ret = get_int(v, f, 65535, &x)) != 0)
			return ret;
		w->out->pcesvn = (uint16_t)x;
		return 0;
	case K_ENUM:
		if ((ret = get_int(v, f, 255, &x)) != 0)
			return ret;
		w->out->sgx_type = (int)x;
		return 0;
	case K_BOOL:
		if (v->tag != T_BOOLEAN)
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected BOOLEAN", f->name);
		if (v->len != 1)
			return tdc_err(TDC_ERR_FORMAT, "pck extension %s: BOOLEAN of %zu bytes",
				       f->name, v->len);
		*(bool *)dst = v->v[0] != 0;
		return 0;
	case K_TCB:
	case K_CONFIG:
		if (v->tag != T_SEQUENCE)
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected SEQUENCE", f->name);
		if (f->kind == K_CONFIG)
			w->out->has_config = true;
		return walk_list(w, v->v, v->v + v->len,
				 f->kind == K_TCB ? tcb_fields : config_fields,
				 f->kind == K_TCB ? N(tcb_fields) : N(config_fields), f->name);
	}
	return tdc_err(TDC_ERR_INTERNAL, "pck extension: unknown field kind");
}

/* One {OID, value} pair: find the OID in @tab and store the value. */
static int walk_pair(struct walk *w, const struct tlv *elem, const struct pck_field *tab,
		     size_t n, const char *where)
{
	const uint8_t *p = elem->v, *end = elem->v + elem->len;
	struct tlv oid, val;
	int ret;

	if (elem->tag != T_SEQUENCE)
		return tdc_err(TDC_ERR_TYPE, "pck extension %s: element is not a SEQUENCE", where);
	if ((ret = tlv_next(&p, end, &oid, where)) != 0)
		return ret;
	if (oid.tag != T_OID || p == end)
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: element is not {OID, value}",
			       where);
	if (!oid_valid(&oid))
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: malformed OBJECT IDENTIFIER",
			       where);
	if ((ret = tlv_next(&p, end, &val, where)) != 0)
		return ret;
	if (p != end)
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: element is not {OID, value} "
			       "(%td bytes after the value)", where, end - p);
	/* An OID not in @tab (not an SGX one, or not at this level) is ignored,
	 * as X.509 ignores unknown content. */
	for (size_t i = 0; i < n; i++) {
		if (!oid_is(&oid, &tab[i]))
			continue;
		if (w->seen & (1ull << tab[i].bit))
			return tdc_err(TDC_ERR_DUPLICATE, "pck extension: duplicate %s", tab[i].name);
		w->seen |= 1ull << tab[i].bit;
		return store(w, &tab[i], &val);
	}
	return 0;
}

/* The elements between @p and @end, each a pair. */
static int walk_list(struct walk *w, const uint8_t *p, const uint8_t *end,
		     const struct pck_field *tab, size_t n, const char *where)
{
	struct tlv elem;
	int ret;

	while (p < end)
		if ((ret = tlv_next(&p, end, &elem, where)) != 0 ||
		    (ret = walk_pair(w, &elem, tab, n, where)) != 0)
			return ret;
	return 0;
}

static const char *missing_name(uint64_t missing)
{
	static const struct pck_field *const tabs[] = { top_fields, tcb_fields };
	static const size_t ns[] = { N(top_fields), N(tcb_fields) };

	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < ns[t]; i++)
			if (missing & (1ull << tabs[t][i].bit))
				return tabs[t][i].name;
	return "?";
}

int tdc_pck_ext_parse(const uint8_t *der, size_t len, struct tdc_pck_ext *out)
{
	struct walk w = { out, 0 };
	const uint8_t *p = der;
	struct tlv seq;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > TDC_PCK_EXT_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "pck extension: %zu bytes exceeds %d",
			       len, TDC_PCK_EXT_MAX);
	if ((ret = tlv_next(&p, der + len, &seq, "root")) != 0)
		return ret;
	if (seq.tag != T_SEQUENCE)
		return tdc_err(TDC_ERR_FORMAT, "pck extension root: not a DER SEQUENCE (tag "
			       "0x%02x)", seq.tag);
	if (p != der + len)
		return tdc_err(TDC_ERR_TRAILING, "pck extension root: %td bytes after the "
			       "SEQUENCE", der + len - p);
	if ((ret = walk_list(&w, seq.v, seq.v + seq.len, top_fields, N(top_fields), "root")) != 0)
		return ret;
	if ((w.seen & REQUIRED_MASK) != REQUIRED_MASK)
		return tdc_err(TDC_ERR_MISSING, "pck extension: %s missing",
			       missing_name(REQUIRED_MASK & ~w.seen));
	return 0;
}

int tdc_pck_ext_from_cert(X509 *cert, struct tdc_pck_ext *out)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(TDC_SGX_EXT_OID, 1);
	X509_EXTENSION *ext;
	ASN1_OCTET_STRING *data;
	int idx, ret;

	if (!obj)
		return tdc_err(TDC_ERR_ALLOC, "pck extension: OID object");
	idx = X509_get_ext_by_OBJ(cert, obj, -1);
	if (idx >= 0 && X509_get_ext_by_OBJ(cert, obj, idx) >= 0) {
		ASN1_OBJECT_free(obj);
		return tdc_err(TDC_ERR_DUPLICATE, "pck certificate: two SGX extensions");
	}
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return tdc_err(TDC_ERR_MISSING, "pck certificate: no SGX extension "
			       TDC_SGX_EXT_OID);
	ext = X509_get_ext(cert, idx);
	data = X509_EXTENSION_get_data(ext);
	ret = tdc_pck_ext_parse(ASN1_STRING_get0_data(data),
				(size_t)ASN1_STRING_length(data), out);
	return ret;
}

const char *tdc_sgx_type_name(int type)
{
	static const char *const names[] = { "Standard", "Scalable", "ScalableWithIntegrity" };

	return type >= 0 && type < 3 ? names[type] : "unknown";
}
