// SPDX-License-Identifier: Apache-2.0
/*
 * The DER CRL walk (verifier/quote/crl.c) against OpenSSL's d2i_X509_CRL on
 * the same bytes: Intel's two CRLs, CRLs made here with serials of every
 * shape and each entry extension the walk reads or refuses, truncations;
 * and the signature over the TBS bytes with the issuer's key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "collateral.h"
#include "crl.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

#define COLL TDC_TESTDATA "/tdx/collateral/"

static void read_file(const char *path, struct tdc_buf *b)
{
	tdc_buf_init(b);
	assert_int_equal(tdc_read_file(path, TDC_CRL_MAX, b), 0);
}

/* Everything the walk read agrees with OpenSSL's reading of the same bytes. */
static void same_as_openssl(const struct tdc_crl *w, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *o = d2i_X509_CRL(NULL, &p, (long)len);
	STACK_OF(X509_REVOKED) *rev;
	bool crit;

	assert_non_null(o);
	assert_ptr_equal(p, der + len);
	assert_int_equal(X509_NAME_cmp(w->issuer, X509_CRL_get_issuer(o)), 0);
	rev = X509_CRL_get_REVOKED(o);
	/* No revokedCertificates: no stack (-1 entries). */
	assert_int_equal(w->n_revoked, rev ? (size_t)sk_X509_REVOKED_num(rev) : 0);
	crit = X509_CRL_get_ext_by_critical(o, 1, -1) >= 0;
	/* In the CRL's order: X509_CRL_get0_by_serial sorts the entries. */
	for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(r);
		unsigned char *e = NULL;
		int n = i2d_ASN1_INTEGER((ASN1_INTEGER *)sn, &e);
		size_t hdr = 2 + (e[1] & 0x80 ? (e[1] & 0x7f) : 0);

		assert_int_equal(w->revoked[i].len, (size_t)n - hdr);
		assert_memory_equal(w->der + w->revoked[i].off, e + hdr, (size_t)n - hdr);
		crit |= X509_REVOKED_get_ext_by_critical(r, 1, -1) >= 0;
		OPENSSL_free(e);
	}
	for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *found, *r = sk_X509_REVOKED_value(rev, i);

		assert_int_equal(X509_CRL_get0_by_serial(o, &found, (ASN1_INTEGER *)
							 X509_REVOKED_get0_serialNumber(r)), 1);
	}
	assert_int_equal(w->critical, crit);
	X509_CRL_free(o);
}

static X509 *first_cert(const char *path, int skip)
{
	FILE *f = fopen(path, "r");
	X509 *x = NULL;

	assert_non_null(f);
	for (int i = 0; i <= skip; i++) {
		X509_free(x);
		x = PEM_read_X509(f, NULL, NULL, NULL);
	}
	fclose(f);
	assert_non_null(x);
	return x;
}

static void test_intel_crls(void **state)
{
	static const char *const files[] = { COLL "pckcrl", COLL "rootcrl.der" };
	X509 *issuers[2] = { first_cert(COLL "pckcrl_issuer_chain.pem", 0),
			     first_cert(COLL "pckcrl_issuer_chain.pem", 1) };

	for (int k = 0; k < 2; k++) {
		struct tdc_buf b;
		struct tdc_crl *w;
		time_t t;

		read_file(files[k], &b);
		assert_int_equal(tdc_crl_read(b.data, b.len, &w), 0);
		same_as_openssl(w, b.data, b.len);
		assert_int_equal(X509_NAME_cmp(w->issuer, X509_get_subject_name(issuers[k])), 0);
		assert_int_equal(tdc_crl_verify(w, X509_get0_pubkey(issuers[k])), 0);
		assert_int_not_equal(tdc_crl_verify(w, X509_get0_pubkey(issuers[1 - k])), 0);
		assert_int_equal(w->n_revoked, k == 0 ? 44 : 0);
		assert_int_equal(tdc_time_parse(k == 0 ? "2023-06-08T07:27:52Z" :
						"2023-04-03T10:22:51Z", 0, &t), 0);
		assert_int_equal(w->window.not_before, t);
		assert_true(w->window.not_after > t);
		tdc_crl_free(w);
		/* Any byte of the TBS changed: the signature no longer verifies
		 * (or the walk refuses it). */
		for (size_t i = 4; i < b.len - 72; i += 7) {
			b.data[i] ^= 0x01;
			if (tdc_crl_read(b.data, b.len, &w) == 0) {
				assert_int_not_equal(tdc_crl_verify(w, X509_get0_pubkey(issuers[k])), 0);
				tdc_crl_free(w);
			}
			b.data[i] ^= 0x01;
		}
		/* Every truncation is refused, by both readers. */
		for (size_t n = 0; n < b.len; n++) {
			const unsigned char *p = b.data;
			X509_CRL *o = d2i_X509_CRL(NULL, &p, (long)n);

			assert_int_not_equal(tdc_crl_read(b.data, n, &w), 0);
			assert_null(w);
			assert_true(!o || p != b.data + n);
			X509_CRL_free(o);
		}
		tdc_buf_free(&b);
	}
	X509_free(issuers[0]);
	X509_free(issuers[1]);
}

