// SPDX-License-Identifier: Apache-2.0
/*
 * The bounded JSON reader of jread.h.  One pass over a copy of the text
 * (NUL-terminated, so a read of s[i] for i <= n is always in bounds and the
 * terminator is invalid wherever it is met), recursive descent bounded by
 * the depth cap, tokens appended in document order.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jread.h"
#include "tdcpuid/error.h"

const struct tdc_jr_limits tdc_jr_collateral_limits = {
	.max_len = 1u << 20,        /* TDC_COLL_FILE_MAX */
	.max_depth = 32,
	.max_members = 256,
	.max_elements = 4096,
	.max_string = 1u << 16,
	.max_tokens = 1u << 17,
};

struct rd {
	struct tdc_jr *j;
	const struct tdc_jr_limits *lim;
	char *s;
	const char *orig;           /* the input as given, for error positions */
	size_t n, i;
	const char *what;
};

static int fail_at(struct rd *r, int code, size_t at, const char *why)
{
	int line = 1, col = 1;

	for (size_t k = 0; k < at && k < r->n; k++, col++)
		if (r->orig[k] == '\n') {
			line++;
			col = 0;
		}
	return tdc_err(code, "%s: %s at line %d column %d", r->what, why, line, col);
}

static int fail(struct rd *r, const char *why)
{
	return fail_at(r, TDC_ERR_FORMAT, r->i, r->i >= r->n ? "premature end of input" : why);
}

