// SPDX-License-Identifier: Apache-2.0
/*
 * TDX quote appraisal: signature chain, PCK extensions, collateral, TCB
 * status (see quote_verify.h).  Layout facts: DCAP
 * sgx_quote_4.h/sgx_quote_5.h; check order and failure names follow google/go-tdx-guest verify/ so
 * the single-byte corruption cases of tests/data/tdx/SOURCES.md map to one
 * named check each.  TCB evaluation follows Intel's TDX quote verification
 * (DCAP QVL): the first tcbLevel whose SGX components and PCESVN are <= the
 * PCK certificate's and whose TDX components are <= TEE_TCB_SVN, combined
 * with the TDX module identity and QE identity levels.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "chain.h"
#include "crl.h"
#include "quote_verify.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"

static void add_check(struct tdc_quote_result *res, const char *name, bool pass,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The return is not needed: a record that cannot be stored poisons the list. */
static void add_check(struct tdc_quote_result *res, const char *name, bool pass,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tdc_check_vadd(&res->checks, name, pass ? TDC_CHECK_PASS : TDC_CHECK_FAIL, NULL, fmt, ap);
	va_end(ap);
}

/* ---- signature chain ----------------------------------------------------- */

static void chain_details(struct tdc_verified_chain *v);

/*
 * The attestation key as an EVP_PKEY (a reference of our own).  A QE keeps
 * its key across quotes, so a long-running verifier keeps the imported key
 * under SHA-256 of its 64 bytes, but only once a verified QE report has
 * certified it (remember_key): a key that merely verifies its own quote's
 * signature proves nothing and must not take a place in the cache.
 */
static int attestation_key(struct tdc_collateral_cache *cache, const struct tdx_quote *q,
			   uint8_t id[32], EVP_PKEY **key, bool *cached)
{
	uint8_t sha[32], zero[32] = { 0 };

	*cached = false;
	if (cache) {
		tdc_sha256(q->attest_key, 64, sha);
		tdc_cache_key(sha, zero, id);
		*cached = (*key = tdc_cache_attkey_get(cache, id)) != NULL;
	}
	return *cached ? 0 : tdc_p256_key_from_xy(q->attest_key, key);
}

static int check_quote_signature(const struct tdx_quote *q, EVP_PKEY *key, int key_ret,
				 struct tdc_quote_result *res)
{
	int ret = key_ret;

	if (ret == 0)
		ret = tdc_ecdsa_verify_rs(key, q->signed_data, q->signed_len, q->signature);
	add_check(res, "quote.signature", ret == 0, ret == 0 ?
		  "attestation key signature over bytes [0, %zu) verifies" :
		  "quote signature fails: attestation key does not verify the signature "
		  "over bytes [0, %zu)", q->signed_len);
	return ret;
}

/* The trusted root's DER, encoded at most once per appraisal. */
struct root_der {
	X509 *root;
	unsigned char *der;
	int len;
};

static bool root_der_get(struct root_der *r)
{
	if (!r->der && (r->len = i2d_X509(r->root, &r->der)) <= 0) {
		OPENSSL_free(r->der);
		r->der = NULL;
	}
	return r->der != NULL;
}

/* One PEM certificate of the chain (and the SHA-256 of its DER if @sha).
 * The chain's root is normally the trusted root itself, and its
 * intermediate a certificate of the collateral (the PCK CRL's issuer
 * chain): then the X509 already decoded is used (same DER bytes; an X509
 * keeps no verdict, the chain is verified as always). */
static X509 *chain_cert(const char **p, const char *end, struct root_der *rd,
			const struct tdc_collateral *pool, bool last, uint8_t sha[32])
{
	uint8_t *der;
	size_t len;
	X509 *x = NULL;

	if (tdc_pem_cert_next(p, end, &der, &len) != 0)
		return NULL;
	if (sha) {
		tdc_sha256(der, len, sha);
		x = tdc_collateral_cert_by_sha(pool, sha);
	}
	if (!x && last && root_der_get(rd) && (size_t)rd->len == len &&
	    memcmp(der, rd->der, len) == 0 && X509_up_ref(rd->root))
		x = rd->root;
	else if (!x)
		x = tdc_der_read_cert(der, len);
	free(der);
	return x;
}

/* Exactly three PEM certificates (leaf, intermediate, root), with only
 * whitespace before and between them, then at most whitespace or NUL
 * padding.  @inter_sha: SHA-256 of the intermediate's DER.  @pool: the
 * collateral's certificates, or NULL. */
static int split_chain(const struct tdx_quote *q, struct root_der *rd,
		       const struct tdc_collateral *pool, X509 *out[3], uint8_t inter_sha[32])
{
	const char *p = (const char *)q->pck_chain_pem, *end = p + q->pck_chain_len;

	for (int i = 0; i < 3; i++)
		if (!(out[i] = chain_cert(&p, end, rd, pool, i == 2, i == 1 ? inter_sha : NULL)))
			return tdc_err(TDC_ERR_CHAIN, "PCK chain invalid: certificate %d of 3 "
				       "is not a valid PEM certificate", i + 1);
	for (; p < end; p++)
		if (*p && *p != '\n' && *p != '\r' && *p != ' ')
			return tdc_err(TDC_ERR_CHAIN, "PCK chain invalid: data after the "
				       "third certificate");
	return 0;
}

static bool same_cert(X509 *a, X509 *b)
{
	return X509_cmp(a, b) == 0;
}

