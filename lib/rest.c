// SPDX-License-Identifier: Apache-2.0
/*
 * The REST API's untrusted text (tdcpuid/rest.h): request paths, media
 * types, nonce parameters and bodies on the service side, the session
 * object on the agent side.  Every input is bounded before it is looked at.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/rest.h"
#include "tdcpuid/serial.h"
#include "tdcpuid/text.h"

int tdc_rest_route(const char *path, struct tdc_rest_route *out)
{
	size_t n = strnlen(path, TDC_REST_URL_MAX + 1), pl = strlen(TDC_REST_SESSION);

	memset(out, 0, sizeof(*out));
	if (n > TDC_REST_URL_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "path: longer than %d bytes", TDC_REST_URL_MAX);
	if (!strcmp(path, TDC_REST_NEW_SESSION))
		out->kind = TDC_REST_R_NEW_SESSION;
	else if (!strcmp(path, TDC_REST_WELL_KNOWN))
		out->kind = TDC_REST_R_WELL_KNOWN;
	else if (n == pl + TDC_REST_ID_LEN && !strncmp(path, TDC_REST_SESSION, pl) &&
		 strspn(path + pl, "0123456789abcdef") == TDC_REST_ID_LEN) {
		/* Ids are ours, lower-case hex: anything else names no session. */
		out->kind = TDC_REST_R_SESSION;
		memcpy(out->id, path + pl, TDC_REST_ID_LEN);
	}
	return 0;
}

/* RFC 9110 §5.6.2 tchar */
static bool tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t token(const char *s)
{
	size_t i = 0;

	while (tchar((unsigned char)s[i]))
		i++;
	return i;
}

static const char *ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* ; name=value, value a token or a quoted string; returns the rest or NULL. */
static const char *parameter(const char *s)
{
	size_t n;

	s = ows(s);
	if (*s++ != ';')
		return NULL;
	s = ows(s);
	if (!*s)
		return s; /* a trailing ";" is tolerated by RFC 9110's grammar */
	if (!(n = token(s)) || s[n] != '=')
		return NULL;
	s += n + 1;
	if (*s != '"')
		return (n = token(s)) ? s + n : NULL;
	for (s++; *s && *s != '"'; s++)
		if (*s == '\\' && !*++s)
			return NULL;
	return *s == '"' ? s + 1 : NULL;
}

int tdc_rest_media_type(const char *ct, char *out, size_t cap)
{
	const char *s = ows(ct), *p;
	size_t t, st;

	if (strnlen(ct, TDC_REST_MT_MAX + 1) > TDC_REST_MT_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "Content-Type: longer than %d bytes",
			       TDC_REST_MT_MAX);
	if (!(t = token(s)) || s[t] != '/' || !(st = token(s + t + 1)))
		return tdc_err(TDC_ERR_FORMAT, "Content-Type: not a media type (type/subtype)");
	if (t + 1 + st >= cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "Content-Type: media type too long");
	for (p = s + t + 1 + st; *ows(p);)
		if (!(p = parameter(p)))
			return tdc_err(TDC_ERR_FORMAT, "Content-Type: malformed parameter");
	for (size_t i = 0; i < t + 1 + st; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[t + 1 + st] = '\0';
	return 0;
}

static int b64val(int c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p;

	/* base64url's two letters, and '+' turned into a space by form decoding */
	if (c == '-' || c == ' ')
		c = '+';
	if (c == '_')
		c = '/';
	return c && (p = strchr(a, c)) ? (int)(p - a) : -1;
}

int tdc_rest_b64_decode_buf(const char *s, size_t n, struct tdc_buf *out)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *q;
	size_t k;
	int e;

	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1 || n > (64u << 20))
		return tdc_err(TDC_ERR_FORMAT, "base64: length %zu is not base64", n);
	if (!(q = malloc(n + 4)))
		return tdc_err(TDC_ERR_ALLOC, "base64");
	/* Rewrite to the padded standard alphabet, then decode strictly. */
	for (k = 0; k < n; k++) {
		int v = b64val((unsigned char)s[k]);

		if (v < 0) {
			free(q);
			return tdc_err(TDC_ERR_FORMAT, "base64: bad character at %zu", k);
		}
		q[k] = std[v];
	}
	while (k % 4)
		q[k++] = '=';
	e = tdc_base64_decode(q, k, out);
	free(q);
	return e;
}

