// SPDX-License-Identifier: Apache-2.0
/*
 * Strict JSON helpers for every untrusted JSON input (include/tdcpuid/json.h).
 */
#include <inttypes.h>
#include <string.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"

int tdc_json_parse(const uint8_t *data, size_t len, size_t cap, const char *what,
		   json_t **out)
{
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	/* The cap is checked before jansson allocates anything for the input. */
	if (len > cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu bytes exceed the %zu-byte limit",
			       what, len, cap);
	if (memchr(data, '\0', len))
		return tdc_err(TDC_ERR_FORMAT, "%s: NUL byte in JSON text", what);
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return tdc_err(strstr(jerr.text, "duplicate") ? TDC_ERR_DUPLICATE :
			       TDC_ERR_FORMAT, "%s: line %d column %d: %s", what,
			       jerr.line, jerr.column, jerr.text);
	*out = root;
	return 0;
}

const char *tdc_json_path(char *buf, size_t len, const char *parent, const char *key)
{
	if (!parent || !*parent)
		snprintf(buf, len, "%s", key);
	else
		snprintf(buf, len, "%s.%s", parent, key);
	return buf;
}

const char *tdc_json_path_idx(char *buf, size_t len, const char *parent, size_t idx)
{
	snprintf(buf, len, "%s[%zu]", parent ? parent : "", idx);
	return buf;
}

/* Empty path means the document root; say so instead of printing nothing. */
static const char *p_or_root(const char *path)
{
	return path && *path ? path : "(top level)";
}

int tdc_json_check_object(const json_t *v, const char *const *allowed,
			  const char *what, const char *path)
{
	const char *key;
	json_t *val;

	if (!json_is_object(v))
		return tdc_err(TDC_ERR_TYPE, "%s: %s: expected object", what, p_or_root(path));
	json_object_foreach((json_t *)v, key, val) {
		bool ok = false;

		for (size_t i = 0; allowed[i]; i++)
			if (!strcmp(key, allowed[i]))
				ok = true;
		if (!ok) {
			char p[TDC_JSON_PATH_MAX];

			return tdc_err(TDC_ERR_FORMAT, "%s: %s: unknown key", what,
				       tdc_json_path(p, sizeof(p), path, key));
		}
	}
	return 0;
}

int tdc_json_member(const json_t *obj, const char *key, bool required,
		    const char *what, const char *path, json_t **out)
{
	char p[TDC_JSON_PATH_MAX];

	*out = json_object_get(obj, key);
	if (!*out && required)
		return tdc_err(TDC_ERR_MISSING, "%s: %s: missing", what,
			       tdc_json_path(p, sizeof(p), path, key));
	return 0;
}

/* "0x" + 1..16 hex digits, nothing else. */
static bool parse_hex_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	s += 2;
	n = strlen(s);
	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return false;
		v = (v << 4) | (uint64_t)d;
	}
	*out = v;
	return true;
}

int tdc_json_u64(const json_t *v, uint64_t max, const char *what, const char *path,
		 uint64_t *out)
{
	uint64_t x;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		x = (uint64_t)json_integer_value(v);
	else if (!json_is_string(v) || !parse_hex_u64(json_string_value(v), &x))
		goto bad;
	if (x > max)
		goto bad;
	*out = x;
	return 0;
bad:
	return tdc_err(json_is_integer(v) || json_is_string(v) ? TDC_ERR_RANGE : TDC_ERR_TYPE,
		       "%s: %s: expected integer 0..0x%" PRIx64 " (JSON integer or \"0x...\")",
		       what, p_or_root(path), max);
}

int tdc_json_u32(const json_t *v, const char *what, const char *path, uint32_t *out)
{
	uint64_t x;
	int r;

	if ((r = tdc_json_u64(v, UINT32_MAX, what, path, &x)) != 0)
		return r;
	*out = (uint32_t)x;
	return 0;
}

int tdc_json_bool(const json_t *v, const char *what, const char *path, bool *out)
{
	if (!json_is_boolean(v))
		return tdc_err(TDC_ERR_TYPE, "%s: %s: expected true or false", what,
			       p_or_root(path));
	*out = json_is_true(v);
	return 0;
}

int tdc_json_string(const json_t *v, size_t maxlen, const char *what, const char *path,
		    const char **out)
{
	size_t n;

	if (!json_is_string(v))
		return tdc_err(TDC_ERR_TYPE, "%s: %s: expected string", what, p_or_root(path));
	n = json_string_length(v);
	/* jansson allows embedded NULs; C consumers would silently truncate. */
	if (n == 0 || n > maxlen || strlen(json_string_value(v)) != n)
		return tdc_err(TDC_ERR_RANGE, "%s: %s: expected string of 1..%zu bytes without NUL",
			       what, p_or_root(path), maxlen);
	*out = json_string_value(v);
	return 0;
}

int tdc_json_hex(const json_t *v, uint8_t *out, size_t len, const char *what,
		 const char *path)
{
	size_t got = 0;

	if (!json_is_string(v))
		return tdc_err(TDC_ERR_TYPE, "%s: %s: expected hex string of %zu bytes",
			       what, p_or_root(path), len);
	if (tdc_hex_decode(json_string_value(v), out, len, &got) != 0 || got != len)
		return tdc_err(TDC_ERR_FORMAT, "%s: %s: expected hex string of %zu bytes (%zu digits)",
			       what, p_or_root(path), len, 2 * len);
	return 0;
}

int tdc_json_array(const json_t *v, size_t max, const char *what, const char *path,
		   size_t *n)
{
	if (!json_is_array(v))
		return tdc_err(TDC_ERR_TYPE, "%s: %s: expected array", what, p_or_root(path));
	if (json_array_size(v) > max)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %s: %zu elements exceed the limit of %zu",
			       what, p_or_root(path), json_array_size(v), max);
	*n = json_array_size(v);
	return 0;
}

json_t *tdc_json_hex32(uint32_t v)
{
	char s[16];

	snprintf(s, sizeof(s), "0x%08x", v);
	return json_string(s);
}

json_t *tdc_json_hex64(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%016llx", (unsigned long long)v);
	return json_string(s);
}

json_t *tdc_json_hexbytes(const uint8_t *p, size_t n)
{
	char small[2 * 64 + 1], *buf = small;
	json_t *s;

	/* QE auth data can reach 64 KiB; everything else fits on the stack. */
	if (n > 64 && !(buf = malloc(2 * n + 1)))
		return json_null();
	tdc_hex_encode(p, n, buf);
	s = json_string(buf);
	if (buf != small)
		free(buf);
	return s;
}