static bool is_signature_error(int err)
{
	return err == X509_V_ERR_CERT_SIGNATURE_FAILURE ||
	       err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       err == X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE ||
	       err == X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY ||
	       err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

/* One link's check: OpenSSL's first error at @depth, in its words. */
static bool link_check(struct tdc_quote_result *res, const char *name, int err, int depth,
		       const char *pass, const char *bad_sig, const char *bad)
{
	if (!err)
		add_check(res, name, true, "%s", pass);
	else
		add_check(res, name, false, "%s (OpenSSL: %s, depth %d)",
			  is_signature_error(err) ? bad_sig : bad,
			  X509_verify_cert_error_string(err), depth);
	return !err;
}

/* Verify links root -> intermediate -> leaf; names the link that fails. */
static int verify_links(const struct tdc_quote_opts *o, X509 *c[3],
			struct tdc_quote_result *res)
{
	X509 *leaf = c[0], *inter = c[1], *root = c[2];
	struct tdc_chain_errors e;
	bool ok;
	int ret;

	/* The trusted root's own signature was checked when it became trusted. */
	if (!same_cert(root, o->root)) {
		ok = X509_verify(root, X509_get0_pubkey(root)) == 1;
		add_check(res, "pck_chain.root", false, ok ? "root certificate in the quote "
			  "is self-signed but is not the trusted root" :
			  "root signature fails: root CA certificate in the quote does not "
			  "verify with its own key");
		return TDC_ERR_CHAIN;
	}
	/* The leaf's keyUsage is checked below: no X.509 purpose describes
	 * signing a QE report. */
	if ((ret = tdc_chain_verify(o->store, o->root, leaf, inter, o->at, &e)) == TDC_ERR_ALLOC) {
		add_check(res, "pck_chain.intermediate", false, "chain not verified: out of memory");
		return tdc_err(TDC_ERR_ALLOC, "pck chain verification");
	}
	ok = link_check(res, "pck_chain.root", e.err[2], 2, "root CA certificate is the "
			"trusted root", "the trusted root does not verify the chain",
			"the trusted root does not admit this chain");
	if (ret == 0 && !e.path) {
		add_check(res, "pck_chain.leaf", false, "PCK leaf signature fails: not issued by "
			  "the quote's intermediate CA (OpenSSL verified it on another path to "
			  "the root)");
		return TDC_ERR_CHAIN;
	}
	ok &= link_check(res, "pck_chain.intermediate", e.err[1], 1, "intermediate CA "
			 "certificate signed by the root", "intermediate CA signature fails: "
			 "not signed by the trusted root", "intermediate CA certificate is not "
			 "a valid CA under the trusted root");
	if (!e.err[0] && !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		add_check(res, "pck_chain.leaf", false, "PCK leaf certificate's keyUsage does "
			  "not allow digitalSignature (the PCK key signs the QE report)");
		return TDC_ERR_CHAIN;
	}
	ok &= link_check(res, "pck_chain.leaf", e.err[0], 0, "PCK leaf certificate signed by "
			 "the intermediate CA", "PCK leaf signature fails: not signed by the "
			 "intermediate CA", "PCK leaf certificate is not valid under the "
			 "intermediate CA");
	return ok && ret == 0 ? 0 : TDC_ERR_CHAIN;
}

/*
 * The quote's PCK chain, verified to the trusted root now or earlier (cache
 * keyed by SHA-256 of the PEM bytes and the root).  Validity times are not
 * part of what is cached.  In an appraisal's private cache (@shared false)
 * nothing was verified earlier: no key is computed, nothing looked up; the
 * chain is only kept there until the appraisal ends.
 */
static int get_chain(const struct tdc_quote_opts *o, struct tdc_collateral_cache *cache,
		     bool shared, const uint8_t root_sha[32], struct root_der *rd,
		     const struct tdx_quote *q, struct tdc_quote_result *res,
		     struct tdc_verified_chain **out)
{
	struct tdc_cache_entry e = { 0 }, *hit;
	struct tdc_verified_chain *v;
	X509 *c[3] = { NULL, NULL, NULL };
	uint8_t sha[32], inter_sha[32];
	int ret;

	if (shared) {
		tdc_sha256(q->pck_chain_pem, q->pck_chain_len, sha);
		tdc_cache_key(sha, root_sha, e.key);
	}
	if (shared && (hit = tdc_cache_find(cache, e.key, TDC_DOC_CERTS)) && hit->verified) {
		add_check(res, "pck_chain.parse", true, "3 certificates (verified earlier, cached)");
		add_check(res, "pck_chain.root", true, "root CA certificate is the trusted root");
		add_check(res, "pck_chain.intermediate", true, "intermediate CA certificate "
			  "signed by the root (verified earlier, cached)");
		add_check(res, "pck_chain.leaf", true, "PCK leaf certificate signed by the "
			  "intermediate CA (verified earlier, cached)");
		*out = hit->obj;
		return 0;
	}
	if ((ret = split_chain(q, rd, o->collateral, c, inter_sha)) != 0) {
		add_check(res, "pck_chain.parse", false, "%s", tdc_errdetail());
		goto out;
	}
	add_check(res, "pck_chain.parse", true, "3 PEM certificates (leaf, intermediate, root)");
	res->ecdsa_verifies += same_cert(c[2], o->root) ? 2 : 1;
	if ((ret = verify_links(o, c, res)) != 0)
		goto out;
	if (!(v = calloc(1, sizeof(*v)))) {
		ret = tdc_err(TDC_ERR_ALLOC, "pck chain");
		goto out;
	}
	v->leaf = c[0];
	v->inter = c[1];
	v->root = c[2];
	c[0] = c[1] = c[2] = NULL;
	memcpy(v->inter_sha, inter_sha, 32);
	chain_details(v);
	e.kind = TDC_DOC_CERTS;
	e.obj = v;
	e.verified = true;
	if ((ret = tdc_cache_put(cache, &e, &hit)) != 0) {
		tdc_verified_chain_free(v);
		free(v);
		goto out;
	}
	*out = v;
out:
	for (int i = 0; i < 3; i++)
		X509_free(c[i]);
	return ret;
}

/* Every certificate's window, all failures named (leaf first). */
static int check_validity(const struct tdc_quote_opts *o, const struct tdc_verified_chain *v,
			  struct tdc_quote_result *res)
{
	static const char *const names[3] = { "PCK leaf certificate",
					      "intermediate CA certificate",
					      "root CA certificate" };
	char why[320] = "";
	size_t n = 0;
	int ret = 0;

	for (int i = 0; i < 3; i++) {
		if (tdc_window_valid_at(&v->win[i], o->at, names[i]) == 0)
			continue;
		ret = TDC_ERR_CHAIN;
		n += (size_t)snprintf(why + n, sizeof(why) - n, "%s%s", n ? "; " : "",
				      tdc_errdetail());
		if (n >= sizeof(why))
			break;
	}
	add_check(res, "pck_chain.validity", ret == 0, "%s", ret == 0 ?
		  "every certificate valid at the appraisal time" : why);
	return ret;
}

static int check_qe_report(const struct tdx_quote *q, X509 *leaf,
			   struct tdc_quote_result *res)
{
	uint8_t buf[64 + 65536], want[64] = { 0 };
	int ret, fail = 0;

	ret = tdc_ecdsa_verify_rs(X509_get0_pubkey(leaf), q->qe_report.raw, TDX_QE_REPORT_LEN,
				  q->qe_report_sig);
	add_check(res, "qe_report.signature", ret == 0, ret == 0 ? "QE report signed by "
		  "the PCK leaf key" : "QE report signature does not verify with the PCK "
		  "leaf key");
	fail |= ret != 0;
	/* REPORTDATA = SHA-256(attestation key || QE auth data) || 32 zero bytes. */
	memcpy(buf, q->attest_key, 64);
	memcpy(buf + 64, q->qe_auth_data, q->qe_auth_len);
	tdc_sha256(buf, 64 + q->qe_auth_len, want);
	ret = memcmp(want, q->qe_report.report_data, 64) == 0;
	add_check(res, "qe_report.binding", ret, ret ? "QE report data = SHA-256(attestation "
		  "key || QE auth data)" : "QE report data does not bind the attestation key");
	fail |= !ret;
	return fail ? TDC_ERR_BINDING : 0;
}

/*
 * The QE report's signer and product are Intel's TD quoting enclave: the
 * PCK key certifies any enclave's report on that platform, so without this
 * a report from another enclave would authenticate the attestation key.
 */
static void check_qe_identity(const struct tdc_quote_opts *o, const struct tdx_quote *q,
			      struct tdc_quote_result *res)
{
	char why[160];
	char hex[65];

	if (!o->qe_identity) {
		add_check(res, "qe_report.identity", false, "no TD QE identity configured for the "
			  "trust anchor: the quoting enclave is not authenticated");
		return;
	}
	if (!tdc_qe_identity_matches(o->qe_identity, &q->qe_report, why, sizeof(why))) {
		add_check(res, "qe_report.identity", false, "the QE report is not from the TD "
			  "quoting enclave: %s", why);
		return;
	}
	tdc_hex_encode(o->qe_identity->mrsigner, 32, hex);
	add_check(res, "qe_report.identity", true, "TD quoting enclave: MRSIGNER %.16s..., "
		  "ISVPRODID %u, MISCSELECT and ATTRIBUTES within the identity's masks", hex,
		  o->qe_identity->isvprodid);
}

static void check_td(const struct tdc_quote_opts *o, const struct tdx_quote *q,
		     struct tdc_quote_result *res)
{
	bool ok;

	if (o->report_data) {
		ok = o->report_data_len <= 64 &&
		     memcmp(q->body.report_data, o->report_data, o->report_data_len) == 0;
		add_check(res, "report_data", ok, ok ? "REPORTDATA starts with the expected "
			  "%zu bytes" : "REPORTDATA differs from the expected %zu bytes",
			  o->report_data_len);
	}
	res->debug_td = q->body.td_attributes & TDX_ATTR_DEBUG;
	add_check(res, "td_attributes.debug", !res->debug_td || o->allow_debug,
		  res->debug_td ? "DEBUG TD (attributes bit 0): its memory and state are "
		  "visible to the host%s" : "not a DEBUG TD",
		  res->debug_td && o->allow_debug ? " (allowed by --allow-debug)" : "");
}

/* ---- TCB evaluation ---------------------------------------------------- */

/*
 * Combine the platform status with a TDX module or QE identity status
 * (Intel QVL "converge TCB status"): an out-of-date module or QE makes the
 * whole TCB out of date, keeping the configuration part of the platform's.
 */
static enum tdc_tcb_status converge(enum tdc_tcb_status platform, enum tdc_tcb_status other)
{
	static const enum tdc_tcb_status when_out_of_date[TDC_TCB__COUNT] = {
		[TDC_TCB_UP_TO_DATE] = TDC_TCB_OUT_OF_DATE,
		[TDC_TCB_SW_HARDENING_NEEDED] = TDC_TCB_OUT_OF_DATE,
		[TDC_TCB_CONFIGURATION_NEEDED] = TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
		[TDC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] =
			TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
		[TDC_TCB_OUT_OF_DATE] = TDC_TCB_OUT_OF_DATE,
		[TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
		[TDC_TCB_REVOKED] = TDC_TCB_REVOKED,
		[TDC_TCB_TD_RELAUNCH_ADVISED] = TDC_TCB_OUT_OF_DATE,
		[TDC_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] =
			TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	};

	if (other == TDC_TCB_REVOKED || platform == TDC_TCB_REVOKED)
		return TDC_TCB_REVOKED;
	if (other == TDC_TCB_OUT_OF_DATE || other == TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
		return when_out_of_date[platform];
	return platform;
}

/*
 * Intel's TD relaunch rule (DCAP QVL TDRelaunchCheck.cpp, checkForRelaunch):
 * a TD whose status with TEE_TCB_SVN (the TDX module it was built on) is
 * out of date, while its status with TEE_TCB_SVN2 (the module running now,
 * after a TD-preserving update) is not, is advised to relaunch; the
 * configuration part of either carries over.
 */
static enum tdc_tcb_status relaunch(enum tdc_tcb_status launch, enum tdc_tcb_status current)
{
	static const bool launch_out_of_date[TDC_TCB__COUNT] = {
		[TDC_TCB_OUT_OF_DATE] = true,
		[TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = true,
	};
	static const bool current_fine[TDC_TCB__COUNT] = {
		[TDC_TCB_UP_TO_DATE] = true,
		[TDC_TCB_SW_HARDENING_NEEDED] = true,
		[TDC_TCB_CONFIGURATION_NEEDED] = true,
		[TDC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = true,
	};

	if (!launch_out_of_date[launch] || !current_fine[current])
		return launch;
	return tdc_tcb_status_needs_config(launch) || tdc_tcb_status_needs_config(current) ?
	       TDC_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED : TDC_TCB_TD_RELAUNCH_ADVISED;
}

static void add_advisories(struct tdc_quote_result *res, const struct tdc_tcb_level *lv)
{
	for (size_t i = 0; i < lv->n_advisories; i++) {
		const char *id = lv->advisories[i];
		bool dup = false;

		for (size_t j = 0; j < res->n_advisories && !dup; j++)
			dup = strcmp(res->advisories[j], id) == 0;
		if (!dup && res->n_advisories < TDC_QUOTE_MAX_ADVISORIES)
			snprintf(res->advisories[res->n_advisories++], 32, "%s", id);
	}
}

static void add_behind(struct tdc_quote_result *res, const char *what, int idx,
		       unsigned have, unsigned newest)
{
	struct tdc_behind *b;

	if (have >= newest || res->n_behind == TDC_QUOTE_MAX_BEHIND)
		return;
	b = &res->behind[res->n_behind++];
	if (idx >= 0)
		snprintf(b->what, sizeof(b->what), "%s[%d]", what, idx);
	else
		snprintf(b->what, sizeof(b->what), "%s", what);
	b->have = have;
	b->newest = newest;
}

static void set_tcb_date(struct tdc_quote_result *res, const struct tdc_tcb_level *lv,
			 time_t *earliest)
{
	if (*earliest && lv->tcb_date >= *earliest)
		return;
	*earliest = lv->tcb_date;
	snprintf(res->tcb_date, sizeof(res->tcb_date), "%s", lv->tcb_date_str);
}

/* TEE_TCB_SVN index where the platform comparison starts: with module
 * identities, bytes 0 (module SVN) and 1 (module version) are judged by the
 * identity's own levels instead. */
static int tdx_start(const struct tdc_tcbinfo *t, const uint8_t tee_svn[16])
{
	return t->n_modules && tee_svn[1] ? 2 : 0;
}

static const struct tdc_tdx_module_identity *module_identity(const struct tdc_tcbinfo *t,
							     uint8_t version)
{
	char id[16];

	snprintf(id, sizeof(id), "TDX_%02X", version);
	for (size_t i = 0; i < t->n_modules; i++)
		if (strcasecmp(t->modules[i].id, id) == 0)
			return &t->modules[i];
	return NULL;
}

static bool level_matches(const struct tdc_tcb_level *lv, const struct tdc_pck_ext *pck,
			  const uint8_t *tee_svn, int start)
{
	for (int i = 0; i < TDC_TCB_COMPONENTS; i++)
		if (pck->cpusvn_comp[i] < lv->sgx[i])
			return false;
	if (pck->pcesvn < lv->pcesvn)
		return false;
	for (int i = start; i < TDC_TCB_COMPONENTS; i++)
		if (tee_svn[i] < lv->tdx[i])
			return false;
	return true;
}

/* TDX module identity: TDX_<version> for 1.5+ modules, else tdxModule. */
static int check_module(const struct tdc_tcbinfo *t, const struct tdx_quote *q,
			struct tdc_quote_result *res, const struct tdc_tdx_module_identity **mi)
{
	const uint8_t *mrsigner = t->module_mrsigner, *attrs = t->module_attributes;
	const uint8_t *mask = t->module_attributes_mask;
	uint8_t seam_attrs[8];
	char id[16];
	bool ok = true;

	*mi = NULL;
	if (tdx_start(t, q->body.tee_tcb_svn)) {
		snprintf(id, sizeof(id), "TDX_%02X", q->body.tee_tcb_svn[1]);
		if (!(*mi = module_identity(t, q->body.tee_tcb_svn[1]))) {
			add_check(res, "tdx_module.identity", false, "TCB info has no TDX module "
				  "identity %s (TEE_TCB_SVN[1] = %u)", id, q->body.tee_tcb_svn[1]);
			return TDC_ERR_COLLATERAL;
		}
		mrsigner = (*mi)->mrsigner;
		attrs = (*mi)->attributes;
		mask = (*mi)->attributes_mask;
	}
	for (int i = 0; i < 8; i++) {
		seam_attrs[i] = (uint8_t)(q->body.seam_attributes >> (8 * i));
		ok &= (seam_attrs[i] & mask[i]) == attrs[i];
	}
	if (memcmp(mrsigner, q->body.mr_signer_seam, 48) != 0) {
		add_check(res, "tdx_module.identity", false, "MRSIGNER_SEAM differs from the "
			  "TCB info's TDX module mrsigner");
		return TDC_ERR_COLLATERAL;
	}
	add_check(res, "tdx_module.identity", ok, ok ? "MRSIGNER_SEAM and SEAM attributes "
		  "match %s" : "SEAM attributes do not match %s", *mi ? (*mi)->id : "tdxModule");
	return ok ? 0 : TDC_ERR_COLLATERAL;
}

static int eval_module_level(const struct tdc_tdx_module_identity *mi,
			     const struct tdx_quote *q, struct tdc_quote_result *res,
			     time_t *earliest)
{
	uint8_t svn = q->body.tee_tcb_svn[0];

	res->module_status = TDC_TCB_UP_TO_DATE;
	if (!mi)
		return 0;
	for (size_t i = 0; i < mi->n_levels; i++) {
		if (mi->levels[i].isvsvn > svn)
			continue;
		res->module_status = mi->levels[i].status;
		add_advisories(res, &mi->levels[i]);
		set_tcb_date(res, &mi->levels[i], earliest);
		add_behind(res, "tdx_module_svn", -1, svn, mi->levels[0].isvsvn);
		add_check(res, "tdx_module.tcb", true, "%s level isvsvn %u: %s", mi->id,
			  mi->levels[i].isvsvn, tdc_tcb_status_name(mi->levels[i].status));
		return 0;
	}
	add_check(res, "tdx_module.tcb", false, "no matching TDX module TCB level for %s "
		  "SVN %u", mi->id, svn);
	return TDC_ERR_COLLATERAL;
}

static int eval_platform(const struct tdc_tcbinfo *t, const struct tdx_quote *q,
			 struct tdc_quote_result *res, time_t *earliest)
{
	const struct tdc_tcb_level *lv = NULL, *top = &t->levels[0];
	int start = tdx_start(t, q->body.tee_tcb_svn);

	for (size_t i = 0; i < t->n_levels && !lv; i++)
		if (level_matches(&t->levels[i], &res->pck, q->body.tee_tcb_svn, start)) {
			lv = &t->levels[i];
			res->levels_behind = (unsigned)i;
		}
	for (int i = 0; i < TDC_TCB_COMPONENTS; i++)
		add_behind(res, "sgx", i, res->pck.cpusvn_comp[i], top->sgx[i]);
	add_behind(res, "pcesvn", -1, res->pck.pcesvn, top->pcesvn);
	for (int i = start; i < TDC_TCB_COMPONENTS; i++)
		add_behind(res, "tdx", i, q->body.tee_tcb_svn[i], top->tdx[i]);
	if (!lv) {
		add_check(res, "tcb.level", false, "no matching TCB level: the platform's "
			  "TCB (PCK CPUSVN/PCESVN, TEE_TCB_SVN) is below all %zu levels of the "
			  "TCB info", t->n_levels);
		return TDC_ERR_COLLATERAL;
	}
	res->tcb_matched = true;
	res->platform_status = lv->status;
	add_advisories(res, lv);
	set_tcb_date(res, lv, earliest);
	add_check(res, "tcb.level", true, "matched level %u of %zu (tcbDate %s): %s",
		  res->levels_behind + 1, t->n_levels, lv->tcb_date_str,
		  tdc_tcb_status_name(lv->status));
	return 0;
}

static int eval_qe(const struct tdc_qe_identity *qi, const struct tdx_quote *q,
		   struct tdc_quote_result *res, time_t *earliest)
{
	const struct tdx_qe_report *r = &q->qe_report;
	bool ok = memcmp(qi->mrsigner, r->mr_signer, 32) == 0 &&
		  qi->isvprodid == r->isv_prod_id &&
		  (r->misc_select & qi->miscselect_mask) == qi->miscselect;

	for (int i = 0; i < 16; i++)
		ok &= (r->attributes[i] & qi->attributes_mask[i]) == qi->attributes[i];
	add_check(res, "qe_identity.match", ok, ok ? "QE MRSIGNER, ISVPRODID %u, MISCSELECT "
		  "and attributes match the TD_QE identity" : "QE report does not match the "
		  "TD_QE identity (MRSIGNER, ISVPRODID %u, MISCSELECT or attributes)",
		  r->isv_prod_id);
	for (size_t i = 0; i < qi->n_levels; i++) {
		if (qi->levels[i].isvsvn > r->isv_svn)
			continue;
		res->qe_status = qi->levels[i].status;
		add_advisories(res, &qi->levels[i]);
		set_tcb_date(res, &qi->levels[i], earliest);
		add_behind(res, "qe_isvsvn", -1, r->isv_svn, qi->levels[0].isvsvn);
		add_check(res, "qe_identity.tcb", true, "QE ISVSVN %u matches level isvsvn %u: %s",
			  r->isv_svn, qi->levels[i].isvsvn, tdc_tcb_status_name(qi->levels[i].status));
		return ok ? 0 : TDC_ERR_COLLATERAL;
	}
	add_check(res, "qe_identity.tcb", false, "no matching QE identity TCB level for "
		  "ISVSVN %u", r->isv_svn);
	return TDC_ERR_COLLATERAL;
}

/* The TDX part of the status for one TEE_TCB_SVN vector: platform level
 * and module identity level, converged; false when nothing matches. */
static bool tdx_status_for(const struct tdc_tcbinfo *t, const struct tdc_pck_ext *pck,
			   const uint8_t svn[16], enum tdc_tcb_status *out)
{
	const struct tdc_tdx_module_identity *mi;
	enum tdc_tcb_status module = TDC_TCB_UP_TO_DATE;
	const struct tdc_tcb_level *lv = NULL;
	int start = tdx_start(t, svn);

	for (size_t i = 0; i < t->n_levels && !lv; i++)
		if (level_matches(&t->levels[i], pck, svn, start))
			lv = &t->levels[i];
	if (!lv)
		return false;
	if (start) {
		size_t i;

		if (!(mi = module_identity(t, svn[1])))
			return false;
		for (i = 0; i < mi->n_levels && mi->levels[i].isvsvn > svn[0]; i++)
			;
		if (i == mi->n_levels)
			return false;
		module = mi->levels[i].status;
	}
	*out = converge(lv->status, module);
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* TDX 1.5: TEE_TCB_SVN2 is the module running now (tdx-abi.md §5). */
static void eval_relaunch(const struct tdc_tcbinfo *t, const struct tdx_quote *q,
			  struct tdc_quote_result *res)
{
	const uint8_t *svn = q->body.tee_tcb_svn, *svn2 = q->body.tee_tcb_svn2;
	enum tdc_tcb_status cur = TDC_TCB_UP_TO_DATE;
	bool updated = memcmp(svn, svn2, 16) != 0;

	res->launch_status = res->tcb_status;
	if (!q->body.is_1_5 || all_zero(svn2, 16))
		return;
	res->relaunch_evaluated = true;
	res->current_matched = tdx_status_for(t, &res->pck, svn2, &cur);
	if (!res->current_matched) {
		add_check(res, "tcb.relaunch", true, "TEE_TCB_SVN2 (the TDX module running now) "
			  "matches no TCB level: status stays %s",
			  tdc_tcb_status_name(res->launch_status));
		return;
	}
	res->current_status = converge(cur, res->qe_status);
	res->tcb_status = relaunch(res->launch_status, res->current_status);
	add_check(res, "tcb.relaunch", true, "TDX module %s since the TD was built (TEE_TCB_SVN "
		  "module SVN %u.%u, TEE_TCB_SVN2 %u.%u): built on %s, running on %s%s",
		  updated ? "updated at run time" : "unchanged", svn[1], svn[0], svn2[1], svn2[0],
		  tdc_tcb_status_name(res->launch_status), tdc_tcb_status_name(res->current_status),
		  res->tcb_status != res->launch_status ? ": relaunch the TD to run on the "
		  "updated module's TCB" : "");
}

static void eval_tcb(const struct tdc_quote_opts *o, const struct tdc_coll_selected *sel,
		     const struct tdx_quote *q, struct tdc_quote_result *res)
{
	const struct tdc_tcbinfo *t = sel->tcbinfo;
	const struct tdc_tdx_module_identity *mi = NULL;
	unsigned accept = o->accept_tcb ? o->accept_tcb : 1u << TDC_TCB_UP_TO_DATE;
	time_t earliest = 0, date = 0;
	bool ok;
	int fail = 0;

	ok = memcmp(t->pceid, res->pck.pceid, 2) == 0;
	add_check(res, "tcb_info.pceid", ok, "TCB info PCE ID %02x%02x, PCK certificate "
		  "%02x%02x", t->pceid[0], t->pceid[1], res->pck.pceid[0], res->pck.pceid[1]);
	fail |= !ok;
	fail |= check_module(t, q, res, &mi) != 0;
	fail |= eval_platform(t, q, res, &earliest) != 0;
	fail |= eval_module_level(mi, q, res, &earliest) != 0;
	if (sel->qeid)
		fail |= eval_qe(sel->qeid, q, res, &earliest) != 0;
	if (fail || !res->tcb_matched) {
		add_check(res, "tcb.status", false, "TCB status cannot be established%s",
			  res->tcb_matched ? "" : ": no matching TCB level");
		return;
	}
	res->tcb_status = converge(converge(res->platform_status, res->module_status),
				   res->qe_status);
	eval_relaunch(t, q, res);
	ok = accept & (1u << res->tcb_status);
	res->tcb_acceptable = ok;
	add_check(res, "tcb.status", ok, "%s (platform %s, TDX module %s, QE %s)%s",
		  tdc_tcb_status_name(res->tcb_status), tdc_tcb_status_name(res->platform_status),
		  tdc_tcb_status_name(res->module_status), tdc_tcb_status_name(res->qe_status),
		  ok ? "" : ": not in the accepted list (--accept-tcb)");
	if (o->min_tcb_date) {
		tdc_time_parse(res->tcb_date, 0, &date);
		ok = date >= o->min_tcb_date;
		res->tcb_acceptable &= ok;
		add_check(res, "tcb.date", ok, "tcbDate %s %s the minimum (--min-tcb-date)",
			  res->tcb_date, ok ? "meets" : "is older than");
	}
}

static void iso_time(time_t t, char buf[24])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Collateral from the source: leased for this appraisal, checked as
 * "collateral.source" (where it came from, or why there is none). */
static int lease_collateral(const struct tdc_quote_opts *o, const struct tdc_verified_chain *v,
			    struct tdc_quote_result *res, struct tdc_coll_lease *l)
{
	struct tdc_coll_request rq = { res->pck.fmspc, TDC_PCS_CA_PLATFORM, o->root, o->at,
				       !o->no_crl, false };
	const char *name = tdc_coll_source_name(o->source);
	char when[24] = "";
	int ret;

	res->collateral_source = name;
	if (!o->no_crl && (ret = tdc_pcs_ca_of(v->inter, &rq.ca)) != 0) {
		add_check(res, "collateral.source", false, "%s", tdc_errdetail());
		return ret;
	}
	if ((ret = tdc_coll_source_acquire(o->source, &rq, l)) != 0) {
		add_check(res, "collateral.source", false, "%s: %s", name, tdc_errdetail());
		return ret;
	}
	for (int d = 0; d < TDC_PCS__COUNT; d++) {
		res->fresh[d].from = l->doc[d].from;
		res->fresh[d].fetched_at = l->doc[d].fetched_at;
	}
	snprintf(res->collateral_note, sizeof(res->collateral_note), "%s", l->note);
	if (l->err) {
		/* Fail closed, naming the URL and the error. */
		add_check(res, "collateral.source", false, "%s", l->error);
		return 0;
	}
	if (!tdc_coll_source_is_url(o->source)) {
		add_check(res, "collateral.source", true, "directory %s", name);
		return 0;
	}
	if (l->doc[TDC_PCS_TCB].fetched_at)
		iso_time(l->doc[TDC_PCS_TCB].fetched_at, when);
	add_check(res, "collateral.source", true, "%s: %s%s (TCB info fetched %s)%s%s", name,
		  l->fetched ? "fetched now" : "verified copies from the cache",
		  l->fetched && l->fetched < (unsigned)(rq.crls ? TDC_PCS__COUNT : 2) ?
		  " and from the cache" : "", when, l->note[0] ? "; " : "", l->note);
	return 0;
}

static void set_fresh(struct tdc_coll_fresh *f, time_t issued, time_t next)
{
	f->used = true;
	f->issued = issued;
	f->next_update = next;
}

static void check_collateral(const struct tdc_quote_opts *o, struct tdc_collateral_cache *cache,
			     const uint8_t root_sha[32], const struct tdx_quote *q,
			     const struct tdc_verified_chain *v, struct tdc_quote_result *res)
{
	struct tdc_coll_inputs in = { o->root, root_sha, v->inter, v->inter_sha, res->pck.fmspc,
				      o->at, !o->no_crl, o->store };
	struct tdc_collateral *coll = o->collateral;
	struct tdc_coll_lease lease = { 0 };
	struct tdc_coll_selected sel;

	res->collateral_used = true;
	res->crl_checked = !o->no_crl;
	for (int d = 0; d < TDC_PCS__COUNT; d++)
		res->fresh[d].from = TDC_COLL_FROM_DIR;
	if (o->source) {
		if (lease_collateral(o, v, res, &lease) != 0 || !lease.c) {
			add_check(res, "tcb.status", false, "no usable collateral: TCB status unknown");
			tdc_coll_source_release(&lease);
			return;
		}
		coll = lease.c;
	}
	tdc_collateral_select(coll, cache, &in, &res->checks, &sel);
	/* Names point into the leased documents: copied before the release. */
	snprintf(res->tcbinfo_name, sizeof(res->tcbinfo_name), "%s",
		 sel.tcbinfo_name ? sel.tcbinfo_name : "");
	snprintf(res->qeid_name, sizeof(res->qeid_name), "%s", sel.qeid_name ? sel.qeid_name : "");
	if (sel.tcbinfo) {
		set_fresh(&res->fresh[TDC_PCS_TCB], sel.tcbinfo->issue_date, sel.tcbinfo->next_update);
		res->fresh[TDC_PCS_TCB].eval_number = sel.tcbinfo->eval_number;
	}
	if (sel.qeid) {
		set_fresh(&res->fresh[TDC_PCS_QEID], sel.qeid->issue_date, sel.qeid->next_update);
		res->fresh[TDC_PCS_QEID].eval_number = sel.qeid->eval_number;
	}
	if (sel.pck_crl)
		set_fresh(&res->fresh[TDC_PCS_PCKCRL], sel.pck_crl_window.not_before,
			  sel.pck_crl_window.not_after);
	if (sel.root_crl)
		set_fresh(&res->fresh[TDC_PCS_ROOTCRL], sel.root_crl_window.not_before,
			  sel.root_crl_window.not_after);
	if (sel.pck_crl) {
		bool revoked = tdc_crl_revokes(sel.pck_crl, v->leaf);

		add_check(res, "pck.revocation", !revoked, revoked ? "PCK certificate %s is "
			  "revoked by %s" : "PCK certificate %s is not in %s", res->pck_serial,
			  sel.pck_crl_name);
	}
	if (sel.tcbinfo)
		eval_tcb(o, &sel, q, res);
	else
		add_check(res, "tcb.status", false, "no usable TCB info: TCB status unknown");
	tdc_coll_source_release(&lease);
}

/* Serial and SGX extensions of a freshly verified chain (cached with it). */
static void chain_details(struct tdc_verified_chain *v)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(v->leaf), NULL);
	char *h = bn ? BN_bn2hex(bn) : NULL;

	snprintf(v->serial, sizeof(v->serial), "%s", h ? h : "?");
	OPENSSL_free(h);
	BN_free(bn);
	tdc_cert_window(v->leaf, &v->win[0]);
	tdc_cert_window(v->inter, &v->win[1]);
	tdc_cert_window(v->root, &v->win[2]);
	v->pck_ret = tdc_pck_ext_from_cert(v->leaf, &v->pck);
	if (v->pck_ret)
		snprintf(v->pck_err, sizeof(v->pck_err), "%s", tdc_errdetail());
}

static void pck_details(const struct tdc_verified_chain *v, struct tdc_quote_result *res)
{
	snprintf(res->pck_serial, sizeof(res->pck_serial), "%s", v->serial);
	res->have_pck = v->pck_ret == 0;
	if (!res->have_pck) {
		add_check(res, "pck.extensions", false, "%s", v->pck_err);
		return;
	}
	res->pck = v->pck;
	add_check(res, "pck.extensions", true, "SGX extensions decoded (FMSPC "
		  "%02x%02x%02x%02x%02x%02x)", res->pck.fmspc[0], res->pck.fmspc[1],
		  res->pck.fmspc[2], res->pck.fmspc[3], res->pck.fmspc[4], res->pck.fmspc[5]);
}

int tdc_quote_appraise(const struct tdc_quote_opts *o, const uint8_t *quote, size_t len,
		       struct tdc_quote_result *res)
{
	struct tdc_collateral_cache *cache = o->cache, *tmp = NULL;
	struct tdc_verified_chain *v = NULL;
	EVP_PKEY *key = NULL;
	uint8_t key_id[32];
	bool key_cached = false, sig_ok;
	int key_ret;
	unsigned long before = tdc_ecdsa_verify_count();
	struct tdx_quote *q = &res->quote;
	struct tdc_check_list keep = res->checks;
	struct root_der rd = { o->root, NULL, 0 };
	uint8_t root_sha[32];
	int ret;

	memset(res, 0, sizeof(*res));
	res->checks = keep;
	tdc_check_list_reset(&res->checks);
	res->at = o->at;
	if ((ret = tdx_quote_parse(quote, len, true, q)) != 0) {
		add_check(res, "quote.structure", false, "%s", tdc_errdetail());
		return ret;
	}
	res->parsed = true;
	res->trailing = q->trailing;
	add_check(res, "quote.structure", true, "v%u quote, TD %s body, %zu trailing bytes "
		  "after the signature data (not signed, ignored)", q->header.version,
		  q->body.is_1_5 ? "1.5" : "1.0", q->trailing);
	/* A full shared cache stays as it is; this appraisal then verifies
	 * everything itself, in a private cache freed below. */
	if (cache && !tdc_collateral_cache_has_room(cache))
		cache = NULL;
	if (!cache && (ret = tdc_collateral_cache_new(&tmp)) != 0)
		return ret;
	cache = cache ? cache : tmp;
	/* The one-shot path encodes the root once, to compare it with the
	 * chain's root and, with collateral, for its hash (the anchor of the
	 * collateral's cache keys; nothing else uses it there); a shared cache
	 * remembers the hash. */
	memset(root_sha, 0, 32);
	if (cache == o->cache)
		tdc_cache_root_sha256(cache, o->root, root_sha);
	else if ((o->collateral || o->source) && root_der_get(&rd))
		tdc_sha256(rd.der, (size_t)rd.len, root_sha);
	key_ret = attestation_key(o->cache == cache ? cache : NULL, q, key_id, &key, &key_cached);
	sig_ok = check_quote_signature(q, key, key_ret, res) == 0;
	if (get_chain(o, cache, cache == o->cache, root_sha, &rd, q, res, &v) == 0) {
		check_validity(o, v, res);
		pck_details(v, res);
		/* Certified by a QE report that chains to the root: now worth keeping. */
		if (check_qe_report(q, v->leaf, res) == 0 && sig_ok && !key_cached &&
		    o->cache == cache)
			tdc_cache_attkey_put(cache, key_id, key);
	}
	EVP_PKEY_free(key);
	check_qe_identity(o, q, res);
	check_td(o, q, res);
	if ((o->collateral || o->source) && v && res->have_pck)
		check_collateral(o, cache, root_sha, q, v, res);
	res->all_pass = tdc_check_list_ok(&res->checks);
	if (!o->collateral && !o->source)
		res->tcb_acceptable = res->all_pass;
	/* Chain links were counted by get_chain (X509_verify); the rest here. */
	res->ecdsa_verifies += tdc_ecdsa_verify_count() - before;
	tdc_collateral_cache_free(tmp);
	OPENSSL_free(rd.der);
	return 0;
}

void tdc_quote_result_free(struct tdc_quote_result *res)
{
	tdc_check_list_free(&res->checks);
}

int tdc_quote_exit_code(const struct tdc_quote_result *res)
{
	return res->all_pass && res->tcb_acceptable ? 0 : 1;
}

int tdc_quote_parse_accept(const char *list, unsigned *mask)
{
	char buf[512], *save = NULL, *tok;
	enum tdc_tcb_status s;
	int ret;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return tdc_err(TDC_ERR_TOO_LARGE, "--accept-tcb list too long");
	*mask = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if ((ret = tdc_tcb_status_parse(tok, &s)) != 0)
			return ret;
		*mask |= 1u << s;
	}
	if (!*mask)
		return tdc_err(TDC_ERR_USAGE, "--accept-tcb: empty list");
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static json_t *body_json(const struct tdx_td_body *b)
{
	json_t *o = json_object(), *rtmr = json_array();
	char buf[32], names[512];

	json_object_set_new(o, "body_type", json_integer(b->body_type));
	json_object_set_new(o, "tee_tcb_svn", tdc_json_hexbytes(b->tee_tcb_svn, 16));
	json_object_set_new(o, "mr_seam", tdc_json_hexbytes(b->mr_seam, 48));
	json_object_set_new(o, "mr_signer_seam", tdc_json_hexbytes(b->mr_signer_seam, 48));
	snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)b->seam_attributes);
	json_object_set_new(o, "seam_attributes", json_string(buf));
	snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)b->td_attributes);
	json_object_set_new(o, "td_attributes", json_string(buf));
	json_object_set_new(o, "td_attributes_names",
			    json_string(tdx_attributes_str(b->td_attributes, names, sizeof(names))));
	json_object_set_new(o, "debug", json_boolean(b->td_attributes & TDX_ATTR_DEBUG));
	json_object_set_new(o, "sept_ve_disable",
			    json_boolean(b->td_attributes & TDX_ATTR_SEPT_VE_DISABLE));
	snprintf(buf, sizeof(buf), "0x%016llx", (unsigned long long)b->xfam);
	json_object_set_new(o, "xfam", json_string(buf));
	json_object_set_new(o, "xfam_names", json_string(tdx_xfam_str(b->xfam, names, sizeof(names))));
	json_object_set_new(o, "mr_td", tdc_json_hexbytes(b->mr_td, 48));
	json_object_set_new(o, "mr_config_id", tdc_json_hexbytes(b->mr_config_id, 48));
	json_object_set_new(o, "mr_owner", tdc_json_hexbytes(b->mr_owner, 48));
	json_object_set_new(o, "mr_owner_config", tdc_json_hexbytes(b->mr_owner_config, 48));
	for (int i = 0; i < 4; i++)
		json_array_append_new(rtmr, tdc_json_hexbytes(b->rtmr[i], 48));
	json_object_set_new(o, "rtmr", rtmr);
	json_object_set_new(o, "report_data", tdc_json_hexbytes(b->report_data, 64));
	if (b->is_1_5) {
		json_object_set_new(o, "tee_tcb_svn2", tdc_json_hexbytes(b->tee_tcb_svn2, 16));
		json_object_set_new(o, "mr_servicetd", tdc_json_hexbytes(b->mr_servicetd, 48));
	}
	return o;
}