int tdc_rest_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	struct tdc_buf b;
	int e;

	/* Bounded before anything is decoded: 4 characters per 3 bytes. */
	if (n > 4 * ((cap + 2) / 3) + 2)
		return tdc_err(TDC_ERR_TOO_LARGE, "nonce: more than %zu bytes", cap);
	tdc_buf_init(&b);
	if ((e = tdc_rest_b64_decode_buf(s, n, &b)) == 0) {
		if (b.len > cap)
			e = tdc_err(TDC_ERR_TOO_LARGE, "nonce: %zu bytes, at most %zu", b.len, cap);
		else if (b.len)
			memcpy(out, b.data, b.len);
		*len = b.len;
	}
	tdc_buf_free(&b);
	if (e)
		return tdc_err_wrap(e, "nonce: ");
	return 0;
}

int tdc_rest_nonce_param(const char *nonce, const char *size, uint8_t out[TDC_REST_NONCE_MAX],
			 size_t *len, bool *generate)
{
	unsigned long v = 0;
	size_t i;
	int e;

	*len = 0;
	*generate = !nonce;
	if (nonce && size)
		return tdc_err(TDC_ERR_USAGE, "give either nonce or nonceSize, not both");
	if (nonce) {
		if ((e = tdc_rest_b64_decode(nonce, strnlen(nonce, TDC_REST_URL_MAX), out,
					     TDC_REST_NONCE_MAX, len)) != 0)
			return e;
		if (*len < TDC_REST_NONCE_MIN)
			return tdc_err(TDC_ERR_RANGE, "nonce: %zu bytes, at least %d", *len,
				       TDC_REST_NONCE_MIN);
		return 0;
	}
	if (!size) {
		*len = TDC_REST_NONCE_DEFAULT;
		return 0;
	}
	for (i = 0; size[i] >= '0' && size[i] <= '9' && i < 3; i++)
		v = v * 10 + (unsigned long)(size[i] - '0');
	if (!i || size[i] || v < TDC_REST_NONCE_MIN || v > TDC_REST_NONCE_MAX)
		return tdc_err(TDC_ERR_RANGE, "nonceSize: expected %d..%d", TDC_REST_NONCE_MIN,
			       TDC_REST_NONCE_MAX);
	*len = v;
	return 0;
}

int tdc_rest_body_add(struct tdc_buf *b, const void *data, size_t n, size_t cap)
{
	if (n > cap || b->len > cap - n)
		return tdc_err(TDC_ERR_TOO_LARGE, "body: more than %zu bytes", cap);
	return tdc_buf_put(b, data, n);
}

/* ---- agent side: the session object ---------------------------------------- */

void tdc_rest_session_init(struct tdc_rest_session *s)
{
	memset(s, 0, sizeof(*s));
	tdc_buf_init(&s->result);
}

void tdc_rest_session_free(struct tdc_rest_session *s)
{
	tdc_buf_free(&s->result);
}

static int str_member(json_t *o, const char *key, bool required, char *dst, size_t cap)
{
	json_t *v = json_object_get(o, key);

	if (!v && !required)
		return 0;
	if (!json_is_string(v))
		return tdc_err(TDC_ERR_TYPE, "session.%s: expected a string", key);
	tdc_text_sanitize(json_string_value(v), json_string_length(v), dst, cap, 0);
	return 0;
}

