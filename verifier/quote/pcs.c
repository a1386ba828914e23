// SPDX-License-Identifier: Apache-2.0
/*
 * Intel PCS / PCCS API v4 as data, and the parsers for what its responses
 * put in headers (see pcs.h for the sources).  Header lines and issuer
 * chains are untrusted bytes: they are read through lib/buf.c's reader,
 * under the caps of pcs.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "pcs.h"
#include "tdcpuid/error.h"

static const struct tdc_pcs_doc_desc docs[TDC_PCS__COUNT] = {
	[TDC_PCS_TCB] = { TDC_PCS_TCB, "tcb", "TCB info", "/tdx/certification/v4/tcb",
			  "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain", true, false },
	[TDC_PCS_QEID] = { TDC_PCS_QEID, "qe-identity", "QE identity",
			   "/tdx/certification/v4/qe/identity",
			   "SGX-Enclave-Identity-Issuer-Chain", NULL, true, false },
	[TDC_PCS_PCKCRL] = { TDC_PCS_PCKCRL, "pckcrl", "PCK CRL",
			     "/sgx/certification/v4/pckcrl", "SGX-PCK-CRL-Issuer-Chain", NULL,
			     false, true },
	[TDC_PCS_ROOTCRL] = { TDC_PCS_ROOTCRL, "rootcrl", "root CA CRL",
			      "/sgx/certification/v4/rootcacrl", NULL, NULL, false, true },
};

/* Intel's own service has no rootcacrl endpoint: the CRL lives where the
 * PCK CA certificates' CRL distribution point says. */
static const struct {
	const char *host;
	const char *root_crl_url;
} root_crl_elsewhere[] = {
	{ "api.trustedservices.intel.com",
	  "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der" },
};

static const char *const ca_names[TDC_PCS_CA__COUNT] = { "processor", "platform" };
static const char *const ca_cn_words[TDC_PCS_CA__COUNT] = { "Processor", "Platform" };
static const char *const update_names[] = { "standard", "early" };

const struct tdc_pcs_doc_desc *tdc_pcs_doc_desc(enum tdc_pcs_doc d)
{
	return (unsigned)d < TDC_PCS__COUNT ? &docs[d] : &docs[0];
}

const char *tdc_pcs_ca_name(enum tdc_pcs_ca ca)
{
	return (unsigned)ca < TDC_PCS_CA__COUNT ? ca_names[ca] : "?";
}

const char *tdc_tcb_update_name(enum tdc_tcb_update u)
{
	return u == TDC_TCB_UPDATE_EARLY ? update_names[1] : update_names[0];
}

int tdc_tcb_update_parse(const char *s, enum tdc_tcb_update *out)
{
	for (size_t i = 0; i < sizeof(update_names) / sizeof(update_names[0]); i++)
		if (!strcmp(s, update_names[i])) {
			*out = (enum tdc_tcb_update)i;
			return 0;
		}
	return tdc_err(TDC_ERR_RANGE, "tcb update type '%s': expected early or standard", s);
}

