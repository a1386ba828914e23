// SPDX-License-Identifier: Apache-2.0
/* The trust anchor and its TD QE identity, loaded once (trust.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/pem.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/datadir.h"
#include "chain.h"
#include "crypto.h"
#include "tdcpuid/error.h"
#include "trust.h"

int tdc_load_root(const char *path, X509 **out)
{
	char dflt[4096];
	struct tdc_buf b;
	BIO *bio;
	int ret;

	tdc_buf_init(&b);
	if (!path && (ret = tdc_data_path(dflt, sizeof(dflt), TDC_DEFAULT_ROOT, NULL)) != 0)
		return ret;
	if (!path)
		path = dflt;
	if ((ret = tdc_read_file(path, 1u << 20, &b)) != 0)
		return ret;
	bio = BIO_new_mem_buf(b.data, (int)b.len);
	*out = bio ? tdc_pem_read_cert(bio) : NULL;
	BIO_free(bio);
	tdc_buf_free(&b);
	if (!*out)
		return tdc_err(TDC_ERR_FORMAT, "%s: no PEM certificate", path);
	/* A trust anchor is trusted by configuration, but a corrupt one should
	 * not load silently. */
	if (X509_verify(*out, X509_get0_pubkey(*out)) != 1) {
		X509_free(*out);
		*out = NULL;
		return tdc_err(TDC_ERR_SIGNATURE, "%s: root certificate is not self-signed", path);
	}
	return 0;
}

const char *tdc_default_root_path(void)
{
	static _Thread_local char path[4096];
	char dir[4000];

	if (tdc_data_dir(dir, sizeof(dir), NULL, NULL) != 0)
		snprintf(dir, sizeof(dir), "(invalid data directory)");
	snprintf(path, sizeof(path), "%s/%s", dir, TDC_DEFAULT_ROOT);
	return path;
}

void tdc_trust_free(struct tdc_trust *t)
{
	if (!t)
		return;
	X509_free(t->root);
	X509_STORE_free(t->store);
	tdc_qe_identity_free(&t->qe);
	free(t);
}

/* `sim-keygen` names its root "... SIMULATED ..." (lib/sim.c). */
static bool is_simulator(X509 *root)
{
	char cn[256] = "";

	X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, cn, sizeof(cn));
	return strstr(cn, "SIMULATED") != NULL;
}

/* @root (a reference is taken) must be parsed in the certificate context. */
static int trust_make(X509 *root, const char *qe_json, size_t len, struct tdc_trust **out)
{
	struct tdc_trust *t = calloc(1, sizeof(*t));
	int r;

	*out = NULL;
	if (!t)
		return tdc_err(TDC_ERR_ALLOC, "trust anchor");
	if ((r = tdc_qe_identity_parse(qe_json, len, &t->qe)) != 0) {
		free(t);
		return tdc_err_wrap(r, "TD QE identity: ");
	}
	if (!(t->store = tdc_root_store(root))) {
		tdc_qe_identity_free(&t->qe);
		free(t);
		return tdc_err(TDC_ERR_ALLOC, "trust anchor store");
	}
	X509_up_ref(root);
	t->root = root;
	t->simulator = is_simulator(root);
	*out = t;
	return 0;
}

/*
 * A root built in memory keeps no encoding of its own: every appraisal
 * would encode it afresh to compare it with the quote's (i2d_X509 of the
 * simulator's root: 44 k instructions, 0.7 % of a one-shot check), and its
 * key lives in the default context.  Parsed once, it is what
 * tdc_trust_load gives.
 */
int tdc_trust_from(X509 *root, const char *qe_json, size_t len, struct tdc_trust **out)
{
	unsigned char *der = NULL;
	int n = i2d_X509(root, &der), r;
	X509 *x = n > 0 ? tdc_der_read_cert(der, (size_t)n) : NULL;

	OPENSSL_free(der);
	*out = NULL;
	if (!x)
		return tdc_err(TDC_ERR_FORMAT, "trust anchor: the root certificate does not parse");
	r = trust_make(x, qe_json, len, out);
	X509_free(x);
	return r;
}

