/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way tdcpuid reads untrusted bytes (OpenSSH sshbuf style).
 *
 * A tdc_reader is a window [off, len) over caller-owned memory.  Every get
 * checks the remaining length first and fails with TDC_ERR_TRUNCATED, naming
 * the reader's label and the offset, without moving the cursor.  Parsers
 * never do pointer arithmetic on raw input; they take sub-readers for nested
 * structures so an inner length can never reach past its parent.
 *
 * tdc_buf is the growable output side (encoders, frames, file reads).
 */
#ifndef TDCPUID_BUF_H
#define TDCPUID_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tdc_reader {
	const uint8_t *data;
	size_t len;
	size_t off;
	const char *what; /* label used in error messages, e.g. "quote" */
	size_t base;      /* absolute offset of data[0] in the outermost input */
};

void tdc_reader_init(struct tdc_reader *r, const void *data, size_t len,
		     const char *what);
size_t tdc_reader_remaining(const struct tdc_reader *r);
size_t tdc_reader_offset(const struct tdc_reader *r); /* absolute */

int tdc_get_u8(struct tdc_reader *r, uint8_t *v);
int tdc_get_u16le(struct tdc_reader *r, uint16_t *v);
int tdc_get_u32le(struct tdc_reader *r, uint32_t *v);
int tdc_get_u64le(struct tdc_reader *r, uint64_t *v);
int tdc_get_u16be(struct tdc_reader *r, uint16_t *v);
int tdc_get_u32be(struct tdc_reader *r, uint32_t *v);
/* Copy n bytes out. */
int tdc_get_bytes(struct tdc_reader *r, void *dst, size_t n);
/* Borrow n bytes in place (valid as long as the underlying memory). */
int tdc_get_ref(struct tdc_reader *r, size_t n, const uint8_t **p);
/* Carve the next n bytes into @sub (labelled @what) and advance past them. */
int tdc_get_sub(struct tdc_reader *r, size_t n, struct tdc_reader *sub,
		const char *what);
int tdc_skip(struct tdc_reader *r, size_t n);
/* Peek at an offset relative to the cursor, without consuming. */
int tdc_peek_u8(const struct tdc_reader *r, size_t off, uint8_t *v);
/* TDC_ERR_TRAILING (naming the count) unless everything was consumed. */
int tdc_reader_expect_end(const struct tdc_reader *r);

/* Hard cap for any growable buffer: nothing tdcpuid handles is this big. */
#define TDC_BUF_MAX (64u * 1024 * 1024)

struct tdc_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void tdc_buf_init(struct tdc_buf *b);
void tdc_buf_free(struct tdc_buf *b); /* zeroes contents first */
void tdc_buf_reset(struct tdc_buf *b);
int tdc_buf_reserve(struct tdc_buf *b, size_t extra);
int tdc_buf_put(struct tdc_buf *b, const void *p, size_t n);
int tdc_buf_put_u8(struct tdc_buf *b, uint8_t v);
int tdc_buf_put_u16le(struct tdc_buf *b, uint16_t v);
int tdc_buf_put_u32le(struct tdc_buf *b, uint32_t v);
int tdc_buf_put_u32be(struct tdc_buf *b, uint32_t v);
int tdc_buf_printf(struct tdc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Ensure a NUL after the data (not counted in len); returns data as char*. */
const char *tdc_buf_cstr(struct tdc_buf *b);

/*
 * Read a whole file ("-" = stdin) into @b, failing with TDC_ERR_TOO_LARGE
 * (naming the path and the cap) if it is bigger than @cap.
 */
int tdc_read_file(const char *path, size_t cap, struct tdc_buf *b);
/*
 * Write atomically: temp file in the same directory, fsync, rename.  "-" =
 * stdout; an existing non-regular target (/dev/null, a FIFO) is written in place.
 */
int tdc_write_file(const char *path, const void *data, size_t len);

/* Hex helpers: strict, even length, no prefix except an optional "0x". */
int tdc_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len);
void tdc_hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);

#endif
