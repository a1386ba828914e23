// SPDX-License-Identifier: Apache-2.0
/*
 * The two CBOR head codecs (libcbor for the normal build, the native one
 * for the static agent) must agree: same status, same length, same item on
 * every head form and every truncation, and encode byte-identical heads.
 */
#include <stdlib.h>

#include "../lib/cbor_strict.h"
#include "testutil.h"

static void assert_same(const uint8_t *p, size_t n)
{
	struct tdc_cbor_head a, b;
	size_t ra = 0, rb = 0;
	int sa = tdc_cbor_head_decode(p, n, &a, &ra);
	int sb = tdc_cbor_head_decode_native(p, n, &b, &rb);

	/* libcbor reports unassigned simple values as errors, like we do. */
	assert_int_equal(sa, sb);
	if (sa != TDC_CBOR_HEAD_OK)
		return;
	assert_int_equal(ra, rb);
	assert_int_equal(a.it.major, b.it.major);
	assert_int_equal(a.indefinite, b.indefinite);
	if (!a.indefinite)
		assert_true(a.it.val == b.it.val); /* booleans carry 0/1 */
	if (a.it.major == TDC_CBOR_BYTES || a.it.major == TDC_CBOR_TEXT)
		assert_ptr_equal(a.indefinite ? NULL : a.it.data, b.indefinite ? NULL : b.it.data);
	if (a.it.major == TDC_CBOR_SIMPLE)
		assert_string_equal(a.it.simple, b.it.simple);
}

/* Every initial byte, with enough (and too few) following bytes. */
static void test_every_initial_byte(void **state)
{
	uint8_t buf[64];

	for (unsigned ib = 0; ib < 256; ib++) {
		for (size_t i = 1; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(i * 7);
		buf[0] = (uint8_t)ib;
		/* Short length arguments so strings fit in the buffer. */
		buf[1] = 3;
		for (size_t n = 0; n <= sizeof(buf); n++)
			assert_same(buf, n);
	}
}

static void test_encode_identical(void **state)
{
	static const uint64_t values[] = { 0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffffu,
					   0x100000000ull, UINT64_MAX };
	static const enum tdc_cbor_major majors[] = { TDC_CBOR_UINT, TDC_CBOR_BYTES, TDC_CBOR_TEXT,
						      TDC_CBOR_ARRAY, TDC_CBOR_MAP, TDC_CBOR_TAG };
	uint8_t a[9], b[9];

	for (size_t m = 0; m < sizeof(majors) / sizeof(majors[0]); m++) {
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			size_t na = tdc_cbor_head_encode(majors[m], values[i], a);
			size_t nb = tdc_cbor_head_encode_native(majors[m], values[i], b);

			assert_int_equal(na, nb);
			assert_memory_equal(a, b, na);
			assert_same(a, na);
		}
	}
}

static void test_random(void **state)
{
	uint8_t buf[32];
	unsigned seed = 12345;

	for (int round = 0; round < 200000; round++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rand_r(&seed);
		assert_same(buf, (size_t)(rand_r(&seed) % (sizeof(buf) + 1)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_initial_byte),
		cmocka_unit_test(test_encode_identical),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
