// SPDX-License-Identifier: Apache-2.0
/*
 * EAR: the IETF RATS "EAT Attestation Result" (draft-ietf-rats-ear), so a
 * relying party (Trustee, Veraison's clients, a KBS policy) can act on
 * tdcpuid verdicts like any other verifier's.  The mapping is documented in
 * docs/ear.md; in short:
 *
 *   eat_profile "tag:github.com,2023:veraison/ear", iat, eat_nonce,
 *   ear.verifier-id {developer, build}, submods {"tdcpuid": {ear.status,
 *   ear.trustworthiness-vector {hardware, configuration, instance-identity},
 *   ear.appraisal-policy-id, tdcpuid.verdict (the annotated CPUID verdict),
 *   tdcpuid.vector-reasons}}.
 *
 * AR4SI code points (draft-ietf-rats-ar4si §3.3; the values Veraison's
 * ar4si package defines): 0 no claim, 1 unexpected evidence; 2 affirming;
 * hardware 32 genuine with known issues, 96 contraindicated, 97
 * unrecognized, 99 cryptographic validation failed; configuration 2
 * approved, 32 known vulnerabilities, 96 unacceptable; instance-identity 2
 * recognized, 96 not trustworthy, 99 cryptographic validation failed.
 *
 * Two invariants tie the EAR to the verdict, so no relying party can read
 * them differently: a failing verdict is "contraindicated" (some claim is
 * >= 96), and a passing verdict is never contraindicated (what the policy
 * accepted caps at warning, and the reason says which key accepted it).
 * ear.status is the worst tier of the vector.  With a signing key the claims
 * become a compact JWS (ES256, RFC 7515/7518).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ear.h"
#include "engine.h"
#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"
#include "tdcpuid/tdx.h"
#include "output.h"

enum { V_HW, V_CFG, V_ID, V__COUNT };
_Static_assert(V__COUNT == TDC_EAR_CLAIMS, "ear.h's vector has one slot per claim");
static const char *const vec_names[V__COUNT] = { "hardware", "configuration",
						 "instance-identity" };

enum {
	AR_NONE = 0,
	AR_UNEXPECTED = 1,
	AR_AFFIRMING = 2,
	AR_WARNING = 32,
	AR_CONTRAINDICATED = 96,
	AR_UNRECOGNIZED = 97,
	AR_CRYPTO_FAILED = 99,
};

/*
 * A failing named check and the claim it lowers (data: the first prefix
 * that matches wins).  Names not listed lower the configuration claim:
 * whatever failed, the verdict failed.
 */
static const struct {
	const char *prefix;
	int vec;     /* V__COUNT: every claim */
	int tier;
} fail_map[] = {
	{ "evidence_format", V__COUNT, AR_UNEXPECTED },
	{ "claims_format", V__COUNT, AR_UNEXPECTED },
	{ "eventlog_format", V__COUNT, AR_UNEXPECTED },
	{ "check_record", V__COUNT, AR_CONTRAINDICATED },
	{ "tdreport_binding", V_ID, AR_CRYPTO_FAILED },
	{ "quote.report_data", V_ID, AR_CRYPTO_FAILED },
	{ "rtmr3_replay", V_ID, AR_CRYPTO_FAILED },
	{ "rtmr3_claims_event", V_ID, AR_CRYPTO_FAILED },
	{ "nonce", V_ID, AR_CONTRAINDICATED },
	{ "mrconfigid", V_ID, AR_CONTRAINDICATED },
	{ "vm_name", V_ID, AR_CONTRAINDICATED },
	{ "quote.tcb", V_HW, AR_CONTRAINDICATED },     /* tcb_status, tcb.status/level/date */
	{ "quote.tdx_module.tcb", V_HW, AR_CONTRAINDICATED },
	{ "quote.qe_identity.tcb", V_HW, AR_CONTRAINDICATED },
	{ "quote.pck.revocation", V_HW, AR_CONTRAINDICATED },
	{ "quote.collateral", V_HW, AR_CONTRAINDICATED },
	{ "quote.qe_identity", V_HW, AR_UNRECOGNIZED },  /* not Intel's QE */
	{ "quote.tdx_module.identity", V_HW, AR_UNRECOGNIZED },
	{ "quote.td_attributes", V_CFG, AR_CONTRAINDICATED },
	{ "quote", V_HW, AR_CRYPTO_FAILED },          /* signature, chain, QE report */
	{ "tdreport_mac", V_HW, AR_CRYPTO_FAILED },
	{ "tdreport_hash_links", V_HW, AR_CRYPTO_FAILED },
	{ "tdreport_format", V_HW, AR_CRYPTO_FAILED },
	{ "report_quote_consistent", V_HW, AR_CRYPTO_FAILED },
	{ "tee_label", V_HW, AR_CRYPTO_FAILED },
	{ "hardware_report", V_HW, AR_UNRECOGNIZED },
	{ "evidence_kind", V_HW, AR_UNRECOGNIZED },     /* simulated or TDREPORT-only refused */
};

