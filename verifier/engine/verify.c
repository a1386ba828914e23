// SPDX-License-Identifier: Apache-2.0
/*
 * The check pipeline: evidence bytes -> named checks + per-bit verdicts.
 *
 * Layers (go-tdx-guest style): lib/ parses (envelope, claims, TDREPORT,
 * quote), quote_verify.c verifies signatures and chains, and this file
 * validates: binding, freshness, TD fields and CPUID against the request,
 * the model and the policy.  Malformed evidence never aborts the pipeline
 * with an error code: it is a failed, named check, so every caller (CLI,
 * service, conformance) reports it the same way.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "engine.h"
#include "model.h"
#include "policy.h"
#include "quote_verify.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"
#include "verify_bits.h"
#include "model_report.h"
#include "verify_rtmr.h"

/*
 * XCR0-managed XFAM bits: the user state components x87..Hi16_ZMM (0-7),
 * PKRU (9), XTILECFG/XTILEDATA (17, 18) and APX (19).  Bit 8 (PT) and
 * 10-16 (PASID, CET, HDC, UINTR, LBR, HWP) are supervisor states, managed
 * through IA32_XSS, never XCR0 (Intel SDM Vol. 1, 13.1 and 13.3).
 */
#define XFAM_XCR0_MASK 0x00000000000e02ffull

/* TDREPORT_STRUCT bytes 495..511: reserved after TEE_TCB_INFO, covered by
 * neither TEE_TCB_INFO_HASH nor the MAC (tdx-abi.md section 5). */
#define TDREPORT_RESERVED_OFF 495
#define TDREPORT_RESERVED_LEN 17

void tdc_check_result_init(struct tdc_check_result *res)
{
	memset(res, 0, sizeof(*res));
}

void tdc_check_result_free(struct tdc_check_result *res)
{
	free(res->regs);
	tdc_check_list_free(&res->checks);
	memset(res, 0, sizeof(*res));
}

/* Record a parser/library failure as a failed check with its detail. */
static int fail_with(struct tdc_check_result *res, const char *name, int code)
{
	return tdc_check_add(&res->checks, name, TDC_CHECK_FAIL, "%s", tdc_errmsg(code));
}

/* Everything pulled out of the evidence on the way. */
struct ev_state {
	struct tdc_envelope env;
	struct tdc_claims claims;
	bool claims_ok;
	bool rtmr3;                     /* claims bound by RTMR3, not REPORTDATA */
	bool want_rd;                   /* reportdata holds an expected value */
	uint8_t reportdata[TDC_REPORTDATA_LEN];
	struct tdx_report report;
	bool have_report;
	struct tdc_quote_result quote;
	bool have_quote;
	bool sim_quote;
	bool quote_unverified;          /* a quote came but could not be appraised */
	/* Attested TD fields: from the quote body if verified, else the TDREPORT. */
	bool have_td;
	uint64_t attributes, xfam;
	const uint8_t *tee_tcb_svn, *mrtd, *mrconfigid, *mrowner, *mrownerconfig;
	const uint8_t *mr_seam, *tee_tcb_svn2;
	const uint8_t (*rtmr)[48];
};

static void ev_state_free(struct ev_state *st)
{
	tdc_envelope_free(&st->env);
	tdc_claims_free(&st->claims);
	tdc_quote_result_free(&st->quote);
}

static int check_structure(const struct tdc_check_config *cfg, const uint8_t *ev, size_t len,
			   struct ev_state *st, struct tdc_check_result *res)
{
	int r;

	if ((r = tdc_envelope_decode(ev, len, &st->env)) != 0) {
		res->malformed = true;
		return fail_with(res, "evidence_format", r);
	}
	if ((r = tdc_claims_decode(st->env.claims.data, st->env.claims.len, &st->claims)) != 0) {
		res->malformed = true;
		return fail_with(res, "claims_format", r);
	}
	st->claims_ok = true;
	res->tee = st->claims.tee;
	res->ncpus = st->claims.ncpus;
	snprintf(res->vm_name, sizeof(res->vm_name), "%s", st->claims.vm_name);
	memcpy(res->nonce, st->claims.nonce, st->claims.nonce_len);
	res->nonce_len = st->claims.nonce_len;
	res->binding = st->claims.binding;
	if (st->claims.binding == TDC_BIND_RTMR3) {
		/* REPORTDATA is the pipeline's: compare it only with what we were told. */
		st->rtmr3 = true;
		if (cfg->expect_report_data) {
			if (cfg->expect_report_data_len > TDC_REPORTDATA_LEN)
				return tdc_err(TDC_ERR_USAGE, "expected REPORTDATA of %zu bytes",
					       cfg->expect_report_data_len);
			memcpy(st->reportdata, cfg->expect_report_data, cfg->expect_report_data_len);
			st->want_rd = true;
		}
	} else if ((r = tdc_reportdata_compute(st->env.claims.data, st->env.claims.len,
					       st->reportdata)) != 0) {
		return r;
	} else {
		st->want_rd = true;
	}
	return tdc_check_add(&res->checks, "evidence_format", TDC_CHECK_PASS,
			     "envelope %zu bytes, claims v%u.%u, %zu CPUs, %zu skipped, CPU set "
			     "from %s, tee %s, binding %s", len, st->claims.version_major,
			     st->claims.version_minor, st->claims.ncpus, st->claims.nskipped,
			     tdc_cpu_set_name(st->claims.cpu_set), tdc_tee_name(st->claims.tee),
			     tdc_binding_name(st->claims.binding));
}

static int check_nonce(const struct tdc_check_config *cfg, const struct tdc_policy *pol,
		       struct ev_state *st, struct tdc_check_result *res)
{
	if (!cfg->nonce && st->rtmr3 && st->want_rd)
		return tdc_check_add(&res->checks, "nonce", TDC_CHECK_INFO,
				     "no expected nonce: freshness comes from the expected REPORTDATA");
	if (!cfg->nonce)
		return tdc_check_unverified(&res->checks, "nonce", "require_nonce",
					    !pol->require_nonce,
					    "no expected nonce given: freshness not proven");
	if (st->claims.nonce_len != cfg->nonce_len ||
	    CRYPTO_memcmp(st->claims.nonce, cfg->nonce, cfg->nonce_len) != 0)
		return tdc_check_add(&res->checks, "nonce", TDC_CHECK_FAIL,
				     "claims carry a different nonce (%zu bytes) than the one issued (%zu bytes): replay or evidence of another session",
				     st->claims.nonce_len, cfg->nonce_len);
	if (cfg->nonce_issued && pol->nonce_max_age &&
	    (uint64_t)(res->at - cfg->nonce_issued) > pol->nonce_max_age)
		return tdc_check_add(&res->checks, "nonce", TDC_CHECK_FAIL,
				     "nonce issued %lld s ago, policy allows %llu s",
				     (long long)(res->at - cfg->nonce_issued),
				     (unsigned long long)pol->nonce_max_age);
	return tdc_check_add(&res->checks, "nonce", TDC_CHECK_PASS, "matches the issued nonce");
}

