/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate chains verified by OpenSSL's verifier under one pinned root:
 * the PCK chain of a quote (quote_verify.c) and the signers of collateral
 * (collateral.c), the same rules for both.
 */
#ifndef TDC_QUOTE_CHAIN_H
#define TDC_QUOTE_CHAIN_H

#include <stdbool.h>
#include <time.h>

#include <openssl/x509.h>

/*
 * An X509_STORE whose only certificate is @root, for X509_verify_cert:
 * built once per trust object and never changed after, so threads share
 * it (OpenSSL locks its lookups); each verification has its own
 * X509_STORE_CTX.  NULL on allocation failure.
 */
X509_STORE *tdc_root_store(X509 *root);

/*
 * What X509_verify_cert found wrong: the first error at each depth (0 the
 * certificate verified, then its issuers up to the root).  Verification
 * goes on after an error, so each link has a verdict of its own.
 */
struct tdc_chain_errors {
	int err[3];
	bool any;                          /* some error was recorded */
	bool path;                         /* the chain built is @cert [<- @inter] <- @root */
};

/*
 * X509_verify_cert of @cert (<- @inter, the only untrusted certificate, if
 * not NULL) <- @root: @store holds @root alone (NULL: one is made for this
 * call), an X509_STORE_CTX of its own in the certificate library context,
 * X509_V_FLAG_X509_STRICT (a CA's basicConstraints present and critical,
 * key identifiers; Intel's chains pass it), X509_PURPOSE_ANY (Intel's
 * certificates carry no extended key usage).  Validity windows are not
 * judged (X509_V_FLAG_NO_CHECK_TIME; @at, the appraisal time, is not
 * used): callers check them at every use, also of a verified result they
 * cached, which therefore does not depend on the time.  A time field
 * OpenSSL cannot read (not RFC 5280's form) is still the error it reports
 * for it, at its depth.  0: verified on that exact path; TDC_ERR_CHAIN
 * (@e says where); TDC_ERR_ALLOC.
 */
int tdc_chain_verify(X509_STORE *store, X509 *root, X509 *cert, X509 *inter, time_t at,
		     struct tdc_chain_errors *e);

#endif
