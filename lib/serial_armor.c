// SPDX-License-Identifier: Apache-2.0
/*
 * Serial-console armor (include/tdcpuid/serial.h): base64 evidence between
 * marker lines, found again in a console log where kernel messages land
 * between our lines.  The header's Length fixes how many 76-column lines
 * and how long a final line to expect, so noise lines are skipped by shape
 * and the SHA-256 catches whatever shape cannot.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/serial.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int tdc_base64_encode(const uint8_t *in, size_t len, struct tdc_buf *out)
{
	char q[4];
	uint32_t v;
	int e;

	for (size_t i = 0; i < len; i += 3) {
		size_t n = len - i < 3 ? len - i : 3;

		v = (uint32_t)in[i] << 16 | (n > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
		    (n > 2 ? in[i + 2] : 0);
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = n > 1 ? b64[v >> 6 & 63] : '=';
		q[3] = n > 2 ? b64[v & 63] : '=';
		if ((e = tdc_buf_put(out, q, 4)) != 0)
			return e;
	}
	return 0;
}

static int b64val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int tdc_base64_decode(const char *in, size_t len, struct tdc_buf *out)
{
	uint8_t o[3];
	int v[4], e;

	if (len % 4)
		return tdc_err(TDC_ERR_FORMAT, "base64: length %zu is not a multiple of 4", len);
	for (size_t i = 0; i < len; i += 4) {
		size_t pad = 0;

		if (i + 4 == len)
			pad = (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=');
		for (size_t j = 0; j < 4 - pad; j++)
			if ((v[j] = b64val((unsigned char)in[i + j])) < 0)
				return tdc_err(TDC_ERR_FORMAT, "base64: bad character at %zu", i + j);
		for (size_t j = 4 - pad; j < 4; j++)
			v[j] = 0;
		o[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		o[1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		o[2] = (uint8_t)(v[2] << 6 | v[3]);
		/* Non-canonical trailing bits would let two texts decode alike. */
		if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
			return tdc_err(TDC_ERR_FORMAT, "base64: non-zero padding bits");
		if ((e = tdc_buf_put(out, o, 3 - pad)) != 0)
			return e;
	}
	return 0;
}

int tdc_armor_encode(const uint8_t *data, size_t len, struct tdc_buf *out)
{
	struct tdc_buf t;
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	int e;

	tdc_buf_init(&t);
	SHA256(data, len, md);
	tdc_hex_encode(md, sizeof(md), hex);
	if ((e = tdc_base64_encode(data, len, &t)) != 0 ||
	    (e = tdc_buf_printf(out, "%s\nLength: %zu\nSHA-256: %s\n", TDC_ARMOR_BEGIN, len, hex)) != 0)
		goto out;
	for (size_t i = 0; i < t.len; i += TDC_ARMOR_COLS) {
		size_t n = t.len - i < TDC_ARMOR_COLS ? t.len - i : TDC_ARMOR_COLS;

		if ((e = tdc_buf_put(out, t.data + i, n)) != 0 || (e = tdc_buf_put_u8(out, '\n')) != 0)
			goto out;
	}
	e = tdc_buf_printf(out, "%s\n", TDC_ARMOR_END);
out:
	tdc_buf_free(&t);
	return e;
}

