// SPDX-License-Identifier: Apache-2.0
/*
 * DER CRL walk (crl.h).  RFC 5280 5.1:
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier,
 *       issuer Name, thisUpdate Time, nextUpdate Time OPTIONAL,
 *       revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER,
 *           revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL,
 *       crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 * with the element rules of OpenSSL 3.0's decoder where it checks more than
 * the structure (INTEGER padding, OBJECT IDENTIFIER subidentifiers, a
 * BOOLEAN of one byte, BIT STRING unused bits), so that what is read here
 * is what d2i_X509_CRL would have read from the same bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crl.h"
#include "tdcpuid/error.h"

enum { T_BOOLEAN = 0x01, T_INTEGER = 0x02, T_BITS = 0x03, T_OCTETS = 0x04, T_OID = 0x06,
       T_ENUMERATED = 0x0a, T_UTCTIME = 0x17, T_GENTIME = 0x18, T_SEQUENCE = 0x30,
       T_SET = 0x31, T_CTX0 = 0xa0 };

/* One element: the identifier's first byte (0 for a multi-byte tag, which
 * no field read here has), its content, and the whole element. */
struct tlv {
	uint8_t tag;
	const uint8_t *v, *start;
	size_t len;
};

/* The element at *@p, ending by @end; *@p moves past it.  Definite,
 * minimal lengths of at most four bytes (a CRL is at most TDC_CRL_MAX). */
static int tlv_next(const uint8_t **p, const uint8_t *end, struct tlv *t)
{
	const uint8_t *q = *p;
	size_t len, n, bytes;

	t->start = q;
	if (q >= end)
		return tdc_err(TDC_ERR_FORMAT, "CRL: element truncated");
	t->tag = *q++;
	if ((t->tag & 0x1f) == 0x1f) {
		/* High tag number: base-128 bytes, the first not 0x80. */
		if (q < end && *q == 0x80)
			return tdc_err(TDC_ERR_FORMAT, "CRL: tag not minimally encoded");
		for (n = 0; q < end && (*q & 0x80); q++)
			if (++n > 3)
				return tdc_err(TDC_ERR_FORMAT, "CRL: tag too long");
		if (q++ >= end)
			return tdc_err(TDC_ERR_FORMAT, "CRL: tag truncated");
		t->tag = 0;
	}
	if (q >= end)
		return tdc_err(TDC_ERR_FORMAT, "CRL: length truncated");
	len = *q++;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0)
			return tdc_err(TDC_ERR_FORMAT, "CRL: indefinite length (not DER)");
		if (n > 4 || (size_t)(end - q) < n)
			return tdc_err(TDC_ERR_FORMAT, "CRL: %zu-byte length overruns the CRL", n);
		if (*q == 0)
			return tdc_err(TDC_ERR_FORMAT, "CRL: length not minimally encoded (not DER)");
		for (len = 0, bytes = n; n; n--)
			len = len << 8 | *q++;
		if (len < 0x80 && bytes == 1)
			return tdc_err(TDC_ERR_FORMAT, "CRL: length %zu not minimally encoded "
				       "(not DER)", len);
	}
	if (len > (size_t)(end - q))
		return tdc_err(TDC_ERR_FORMAT, "CRL: length %zu overruns the %td bytes left", len,
			       end - q);
	t->v = q;
	t->len = len;
	*p = q + len;
	return 0;
}

static int expect(const uint8_t **p, const uint8_t *end, uint8_t tag, struct tlv *t,
		  const char *what)
{
	int ret = tlv_next(p, end, t);

	if (ret == 0 && t->tag != tag)
		return tdc_err(TDC_ERR_FORMAT, "CRL: %s: tag 0x%02x, expected 0x%02x", what,
			       t->tag, tag);
	return ret;
}

/* The next element's tag without moving (0 at the end, or a long tag). */
static uint8_t peek(const uint8_t *p, const uint8_t *end)
{
	return p < end && (*p & 0x1f) != 0x1f ? *p : 0;
}

/* X.690 8.3: at least one byte, no redundant leading 0x00 or 0xff. */
static bool integer_valid(const struct tlv *t)
{
	return t->len > 0 && !(t->len > 1 && ((t->v[0] == 0 && !(t->v[1] & 0x80)) ||
					      (t->v[0] == 0xff && (t->v[1] & 0x80))));
}

/* X.690 8.19: base-128 subidentifiers, none starting with 0x80. */
static bool oid_valid(const struct tlv *t)
{
	if (t->len == 0 || (t->v[t->len - 1] & 0x80))
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (t->v[i] == 0x80 && (i == 0 || !(t->v[i - 1] & 0x80)))
			return false;
	return true;
}

static bool oid_is(const struct tlv *t, const uint8_t *oid, size_t n)
{
	return t->len == n && memcmp(t->v, oid, n) == 0;
}

