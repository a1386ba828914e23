/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded, strict JSON reader for the collateral's signed documents (TCB
 * info, QE identity): RFC 8259 as jansson's json_loadb(JSON_REJECT_DUPLICATES)
 * reads it (an object or array at the top, valid UTF-8, no control
 * characters in strings, the nine escapes with paired surrogates and no
 * \u0000, numbers as the grammar spells them with integers in 64 bits and
 * reals below overflow, no duplicate members, nothing after the value),
 * with caps on the text's size, the depth, the members of an object and the
 * elements of an array, a string's length and the number of values.  One
 * difference, stricter: a NUL byte is refused wherever it is (jansson drops
 * one that ends a number or a literal: "[1\0]" reads there as [1]).
 *
 * The result is a flat array of tokens in document order (no allocation per
 * value): a container's children follow it, and each token knows where its
 * subtree ends.  Strings are decoded in place in the reader's copy of the
 * text and NUL-terminated there; every token also keeps its span in the
 * input, so the exact bytes of a member (what Intel signed) are at hand.
 *
 * fuzz/fuzz_json_reader.c checks on arbitrary input that the reader accepts
 * exactly what jansson accepts (within the caps, which fail with
 * TDC_ERR_TOO_LARGE) and that every value read agrees with jansson's.
 */
#ifndef TDC_JREAD_H
#define TDC_JREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tdc_jr_limits {
	size_t max_len;             /* bytes of text */
	unsigned max_depth;         /* nesting of containers, the top one is 1 */
	unsigned max_members;       /* members of one object */
	unsigned max_elements;      /* elements of one array */
	unsigned max_string;        /* bytes of one string as written */
	unsigned max_tokens;        /* values (and keys) in the document */
};

/* Intel's collateral: a few KB, depth 7, objects of a dozen members. */
extern const struct tdc_jr_limits tdc_jr_collateral_limits;

enum tdc_jr_type {
	TDC_JR_OBJECT = 1, TDC_JR_ARRAY, TDC_JR_STRING, TDC_JR_INTEGER, TDC_JR_REAL,
	TDC_JR_TRUE, TDC_JR_FALSE, TDC_JR_NULL,
};

struct tdc_jr_tok {
	uint32_t start, end;        /* the value's bytes in the input (a string's quotes too) */
	uint32_t size;              /* members, elements, or a string's decoded length */
	uint32_t next;              /* the token after this value and its subtree */
	uint8_t type;               /* enum tdc_jr_type */
	uint8_t escaped;            /* a string spelled with escapes */
};

struct tdc_jr {
	char *text;                 /* the input copied; strings decoded in place */
	size_t len;
	struct tdc_jr_tok *tok;     /* tok[0] is the top-level value */
	uint32_t n_tok, cap;
};

/*
 * Read @len bytes of @data.  Errors: TDC_ERR_TOO_LARGE for a cap, else
 * TDC_ERR_FORMAT ("<what>: <reason> at line L column C"; a duplicate member
 * says "duplicate object key").  On error @j holds nothing to free.
 */
int tdc_jr_parse(struct tdc_jr *j, const void *data, size_t len,
		 const struct tdc_jr_limits *lim, const char *what);
void tdc_jr_free(struct tdc_jr *j);
/* The text, for whoever keeps the decoded strings; @j no longer frees it. */
char *tdc_jr_take_text(struct tdc_jr *j);

static inline int tdc_jr_type(const struct tdc_jr *j, int i)
{
	return i < 0 ? 0 : j->tok[i].type;
}

/* The value of member @key (decoded) of object @obj; -1 if none or @obj is
 * not an object. */
int tdc_jr_get(const struct tdc_jr *j, int obj, const char *key);
/* The key token of the member whose value is @val (@val from tdc_jr_get). */
static inline int tdc_jr_key_of(int val)
{
	return val - 1;
}
/* Element @idx of array @arr, walking from the first; -1 if out of range. */
int tdc_jr_elem(const struct tdc_jr *j, int arr, uint32_t idx);
/* The first element of a non-empty array, or the first key of an object;
 * the sibling after a value. */
static inline int tdc_jr_first(int container)
{
	return container + 1;
}
static inline int tdc_jr_next(const struct tdc_jr *j, int i)
{
	return (int)j->tok[i].next;
}

/* A string token's decoded text (NUL-terminated; it holds no NUL). */
static inline const char *tdc_jr_str(const struct tdc_jr *j, int i)
{
	return j->text + j->tok[i].start + 1;
}
/* An integer token's value (its range was checked when read). */
int64_t tdc_jr_int(const struct tdc_jr *j, int i);

#endif
