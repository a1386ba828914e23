// SPDX-License-Identifier: Apache-2.0
/*
 * SGX PCK certificate extension decoder (verifier/quote/pck_ext.c): the real SPR
 * PCK certificate, every truncation of its extension, hand-built
 * extensions with one thing wrong each, and malformed DER (lengths that
 * overrun, non-DER lengths, wrong tags, pairs that are not {OID, value}).
 */
#include <stdlib.h>

#include <openssl/pem.h>

#include "testutil.h"
#include "pck_ext.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

/* ---- a tiny DER writer (test-only: builds inputs, parses nothing) ------- */

struct der {
	uint8_t b[2048];
	size_t n;
};

static void put(struct der *d, const void *p, size_t n)
{
	assert_true(d->n + n <= sizeof(d->b));
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void tlv(struct der *d, uint8_t tag, const struct der *content)
{
	uint8_t h[4] = { tag };
	size_t hl;

	if (content->n < 128) {
		h[1] = (uint8_t)content->n;
		hl = 2;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(content->n >> 8);
		h[3] = (uint8_t)content->n;
		hl = 4;
	}
	put(d, h, hl);
	put(d, content->b, content->n);
}

static void prim(struct der *d, uint8_t tag, const void *p, size_t n)
{
	struct der c = { .n = 0 };

	put(&c, p, n);
	tlv(d, tag, &c);
}

/* OID 1.2.840.113741.1.13.1.<a>[.<b>] */
static void oid(struct der *d, int a, int b)
{
	uint8_t o[11] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, (uint8_t)a,
			  (uint8_t)b };

	prim(d, 0x06, o, b ? 11 : 10);
}

static void pair(struct der *d, int a, int b, const struct der *value)
{
	struct der p = { .n = 0 };

	oid(&p, a, b);
	put(&p, value->b, value->n);
	tlv(d, 0x30, &p);
}

static struct der octets(const void *p, size_t n)
{
	struct der v = { .n = 0 };

	prim(&v, 0x04, p, n);
	return v;
}

static struct der integer(unsigned x, uint8_t tag)
{
	struct der v = { .n = 0 };
	uint8_t b[3];
	size_t n = 0;

	if (x >= 0x8000)
		b[n++] = (uint8_t)(x >> 16);
	if (x >= 0x80)
		b[n++] = (uint8_t)(x >> 8);
	b[n++] = (uint8_t)x;
	prim(&v, tag, b, n);
	return v;
}

enum fault { F_NONE, F_NO_FMSPC, F_DUP_PPID, F_FMSPC_LEN, F_FMSPC_INT, F_COMP_RANGE,
	     F_UNKNOWN_OID, F_OPTIONAL, F_DUP_COMP, F_COMP_PAD, F_COMP_NEG, F_BOOL_LEN,
	     F_TCB_OCTETS, F_DUP_CONFIG };

