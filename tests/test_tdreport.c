// SPDX-License-Identifier: Apache-2.0
/*
 * TDREPORT_STRUCT parser: a golden vector built from the layout table in
 * the Intel TDX Module ABI spec, TDREPORT_STRUCT (offsets typed in, not
 * taken from tdx.h, so a wrong constant in the header fails here), the
 * genuine Intel report, the shifted go-tdx-guest report, truncations.
 */
#include <openssl/evp.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

/* Fill [off, off+n) with a pattern unique to the field: tag, tag+1, ... */
static void fill(uint8_t *rep, size_t off, size_t n, uint8_t tag)
{
	for (size_t i = 0; i < n; i++)
		rep[off + i] = (uint8_t)(tag + i);
}

static void check(const uint8_t *got, size_t n, uint8_t tag)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], (uint8_t)(tag + i));
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void build_golden(uint8_t rep[1024])
{
	memset(rep, 0, 1024);
	rep[0] = 0x81;
	rep[1] = 0;
	rep[2] = 1;
	fill(rep, 16, 16, 0x10);   /* cpu_svn */
	fill(rep, 32, 48, 0x20);   /* tee_tcb_info_hash */
	fill(rep, 80, 48, 0x30);   /* tee_info_hash */
	fill(rep, 128, 64, 0x40);  /* report_data */
	fill(rep, 224, 32, 0x50);  /* mac */
	fill(rep, 256, 8, 0x60);   /* valid */
	fill(rep, 264, 16, 0x68);  /* tee_tcb_svn */
	fill(rep, 280, 48, 0x70);  /* mr_seam */
	fill(rep, 328, 48, 0x80);  /* mr_signer_seam */
	/* 376: SEAM attributes left 0 (MBZ on TDX 1.0) */
	fill(rep, 384, 16, 0x90);  /* tee_tcb_svn2 */
	fill(rep, 512, 8, 0xa0);   /* attributes */
	fill(rep, 520, 8, 0xa8);   /* xfam */
	fill(rep, 528, 48, 0xb0);  /* mr_td */
	fill(rep, 576, 48, 0xc0);  /* mr_config_id */
	fill(rep, 624, 48, 0xd0);  /* mr_owner */
	fill(rep, 672, 48, 0xe0);  /* mr_owner_config */
	fill(rep, 720, 48, 0x01);  /* rtmr0 */
	fill(rep, 768, 48, 0x31);  /* rtmr1 */
	fill(rep, 816, 48, 0x61);  /* rtmr2 */
	fill(rep, 864, 48, 0x91);  /* rtmr3 */
	fill(rep, 912, 48, 0xf0);  /* servtd_hash */
}

static void test_golden_offsets(void **state)
{
	uint8_t rep[1024];
	struct tdx_report r;

	build_golden(rep);
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	assert_int_equal(r.report_type, 0x81);
	assert_int_equal(r.report_subtype, 0);
	assert_int_equal(r.report_version, 1);
	check(r.cpu_svn, 16, 0x10);
	check(r.tee_tcb_info_hash, 48, 0x20);
	check(r.tee_info_hash, 48, 0x30);
	check(r.report_data, 64, 0x40);
	check(r.mac, 32, 0x50);
	assert_int_equal(r.tcb.valid, le64_at(rep + 256));
	check(r.tcb.tee_tcb_svn, 16, 0x68);
	check(r.tcb.mr_seam, 48, 0x70);
	check(r.tcb.mr_signer_seam, 48, 0x80);
	assert_int_equal(r.tcb.attributes, 0);
	check(r.tcb.tee_tcb_svn2, 16, 0x90);
	assert_int_equal(r.td.attributes, le64_at(rep + 512));
	assert_int_equal(r.td.xfam, le64_at(rep + 520));
	check(r.td.mr_td, 48, 0xb0);
	check(r.td.mr_config_id, 48, 0xc0);
	check(r.td.mr_owner, 48, 0xd0);
	check(r.td.mr_owner_config, 48, 0xe0);
	check(r.td.rtmr[0], 48, 0x01);
	check(r.td.rtmr[1], 48, 0x31);
	check(r.td.rtmr[2], 48, 0x61);
	check(r.td.rtmr[3], 48, 0x91);
	check(r.td.servtd_hash, 48, 0xf0);
	assert_int_equal(r.warnings, 0);
	assert_ptr_equal(r.raw, rep);
	/* Patterns are not hashes: the links must fail, naming the field. */
	assert_int_equal(tdx_report_check_hashes(&r), TDC_ERR_BINDING);
	assert_non_null(strstr(tdc_errdetail(), "TEE_TCB_INFO_HASH"));

	/* The header's offset constants agree with the reference table. */
	assert_int_equal(TDX_OFF_REPORTDATA, 128);
	assert_int_equal(TDX_OFF_MAC, 224);
	assert_int_equal(TDX_OFF_TEE_TCB_INFO, 256);
	assert_int_equal(TDX_OFF_MRSEAM, 280);
	assert_int_equal(TDX_OFF_SEAM_ATTRIBUTES, 376);
	assert_int_equal(TDX_OFF_TDINFO, 512);
	assert_int_equal(TDX_OFF_XFAM, 520);
	assert_int_equal(TDX_OFF_MRTD, 528);
	assert_int_equal(TDX_OFF_RTMR0, 720);
	assert_int_equal(TDX_OFF_SERVTD_HASH, 912);
}