int tdc_pcs_base_parse(const char *url, char base[TDC_PCS_URL_MAX], char host[256])
{
	static const char *const suffixes[] = { "/sgx/certification/v4", "/tdx/certification/v4" };
	const char *h;
	size_t n, hl;

	if (!strncmp(url, "https://", 8))
		h = url + 8;
	else if (!strncmp(url, "http://", 7))
		h = url + 7;
	else
		return tdc_err(TDC_ERR_USAGE, "collateral URL %s: expected http:// or https://", url);
	if (strpbrk(url, "?#"))
		return tdc_err(TDC_ERR_USAGE, "collateral URL %s: no query or fragment "
			       "(give the service's base URL)", url);
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return tdc_err(TDC_ERR_USAGE, "collateral URL: space or non-ASCII byte");
	hl = strcspn(h, "/");
	if (hl == 0 || hl >= 256 || strchr(h, '@'))
		return tdc_err(TDC_ERR_USAGE, "collateral URL %s: bad host", url);
	n = strlen(url);
	while (n > (size_t)(h - url) + hl && url[n - 1] == '/')
		n--;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);

		if (n >= sl && !strncmp(url + n - sl, suffixes[i], sl))
			n -= sl;
	}
	while (n > (size_t)(h - url) + hl && url[n - 1] == '/')
		n--;
	/* Room for the longest document path and query. */
	if (n + 96 >= TDC_PCS_URL_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral URL too long (%zu bytes)", n);
	memcpy(base, url, n);
	base[n] = '\0';
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

int tdc_pcs_url(const char *base, enum tdc_pcs_doc d, const uint8_t fmspc[6],
		enum tdc_pcs_ca ca, enum tdc_tcb_update u, char out[TDC_PCS_URL_MAX])
{
	const struct tdc_pcs_doc_desc *dd = tdc_pcs_doc_desc(d);
	const char *upd = tdc_tcb_update_name(u);
	int n;

	switch (d) {
	case TDC_PCS_TCB:
		n = snprintf(out, TDC_PCS_URL_MAX, "%s%s?fmspc=%02x%02x%02x%02x%02x%02x&update=%s",
			     base, dd->path, fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4],
			     fmspc[5], upd);
		break;
	case TDC_PCS_QEID:
		n = snprintf(out, TDC_PCS_URL_MAX, "%s%s?update=%s", base, dd->path, upd);
		break;
	case TDC_PCS_PCKCRL:
		n = snprintf(out, TDC_PCS_URL_MAX, "%s%s?ca=%s&encoding=der", base, dd->path,
			     tdc_pcs_ca_name(ca));
		break;
	default:
		for (size_t i = 0; i < sizeof(root_crl_elsewhere) / sizeof(root_crl_elsewhere[0]); i++) {
			const char *h = strstr(base, "://");
			size_t hl = strlen(root_crl_elsewhere[i].host);

			if (h && !strncmp(h + 3, root_crl_elsewhere[i].host, hl) &&
			    (h[3 + hl] == '\0' || h[3 + hl] == '/' || h[3 + hl] == ':')) {
				n = snprintf(out, TDC_PCS_URL_MAX, "%s",
					     root_crl_elsewhere[i].root_crl_url);
				goto done;
			}
		}
		n = snprintf(out, TDC_PCS_URL_MAX, "%s%s", base, dd->path);
		break;
	}
done:
	if (n < 0 || n >= TDC_PCS_URL_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral URL too long");
	return 0;
}

/* ---- response headers ---------------------------------------------------- */

void tdc_pcs_headers_init(struct tdc_pcs_headers *h, const struct tdc_pcs_doc_desc *d)
{
	memset(h, 0, sizeof(*h));
	h->desc = d;
	tdc_buf_init(&h->chain);
}

void tdc_pcs_headers_free(struct tdc_pcs_headers *h)
{
	tdc_buf_free(&h->chain);
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ws(struct tdc_reader *r)
{
	uint8_t c;

	while (tdc_reader_remaining(r) && tdc_peek_u8(r, 0, &c) == 0 && is_space(c))
		tdc_skip(r, 1);
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tdc_pcs_url_decode(const uint8_t *in, size_t len, size_t cap, struct tdc_buf *out)
{
	struct tdc_reader r;
	size_t start = out->len;
	uint8_t c, hx[2];
	int ret;

	tdc_reader_init(&r, in, len, "issuer chain header");
	while (tdc_reader_remaining(&r)) {
		size_t at = tdc_reader_offset(&r);

		if ((ret = tdc_get_u8(&r, &c)) != 0)
			return ret;
		if (c == '%') {
			if (tdc_get_bytes(&r, hx, 2) != 0 || hexval(hx[0]) < 0 || hexval(hx[1]) < 0)
				return tdc_err(TDC_ERR_FORMAT, "issuer chain header: '%%' at offset "
					       "%zu not followed by two hex digits", at);
			c = (uint8_t)(hexval(hx[0]) << 4 | hexval(hx[1]));
			if (!(c >= 0x20 && c < 0x7f) && c != '\n' && c != '\r' && c != '\t')
				return tdc_err(TDC_ERR_FORMAT, "issuer chain header: %%%c%c at "
					       "offset %zu decodes to byte 0x%02x (PEM is ASCII "
					       "text)", hx[0], hx[1], at, c);
		} else if (c <= 0x20 || c >= 0x7f) {
			return tdc_err(TDC_ERR_FORMAT, "issuer chain header: byte 0x%02x at "
				       "offset %zu must be percent-encoded", c, at);
		}
		if (out->len - start >= cap)
			return tdc_err(TDC_ERR_TOO_LARGE, "issuer chain header: decoded chain "
				       "exceeds %zu bytes", cap);
		if ((ret = tdc_buf_put_u8(out, c)) != 0)
			return ret;
	}
	return 0;
}

/* Copy a header value (printable ASCII only) for messages. */
static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < cap; i++)
		dst[j++] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
	dst[j] = '\0';
}

static bool name_is(const uint8_t *name, size_t n, const char *want)
{
	return want && strlen(want) == n && !strncasecmp((const char *)name, want, n);
}

/* "HTTP/1.1 200 OK" or "HTTP/2 200": the status code. */
static int status_line(struct tdc_pcs_headers *h, struct tdc_reader *r)
{
	const uint8_t *p;
	size_t n = tdc_reader_remaining(r), i = 0;
	long code = 0;
	int digits = 0;

	if (tdc_get_ref(r, n, &p) != 0)
		return TDC_ERR_INTERNAL;
	while (i < n && p[i] != ' ')
		i++;
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && digits < 3 && isdigit(p[i]); i++, digits++)
		code = code * 10 + (p[i] - '0');
	if (digits != 3 || (i < n && p[i] != ' '))
		return tdc_err(TDC_ERR_PROTOCOL, "HTTP status line without a 3-digit status");
	/* A new response (redirect, 100 Continue): only the last one counts. */
	tdc_buf_reset(&h->chain);
	h->has_chain = false;
	h->request_id[0] = h->error_code[0] = h->error_message[0] = '\0';
	h->status = code;
	return 0;
}

