// SPDX-License-Identifier: Apache-2.0
/*
 * SGX PCK certificate extension decoder (see pck_ext.h).  The structure is
 * SEQUENCE OF SEQUENCE { OBJECT IDENTIFIER, value } at two levels (TCB and
 * Configuration nest another such list), so one walker over {OID, value}
 * pairs, driven by a table of OID suffixes, decodes all of it.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "pck_ext.h"
#include "tdcpuid/error.h"

/* Field kinds a {OID, value} pair can carry. */
enum pck_kind { K_OCTETS, K_U8, K_U16, K_ENUM, K_BOOL, K_TCB, K_CONFIG };

struct pck_field {
	const char *suffix;         /* after "1.2.840.113741.1.13.1." */
	const char *name;
	enum pck_kind kind;
	size_t len;                 /* K_OCTETS: exact length */
	size_t off;                 /* offset of the destination in tdc_pck_ext */
	int bit;                    /* index in the "seen" mask */
};

#define F(s, n, k, l, m, b) { s, n, k, l, offsetof(struct tdc_pck_ext, m), b }
#define COMP(i) { "2." #i, "tcb.comp" #i, K_U8, 0, \
		  offsetof(struct tdc_pck_ext, cpusvn_comp) + (i) - 1, 10 + (i) }

static const struct pck_field top_fields[] = {
	F("1", "ppid", K_OCTETS, 16, ppid, 0),
	F("2", "tcb", K_TCB, 0, pcesvn, 1),
	F("3", "pceid", K_OCTETS, 2, pceid, 2),
	F("4", "fmspc", K_OCTETS, 6, fmspc, 3),
	F("5", "sgx_type", K_ENUM, 0, sgx_type, 4),
	F("6", "platform_instance_id", K_OCTETS, 16, platform_instance_id, 5),
	F("7", "configuration", K_CONFIG, 0, has_config, 6),
};

static const struct pck_field tcb_fields[] = {
	COMP(1), COMP(2), COMP(3), COMP(4), COMP(5), COMP(6), COMP(7), COMP(8),
	COMP(9), COMP(10), COMP(11), COMP(12), COMP(13), COMP(14), COMP(15), COMP(16),
	F("2.17", "tcb.pcesvn", K_U16, 0, pcesvn, 27),
	F("2.18", "tcb.cpusvn", K_OCTETS, 16, cpusvn, 28),
};

static const struct pck_field config_fields[] = {
	F("7.1", "configuration.dynamicPlatform", K_BOOL, 0, dynamic_platform, 29),
	F("7.2", "configuration.cachedKeys", K_BOOL, 0, cached_keys, 30),
	F("7.3", "configuration.smtEnabled", K_BOOL, 0, smt_enabled, 31),
};

/* Everything but the optional instance ID and configuration. */
#define REQUIRED_MASK (0x1full | (0x3ffffull << 11))

struct walk {
	struct tdc_pck_ext *out;
	uint64_t seen;
};

static int walk_pairs(struct walk *w, const uint8_t *der, long len,
		      const struct pck_field *tab, size_t n, const char *where);

static int get_int(const ASN1_TYPE *v, const struct pck_field *f, long max, long *out)
{
	int64_t x;

	if (f->kind == K_ENUM) {
		if (v->type != V_ASN1_ENUMERATED ||
		    !ASN1_ENUMERATED_get_int64(&x, v->value.enumerated))
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected ENUMERATED",
				       f->name);
	} else if (v->type != V_ASN1_INTEGER || !ASN1_INTEGER_get_int64(&x, v->value.integer)) {
		return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected INTEGER", f->name);
	}
	if (x < 0 || x > max)
		return tdc_err(TDC_ERR_RANGE, "pck extension %s: value %lld outside 0..%ld",
			       f->name, (long long)x, max);
	*out = (long)x;
	return 0;
}

static int store(struct walk *w, const struct pck_field *f, const ASN1_TYPE *v)
{
	uint8_t *dst = (uint8_t *)w->out + f->off;
	long x;
	int ret;

	switch (f->kind) {
	case K_OCTETS:
		if (v->type != V_ASN1_OCTET_STRING)
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected OCTET STRING",
				       f->name);
		if ((size_t)ASN1_STRING_length(v->value.octet_string) != f->len)
			return tdc_err(TDC_ERR_FORMAT, "pck extension %s: %d bytes, expected %zu",
				       f->name, ASN1_STRING_length(v->value.octet_string), f->len);
		memcpy(dst, ASN1_STRING_get0_data(v->value.octet_string), f->len);
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
		if (v->type != V_ASN1_BOOLEAN)
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected BOOLEAN", f->name);
		*(bool *)dst = v->value.boolean != 0;
		return 0;
	case K_TCB:
	case K_CONFIG:
		if (v->type != V_ASN1_SEQUENCE)
			return tdc_err(TDC_ERR_TYPE, "pck extension %s: expected SEQUENCE", f->name);
		if (f->kind == K_CONFIG)
			w->out->has_config = true;
		return walk_pairs(w, ASN1_STRING_get0_data(v->value.sequence),
				  ASN1_STRING_length(v->value.sequence),
				  f->kind == K_TCB ? tcb_fields : config_fields,
				  f->kind == K_TCB ? sizeof(tcb_fields) / sizeof(tcb_fields[0]) :
				  sizeof(config_fields) / sizeof(config_fields[0]), f->name);
	}
	return tdc_err(TDC_ERR_INTERNAL, "pck extension: unknown field kind");
}