/* A CRL signed with @key: entries with the serials (hex, "-" for negative),
 * each with the extension made by @ext if not NULL. */
struct made {
	uint8_t *der;
	int len;
};

typedef void (*ext_fn)(X509_REVOKED *r, int i);

static struct made make_crl(EVP_PKEY *key, const char *const *serials, ext_fn ext,
			    bool next_update)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = X509_NAME_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, 1700000000);
	ASN1_TIME *t2 = ASN1_TIME_set(NULL, 1700000000 + 86400);
	struct made m = { NULL, 0 };

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"Test CA",
				   -1, -1, 0);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, name);
	X509_CRL_set1_lastUpdate(crl, t);
	if (next_update)
		X509_CRL_set1_nextUpdate(crl, t2);
	for (int i = 0; serials && serials[i]; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		BIGNUM *bn = NULL;
		ASN1_INTEGER *sn;

		assert_true(BN_hex2bn(&bn, serials[i]) > 0);
		sn = BN_to_ASN1_INTEGER(bn, NULL);
		X509_REVOKED_set_serialNumber(r, sn);
		X509_REVOKED_set_revocationDate(r, t);
		if (ext)
			ext(r, i);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(sn);
		BN_free(bn);
	}
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	m.len = i2d_X509_CRL(crl, &m.der);
	assert_true(m.len > 0);
	X509_CRL_free(crl);
	X509_NAME_free(name);
	ASN1_TIME_free(t);
	ASN1_TIME_free(t2);
	return m;
}

static EVP_PKEY *p256(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void reason(X509_REVOKED *r, int code)
{
	ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();

	ASN1_ENUMERATED_set(e, code);
	assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0), 1);
	ASN1_ENUMERATED_free(e);
}

static void reasons(X509_REVOKED *r, int i)
{
	reason(r, i % 7); /* 0..6: unspecified .. certificateHold */
}

static void remove_from_crl(X509_REVOKED *r, int i)
{
	reason(r, i == 1 ? 8 : 1);
}

static void two_reasons(X509_REVOKED *r, int i)
{
	reason(r, 1);
	if (i == 2) {
		X509_EXTENSION *x = X509_REVOKED_get_ext(r, 0);

		X509_REVOKED_add_ext(r, x, -1);
	}
}

static void cert_issuer(X509_REVOKED *r, int i)
{
	GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *n = GENERAL_NAME_new();

	if (i != 0) {
		GENERAL_NAME_free(n);
		sk_GENERAL_NAME_free(g);
		return;
	}
	n->type = GEN_DNS;
	n->d.dNSName = ASN1_IA5STRING_new();
	ASN1_STRING_set(n->d.dNSName, "example.org", -1);
	sk_GENERAL_NAME_push(g, n);
	assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_certificate_issuer, g, 1, 0), 1);
	GENERAL_NAMES_free(g);
}

static void critical_entry(X509_REVOKED *r, int i)
{
	ASN1_GENERALIZEDTIME *t = ASN1_GENERALIZEDTIME_set(NULL, 1690000000);

	/* invalidityDate, marked critical: nobody here processes it. */
	if (i == 1)
		assert_int_equal(X509_REVOKED_add1_ext_i2d(r, NID_invalidity_date, t, 1, 0), 1);
	ASN1_GENERALIZEDTIME_free(t);
}