int tdc_pcs_header_line(struct tdc_pcs_headers *h, const uint8_t *line, size_t len)
{
	struct tdc_reader r;
	const uint8_t *name, *value;
	size_t nlen = 0, vlen, n = len;
	uint8_t c = 0;
	int ret;

	if (len > TDC_PCS_HEADER_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "HTTP response header line of %zu bytes "
			       "exceeds %u", len, TDC_PCS_HEADER_MAX);
	if ((h->total += len) > TDC_PCS_HEADERS_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "HTTP response headers exceed %u bytes",
			       TDC_PCS_HEADERS_MAX);
	/* The line terminator and trailing whitespace are not part of a value. */
	tdc_reader_init(&r, line, len, "HTTP header");
	while (n && tdc_peek_u8(&r, n - 1, &c) == 0 && is_space(c))
		n--;
	r.len = n;
	if (n == 0)
		return 0; /* the blank line that ends the headers */
	if (n >= 5 && tdc_peek_u8(&r, 0, &c) == 0 && c == 'H' && !memcmp(line, "HTTP/", 5))
		return status_line(h, &r);
	/* Obsolete line folding (RFC 9112 5.2): not a header tdcpuid reads. */
	if (tdc_peek_u8(&r, 0, &c) == 0 && (c == ' ' || c == '\t'))
		return 0;
	while (tdc_reader_remaining(&r)) {
		if ((ret = tdc_peek_u8(&r, nlen, &c)) != 0)
			return ret;
		if (c == ':')
			break;
		if (c <= 0x20 || c >= 0x7f)
			return tdc_err(TDC_ERR_PROTOCOL, "HTTP header name: byte 0x%02x at "
				       "offset %zu", c, nlen);
		if (++nlen == n)
			break;
	}
	if (c != ':' || nlen == 0)
		return tdc_err(TDC_ERR_PROTOCOL, "HTTP header line without a name and ':'");
	if ((ret = tdc_get_ref(&r, nlen, &name)) != 0 || (ret = tdc_skip(&r, 1)) != 0)
		return ret;
	skip_ws(&r);
	vlen = tdc_reader_remaining(&r);
	if ((ret = tdc_get_ref(&r, vlen, &value)) != 0)
		return ret;
	if (h->desc && (name_is(name, nlen, h->desc->chain_header) ||
			name_is(name, nlen, h->desc->chain_header_alt))) {
		if (h->has_chain)
			return tdc_err(TDC_ERR_DUPLICATE, "response has the issuer chain "
				       "header %.*s twice", (int)nlen, (const char *)name);
		if ((ret = tdc_pcs_url_decode(value, vlen, TDC_PCS_CHAIN_MAX, &h->chain)) != 0)
			return tdc_err_wrap(ret, "%.*s: ", (int)nlen, (const char *)name);
		h->has_chain = true;
	} else if (name_is(name, nlen, "Request-ID")) {
		copy_text(h->request_id, sizeof(h->request_id), value, vlen);
	} else if (name_is(name, nlen, "Error-Code")) {
		copy_text(h->error_code, sizeof(h->error_code), value, vlen);
	} else if (name_is(name, nlen, "Error-Message")) {
		copy_text(h->error_message, sizeof(h->error_message), value, vlen);
	}
	return 0;
}