static int check_binding(const char *name, const uint8_t got[64], const struct ev_state *st,
			 struct tdc_check_result *res)
{
	if (st->rtmr3 && !st->want_rd)
		return tdc_check_add(&res->checks, name, TDC_CHECK_INFO,
				     "binding rtmr3: REPORTDATA belongs to the caller and no expected "
				     "value was given, so it is not checked");
	if (st->rtmr3 && CRYPTO_memcmp(got, st->reportdata, TDC_REPORTDATA_LEN) != 0)
		return tdc_check_add(&res->checks, name, TDC_CHECK_FAIL,
				     "REPORTDATA is not the expected value (binding rtmr3): a report "
				     "made for another request");
	if (st->rtmr3)
		return tdc_check_add(&res->checks, name, TDC_CHECK_PASS,
				     "REPORTDATA is the expected caller value (binding rtmr3)");
	if (CRYPTO_memcmp(got, st->reportdata, TDC_REPORTDATA_LEN) != 0)
		return tdc_check_add(&res->checks, name, TDC_CHECK_FAIL,
				     "REPORTDATA is not SHA-512(\"%s\"||0||claims): the report does not bind these claims",
				     TDC_REPORTDATA_TAG);
	return tdc_check_add(&res->checks, name, TDC_CHECK_PASS,
			     "REPORTDATA = SHA-512(\"%s\"||0||claims)", TDC_REPORTDATA_TAG);
}

static int check_report(const struct tdc_check_config *cfg, struct ev_state *st,
			struct tdc_check_result *res)
{
	uint8_t key[TDC_SIM_HMAC_KEY_LEN];
	int r;

	if (!st->env.tdreport.len)
		return 0;
	if ((r = tdx_report_parse(st->env.tdreport.data, st->env.tdreport.len, &st->report)) != 0)
		return fail_with(res, "tdreport_format", r);
	if ((r = tdx_report_check_hashes(&st->report)) != 0)
		return fail_with(res, "tdreport_hash_links", r);
	/* Nothing binds these bytes: zero is the only value they can carry honestly. */
	for (size_t i = 0; i < TDREPORT_RESERVED_LEN; i++)
		if (st->env.tdreport.data[TDREPORT_RESERVED_OFF + i])
			return tdc_check_add(&res->checks, "tdreport_reserved", TDC_CHECK_FAIL,
					     "TDREPORT byte %zu (reserved, covered by neither hash "
					     "nor MAC) is 0x%02x, not zero: altered evidence",
					     TDREPORT_RESERVED_OFF + i,
					     st->env.tdreport.data[TDREPORT_RESERVED_OFF + i]);
	if ((r = tdc_check_add(&res->checks, "tdreport_hash_links", TDC_CHECK_PASS,
			       "SHA-384 of TEE_TCB_INFO and TDINFO match REPORTMACSTRUCT")) != 0)
		return r;
	st->have_report = true;
	if ((r = check_binding("tdreport_binding", st->report.report_data, st, res)) != 0)
		return r;
	if (st->claims.tee != TDC_TEE_SIM)
		return tdc_check_add(&res->checks, "tdreport_mac", TDC_CHECK_INFO,
				     "the MAC is checkable only on the platform that made it");
	if (cfg->sim_mac_key)
		memcpy(key, cfg->sim_mac_key, sizeof(key));
	else if (!cfg->sim_dir)
		/* As for a real TDREPORT off-platform: the quote authenticates. */
		return tdc_check_add(&res->checks, "tdreport_mac", TDC_CHECK_INFO,
				     "simulated report: no --sim-dir key given, MAC not checked");
	else if ((r = tdc_sim_mac_key_load(cfg->sim_dir, key)) != 0)
		return fail_with(res, "tdreport_mac", r);
	r = tdc_sim_report_verify(st->env.tdreport.data, st->env.tdreport.len, key);
	OPENSSL_cleanse(key, sizeof(key));
	if (r)
		return fail_with(res, "tdreport_mac", r);
	return tdc_check_add(&res->checks, "tdreport_mac", TDC_CHECK_PASS,
			     "HMAC-SHA-256 with the simulator key verifies (SIMULATED)");
}

/* The caller's trust object, or one loaded for this check only (@owned). */
static int get_trust(const struct tdc_check_config *cfg, const struct tdc_policy *pol,
		     const struct tdc_trust **trust, struct tdc_trust **owned)
{
	int r;

	*owned = NULL;
	*trust = cfg->trust;
	if (cfg->trust)
		return 0;
	r = tdc_trust_load(cfg->trust_root ? cfg->trust_root : pol->trust_anchor, owned);
	*trust = *owned;
	return r;
}

/* Fold the quote appraisal's own checks into ours, under "quote." once. */
static int add_quote_checks(const struct tdc_quote_result *q, struct tdc_check_result *res)
{
	return tdc_check_append(&res->checks, &q->checks, "quote.");
}

/* The age of the collateral behind the TCB status, for the verdict and EAR. */
static void copy_freshness(const struct tdc_quote_result *q, struct tdc_check_result *res)
{
	static const char *const names[TDC_PCS__COUNT] = {
		"tcb_info", "qe_identity", "pck_crl", "root_crl",
	};

	res->collateral_used = true;
	snprintf(res->collateral_source, sizeof(res->collateral_source), "%s",
		 q->collateral_source ? q->collateral_source : "directory");
	snprintf(res->collateral_note, sizeof(res->collateral_note), "%s", q->collateral_note);
	res->ncollateral = 0;
	for (int d = 0; d < TDC_PCS__COUNT && res->ncollateral < TDC_CHECK_COLL_DOCS; d++) {
		struct tdc_check_coll_doc *c = &res->collateral[res->ncollateral];

		if (!q->fresh[d].used)
			continue;
		c->document = names[d];
		c->issued = q->fresh[d].issued;
		c->next_update = q->fresh[d].next_update;
		c->fetched_at = q->fresh[d].fetched_at;
		c->from = tdc_coll_from_name(q->fresh[d].from);
		c->eval_number = q->fresh[d].eval_number;
		res->ncollateral++;
	}
}

