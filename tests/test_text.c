// SPDX-License-Identifier: Apache-2.0
/* Untrusted text made valid UTF-8 and inert (lib/text.c). */
#include "testutil.h"
#include "tdcpuid/text.h"

static void test_sanitize(void **state)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *out;
	} cases[] = {
		{ "web-1", TDC_TEXT_ESCAPE_CTL, "web-1" },
		{ "caf\xc3\xa9", TDC_TEXT_ESCAPE_CTL, "caf\xc3\xa9" },           /* UTF-8 kept */
		{ "a\nb", TDC_TEXT_ESCAPE_CTL, "a\\x0Ab" },
		{ "a\nb", 0, "a\nb" },                                            /* valid: kept */
		{ "\x1b[2J", TDC_TEXT_ESCAPE_CTL, "\\x1B[2J" },
		{ "x\xc3", 0, "x\\xC3" },                                         /* cut character */
		{ "\xff\xfe", 0, "\\xFF\\xFE" },
		{ "\xed\xa0\x80", 0, "\\xED\\xA0\\x80" },                         /* a surrogate */
		{ "\xc0\xaf", 0, "\\xC0\\xAF" },                                  /* overlong '/' */
		{ "a\xc2\x9b" "b", TDC_TEXT_ESCAPE_CTL, "a\\u{009B}b" },          /* C1 CSI */
		{ "x\xe2\x80\xaey", TDC_TEXT_ESCAPE_CTL, "x\\u{202E}y" },         /* RLO */
		{ "a\\x41", TDC_TEXT_ESCAPE_CTL, "a\\\\x41" },                    /* no fake escapes */
		{ "a\x7f", TDC_TEXT_ESCAPE_CTL, "a\\x7F" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tdc_text_clean(cases[i].in, out, sizeof(out), cases[i].flags);
		assert_string_equal(out, cases[i].out);
		assert_true(tdc_text_utf8_valid(out, strlen(out)));
	}
}

/* Truncation never cuts a character or an escape in half. */
static void test_truncate(void **state)
{
	char out[6];

	assert_int_equal(tdc_text_clean("ab\xc3\xa9\xc3\xa9", out, sizeof(out), 0), 4);
	assert_string_equal(out, "ab\xc3\xa9");
	assert_int_equal(tdc_text_clean("ab\ncd", out, sizeof(out), TDC_TEXT_ESCAPE_CTL), 2);
	assert_string_equal(out, "ab");
	/* A NUL byte inside counted input is shown, never a terminator. */
	assert_int_equal(tdc_text_sanitize("a\0b", 3, out, sizeof(out), 0), 5);
	assert_string_equal(out, "a\\x00");
}

static void test_prefix(void **state)
{
	assert_int_equal(tdc_text_utf8_prefix("ab\xc3\xa9", 3), 2);
	assert_int_equal(tdc_text_utf8_prefix("ab\xc3\xa9", 4), 4);
	assert_int_equal(tdc_text_utf8_prefix("ab", 100), 2);   /* stops at the NUL */
	assert_int_equal(tdc_text_utf8_prefix("a\xff" "b", 3), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