static void ws(struct rd *r)
{
	const char *s = r->s;
	size_t i = r->i;

	while (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
		i++;
	r->i = i;
}

static int new_tok(struct rd *r, enum tdc_jr_type type, int *idx)
{
	struct tdc_jr *j = r->j;
	struct tdc_jr_tok *t;

	if (j->n_tok >= r->lim->max_tokens)
		return fail_at(r, TDC_ERR_TOO_LARGE, r->i, "more values than the reader's limit");
	if (j->n_tok == j->cap) {
		uint32_t cap = j->cap ? 2 * j->cap : 64;

		if (cap > r->lim->max_tokens)
			cap = r->lim->max_tokens;
		if (!(t = realloc(j->tok, cap * sizeof(*t))))
			return tdc_err(TDC_ERR_ALLOC, "%s: tokens", r->what);
		j->tok = t;
		j->cap = cap;
	}
	t = &j->tok[j->n_tok];
	memset(t, 0, sizeof(*t));
	t->type = (uint8_t)type;
	t->start = (uint32_t)r->i;
	*idx = (int)j->n_tok++;
	return 0;
}

static void end_tok(struct rd *r, int idx)
{
	r->j->tok[idx].end = (uint32_t)r->i;
	r->j->tok[idx].next = r->j->n_tok;
}

/* ---- strings ------------------------------------------------------------ */

static int hex4(const char *p)
{
	int v = 0;

	for (int k = 0; k < 4; k++) {
		char c = p[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Length of the UTF-8 sequence at @p (RFC 3629: no overlongs, surrogates
 * or code points above U+10FFFF), 0 if invalid.  @p[0] >= 0x80. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t k;

	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t m = 2; m < k; m++)
		if (p[m] < 0x80 || p[m] > 0xbf)
			return 0;
	return k;
}

static size_t put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xc0 | cp >> 6);
		w[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xe0 | cp >> 12);
		w[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		w[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | cp >> 18);
	w[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	w[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	w[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX (and its low surrogate) at s[i] == 'u': the code point, i moved
 * past it; -1 with r->i at the escape on error. */
static int unicode_escape(struct rd *r, size_t *i, unsigned *cp)
{
	const char *s = r->s;
	int v = hex4(s + *i + 1), lo;

	if (v < 0)
		return fail(r, "invalid escape");
	*i += 5;
	if (v >= 0xdc00 && v <= 0xdfff)
		return fail(r, "invalid Unicode: lone low surrogate");
	if (v >= 0xd800 && v <= 0xdbff) {
		if (s[*i] != '\\' || s[*i + 1] != 'u')
			return fail(r, "invalid Unicode: high surrogate not followed by a low one");
		if ((lo = hex4(s + *i + 2)) < 0)
			return fail(r, "invalid escape");
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(r, "invalid Unicode: high surrogate not followed by a low one");
		*i += 6;
		v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (v == 0)
		return fail(r, "\\u0000 is not allowed");
	*cp = (unsigned)v;
	return 0;
}

/*
 * The string at s[r->i] == '"', decoded in place: the decoded bytes start
 * just after the opening quote and are NUL-terminated (never longer than
 * what they were written as, so the terminator lands at the latest on the
 * closing quote).
 */
static int string(struct rd *r, int *idx)
{
	char *s = r->s;
	size_t i, w;
	unsigned cp = 0;
	int ret;

	if ((ret = new_tok(r, TDC_JR_STRING, idx)) != 0)
		return ret;
	/* The common case first: plain ASCII, nothing to move. */
	for (i = r->i + 1; (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x80 &&
	     s[i] != '"' && s[i] != '\\'; i++)
		;
	for (w = i;;) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			break;
		if (c < 0x20) {
			r->i = i;
			return fail(r, c == '\n' ? "unexpected newline" : "control character");
		}
		if (c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)s + i);

			if (!k) {
				r->i = i;
				return fail(r, "invalid UTF-8");
			}
			if (w != i)
				memmove(s + w, s + i, k);
			w += k;
			i += k;
			continue;
		}
		if (c != '\\') {
			s[w++] = (char)c;
			i++;
			continue;
		}
		r->j->tok[*idx].escaped = 1;
		r->i = i;
		switch (s[++i]) {
		case '"': case '\\': case '/': s[w++] = s[i++]; break;
		case 'b': s[w++] = '\b'; i++; break;
		case 'f': s[w++] = '\f'; i++; break;
		case 'n': s[w++] = '\n'; i++; break;
		case 'r': s[w++] = '\r'; i++; break;
		case 't': s[w++] = '\t'; i++; break;
		case 'u':
			if ((ret = unicode_escape(r, &i, &cp)) != 0)
				return ret;
			w += put_utf8(s + w, cp);
			break;
		default:
			return fail(r, "invalid escape");
		}
	}
	if (i - r->j->tok[*idx].start - 1 > r->lim->max_string)
		return fail_at(r, TDC_ERR_TOO_LARGE, r->j->tok[*idx].start,
			       "string longer than the reader's limit");
	r->j->tok[*idx].size = (uint32_t)(w - r->j->tok[*idx].start - 1);
	s[w] = '\0';
	r->i = i + 1;
	end_tok(r, *idx);
	return 0;
}

/* ---- numbers and literals ----------------------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* jansson rejects a real that overflows a double (not one that underflows);
 * read in the C locale whatever the program's. */
static bool real_overflows(char *p, char *end)
{
	char saved = *end;
	double v;

	pthread_once(&c_locale_once, c_locale_init);
	*end = '\0';
	errno = 0;
	v = c_locale ? strtod_l(p, NULL, c_locale) : strtod(p, NULL);
	*end = saved;
	return isinf(v) && errno == ERANGE;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, an integer in int64_t. */
static int number(struct rd *r, int *idx)
{
	const char *s = r->s;
	size_t i = r->i;
	bool neg = s[i] == '-', real = false;
	uint64_t mag = 0, lim;
	int ret;

	if ((ret = new_tok(r, TDC_JR_INTEGER, idx)) != 0)
		return ret;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	i += neg;
	if (!is_digit(s[i]) || (s[i] == '0' && is_digit(s[i + 1]))) {
		r->i = i;
		return fail(r, "invalid number");
	}
	for (; is_digit(s[i]); i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (mag > (lim - d) / 10)
			mag = lim + 1; /* stays above: too big, unless a real */
		else
			mag = mag * 10 + d;
	}
	if (s[i] == '.') {
		real = true;
		if (!is_digit(s[++i])) {
			r->i = i;
			return fail(r, "invalid number");
		}
		while (is_digit(s[i]))
			i++;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		real = true;
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (!is_digit(s[i])) {
			r->i = i;
			return fail(r, "invalid number");
		}
		while (is_digit(s[i]))
			i++;
	}
	if (real) {
		r->j->tok[*idx].type = TDC_JR_REAL;
		if (real_overflows(r->s + r->i, r->s + i))
			return fail(r, "real number overflow");
	} else if (mag > lim) {
		return fail(r, neg ? "too big negative integer" : "too big integer");
	}
	r->i = i;
	end_tok(r, *idx);
	return 0;
}

static int literal(struct rd *r, int *idx)
{
	static const struct { const char *word; enum tdc_jr_type type; } lits[] = {
		{ "true", TDC_JR_TRUE }, { "false", TDC_JR_FALSE }, { "null", TDC_JR_NULL },
	};
	int ret;

	for (size_t k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		size_t n = strlen(lits[k].word);

		if (r->n - r->i < n || memcmp(r->s + r->i, lits[k].word, n) != 0)
			continue;
		if ((ret = new_tok(r, lits[k].type, idx)) != 0)
			return ret;
		r->i += n;
		end_tok(r, *idx);
		return 0;
	}
	return fail(r, "invalid token");
}

/* ---- containers ---------------------------------------------------------- */

static int value(struct rd *r, unsigned depth, int *idx);

/* The members before @key in object @obj: none decodes to the same key. */
static bool duplicate(const struct tdc_jr *j, int obj, int key)
{
	const struct tdc_jr_tok *k = &j->tok[key];
	const char *ks = j->text + k->start + 1;

	for (int p = obj + 1; p < key; p = (int)j->tok[p + 1].next)
		if (j->tok[p].size == k->size &&
		    memcmp(j->text + j->tok[p].start + 1, ks, k->size) == 0)
			return true;
	return false;
}

static int object(struct rd *r, unsigned depth, int *idx)
{
	uint32_t members = 0;
	int ret, key, val;

	if ((ret = new_tok(r, TDC_JR_OBJECT, idx)) != 0)
		return ret;
	r->i++;
	ws(r);
	if (r->s[r->i] != '}') {
		for (;;) {
			if (r->s[r->i] != '"')
				return fail(r, "string or '}' expected");
			if (++members > r->lim->max_members)
				return fail_at(r, TDC_ERR_TOO_LARGE, r->i,
					       "more object members than the reader's limit");
			if ((ret = string(r, &key)) != 0)
				return ret;
			if (duplicate(r->j, *idx, key)) {
				r->i = r->j->tok[key].start;
				return fail(r, "duplicate object key");
			}
			ws(r);
			if (r->s[r->i] != ':')
				return fail(r, "':' expected");
			r->i++;
			ws(r);
			if ((ret = value(r, depth, &val)) != 0)
				return ret;
			ws(r);
			if (r->s[r->i] != ',')
				break;
			r->i++;
			ws(r);
		}
		if (r->s[r->i] != '}')
			return fail(r, "'}' expected");
	}
	r->i++;
	r->j->tok[*idx].size = members;
	end_tok(r, *idx);
	return 0;
}

static int array(struct rd *r, unsigned depth, int *idx)
{
	uint32_t elements = 0;
	int ret, el;

	if ((ret = new_tok(r, TDC_JR_ARRAY, idx)) != 0)
		return ret;
	r->i++;
	ws(r);
	if (r->s[r->i] != ']') {
		for (;;) {
			if (++elements > r->lim->max_elements)
				return fail_at(r, TDC_ERR_TOO_LARGE, r->i,
					       "more array elements than the reader's limit");
			if ((ret = value(r, depth, &el)) != 0)
				return ret;
			ws(r);
			if (r->s[r->i] != ',')
				break;
			r->i++;
			ws(r);
		}
		if (r->s[r->i] != ']')
			return fail(r, "']' expected");
	}
	r->i++;
	r->j->tok[*idx].size = elements;
	end_tok(r, *idx);
	return 0;
}

/* One value at s[r->i] (no whitespace before it), inside @depth containers. */
static int value(struct rd *r, unsigned depth, int *idx)
{
	char c = r->s[r->i];

	if ((c == '{' || c == '[') && depth >= r->lim->max_depth)
		return fail_at(r, TDC_ERR_TOO_LARGE, r->i, "nested deeper than the reader's limit");
	if (c == '{')
		return object(r, depth + 1, idx);
	if (c == '[')
		return array(r, depth + 1, idx);
	if (c == '"')
		return string(r, idx);
	if (c == '-' || is_digit(c))
		return number(r, idx);
	return literal(r, idx);
}

int tdc_jr_parse(struct tdc_jr *j, const void *data, size_t len,
		 const struct tdc_jr_limits *lim, const char *what)
{
	struct rd r = { .j = j, .lim = lim, .orig = data, .n = len, .what = what };
	int ret, top;

	memset(j, 0, sizeof(*j));
	if (len > lim->max_len || len > UINT32_MAX - 1)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu bytes exceeds %zu", what, len,
			       lim->max_len);
	if (!(j->text = malloc(len + 1)))
		return tdc_err(TDC_ERR_ALLOC, "%s", what);
	memcpy(j->text, data, len);
	j->text[len] = '\0';
	j->len = len;
	r.s = j->text;
	ws(&r);
	if (r.s[r.i] != '{' && r.s[r.i] != '[')
		ret = fail(&r, "'[' or '{' expected");
	else if ((ret = value(&r, 0, &top)) == 0) {
		ws(&r);
		if (r.i < len)
			ret = fail(&r, "end of file expected");
	}
	if (ret)
		tdc_jr_free(j);
	return ret;
}

void tdc_jr_free(struct tdc_jr *j)
{
	free(j->text);
	free(j->tok);
	memset(j, 0, sizeof(*j));
}

char *tdc_jr_take_text(struct tdc_jr *j)
{
	char *t = j->text;

	j->text = NULL;
	return t;
}

int tdc_jr_get(const struct tdc_jr *j, int obj, const char *key)
{
	size_t n = strlen(key);

	if (tdc_jr_type(j, obj) != TDC_JR_OBJECT)
		return -1;
	for (uint32_t m = 0, p = (uint32_t)obj + 1; m < j->tok[obj].size;
	     m++, p = j->tok[p + 1].next)
		if (j->tok[p].size == n && memcmp(j->text + j->tok[p].start + 1, key, n) == 0)
			return (int)p + 1;
	return -1;
}

int tdc_jr_elem(const struct tdc_jr *j, int arr, uint32_t idx)
{
	int e;

	if (tdc_jr_type(j, arr) != TDC_JR_ARRAY || idx >= j->tok[arr].size)
		return -1;
	e = arr + 1;
	while (idx--)
		e = (int)j->tok[e].next;
	return e;
}

int64_t tdc_jr_int(const struct tdc_jr *j, int i)
{
	const char *s = j->text + j->tok[i].start;
	bool neg = *s == '-';
	uint64_t mag = 0;

	for (s += neg; *s >= '0' && *s <= '9'; s++)
		mag = mag * 10 + (uint64_t)(*s - '0');
	/* In range when read: -2^63 negated in unsigned arithmetic is itself. */
	return neg ? (int64_t)(0 - mag) : (int64_t)mag;
}
