// SPDX-License-Identifier: Apache-2.0
/*
 * The hash chain over audit rows (audit.h, tdc_audit_chain): the one
 * definition of a row's canonical text, used by the SQLite backend to
 * link rows and by tdc_audit_verify to check either store.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "tdcpuid/error.h"

static int put(EVP_MD_CTX *md, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int put(EVP_MD_CTX *md, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n > 0 && (size_t)n < sizeof(buf) && EVP_DigestUpdate(md, buf, (size_t)n) == 1;
}

/* "<octets>:<text>": a length prefix, so no field can be shifted into the next. */
static int put_str(EVP_MD_CTX *md, const char *s, bool last)
{
	size_t n = strlen(s);

	return put(md, "%zu:", n) && EVP_DigestUpdate(md, s, n) == 1 &&
	       (last || EVP_DigestUpdate(md, "\n", 1) == 1);
}

static int put_hex(EVP_MD_CTX *md, bool has, const uint8_t *p, size_t n)
{
	char hex[2 * TDC_AUDIT_NONCE_MAX + 1] = "";

	if (has)
		tdc_hex_encode(p, n, hex);
	return EVP_DigestUpdate(md, hex, strlen(hex)) == 1 && EVP_DigestUpdate(md, "\n", 1) == 1;
}

/*
 * The canonical text of a row (sql/postgresql/001-verdicts.sql,
 * tdc_chain_hash, builds the same bytes inside the database):
 *   tdcpuid-audit-v1 \n prev-hex \n id \n time \n count \n verdict \n
 *   evidence-hex \n nonce-hex \n len:vm \n len:peer \n len:failing \n len:detail
 */
int tdc_audit_chain(const uint8_t prev[32], const struct tdc_audit_record *r, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char ph[65];
	unsigned int len = 0;
	size_t nl = r->nonce_len && r->nonce_len <= sizeof(r->nonce) ? r->nonce_len : 32;
	bool ok;

	tdc_hex_encode(prev, 32, ph);
	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     put(md, "tdcpuid-audit-v1\n%s\n", ph) &&
	     put(md, "%" PRId64 "\n%" PRId64 "\n%u\n", r->id, r->time, r->count ? r->count : 1) &&
	     put(md, "%s\n", tdc_audit_verdict_name(r->verdict)) &&
	     put_hex(md, r->has_evidence, r->evidence_sha256, 32) &&
	     put_hex(md, r->has_nonce, r->nonce, nl) &&
	     put_str(md, r->vm, false) && put_str(md, r->peer, false) &&
	     put_str(md, r->failing, false) && put_str(md, r->detail, true) &&
	     EVP_DigestFinal_ex(md, out, &len) == 1 && len == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : tdc_err(TDC_ERR_INTERNAL, "audit: SHA-256 failed");
}