static void lower(struct tdc_ear_vector *x, int vec, int tier, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lower(struct tdc_ear_vector *x, int vec, int tier, const char *fmt, ...)
{
	va_list ap;

	for (int i = 0; i < V__COUNT; i++) {
		if ((vec != V__COUNT && vec != i) || x->v[i] >= tier)
			continue;
		x->v[i] = tier;
		va_start(ap, fmt);
		vsnprintf(x->why[i], sizeof(x->why[i]), fmt, ap);
		va_end(ap);
	}
}

static bool waived(const struct tdc_check_result *res, const char *name)
{
	const struct tdc_check *c = tdc_check_find(&res->checks, name);

	return c && c->status == TDC_CHECK_SKIP;
}

/* What a relying party may conclude when nothing failed. */
static void affirm(const struct tdc_check_result *res, struct tdc_ear_vector *x)
{
	/* hardware: a quote verified to Intel's root, QE identity and TCB evaluated. */
	if (res->tee == TDC_TEE_SIM)
		lower(x, V_HW, AR_UNRECOGNIZED, "%s", "simulated TEE: no real hardware");
	else if (!res->have_report)
		lower(x, V_HW, AR_UNRECOGNIZED, "%s", "no TDREPORT or quote");
	else if (!res->have_quote)
		lower(x, V_HW, AR_WARNING, "%s", "TDREPORT only: not authenticated off-platform");
	else if (!res->tcb_evaluated)
		lower(x, V_HW, AR_WARNING, "%s", "quote signature chain verified, but TCB status "
		      "and QE identity not evaluated (no collateral)");
	else if (res->tcb_status != TDC_TCB_UP_TO_DATE)
		lower(x, V_HW, AR_WARNING, "TCB status %s: genuine, not up to date",
		      tdc_tcb_status_name(res->tcb_status));
	else
		lower(x, V_HW, AR_AFFIRMING, "%s", "quote verified, QE identity and TCB UpToDate");
	/* configuration: the CPUID verdict and the TD fields. */
	if (res->counts[TDC_V_MISMATCH])
		lower(x, V_CFG, AR_WARNING, "%s", "CPUID mismatches the policy does not fail on");
	else if (res->have_report && (res->attributes & TDX_ATTR_DEBUG))
		lower(x, V_CFG, AR_WARNING, "%s", "DEBUG TD accepted by the policy");
	else
		lower(x, V_CFG, AR_AFFIRMING, "%s", "CPUID and TD fields as the policy requires");
	/* instance-identity: bound, fresh, and (to claim anything) pinned. */
	if (waived(res, "nonce"))
		lower(x, V_ID, AR_WARNING, "%s", "freshness not proven (no nonce; require_nonce off)");
	else if (res->identity_pinned)
		lower(x, V_ID, AR_AFFIRMING, "%s", "claims bound to the report, fresh, and the TD "
		      "identified by MRCONFIGID/MRTD");
	else if (!x->why[V_ID][0])
		snprintf(x->why[V_ID], sizeof(x->why[V_ID]), "%s", "claims bound and fresh; no "
			 "MRCONFIGID/MRTD pins which TD this is, so no claim");
}

struct tdc_ear_vector tdc_ear_vector_of(const struct tdc_check_result *res)
{
	struct tdc_ear_vector x;

	memset(&x, 0, sizeof(x));
	for (size_t i = 0; i < tdc_check_count(&res->checks); i++) {
		const struct tdc_check *c = tdc_check_at(&res->checks, i);
		size_t k;

		if (c->status != TDC_CHECK_FAIL)
			continue;
		for (k = 0; k < sizeof(fail_map) / sizeof(fail_map[0]); k++)
			if (!strncmp(c->name, fail_map[k].prefix, strlen(fail_map[k].prefix)))
				break;
		if (k < sizeof(fail_map) / sizeof(fail_map[0]))
			lower(&x, fail_map[k].vec, fail_map[k].tier, "failed: %s", c->name);
		else
			lower(&x, V_CFG, AR_CONTRAINDICATED, "failed: %s", c->name);
	}
	for (size_t i = 0; i < res->nregs; i++)
		if (res->regs[i].policy_fail) {
			lower(&x, V_CFG, AR_CONTRAINDICATED, "%s", "CPUID bits the policy fails");
			break;
		}
	if (res->passed) {
		affirm(res, &x);
		/* Accepted by the policy: at worst a warning, and the reason says so. */
		for (int i = 0; i < V__COUNT; i++) {
			if (x.v[i] < AR_CONTRAINDICATED)
				continue;
			x.v[i] = AR_WARNING;
			snprintf(x.why[i] + strlen(x.why[i]), sizeof(x.why[i]) - strlen(x.why[i]),
				 " (accepted by policy %s)", res->policy_name);
		}
	} else if (x.v[V_HW] < AR_CONTRAINDICATED && x.v[V_CFG] < AR_CONTRAINDICATED &&
		   x.v[V_ID] < AR_CONTRAINDICATED) {
		/* A failed verdict whose failures map to no claim (malformed input). */
		lower(&x, V_CFG, AR_CONTRAINDICATED, "%s", "the verdict failed");
	}
	return x;
}

static const char *tier_of(int v)
{
	return v >= AR_CONTRAINDICATED ? "contraindicated" : v >= AR_WARNING ? "warning" :
	       v >= AR_AFFIRMING ? "affirming" : "none";
}

const char *tdc_ear_status(const struct tdc_ear_vector *x)
{
	int worst = 0;

	for (int i = 0; i < V__COUNT; i++)
		worst = x->v[i] > worst ? x->v[i] : worst;
	return tier_of(worst);
}

const char *tdc_ear_claim_name(int claim)
{
	return claim >= 0 && claim < V__COUNT ? vec_names[claim] : "?";
}

/*
 * The claims written directly: the same members in the same order as the
 * jansson builder (tests/verdict_oracle.c), and where jansson would refuse
 * a string the same outcome (a member set with json_object_set_new is left
 * out; a string packed by json_pack fails the whole document).
 */
static void write_bits(struct tdc_jw *w, const struct tdc_check_result *res, const char *key,
		       bool policy, size_t *total)
{
	char buf[256];

	*total = 0;
	tdc_jw_open(w, key, '[');
	for (size_t i = 0; i < res->nregs; i++) {
		const struct tdc_reg_result *rr = &res->regs[i];
		uint32_t bits = policy ? rr->policy_fail : rr->verdict[TDC_V_MISMATCH];

		for (unsigned b = 0; b < 32 && bits >> b; b++) {
			if (!(bits >> b & 1))
				continue;
			if ((*total)++ < TDC_EAR_BIT_NAMES)
				tdc_jw_str(w, NULL, tdc_bit_describe(rr, b, buf, sizeof(buf)));
		}
	}
	tdc_jw_close(w, ']');
}

static void write_verdict(struct tdc_jw *w, const struct tdc_check_result *res)
{
	size_t nmm, npf;

	tdc_jw_open(w, "tdcpuid.verdict", '{');
	tdc_check_summary_write(w, res);
	tdc_jw_str(w, "binding", tdc_binding_name(res->binding));
	if (res->have_quote && res->tcb_evaluated)
		tdc_jw_str(w, "tcb_status", tdc_tcb_status_name(res->tcb_status));
	write_bits(w, res, "mismatches", false, &nmm);
	tdc_jw_int(w, "mismatches_total", (long long)nmm);
	write_bits(w, res, "policy_failing_bits", true, &npf);
	tdc_jw_int(w, "policy_failing_bits_total", (long long)npf);
	tdc_jw_close(w, '}');
}

int tdc_ear_claims_write(const struct tdc_check_result *res, bool compact, struct tdc_buf *out)
{
	struct tdc_ear_vector x = tdc_ear_vector_of(res);
	struct tdc_jw w;
	struct tdc_buf nonce;
	size_t start = out->len;
	int r;

	/* jansson's json_pack("s", policy): no document at all then. */
	if (!tdc_jw_utf8_ok(res->policy_name))
		return tdc_err(TDC_ERR_ALLOC, "EAR claims");
	tdc_jw_init(&w, out, compact);
	tdc_jw_open(&w, NULL, '{');
	tdc_jw_str(&w, "eat_profile", TDC_EAR_PROFILE);
	tdc_jw_int(&w, "iat", (long long)res->at);
	tdc_jw_open(&w, "ear.verifier-id", '{');
	tdc_jw_str(&w, "developer", "tdcpuid");
	tdc_jw_str(&w, "build", "tdcpuid-verifier " TDC_VERSION);
	tdc_jw_close(&w, '}');
	tdc_jw_open(&w, "submods", '{');
	tdc_jw_open(&w, "tdcpuid", '{');
	tdc_jw_str(&w, "ear.status", tdc_ear_status(&x));
	tdc_jw_open(&w, "ear.trustworthiness-vector", '{');
	for (int i = 0; i < V__COUNT; i++)
		tdc_jw_int(&w, vec_names[i], x.v[i]);
	tdc_jw_close(&w, '}');
	tdc_jw_str(&w, "ear.appraisal-policy-id", res->policy_name);
	write_verdict(&w, res);
	tdc_jw_open(&w, "tdcpuid.vector-reasons", '{');
	for (int i = 0; i < V__COUNT; i++)
		tdc_jw_str(&w, vec_names[i], x.why[i]);
	tdc_jw_close(&w, '}');
	tdc_jw_close(&w, '}');
	tdc_jw_close(&w, '}');
	if (res->nonce_len) {
		tdc_buf_init(&nonce);
		if (tdc_b64url_encode(res->nonce, res->nonce_len, &nonce) == 0)
			tdc_jw_str(&w, "eat_nonce", tdc_buf_cstr(&nonce));
		tdc_buf_free(&nonce);
	}
	tdc_jw_close(&w, '}');
	if ((r = tdc_jw_end(&w)) != 0) {
		out->len = start; /* nothing half written */
		return tdc_err(r, "EAR claims");
	}
	return 0;
}

/* The signing plumbing is lib/jws.c's, shared with `serve --sign-key`. */
static int jws_compact(const struct tdc_buf *payload, const char *key_path, struct tdc_buf *out)
{
	EVP_PKEY *key = NULL;
	int r;

	if ((r = tdc_es256_load_private(key_path, &key)) != 0)
		return tdc_err_wrap(r, "EAR: ");
	if ((r = tdc_jws_es256_sign(key, payload->data, payload->len, out)) == 0)
		r = tdc_buf_put_u8(out, '\n');
	EVP_PKEY_free(key);
	return r;
}

int tdc_check_format_ear(const struct tdc_check_result *res, const char *sign_key_pem,
			 struct tdc_buf *out)
{
	struct tdc_buf claims;
	int r;

	if (!sign_key_pem) {
		if ((r = tdc_ear_claims_write(res, false, out)) == 0)
			r = tdc_buf_put_u8(out, '\n');
		return r;
	}
	tdc_buf_init(&claims);
	if ((r = tdc_ear_claims_write(res, true, &claims)) == 0)
		r = jws_compact(&claims, sign_key_pem, out);
	tdc_buf_free(&claims);
	return r;
}
