// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the collateral's JSON reader (verifier/quote/jread.c),
 * differential against jansson, which read the collateral before it:
 *  - the reader accepts exactly what json_loadb(JSON_REJECT_DUPLICATES)
 *    accepts, unless one of its caps refuses the text (TDC_ERR_TOO_LARGE);
 *    one difference, on purpose: a NUL byte is refused wherever it is,
 *    while jansson drops one that ends a number or a literal ("[1\0]" reads
 *    as [1]: its lexer puts the byte back and then reads past it), so text
 *    with a NUL byte must be refused and is not compared;
 *  - on text both accept, every value agrees (type, members found by key,
 *    elements in order, decoded strings byte for byte, integers, reals,
 *    sizes) and every token's span is that value's own text (re-read by
 *    jansson, it is the same value);
 *  - the caps are checked once more with tiny limits, where a refusal must
 *    be TDC_ERR_TOO_LARGE or a text jansson refuses too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jread.h"
#include "tdcpuid/error.h"

static void fail(const char *why, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_json_reader: %s (%zu bytes): %s\n", why, size, tdc_errdetail());
	__builtin_trap();
}

/* The text of token @i alone, read by jansson, is the value @v. */
static void span_agrees(const struct tdc_jr *j, int i, const uint8_t *data, json_t *v)
{
	const struct tdc_jr_tok *t = &j->tok[i];
	json_t *again = json_loadb((const char *)data + t->start, t->end - t->start,
				   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);

	if (!again || !json_equal(again, v))
		fail("a token's span is not its value", data, t->end - t->start);
	json_decref(again);
}

static int agrees(const struct tdc_jr *j, int i, json_t *v, const uint8_t *data,
		  unsigned depth)
{
	const struct tdc_jr_tok *t = &j->tok[i];
	const char *key;
	json_t *m;
	int e;

	if (depth <= 2)
		span_agrees(j, i, data, v);
	switch (t->type) {
	case TDC_JR_OBJECT:
		if (!json_is_object(v) || json_object_size(v) != t->size)
			return 0;
		/* Each of jansson's members is found by its key, with its value. */
		json_object_foreach(v, key, m) {
			if ((e = tdc_jr_get(j, i, key)) < 0 ||
			    strcmp(tdc_jr_str(j, tdc_jr_key_of(e)), key) != 0 ||
			    !agrees(j, e, m, data, depth + 1))
				return 0;
		}
		/* And walking the tokens visits as many members, in order. */
		e = tdc_jr_first(i);
		for (uint32_t k = 0; k < t->size; k++, e = tdc_jr_next(j, e + 1))
			if (!json_object_get(v, tdc_jr_str(j, e)))
				return 0;
		return (uint32_t)e == t->next;
	case TDC_JR_ARRAY:
		if (!json_is_array(v) || json_array_size(v) != t->size)
			return 0;
		e = tdc_jr_first(i);
		for (uint32_t k = 0; k < t->size; k++, e = tdc_jr_next(j, e)) {
			if (tdc_jr_elem(j, i, k) != e ||
			    !agrees(j, e, json_array_get(v, k), data, depth + 1))
				return 0;
		}
		return tdc_jr_elem(j, i, t->size) == -1 && (uint32_t)e == t->next;
	case TDC_JR_STRING:
		return json_is_string(v) && json_string_length(v) == t->size &&
		       memcmp(json_string_value(v), tdc_jr_str(j, i), t->size) == 0 &&
		       tdc_jr_str(j, i)[t->size] == '\0' && t->next == (uint32_t)i + 1;
	case TDC_JR_INTEGER:
		return json_is_integer(v) && json_integer_value(v) == tdc_jr_int(j, i);
	case TDC_JR_REAL:
		return json_is_real(v);
	case TDC_JR_TRUE:
		return json_is_true(v);
	case TDC_JR_FALSE:
		return json_is_false(v);
	case TDC_JR_NULL:
		return json_is_null(v);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tdc_jr_limits tiny = {
		.max_len = 256, .max_depth = 3, .max_members = 3, .max_elements = 3,
		.max_string = 8, .max_tokens = 16,
	};
	struct tdc_jr j;
	json_error_t err;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	int ret = tdc_jr_parse(&j, data, size, &tdc_jr_collateral_limits, "fuzz");

	if (memchr(data, 0, size)) {
		if (ret == 0)
			fail("a NUL byte accepted", data, size);
		json_decref(doc);
		doc = NULL; /* not compared: see above */
	}

	if (ret == 0) {
		if (!doc)
			fail(err.text, data, size);
		if (!agrees(&j, 0, doc, data, 0) || j.tok[0].next != j.n_tok)
			fail("a value differs from jansson's", data, size);
		tdc_jr_free(&j);
	} else if (ret != TDC_ERR_TOO_LARGE && doc) {
		fail("refused, jansson accepts", data, size);
	}
	ret = tdc_jr_parse(&j, data, size, &tiny, "fuzz");
	if (ret == 0)
		tdc_jr_free(&j);
	if ((ret == 0 && !doc) || (ret != 0 && ret != TDC_ERR_TOO_LARGE && doc))
		fail("tiny limits: refused other than by a cap", data, size);
	json_decref(doc);
	return 0;
}
