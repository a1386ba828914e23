/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Serial-console armor for evidence (initramfs runs without a network):
 *
 *   -----BEGIN TDCPUID EVIDENCE v1-----
 *   Length: 4242
 *   SHA-256: <64 hex>
 *   <base64, 76 columns per line>
 *   -----END TDCPUID EVIDENCE v1-----
 *
 * The reader (tdcpuid-verifier ingest) finds blocks in a noisy console log:
 * CRLF line ends, kernel messages on lines between the armor lines, text
 * before a marker on the same line.  Length and SHA-256 make a corrupted or
 * mis-assembled block fail loudly instead of decoding to other bytes.
 */
#ifndef TDCPUID_SERIAL_H
#define TDCPUID_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_ARMOR_BEGIN "-----BEGIN TDCPUID EVIDENCE v1-----"
#define TDC_ARMOR_END "-----END TDCPUID EVIDENCE v1-----"
#define TDC_ARMOR_COLS 76
/* A console log holding a boot or two plus the armor. */
#define TDC_SERIAL_LOG_MAX (64u * 1024 * 1024)

/* Append the armored block (ending in "\n") for @len bytes to @out. */
int tdc_armor_encode(const uint8_t *data, size_t len, struct tdc_buf *out);

/*
 * Find the next armored block at or after *@pos in @log, decode and check
 * it into @out, and advance *@pos past its END line.  TDC_ERR_NOT_FOUND
 * when no further BEGIN line exists; other errors describe a broken block
 * (*@pos is still advanced so a caller can go on to the next one).
 */
int tdc_armor_next(const uint8_t *log, size_t len, size_t *pos, struct tdc_buf *out);

/*
 * Armor @len bytes and write them to a serial device or file ("-" =
 * stdout), appending: a console is a stream, not a file to replace.
 */
int tdc_armor_write(const char *path, const uint8_t *data, size_t len);

/* Base64 (RFC 4648, padded), strict decode: no whitespace, no junk. */
int tdc_base64_encode(const uint8_t *in, size_t len, struct tdc_buf *out);
int tdc_base64_decode(const char *in, size_t len, struct tdc_buf *out);

#endif
