// SPDX-License-Identifier: Apache-2.0
/*
 * JSON written directly, byte for byte as jansson dumps it (jsonw.h).
 */
#include <stdio.h>
#include <string.h>

#include "jsonw.h"
#include "tdcpuid/error.h"
#include "tdcpuid/text.h"

void tdc_jw_init(struct tdc_jw *w, struct tdc_buf *out, bool compact)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->compact = compact;
}

/*
 * jansson's json_string() test (utf8_check_string) is strict RFC 3629, as
 * the project's own reader is: no overlong forms, surrogates or code
 * points beyond U+10FFFF.
 */
bool tdc_jw_utf8_ok(const char *s)
{
	return s && tdc_text_utf8_valid(s, strlen(s));
}

static void put(struct tdc_jw *w, const char *s, size_t n)
{
	if (!w->err)
		w->err = tdc_buf_put(w->out, s, n);
}

static void indent(struct tdc_jw *w, unsigned depth)
{
	static const char spaces[] = "                ";

	put(w, "\n", 1);
	put(w, spaces, depth < sizeof(spaces) - 1 ? depth : sizeof(spaces) - 1);
}

/* Quoted and escaped as jansson's dump_string; @s is valid UTF-8. */
static void quoted(struct tdc_jw *w, const char *s)
{
	const char *run = s;
	char seq[8];

	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			snprintf(seq, sizeof(seq), "\\u%04X", c);
			esc = seq;
		}
		put(w, esc, strlen(esc));
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

/* Separator, newline and indent before a value; then "key": inside objects. */
static void member(struct tdc_jw *w, const char *key)
{
	if (w->depth) {
		if (w->nonempty[w->depth])
			put(w, ",", 1);
		if (!w->compact)
			indent(w, w->depth);
		w->nonempty[w->depth] = true;
	}
	if (key) {
		quoted(w, key);
		put(w, w->compact ? ":" : ": ", w->compact ? 1 : 2);
	}
}

void tdc_jw_open(struct tdc_jw *w, const char *key, char brace)
{
	if (w->depth >= TDC_JW_DEPTH) {
		w->err = w->err ? w->err : tdc_err(TDC_ERR_RANGE, "JSON writer: nested too deep");
		return;
	}
	member(w, key);
	put(w, &brace, 1);
	w->nonempty[++w->depth] = false;
}

void tdc_jw_close(struct tdc_jw *w, char brace)
{
	if (!w->depth)
		return;
	if (w->nonempty[w->depth] && !w->compact)
		indent(w, w->depth - 1);
	w->depth--;
	put(w, &brace, 1);
}

bool tdc_jw_str(struct tdc_jw *w, const char *key, const char *s)
{
	if (!tdc_jw_utf8_ok(s))
		return false;
	member(w, key);
	quoted(w, s);
	return true;
}

void tdc_jw_int(struct tdc_jw *w, const char *key, long long v)
{
	char n[24];
	int len = snprintf(n, sizeof(n), "%lld", v);

	member(w, key);
	put(w, n, (size_t)len);
}

void tdc_jw_bool(struct tdc_jw *w, const char *key, bool v)
{
	member(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void tdc_jw_null(struct tdc_jw *w, const char *key)
{
	member(w, key);
	put(w, "null", 4);
}

int tdc_jw_end(struct tdc_jw *w)
{
	return w->err;
}
