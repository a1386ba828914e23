// SPDX-License-Identifier: Apache-2.0
/* HTTP(S) GET for the collateral client (libcurl easy interface; http.h). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "tdcpuid/error.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe before 7.84; call it exactly once. */
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct xfer {
	const char *url;
	const struct tdc_http_opts *o;
	struct tdc_http_resp *r;
	int err;                 /* set by a callback that aborted */
	char why[384];
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;

	if (x->r->body.len + len > x->o->max_body) {
		x->err = TDC_ERR_TOO_LARGE;
		snprintf(x->why, sizeof(x->why), "response body exceeds %zu bytes", x->o->max_body);
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	if (tdc_buf_put(&x->r->body, p, len) != 0) {
		x->err = TDC_ERR_ALLOC;
		snprintf(x->why, sizeof(x->why), "out of memory");
		return 0;
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;
	int e;

	if (x->o->on_header && (e = x->o->on_header(x->o->header_ctx, (const uint8_t *)p, len))) {
		x->err = e;
		snprintf(x->why, sizeof(x->why), "%s", tdc_errdetail());
		return 0;
	}
	return len;
}

static int on_progress(void *ctx, curl_off_t dlt, curl_off_t dl, curl_off_t ult, curl_off_t ul)
{
	struct xfer *x = ctx;

	if (x->o->cancel && atomic_load(x->o->cancel)) {
		x->err = TDC_ERR_TIMEOUT;
		snprintf(x->why, sizeof(x->why), "cancelled (shutting down)");
		return 1;
	}
	return 0;
}

void tdc_http_resp_init(struct tdc_http_resp *r)
{
	r->status = 0;
	tdc_buf_init(&r->body);
}

void tdc_http_resp_free(struct tdc_http_resp *r)
{
	tdc_buf_free(&r->body);
}

int tdc_http_get(const char *url, const struct tdc_http_opts *o, struct tdc_http_resp *r)
{
	struct xfer x = { url, o, r, 0, "" };
	char errbuf[CURL_ERROR_SIZE] = "";
	bool https = !strncmp(url, "https://", 8);
	CURL *c;
	CURLcode rc;
	int ret = 0;

	tdc_buf_reset(&r->body);
	r->status = 0;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return tdc_err(TDC_ERR_INTERNAL, "GET %s: libcurl initialisation failed", url);
	if (!(c = curl_easy_init()))
		return tdc_err(TDC_ERR_ALLOC, "GET %s: libcurl handle", url);
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    /* https never falls back to http on a redirect; http may go to https. */
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, https ? "https" : "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)TDC_HTTP_MAX_REDIRECTS) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    (o->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file) != CURLE_OK) ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			     (long)(o->connect_timeout_ms ? o->connect_timeout_ms
							  : TDC_HTTP_CONNECT_TIMEOUT_MS)) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
			     (long)(o->timeout_ms ? o->timeout_ms : TDC_HTTP_TIMEOUT_MS)) != CURLE_OK ||
	    /* Refuses early when the server announces a larger body. */
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "tdcpuid-verifier/" TDC_VERSION) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x) != CURLE_OK ||
	    (o->cancel && (curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
			   curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
			   curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x) != CURLE_OK))) {
		ret = tdc_err(TDC_ERR_INTERNAL, "GET %s: libcurl option refused", url);
		goto out;
	}
	rc = curl_easy_perform(c);
	if (x.err) {
		ret = tdc_err(x.err, "GET %s: %s", url, x.why);
	} else if (rc == CURLE_FILESIZE_EXCEEDED) {
		ret = tdc_err(TDC_ERR_TOO_LARGE, "GET %s: response body exceeds %zu bytes", url,
			      o->max_body);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		ret = tdc_err(TDC_ERR_TIMEOUT, "GET %s: %s", url, errbuf[0] ? errbuf :
			      curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		ret = tdc_err(TDC_ERR_IO, "GET %s: %s", url, errbuf[0] ? errbuf :
			      curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	}
out:
	curl_easy_cleanup(c);
	if (ret)
		tdc_buf_reset(&r->body);
	return ret;
}