static int integer(const uint8_t **p, const uint8_t *end, struct tlv *t, const char *what)
{
	int ret = expect(p, end, T_INTEGER, t, what);

	if (ret == 0 && !integer_valid(t))
		return tdc_err(TDC_ERR_FORMAT, "CRL: %s: INTEGER not minimally encoded", what);
	return ret;
}

/*
 * An algorithm's parameters (ANY) as OpenSSL decodes them: by their
 * universal type, each with its own rules (a NULL of no bytes, ...).
 * ecdsa-with-SHA256 has none, so this only runs on other CRLs.
 */
static bool param_valid(const struct tlv *t)
{
	const unsigned char *p = t->start;
	ASN1_TYPE *a = d2i_ASN1_TYPE(NULL, &p, (long)(t->v + t->len - t->start));
	bool ok = a && p == t->v + t->len;

	ASN1_TYPE_free(a);
	return ok;
}

/* AlgorithmIdentifier ::= SEQUENCE { OBJECT IDENTIFIER, ANY OPTIONAL }. */
static int algorithm(const uint8_t **p, const uint8_t *end, struct tlv *alg, struct tlv *oid)
{
	const uint8_t *q, *e;
	struct tlv param;
	int ret;

	if ((ret = expect(p, end, T_SEQUENCE, alg, "signature algorithm")) != 0)
		return ret;
	q = alg->v;
	e = q + alg->len;
	if ((ret = expect(&q, e, T_OID, oid, "signature algorithm")) != 0)
		return ret;
	if (!oid_valid(oid))
		return tdc_err(TDC_ERR_FORMAT, "CRL: signature algorithm: invalid OID");
	if (q < e) {
		if ((ret = tlv_next(&q, e, &param)) != 0)
			return ret;
		if (!param_valid(&param))
			return tdc_err(TDC_ERR_FORMAT, "CRL: signature algorithm: parameters "
				       "do not decode");
	}
	return q == e ? 0 : tdc_err(TDC_ERR_FORMAT, "CRL: signature algorithm: trailing data");
}

/* Time ::= UTCTime | GeneralizedTime; read as ASN1_TIME_to_tm reads it. */
static bool time_of(const struct tlv *t, time_t *out)
{
	ASN1_TIME a = { .length = (int)t->len, .type = t->tag == T_UTCTIME ?
			V_ASN1_UTCTIME : V_ASN1_GENERALIZEDTIME, .data = (unsigned char *)t->v };
	struct tm tm;

	if (ASN1_TIME_to_tm(&a, &tm) != 1)
		return false;
	*out = timegm(&tm);
	return true;
}

static bool is_time(uint8_t tag)
{
	return tag == T_UTCTIME || tag == T_GENTIME;
}

/* 2.5.29.21 reasonCode, 2.5.29.29 certificateIssuer. */
static const uint8_t oid_reason[] = { 0x55, 0x1d, 0x15 };
static const uint8_t oid_cert_issuer[] = { 0x55, 0x1d, 0x1d };
/* 1.2.840.10045.4.3.2 ecdsa-with-SHA256 */
static const uint8_t oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };

enum { REASON_REMOVE_FROM_CRL = 8, REASON_MAX = 10 };

/*
 * Extensions ::= SEQUENCE OF SEQUENCE { extnID OBJECT IDENTIFIER,
 * critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.  @entry: CRL
 * entry extensions, where OpenSSL reads reasonCode and certificateIssuer.
 */
static int extensions(struct tdc_crl *c, const struct tlv *list, bool entry)
{
	const uint8_t *p = list->v, *end = p + list->len, *q, *e;
	struct tlv ext, oid, crit, val;
	bool reason = false;
	int ret;

	while (p < end) {
		if ((ret = expect(&p, end, T_SEQUENCE, &ext, "extension")) != 0)
			return ret;
		q = ext.v;
		e = q + ext.len;
		if ((ret = expect(&q, e, T_OID, &oid, "extension")) != 0)
			return ret;
		if (!oid_valid(&oid))
			return tdc_err(TDC_ERR_FORMAT, "CRL: extension: invalid OID");
		if (peek(q, e) == T_BOOLEAN) {
			if ((ret = tlv_next(&q, e, &crit)) != 0)
				return ret;
			if (crit.len != 1)
				return tdc_err(TDC_ERR_FORMAT, "CRL: extension: BOOLEAN of %zu bytes",
					       crit.len);
			c->critical |= crit.v[0] != 0;
		}
		if ((ret = expect(&q, e, T_OCTETS, &val, "extension value")) != 0)
			return ret;
		if (q != e)
			return tdc_err(TDC_ERR_FORMAT, "CRL: extension: trailing data");
		if (!entry)
			continue;
		if (oid_is(&oid, oid_cert_issuer, sizeof(oid_cert_issuer)))
			return tdc_err(TDC_ERR_UNSUPPORTED, "CRL: certificateIssuer entry extension "
				       "(indirect CRLs are not supported)");
		if (!oid_is(&oid, oid_reason, sizeof(oid_reason)))
			continue;
		/* ENUMERATED, one byte: anything else OpenSSL reads its own way. */
		if (reason || val.len != 3 || val.v[0] != T_ENUMERATED || val.v[1] != 1 ||
		    val.v[2] > REASON_MAX)
			return tdc_err(TDC_ERR_UNSUPPORTED, "CRL: entry reasonCode not read "
				       "(repeated, or not one ENUMERATED 0..%d)", REASON_MAX);
		if (val.v[2] == REASON_REMOVE_FROM_CRL)
			return tdc_err(TDC_ERR_UNSUPPORTED, "CRL: removeFromCRL entry (delta CRLs "
				       "are not supported)");
		reason = true;
	}
	return 0;
}