static json_t *quote_json(const struct tdc_quote_result *res)
{
	const struct tdx_quote *q = &res->quote;
	json_t *o = json_object(), *qe = json_object(), *region = json_array();

	json_object_set_new(o, "version", json_integer(q->header.version));
	json_object_set_new(o, "att_key_type", json_integer(q->header.att_key_type));
	json_object_set_new(o, "tee_type", json_integer(q->header.tee_type));
	json_object_set_new(o, "qe_vendor_id", tdc_json_hexbytes(q->header.qe_vendor_id, 16));
	json_object_set_new(o, "size", json_integer((json_int_t)q->total_len));
	json_array_append_new(region, json_integer(0));
	json_array_append_new(region, json_integer((json_int_t)q->signed_len));
	json_object_set_new(o, "signed_region", region);
	json_object_set_new(o, "trailing_bytes", json_integer((json_int_t)q->trailing));
	json_object_set_new(o, "td", body_json(&q->body));
	json_object_set_new(qe, "mr_enclave", tdc_json_hexbytes(q->qe_report.mr_enclave, 32));
	json_object_set_new(qe, "mr_signer", tdc_json_hexbytes(q->qe_report.mr_signer, 32));
	json_object_set_new(qe, "isv_prod_id", json_integer(q->qe_report.isv_prod_id));
	json_object_set_new(qe, "isv_svn", json_integer(q->qe_report.isv_svn));
	json_object_set_new(o, "qe_report", qe);
	return o;
}