static int check_quote(const struct tdc_check_config *cfg, const struct tdc_policy *pol,
		       struct ev_state *st, struct tdc_check_result *res)
{
	struct tdc_quote_opts opts = {
		.at = res->at, .collateral = cfg->collateral, .cache = cfg->collateral_cache,
		.source = cfg->collateral_source,
		.allow_debug = true, /* DEBUG is the policy's call, below */
		.accept_tcb = pol->accept_tcb,
		.report_data = st->want_rd ? st->reportdata : NULL,
		.report_data_len = TDC_REPORTDATA_LEN,
	};
	const struct tdc_trust *trust;
	struct tdc_trust *owned;
	bool sim_root;
	int r;

	if (!st->env.quote.len)
		return 0;
	if ((r = get_trust(cfg, pol, &trust, &owned)) != 0) {
		st->quote_unverified = true;
		return fail_with(res, "quote_trust_anchor", r);
	}
	opts.root = trust->root;
	opts.store = trust->store;
	opts.qe_identity = &trust->qe;
	sim_root = trust->simulator;
	r = tdc_quote_appraise(&opts, st->env.quote.data, st->env.quote.len, &st->quote);
	tdc_trust_free(owned);
	/* Any error, even after some checks ran, means the quote was not verified. */
	if (r && (r = fail_with(res, "quote", r)) != 0)
		return r;
	if ((r = add_quote_checks(&st->quote, res)) != 0)
		return r;
	if (!st->quote.parsed)
		return 0;
	if (st->quote.collateral_used)
		copy_freshness(&st->quote, res);
	if (!st->quote.collateral_used)
		tdc_check_unverified(&res->checks, "quote.tcb_status", "require_tcb",
				     !pol->require_tcb,
				     "not evaluated (no Intel collateral given): TCB level, QE "
				     "identity TCB and PCK revocation unchecked; the policy's "
				     "accept_tcb was not applied");
	st->have_quote = true;
	/* Simulated if it says so, or if it chains to the simulator's test root
	 * (a sim-signed quote could carry Intel's QE vendor ID). */
	st->sim_quote = tdc_sim_quote_is_sim(&st->quote.quote) || sim_root;
	res->authenticated = st->quote.all_pass && st->quote.tcb_acceptable;
	res->have_quote = true;
	res->tcb_evaluated = st->quote.collateral_used && st->quote.tcb_matched;
	res->tcb_status = st->quote.tcb_status;
	if (st->quote.quote.trailing)
		tdc_check_add(&res->checks, "quote_trailing", TDC_CHECK_INFO,
			      "%zu bytes after the signature data, not covered by any signature",
			      st->quote.quote.trailing);
	return 0;
}

/* Which attested TD fields count: the verified quote's, else the TDREPORT's. */
static int pick_td_fields(struct ev_state *st, struct tdc_check_result *res)
{
	if (st->have_quote) {
		const struct tdx_td_body *b = &st->quote.quote.body;

		if (st->have_report &&
		    (b->td_attributes != st->report.td.attributes || b->xfam != st->report.td.xfam ||
		     memcmp(b->mr_td, st->report.td.mr_td, 48)))
			tdc_check_add(&res->checks, "report_quote_consistent", TDC_CHECK_FAIL,
				      "quote body and TDREPORT describe different TDs");
		st->attributes = b->td_attributes;
		st->xfam = b->xfam;
		st->tee_tcb_svn = b->tee_tcb_svn;
		st->mr_seam = b->mr_seam;
		st->tee_tcb_svn2 = b->body_type == 3 ? b->tee_tcb_svn2 : NULL;
		st->mrtd = b->mr_td;
		st->mrconfigid = b->mr_config_id;
		st->mrowner = b->mr_owner;
		st->mrownerconfig = b->mr_owner_config;
		st->rtmr = (const uint8_t (*)[48])b->rtmr;
	} else if (st->have_report) {
		st->attributes = st->report.td.attributes;
		st->xfam = st->report.td.xfam;
		st->tee_tcb_svn = st->report.tcb.tee_tcb_svn;
		st->mr_seam = st->report.tcb.mr_seam;
		st->tee_tcb_svn2 = st->report.tcb.tee_tcb_svn2;
		st->mrtd = st->report.td.mr_td;
		st->mrconfigid = st->report.td.mr_config_id;
		st->mrowner = st->report.td.mr_owner;
		st->mrownerconfig = st->report.td.mr_owner_config;
		st->rtmr = (const uint8_t (*)[48])st->report.td.rtmr;
	} else if (st->quote_unverified) {
		return tdc_check_add(&res->checks, "hardware_report", TDC_CHECK_FAIL,
				     "the quote could not be appraised (see quote_trust_anchor) and "
				     "there is no TDREPORT: the claims are not bound to a TEE");
	} else {
		return tdc_check_add(&res->checks, "hardware_report", TDC_CHECK_FAIL,
				     "evidence carries neither a TDREPORT nor a quote: the claims are not bound to a TEE");
	}
	st->have_td = true;
	res->have_report = true;
	res->attributes = st->attributes;
	res->xfam = st->xfam;
	return 0;
}

static int check_policy_text(struct tdc_check_result *res, const char *name, int code,
			     struct tdc_buf *why, const char *ok)
{
	if (code == 0)
		return tdc_check_add(&res->checks, name, TDC_CHECK_PASS, "%s", ok);
	if (code != TDC_ERR_POLICY)
		return fail_with(res, name, code);
	/* One line per violated rule: keep them all, joined. */
	for (size_t i = 0; i < why->len; i++)
		if (why->data[i] == '\n')
			why->data[i] = (i + 1 == why->len) ? '\0' : ';';
	return tdc_check_add(&res->checks, name, TDC_CHECK_FAIL, "%s", tdc_buf_cstr(why));
}

static int check_td_policy(const struct tdc_policy *pol, struct ev_state *st,
			   struct tdc_check_result *res)
{
	struct tdc_buf why;
	int r, code;
	bool sim = st->claims.tee == TDC_TEE_SIM || st->sim_quote;

	tdc_buf_init(&why);
	if (st->claims.tee != TDC_TEE_SIM && st->sim_quote)
		tdc_check_add(&res->checks, "tee_label", TDC_CHECK_FAIL,
			      "claims say tee \"%s\" but the quote comes from the simulator",
			      tdc_tee_name(st->claims.tee));
	if (sim)
		res->tee = TDC_TEE_SIM;
	code = tdc_policy_check_evidence(pol, sim, st->have_quote, &why);
	if ((r = check_policy_text(res, "evidence_kind", code, &why,
				   st->have_quote ? "quote-authenticated evidence" :
				   "TDREPORT accepted by policy (not authenticated off-platform)")) != 0)
		goto out;
	if (!st->have_td)
		goto out;
	tdc_buf_reset(&why);
	code = tdc_policy_check_td(pol, st->attributes, st->xfam, st->tee_tcb_svn, st->mrtd,
				   st->rtmr, st->mrconfigid, &why);
	r = check_policy_text(res, "td_policy", code, &why,
			      "ATTRIBUTES, XFAM, TEE_TCB_SVN and measurements accepted");
out:
	tdc_buf_free(&why);
	return r;
}