static void sha384(const uint8_t *p, size_t n, uint8_t *md)
{
	unsigned int l;

	assert_int_equal(EVP_Digest(p, n, md, &l, EVP_sha384(), NULL), 1);
}

static void test_golden_hash_links(void **state)
{
	uint8_t rep[1024];
	struct tdx_report r;

	build_golden(rep);
	sha384(rep + 256, 239, rep + 32);
	sha384(rep + 512, 512, rep + 80);
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	assert_int_equal(tdx_report_check_hashes(&r), 0);
	/* The 17 pad bytes after TEE_TCB_INFO are outside the hash. */
	rep[500] = 1;
	assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
	assert_int_equal(tdx_report_check_hashes(&r), 0);
	assert_true(r.warnings & TDX_REPORT_WARN_TCB_RESERVED);
	rep[500] = 0;
	/* Any byte of either hashed region breaks its link. */
	for (size_t off = 256; off < 1024; off++) {
		if (off >= 495 && off < 512)
			continue;
		rep[off] ^= 0x01;
		assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
		assert_int_equal(tdx_report_check_hashes(&r), TDC_ERR_BINDING);
		assert_non_null(strstr(tdc_errdetail(), off < 512 ? "TEE_TCB_INFO" : "TDINFO"));
		rep[off] ^= 0x01;
	}
}

static void test_reserved_flags(void **state)
{
	static const struct { size_t off; uint32_t warn; } cases[] = {
		{ 1, TDX_REPORT_WARN_SUBTYPE },
		{ 3, TDX_REPORT_WARN_MAC_RESERVED },
		{ 15, TDX_REPORT_WARN_MAC_RESERVED },
		{ 192, TDX_REPORT_WARN_MAC_RESERVED },
		{ 223, TDX_REPORT_WARN_MAC_RESERVED },
		{ 376, TDX_REPORT_WARN_SEAM_ATTR },
		{ 400, TDX_REPORT_WARN_TCB_RESERVED },
		{ 511, TDX_REPORT_WARN_TCB_RESERVED },
		{ 960, TDX_REPORT_WARN_TD_RESERVED },
		{ 1023, TDX_REPORT_WARN_TD_RESERVED },
	};
	uint8_t rep[1024];
	struct tdx_report r;
	char s[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_golden(rep);
		rep[cases[i].off] = 0x5a;
		/* Flagged, never rejected: the reference does not say MBZ. */
		assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), 0);
		assert_int_equal(r.warnings, cases[i].warn);
	}
	assert_string_equal(tdx_report_warnings_str(TDX_REPORT_WARN_SUBTYPE |
						    TDX_REPORT_WARN_TD_RESERVED, s, sizeof(s)),
			    "subtype|tdinfo-reserved");
}

