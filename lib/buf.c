// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

void tdc_reader_init(struct tdc_reader *r, const void *data, size_t len,
		     const char *what)
{
	r->data = data;
	r->len = len;
	r->off = 0;
	r->what = what ? what : "input";
	r->base = 0;
}

size_t tdc_reader_remaining(const struct tdc_reader *r)
{
	return r->len - r->off;
}

size_t tdc_reader_offset(const struct tdc_reader *r)
{
	return r->base + r->off;
}

static int need(const struct tdc_reader *r, size_t n)
{
	if (n > tdc_reader_remaining(r))
		return tdc_err(TDC_ERR_TRUNCATED,
			       "%s: need %zu bytes at offset %zu (0x%zx), only %zu left",
			       r->what, n, tdc_reader_offset(r), tdc_reader_offset(r),
			       tdc_reader_remaining(r));
	return 0;
}

int tdc_get_ref(struct tdc_reader *r, size_t n, const uint8_t **p)
{
	int ret;

	if ((ret = need(r, n)) != 0)
		return ret;
	*p = r->data + r->off;
	r->off += n;
	return 0;
}

int tdc_get_bytes(struct tdc_reader *r, void *dst, size_t n)
{
	const uint8_t *p;
	int ret;

	if ((ret = tdc_get_ref(r, n, &p)) != 0)
		return ret;
	if (n)
		memcpy(dst, p, n);
	return 0;
}

int tdc_skip(struct tdc_reader *r, size_t n)
{
	const uint8_t *p;

	return tdc_get_ref(r, n, &p);
}

