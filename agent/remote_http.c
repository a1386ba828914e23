// SPDX-License-Identifier: Apache-2.0
/*
 * `tdcpuid-agent evidence --to http(s)://HOST:PORT`: the agent as a client
 * of the REST API (docs/rest.md), with libcurl.  newSession, evidence bound
 * to the session's nonce, the answer, DELETE.  Only in the dynamic agent:
 * the static one has no libcurl (agent/CMakeLists.txt says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "tdcpuid/error.h"

#ifndef TDC_AGENT_HTTP

int tdc_agent_remote_http(const struct tdc_agent_http *h, tdc_evidence_fn fn, void *ctx,
			  const char *output, bool *passed)
{
	return tdc_err(TDC_ERR_UNSUPPORTED, "--to %s: this agent is built without the HTTP "
		       "client (the static agent has no libcurl); use tcp:, vsock: or --serial, "
		       "or the dynamic tdcpuid-agent", h->url);
}

#else

#include <curl/curl.h>
#include <openssl/evp.h>

#include "curl_dl.h"

#include "tdcpuid/cli.h"
#include "tdcpuid/jws.h"
#include "tdcpuid/rest.h"
#include "tdcpuid/transport.h"

struct http {
	CURL *c;
	const struct tdc_agent_http *h;
	uint64_t deadline;
	char base[1024];
	char errbuf[CURL_ERROR_SIZE];
	struct tdc_buf body;
	bool over;
	long status;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct http *x = arg;

	if (tdc_rest_body_add(&x->body, p, sz * n, TDC_REST_SESSION_MAX) != 0) {
		x->over = true;
		return 0;
	}
	return sz * n;
}

/* One request: @body NULL for none; the answer lands in x->body, x->status. */
static int call(struct http *x, const char *method, const char *url, const char *ctype,
		const struct tdc_buf *body)
{
	struct curl_slist *hdr = NULL;
	char line[160];
	uint64_t now = tdc_now_ms();
	CURLcode rc;

	if (now >= x->deadline)
		return tdc_err(TDC_ERR_TIMEOUT, "%s: deadline passed", x->h->url);
	tdc_buf_reset(&x->body);
	x->over = false;
	x->errbuf[0] = '\0';
	curl_easy_reset(x->c);
	curl_easy_setopt(x->c, CURLOPT_URL, url);
	curl_easy_setopt(x->c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->c, CURLOPT_TIMEOUT_MS, (long)(x->deadline - now));
	curl_easy_setopt(x->c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (x->h->ca_cert)
		curl_easy_setopt(x->c, CURLOPT_CAINFO, x->h->ca_cert);
	hdr = curl_slist_append(hdr, "Accept: " TDC_REST_MT_SESSION ", " TDC_REST_MT_PROBLEM);
	if (ctype) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		hdr = curl_slist_append(hdr, line);
	}
	/* Small bodies go at once; the verifier answers 413/415 before a big one. */
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, hdr);
	if (body) {
		curl_easy_setopt(x->c, CURLOPT_POSTFIELDS, (const char *)body->data);
		curl_easy_setopt(x->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(x->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(x->c, CURLOPT_POSTFIELDS, "");
	}
	rc = curl_easy_perform(x->c);
	curl_slist_free_all(hdr);
	if (x->over)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: answer over %u bytes", url,
			       TDC_REST_SESSION_MAX);
	if (rc != CURLE_OK)
		return tdc_err(rc == CURLE_OPERATION_TIMEDOUT ? TDC_ERR_TIMEOUT : TDC_ERR_IO,
			       "%s: %s", url, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->status);
	return 0;
}

/*
 * An answer other than @want: the problem document's words, and the error
 * a framed verifier would have sent for the same refusal, so the exit
 * status does not depend on the transport (tdcpuid-agent.1 EXIT STATUS).
 * Our verifier names that code (tdcpuid.code, docs/rest.md), mapped as an
 * error frame's code is; without it (an older verifier, a proxy) the status
 * says what it can: 429/503 try later (75), the verifier's own failure
 * (500, or a proxy's 502/504 in front of it) internal (3), any other
 * refusal bad input (2).
 */