static void build(struct der *out, enum fault f)
{
	static const uint8_t ppid[16] = { 1, 2, 3, 4 }, cpusvn[16] = { 9, 8, 7 };
	struct der seq = { .n = 0 }, tcb = { .n = 0 }, v, cfg = { .n = 0 };

	v = octets(ppid, 16);
	pair(&seq, 1, 0, &v);
	if (f == F_DUP_PPID)
		pair(&seq, 1, 0, &v);
	for (int i = 1; i <= 16; i++) {
		v = integer(f == F_COMP_RANGE && i == 3 ? 256 : (unsigned)i, 0x02);
		if (f == F_COMP_PAD && i == 4) {
			v.n = 0;
			prim(&v, 0x02, "\x00\x04", 2);  /* 4 with a needless leading zero */
		}
		if (f == F_COMP_NEG && i == 5) {
			v.n = 0;
			prim(&v, 0x02, "\xff", 1);
		}
		pair(&tcb, 2, i, &v);
		if (f == F_DUP_COMP && i == 7)
			pair(&tcb, 2, i, &v);
	}
	v = integer(13, 0x02);
	pair(&tcb, 2, 17, &v);
	v = octets(cpusvn, 16);
	pair(&tcb, 2, 18, &v);
	v.n = 0;
	tlv(&v, 0x30, &tcb);
	if (f == F_TCB_OCTETS)
		v = octets("x", 1);
	pair(&seq, 2, 0, &v);
	v = octets("\x00\x01", 2);
	pair(&seq, 3, 0, &v);
	if (f == F_FMSPC_INT)
		v = integer(5, 0x02);
	else
		v = octets("\x90\xc0\x6f\x00\x00\x00", f == F_FMSPC_LEN ? 5 : 6);
	if (f != F_NO_FMSPC)
		pair(&seq, 4, 0, &v);
	v = integer(1, 0x0a);
	pair(&seq, 5, 0, &v);
	if (f == F_UNKNOWN_OID) {
		v = octets("x", 1);
		pair(&seq, 99, 0, &v);
	}
	if (f == F_OPTIONAL || f == F_BOOL_LEN || f == F_DUP_CONFIG) {
		v = octets("\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 16);
		pair(&seq, 6, 0, &v);
		v.n = 0;
		prim(&v, 0x01, "\xff", 1);
		pair(&cfg, 7, 1, &v);
		v.n = 0;
		prim(&v, 0x01, "\x00\x00", f == F_BOOL_LEN ? 2 : 1);
		pair(&cfg, 7, 2, &v);
		v.n = 0;
		prim(&v, 0x01, "\xff", 1);
		pair(&cfg, 7, 3, &v);
		v.n = 0;
		tlv(&v, 0x30, &cfg);
		pair(&seq, 7, 0, &v);
		if (f == F_DUP_CONFIG)
			pair(&seq, 7, 0, &v);
	}
	out->n = 0;
	tlv(out, 0x30, &seq);
}

static void test_built(void **state)
{
	struct tdc_pck_ext e;
	struct der d;

	build(&d, F_NONE);
	assert_int_equal(tdc_pck_ext_parse(d.b, d.n, &e), 0);
	assert_int_equal(e.ppid[3], 4);
	for (int i = 0; i < 16; i++)
		assert_int_equal(e.cpusvn_comp[i], i + 1);
	assert_int_equal(e.pcesvn, 13);
	assert_int_equal(e.cpusvn[0], 9);
	assert_memory_equal(e.pceid, "\x00\x01", 2);
	assert_memory_equal(e.fmspc, "\x90\xc0\x6f\x00\x00\x00", 6);
	assert_int_equal(e.sgx_type, 1);
	assert_false(e.has_platform_instance_id);
	assert_false(e.has_config);

	build(&d, F_OPTIONAL);
	assert_int_equal(tdc_pck_ext_parse(d.b, d.n, &e), 0);
	assert_true(e.has_platform_instance_id);
	assert_int_equal(e.platform_instance_id[15], 0xaa);
	assert_true(e.has_config);
	assert_true(e.dynamic_platform);
	assert_false(e.cached_keys);
	assert_true(e.smt_enabled);

	build(&d, F_UNKNOWN_OID);
	assert_int_equal(tdc_pck_ext_parse(d.b, d.n, &e), 0);
}

static void test_faults(void **state)
{
	static const struct {
		enum fault f;
		int code;
		const char *detail;
	} cases[] = {
		{ F_NO_FMSPC, TDC_ERR_MISSING, "fmspc missing" },
		{ F_DUP_PPID, TDC_ERR_DUPLICATE, "duplicate ppid" },
		{ F_FMSPC_LEN, TDC_ERR_FORMAT, "fmspc: 5 bytes" },
		{ F_FMSPC_INT, TDC_ERR_TYPE, "fmspc: expected OCTET STRING" },
		{ F_COMP_RANGE, TDC_ERR_RANGE, "tcb.comp3: value 256 outside 0..255" },
		{ F_DUP_COMP, TDC_ERR_DUPLICATE, "duplicate tcb.comp7" },
		{ F_DUP_CONFIG, TDC_ERR_DUPLICATE, "duplicate configuration" },
		{ F_COMP_PAD, TDC_ERR_FORMAT, "tcb.comp4: integer of 2 bytes not minimally" },
		{ F_COMP_NEG, TDC_ERR_RANGE, "tcb.comp5: negative value" },
		{ F_BOOL_LEN, TDC_ERR_FORMAT, "cachedKeys: BOOLEAN of 2 bytes" },
		{ F_TCB_OCTETS, TDC_ERR_TYPE, "tcb: expected SEQUENCE" },
	};
	struct tdc_pck_ext e;
	struct der d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(&d, cases[i].f);
		assert_int_equal(tdc_pck_ext_parse(d.b, d.n, &e), cases[i].code);
		if (!strstr(tdc_errdetail(), cases[i].detail))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, tdc_errdetail(), cases[i].detail);
	}
	/* Bytes after the outer SEQUENCE. */
	build(&d, F_NONE);
	d.b[d.n++] = 0;
	assert_int_equal(tdc_pck_ext_parse(d.b, d.n, &e), TDC_ERR_TRAILING);
	assert_int_equal(tdc_pck_ext_parse(d.b, TDC_PCK_EXT_MAX + 1, &e), TDC_ERR_TOO_LARGE);
}