static int add_serial(struct tdc_crl *c, const struct tlv *serial, size_t *cap)
{
	if (c->n_revoked == *cap) {
		size_t n = *cap ? 2 * *cap : 64;
		struct tdc_crl_serial *r = realloc(c->revoked, n * sizeof(*r));

		if (!r)
			return tdc_err(TDC_ERR_ALLOC, "CRL");
		c->revoked = r;
		*cap = n;
	}
	c->revoked[c->n_revoked].off = (uint32_t)(serial->v - c->der);
	c->revoked[c->n_revoked].len = (uint32_t)serial->len;
	c->n_revoked++;
	return 0;
}

/* revokedCertificates: each SEQUENCE { INTEGER, Time, Extensions OPTIONAL }. */
static int revoked(struct tdc_crl *c, const struct tlv *list)
{
	const uint8_t *p = list->v, *end = p + list->len, *q, *e;
	struct tlv entry, serial, when, exts;
	size_t cap = 0;
	int ret;

	while (p < end) {
		if ((ret = expect(&p, end, T_SEQUENCE, &entry, "revoked entry")) != 0)
			return ret;
		q = entry.v;
		e = q + entry.len;
		if ((ret = integer(&q, e, &serial, "revoked serial")) != 0 ||
		    (ret = tlv_next(&q, e, &when)) != 0)
			return ret;
		if (!is_time(when.tag))
			return tdc_err(TDC_ERR_FORMAT, "CRL: revocationDate is not a Time");
		if (q < e && ((ret = expect(&q, e, T_SEQUENCE, &exts, "entry extensions")) != 0 ||
			      (ret = extensions(c, &exts, true)) != 0))
			return ret;
		if (q != e)
			return tdc_err(TDC_ERR_FORMAT, "CRL: revoked entry: trailing data");
		if ((ret = add_serial(c, &serial, &cap)) != 0)
			return ret;
	}
	return 0;
}

static int issuer_name(struct tdc_crl *c, const struct tlv *name)
{
	const unsigned char *p = name->start;
	long n = (long)(name->v + name->len - name->start);

	c->issuer = d2i_X509_NAME(NULL, &p, n);
	if (!c->issuer || p != name->v + name->len)
		return tdc_err(TDC_ERR_FORMAT, "CRL: issuer is not a Name");
	return 0;
}

static int tbs(struct tdc_crl *c, const struct tlv *t, struct tlv *alg)
{
	const uint8_t *p = t->v, *end = p + t->len;
	struct tlv v, oid, name, this_up, next_up, list, exts;
	bool have_next = false;
	int ret;

	if (peek(p, end) == T_INTEGER && (ret = integer(&p, end, &v, "version")) != 0)
		return ret;
	if ((ret = algorithm(&p, end, alg, &oid)) != 0 ||
	    (ret = expect(&p, end, T_SEQUENCE, &name, "issuer")) != 0 ||
	    (ret = issuer_name(c, &name)) != 0 || (ret = tlv_next(&p, end, &this_up)) != 0)
		return ret;
	if (!is_time(this_up.tag))
		return tdc_err(TDC_ERR_FORMAT, "CRL: thisUpdate is not a Time");
	if (is_time(peek(p, end))) {
		if ((ret = tlv_next(&p, end, &next_up)) != 0)
			return ret;
		have_next = true;
	}
	if (peek(p, end) == T_SEQUENCE &&
	    ((ret = tlv_next(&p, end, &list)) != 0 || (ret = revoked(c, &list)) != 0))
		return ret;
	if (peek(p, end) == T_CTX0) {
		const uint8_t *q, *e;

		if ((ret = tlv_next(&p, end, &exts)) != 0)
			return ret;
		q = exts.v;
		e = q + exts.len;
		if ((ret = expect(&q, e, T_SEQUENCE, &list, "CRL extensions")) != 0 ||
		    (ret = extensions(c, &list, false)) != 0)
			return ret;
		if (q != e)
			return tdc_err(TDC_ERR_FORMAT, "CRL: [0] extensions: trailing data");
	}
	if (p != end)
		return tdc_err(TDC_ERR_FORMAT, "CRL: tbsCertList: trailing data");
	/* Without nextUpdate, or a time that does not read: an empty window,
	 * which never validates (collateral.c crl_valid_at). */
	c->window.not_before = 1;
	c->window.not_after = 0;
	if (have_next && (!time_of(&this_up, &c->window.not_before) ||
			  !time_of(&next_up, &c->window.not_after))) {
		c->window.not_before = 1;
		c->window.not_after = 0;
	}
	return 0;
}