int tdc_get_sub(struct tdc_reader *r, size_t n, struct tdc_reader *sub,
		const char *what)
{
	size_t abs = tdc_reader_offset(r);
	const uint8_t *p;
	int ret;

	if ((ret = tdc_get_ref(r, n, &p)) != 0)
		return ret;
	tdc_reader_init(sub, p, n, what ? what : r->what);
	sub->base = abs;
	return 0;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

#define DEFINE_GET(name, type, n, load)                          \
	int name(struct tdc_reader *r, type *v)                  \
	{                                                        \
		const uint8_t *p;                                \
		int ret;                                         \
		if ((ret = tdc_get_ref(r, n, &p)) != 0)          \
			return ret;                              \
		*v = (type)load(p, n);                           \
		return 0;                                        \
	}

DEFINE_GET(tdc_get_u8, uint8_t, 1, load_le)
DEFINE_GET(tdc_get_u16le, uint16_t, 2, load_le)
DEFINE_GET(tdc_get_u32le, uint32_t, 4, load_le)
DEFINE_GET(tdc_get_u64le, uint64_t, 8, load_le)
DEFINE_GET(tdc_get_u16be, uint16_t, 2, load_be)
DEFINE_GET(tdc_get_u32be, uint32_t, 4, load_be)

static int peek(const struct tdc_reader *r, size_t off, size_t n, uint64_t *v)
{
	if (off > tdc_reader_remaining(r) || n > tdc_reader_remaining(r) - off)
		return tdc_err(TDC_ERR_TRUNCATED,
			       "%s: need %zu bytes at offset %zu, input is %zu bytes",
			       r->what, n, tdc_reader_offset(r) + off, r->base + r->len);
	*v = load_le(r->data + r->off + off, n);
	return 0;
}

int tdc_peek_u8(const struct tdc_reader *r, size_t off, uint8_t *v)
{
	uint64_t x = 0;
	int ret = peek(r, off, 1, &x);

	if (!ret)
		*v = (uint8_t)x;
	return ret;
}

int tdc_reader_expect_end(const struct tdc_reader *r)
{
	if (tdc_reader_remaining(r))
		return tdc_err(TDC_ERR_TRAILING, "%s: %zu unexpected bytes at offset %zu",
			       r->what, tdc_reader_remaining(r), tdc_reader_offset(r));
	return 0;
}

void tdc_buf_init(struct tdc_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void tdc_buf_free(struct tdc_buf *b)
{
	if (b->data) {
		memset(b->data, 0, b->cap);
		free(b->data);
	}
	tdc_buf_init(b);
}

void tdc_buf_reset(struct tdc_buf *b)
{
	b->len = 0;
}

int tdc_buf_reserve(struct tdc_buf *b, size_t extra)
{
	size_t want, ncap;
	uint8_t *p;

	if (extra > TDC_BUF_MAX || b->len > TDC_BUF_MAX - extra)
		return tdc_err(TDC_ERR_TOO_LARGE, "buffer would exceed %u bytes",
			       TDC_BUF_MAX);
	want = b->len + extra + 1; /* room for tdc_buf_cstr's NUL */
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	if (!(p = realloc(b->data, ncap)))
		return tdc_err(TDC_ERR_ALLOC, "buffer of %zu bytes", ncap);
	b->data = p;
	b->cap = ncap;
	return 0;
}

int tdc_buf_put(struct tdc_buf *b, const void *p, size_t n)
{
	int ret;

	if ((ret = tdc_buf_reserve(b, n)) != 0)
		return ret;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int put_le(struct tdc_buf *b, uint64_t v, size_t n)
{
	uint8_t tmp[8];

	for (size_t i = 0; i < n; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	return tdc_buf_put(b, tmp, n);
}

int tdc_buf_put_u8(struct tdc_buf *b, uint8_t v) { return put_le(b, v, 1); }
int tdc_buf_put_u16le(struct tdc_buf *b, uint16_t v) { return put_le(b, v, 2); }
int tdc_buf_put_u32le(struct tdc_buf *b, uint32_t v) { return put_le(b, v, 4); }

int tdc_buf_put_u32be(struct tdc_buf *b, uint32_t v)
{
	uint8_t tmp[4] = { v >> 24, v >> 16, v >> 8, v };

	return tdc_buf_put(b, tmp, 4);
}

int tdc_buf_printf(struct tdc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return tdc_err(TDC_ERR_INTERNAL, "printf format");
	if ((ret = tdc_buf_reserve(b, (size_t)n + 1)) != 0)
		return ret;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *tdc_buf_cstr(struct tdc_buf *b)
{
	if (tdc_buf_reserve(b, 0) != 0)
		return "";
	b->data[b->len] = '\0';
	return (const char *)b->data;
}

/*
 * A path that does not lead to a file of the right kind is a wrong name
 * (bad input, exit 2), e.g. a data directory that is a file
 * ("/etc/passwd/trust/...": ENOTDIR); only what the system failed to do with
 * a good name is an I/O error (exit 3).
 */
static const struct { int e, code; } errno_codes[] = {
	{ ENOENT, TDC_ERR_NOT_FOUND }, { ENOTDIR, TDC_ERR_NOT_FOUND },
	{ ELOOP, TDC_ERR_NOT_FOUND }, { ENAMETOOLONG, TDC_ERR_NOT_FOUND },
	{ EISDIR, TDC_ERR_TYPE }, { EACCES, TDC_ERR_PERM }, { EPERM, TDC_ERR_PERM },
};

static int errno_err(const char *op, const char *path)
{
	int e = errno, code = TDC_ERR_IO;

	for (size_t i = 0; i < sizeof(errno_codes) / sizeof(errno_codes[0]); i++)
		if (errno_codes[i].e == e)
			code = errno_codes[i].code;
	return tdc_err(code, "%s %s: %s", op, path, strerror(e));
}

int tdc_read_file(const char *path, size_t cap, struct tdc_buf *b)
{
	int fd, ret = 0;
	bool is_stdin = strcmp(path, "-") == 0;

	tdc_buf_reset(b);
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_err("open", path);
	for (;;) {
		ssize_t n;

		if ((ret = tdc_buf_reserve(b, 65536)) != 0)
			break;
		n = read(fd, b->data + b->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = errno_err("read", path);
			break;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > cap) {
			ret = tdc_err(TDC_ERR_TOO_LARGE, "%s: larger than the %zu-byte limit",
				      path, cap);
			break;
		}
	}
	if (!is_stdin)
		close(fd);
	return ret;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Devices, FIFOs and terminals are written in place: replacing them by
 * rename(2) would, as root, turn /dev/null into a regular file.
 */
static int write_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return errno_err("open", path);
	if (write_all(fd, data, len) != 0) {
		int ret = errno_err("write", path);

		close(fd);
		return ret;
	}
	if (close(fd) != 0)
		return errno_err("close", path);
	return 0;
}

int tdc_write_file(const char *path, const void *data, size_t len)
{
	char tmp[4096];
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, data, len) != 0)
			return errno_err("write", "stdout");
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, data, len);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return tdc_err(TDC_ERR_RANGE, "path too long: %s", path);
	if ((fd = mkstemp(tmp)) < 0)
		return errno_err("create", tmp);
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int ret = errno_err("write", tmp);

		close(fd);
		unlink(tmp);
		return ret;
	}
	fchmod(fd, 0644);
	close(fd);
	if (rename(tmp, path) != 0) {
		int ret = errno_err("rename to", path);

		unlink(tmp);
		return ret;
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tdc_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len)
{
	size_t n;

	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n % 2)
		return tdc_err(TDC_ERR_FORMAT, "hex string has odd length %zu", n);
	if (n / 2 > out_cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "hex string is %zu bytes, at most %zu allowed",
			       n / 2, out_cap);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return tdc_err(TDC_ERR_FORMAT, "invalid hex digit at position %zu",
				       hi < 0 ? 2 * i : 2 * i + 1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = n / 2;
	return 0;
}

void tdc_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}