/* A registry entry may pin MRCONFIGID: the host-set value that names this TD. */
static int check_mrconfigid(const struct tdc_check_config *cfg, const struct ev_state *st,
			    struct tdc_check_result *res)
{
	if (!cfg->expect_mrconfigid || !st->have_td)
		return 0;
	if (CRYPTO_memcmp(st->mrconfigid, cfg->expect_mrconfigid, TDX_SHA384_LEN) != 0)
		return tdc_check_add(&res->checks, "mrconfigid", TDC_CHECK_FAIL,
				     "attested MRCONFIGID differs from the expected one: evidence of another TD");
	return tdc_check_add(&res->checks, "mrconfigid", TDC_CHECK_PASS, "attested MRCONFIGID as expected");
}

/*
 * The host-set measurements of a tdx-init-vm request (kvm_tdx_init_vm's
 * mrconfigid, mrowner, mrownerconfig) against the attested TD.
 */
static int check_td_params_mr(const struct tdc_requested *req, const struct ev_state *st,
			      struct tdc_check_result *res)
{
	const struct {
		bool has;
		const uint8_t *want, *got;
		const char *name;
	} mr[] = {
		{ req->has_mrconfigid, req->mrconfigid, st->mrconfigid, "MRCONFIGID" },
		{ req->has_mrowner, req->mrowner, st->mrowner, "MROWNER" },
		{ req->has_mrownerconfig, req->mrownerconfig, st->mrownerconfig, "MROWNERCONFIG" },
	};
	char names[64] = "";
	int n = 0;

	for (size_t i = 0; i < sizeof(mr) / sizeof(mr[0]); i++) {
		if (!mr[i].has)
			continue;
		if (CRYPTO_memcmp(mr[i].want, mr[i].got, TDX_SHA384_LEN) != 0)
			return tdc_check_add(&res->checks, "td_params_mr", TDC_CHECK_FAIL,
					     "attested %s differs from the requested one: "
					     "evidence of another TD", mr[i].name);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 n++ ? ", " : "", mr[i].name);
	}
	if (!n)
		return 0;
	return tdc_check_add(&res->checks, "td_params_mr", TDC_CHECK_PASS,
			     "attested %s as requested", names);
}

/*
 * The registry entry reached by name must be the VM the bound claims name:
 * a failed check here, so the document, the frame and the log agree.
 */
static int check_vm_name(const struct tdc_check_config *cfg, const struct ev_state *st,
			 struct tdc_check_result *res)
{
	const char *got = st->claims.vm_name;

	if (!cfg->expect_vm_name || (!got[0] && cfg->vm_name_optional))
		return 0;
	if (strcmp(got, cfg->expect_vm_name))
		return tdc_check_add(&res->checks, "vm_name", TDC_CHECK_FAIL,
				     "claims name VM '%s', registry entry is '%s'", got,
				     cfg->expect_vm_name);
	return tdc_check_add(&res->checks, "vm_name", TDC_CHECK_PASS,
			     "claims name VM '%s', the registry entry", got);
}

/* The host's TD_PARAMS, if it told us, must be the TD that reported. */
static int check_td_params(const struct tdc_requested *req, const struct ev_state *st,
			   struct tdc_check_result *res)
{
	int r;

	if (!st->have_td)
		return 0;
	if ((r = check_td_params_mr(req, st, res)) != 0 || !req->has_td_params)
		return r;
	if (req->attributes != st->attributes || req->xfam != st->xfam)
		return tdc_check_add(&res->checks, "td_params", TDC_CHECK_FAIL,
				     "requested ATTRIBUTES 0x%llx XFAM 0x%llx, attested ATTRIBUTES 0x%llx XFAM 0x%llx",
				     (unsigned long long)req->attributes, (unsigned long long)req->xfam,
				     (unsigned long long)st->attributes, (unsigned long long)st->xfam);
	return tdc_check_add(&res->checks, "td_params", TDC_CHECK_PASS,
			     "attested ATTRIBUTES and XFAM are the requested ones");
}

/*
 * The architectural rules for a value XSETBV accepts (Intel SDM Vol. 1,
 * 13.3 "Enabling the XSAVE feature set"; XSETBV #GP conditions): anything
 * else cannot be what a CPU runs with, so claims carrying it are forged.
 */
static const struct xcr0_rule {
	uint64_t if_any, need_all;   /* a value with any of @if_any (0: every value) needs
				      * all of @need_all (0: may not have @if_any at all) */
	const char *why;
} xcr0_rules[] = {
	{ 0, 1ull << 0, "bit 0 (x87) is always 1" },
	{ 1ull << 2, 1ull << 1, "AVX (bit 2) needs SSE (bit 1)" },
	{ 0xe0ull, 0xe0ull, "opmask, ZMM_Hi256 and Hi16_ZMM (bits 5-7) are set together" },
	{ 0xe0ull, 1ull << 2, "AVX-512 state (bits 5-7) needs AVX (bit 2)" },
	{ 0x18ull, 0x18ull, "BNDREGS and BNDCSR (bits 3-4) are set together" },
	{ 0x60000ull, 0x60000ull, "XTILECFG and XTILEDATA (bits 17-18) are set together" },
	{ ~XFAM_XCR0_MASK, 0, "only user state components (bits 0-7, 9, 17-19) exist in XCR0" },
};

/* NULL if @x is a value XSETBV accepts, else the rule it breaks. */
static const char *xcr0_invalid(uint64_t x)
{
	for (size_t i = 0; i < sizeof(xcr0_rules) / sizeof(xcr0_rules[0]); i++) {
		const struct xcr0_rule *r = &xcr0_rules[i];

		bool applies = !r->if_any || (x & r->if_any);

		if (applies && (r->need_all ? (x & r->need_all) != r->need_all : r->if_any != 0))
			return r->why;
	}
	return NULL;
}

static int check_xcr0_valid(const struct ev_state *st, struct tdc_check_result *res)
{
	const char *why;

	if (st->claims.has_xcr0 && (why = xcr0_invalid(st->claims.xcr0)))
		return tdc_check_add(&res->checks, "xcr0_valid", TDC_CHECK_FAIL,
				     "claimed XCR0 0x%llx is architecturally invalid: %s",
				     (unsigned long long)st->claims.xcr0, why);
	for (size_t i = 0; i < st->claims.ncpus; i++) {
		const struct tdc_cpu_claim *c = &st->claims.cpus[i];

		if (c->has_xcr0 && (why = xcr0_invalid(c->xcr0)))
			return tdc_check_add(&res->checks, "xcr0_valid", TDC_CHECK_FAIL,
					     "CPU %u XCR0 0x%llx is architecturally invalid: %s",
					     c->cpu, (unsigned long long)c->xcr0, why);
	}
	return 0;
}

