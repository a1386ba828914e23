// SPDX-License-Identifier: Apache-2.0
/* The bounds-checked reader: every short read fails without moving. */
#include "testutil.h"
#include "tdcpuid/error.h"

static void test_reader_bounds(void **state)
{
	const uint8_t data[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct tdc_reader r, sub;
	uint32_t v32;
	uint64_t v64;
	uint16_t v16;

	tdc_reader_init(&r, data, sizeof(data), "t");
	assert_int_equal(tdc_get_u32le(&r, &v32), 0);
	assert_int_equal(v32, 0x04030201);
	assert_int_equal(tdc_get_u64le(&r, &v64), TDC_ERR_TRUNCATED);
	assert_int_equal(tdc_reader_remaining(&r), 3);
	assert_int_equal(tdc_get_sub(&r, 2, &sub, "sub"), 0);
	assert_int_equal(tdc_reader_offset(&sub), 4);
	assert_int_equal(tdc_get_u16be(&sub, &v16), 0);
	assert_int_equal(v16, 0x0506);
	assert_int_equal(tdc_get_u8(&sub, &(uint8_t){ 0 }), TDC_ERR_TRUNCATED);
	assert_int_equal(tdc_reader_expect_end(&r), TDC_ERR_TRAILING);
	assert_non_null(strstr(tdc_errdetail(), "offset 6"));
	assert_int_equal(tdc_skip(&r, 1), 0);
	assert_int_equal(tdc_reader_expect_end(&r), 0);
	assert_int_equal(tdc_skip(&r, SIZE_MAX), TDC_ERR_TRUNCATED);
}

static void test_hex(void **state)
{
	uint8_t out[4];
	size_t n;
	char s[9];

	assert_int_equal(tdc_hex_decode("0xA0b1", out, sizeof(out), &n), 0);
	assert_int_equal(n, 2);
	tdc_hex_encode(out, n, s);
	assert_string_equal(s, "a0b1");
	assert_int_equal(tdc_hex_decode("abc", out, sizeof(out), &n), TDC_ERR_FORMAT);
	assert_int_equal(tdc_hex_decode("zz", out, sizeof(out), &n), TDC_ERR_FORMAT);
	assert_int_equal(tdc_hex_decode("0011223344", out, sizeof(out), &n),
			 TDC_ERR_TOO_LARGE);
}

static void test_buf_cap(void **state)
{
	struct tdc_buf b;

	tdc_buf_init(&b);
	assert_int_equal(tdc_buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(tdc_buf_cstr(&b), "42-x");
	assert_int_equal(tdc_buf_reserve(&b, SIZE_MAX), TDC_ERR_TOO_LARGE);
	tdc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_bounds),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_buf_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