/* Malformed DER, each refused with a named error before any field is read. */
static void test_malformed_der(void **state)
{
	static const struct {
		const char *name;
		uint8_t der[16];
		size_t len;
		int code;
		const char *detail;
	} cases[] = {
		{ "outer length overrun", { 0x30, 0x05, 0x30, 0x03, 0x06, 0x01 }, 6,
		  TDC_ERR_FORMAT, "root: length 5 overruns the 4 bytes left" },
		{ "element length overrun", { 0x30, 0x06, 0x30, 0x05, 0x06, 0x01, 0x2a, 0x04 }, 8,
		  TDC_ERR_FORMAT, "root: length 5 overruns the 4 bytes left" },
		{ "value length overrun", { 0x30, 0x07, 0x30, 0x05, 0x06, 0x01, 0x2a, 0x04, 0x09 },
		  9, TDC_ERR_FORMAT, "root: length 9 overruns the 0 bytes left" },
		{ "length bytes overrun", { 0x30, 0x82, 0x01 }, 3,
		  TDC_ERR_FORMAT, "2-byte length overruns" },
		{ "indefinite length", { 0x30, 0x80, 0x00, 0x00 }, 4,
		  TDC_ERR_FORMAT, "indefinite length" },
		{ "long form for a short length", { 0x30, 0x81, 0x02, 0x30, 0x00 }, 5,
		  TDC_ERR_FORMAT, "length 2 not minimally encoded" },
		{ "two bytes for a one-byte length", { 0x30, 0x82, 0x00, 0x82, 0x30, 0x00 }, 6,
		  TDC_ERR_FORMAT, "length 130 not minimally encoded" },
		{ "truncated element", { 0x30, 0x01, 0x30 }, 3,
		  TDC_ERR_FORMAT, "element truncated" },
		{ "multi-byte tag", { 0x30, 0x02, 0x1f, 0x00 }, 4,
		  TDC_ERR_FORMAT, "multi-byte tag" },
		{ "outer not a SEQUENCE", { 0x31, 0x00 }, 2,
		  TDC_ERR_FORMAT, "not a DER SEQUENCE" },
		{ "element not a SEQUENCE", { 0x30, 0x03, 0x04, 0x01, 0x00 }, 5,
		  TDC_ERR_TYPE, "element is not a SEQUENCE" },
		{ "pair without an OID", { 0x30, 0x05, 0x30, 0x03, 0x04, 0x01, 0x00 }, 7,
		  TDC_ERR_FORMAT, "element is not {OID, value}" },
		{ "pair without a value", { 0x30, 0x05, 0x30, 0x03, 0x06, 0x01, 0x2a }, 7,
		  TDC_ERR_FORMAT, "element is not {OID, value}" },
		{ "pair of three", { 0x30, 0x0a, 0x30, 0x08, 0x06, 0x01, 0x2a, 0x04, 0x00, 0x04,
				     0x01, 0x00 }, 12,
		  TDC_ERR_FORMAT, "3 bytes after the value" },
		{ "malformed OID", { 0x30, 0x07, 0x30, 0x05, 0x06, 0x01, 0x80, 0x04, 0x00 }, 9,
		  TDC_ERR_FORMAT, "malformed OBJECT IDENTIFIER" },
		{ "OID with a padded arc", { 0x30, 0x08, 0x30, 0x06, 0x06, 0x02, 0x80, 0x01, 0x04,
					     0x00 }, 10,
		  TDC_ERR_FORMAT, "malformed OBJECT IDENTIFIER" },
	};
	struct tdc_pck_ext e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = tdc_pck_ext_parse(cases[i].der, cases[i].len, &e);

		if (ret != cases[i].code || !strstr(tdc_errdetail(), cases[i].detail))
			fail_msg("%s: %d \"%s\", expected %d \"%s\"", cases[i].name, ret,
				 tdc_errdetail(), cases[i].code, cases[i].detail);
	}
}

/* The real SPR PCK leaf: values asserted by go-tdx-guest, every truncation. */
static void test_real_leaf(void **state)
{
	struct tdc_buf q;
	struct tdx_quote tq;
	struct tdc_pck_ext e;
	ASN1_OBJECT *obj = OBJ_txt2obj(TDC_SGX_EXT_OID, 1);
	ASN1_OCTET_STRING *data;
	const uint8_t *der;
	BIO *bio;
	X509 *leaf;
	size_t len;

	tdc_test_read("tdx/tdx_prod_quote_SPR_E4.dat", &q);
	assert_int_equal(tdx_quote_parse(q.data, q.len, true, &tq), 0);
	bio = BIO_new_mem_buf(tq.pck_chain_pem, (int)tq.pck_chain_len);
	leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(leaf);
	assert_int_equal(tdc_pck_ext_from_cert(leaf, &e), 0);
	assert_memory_equal(e.fmspc, "\x50\x80\x6f\x00\x00\x00", 6);
	assert_int_equal(e.pcesvn, 11);
	data = X509_EXTENSION_get_data(X509_get_ext(leaf, X509_get_ext_by_OBJ(leaf, obj, -1)));
	der = ASN1_STRING_get0_data(data);
	len = (size_t)ASN1_STRING_length(data);
	for (size_t n = 0; n < len; n++) {
		uint8_t *p = malloc(n ? n : 1);

		memcpy(p, der, n);
		assert_int_not_equal(tdc_pck_ext_parse(p, n, &e), 0);
		free(p);
	}
	/* The issuer CA's certificate has no SGX extension. */
	X509_free(leaf);
	leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_int_equal(tdc_pck_ext_from_cert(leaf, &e), TDC_ERR_MISSING);
	X509_free(leaf);
	BIO_free(bio);
	ASN1_OBJECT_free(obj);
	tdc_buf_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_built),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_malformed_der),
		cmocka_unit_test(test_real_leaf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