static json_t *pck_json(const struct tdc_quote_result *res)
{
	const struct tdc_pck_ext *p = &res->pck;
	json_t *o = json_object(), *comps = json_array();

	json_object_set_new(o, "serial", json_string(res->pck_serial));
	json_object_set_new(o, "fmspc", tdc_json_hexbytes(p->fmspc, 6));
	json_object_set_new(o, "pce_id", tdc_json_hexbytes(p->pceid, 2));
	json_object_set_new(o, "pcesvn", json_integer(p->pcesvn));
	json_object_set_new(o, "cpusvn", tdc_json_hexbytes(p->cpusvn, 16));
	for (int i = 0; i < 16; i++)
		json_array_append_new(comps, json_integer(p->cpusvn_comp[i]));
	json_object_set_new(o, "cpusvn_components", comps);
	json_object_set_new(o, "ppid", tdc_json_hexbytes(p->ppid, 16));
	json_object_set_new(o, "sgx_type", json_string(tdc_sgx_type_name(p->sgx_type)));
	if (p->has_platform_instance_id)
		json_object_set_new(o, "platform_instance_id", tdc_json_hexbytes(p->platform_instance_id, 16));
	if (p->has_config) {
		json_object_set_new(o, "dynamic_platform", json_boolean(p->dynamic_platform));
		json_object_set_new(o, "cached_keys", json_boolean(p->cached_keys));
		json_object_set_new(o, "smt_enabled", json_boolean(p->smt_enabled));
	}
	return o;
}

