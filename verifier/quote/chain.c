// SPDX-License-Identifier: Apache-2.0
/* X509_verify_cert under a pinned root (chain.h). */
#include <string.h>

#include <openssl/x509v3.h>

#include "chain.h"
#include "crypto.h"
#include "tdcpuid/error.h"

X509_STORE *tdc_root_store(X509 *root)
{
	X509_STORE *st = X509_STORE_new();

	if (!st || X509_STORE_add_cert(st, root) != 1) {
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

/*
 * A validity time as X509_cmp_time reads it (RFC 5280's fixed forms:
 * YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, a real date), without comparing it to
 * anything: verification runs with X509_V_FLAG_NO_CHECK_TIME, where
 * OpenSSL skips these fields entirely.
 */
static bool time_readable(const ASN1_TIME *t)
{
	int want = t->type == V_ASN1_UTCTIME ? 13 : t->type == V_ASN1_GENERALIZEDTIME ? 15 : 0;
	struct tm tm;

	if (!want || t->length != want || t->data[want - 1] != 'Z')
		return false;
	for (int i = 0; i < want - 1; i++)
		if (t->data[i] < '0' || t->data[i] > '9')
			return false;
	return ASN1_TIME_to_tm(t, &tm) == 1;
}

static void record(struct tdc_chain_errors *e, int depth, int err)
{
	depth = depth < 0 || depth > 2 ? 2 : depth;
	if (!e->err[depth])
		e->err[depth] = err ? err : X509_V_ERR_UNSPECIFIED;
	e->any = true;
}

/*
 * OpenSSL reports each certificate once it has checked its signature and
 * (with a time set) its validity window, with ok = 1: where the time
 * fields were checked, their format is checked now, so an unreadable one
 * is the same error at the same point as before; the windows themselves
 * are the callers' (tdc_window_valid_at at every use).
 */
static int record_error(int ok, X509_STORE_CTX *ctx)
{
	struct tdc_chain_errors *e = X509_STORE_CTX_get_app_data(ctx);
	int d = X509_STORE_CTX_get_error_depth(ctx);
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);

	if (!ok)
		record(e, d, X509_STORE_CTX_get_error(ctx));
	else if (x && !time_readable(X509_get0_notBefore(x)))
		record(e, d, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD);
	else if (x && !time_readable(X509_get0_notAfter(x)))
		record(e, d, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD);
	return 1;
}

/* The chain OpenSSL built is @cert [<- @inter] <- @root, nothing else. */
static bool on_path(X509_STORE_CTX *ctx, X509 *root, X509 *inter)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int n = inter ? 3 : 2;

	return chain && sk_X509_num(chain) == n &&
	       (!inter || X509_cmp(sk_X509_value(chain, 1), inter) == 0) &&
	       X509_cmp(sk_X509_value(chain, n - 1), root) == 0;
}

int tdc_chain_verify(X509_STORE *store, X509 *root, X509 *cert, X509 *inter, time_t at,
		     struct tdc_chain_errors *e)
{
	X509_STORE *st = store ? store : tdc_root_store(root);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new_ex(tdc_cert_libctx(), NULL);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ret = TDC_ERR_ALLOC, err;

	memset(e, 0, sizeof(*e));
	if (!st || !ctx || !untrusted || (inter && !sk_X509_push(untrusted, inter)) ||
	    X509_STORE_CTX_init(ctx, st, cert, untrusted) != 1)
		goto out;
	X509_STORE_CTX_set_app_data(ctx, e);
	X509_STORE_CTX_set_verify_cb(ctx, record_error);
	/* No time: comparing six times cost OpenSSL 2 % of a chain appraisal
	 * (ASN1_TIME_adj and a formatted string per comparison), and every
	 * window error was ignored anyway. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT | X509_V_FLAG_NO_CHECK_TIME);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	ret = X509_verify_cert(ctx) == 1 && !e->any ? 0 : TDC_ERR_CHAIN;
	/* A failure the callback did not see (an internal error) is the root's. */
	if (ret && !e->any) {
		err = X509_STORE_CTX_get_error(ctx);
		e->err[2] = err ? err : X509_V_ERR_UNSPECIFIED;
		e->any = true;
	}
	e->path = on_path(ctx, root, inter);
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	if (st != store)
		X509_STORE_free(st);
	return ret;
}
