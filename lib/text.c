// SPDX-License-Identifier: Apache-2.0
/* Untrusted text made valid UTF-8 and inert for terminals (tdcpuid/text.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tdcpuid/text.h"
#include "cbor_strict.h"

bool tdc_text_utf8_valid(const void *s, size_t n)
{
	return tdc_utf8_valid(s, n);
}

/* Length of the valid UTF-8 sequence at @s (0: not one) and its code point. */
static size_t seq_len(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t k;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (k > n || !tdc_utf8_valid(s, k))
		return 0;
	*cp = k == 2 ? (uint32_t)(s[0] & 0x1f) : k == 3 ? (uint32_t)(s[0] & 0x0f)
						       : (uint32_t)(s[0] & 0x07);
	for (size_t i = 1; i < k; i++)
		*cp = *cp << 6 | (s[i] & 0x3f);
	return k;
}

/* Code points a terminal or a text viewer acts on rather than shows. */
static bool is_control(uint32_t cp)
{
	static const struct { uint32_t lo, hi; } ranges[] = {
		{ 0x00, 0x1f },     /* C0 */
		{ 0x7f, 0x9f },     /* DEL, C1 (0x9b is a CSI to some terminals) */
		{ 0x200e, 0x200f }, /* LRM, RLM */
		{ 0x2028, 0x202e }, /* line/paragraph separators, bidi embeddings/overrides */
		{ 0x2066, 0x2069 }, /* bidi isolates */
		{ 0xfeff, 0xfeff }, /* zero-width no-break space / BOM */
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i].lo && cp <= ranges[i].hi)
			return true;
	return false;
}

size_t tdc_text_sanitize(const void *src, size_t n, char *dst, size_t cap, unsigned flags)
{
	const uint8_t *s = src;
	char esc[16];
	size_t o = 0, i = 0;

	if (!cap)
		return 0;
	while (i < n) {
		uint32_t cp = 0;
		size_t k = seq_len(s + i, n - i, &cp), w;
		const char *piece = (const char *)s + i;

		if (k == 0) { /* not UTF-8: show the byte */
			w = (size_t)snprintf(esc, sizeof(esc), "\\x%02X", s[i]);
			piece = esc;
			k = 1;
		} else if ((flags & TDC_TEXT_ESCAPE_CTL) && cp == '\\') {
			w = 2;
			piece = "\\\\";
		} else if (cp == 0 || ((flags & TDC_TEXT_ESCAPE_CTL) && is_control(cp))) {
			w = (size_t)snprintf(esc, sizeof(esc), cp < 0x80 ? "\\x%02X" : "\\u{%04X}",
					     (unsigned)cp);
			piece = esc;
		} else {
			w = k;
		}
		if (o + w >= cap)
			break;
		memcpy(dst + o, piece, w);
		o += w;
		i += k;
	}
	dst[o] = '\0';
	return o;
}

size_t tdc_text_clean(const char *s, char *dst, size_t cap, unsigned flags)
{
	return tdc_text_sanitize(s, strlen(s), dst, cap, flags);
}

size_t tdc_text_utf8_prefix(const char *s, size_t n)
{
	size_t i = 0;
	uint32_t cp;

	n = strnlen(s, n); /* a string, not a buffer: never past its NUL */
	while (i < n) {
		size_t k = seq_len((const uint8_t *)s + i, n - i, &cp);

		if (!k)
			break;
		i += k;
	}
	return i;
}