static json_t *tcb_json(const struct tdc_quote_result *res)
{
	json_t *o = json_object(), *adv = json_array(), *behind = json_array();

	json_object_set_new(o, "matched", json_boolean(res->tcb_matched));
	json_object_set_new(o, "status", json_string(res->tcb_matched ?
			    tdc_tcb_status_name(res->tcb_status) : "no matching TCB level"));
	json_object_set_new(o, "platform_status",
			    json_string(tdc_tcb_status_name(res->platform_status)));
	json_object_set_new(o, "tdx_module_status",
			    json_string(tdc_tcb_status_name(res->module_status)));
	json_object_set_new(o, "qe_status", json_string(tdc_tcb_status_name(res->qe_status)));
	if (res->relaunch_evaluated) {
		json_object_set_new(o, "launch_status",
				    json_string(tdc_tcb_status_name(res->launch_status)));
		json_object_set_new(o, "current_status", res->current_matched ?
				    json_string(tdc_tcb_status_name(res->current_status)) :
				    json_null());
	}
	json_object_set_new(o, "tcb_date", res->tcb_date[0] ? json_string(res->tcb_date) :
			    json_null());
	json_object_set_new(o, "levels_behind", json_integer(res->levels_behind));
	for (size_t i = 0; i < res->n_advisories; i++)
		json_array_append_new(adv, json_string(res->advisories[i]));
	json_object_set_new(o, "advisory_ids", adv);
	for (size_t i = 0; i < res->n_behind; i++)
		json_array_append_new(behind, json_pack("{s:s,s:i,s:i}", "component",
							res->behind[i].what, "have",
							res->behind[i].have, "newest",
							res->behind[i].newest));
	json_object_set_new(o, "below_newest", behind);
	json_object_set_new(o, "acceptable", json_boolean(res->tcb_acceptable));
	return o;
}

