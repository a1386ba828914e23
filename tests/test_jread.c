// SPDX-License-Identifier: Apache-2.0
/*
 * The collateral's JSON reader (verifier/quote/jread.c): each rejection
 * names what was wrong (and jansson, which read the collateral before it,
 * rejects the same text), each cap fails as TDC_ERR_TOO_LARGE, what is
 * accepted decodes as jansson decodes it, and Intel's documents read with
 * spans that are their members' exact bytes.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jread.h"
#include "testutil.h"
#include "tdcpuid/error.h"

static const struct {
	const char *text;
	size_t len;                 /* 0: strlen */
	const char *why;            /* in the message */
} bad[] = {
	{ "", 0, "premature end of input" },
	{ "   ", 0, "premature end of input" },
	{ "\"top\"", 0, "'[' or '{' expected" },
	{ "42", 0, "'[' or '{' expected" },
	{ "\xef\xbb\xbf{}", 0, "'[' or '{' expected" },      /* a BOM */
	{ "{} x", 0, "end of file expected" },
	{ "{}{}", 0, "end of file expected" },
	{ "{\"a\":1,}", 0, "string or '}' expected" },
	{ "{a:1}", 0, "string or '}' expected" },
	{ "{'a':1}", 0, "string or '}' expected" },
	{ "{\"a\" 1}", 0, "':' expected" },
	{ "{\"a\":1 \"b\":2}", 0, "'}' expected" },
	{ "[1,]", 0, "invalid token" },
	{ "[1 2]", 0, "']' expected" },
	{ "[", 0, "premature end of input" },
	{ "{\"a\":", 0, "premature end of input" },
	{ "[\"abc", 0, "premature end of input" },
	{ "{\"a\":1,\"a\":2}", 0, "duplicate object key" },
	{ "{\"a\":1,\"\\u0061\":2}", 0, "duplicate object key" },   /* decoded */
	{ "[\"a\x01\"]", 0, "control character" },
	{ "[\"a\nb\"]", 0, "unexpected newline" },
	{ "[\"a\0b\"]", 6, "control character" },
	{ "[1]\0", 4, "end of file expected" },
	{ "[\"\\x\"]", 0, "invalid escape" },
	{ "[\"\\u12G4\"]", 0, "invalid escape" },
	{ "[\"\\u123\"]", 0, "invalid escape" },
	{ "[\"\\u0000\"]", 0, "\\u0000 is not allowed" },
	{ "{\"\\u0000\":1}", 0, "\\u0000 is not allowed" },
	{ "[\"\\udc00\"]", 0, "lone low surrogate" },
	{ "[\"\\ud800\"]", 0, "high surrogate not followed" },
	{ "[\"\\ud800\\u0041\"]", 0, "high surrogate not followed" },
	{ "[\"\\ud800x\"]", 0, "high surrogate not followed" },
	{ "[\"\x80\"]", 0, "invalid UTF-8" },               /* continuation first */
	{ "[\"\xc0\xaf\"]", 0, "invalid UTF-8" },           /* overlong */
	{ "[\"\xe0\x80\xaf\"]", 0, "invalid UTF-8" },       /* overlong */
	{ "[\"\xed\xa0\x80\"]", 0, "invalid UTF-8" },       /* a surrogate */
	{ "[\"\xf4\x90\x80\x80\"]", 0, "invalid UTF-8" },   /* above U+10FFFF */
	{ "[\"\xc3\"]", 0, "invalid UTF-8" },               /* truncated */
	{ "[\xc3\xa9]", 0, "invalid token" },               /* UTF-8 outside a string */
	{ "[01]", 0, "invalid number" },
	{ "[-01]", 0, "invalid number" },
	{ "[-]", 0, "invalid number" },
	{ "[+1]", 0, "invalid token" },
	{ "[.5]", 0, "invalid token" },
	{ "[1.]", 0, "invalid number" },
	{ "[1.e5]", 0, "invalid number" },
	{ "[1e]", 0, "invalid number" },
	{ "[1e+]", 0, "invalid number" },
	{ "[0x10]", 0, "']' expected" },
	{ "[9223372036854775808]", 0, "too big integer" },
	{ "[-9223372036854775809]", 0, "too big negative integer" },
	{ "[123456789012345678901234567890]", 0, "too big integer" },
	{ "[1e309]", 0, "real number overflow" },
	{ "[-1.8e308]", 0, "real number overflow" },
	{ "[tru]", 0, "invalid token" },
	{ "[True]", 0, "invalid token" },
	{ "[nul", 0, "invalid token" },
	{ "[truex]", 0, "']' expected" },
	{ "[NaN]", 0, "invalid token" },
};

