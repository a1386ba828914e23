/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Text that crossed a trust boundary (a VM name a guest chose, a detail
 * quoting the claims, a row of the audit log) made safe to store, send and
 * print.  Two promises: the result is valid UTF-8 (RFC 3629), and with
 * TDC_TEXT_ESCAPE_CTL it holds nothing a terminal acts on (no C0/C1
 * controls, no DEL, no bidirectional overrides or line/paragraph
 * separators).  What is replaced becomes a visible escape: \xNN for a byte
 * that is not UTF-8 or a C0/DEL control, \u{XXXX} for a code point, \\ for
 * a backslash (so an escape in the output is never ambiguous with text).
 * Truncation to the destination never cuts a character or an escape.
 */
#ifndef TDCPUID_TEXT_H
#define TDCPUID_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TDC_TEXT_ESCAPE_CTL 1u   /* escape controls and backslashes too */

bool tdc_text_utf8_valid(const void *s, size_t n);
/* Copy @n bytes of @s into @dst (@cap > 0, NUL-terminated; a NUL byte is
 * always escaped); returns the length written. */
size_t tdc_text_sanitize(const void *s, size_t n, char *dst, size_t cap, unsigned flags);
/* The same for a NUL-terminated string. */
size_t tdc_text_clean(const char *s, char *dst, size_t cap, unsigned flags);
/* Length of the longest valid UTF-8 prefix of the string @s, at most @n bytes. */
size_t tdc_text_utf8_prefix(const char *s, size_t n);

#endif
