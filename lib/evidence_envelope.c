// SPDX-License-Identifier: Apache-2.0
/*
 * Evidence envelope and the REPORTDATA binding (docs/evidence.cddl,
 * docs/evidence.md).
 *
 * The envelope carries the claims as an opaque byte string: the TDREPORT
 * binds SHA-512 over exactly those bytes, so the verifier hashes what it
 * received and never re-encodes (a re-encoding could differ and would break
 * or, worse, fake the binding).
 */
#include <string.h>

#include <openssl/evp.h>

#include "cbor_strict.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/evidence.h"

enum { K_ENV_CLAIMS = 0, K_ENV_TDREPORT = 1, K_ENV_QUOTE = 2, K_ENV_EVENTLOG = 3 };

void tdc_envelope_init(struct tdc_envelope *e)
{
	tdc_buf_init(&e->claims);
	tdc_buf_init(&e->tdreport);
	tdc_buf_init(&e->quote);
	tdc_buf_init(&e->eventlog);
}

void tdc_envelope_free(struct tdc_envelope *e)
{
	tdc_buf_free(&e->claims);
	tdc_buf_free(&e->tdreport);
	tdc_buf_free(&e->quote);
	tdc_buf_free(&e->eventlog);
}

/* Appends to @out. */
int tdc_envelope_encode(const struct tdc_envelope *e, struct tdc_buf *out)
{
	size_t start = out->len;
	size_t nkeys = 1 + (e->tdreport.len ? 1 : 0) + (e->quote.len ? 1 : 0) +
		       (e->eventlog.len ? 1 : 0);
	int r;

	if (!e->claims.len)
		return tdc_err(TDC_ERR_MISSING, "envelope.claims: empty");
	if ((r = tdc_cbor_put_map(out, nkeys)) != 0 ||
	    (r = tdc_cbor_put_uint(out, K_ENV_CLAIMS)) != 0 ||
	    (r = tdc_cbor_put_bytes(out, e->claims.data, e->claims.len)) != 0)
		goto out;
	if (e->tdreport.len &&
	    ((r = tdc_cbor_put_uint(out, K_ENV_TDREPORT)) != 0 ||
	     (r = tdc_cbor_put_bytes(out, e->tdreport.data, e->tdreport.len)) != 0))
		goto out;
	if (e->quote.len &&
	    ((r = tdc_cbor_put_uint(out, K_ENV_QUOTE)) != 0 ||
	     (r = tdc_cbor_put_bytes(out, e->quote.data, e->quote.len)) != 0))
		goto out;
	if (e->eventlog.len > TDC_EVENTLOG_MAX) {
		r = tdc_err(TDC_ERR_TOO_LARGE, "envelope.eventlog: %zu bytes exceed the limit of %u",
			    e->eventlog.len, TDC_EVENTLOG_MAX);
		goto out;
	}
	if (e->eventlog.len &&
	    ((r = tdc_cbor_put_uint(out, K_ENV_EVENTLOG)) != 0 ||
	     (r = tdc_cbor_put_bytes(out, e->eventlog.data, e->eventlog.len)) != 0))
		goto out;
	if (out->len - start > TDC_EVIDENCE_MAX)
		r = tdc_err(TDC_ERR_TOO_LARGE, "envelope: %zu bytes exceed the limit of %u",
			    out->len - start, TDC_EVIDENCE_MAX);
out:
	if (r)
		out->len = start;
	return r;
}

/* len 0 means "absent" in struct tdc_envelope, so present must be non-empty. */
static int dec_bstr_max(struct tdc_cbor_rd *d, struct tdc_buf *b, size_t max)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = tdc_cbor_bytes(d, max, &p, &n)) != 0)
		return r;
	if (n == 0)
		return tdc_cbor_fail(d, TDC_ERR_FORMAT, "present but empty (omit the key)");
	return tdc_buf_put(b, p, n);
}

static int dec_bstr(struct tdc_cbor_rd *d, struct tdc_buf *b)
{
	return dec_bstr_max(d, b, TDC_EVIDENCE_MAX);
}

static int dec_claims(struct tdc_cbor_rd *d, void *obj)
{
	return dec_bstr(d, &((struct tdc_envelope *)obj)->claims);
}