int tdc_trust_qe_path(const char *root_path, char *out, size_t n)
{
	const char *slash = strrchr(root_path, '/');
	int dir = slash ? (int)(slash - root_path) : 0;
	int w;

	/* A relative anchor was resolved by its owner (policy, registry) before
	 * it got here; beside it means in the same directory, never cwd's. */
	w = slash ? snprintf(out, n, "%.*s/%s", dir, root_path, TDC_TRUST_QE_IDENTITY) :
		    snprintf(out, n, "%s", TDC_TRUST_QE_IDENTITY);
	if (w < 0 || (size_t)w >= n)
		return tdc_err(TDC_ERR_RANGE, "trust anchor path too long: %s", root_path);
	return 0;
}

int tdc_trust_load(const char *root_path, struct tdc_trust **out)
{
	char dflt[TDC_TRUST_PATH_MAX], qe[TDC_TRUST_PATH_MAX];
	struct tdc_buf b;
	X509 *root = NULL;
	int r;

	*out = NULL;
	tdc_buf_init(&b);
	if (!root_path && (r = tdc_data_path(dflt, sizeof(dflt), TDC_DEFAULT_ROOT, NULL)) != 0)
		return tdc_err_wrap(r, "trust anchor: ");
	if (!root_path)
		root_path = dflt;
	if (root_path[0] != '/')
		return tdc_err(TDC_ERR_USAGE, "trust anchor %s: not an absolute path (a relative "
			       "anchor would be looked up in the working directory)", root_path);
	if ((r = tdc_load_root(root_path, &root)) != 0)
		return tdc_err_wrap(r, "trust anchor: ");
	if ((r = tdc_trust_qe_path(root_path, qe, sizeof(qe))) != 0)
		goto out;
	if ((r = tdc_read_file(qe, TDC_TRUST_QE_IDENTITY_MAX, &b)) != 0) {
		r = tdc_err_wrap(r, "TD QE identity of trust anchor %s (expected beside it): "
				 "without it no quote can be shown to come from the TD quoting "
				 "enclave: ", root_path);
		goto out;
	}
	if ((r = trust_make(root, (const char *)b.data, b.len, out)) != 0) {
		r = tdc_err_wrap(r, "%s: ", qe);
		goto out;
	}
	snprintf((*out)->root_path, sizeof((*out)->root_path), "%s", root_path);
	snprintf((*out)->qe_path, sizeof((*out)->qe_path), "%s", qe);
out:
	X509_free(root);
	tdc_buf_free(&b);
	return r;
}

bool tdc_qe_identity_matches(const struct tdc_qe_identity *id, const struct tdx_qe_report *r,
			     char *why, size_t n)
{
	char want[65], got[65];
	bool attr = true;

	for (int i = 0; i < 16; i++)
		attr &= (r->attributes[i] & id->attributes_mask[i]) == id->attributes[i];
	if (memcmp(id->mrsigner, r->mr_signer, 32) != 0) {
		tdc_hex_encode(id->mrsigner, 32, want);
		tdc_hex_encode(r->mr_signer, 32, got);
		snprintf(why, n, "MRSIGNER %.16s..., the TD QE's is %.16s...", got, want);
	} else if (id->isvprodid != r->isv_prod_id) {
		snprintf(why, n, "ISVPRODID %u, the TD QE's is %u", r->isv_prod_id, id->isvprodid);
	} else if ((r->misc_select & id->miscselect_mask) != id->miscselect) {
		snprintf(why, n, "MISCSELECT 0x%08x outside the identity (0x%08x under mask 0x%08x)",
			 r->misc_select, id->miscselect, id->miscselect_mask);
	} else if (!attr) {
		snprintf(why, n, "ATTRIBUTES differ from the identity under its mask (e.g. a "
			 "DEBUG enclave)");
	} else {
		return true;
	}
	return false;
}