static int walk(struct tdc_crl *c)
{
	const uint8_t *p = c->der, *end = p + c->len, *q, *e;
	struct tlv all, t, alg, inner_alg, oid, sig;
	int ret;

	if ((ret = expect(&p, end, T_SEQUENCE, &all, "CertificateList")) != 0)
		return ret;
	if (p != end)
		return tdc_err(TDC_ERR_TRAILING, "CRL: %td bytes after the CRL", end - p);
	q = all.v;
	e = q + all.len;
	if ((ret = expect(&q, e, T_SEQUENCE, &t, "tbsCertList")) != 0 ||
	    (ret = tbs(c, &t, &inner_alg)) != 0 || (ret = algorithm(&q, e, &alg, &oid)) != 0 ||
	    (ret = expect(&q, e, T_BITS, &sig, "signature")) != 0)
		return ret;
	if (q != e)
		return tdc_err(TDC_ERR_FORMAT, "CRL: trailing data after the signature");
	if (sig.len < 1 || sig.v[0] > 7)
		return tdc_err(TDC_ERR_FORMAT, "CRL: signature BIT STRING malformed");
	c->tbs_off = (size_t)(t.start - c->der);
	c->tbs_len = (size_t)(t.v + t.len - t.start);
	c->unused_bits = sig.v[0];
	c->sig_off = (size_t)(sig.v + 1 - c->der);
	c->sig_len = sig.len - 1;
	/* OpenSSL's X509_CRL_verify refuses a TBS algorithm that differs. */
	c->ecdsa_sha256 = oid_is(&oid, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256)) &&
			  alg.len == inner_alg.len && !memcmp(alg.start, inner_alg.start,
							      (size_t)(alg.v + alg.len - alg.start));
	return 0;
}

int tdc_crl_read(const uint8_t *der, size_t len, struct tdc_crl **out)
{
	struct tdc_crl *c;
	int ret;

	*out = NULL;
	if (len > TDC_CRL_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "CRL: %zu bytes (at most %u)", len, TDC_CRL_MAX);
	if (!(c = calloc(1, sizeof(*c) + len)))
		return tdc_err(TDC_ERR_ALLOC, "CRL");
	memcpy(c->der, der, len);
	c->len = len;
	if ((ret = walk(c)) != 0) {
		tdc_crl_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

void tdc_crl_free(struct tdc_crl *c)
{
	if (!c)
		return;
	X509_NAME_free(c->issuer);
	free(c->revoked);
	free(c);
}

bool tdc_crl_revokes(const struct tdc_crl *c, X509 *cert)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
	unsigned char *der = NULL;
	const uint8_t *v;
	bool found = false;
	size_t n;
	int len;

	if (!c || !c->n_revoked)
		return false;
	/* The serial as DER (two's complement, minimal), as the entries hold
	 * it: equal bytes are equal numbers.  Unencodable: revoked (fail
	 * closed; an allocation failure). */
	if (!sn || (len = i2d_ASN1_INTEGER((ASN1_INTEGER *)sn, &der)) < 2)
		return true;
	v = der + 2 + (der[1] & 0x80 ? (der[1] & 0x7f) : 0);
	n = (size_t)len - (size_t)(v - der);
	for (size_t i = 0; i < c->n_revoked && !found; i++)
		found = c->revoked[i].len == n && !memcmp(c->der + c->revoked[i].off, v, n);
	OPENSSL_free(der);
	return found;
}

int tdc_crl_verify(const struct tdc_crl *c, EVP_PKEY *key)
{
	if (!c->ecdsa_sha256)
		return tdc_err(TDC_ERR_SIGNATURE, "CRL signature algorithm is not "
			       "ecdsa-with-SHA256 (or differs from the TBS's)");
	if (c->unused_bits)
		return tdc_err(TDC_ERR_SIGNATURE, "CRL signature BIT STRING has unused bits");
	return tdc_ecdsa_verify_der(key, c->der + c->tbs_off, c->tbs_len, c->der + c->sig_off,
				    c->sig_len);
}
