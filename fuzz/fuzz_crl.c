// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for the DER CRL walk (verifier/quote/crl.c), checked
 * against OpenSSL's d2i_X509_CRL on the same bytes:
 *  - what the walk accepts, OpenSSL accepts, with the same issuer, window,
 *    critical flag, signature bytes and revoked serials in the same order,
 *    each of them revoked by X509_CRL_get0_by_serial;
 *  - what OpenSSL accepts and is DER throughout (definite minimal lengths,
 *    low tags, universal primitives primitive), the walk accepts, unless it
 *    names it unsupported (crl.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "tdcpuid/error.h"

/* Every element of [p, end) DER as the walk reads DER; constructed ones recursively. */
static bool der_all(const uint8_t *p, const uint8_t *end, int depth)
{
	while (p < end) {
		uint8_t tag = *p++;
		size_t len, n;

		if ((tag & 0x1f) == 0x1f || p >= end || depth > 64)
			return false;
		/* A universal type other than SEQUENCE/SET in constructed form: BER. */
		if ((tag & 0xe0) == 0x20 && tag != 0x30 && tag != 0x31)
			return false;
		/* SEQUENCE and SET in primitive form: OpenSSL takes an empty one. */
		if (tag == 0x10 || tag == 0x11)
			return false;
		len = *p++;
		if (len & 0x80) {
			n = len & 0x7f;
			if (n == 0 || n > 4 || (size_t)(end - p) < n || *p == 0)
				return false;
			for (len = 0; n; n--)
				len = len << 8 | *p++;
			if (len < 0x80)
				return false;
		}
		if (len > (size_t)(end - p))
			return false;
		if ((tag & 0x20) && !der_all(p, p + len, depth + 1))
			return false;
		p += len;
	}
	return true;
}

static time_t tm_of(const ASN1_TIME *t, bool *ok)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		*ok = false;
		return 0;
	}
	return timegm(&tm);
}

static void same(const struct tdc_crl *w, X509_CRL *o)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(o);
	int n = rev ? sk_X509_REVOKED_num(rev) : 0;
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	bool crit = X509_CRL_get_ext_by_critical(o, 1, -1) >= 0, ok = true;
	struct tdc_window win = { 1, 0 };

	if (X509_NAME_cmp(w->issuer, X509_CRL_get_issuer(o)) != 0 || w->n_revoked != (size_t)n)
		__builtin_trap();
	for (int i = 0; i < n; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		unsigned char *e = NULL;
		int len = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_REVOKED_get0_serialNumber(r), &e);
		size_t hdr = len >= 2 ? 2 + (e[1] & 0x80 ? (e[1] & 0x7f) : 0) : 0;

		if (len < 2 || w->revoked[i].len != (size_t)len - hdr ||
		    memcmp(w->der + w->revoked[i].off, e + hdr, (size_t)len - hdr))
			__builtin_trap();
		crit |= X509_REVOKED_get_ext_by_critical(r, 1, -1) >= 0;
		OPENSSL_free(e);
	}
	for (int i = 0; i < n; i++) {
		X509_REVOKED *found, *r = sk_X509_REVOKED_value(rev, i);

		if (X509_CRL_get0_by_serial(o, &found, (ASN1_INTEGER *)
					    X509_REVOKED_get0_serialNumber(r)) != 1)
			__builtin_trap();
	}
	if (w->critical != crit)
		__builtin_trap();
	if (X509_CRL_get0_nextUpdate(o)) {
		win.not_before = tm_of(X509_CRL_get0_lastUpdate(o), &ok);
		win.not_after = tm_of(X509_CRL_get0_nextUpdate(o), &ok);
		if (!ok)
			win = (struct tdc_window){ 1, 0 };
	}
	if (win.not_before != w->window.not_before || win.not_after != w->window.not_after)
		__builtin_trap();
	X509_CRL_get0_signature(o, &sig, &alg);
	if (!w->unused_bits && ((size_t)sig->length != w->sig_len ||
				memcmp(sig->data, w->der + w->sig_off, w->sig_len)))
		__builtin_trap();
	/* OpenSSL 3.0 has no getter for the TBS's own algorithm: the outer one. */
	if (w->ecdsa_sha256 && X509_CRL_get_signature_nid(o) != NID_ecdsa_with_SHA256)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	struct tdc_crl *w = NULL;
	X509_CRL *o;
	bool o_ok;
	int ret;

	if (size > TDC_CRL_MAX)
		return 0;
	ret = tdc_crl_read(data, size, &w);
	o = d2i_X509_CRL(NULL, &p, (long)size);
	o_ok = o && p == data + size;
	if (ret == 0) {
		if (!o_ok)
			__builtin_trap();
		same(w, o);
	} else if (ret != TDC_ERR_UNSUPPORTED && ret != TDC_ERR_ALLOC && o_ok &&
		   der_all(data, data + size, 0)) {
		__builtin_trap();
	}
	tdc_crl_free(w);
	X509_CRL_free(o);
	return 0;
}