/* XCR0 is what the guest kernel enabled: it can never exceed the TD's XFAM. */
static int check_xcr0(const struct ev_state *st, struct tdc_check_result *res)
{
	uint64_t allowed = st->xfam & XFAM_XCR0_MASK;
	int r;

	if ((r = check_xcr0_valid(st, res)) != 0)
		return r;
	if (!st->have_td)
		return 0;
	if (st->claims.has_xcr0 && (st->claims.xcr0 & ~allowed))
		return tdc_check_add(&res->checks, "xcr0_within_xfam", TDC_CHECK_FAIL,
				     "claimed XCR0 0x%llx enables components outside attested XFAM 0x%llx",
				     (unsigned long long)st->claims.xcr0, (unsigned long long)st->xfam);
	for (size_t i = 0; i < st->claims.ncpus; i++) {
		const struct tdc_cpu_claim *c = &st->claims.cpus[i];

		if (c->has_xcr0 && (c->xcr0 & ~allowed))
			return tdc_check_add(&res->checks, "xcr0_within_xfam", TDC_CHECK_FAIL,
					     "CPU %u XCR0 0x%llx exceeds attested XFAM 0x%llx", c->cpu,
					     (unsigned long long)c->xcr0, (unsigned long long)st->xfam);
	}
	if (!st->claims.has_xcr0)
		return tdc_check_add(&res->checks, "xcr0_within_xfam", TDC_CHECK_INFO,
				     "no XCR0 claimed (OSXSAVE off): nothing to compare");
	return tdc_check_add(&res->checks, "xcr0_within_xfam", TDC_CHECK_PASS,
			     "XCR0 0x%llx within XFAM 0x%llx", (unsigned long long)st->claims.xcr0,
			     (unsigned long long)st->xfam);
}

/* ---- the vCPU set ---------------------------------------------------- */

/* Decoded claims list CPUs and skipped CPUs in ascending order (the
 * encoding is canonical), so both are searched by bisection. */
static const struct tdc_skipped_cpu *find_skipped(const struct tdc_claims *c, uint32_t cpu)
{
	size_t lo = 0, hi = c->nskipped;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->skipped[mid].cpu == cpu)
			return &c->skipped[mid];
		if (c->skipped[mid].cpu < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool cpu_probed(const struct tdc_claims *c, uint32_t cpu)
{
	size_t lo = 0, hi = c->ncpus;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->cpus[mid].cpu == cpu)
			return true;
		if (c->cpus[mid].cpu < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Every vCPU must be probed and judged: a CPU the agent skipped, a CPU of
 * the request missing from the claims, or claims without any CPU would
 * otherwise pass on the strength of the CPUs that were shown.  Requests
 * that list vCPUs (cpuid-r, a QMP capture) number them 0..n-1 in order; a
 * request of one table is the template for every vCPU (a TD may have more),
 * one of several tables lists the TD's vCPUs (no more may be probed).
 */
static int check_vcpu_set(const struct tdc_requested *req, const struct tdc_claims *c,
			  struct tdc_check_result *res)
{
	const struct tdc_skipped_cpu *s;

	if (!c->ncpus)
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_FAIL,
				     "the claims carry no probed vCPU%s: nothing was judged",
				     req->ncpus ? " (the request has vCPUs)" : "");
	if (c->cpu_set == TDC_CPUSET_AFFINITY)
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_FAIL,
				     "the agent could not learn the TD's CPU set (cpu_set \"affinity\": "
				     "no sysfs, /proc/cpuinfo or sysconf count), so a vCPU outside its "
				     "affinity mask would be missing unseen");
	for (size_t i = 0; i < req->ncpus; i++) {
		uint32_t cpu = (uint32_t)i;

		if (cpu_probed(c, cpu))
			continue;
		if ((s = find_skipped(c, cpu)))
			return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_FAIL,
					     "requested vCPU %u was not probed (skipped: %s)",
					     cpu, s->reason);
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_FAIL,
				     "requested vCPU %u is missing from the claims (%zu of %zu "
				     "requested vCPUs probed)", cpu, c->ncpus, req->ncpus);
	}
	if (c->nskipped)
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_FAIL,
				     "vCPU %u of the TD was not probed (skipped: %s)",
				     c->skipped[0].cpu, c->skipped[0].reason);
	if (req->ncpus > 1 && c->ncpus > req->ncpus)
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_FAIL,
				     "vCPU %u was probed but the request has %zu vCPU%s",
				     c->cpus[c->ncpus - 1].cpu, req->ncpus,
				     req->ncpus == 1 ? "" : "s");
	if (req->ncpus > 1)
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_PASS,
				     "the %zu requested vCPUs were all probed", req->ncpus);
	if (req->ncpus)
		return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_PASS,
				     "vCPU 0 and %zu more probed, none skipped (the request's one "
				     "table is the template for every vCPU)", c->ncpus - 1);
	return tdc_check_add(&res->checks, "vcpu_set", TDC_CHECK_PASS,
			     "%zu vCPU%s probed, none skipped (the request does not list vCPUs)",
			     c->ncpus, c->ncpus == 1 ? "" : "s");
}

/* ---- CPUID ----------------------------------------------------------- */

static void policy_marks(const struct tdc_policy *pol, struct tdc_check_result *res)
{
	for (size_t i = 0; i < res->nregs; i++) {
		struct tdc_reg_result *rr = &res->regs[i];

		for (unsigned v = 0; v < TDC_V__COUNT; v++)
			if (rr->verdict[v] && tdc_policy_verdict_fails(pol, v, rr->leaf))
				rr->policy_fail |= rr->verdict[v];
	}
}

static bool same_reg(const struct tdc_reg_result *rr, uint32_t leaf, uint32_t subleaf,
		     unsigned reg)
{
	return rr->leaf == leaf && rr->reg == reg && (rr->subleaf == subleaf || !rr->indexed);
}

/*
 * One policy bit against every vCPU's view: the common table's register
 * (cpu -1) and the registers where a vCPU differs from it.  Marks the
 * failing bits; returns how many views fail.
 */
static size_t policy_bit_fails(const struct tdc_policy_bit *b, bool want,
			       struct tdc_check_result *res, bool *seen_common)
{
	size_t bad = 0;

	*seen_common = false;
	for (size_t i = 0; i < res->nregs; i++) {
		struct tdc_reg_result *rr = &res->regs[i];
		bool seen = rr->seen >> b->bit & 1;

		if (!same_reg(rr, b->leaf, b->subleaf, b->reg))
			continue;
		if (rr->cpu < 0)
			*seen_common = true;
		if (seen != want) {
			rr->policy_fail |= 1u << b->bit;
			bad++;
		}
	}
	/* A leaf nobody reported reads as zeros. */
	return bad + (!*seen_common && want);
}