int tdc_armor_write(const char *path, const uint8_t *data, size_t len)
{
	struct tdc_buf t;
	size_t off = 0;
	ssize_t w;
	int fd, e;

	tdc_buf_init(&t);
	if ((e = tdc_armor_encode(data, len, &t)) != 0)
		goto out;
	fd = strcmp(path, "-") ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600) : 1;
	if (fd < 0) {
		e = tdc_err(TDC_ERR_IO, "serial %s: %s", path, strerror(errno));
		goto out;
	}
	while (off < t.len) {
		w = write(fd, t.data + off, t.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = tdc_err(TDC_ERR_IO, "serial %s: write: %s", path, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	/* A tty: wait until the UART sent it, so a poweroff right after cannot cut it. */
	if (!e && isatty(fd))
		tcdrain(fd);
	if (fd != 1)
		close(fd);
out:
	tdc_buf_free(&t);
	return e;
}

/* ---- reader ---------------------------------------------------------------- */

struct block {
	bool have_len, have_sha;
	size_t len, b64len, full, last, nfull;
	bool got_last;
	uint8_t sha[SHA256_DIGEST_LENGTH];
	struct tdc_buf text;
};

/* Next line as (p, n) without its "\n" and trailing "\r". */
static int next_line(struct tdc_reader *r, const uint8_t **p, size_t *n)
{
	size_t rem = tdc_reader_remaining(r), take;
	const uint8_t *nl;
	int e;

	if (rem == 0)
		return TDC_ERR_NOT_FOUND;
	nl = memchr(r->data + r->off, '\n', rem);
	take = nl ? (size_t)(nl - (r->data + r->off)) + 1 : rem;
	if ((e = tdc_get_ref(r, take, p)) != 0)
		return e;
	*n = take;
	while (*n && ((*p)[*n - 1] == '\n' || (*p)[*n - 1] == '\r'))
		(*n)--;
	return 0;
}

static bool has(const uint8_t *p, size_t n, const char *marker)
{
	return memmem(p, n, marker, strlen(marker)) != NULL;
}

static bool all_b64(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '=' && b64val(p[i]) < 0)
			return false;
	return n > 0;
}

static int header_line(struct block *b, const uint8_t *p, size_t n)
{
	char tmp[96];
	unsigned long long v;
	char *end;
	size_t sl;

	if (n >= sizeof(tmp))
		return 1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (!b->have_len && !strncmp(tmp, "Length: ", 8)) {
		v = strtoull(tmp + 8, &end, 10);
		if (*end || end == tmp + 8 || v > TDC_EVIDENCE_MAX)
			return tdc_err(TDC_ERR_FORMAT, "armor: bad Length line '%s' (cap %u)",
				       tmp, TDC_EVIDENCE_MAX);
		b->len = (size_t)v;
		b->b64len = 4 * ((b->len + 2) / 3);
		b->full = b->b64len / TDC_ARMOR_COLS;
		b->last = b->b64len % TDC_ARMOR_COLS;
		b->have_len = true;
		return 0;
	}
	if (!b->have_sha && !strncmp(tmp, "SHA-256: ", 9)) {
		if (tdc_hex_decode(tmp + 9, b->sha, sizeof(b->sha), &sl) != 0 || sl != sizeof(b->sha))
			return tdc_err(TDC_ERR_FORMAT, "armor: bad SHA-256 line");
		b->have_sha = true;
		return 0;
	}
	return 1; /* not a header line */
}

static int data_line(struct block *b, const uint8_t *p, size_t n)
{
	if (!b->have_len || !b->have_sha || !all_b64(p, n))
		return 0; /* noise */
	if (b->nfull < b->full && n == TDC_ARMOR_COLS) {
		b->nfull++;
		return tdc_buf_put(&b->text, p, n);
	}
	if (b->nfull == b->full && b->last && !b->got_last && n == b->last) {
		b->got_last = true;
		return tdc_buf_put(&b->text, p, n);
	}
	return 0;
}

static int finish(struct block *b, struct tdc_buf *out)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	int e;

	if (!b->have_len || !b->have_sha)
		return tdc_err(TDC_ERR_MISSING, "armor: block lacks its %s line",
			       b->have_len ? "SHA-256" : "Length");
	if (b->nfull != b->full || (b->last && !b->got_last))
		return tdc_err(TDC_ERR_TRUNCATED, "armor: %zu of %zu base64 characters found",
			       b->text.len, b->b64len);
	tdc_buf_reset(out);
	if ((e = tdc_base64_decode((const char *)b->text.data, b->text.len, out)) != 0)
		return tdc_err_wrap(e, "armor: ");
	if (out->len != b->len)
		return tdc_err(TDC_ERR_FORMAT, "armor: decoded %zu bytes, Length says %zu",
			       out->len, b->len);
	SHA256(out->data, out->len, md);
	if (memcmp(md, b->sha, sizeof(md)))
		return tdc_err(TDC_ERR_BINDING, "armor: SHA-256 of the decoded evidence does not match");
	return 0;
}

static int scan_block(struct tdc_reader *r, struct block *b, struct tdc_buf *out)
{
	const uint8_t *p;
	size_t n, line_start;
	int e;

	for (;;) {
		line_start = r->off;
		if (next_line(r, &p, &n) != 0)
			return tdc_err(TDC_ERR_TRUNCATED, "armor: log ends before the END line");
		if (has(p, n, TDC_ARMOR_END))
			return finish(b, out);
		if (has(p, n, TDC_ARMOR_BEGIN)) {
			/* Restart at this BEGIN: an interrupted block must not eat the next. */
			r->off = line_start;
			return tdc_err(TDC_ERR_TRUNCATED, "armor: BEGIN line before END");
		}
		if ((e = header_line(b, p, n)) < 0)
			return e;
		if (e == 1 && (e = data_line(b, p, n)) != 0)
			return e;
	}
}

int tdc_armor_next(const uint8_t *log, size_t len, size_t *pos, struct tdc_buf *out)
{
	struct tdc_reader r;
	struct block b;
	const uint8_t *p;
	size_t n;
	int e;

	if (*pos >= len) {
		*pos = len;
		return tdc_err(TDC_ERR_NOT_FOUND, "armor: no %s line", TDC_ARMOR_BEGIN);
	}
	tdc_reader_init(&r, log + *pos, len - *pos, "serial log");
	r.base = *pos;
	do {
		if (next_line(&r, &p, &n) != 0) {
			*pos = len;
			return tdc_err(TDC_ERR_NOT_FOUND, "armor: no %s line", TDC_ARMOR_BEGIN);
		}
	} while (!has(p, n, TDC_ARMOR_BEGIN));
	memset(&b, 0, sizeof(b));
	tdc_buf_init(&b.text);
	e = scan_block(&r, &b, out);
	*pos += r.off;
	tdc_buf_free(&b.text);
	return e;
}
