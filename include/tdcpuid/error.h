/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One error space for the whole project (OpenSSH ssherr.h style): every
 * function returns int, 0 on success or a negative TDC_ERR_* code.
 *
 * Codes say *what kind* of failure; the detail (which file, field, offset)
 * goes into a per-thread message set with tdc_err(), so callers can print
 * "evidence: claims.cpus[3].table: wrong CBOR type (expected array)".
 */
#ifndef TDCPUID_ERROR_H
#define TDCPUID_ERROR_H

#include <stddef.h>

enum tdc_err {
	TDC_OK = 0,
	TDC_ERR_INTERNAL = -1,     /* bug or unexpected library failure */
	TDC_ERR_ALLOC = -2,        /* out of memory */
	TDC_ERR_TRUNCATED = -3,    /* input ends before a field it declares */
	TDC_ERR_TOO_LARGE = -4,    /* input or a count exceeds a hard cap */
	TDC_ERR_FORMAT = -5,       /* structurally invalid input */
	TDC_ERR_TRAILING = -6,     /* bytes after the end of a strict structure */
	TDC_ERR_VERSION = -7,      /* unsupported format/protocol version */
	TDC_ERR_DUPLICATE = -8,    /* duplicate map key or entry */
	TDC_ERR_TYPE = -9,         /* field has the wrong type */
	TDC_ERR_RANGE = -10,       /* value outside its allowed range */
	TDC_ERR_MISSING = -11,     /* required field absent */
	TDC_ERR_IO = -12,          /* read/write/open failed (errno in detail) */
	TDC_ERR_NOT_FOUND = -13,   /* device, file or entry does not exist */
	TDC_ERR_PERM = -14,        /* permission denied */
	TDC_ERR_UNSUPPORTED = -15, /* feature absent on this platform/build */
	TDC_ERR_SIGNATURE = -16,   /* a signature or MAC does not verify */
	TDC_ERR_CHAIN = -17,       /* certificate chain/CRL/validity problem */
	TDC_ERR_BINDING = -18,     /* hash binding (REPORTDATA, QE report) wrong */
	TDC_ERR_NONCE = -19,       /* nonce unknown, reused, expired or wrong */
	TDC_ERR_POLICY = -20,      /* policy evaluation failed */
	TDC_ERR_TIMEOUT = -21,     /* deadline expired */
	TDC_ERR_USAGE = -22,       /* bad command line */
	TDC_ERR_PROTOCOL = -23,    /* peer violated the wire protocol */
	TDC_ERR_TEE = -24,         /* TEE interface failed (ioctl, configfs) */
	TDC_ERR_COLLATERAL = -25,  /* collateral invalid, expired or mismatched */
	TDC_ERR_MODEL = -26,       /* platform model rejects the configuration */
	TDC_ERR_BUSY = -27,        /* a service is at a limit now: try again later */
	TDC_ERR__LAST = -28,
};

/* Static description of a code ("input truncated"). Never NULL. */
const char *tdc_strerror(int code);

/*
 * Record detail for the current thread and return @code, so parsers can
 * write `return tdc_err(TDC_ERR_TYPE, "claims.xcr0: expected unsigned");`.
 * The detail replaces any earlier one.
 */
int tdc_err(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current detail with context: "evidence.cbor: " + detail. */
int tdc_err_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Detail for the current thread ("" if none). Valid until the next tdc_err. */
const char *tdc_errdetail(void);
void tdc_errclear(void);

/* "detail (strerror)" or just strerror: what a CLI prints after "prog: ". */
const char *tdc_errmsg(int code);

/*
 * Map an error to the CLI exit code convention of every tdcpuid tool:
 * 2 bad input or usage, 3 internal/environment error, 75 try later.
 */
int tdc_exit_code(int code);

enum tdc_exit {
	TDC_EXIT_OK = 0,
	TDC_EXIT_FAIL = 1,     /* policy failure (verifier) */
	TDC_EXIT_INPUT = 2,    /* bad input or usage */
	TDC_EXIT_INTERNAL = 3, /* internal or environment error */
	TDC_EXIT_TEMPFAIL = 75, /* the verifier is busy: try again later (EX_TEMPFAIL) */
};

#endif
