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

static int record_error(int ok, X509_STORE_CTX *ctx)
{
	struct tdc_chain_errors *e = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx), d = X509_STORE_CTX_get_error_depth(ctx);

	if (ok || err == X509_V_ERR_CERT_NOT_YET_VALID || err == X509_V_ERR_CERT_HAS_EXPIRED)
		return 1;
	d = d < 0 || d > 2 ? 2 : d;
	if (!e->err[d])
		e->err[d] = err ? err : X509_V_ERR_UNSPECIFIED;
	e->any = true;
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
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
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