static void test_genuine_report(void **state)
{
	struct tdc_buf b;
	struct tdx_report r;
	char s[256];

	tdc_test_read("tdx/tdreport_for_test.dat", &b);
	assert_int_equal(b.len, 1024);
	assert_int_equal(tdx_report_parse(b.data, b.len, &r), 0);
	assert_int_equal(tdx_report_check_hashes(&r), 0);
	assert_int_equal(r.warnings, 0);
	/* Values read with `xxd` from the file itself (tests/data/tdx). */
	assert_int_equal(r.td.attributes, 0x50000000);
	assert_int_equal(r.td.xfam, 0x602e7);
	assert_int_equal(r.tcb.valid, 0x1ff);
	assert_string_equal(tdx_attributes_str(r.td.attributes, s, sizeof(s)),
			    "SEPT_VE_DISABLE|PKS");
	assert_string_equal(tdx_xfam_str(r.td.xfam, s, sizeof(s)),
			    "FP|SSE|YMM|OPMASK|ZMM_Hi256|Hi16_ZMM|PKRU|XTILE_CFG|XTILE_DATA");
	tdc_buf_free(&b);
}

static void test_shifted_report(void **state)
{
	struct tdc_buf b;
	struct tdx_report r;

	tdc_test_read("tdx/malformed_report_shifted.dat", &b);
	assert_int_equal(b.len, 1024);
	assert_int_equal(tdx_report_parse(b.data, b.len, &r), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "offset 0"));
	/* Even with the type byte patched, the hash links expose the shift. */
	b.data[0] = 0x81;
	if (tdx_report_parse(b.data, b.len, &r) == 0)
		assert_int_equal(tdx_report_check_hashes(&r), TDC_ERR_BINDING);
	tdc_buf_free(&b);
}

static void test_truncations(void **state)
{
	struct tdc_buf b;
	struct tdx_report r;
	uint8_t big[1025] = { 0 };

	tdc_test_read("tdx/tdreport_for_test.dat", &b);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(tdx_report_parse(b.data, n, &r), TDC_ERR_TRUNCATED);
	memcpy(big, b.data, b.len);
	assert_int_equal(tdx_report_parse(big, sizeof(big), &r), TDC_ERR_TRAILING);
	tdc_buf_free(&b);
}

static void test_wrong_type(void **state)
{
	static const uint8_t types[] = { 0x00, 0x80, 0x82, 0xff };
	uint8_t rep[1024];
	struct tdx_report r;

	for (size_t i = 0; i < sizeof(types); i++) {
		build_golden(rep);
		rep[0] = types[i];
		assert_int_equal(tdx_report_parse(rep, sizeof(rep), &r), TDC_ERR_FORMAT);
		assert_non_null(strstr(tdc_errdetail(), "report type"));
	}
}

static void test_names(void **state)
{
	char s[512], tiny[8];
	size_t n;
	const struct tdx_bitname *t = tdx_attribute_names(&n);

	assert_int_equal(n, 12);
	for (size_t i = 1; i < n; i++)
		assert_true(t[i].bit > t[i - 1].bit);
	assert_string_equal(tdx_attributes_str(0, s, sizeof(s)), "none");
	assert_string_equal(tdx_attributes_str(TDX_ATTR_DEBUG | (1ull << 62) | (1ull << 1) |
					       TDX_ATTR_PERFMON, s, sizeof(s)),
			    "DEBUG|bit1|TPA|PERFMON");
	assert_string_equal(tdx_xfam_str(0x2e7, s, sizeof(s)),
			    "FP|SSE|YMM|OPMASK|ZMM_Hi256|Hi16_ZMM|PKRU");
	assert_string_equal(tdx_xfam_str(1ull << 19 | 1ull << 40, s, sizeof(s)),
			    "APX|bit40");
	/* Truncates, stays NUL-terminated. */
	tdx_attributes_str(~0ull, tiny, sizeof(tiny));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	t = tdx_xfam_names(&n);
	assert_int_equal(t[n - 1].bit, 19);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_offsets),
		cmocka_unit_test(test_golden_hash_links),
		cmocka_unit_test(test_reserved_flags),
		cmocka_unit_test(test_genuine_report),
		cmocka_unit_test(test_shifted_report),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