static int refused(struct http *x, const char *what, long want)
{
	static const struct { long status; int err; } map[] = {
		{ 403, TDC_ERR_NOT_FOUND }, { 404, TDC_ERR_NOT_FOUND }, { 409, TDC_ERR_NONCE },
		{ 410, TDC_ERR_NONCE }, { 413, TDC_ERR_TOO_LARGE }, { 408, TDC_ERR_TIMEOUT },
		{ 422, TDC_ERR_FORMAT }, { 429, TDC_ERR_BUSY }, { 503, TDC_ERR_BUSY },
		{ 500, TDC_ERR_INTERNAL }, { 502, TDC_ERR_IO }, { 504, TDC_ERR_TIMEOUT },
	};
	char text[320];
	int err = x->status >= 500 && x->status < 600 ? TDC_ERR_INTERNAL : TDC_ERR_PROTOCOL;
	int64_t code;
	bool has_code;

	if (x->status == want)
		return 0;
	tdc_rest_problem_text(x->body.data, x->body.len, text, sizeof(text), &has_code, &code);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].status == x->status)
			err = map[i].err;
	if (has_code)
		err = tdc_client_refusal_code(code);
	return tdc_err(err, "verifier: %s: HTTP %ld%s%s", what, x->status, text[0] ? ": " : "",
		       text);
}

static int new_session(struct http *x, struct tdc_rest_session *s, char *loc, size_t cap)
{
	struct curl_header *hd = NULL;
	char url[1400], *vm = NULL;
	int e;

	if (x->h->vm && !(vm = curl_easy_escape(x->c, x->h->vm, 0)))
		return tdc_err(TDC_ERR_ALLOC, "url");
	snprintf(url, sizeof(url), "%s%s?nonceSize=%d%s%s", x->base, TDC_REST_NEW_SESSION,
		 TDC_NONCE_LEN, vm ? "&vm=" : "", vm ? vm : "");
	curl_free(vm);
	if ((e = call(x, "POST", url, NULL, NULL)) != 0 || (e = refused(x, "newSession", 201)))
		return e;
	/* Only a session path on the same service: never a redirect elsewhere. */
	if (curl_easy_header(x->c, "Location", 0, CURLH_HEADER, -1, &hd) != CURLHE_OK ||
	    strncmp(hd->value, TDC_REST_SESSION, strlen(TDC_REST_SESSION)) ||
	    strlen(hd->value) >= 128 || strspn(hd->value + strlen(TDC_REST_SESSION),
					       "0123456789abcdef") !=
					strlen(hd->value + strlen(TDC_REST_SESSION)))
		return tdc_err(TDC_ERR_PROTOCOL, "verifier: newSession: no session path in "
			       "Location");
	snprintf(loc, cap, "%s%s", x->base, hd->value);
	if ((e = tdc_rest_session_parse(x->body.data, x->body.len, s)) != 0)
		return tdc_err_wrap(e, "verifier: newSession: ");
	if (strcmp(s->status, "waiting") || s->nonce_len != TDC_NONCE_LEN)
		return tdc_err(TDC_ERR_PROTOCOL, "verifier: newSession: status '%s', %zu-byte nonce",
			       s->status, s->nonce_len);
	return 0;
}

/* The verdict document out of the answer, and whether it passes. */
static int verdict(struct http *x, const struct tdc_rest_session *ns,
		   const struct tdc_rest_session *s, EVP_PKEY *key, struct tdc_buf *doc,
		   bool *passed)
{
	const char *jws = (const char *)s->result.data, *dot;
	int e;

	if (strcmp(s->status, "complete") || !s->has_result)
		return tdc_err(TDC_ERR_PROTOCOL, "verifier: session %s without a result%s%s",
			       s->status, s->error[0] ? ": " : "", s->error);
	if (key) {
		/* Only what the key signed counts, and only for this session's nonce. */
		if (!s->result_jwt)
			return tdc_err(TDC_ERR_SIGNATURE, "verdict: not signed, but a verifier key is "
				       "configured");
		if ((e = tdc_jws_es256_verify(key, jws, s->result.len, doc)) != 0)
			return tdc_err_wrap(TDC_ERR_SIGNATURE, "verdict: ");
		return tdc_rest_doc_verdict(doc->data, doc->len, ns->nonce, ns->nonce_len, passed);
	}
	if (!s->has_passed)
		return tdc_err(TDC_ERR_PROTOCOL, "verifier: session without tdcpuid.passed");
	*passed = s->passed;
	if (!s->result_jwt)
		return tdc_buf_put(doc, s->result.data, s->result.len);
	/* Signed, but no key to check it with: the payload, said to be unchecked. */
	if (!(jws = strchr(jws, '.')) || !(dot = strchr(jws + 1, '.')))
		return tdc_err(TDC_ERR_FORMAT, "verdict: result is not a compact JWS");
	return tdc_rest_b64_decode_buf(jws + 1, (size_t)(dot - jws - 1), doc);
}

