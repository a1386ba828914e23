/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A trust anchor and the TD quoting enclave expected under it, loaded once
 * (per process, or per registry entry and reload) into an object that is
 * never written again, so every thread may share it.
 *
 * The pair lives in one directory: the root certificate (self-signed, the
 * same checks for the CLI and the service) and, beside it,
 * TDC_TRUST_QE_IDENTITY: the TD QE identity as Intel publishes it (the
 * enclaveIdentity body of the PCS TD_QE identity, id "TD_QE", version 2).
 * Its MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES (under their masks)
 * are checked on every quote, collateral or not (qe_report.identity): a
 * quote signed by some other enclave that the PCK key certified is not a
 * TD quote.  Collateral refines it (qe_identity.match, and ISVSVN to the
 * QE TCB level).  Intel's root ships with Intel's TD QE identity
 * (policies/trust/); `tdcpuid-agent sim-keygen` writes the simulator's.
 */
#ifndef TDC_QUOTE_TRUST_H
#define TDC_QUOTE_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "collateral.h"
#include "tdcpuid/tdx.h"

#define TDC_DEFAULT_ROOT "trust/Intel_SGX_Root_CA.pem"
/* Load the first certificate of a PEM file; @path NULL: TDC_DEFAULT_ROOT in
 * the data directory (the error names the directory searched). */
int tdc_load_root(const char *path, X509 **out);
/* Where TDC_DEFAULT_ROOT is looked for, for usage text (not checked). */
const char *tdc_default_root_path(void);

#define TDC_TRUST_QE_IDENTITY "TD_QE_identity.json"
#define TDC_TRUST_QE_IDENTITY_MAX (64u * 1024)
#define TDC_TRUST_PATH_MAX 4096

struct tdc_trust {
	X509 *root;                        /* self-signed; not written after load */
	X509_STORE *store;                 /* holding @root alone (chain.h tdc_root_store) */
	struct tdc_qe_identity qe;         /* the expected TD QE (tcbLevels unused) */
	bool simulator;                    /* a `sim-keygen` test root ("SIMULATED") */
	char root_path[TDC_TRUST_PATH_MAX]; /* "" when built in memory */
	char qe_path[TDC_TRUST_PATH_MAX];
};

/*
 * Load @root_path (NULL: the data directory's Intel root, tdcpuid/datadir.h)
 * and the QE identity beside it.  Errors name the file and what is missing.
 */
int tdc_trust_load(const char *root_path, struct tdc_trust **out);
/*
 * From a certificate and QE identity body text.  The trust keeps its own
 * copy of @root parsed in the certificate context (crypto.h), as
 * tdc_trust_load has it: a root built in memory (the simulator's) is then
 * no different from one read from a file.
 */
int tdc_trust_from(X509 *root, const char *qe_json, size_t len, struct tdc_trust **out);
void tdc_trust_free(struct tdc_trust *t);

/* Where the QE identity of @root_path is: its directory + TDC_TRUST_QE_IDENTITY. */
int tdc_trust_qe_path(const char *root_path, char *out, size_t n);

/* Compare a QE report with the identity; false with @why naming the field. */
bool tdc_qe_identity_matches(const struct tdc_qe_identity *id, const struct tdx_qe_report *r,
			     char *why, size_t n);

#endif
