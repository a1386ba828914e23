// SPDX-License-Identifier: Apache-2.0
/*
 * DCAP TD Quote v4/v5 parser (lib/quote.c) against the real quotes in
 * tests/data/tdx (SOURCES.md): golden offsets, every truncation, strict
 * trailing handling, corrupted and overflowing length fields.
 */
#include <stdlib.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

#define SPR "tdx/tdx_prod_quote_SPR_E4.dat"
#define V5 "tdx/quote_v5_sample.dat"

static const uint8_t intel_qe_vendor[16] = {
	0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
	0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

static size_t off_of(const struct tdc_buf *b, const void *p)
{
	return (size_t)((const uint8_t *)p - b->data);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_spr_golden(void **state)
{
	struct tdc_buf b;
	struct tdx_quote q;

	tdc_test_read(SPR, &b);
	assert_int_equal(b.len, 4974);
	assert_int_equal(tdx_quote_parse(b.data, b.len, true, &q), 0);
	assert_int_equal(q.header.version, 4);
	assert_int_equal(q.header.att_key_type, 2);
	assert_int_equal(q.header.tee_type, 0x81);
	assert_memory_equal(q.header.qe_vendor_id, intel_qe_vendor, 16);
	assert_int_equal(q.body.body_type, 2);
	assert_false(q.body.is_1_5);
	/* v4: header 48, body at 48 (584 B), signature_data_len at 632. */
	assert_ptr_equal(q.signed_data, b.data);
	assert_int_equal(q.signed_len, 632);
	assert_memory_equal(q.body.tee_tcb_svn, b.data + 48, 16);
	assert_memory_equal(q.body.mr_seam, b.data + 64, 48);
	assert_memory_equal(&q.body.td_attributes, b.data + 168, 8);
	assert_memory_equal(&q.body.xfam, b.data + 176, 8);
	assert_memory_equal(q.body.mr_td, b.data + 184, 48);
	assert_memory_equal(q.body.rtmr[3], b.data + 376 + 3 * 48, 48);
	assert_memory_equal(q.body.report_data, b.data + 568, 64);
	/* Signature data at 636: sig, key, type 6 at 764, QE report at 770. */
	assert_memory_equal(q.signature, b.data + 636, 64);
	assert_memory_equal(q.attest_key, b.data + 700, 64);
	assert_int_equal(off_of(&b, q.qe_report.raw), 770);
	assert_memory_equal(q.qe_report_sig, b.data + 770 + 384, 64);
	assert_int_equal(off_of(&b, q.qe_auth_data), 770 + 384 + 64 + 2);
	assert_int_equal(q.qe_auth_len, 32);
	assert_int_equal(off_of(&b, q.pck_chain_pem), 1220 + 32 + 6);
	assert_int_equal(q.pck_chain_len, 3677);
	assert_int_equal(memcmp(q.pck_chain_pem, "-----BEGIN CERTIFICATE-----", 27), 0);
	assert_int_equal(q.qe_report.isv_prod_id, 2);
	assert_int_equal(q.trailing, 39);
	assert_int_equal(q.total_len, 4974);
	/* Strict mode refuses the 39 trailing bytes. */
	assert_int_equal(tdx_quote_parse(b.data, b.len, false, &q), TDC_ERR_TRAILING);
	assert_non_null(strstr(tdc_errdetail(), "39"));
	tdc_buf_free(&b);
}

static void test_v5_golden(void **state)
{
	struct tdc_buf b;
	struct tdx_quote q;

	tdc_test_read(V5, &b);
	assert_int_equal(b.len, 5006);
	assert_int_equal(tdx_quote_parse(b.data, b.len, false, &q), 0);
	assert_int_equal(q.header.version, 5);
	assert_int_equal(q.body.body_type, 3);
	assert_true(q.body.is_1_5);
	assert_int_equal(q.signed_len, 54 + 648);
	assert_memory_equal(q.body.tee_tcb_svn, b.data + 54, 16);
	assert_memory_equal(q.body.mr_td, b.data + 54 + 136, 48);
	assert_memory_equal(q.body.report_data, b.data + 54 + 520, 64);
	assert_memory_equal(q.body.tee_tcb_svn2, b.data + 54 + 584, 16);
	assert_memory_equal(q.body.mr_servicetd, b.data + 54 + 600, 48);
	/* Type 3 starts the signature data at 706. */
	assert_memory_equal(q.signature, b.data + 706, 64);
	assert_int_equal(off_of(&b, q.qe_report.raw), 706 + 134);
	assert_int_equal(q.trailing, 0);
	assert_memory_equal(q.header.qe_vendor_id, intel_qe_vendor, 16);
	tdc_buf_free(&b);
}

/* Every prefix that cuts into the signature data must fail without crashing. */
static void check_truncations(const char *rel)
{
	struct tdc_buf b;
	struct tdx_quote q;
	size_t end;

	tdc_test_read(rel, &b);
	assert_int_equal(tdx_quote_parse(b.data, b.len, true, &q), 0);
	end = b.len - q.trailing;
	for (size_t n = 0; n < end; n++) {
		/* A private copy so ASan catches any read past the prefix. */
		uint8_t *p = malloc(n ? n : 1);

		assert_non_null(p);
		memcpy(p, b.data, n);
		int r = tdx_quote_parse(p, n, true, &q);
		if (r == 0)
			fail_msg("%s: prefix of %zu bytes accepted", rel, n);
		assert_true(r == TDC_ERR_TRUNCATED || r == TDC_ERR_FORMAT);
		free(p);
	}
	/* Cutting into the trailing bytes only shortens them. */
	for (size_t n = end; n < b.len; n++) {
		assert_int_equal(tdx_quote_parse(b.data, n, true, &q), 0);
		assert_int_equal(q.trailing, n - end);
	}
	tdc_buf_free(&b);
}

static void test_truncations(void **state)
{
	check_truncations(SPR);
	check_truncations(V5);
}

static int parse_patched(const char *rel, size_t off, const void *val, size_t n)
{
	struct tdc_buf b;
	struct tdx_quote q;
	int r;

	tdc_test_read(rel, &b);
	memcpy(b.data + off, val, n);
	r = tdx_quote_parse(b.data, b.len, true, &q);
	tdc_buf_free(&b);
	return r;
}

static void test_header_fields(void **state)
{
	uint8_t v;

	v = 3;
	assert_int_equal(parse_patched(SPR, 0, &v, 1), TDC_ERR_VERSION);
	assert_non_null(strstr(tdc_errdetail(), "unsupported quote version 3"));
	v = 6;
	assert_int_equal(parse_patched(V5, 0, &v, 1), TDC_ERR_VERSION);
	v = 3;
	assert_int_equal(parse_patched(SPR, 2, &v, 1), TDC_ERR_UNSUPPORTED);
	v = 0;
	assert_int_equal(parse_patched(SPR, 4, &v, 1), TDC_ERR_UNSUPPORTED);
	/* v5 body type 1 (SGX) and body type/size disagreement. */
	v = 1;
	assert_int_equal(parse_patched(V5, 48, &v, 1), TDC_ERR_UNSUPPORTED);
	v = 2;
	assert_int_equal(parse_patched(V5, 48, &v, 1), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "body size 648"));
	/* Cert data type must be 6 wrapping 5. */
	v = 5;
	assert_int_equal(parse_patched(SPR, 764, &v, 1), TDC_ERR_FORMAT);
	v = 6;
	assert_int_equal(parse_patched(SPR, 1252, &v, 1), TDC_ERR_FORMAT);
}

static void test_length_fields(void **state)
{
	uint8_t buf[4];
	uint8_t v;

	/* SOURCES.md: byte 0x278 = 0x10 -> certification data size mismatch. */
	v = 0x10;
	assert_int_equal(parse_patched(SPR, 0x278, &v, 1), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "certification data size mismatch"));
	/* Overflowing length fields: signature data, cert data, auth, chain. */
	put32(buf, 0xffffffff);
	assert_int_equal(parse_patched(SPR, 632, buf, 4), TDC_ERR_TRUNCATED);
	assert_int_equal(parse_patched(SPR, 766, buf, 4), TDC_ERR_FORMAT);
	assert_int_equal(parse_patched(SPR, 1254, buf, 4), TDC_ERR_FORMAT);
	assert_int_equal(parse_patched(V5, 50, buf, 4), TDC_ERR_FORMAT);
	assert_int_equal(parse_patched(V5, 702, buf, 4), TDC_ERR_TRUNCATED);
	buf[0] = buf[1] = 0xff;
	assert_int_equal(parse_patched(SPR, 1218, buf, 2), TDC_ERR_TRUNCATED);
	/* Too-small signature data length. */
	put32(buf, 10);
	assert_int_equal(parse_patched(SPR, 632, buf, 4), TDC_ERR_TRUNCATED);
	/* Nested chain size one short of the remaining bytes. */
	put32(buf, 3676);
	assert_int_equal(parse_patched(SPR, 1254, buf, 4), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "certification data size mismatch"));
}

static void test_size_cap(void **state)
{
	struct tdx_quote q;
	uint8_t *big = calloc(1, TDX_QUOTE_MAX + 1);

	assert_non_null(big);
	assert_int_equal(tdx_quote_parse(big, TDX_QUOTE_MAX + 1, true, &q),
			 TDC_ERR_TOO_LARGE);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spr_golden),
		cmocka_unit_test(test_v5_golden),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_length_fields),
		cmocka_unit_test(test_size_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