static void test_rejections(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		struct tdc_jr j;
		int ret = tdc_jr_parse(&j, bad[i].text, len, &tdc_jr_collateral_limits, "doc");

		print_message("%zu: %s\n", i, tdc_errdetail());
		assert_int_equal(ret, TDC_ERR_FORMAT);
		assert_non_null(strstr(tdc_errdetail(), bad[i].why));
		assert_true(strncmp(tdc_errdetail(), "doc: ", 5) == 0);
		assert_null(j.text);
		assert_null(j.tok);
		/* jansson refuses it too. */
		assert_null(json_loadb(bad[i].text, len, JSON_REJECT_DUPLICATES, NULL));
	}
}

/* Where the error is: line and column of the offending byte. */
static void test_error_position(void **state)
{
	struct tdc_jr j;

	assert_int_equal(tdc_jr_parse(&j, "{\n \"a\": [1,\n  2,, 3]}", 21,
				      &tdc_jr_collateral_limits, "doc"), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "invalid token at line 3 column 5"));
}

static void test_caps(void **state)
{
	static const struct tdc_jr_limits lim = {
		.max_len = 64, .max_depth = 3, .max_members = 2, .max_elements = 3,
		.max_string = 4, .max_tokens = 8,
	};
	static const struct {
		const char *text, *why;
	} over[] = {
		{ "[[[[]]]]", "nested deeper" },
		{ "{\"a\":1,\"b\":2,\"c\":3}", "more object members" },
		{ "[1,2,3,4]", "more array elements" },
		{ "[\"abcde\"]", "string longer" },
		{ "{\"abcde\":1}", "string longer" },
		{ "[[1,2,3],[4,5,6]]", "more values" },
		{ "[\"0123456789012345678901234567890123456789012345678901234567890\"]",
		  "exceeds 64" },
	};
	static const char *const within[] = {
		"[[[]]]", "{\"a\":1,\"b\":2}", "[1,2,3]", "[\"abcd\"]", "[\"\xc3\xa9\xc3\xa9\"]",
		"[1,[2],{\"a\":3}]",
	};
	struct tdc_jr j;

	for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		print_message("over %zu\n", i);
		assert_int_equal(tdc_jr_parse(&j, over[i].text, strlen(over[i].text), &lim, "doc"),
				 TDC_ERR_TOO_LARGE);
		assert_non_null(strstr(tdc_errdetail(), over[i].why));
	}
	for (size_t i = 0; i < sizeof(within) / sizeof(within[0]); i++) {
		print_message("within %zu\n", i);
		assert_int_equal(tdc_jr_parse(&j, within[i], strlen(within[i]), &lim, "doc"), 0);
		tdc_jr_free(&j);
	}
}