/* Required bits must be 1 and forbidden bits 0 in what every vCPU sees. */
static int check_bit_lists(const struct tdc_policy *pol, struct tdc_check_result *res)
{
	const struct tdc_policy_bit *bits;
	char name[TDC_BITNAME_MAX];
	size_t n, bad = 0, total = 0;
	bool common;

	for (int list = 0; list < 2; list++) {
		bits = list ? tdc_policy_forbidden(pol, &n) : tdc_policy_required(pol, &n);
		total += n;
		for (size_t i = 0; i < n; i++) {
			size_t views = policy_bit_fails(&bits[i], list == 0, res, &common);

			if (!views)
				continue;
			tdc_format_bit(name, sizeof(name), bits[i].leaf, bits[i].subleaf,
				       tdc_leaf_is_indexed(bits[i].leaf), bits[i].reg, bits[i].bit);
			tdc_check_add(&res->checks, list ? "forbidden_bit" : "required_bit", TDC_CHECK_FAIL,
				      "%s is %s in %zu vCPU view%s (policy %s it)", name,
				      list ? "1" : "0", views, views == 1 ? "" : "s",
				      list ? "forbids" : "requires");
			bad++;
		}
	}
	if (!bad && total)
		return tdc_check_add(&res->checks, "policy_bits", TDC_CHECK_PASS,
				     "required and forbidden bits as the policy demands on every vCPU");
	return 0;
}

/* What CPU @i of the claims sees at (leaf, subleaf): its delta, else the common table. */
static const struct tdc_cpuid_entry *cpu_leaf(const struct tdc_claims *c, size_t i,
					      uint32_t leaf, uint32_t subleaf)
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(&c->cpus[i].delta, leaf, subleaf);

	if (e)
		return e->flags & TDC_CPUID_F_ABSENT ? NULL : e;
	return tdc_cpuid_table_find(&c->common, leaf, subleaf);
}

struct apic_id {
	uint32_t id, cpu;
	bool x2;
};

/*
 * A CPU's APIC ID: the 32-bit x2APIC ID from leaf 1FH or 0BH (EDX, Intel
 * SDM Vol. 2A, CPUID), else the 8-bit initial APIC ID of leaf 1 EBX[31:24],
 * which repeats past 256 CPUs.
 */
static uint32_t cpu_apic_id(const struct tdc_claims *c, size_t i, bool *x2)
{
	static const uint32_t topo[] = { 0x1f, 0xb };
	const struct tdc_cpuid_entry *e;

	for (size_t k = 0; k < sizeof(topo) / sizeof(topo[0]); k++)
		if ((e = cpu_leaf(c, i, topo[k], 0)) && e->regs[TDC_EBX] & 0xffff) {
			*x2 = true; /* EBX[15:0] = 0: the leaf is not implemented */
			return e->regs[TDC_EDX];
		}
	*x2 = false;
	e = cpu_leaf(c, i, 1, 0);
	return e ? e->regs[TDC_EBX] >> 24 : 0;
}