/* ---- issuer chains -------------------------------------------------------- */

static size_t find(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (!memcmp(p + i, needle, k))
			return i;
	return n;
}

int tdc_pcs_chain_parse(const uint8_t *pem, size_t len, STACK_OF(X509) **out)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct tdc_reader r;
	int ret = 0;

	if (!sk)
		return tdc_err(TDC_ERR_ALLOC, "issuer chain");
	if (len > TDC_PCS_CHAIN_MAX) {
		ret = tdc_err(TDC_ERR_TOO_LARGE, "issuer chain: %zu bytes exceeds %u", len,
			      TDC_PCS_CHAIN_MAX);
		goto out;
	}
	tdc_reader_init(&r, pem, len, "issuer chain");
	for (;;) {
		struct tdc_reader look;
		const uint8_t *rest, *block;
		size_t left, e;
		BIO *bio;
		X509 *x;

		skip_ws(&r);
		if (!(left = tdc_reader_remaining(&r)))
			break;
		look = r;
		if ((ret = tdc_get_ref(&look, left, &rest)) != 0)
			goto out;
		if (left < sizeof(begin) - 1 || memcmp(rest, begin, sizeof(begin) - 1)) {
			ret = tdc_err(TDC_ERR_FORMAT, "issuer chain: offset %zu: expected \"%s\"",
				      tdc_reader_offset(&r), begin);
			goto out;
		}
		if ((e = find(rest, left, end)) == left) {
			ret = tdc_err(TDC_ERR_FORMAT, "issuer chain: certificate at offset %zu "
				      "has no \"%s\"", tdc_reader_offset(&r), end);
			goto out;
		}
		if (sk_X509_num(sk) == TDC_PCS_CHAIN_CERTS_MAX) {
			ret = tdc_err(TDC_ERR_TOO_LARGE, "issuer chain: more than %d certificates",
				      TDC_PCS_CHAIN_CERTS_MAX);
			goto out;
		}
		if ((ret = tdc_get_ref(&r, e + sizeof(end) - 1, &block)) != 0)
			goto out;
		bio = BIO_new_mem_buf(block, (int)(e + sizeof(end) - 1));
		x = bio ? tdc_pem_read_cert(bio) : NULL;
		BIO_free(bio);
		if (!x) {
			ret = tdc_err(TDC_ERR_FORMAT, "issuer chain: certificate %d is not a "
				      "valid X.509 certificate", sk_X509_num(sk) + 1);
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			ret = tdc_err(TDC_ERR_ALLOC, "issuer chain");
			goto out;
		}
	}
	if (sk_X509_num(sk) == 0)
		ret = tdc_err(TDC_ERR_FORMAT, "issuer chain: no certificate");
out:
	if (ret) {
		sk_X509_pop_free(sk, X509_free);
		return ret;
	}
	*out = sk;
	return 0;
}

int tdc_pcs_ca_of(X509 *pck_issuer, enum tdc_pcs_ca *out)
{
	char cn[256] = "";

	X509_NAME_get_text_by_NID(X509_get_subject_name(pck_issuer), NID_commonName, cn,
				  sizeof(cn));
	for (int i = 0; i < TDC_PCS_CA__COUNT; i++)
		if (strstr(cn, ca_cn_words[i])) {
			*out = (enum tdc_pcs_ca)i;
			return 0;
		}
	return tdc_err(TDC_ERR_CHAIN, "PCK issuer \"%s\" is neither a Processor nor a "
		       "Platform CA: which PCK CRL to fetch is unknown", cn);
}