/* What is read: types, sizes, spans, decoded strings, integers, lookups. */
static void test_values(void **state)
{
	static const char text[] =
		" {\"s\":\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xe2\x82\xac\","
		"\"n\":[0,-0,-9223372036854775808,9223372036854775807,1.5e-400,2E+3],"
		"\"o\":{\"t\":true,\"f\":false,\"z\":null,\"e\":{},\"a\":[]},"
		"\"k\\u0065y\":1} \n";
	struct tdc_jr j;
	int s, n, o, e;

	assert_int_equal(tdc_jr_parse(&j, text, strlen(text), &tdc_jr_collateral_limits, "doc"),
			 0);
	assert_int_equal(tdc_jr_type(&j, 0), TDC_JR_OBJECT);
	assert_int_equal(j.tok[0].size, 4);
	assert_int_equal(j.tok[0].start, 1);
	assert_int_equal(j.tok[0].next, j.n_tok);
	s = tdc_jr_get(&j, 0, "s");
	assert_int_equal(tdc_jr_type(&j, s), TDC_JR_STRING);
	assert_string_equal(tdc_jr_str(&j, s),
			    "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac");
	assert_int_equal(j.tok[s].size, strlen(tdc_jr_str(&j, s)));
	assert_true(j.tok[s].escaped);
	assert_false(j.tok[tdc_jr_key_of(s)].escaped);
	n = tdc_jr_get(&j, 0, "n");
	assert_int_equal(j.tok[n].size, 6);
	assert_int_equal(tdc_jr_int(&j, tdc_jr_elem(&j, n, 0)), 0);
	assert_int_equal(tdc_jr_int(&j, tdc_jr_elem(&j, n, 1)), 0);
	assert_true(tdc_jr_int(&j, tdc_jr_elem(&j, n, 2)) == INT64_MIN);
	assert_true(tdc_jr_int(&j, tdc_jr_elem(&j, n, 3)) == INT64_MAX);
	assert_int_equal(tdc_jr_type(&j, tdc_jr_elem(&j, n, 4)), TDC_JR_REAL);
	assert_int_equal(tdc_jr_type(&j, tdc_jr_elem(&j, n, 5)), TDC_JR_REAL);
	assert_int_equal(tdc_jr_elem(&j, n, 6), -1);
	o = tdc_jr_get(&j, 0, "o");
	assert_int_equal(tdc_jr_type(&j, tdc_jr_get(&j, o, "t")), TDC_JR_TRUE);
	assert_int_equal(tdc_jr_type(&j, tdc_jr_get(&j, o, "f")), TDC_JR_FALSE);
	assert_int_equal(tdc_jr_type(&j, tdc_jr_get(&j, o, "z")), TDC_JR_NULL);
	e = tdc_jr_get(&j, o, "e");
	assert_int_equal(tdc_jr_type(&j, e), TDC_JR_OBJECT);
	assert_int_equal(j.tok[e].size, 0);
	assert_int_equal(tdc_jr_get(&j, e, "x"), -1);
	assert_int_equal(tdc_jr_get(&j, o, "missing"), -1);
	assert_int_equal(tdc_jr_get(&j, n, "s"), -1);       /* not an object */
	assert_int_equal(tdc_jr_elem(&j, o, 0), -1);        /* not an array */
	/* An escaped key is found by its decoded name, and says it was escaped. */
	e = tdc_jr_get(&j, 0, "key");
	assert_int_equal(tdc_jr_int(&j, e), 1);
	assert_true(j.tok[tdc_jr_key_of(e)].escaped);
	/* Spans are the values' own text. */
	assert_memory_equal(text + j.tok[o].start, "{\"t\":true", 9);
	assert_int_equal(text[j.tok[o].end - 1], '}');
	assert_memory_equal(text + j.tok[n].start, "[0,-0,", 6);
	tdc_jr_free(&j);
}

/* Intel's documents: the "tcbInfo" and "enclaveIdentity" members' spans are
 * the exact bytes between the key's colon and the ",\"signature\"". */
static void test_intel_documents(void **state)
{
	static const struct { const char *file, *key; } docs[] = {
		{ "tdx/collateral/sample_tcbInfo_response", "tcbInfo" },
		{ "tdx/collateral/sample_tcbinfo_response_v5", "tcbInfo" },
		{ "tdx/collateral/sample_qeIdentity_response", "enclaveIdentity" },
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct tdc_buf b;
		struct tdc_jr j;
		char open[64];
		const char *at;
		int m;

		tdc_test_read(docs[i].file, &b);
		assert_int_equal(tdc_jr_parse(&j, b.data, b.len, &tdc_jr_collateral_limits,
					      "doc"), 0);
		m = tdc_jr_get(&j, 0, docs[i].key);
		assert_int_equal(tdc_jr_type(&j, m), TDC_JR_OBJECT);
		snprintf(open, sizeof(open), "{\"%s\":", docs[i].key);
		at = strstr(tdc_buf_cstr(&b), open);
		assert_non_null(at);
		assert_int_equal(j.tok[m].start, (size_t)(at - (const char *)b.data) + strlen(open));
		assert_memory_equal(b.data + j.tok[m].end, ",\"signature\":\"", 14);
		assert_int_equal(tdc_jr_type(&j, tdc_jr_get(&j, 0, "signature")), TDC_JR_STRING);
		tdc_jr_free(&j);
		tdc_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_error_position),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_intel_documents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