json_t *tdc_quote_result_json(const struct tdc_quote_result *res)
{
	json_t *o = tdc_verdict_json_new("quote", tdc_quote_exit_code(res) == 0);
	json_t *coll = json_object();

	if (res->parsed)
		json_object_set_new(o, "quote", quote_json(res));
	if (res->have_pck)
		json_object_set_new(o, "pck", pck_json(res));
	json_object_set_new(coll, "used", json_boolean(res->collateral_used));
	json_object_set_new(coll, "revocation_checked", json_boolean(res->crl_checked));
	if (res->collateral_source)
		json_object_set_new(coll, "source", json_string(res->collateral_source));
	if (res->tcbinfo_name[0])
		json_object_set_new(coll, "tcb_info", json_string(res->tcbinfo_name));
	if (res->qeid_name[0])
		json_object_set_new(coll, "qe_identity", json_string(res->qeid_name));
	if (res->collateral_used)
		json_object_set_new(coll, "freshness", tdc_quote_freshness_json(res));
	if (res->collateral_note[0])
		json_object_set_new(coll, "note", json_string(res->collateral_note));
	json_object_set_new(o, "collateral", coll);
	if (res->collateral_used)
		json_object_set_new(o, "tcb", tcb_json(res));
	json_object_set_new(o, "checks", tdc_check_list_json(&res->checks));
	json_object_set_new(o, "ecdsa_verifies", json_integer((json_int_t)res->ecdsa_verifies));
	return o;
}

