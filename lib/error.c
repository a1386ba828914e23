// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tdcpuid/error.h"

#define TDC_ERRDETAIL_MAX 512

static _Thread_local char errdetail[TDC_ERRDETAIL_MAX];
static _Thread_local char errmsg[TDC_ERRDETAIL_MAX + 64];

static const char *const tdc_errstr[] = {
	[0] = "success",
	[-TDC_ERR_INTERNAL] = "internal error",
	[-TDC_ERR_ALLOC] = "out of memory",
	[-TDC_ERR_TRUNCATED] = "input truncated",
	[-TDC_ERR_TOO_LARGE] = "input exceeds size limit",
	[-TDC_ERR_FORMAT] = "invalid format",
	[-TDC_ERR_TRAILING] = "trailing bytes after end of structure",
	[-TDC_ERR_VERSION] = "unsupported version",
	[-TDC_ERR_DUPLICATE] = "duplicate entry",
	[-TDC_ERR_TYPE] = "wrong type",
	[-TDC_ERR_RANGE] = "value out of range",
	[-TDC_ERR_MISSING] = "required field missing",
	[-TDC_ERR_IO] = "I/O error",
	[-TDC_ERR_NOT_FOUND] = "not found",
	[-TDC_ERR_PERM] = "permission denied",
	[-TDC_ERR_UNSUPPORTED] = "not supported",
	[-TDC_ERR_SIGNATURE] = "signature verification failed",
	[-TDC_ERR_CHAIN] = "certificate chain invalid",
	[-TDC_ERR_BINDING] = "binding check failed",
	[-TDC_ERR_NONCE] = "nonce invalid",
	[-TDC_ERR_POLICY] = "policy check failed",
	[-TDC_ERR_TIMEOUT] = "timed out",
	[-TDC_ERR_USAGE] = "usage error",
	[-TDC_ERR_PROTOCOL] = "protocol error",
	[-TDC_ERR_TEE] = "TEE interface error",
	[-TDC_ERR_COLLATERAL] = "collateral invalid",
	[-TDC_ERR_MODEL] = "rejected by platform model",
	[-TDC_ERR_BUSY] = "temporary failure, try later",
};

const char *tdc_strerror(int code)
{
	if (code > 0 || code <= TDC_ERR__LAST || !tdc_errstr[-code])
		return "unknown error";
	return tdc_errstr[-code];
}

int tdc_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errdetail, sizeof(errdetail), fmt, ap);
	va_end(ap);
	return code;
}

int tdc_err_wrap(int code, const char *fmt, ...)
{
	char prefix[TDC_ERRDETAIL_MAX], old[TDC_ERRDETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(old, sizeof(old), "%s", errdetail);
	snprintf(errdetail, sizeof(errdetail), "%s%s", prefix, old);
	return code;
}

const char *tdc_errdetail(void)
{
	return errdetail;
}

void tdc_errclear(void)
{
	errdetail[0] = '\0';
}

const char *tdc_errmsg(int code)
{
	if (errdetail[0])
		snprintf(errmsg, sizeof(errmsg), "%s (%s)", errdetail, tdc_strerror(code));
	else
		snprintf(errmsg, sizeof(errmsg), "%s", tdc_strerror(code));
	return errmsg;
}

int tdc_exit_code(int code)
{
	switch (code) {
	case TDC_OK:
		return TDC_EXIT_OK;
	case TDC_ERR_INTERNAL:
	case TDC_ERR_ALLOC:
	case TDC_ERR_IO:
	case TDC_ERR_PERM:
	case TDC_ERR_UNSUPPORTED:
	case TDC_ERR_TEE:
	case TDC_ERR_TIMEOUT:
		return TDC_EXIT_INTERNAL;
	case TDC_ERR_POLICY:
		return TDC_EXIT_FAIL;
	case TDC_ERR_BUSY:
		return TDC_EXIT_TEMPFAIL;
	default:
		return TDC_EXIT_INPUT;
	}
}