static int exchange(struct http *x, EVP_PKEY *key, tdc_evidence_fn fn, void *ctx,
		    struct tdc_buf *doc, bool *passed, struct tdc_rest_session *s)
{
	struct tdc_rest_session ns;
	struct tdc_buf ev;
	char loc[1400];
	int e;

	tdc_rest_session_init(&ns);
	tdc_buf_init(&ev);
	if ((e = new_session(x, &ns, loc, sizeof(loc))) != 0 ||
	    (e = fn(ctx, ns.nonce, ns.nonce_len, &ev)) != 0)
		goto out;
	e = call(x, "POST", loc, TDC_REST_MT_EVIDENCE, &ev);
	if (!e && !(e = refused(x, "evidence", 200)) &&
	    !(e = tdc_rest_session_parse(x->body.data, x->body.len, s)))
		e = verdict(x, &ns, s, key, doc, passed);
	/* The session has served; a failed DELETE changes nothing, nor its message. */
	if (!e || x->status) {
		char why[512];

		snprintf(why, sizeof(why), "%s", tdc_errdetail());
		(void)call(x, "DELETE", loc, NULL, NULL);
		if (e)
			e = tdc_err(e, "%s", why);
	}
out:
	tdc_buf_free(&ev);
	tdc_rest_session_free(&ns);
	return e;
}

int tdc_agent_remote_http(const struct tdc_agent_http *h, tdc_evidence_fn fn, void *ctx,
			  const char *output, bool *passed)
{
	struct http x = { .h = h, .deadline = tdc_now_ms() + (uint64_t)h->timeout_s * 1000 };
	struct tdc_rest_session s;
	struct tdc_buf doc;
	EVP_PKEY *key = NULL;
	int e, saved;

	tdc_buf_init(&x.body);
	tdc_buf_init(&doc);
	tdc_rest_session_init(&s);
	size_t scheme = strncmp(h->url, "https://", 8) ? 7 : 8;

	snprintf(x.base, sizeof(x.base), "%.*s", (int)(strcspn(h->url + scheme, "/") + scheme),
		 h->url);
	if (strlen(h->url) >= sizeof(x.base) || (strcmp(h->url + strlen(x.base), "") &&
						  strcmp(h->url + strlen(x.base), "/"))) {
		e = tdc_err(TDC_ERR_USAGE, "--to %s: give http(s)://HOST:PORT (the API path is "
			    "fixed)", h->url);
		goto out;
	}
	if ((h->verifier_key && (e = tdc_es256_load_public(h->verifier_key, &key)) != 0))
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(x.c = curl_easy_init())) {
		e = tdc_err(TDC_ERR_INTERNAL, "libcurl did not initialise%s%s",
			    *tdc_curl_dl_error() ? ": " : "", tdc_curl_dl_error());
		goto out;
	}
	saved = exchange(&x, key, fn, ctx, &doc, passed, &s);
	if ((e = saved) != 0 || (e = tdc_buf_put_u8(&doc, '\n')) != 0 ||
	    (e = tdc_write_file(output, doc.data, doc.len)) != 0)
		goto out;
	fprintf(stderr, "%s evidence: %s: verdict %s (audit record %llu; %s)\n", tdc_prog, h->url,
		*passed ? "PASS" : "FAIL", (unsigned long long)s.record,
		key ? "signature verified with the verifier key"
		    : s.result_jwt ? "signed, not checked: no --verifier-key"
				   : "unsigned: not authenticated");
out:
	if (x.c)
		curl_easy_cleanup(x.c);
	EVP_PKEY_free(key);
	tdc_buf_free(&x.body);
	tdc_buf_free(&doc);
	tdc_rest_session_free(&s);
	return e;
}

#endif