static const char *const fresh_names[TDC_PCS__COUNT] = {
	"tcb_info", "qe_identity", "pck_crl", "root_crl",
};

json_t *tdc_quote_freshness_json(const struct tdc_quote_result *res)
{
	json_t *arr = json_array();
	char d1[24], d2[24], d3[24];

	for (int d = 0; d < TDC_PCS__COUNT; d++) {
		const struct tdc_coll_fresh *f = &res->fresh[d];
		json_t *e;

		if (!f->used)
			continue;
		iso_time(f->issued, d1);
		iso_time(f->next_update, d2);
		e = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "document", fresh_names[d],
			      "issued", d1, "next_update", d2,
			      "age_seconds", (json_int_t)(res->at - f->issued),
			      "expires_in_seconds", (json_int_t)(f->next_update - res->at),
			      "from", tdc_coll_from_name(f->from));
		if (e && f->eval_number)
			json_object_set_new(e, "tcb_evaluation_data_number",
					    json_integer(f->eval_number));
		if (e && f->fetched_at) {
			iso_time(f->fetched_at, d3);
			json_object_set_new(e, "fetched_at", json_string(d3));
		}
		json_array_append_new(arr, e);
	}
	return arr;
}

static void fresh_text(const struct tdc_quote_result *res, FILE *out)
{
	static const char *const what[TDC_PCS__COUNT] = {
		"TCB info", "QE identity", "PCK CRL", "root CA CRL",
	};
	char d1[24], d2[24], d3[24];

	fprintf(out, "collateral: %s\n", res->collateral_source ? res->collateral_source :
		"directory");
	for (int d = 0; d < TDC_PCS__COUNT; d++) {
		const struct tdc_coll_fresh *f = &res->fresh[d];
		long age = (long)(res->at - f->issued), left = (long)(f->next_update - res->at);

		if (!f->used)
			continue;
		iso_time(f->issued, d1);
		iso_time(f->next_update, d2);
		fprintf(out, "  %s: issued %s (%.1f days old), nextUpdate %s (%s %.1f days%s)",
			what[d], d1, (double)age / 86400, d2, left >= 0 ? "in" : "PASSED",
			(double)labs(left) / 86400, left >= 0 ? "" : " ago");
		if (f->fetched_at) {
			iso_time(f->fetched_at, d3);
			fprintf(out, ", from the %s, fetched %s", tdc_coll_from_name(f->from), d3);
		}
		fprintf(out, "\n");
	}
	if (res->collateral_note[0])
		fprintf(out, "  note: %s\n", res->collateral_note);
}