static int dec_tdreport(struct tdc_cbor_rd *d, void *obj)
{
	return dec_bstr(d, &((struct tdc_envelope *)obj)->tdreport);
}

static int dec_quote(struct tdc_cbor_rd *d, void *obj)
{
	return dec_bstr(d, &((struct tdc_envelope *)obj)->quote);
}

static int dec_eventlog(struct tdc_cbor_rd *d, void *obj)
{
	return dec_bstr_max(d, &((struct tdc_envelope *)obj)->eventlog, TDC_EVENTLOG_MAX);
}

static const struct tdc_cbor_field envelope_fields[] = {
	{ K_ENV_CLAIMS, "claims", true, dec_claims },
	{ K_ENV_TDREPORT, "tdreport", false, dec_tdreport },
	{ K_ENV_QUOTE, "quote", false, dec_quote },
	{ K_ENV_EVENTLOG, "eventlog", false, dec_eventlog },
};

/*
 * @e is (re)initialised here; on error it is left empty.  The claims are
 * copied out undecoded: decode them with tdc_claims_decode() and bind them
 * with tdc_reportdata_compute() over these same bytes.
 */
int tdc_envelope_decode(const uint8_t *data, size_t len, struct tdc_envelope *e)
{
	struct tdc_cbor_rd d;
	int r;

	tdc_envelope_init(e);
	if (len > TDC_EVIDENCE_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "envelope: %zu bytes exceed the limit of %u",
			       len, TDC_EVIDENCE_MAX);
	tdc_cbor_rd_init(&d, data, len, "envelope");
	if ((r = tdc_cbor_decode_map(&d, envelope_fields,
				     sizeof(envelope_fields) / sizeof(envelope_fields[0]), e)) != 0 ||
	    (r = tdc_cbor_expect_end(&d)) != 0)
		tdc_envelope_free(e);
	return r;
}

/* H(TDC_REPORTDATA_TAG || 0x00 || claims): the domain-separated claims hash. */
static int tagged_hash(const EVP_MD *md, const uint8_t *claims, size_t len, uint8_t *out,
		       unsigned int want, const char *what)
{
	static const uint8_t sep = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int r = 0;

	if (!ctx)
		return tdc_err(TDC_ERR_ALLOC, "%s: EVP_MD_CTX_new", what);
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, TDC_REPORTDATA_TAG, strlen(TDC_REPORTDATA_TAG)) != 1 ||
	    EVP_DigestUpdate(ctx, &sep, 1) != 1 ||
	    (len && EVP_DigestUpdate(ctx, claims, len) != 1) ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != want)
		r = tdc_err(TDC_ERR_INTERNAL, "%s: hash failed", what);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* REPORTDATA = SHA-512(TDC_REPORTDATA_TAG || 0x00 || claims) (DESIGN.md). */
int tdc_reportdata_compute(const uint8_t *claims, size_t len,
			   uint8_t out[TDC_REPORTDATA_LEN])
{
	return tagged_hash(EVP_sha512(), claims, len, out, TDC_REPORTDATA_LEN, "reportdata");
}

/*
 * The rtmr3 binding hashes the same domain-separated input with SHA-384,
 * the RTMR bank's algorithm, so the AAEL content is one TCG-sized digest.
 */
int tdc_claims_digest384(const uint8_t *claims, size_t len,
			 uint8_t out[TDC_CLAIMS_DIGEST384_LEN])
{
	return tagged_hash(EVP_sha384(), claims, len, out, TDC_CLAIMS_DIGEST384_LEN,
			   "claims digest");
}

int tdc_claims_aael_content(const uint8_t *claims, size_t len,
			    char out[TDC_AAEL_CONTENT_LEN + 1])
{
	uint8_t d[TDC_CLAIMS_DIGEST384_LEN];
	size_t pl = strlen(TDC_AAEL_CONTENT_PREFIX);
	int r;

	if ((r = tdc_claims_digest384(claims, len, d)) != 0)
		return r;
	memcpy(out, TDC_AAEL_CONTENT_PREFIX, pl);
	tdc_hex_encode(d, sizeof(d), out + pl);
	return 0;
}