/*
 * Each field's OID as an ASN1_OBJECT, made once per process and indexed by
 * the field's bit: a pair's OID is then compared as DER bytes (OBJ_cmp),
 * not printed in dotted text first (OBJ_obj2txt was half the decoder).
 */
static ASN1_OBJECT *field_oid[64];
static pthread_once_t oid_once = PTHREAD_ONCE_INIT;

static void make_oids_of(const struct pck_field *tab, size_t n)
{
	char txt[80];

	for (size_t i = 0; i < n; i++) {
		snprintf(txt, sizeof(txt), "%s.%s", TDC_SGX_EXT_OID, tab[i].suffix);
		field_oid[tab[i].bit] = OBJ_txt2obj(txt, 1);
	}
}

static void make_oids(void)
{
	make_oids_of(top_fields, sizeof(top_fields) / sizeof(top_fields[0]));
	make_oids_of(tcb_fields, sizeof(tcb_fields) / sizeof(tcb_fields[0]));
	make_oids_of(config_fields, sizeof(config_fields) / sizeof(config_fields[0]));
}

/* One {OID, value} pair: find the OID in @tab and store the value. */
static int walk_pair(struct walk *w, const ASN1_TYPE *elem, const struct pck_field *tab,
		     size_t n, const char *where)
{
	STACK_OF(ASN1_TYPE) *pair = NULL;
	const ASN1_OBJECT *oid;
	const unsigned char *p;
	int ret = 0;

	if (elem->type != V_ASN1_SEQUENCE)
		return tdc_err(TDC_ERR_TYPE, "pck extension %s: element is not a SEQUENCE", where);
	p = ASN1_STRING_get0_data(elem->value.sequence);
	if (!(pair = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(elem->value.sequence))) ||
	    sk_ASN1_TYPE_num(pair) != 2 ||
	    sk_ASN1_TYPE_value(pair, 0)->type != V_ASN1_OBJECT) {
		ret = tdc_err(TDC_ERR_FORMAT, "pck extension %s: element is not {OID, value}",
			      where);
		goto out;
	}
	pthread_once(&oid_once, make_oids);
	oid = sk_ASN1_TYPE_value(pair, 0)->value.object;
	/* An OID not in @tab (not an SGX one, or not at this level) is ignored,
	 * as X.509 ignores unknown content. */
	for (size_t i = 0; i < n; i++) {
		if (!field_oid[tab[i].bit]) {
			ret = tdc_err(TDC_ERR_ALLOC, "pck extension: OID table");
			goto out;
		}
		if (OBJ_cmp(oid, field_oid[tab[i].bit]) != 0)
			continue;
		if (w->seen & (1ull << tab[i].bit)) {
			ret = tdc_err(TDC_ERR_DUPLICATE, "pck extension: duplicate %s", tab[i].name);
			goto out;
		}
		w->seen |= 1ull << tab[i].bit;
		ret = store(w, &tab[i], sk_ASN1_TYPE_value(pair, 1));
		goto out;
	}
out:
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	return ret;
}

static int walk_pairs(struct walk *w, const uint8_t *der, long len,
		      const struct pck_field *tab, size_t n, const char *where)
{
	const unsigned char *p = der;
	STACK_OF(ASN1_TYPE) *seq;
	int ret = 0;

	if (!(seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len)))
		return tdc_err(TDC_ERR_FORMAT, "pck extension %s: not a DER SEQUENCE", where);
	if (p != der + len) {
		ret = tdc_err(TDC_ERR_TRAILING, "pck extension %s: %ld bytes after the SEQUENCE",
			      where, (long)(der + len - p));
		goto out;
	}
	for (int i = 0; i < sk_ASN1_TYPE_num(seq) && ret == 0; i++)
		ret = walk_pair(w, sk_ASN1_TYPE_value(seq, i), tab, n, where);
out:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return ret;
}

static const char *missing_name(uint64_t missing)
{
	static const struct pck_field *const tabs[] = { top_fields, tcb_fields };
	static const size_t ns[] = { sizeof(top_fields) / sizeof(top_fields[0]),
				     sizeof(tcb_fields) / sizeof(tcb_fields[0]) };

	for (size_t t = 0; t < 2; t++)
		for (size_t i = 0; i < ns[t]; i++)
			if (missing & (1ull << tabs[t][i].bit))
				return tabs[t][i].name;
	return "?";
}

int tdc_pck_ext_parse(const uint8_t *der, size_t len, struct tdc_pck_ext *out)
{
	struct walk w = { out, 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > TDC_PCK_EXT_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "pck extension: %zu bytes exceeds %d",
			       len, TDC_PCK_EXT_MAX);
	if ((ret = walk_pairs(&w, der, (long)len, top_fields,
			      sizeof(top_fields) / sizeof(top_fields[0]), "root")) != 0)
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