static int cmp_apic_id(const void *a, const void *b)
{
	const struct apic_id *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

/* Dynamic fields still obey rules: OSXSAVE mirrors XCR0, APIC IDs are unique. */
static int check_dynamic_rules(const struct tdc_claims *c, struct tdc_check_result *res)
{
	const struct tdc_cpuid_entry *l1 = tdc_cpuid_table_find(&c->common, 1, 0);
	struct apic_id *ids = NULL;
	int r = 0;

	if (l1 && ((l1->regs[TDC_ECX] >> 27) & 1) != c->has_xcr0)
		return tdc_check_add(&res->checks, "osxsave_xcr0", TDC_CHECK_FAIL,
				     "CPUID.01H:ECX.osxsave is %u but XCR0 was %s",
				     (l1->regs[TDC_ECX] >> 27) & 1, c->has_xcr0 ? "read" : "not read");
	for (size_t i = 0; l1 && i < c->ncpus; i++) {
		const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(&c->cpus[i].delta, 1, 0);
		uint32_t ecx = e && !(e->flags & TDC_CPUID_F_ABSENT) ? e->regs[TDC_ECX] :
			       l1->regs[TDC_ECX];
		/* The agent reads XCR0 on every CPU whose OSXSAVE is set. */
		bool has = c->cpus[i].has_xcr0 || (i == 0 && c->has_xcr0);

		if (((ecx >> 27) & 1) != has)
			return tdc_check_add(&res->checks, "osxsave_xcr0", TDC_CHECK_FAIL,
					     "CPU %u: CPUID.01H:ECX.osxsave is %u but XCR0 was %s",
					     c->cpus[i].cpu, (ecx >> 27) & 1, has ? "read" : "not read");
	}
	if (!l1 || c->ncpus < 2)
		return 0;
	if (!(ids = calloc(c->ncpus, sizeof(*ids))))
		return tdc_err(TDC_ERR_ALLOC, "APIC ID list");
	for (size_t i = 0; i < c->ncpus; i++) {
		ids[i].id = cpu_apic_id(c, i, &ids[i].x2);
		ids[i].cpu = c->cpus[i].cpu;
	}
	qsort(ids, c->ncpus, sizeof(*ids), cmp_apic_id);
	for (size_t i = 1; i < c->ncpus; i++)
		if (ids[i].id == ids[i - 1].id) {
			r = tdc_check_add(&res->checks, "apic_ids_unique", TDC_CHECK_FAIL,
					  "CPUs %u and %u have the same %s %u", ids[i - 1].cpu,
					  ids[i].cpu, ids[i].x2 ? "x2APIC ID" : "initial APIC ID",
					  ids[i].id);
			goto out;
		}
	r = tdc_check_add(&res->checks, "apic_ids_unique", TDC_CHECK_PASS,
			  "%zu vCPUs, distinct APIC IDs", c->ncpus);
out:
	free(ids);
	return r;
}

static void predict_in_init(const struct tdc_check_config *cfg, struct tdc_predict_in *in,
			    bool have_td, uint64_t attrs, uint64_t xfam)
{
	const struct tdc_requested *req = cfg->requested;

	memset(in, 0, sizeof(*in));
	in->platform = cfg->platform;
	in->requested = &req->table;
	in->requested_known = &req->known;
	in->strict_config = !strcmp(req->format, "tdx-init-vm");
	in->requested_partial = req->partial;
	/* Attested values win: the host's claim about TD_PARAMS is checked, not trusted. */
	in->xfam = have_td ? xfam : req->xfam;
	in->attributes = have_td ? attrs : req->attributes;
	in->has_tsc_khz = req->has_tsc_khz;
	in->tsc_khz = req->tsc_khz;
	/* A TD's request went through (upstream) KVM: its own rules come first. */
	in->kvm_layer = tdc_model_kind(cfg->model) == TDC_MODEL_TDX;
}

struct memo_entry {
	const struct tdc_model *model;
	const struct tdc_requested *req;
	const struct tdc_cpuid_table *platform;
	struct tdc_predict_in in;     /* the scalar inputs (pointers compared above) */
	int result;                   /* tdc_model_predict's return (TDC_ERR_MODEL kept) */
	char detail[TDC_CHECK_DETAIL_MAX];
	struct tdc_prediction pred;
};

struct tdc_predict_memo {
	pthread_mutex_t lock;
	struct memo_entry e[TDC_PREDICT_MEMO_MAX];
	size_t n;
};

int tdc_predict_memo_new(struct tdc_predict_memo **out)
{
	struct tdc_predict_memo *m = calloc(1, sizeof(*m));

	if (!m)
		return tdc_err(TDC_ERR_ALLOC, "prediction memo");
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void tdc_predict_memo_free(struct tdc_predict_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		tdc_prediction_free(&m->e[i].pred);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool same_inputs(const struct memo_entry *e, const struct tdc_check_config *cfg,
			const struct tdc_predict_in *in)
{
	return e->model == cfg->model && e->req == cfg->requested && e->platform == in->platform &&
	       e->in.requested_partial == in->requested_partial &&
	       e->in.xfam == in->xfam && e->in.attributes == in->attributes &&
	       e->in.vcpu == in->vcpu && e->in.has_tsc_khz == in->has_tsc_khz &&
	       e->in.tsc_khz == in->tsc_khz && e->in.strict_config == in->strict_config &&
	       e->in.td_ctls == in->td_ctls && e->in.td_ctls_known == in->td_ctls_known &&
	       e->in.kvm_layer == in->kvm_layer && e->in.has_config_flags == in->has_config_flags &&
	       e->in.config_flags == in->config_flags;
}

/*
 * The model's prediction for these inputs: from the memo, or computed (and
 * remembered if there is room).  *pred points into the memo or at @local.
 */
static int predict(const struct tdc_check_config *cfg, const struct tdc_predict_in *in,
		   struct tdc_prediction *local, const struct tdc_prediction **pred,
		   struct tdc_check_result *res)
{
	struct tdc_predict_memo *m = cfg->predict_memo;
	struct memo_entry *e = NULL;
	int r;

	if (m) {
		pthread_mutex_lock(&m->lock);
		for (size_t i = 0; i < m->n && !e; i++)
			e = same_inputs(&m->e[i], cfg, in) ? &m->e[i] : NULL;
		pthread_mutex_unlock(&m->lock);
	}
	if (!e) {
		tdc_prediction_init(local);
		r = tdc_model_predict(cfg->model, in, local);
		if (r && r != TDC_ERR_MODEL)
			return r;
		*pred = local;
		if (r == TDC_ERR_MODEL)
			tdc_check_add(&res->checks, "model_accepts_config", TDC_CHECK_FAIL, "%s", tdc_errdetail());
		if (m) {
			bool known = false;

			pthread_mutex_lock(&m->lock);
			/* Another thread may have remembered the same inputs meanwhile:
			 * then keep this copy private (the caller frees it). */
			for (size_t i = 0; i < m->n && !known; i++)
				known = same_inputs(&m->e[i], cfg, in);
			if (!known && m->n < TDC_PREDICT_MEMO_MAX) {
				e = &m->e[m->n++];
				*e = (struct memo_entry){ .model = cfg->model, .req = cfg->requested,
							  .platform = in->platform, .in = *in,
							  .result = r, .pred = *local };
				snprintf(e->detail, sizeof(e->detail), "%s", r ? tdc_errdetail() : "");
				tdc_prediction_init(local); /* ownership moved to the memo */
				*pred = &e->pred;
			}
			pthread_mutex_unlock(&m->lock);
		}
		return 0;
	}
	/* The module's refusal is part of the remembered answer. */
	if (e->result == TDC_ERR_MODEL)
		tdc_check_add(&res->checks, "model_accepts_config", TDC_CHECK_FAIL, "%s", e->detail);
	*pred = &e->pred;
	return 0;
}

static int run_cpuid_engine(const struct tdc_check_config *cfg, const struct tdc_predict_in *in,
			    const struct tdc_cpuid_table *common,
			    const struct tdc_cpuid_table *deltas, const uint32_t *cpus, size_t n,
			    struct tdc_check_result *res)
{
	const struct tdc_prediction *pred;
	struct tdc_prediction local;
	int r;

	tdc_prediction_init(&local);
	if ((r = predict(cfg, in, &local, &pred, res)) != 0 ||
	    (r = tdc_engine_model_report(in, pred, res)) != 0)
		goto out;
	if ((r = tdc_engine_table(cfg->requested, pred, common, res)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = tdc_engine_cpu_delta(pred, cfg->requested, common, &deltas[i], cpus[i],
					      res)) != 0)
			goto out;
	tdc_engine_count(res);
out:
	tdc_prediction_free(&local);
	return r;
}

static int load_policy(const struct tdc_check_config *cfg, struct tdc_policy **owned,
		       const struct tdc_policy **pol)
{
	int r;

	*owned = NULL;
	if (cfg->policy) {
		*pol = cfg->policy;
		return 0;
	}
	if ((r = tdc_policy_default(owned)) != 0)
		return r;
	*pol = *owned;
	return 0;
}

static void finish(const struct tdc_policy *pol, struct tdc_check_result *res)
{
	size_t fails = 0;

	policy_marks(pol, res);
	for (size_t i = 0; i < res->nregs; i++)
		if (res->regs[i].policy_fail)
			fails += tdc_popcount32(res->regs[i].policy_fail);
	fails += tdc_check_failures(&res->checks);
	res->policy_failures = fails;
	res->passed = fails == 0;
	snprintf(res->policy_name, sizeof(res->policy_name), "%s", pol->name);
}

static int check_cpuid_from_claims(const struct tdc_check_config *cfg, struct ev_state *st,
				   struct tdc_check_result *res)
{
	struct tdc_predict_in in;
	struct tdc_cpuid_table *deltas = NULL;
	uint32_t *cpus = NULL;
	size_t n = st->claims.ncpus;
	int r = 0;

	/*
	 * Every CPU's delta against the common table, the first CPU's too: the
	 * agent leaves it empty, but the format allows one, and whatever a CPU
	 * saw must be judged.
	 */
	if (n && (!(deltas = calloc(n, sizeof(*deltas))) || !(cpus = calloc(n, sizeof(*cpus))))) {
		r = tdc_err(TDC_ERR_ALLOC, "CPU list");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		deltas[i] = st->claims.cpus[i].delta;
		cpus[i] = st->claims.cpus[i].cpu;
	}
	predict_in_init(cfg, &in, st->have_td, st->attributes, st->xfam);
	if (st->claims.td_controls.present) {
		in.td_ctls = st->claims.td_controls.value;
		in.td_ctls_known = st->claims.td_controls.known;
	}
	r = run_cpuid_engine(cfg, &in, &st->claims.common, deltas, cpus, n, res);
	if (!r)
		r = check_dynamic_rules(&st->claims, res);
out:
	free(deltas);
	free(cpus);
	return r;
}

static void evidence_digest(const uint8_t *ev, size_t len, struct tdc_check_result *res)
{
	unsigned int n = 0;

	EVP_Digest(ev, len, res->evidence_sha256, &n, EVP_sha256(), NULL);
}

int tdc_check_evidence(const struct tdc_check_config *cfg_in, const uint8_t *ev, size_t len,
		       struct tdc_check_result *res)
{
	struct tdc_check_config cfgv = *cfg_in; /* .model may be chosen from the evidence */
	const struct tdc_check_config *cfg = &cfgv;
	struct tdc_policy *owned_pol;
	const struct tdc_policy *pol;
	struct ev_state st;
	int r;

	if (!cfg->requested || (!cfg->model && !cfg->models))
		return tdc_err(TDC_ERR_USAGE, "check needs a requested configuration and a model");
	memset(&st, 0, sizeof(st));
	tdc_envelope_init(&st.env);
	tdc_claims_init(&st.claims);
	res->at = cfg->at ? cfg->at : time(NULL);
	tdc_engine_model_named(cfg->model, cfg->model_why, res);
	if ((r = load_policy(cfg, &owned_pol, &pol)) != 0)
		goto out;
	evidence_digest(ev, len, res);
	if (len > TDC_EVIDENCE_MAX) {
		res->malformed = true;
		r = tdc_check_add(&res->checks, "evidence_format", TDC_CHECK_FAIL,
				  "evidence is %zu bytes, the limit is %u", len, TDC_EVIDENCE_MAX);
		goto done;
	}
	res->identity_pinned = cfg->expect_mrconfigid || pol->mrtd.n || pol->mrconfigid.n;
	if ((r = check_structure(cfg, ev, len, &st, res)) != 0 || !st.claims_ok)
		goto done;
	if ((r = check_vm_name(cfg, &st, res)) != 0 ||
	    (r = check_nonce(cfg, pol, &st, res)) != 0 ||
	    (r = check_report(cfg, &st, res)) != 0 ||
	    (r = check_quote(cfg, pol, &st, res)) != 0 ||
	    (r = pick_td_fields(&st, res)) != 0 ||
	    (r = tdc_engine_rtmr3(&st.env, st.rtmr3, st.have_td ? st.rtmr : NULL, res)) != 0 ||
	    (r = tdc_engine_model_choose(&cfgv.model, cfg->models, st.have_td ? st.mr_seam : NULL,
					 st.have_td ? st.tee_tcb_svn : NULL,
					 st.have_td ? st.tee_tcb_svn2 : NULL, res)) != 0 ||
	    (r = check_td_policy(pol, &st, res)) != 0 ||
	    (r = check_td_params(cfg->requested, &st, res)) != 0 ||
	    (r = check_mrconfigid(cfg, &st, res)) != 0 ||
	    (r = check_xcr0(&st, res)) != 0 ||
	    (r = check_vcpu_set(cfg->requested, &st.claims, res)) != 0 ||
	    (r = check_cpuid_from_claims(cfg, &st, res)) != 0 ||
	    (r = check_bit_lists(pol, res)) != 0)
		goto out;
done:
	finish(pol, res);
out:
	ev_state_free(&st);
	tdc_policy_free(owned_pol);
	return r;
}

/* Split per-vCPU tables into the first one + deltas, as the agent's claims do. */
static int split_tables(const struct tdc_cpuid_table *tables, size_t n,
			struct tdc_cpuid_table *deltas)
{
	int r;

	for (size_t i = 1; i < n; i++) {
		tdc_cpuid_table_init(&deltas[i - 1]);
		for (size_t j = 0; j < tables[i].n; j++) {
			const struct tdc_cpuid_entry *e = &tables[i].e[j];
			const struct tdc_cpuid_entry *c =
				tdc_cpuid_table_find(&tables[0], e->leaf, e->subleaf);

			if (c && !memcmp(c->regs, e->regs, sizeof(e->regs)))
				continue;
			if ((r = tdc_cpuid_table_set(&deltas[i - 1], e)) != 0)
				return r;
		}
		for (size_t j = 0; j < tables[0].n; j++) {
			struct tdc_cpuid_entry gone = tables[0].e[j];

			if (tdc_cpuid_table_find(&tables[i], gone.leaf, gone.subleaf))
				continue;
			gone.flags |= TDC_CPUID_F_ABSENT;
			if ((r = tdc_cpuid_table_set(&deltas[i - 1], &gone)) != 0)
				return r;
		}
	}
	return 0;
}

int tdc_check_tables(const struct tdc_check_config *cfg,
		     const struct tdc_cpuid_table *tables, const uint32_t *cpus,
		     size_t n, struct tdc_check_result *res)
{
	struct tdc_policy *owned_pol = NULL;
	const struct tdc_policy *pol;
	struct tdc_cpuid_table *deltas = NULL;
	struct tdc_predict_in in;
	int r;

	if (!cfg->requested || !cfg->model || !n)
		return tdc_err(TDC_ERR_USAGE, "check needs a request, a model and at least one vCPU");
	res->at = cfg->at ? cfg->at : time(NULL);
	res->ncpus = n;
	tdc_engine_model_named(cfg->model, cfg->model_why, res);
	if ((r = load_policy(cfg, &owned_pol, &pol)) != 0)
		return r;
	if (n > 1 && !(deltas = calloc(n - 1, sizeof(*deltas)))) {
		r = tdc_err(TDC_ERR_ALLOC, "vCPU deltas");
		goto out;
	}
	if ((r = split_tables(tables, n, deltas)) != 0)
		goto out;
	predict_in_init(cfg, &in, false, 0, 0);
	in.vcpu = cpus[0];
	if ((r = run_cpuid_engine(cfg, &in, &tables[0], deltas, cpus + 1, n - 1, res)) != 0 ||
	    (r = check_bit_lists(pol, res)) != 0)
		goto out;
	finish(pol, res);
out:
	for (size_t i = 0; deltas && i + 1 < n; i++)
		tdc_cpuid_table_free(&deltas[i]);
	free(deltas);
	tdc_policy_free(owned_pol);
	return r;
}
