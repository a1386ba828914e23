/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP(S) GET through libcurl, the way the collateral client needs it:
 * TLS peer and host name always verified (the system trust store, or a
 * CA file for a PCCS with a private CA), connect and whole-transfer
 * timeouts, a hard cap on the body, only http/https (redirects too), no
 * signals (safe in the service's threads).  Every failure names the URL.
 */
#ifndef TDC_HTTP_H
#define TDC_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_HTTP_CONNECT_TIMEOUT_MS 5000
#define TDC_HTTP_TIMEOUT_MS 20000
#define TDC_HTTP_MAX_REDIRECTS 3

struct tdc_http_opts {
	unsigned connect_timeout_ms;   /* 0: TDC_HTTP_CONNECT_TIMEOUT_MS */
	unsigned timeout_ms;           /* whole transfer; 0: TDC_HTTP_TIMEOUT_MS */
	size_t max_body;               /* required: larger bodies fail */
	const char *ca_file;           /* PEM CA bundle for https, NULL: system store */
	/* Each raw header line (status lines included); nonzero aborts. */
	int (*on_header)(void *ctx, const uint8_t *line, size_t len);
	void *header_ctx;
	const atomic_bool *cancel;     /* set: abort the transfer (shutdown) */
};

struct tdc_http_resp {
	long status;
	struct tdc_buf body;
};

void tdc_http_resp_init(struct tdc_http_resp *r);
void tdc_http_resp_free(struct tdc_http_resp *r);
/* 0 when a response arrived (any status: the caller judges it). */
int tdc_http_get(const char *url, const struct tdc_http_opts *o, struct tdc_http_resp *r);

#endif