static void tcb_text(const struct tdc_quote_result *res, FILE *out)
{
	fprintf(out, "tcb: %s", res->tcb_matched ? tdc_tcb_status_name(res->tcb_status) :
		"no matching TCB level");
	if (res->tcb_matched)
		fprintf(out, " (tcbDate %s, %u newer TCB level%s)", res->tcb_date,
			res->levels_behind, res->levels_behind == 1 ? "" : "s");
	fprintf(out, "\n");
	if (res->relaunch_evaluated && res->current_matched)
		fprintf(out, "tcb with TEE_TCB_SVN (built on): %s; with TEE_TCB_SVN2 (running "
			"now): %s\n", tdc_tcb_status_name(res->launch_status),
			tdc_tcb_status_name(res->current_status));
	if (res->n_advisories) {
		fprintf(out, "advisories:");
		for (size_t i = 0; i < res->n_advisories; i++)
			fprintf(out, " %s", res->advisories[i]);
		fprintf(out, "\n");
	}
	if (res->n_behind) {
		fprintf(out, "below the newest level:");
		for (size_t i = 0; i < res->n_behind; i++)
			fprintf(out, " %s %u<%u", res->behind[i].what, res->behind[i].have,
				res->behind[i].newest);
		fprintf(out, "\n");
	}
}

void tdc_quote_result_text(const struct tdc_quote_result *res, FILE *out)
{
	const struct tdx_quote *q = &res->quote;
	char fm[13];

	if (res->parsed)
		fprintf(out, "quote: v%u, TD %s body, %zu bytes, signed region [0, %zu), "
			"%zu trailing bytes (not signed, ignored)\n", q->header.version,
			q->body.is_1_5 ? "1.5" : "1.0", q->total_len, q->signed_len, q->trailing);
	if (res->have_pck) {
		tdc_hex_encode(res->pck.fmspc, 6, fm);
		fprintf(out, "pck: FMSPC %s, PCESVN %u, %s, serial %s\n", fm, res->pck.pcesvn,
			tdc_sgx_type_name(res->pck.sgx_type), res->pck_serial);
	}
	if (res->parsed) {
		char an[512], xn[512];

		fprintf(out, "td: attributes 0x%016llx (%s)%s, xfam 0x%016llx (%s)\n",
			(unsigned long long)q->body.td_attributes,
			tdx_attributes_str(q->body.td_attributes, an, sizeof(an)),
			res->debug_td ? " DEBUG TD" : "", (unsigned long long)q->body.xfam,
			tdx_xfam_str(q->body.xfam, xn, sizeof(xn)));
	}
	for (size_t i = 0; i < tdc_check_count(&res->checks); i++) {
		const struct tdc_check *c = tdc_check_at(&res->checks, i);

		/* "ok  " for PASS: the quote's text lines predate the shared tags. */
		fprintf(out, "%s %s: %s%s%s%s\n", c->status == TDC_CHECK_PASS ? "ok  " :
			tdc_check_status_tag(c->status), c->name, c->detail,
			c->waived_by[0] ? " (waived by " : "", c->waived_by,
			c->waived_by[0] ? ")" : "");
	}
	if (res->collateral_used) {
		if (!res->crl_checked)
			fprintf(out, "revocation: NOT CHECKED (--no-crl)\n");
		fresh_text(res, out);
		tcb_text(res, out);
	} else {
		fprintf(out, "tcb: not evaluated (no --collateral): signature chain only\n");
	}
	fprintf(out, "result: %s%s\n", tdc_quote_exit_code(res) == 0 ? "PASS" : "FAIL",
		tdc_quote_exit_code(res) == 0 && !res->collateral_used ?
		" (signature chain only: TCB status not evaluated)" : "");
}