static int session_result(json_t *v, struct tdc_rest_session *s)
{
	char *text;
	int e;

	if (!v || json_is_null(v))
		return 0;
	s->has_result = true;
	if (json_is_string(v)) {
		s->result_jwt = true;
		if ((e = tdc_buf_put(&s->result, json_string_value(v), json_string_length(v))) != 0)
			return e;
	} else if (json_is_object(v)) {
		if (!(text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
			return tdc_err(TDC_ERR_ALLOC, "session.result");
		e = tdc_buf_put(&s->result, text, strlen(text));
		free(text);
		if (e)
			return e;
	} else {
		return tdc_err(TDC_ERR_TYPE, "session.result: expected a string or an object");
	}
	tdc_buf_cstr(&s->result);
	return 0;
}

static int session_ext(json_t *x, struct tdc_rest_session *s)
{
	json_t *v;
	int e;

	if (!x)
		return 0;
	if (!json_is_object(x))
		return tdc_err(TDC_ERR_TYPE, "session.tdcpuid: expected an object");
	if ((v = json_object_get(x, "passed"))) {
		if (!json_is_boolean(v))
			return tdc_err(TDC_ERR_TYPE, "session.tdcpuid.passed: expected a boolean");
		s->has_passed = true;
		s->passed = json_is_true(v);
	}
	if ((v = json_object_get(x, "record")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 0))
		return tdc_err(TDC_ERR_TYPE, "session.tdcpuid.record: expected an unsigned integer");
	if (v)
		s->record = (uint64_t)json_integer_value(v);
	if ((e = str_member(x, "result-type", false, s->result_type, sizeof(s->result_type))) != 0)
		return e;
	return str_member(x, "error", false, s->error, sizeof(s->error));
}

int tdc_rest_session_parse(const uint8_t *json, size_t len, struct tdc_rest_session *s)
{
	json_t *root = NULL, *v;
	int e;

	if ((e = tdc_json_parse(json, len, TDC_REST_SESSION_MAX, "session", &root)) != 0)
		return e;
	if (!json_is_object(root)) {
		e = tdc_err(TDC_ERR_TYPE, "session: expected an object");
		goto out;
	}
	if (!json_is_string(v = json_object_get(root, "nonce"))) {
		e = tdc_err(TDC_ERR_MISSING, "session.nonce: expected a base64 string");
		goto out;
	}
	if ((e = tdc_rest_b64_decode(json_string_value(v), json_string_length(v), s->nonce,
				     sizeof(s->nonce), &s->nonce_len)) != 0 ||
	    (e = str_member(root, "status", true, s->status, sizeof(s->status))) != 0 ||
	    (e = str_member(root, "expiry", false, s->expiry, sizeof(s->expiry))) != 0 ||
	    (e = session_result(json_object_get(root, "result"), s)) != 0)
		goto out;
	e = session_ext(json_object_get(root, "tdcpuid"), s);
out:
	json_decref(root);
	return e;
}

void tdc_rest_problem_text(const uint8_t *json, size_t len, char *out, size_t cap,
			   bool *has_code, int64_t *code)
{
	char title[96] = "", detail[256] = "";
	json_t *root = NULL, *v;

	out[0] = '\0';
	*has_code = false;
	tdc_errclear();
	if (tdc_json_parse(json, len, 64 * 1024, "problem", &root) != 0 || !json_is_object(root)) {
		json_decref(root);
		return;
	}
	(void)str_member(root, "title", false, title, sizeof(title));
	(void)str_member(root, "detail", false, detail, sizeof(detail));
	snprintf(out, cap, "%s%s%s", title, title[0] && detail[0] ? ": " : "", detail);
	/* Anything but an integer there is not our verifier's: the status alone decides. */
	if (json_is_integer(v = json_object_get(json_object_get(root, "tdcpuid"), "code"))) {
		*has_code = true;
		*code = json_integer_value(v);
	}
	json_decref(root);
}

/*
 * The nonce and the verdict inside a verdict document: an EAR names them
 * as eat_nonce (base64url) and submods.tdcpuid["tdcpuid.verdict"].passed,
 * the JSON verdict as nonce (hex) and passed (docs/ear.md,
 * docs/verdict-json.md).
 */
int tdc_rest_doc_verdict(const uint8_t *doc, size_t len, const uint8_t *nonce, size_t nonce_len,
			 bool *passed)
{
	json_t *root = NULL, *v, *p;
	uint8_t got[TDC_REST_NONCE_MAX];
	size_t glen = 0;
	int e;

	if ((e = tdc_json_parse(doc, len, TDC_REST_SESSION_MAX, "verdict", &root)) != 0)
		return e;
	if (json_is_string(v = json_object_get(root, "eat_nonce"))) {
		e = tdc_rest_b64_decode(json_string_value(v), json_string_length(v), got,
					sizeof(got), &glen);
		p = json_object_get(json_object_get(json_object_get(json_object_get(root, "submods"),
			"tdcpuid"), "tdcpuid.verdict"), "passed");
	} else if (json_is_string(v = json_object_get(root, "nonce")) &&
		   json_string_length(v) <= 2 * sizeof(got)) {
		e = tdc_hex_decode(json_string_value(v), got, sizeof(got), &glen);
		p = json_object_get(root, "passed");
	} else {
		e = tdc_err(TDC_ERR_MISSING, "verdict: names no nonce (eat_nonce or nonce)");
		p = NULL;
	}
	if (!e && !json_is_boolean(p))
		e = tdc_err(TDC_ERR_MISSING, "verdict: no passed flag");
	if (!e && (glen != nonce_len || CRYPTO_memcmp(got, nonce, glen)))
		e = tdc_err(TDC_ERR_NONCE, "verdict: for another nonce than this session's");
	if (!e)
		*passed = json_is_true(p);
	json_decref(root);
	return e;
}