/* Serials as they come: short, high bit set (a 0x00 before it), 20 bytes,
 * zero, negative. */
static const char *const serials[] = {
	"01", "7F", "80", "FF", "0100", "6FC34E5023E728923435D61AA4B83C618166AD35",
	"EFAE6E9715FCA13B87E333E8261ED6D990A926AD", "0", "-1", "-80", "-0100", NULL,
};

static void test_made_crls(void **state)
{
	EVP_PKEY *k = p256(), *other = p256();
	struct {
		ext_fn ext;
		bool next;
		int want;
	} cases[] = {
		{ NULL, true, 0 }, { reasons, true, 0 }, { NULL, false, 0 },
		{ critical_entry, true, 0 },
		{ remove_from_crl, true, TDC_ERR_UNSUPPORTED },
		{ two_reasons, true, TDC_ERR_UNSUPPORTED },
		{ cert_issuer, true, TDC_ERR_UNSUPPORTED },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct made m = make_crl(k, serials, cases[c].ext, cases[c].next);
		struct tdc_crl *w;

		assert_int_equal(tdc_crl_read(m.der, (size_t)m.len, &w), cases[c].want);
		if (cases[c].want == 0) {
			same_as_openssl(w, m.der, (size_t)m.len);
			assert_int_equal(w->critical, cases[c].ext == critical_entry);
			assert_int_equal(w->window.not_after >= w->window.not_before, cases[c].next);
			assert_int_equal(tdc_crl_verify(w, k), 0);
			assert_int_not_equal(tdc_crl_verify(w, other), 0);
			tdc_crl_free(w);
		}
		OPENSSL_free(m.der);
	}
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* A certificate's serial is revoked exactly when an entry holds the same number. */
static void test_revokes(void **state)
{
	EVP_PKEY *k = p256();
	struct made m = make_crl(k, serials, NULL, true);
	static const char *const probe[] = { "01", "7F", "80", "FF", "0100", "-1", "-80",
		"-0100", "0", "02", "81", "-2", "-7F", "0101", "6FC34E5023E728923435D61AA4B83C618166AD34",
		NULL };
	struct tdc_crl *w;
	X509 *x = X509_new();
	const unsigned char *p = m.der;
	X509_CRL *o = d2i_X509_CRL(NULL, &p, m.len);

	assert_int_equal(tdc_crl_read(m.der, (size_t)m.len, &w), 0);
	for (int i = 0; probe[i]; i++) {
		BIGNUM *bn = NULL;
		ASN1_INTEGER *sn;
		X509_REVOKED *r;

		assert_true(BN_hex2bn(&bn, probe[i]) > 0);
		sn = BN_to_ASN1_INTEGER(bn, NULL);
		X509_set_serialNumber(x, sn);
		assert_int_equal(tdc_crl_revokes(w, x),
				 X509_CRL_get0_by_serial(o, &r, sn) == 1);
		assert_int_equal(tdc_crl_revokes(w, x), i < 9);
		ASN1_INTEGER_free(sn);
		BN_free(bn);
	}
	tdc_crl_free(w);
	X509_CRL_free(o);
	X509_free(x);
	OPENSSL_free(m.der);
	EVP_PKEY_free(k);
}

/* Not DER, though OpenSSL's BER reader takes it: refused, never misread. */
static void test_not_der(void **state)
{
	EVP_PKEY *k = p256();
	struct made m = make_crl(k, serials, NULL, true);
	struct tdc_crl *w;
	uint8_t *ber = malloc((size_t)m.len + 1);

	/* The outer length written with one more byte than it needs. */
	assert_true(m.der[1] == 0x81 || m.der[1] == 0x82);
	ber[0] = 0x30;
	ber[1] = (uint8_t)(m.der[1] + 1);
	ber[2] = 0;
	memcpy(ber + 3, m.der + 2, (size_t)m.len - 2);
	assert_int_equal(tdc_crl_read(ber, (size_t)m.len + 1, &w), TDC_ERR_FORMAT);
	/* Trailing bytes. */
	memcpy(ber, m.der, (size_t)m.len);
	ber[m.len] = 0;
	assert_int_equal(tdc_crl_read(ber, (size_t)m.len + 1, &w), TDC_ERR_TRAILING);
	free(ber);
	OPENSSL_free(m.der);
	EVP_PKEY_free(k);
}

/* Algorithm parameters OpenSSL does not decode (a NULL of two bytes): refused. */
static void test_bad_param(void **state)
{
	struct tdc_buf b, m;
	struct tdc_crl *w;
	const unsigned char *p;
	X509_CRL *o;
	size_t tbs, alg;

	read_file(COLL "rootcrl.der", &b);
	/* 30 82 LL LL | tbs 30 81 ll ... | alg 30 0a ... | BIT STRING */
	assert_true(b.data[1] == 0x82 && b.data[4] == 0x30 && b.data[5] == 0x81);
	tbs = 3 + (size_t)b.data[6];
	alg = 4 + tbs;
	assert_int_equal(b.data[alg], 0x30);
	tdc_buf_init(&m);
	assert_int_equal(tdc_buf_put(&m, b.data, alg), 0);
	assert_int_equal(tdc_buf_put(&m, (const uint8_t[]){ 0x30, (uint8_t)(b.data[alg + 1] + 4) },
				     2), 0);
	assert_int_equal(tdc_buf_put(&m, b.data + alg + 2, b.data[alg + 1]), 0);
	assert_int_equal(tdc_buf_put(&m, (const uint8_t[]){ 0x05, 0x02, 0x00, 0x00 }, 4), 0);
	assert_int_equal(tdc_buf_put(&m, b.data + alg + 2 + b.data[alg + 1],
				     b.len - alg - 2 - b.data[alg + 1]), 0);
	m.data[2] = (uint8_t)((m.len - 4) >> 8);
	m.data[3] = (uint8_t)(m.len - 4);
	p = m.data;
	o = d2i_X509_CRL(NULL, &p, (long)m.len);
	assert_null(o);
	assert_int_equal(tdc_crl_read(m.data, m.len, &w), TDC_ERR_FORMAT);
	tdc_buf_free(&m);
	tdc_buf_free(&b);
}

/*
 * A CRL OpenSSL reads and the appraisal does not (BER, an indirect entry)
 * is refused where it enters: added to a collateral, described or verified
 * as one fetched document; Intel's are described as before.
 */
static void test_refused_when_added(void **state)
{
	EVP_PKEY *k = p256();
	struct made m = make_crl(k, serials, cert_issuer, true);
	struct tdc_collateral *c;
	struct tdc_doc_info info;
	struct tdc_buf b;
	uint8_t *ber = malloc((size_t)m.len + 1);

	ber[0] = 0x30;
	ber[1] = (uint8_t)(m.der[1] + 1);
	ber[2] = 0;
	memcpy(ber + 3, m.der + 2, (size_t)m.len - 2);
	assert_int_equal(tdc_collateral_new(&c), 0);
	assert_int_equal(tdc_collateral_add(c, "indirect", m.der, (size_t)m.len),
			 TDC_ERR_UNSUPPORTED);
	assert_non_null(strstr(tdc_errdetail(), "certificateIssuer"));
	assert_int_equal(tdc_collateral_doc_info(m.der, (size_t)m.len, &info),
			 TDC_ERR_UNSUPPORTED);
	assert_int_equal(tdc_collateral_add(c, "ber", ber, (size_t)m.len + 1),
			 TDC_ERR_UNSUPPORTED);
	assert_non_null(strstr(tdc_errdetail(), "not DER"));
	assert_int_equal(c->n_docs, 0);
	read_file(COLL "pckcrl", &b);
	assert_int_equal(tdc_collateral_doc_info(b.data, b.len, &info), 0);
	assert_int_equal(info.kind, TDC_DOC_CRL);
	assert_true(info.der);
	assert_string_equal(info.signer, "Intel SGX PCK Platform CA");
	assert_int_equal(tdc_collateral_add(c, "pckcrl", b.data, b.len), 0);
	assert_int_equal(c->n_docs, 1);
	tdc_buf_free(&b);
	tdc_collateral_free(c);
	free(ber);
	OPENSSL_free(m.der);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intel_crls),
		cmocka_unit_test(test_made_crls),
		cmocka_unit_test(test_revokes),
		cmocka_unit_test(test_not_der),
		cmocka_unit_test(test_bad_param),
		cmocka_unit_test(test_refused_when_added),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
