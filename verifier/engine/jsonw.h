/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A JSON writer straight into a buffer, for documents written per verdict
 * (`check --format json`, the EAR): the bytes are those jansson's
 * json_dumps gives for the same objects built in the same order with
 * JSON_PRESERVE_ORDER and either JSON_INDENT(1) or JSON_COMPACT, without
 * building them first.
 *
 * jansson's own rules are kept where they decide what is written: a string
 * that is not valid UTF-8 makes json_string() fail, so such a member is
 * left out (tdc_jw_str returns false, the caller decides as jansson's
 * caller did); characters below 0x20, '"' and '\' are escaped as jansson
 * escapes them (\b \f \n \r \t, else \u00XX), everything else is copied.
 * tests/test_ear.c and tests/test_verdict_json.c compare both over many
 * verdicts (the jansson builders of tests/verdict_oracle.c).
 */
#ifndef TDC_JSONW_H
#define TDC_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_JW_DEPTH 16

struct tdc_jw {
	struct tdc_buf *out;
	bool compact;
	unsigned depth;                 /* containers open */
	bool nonempty[TDC_JW_DEPTH + 1];
	int err;                        /* first failure; later calls do nothing */
};

void tdc_jw_init(struct tdc_jw *w, struct tdc_buf *out, bool compact);
/* jansson's test for json_string(): valid UTF-8 (no overlong forms, surrogates, > U+10FFFF). */
bool tdc_jw_utf8_ok(const char *s);
/* @key: the member's name inside an object, NULL inside an array or at the top. */
void tdc_jw_open(struct tdc_jw *w, const char *key, char brace);
void tdc_jw_close(struct tdc_jw *w, char brace);
/* false (and nothing written) when @s is NULL or not valid UTF-8 */
bool tdc_jw_str(struct tdc_jw *w, const char *key, const char *s);
void tdc_jw_int(struct tdc_jw *w, const char *key, long long v);
void tdc_jw_bool(struct tdc_jw *w, const char *key, bool v);
void tdc_jw_null(struct tdc_jw *w, const char *key);
/* Done: the writer's first error, or 0. */
int tdc_jw_end(struct tdc_jw *w);

#endif
