// SPDX-License-Identifier: Apache-2.0
/*
 * The jansson builders of the verdict documents, as the product had them
 * before it wrote them directly (verifier/engine/output.c, ear.c): kept
 * here as the oracle the writer is compared with (verdict_oracle.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "testutil.h"
#include "ear.h"
#include "engine.h"
#include "output.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/jws.h"
#include "verdict_oracle.h"

/* ---- `check --format json` ---------------------------------------------- */

static void iso(time_t t, char buf[24])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *json_collateral(const struct tdc_check_result *res)
{
	json_t *o = json_object(), *docs = json_array();
	char d1[24], d2[24], d3[24];

	json_object_set_new(o, "source", json_string(res->collateral_source));
	for (size_t i = 0; i < res->ncollateral; i++) {
		const struct tdc_check_coll_doc *c = &res->collateral[i];
		json_t *e;

		iso(c->issued, d1);
		iso(c->next_update, d2);
		e = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "document", c->document,
			      "issued", d1, "next_update", d2,
			      "age_seconds", (json_int_t)(res->at - c->issued),
			      "expires_in_seconds", (json_int_t)(c->next_update - res->at),
			      "from", c->from);
		if (e && c->eval_number)
			json_object_set_new(e, "tcb_evaluation_data_number",
					    json_integer(c->eval_number));
		if (e && c->fetched_at) {
			iso(c->fetched_at, d3);
			json_object_set_new(e, "fetched_at", json_string(d3));
		}
		json_array_append_new(docs, e);
	}
	json_object_set_new(o, "documents", docs);
	if (res->collateral_note[0])
		json_object_set_new(o, "note", json_string(res->collateral_note));
	return o;
}

/* Masks keyed by name, only the non-empty ones. */
static json_t *mask_map(const uint32_t *masks, unsigned n, const char *(*name)(unsigned))
{
	json_t *o = json_object();

	for (unsigned i = 0; i < n; i++)
		if (masks[i])
			json_object_set_new(o, name(i), tdc_json_hex32(masks[i]));
	return o;
}

static const char *verdict_name_u(unsigned v) { return tdc_verdict_name(v); }
static const char *class_name_u(unsigned c) { return tdc_bitclass_name(c); }

static json_t *json_register(const struct tdc_reg_result *rr)
{
	json_t *o = json_object(), *notable = json_array();
	char name[TDC_BITNAME_MAX];

	json_object_set_new(o, "leaf", tdc_json_hex32(rr->leaf));
	json_object_set_new(o, "subleaf", json_integer(rr->subleaf));
	json_object_set_new(o, "reg", json_string(tdc_reg_name(rr->reg)));
	json_object_set_new(o, "cpu", rr->cpu < 0 ? json_null() : json_integer(rr->cpu));
	json_object_set_new(o, "guest_has", json_boolean(rr->guest_has));
	json_object_set_new(o, "requested_has", json_boolean(rr->requested_has));
	json_object_set_new(o, "seen", tdc_json_hex32(rr->seen));
	json_object_set_new(o, "requested", tdc_json_hex32(rr->requested));
	json_object_set_new(o, "requested_known", tdc_json_hex32(rr->req_known));
	json_object_set_new(o, "expected", tdc_json_hex32(rr->expected));
	json_object_set_new(o, "expected_known", tdc_json_hex32(rr->exp_known));
	json_object_set_new(o, "class", mask_map(rr->cls, TDC_C__COUNT, class_name_u));
	json_object_set_new(o, "verdict", mask_map(rr->verdict, TDC_V__COUNT, verdict_name_u));
	json_object_set_new(o, "policy_fail", tdc_json_hex32(rr->policy_fail));
	if (rr->source)
		json_object_set_new(o, "source", json_string(rr->source));
	for (unsigned b = 0; b < 32; b++) {
		enum tdc_verdict v = tdc_bit_verdict(rr, b);
		json_t *bit;

		if (v == TDC_V_CONFIRMED && !(rr->policy_fail >> b & 1))
			continue;
		tdc_format_bit(name, sizeof(name), rr->leaf, rr->subleaf, rr->indexed, rr->reg, b);
		bit = json_pack("{s:i, s:s, s:s, s:s, s:i, s:b}", "bit", b, "name", name,
				"verdict", tdc_verdict_name(v), "class", tdc_bit_class(rr, b),
				"seen", rr->seen >> b & 1, "policy_fail", rr->policy_fail >> b & 1);
		if (bit && (rr->req_known >> b & 1))
			json_object_set_new(bit, "requested", json_integer(rr->requested >> b & 1));
		if (bit && (rr->exp_known >> b & 1))
			json_object_set_new(bit, "expected", json_integer(rr->expected >> b & 1));
		json_array_append_new(notable, bit);
	}
	json_object_set_new(o, "bits", notable);
	return o;
}

static json_t *json_counts(const struct tdc_check_result *res)
{
	json_t *o = json_object();

	for (unsigned v = 0; v < TDC_V__COUNT; v++)
		json_object_set_new(o, tdc_verdict_name(v), json_integer((json_int_t)res->counts[v]));
	return o;
}

static int dump_json(json_t *root, struct tdc_buf *out)
{
	char *s;
	int r;

	if (!root)
		return tdc_err(TDC_ERR_ALLOC, "JSON output");
	s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "JSON output");
	r = tdc_buf_put(out, s, strlen(s));
	free(s);
	return r ? r : tdc_buf_put_u8(out, '\n');
}

static json_t *summary_json(const struct tdc_check_result *res)
{
	char at[32];
	struct tm tm;
	json_t *o = tdc_verdict_json_new("check", res->passed);

	gmtime_r(&res->at, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(o, "policy_failures", json_integer((json_int_t)res->policy_failures));
	json_object_set_new(o, "at", json_string(at));
	json_object_set_new(o, "model", json_string(res->model_name));
	json_object_set_new(o, "model_why", json_string(res->model_why));
	json_object_set_new(o, "policy", json_string(res->policy_name));
	json_object_set_new(o, "tee", json_string(tdc_tee_name(res->tee)));
	json_object_set_new(o, "simulated", json_boolean(res->tee == TDC_TEE_SIM));
	json_object_set_new(o, "authenticated", json_boolean(res->authenticated));
	json_object_set_new(o, "vcpus", json_integer((json_int_t)res->ncpus));
	if (res->vm_name[0])
		json_object_set_new(o, "vm", json_string(res->vm_name));
	json_object_set_new(o, "nonce", tdc_json_hexbytes(res->nonce, res->nonce_len));
	json_object_set_new(o, "evidence_sha256", tdc_json_hexbytes(res->evidence_sha256, 32));
	if (res->have_report)
		json_object_set_new(o, "attested", json_pack("{s:o, s:o}", "attributes",
							     tdc_json_hex64(res->attributes), "xfam",
							     tdc_json_hex64(res->xfam)));
	if (res->collateral_used)
		json_object_set_new(o, "collateral", json_collateral(res));
	json_object_set_new(o, "counts", json_counts(res));
	json_object_set_new(o, "checks", tdc_check_list_json(&res->checks));
	return o;
}

int tdc_oracle_check_json(const struct tdc_check_result *res, struct tdc_buf *out)
{
	json_t *root = summary_json(res), *regs = json_array();

	for (size_t i = 0; i < res->nregs; i++)
		json_array_append_new(regs, json_register(&res->regs[i]));
	json_object_set_new(root, "registers", regs);
	return dump_json(root, out);
}

/* ---- the EAR claims --------------------------------------------------- */

/* The annotated CPUID verdict: counts per verdict class, mismatching bits by name. */
static json_t *annotated_verdict(const struct tdc_check_result *res)
{
	json_t *o = summary_json(res), *mm = json_array(), *pf = json_array();
	size_t nmm = 0, npf = 0;
	char buf[256];

	for (size_t i = 0; i < res->nregs; i++) {
		const struct tdc_reg_result *rr = &res->regs[i];

		for (unsigned b = 0; b < 32; b++) {
			bool m = rr->verdict[TDC_V_MISMATCH] >> b & 1, f = rr->policy_fail >> b & 1;

			if (!m && !f)
				continue;
			tdc_bit_describe(rr, b, buf, sizeof(buf));
			if (m && nmm++ < TDC_EAR_BIT_NAMES)
				json_array_append_new(mm, json_string(buf));
			if (f && npf++ < TDC_EAR_BIT_NAMES)
				json_array_append_new(pf, json_string(buf));
		}
	}
	json_object_set_new(o, "binding", json_string(tdc_binding_name(res->binding)));
	if (res->have_quote && res->tcb_evaluated)
		json_object_set_new(o, "tcb_status", json_string(tdc_tcb_status_name(res->tcb_status)));
	json_object_set_new(o, "mismatches", mm);
	json_object_set_new(o, "mismatches_total", json_integer((json_int_t)nmm));
	json_object_set_new(o, "policy_failing_bits", pf);
	json_object_set_new(o, "policy_failing_bits_total", json_integer((json_int_t)npf));
	return o;
}

static json_t *ear_claims(const struct tdc_check_result *res)
{
	struct tdc_ear_vector x = tdc_ear_vector_of(res);
	struct tdc_buf nonce;
	json_t *o, *sub, *tv = json_object(), *why = json_object();

	for (int i = 0; i < TDC_EAR_CLAIMS; i++) {
		json_object_set_new(tv, tdc_ear_claim_name(i), json_integer(x.v[i]));
		json_object_set_new(why, tdc_ear_claim_name(i), json_string(x.why[i]));
	}
	sub = json_pack("{s:s, s:o, s:s, s:o, s:o}",
			"ear.status", tdc_ear_status(&x),
			"ear.trustworthiness-vector", tv,
			"ear.appraisal-policy-id", res->policy_name,
			"tdcpuid.verdict", annotated_verdict(res),
			"tdcpuid.vector-reasons", why);
	o = json_pack("{s:s, s:I, s:{s:s, s:s}, s:{s:o}}", "eat_profile", TDC_EAR_PROFILE,
		      "iat", (json_int_t)res->at, "ear.verifier-id", "developer", "tdcpuid",
		      "build", "tdcpuid-verifier " TDC_VERSION, "submods", "tdcpuid", sub);
	if (o && res->nonce_len) {
		tdc_buf_init(&nonce);
		if (tdc_b64url_encode(res->nonce, res->nonce_len, &nonce) == 0)
			json_object_set_new(o, "eat_nonce", json_string(tdc_buf_cstr(&nonce)));
		tdc_buf_free(&nonce);
	}
	return o;
}

int tdc_oracle_ear_claims(const struct tdc_check_result *res, bool compact,
			  struct tdc_buf *out)
{
	json_t *claims = ear_claims(res);
	char *s;
	int r;

	if (!claims)
		return tdc_err(TDC_ERR_ALLOC, "EAR claims");
	s = json_dumps(claims, compact ? JSON_COMPACT | JSON_PRESERVE_ORDER :
			       JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(claims);
	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "EAR claims");
	r = tdc_buf_put(out, s, strlen(s));
	free(s);
	return r;
}


/* ---- hostile verdicts ------------------------------------------------- */

static uint64_t *rng;

static uint32_t rnd(uint32_t n)
{
	return tdc_test_rnd(rng, n);
}

/*
 * Text as the verdict may carry it (guest-quoted names and details): plain
 * ASCII, what needs escaping (quote, backslash, every control character,
 * DEL), valid UTF-8 of 2, 3 and 4 bytes, and now and then bytes jansson
 * refuses (stray continuation, overlong, surrogate, beyond U+10FFFF, a
 * sequence cut short).
 */
static void rnd_text(char *dst, size_t cap, bool allow_invalid)
{
	static const char *const pieces[] = {
		"quote.signature", "CPUID.01H:ECX[24]", " ", "a", "Z", "0", "/", "\"", "\\",
		"\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f", "{}", "[],:",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xc2\x80",
		"\xe2\x80\xae", "%s", "u\\u0041",
	};
	static const char *const bad[] = {
		"\x80", "\xff", "\xc0\x80", "\xc1\xbf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe2\x82", "\xf0\x9f\x98", "\xf8\x88\x80\x80\x80", "\xe0\x80\xaf",
	};
	size_t n = 0, k = rnd(4) ? rnd(12) : rnd(60);

	dst[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		const char *p = allow_invalid && !rnd(25) ? bad[rnd(sizeof(bad) / sizeof(bad[0]))]
							  : pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);

		if (n + l + 1 > cap)
			break;
		memcpy(dst + n, p, l + 1);
		n += l;
	}
	if (!rnd(10))
		/* truncated mid-sequence, as a bounded snprintf can leave it */
		for (size_t i = 0; n < cap - 1 && i < 2; i++, n++)
			dst[n] = (char)(0x80 | rnd(64)), dst[n + 1] = '\0';
}

static const char *const docs[] = { "tcb_info", "qe_identity", "pck_crl", "root_crl", NULL,
				    "\xff bad", "directory", "cache", "network" };

/* A partition of the 32 bits over @n classes, as the engine's masks are (or, now and then, none). */
static void rnd_partition(uint32_t *masks, unsigned n)
{
	if (!rnd(20))
		return; /* no class: tdc_bit_class says "?" */
	for (unsigned b = 0; b < 32; b++)
		masks[rnd(3) ? rnd(2) : rnd(n)] |= 1u << b;
}

void tdc_oracle_random_result(uint64_t *state, struct tdc_check_result *res,
			      struct tdc_oracle_store *store)
{
	static const enum tdc_check_status st[] = { TDC_CHECK_PASS, TDC_CHECK_FAIL,
						    TDC_CHECK_SKIP, TDC_CHECK_INFO };
	static const char *const names[] = { "nonce", "quote.signature", "quote.tcb.status",
					     "tdreport_binding", "evidence_kind", "claims_format",
					     "required_bit", "quote.qe_identity.match", "vm_name" };
	char name[64], detail[400], key[64];

	rng = state;
	tdc_check_result_init(res);
	res->passed = rnd(2);
	res->tee = (enum tdc_tee)rnd(3);
	res->binding = (enum tdc_binding)rnd(2);
	res->have_report = rnd(4) != 0;
	res->have_quote = rnd(4) != 0;
	res->tcb_evaluated = rnd(2);
	res->tcb_status = (enum tdc_tcb_status)rnd(TDC_TCB__COUNT);
	res->identity_pinned = rnd(2);
	res->authenticated = rnd(2);
	res->attributes = (uint64_t)rnd(UINT32_MAX) << 32 | rnd(UINT32_MAX);
	res->xfam = rnd(2) ? 0x2e7 : rnd(UINT32_MAX);
	for (unsigned v = 0; v < TDC_V__COUNT; v++)
		res->counts[v] = rnd(3) ? rnd(10) : rnd(100000);
	res->policy_failures = rnd(5);
	res->ncpus = 1 + rnd(1024);
	res->at = (time_t)1700000000 + (time_t)rnd(400000000) - 200000000;
	rnd_text(res->model_name, sizeof(res->model_name), true);
	rnd_text(res->model_why, sizeof(res->model_why), true);
	/* Mostly valid: an invalid policy name fails both (json_pack refuses it). */
	rnd_text(res->policy_name, sizeof(res->policy_name), !rnd(8));
	if (rnd(2))
		rnd_text(res->vm_name, sizeof(res->vm_name), true);
	res->nonce_len = rnd(3) ? 32 : rnd(TDC_CLAIMS_NONCE_MAX + 1);
	for (size_t i = 0; i < res->nonce_len; i++)
		res->nonce[i] = (uint8_t)rnd(256);
	for (size_t i = 0; i < 32; i++)
		res->evidence_sha256[i] = (uint8_t)rnd(256);
	for (unsigned i = 0, n = rnd(12); i < n; i++) {
		enum tdc_check_status s = st[rnd(4)];

		if (rnd(3))
			snprintf(name, sizeof(name), "%s", names[rnd(sizeof(names) / sizeof(names[0]))]);
		else
			rnd_text(name, sizeof(name), true);
		rnd_text(detail, sizeof(detail), true);
		if (s == TDC_CHECK_SKIP) {
			rnd_text(key, sizeof(key), true);
			assert_int_equal(tdc_check_add_waived(&res->checks, name, key, "%s", detail), 0);
		} else {
			assert_int_equal(tdc_check_add(&res->checks, name, s, "%s", detail), 0);
		}
	}
	res->nregs = rnd(4) ? rnd(6) : rnd(40);
	res->regs = calloc(res->nregs ? res->nregs : 1, sizeof(*res->regs));
	assert_non_null(res->regs);
	for (size_t i = 0; i < res->nregs; i++) {
		struct tdc_reg_result *rr = &res->regs[i];
		uint32_t mm;

		rr->leaf = rnd(2) ? rnd(0x20) : 0x80000000u + rnd(9);
		rr->subleaf = rnd(3);
		rr->indexed = rnd(2);
		rr->reg = (uint8_t)rnd(4);
		rr->guest_has = rnd(4) != 0;
		rr->requested_has = rnd(2);
		rr->seen = rnd(UINT32_MAX);
		rr->requested = rnd(UINT32_MAX);
		rr->req_known = rnd(2) ? UINT32_MAX : rnd(UINT32_MAX);
		rr->expected = rnd(UINT32_MAX);
		rr->exp_known = rnd(UINT32_MAX);
		rnd_partition(rr->cls, TDC_C__COUNT);
		if (rnd(2)) {
			/* mostly confirmed, a few mismatches: the EAR's names */
			mm = rnd(2) ? 0 : rnd(3) ? 1u << rnd(32) : rnd(UINT32_MAX);
			rr->verdict[TDC_V_MISMATCH] = mm;
			rr->verdict[TDC_V_CONFIRMED] = ~mm;
		} else {
			rnd_partition(rr->verdict, TDC_V__COUNT);
			mm = rr->verdict[TDC_V_MISMATCH];
		}
		rr->policy_fail = rnd(3) ? 0 : (mm | rnd(UINT32_MAX)) & rnd(UINT32_MAX);
		rr->cpu = rnd(2) ? -1 : (int32_t)rnd(8);
		if (rnd(3)) {
			rr->source = rnd(2) ? NULL : "policies/models/tdx-1.5.json";
		} else {
			rnd_text(store->source[i % 8], sizeof(store->source[0]), true);
			rr->source = store->source[i % 8];
		}
	}
	res->collateral_used = rnd(2);
	rnd_text(res->collateral_source, sizeof(res->collateral_source), true);
	if (rnd(2))
		rnd_text(res->collateral_note, sizeof(res->collateral_note), true);
	res->ncollateral = rnd(TDC_CHECK_COLL_DOCS + 1);
	for (size_t i = 0; i < res->ncollateral; i++) {
		struct tdc_check_coll_doc *c = &res->collateral[i];

		c->document = docs[rnd(sizeof(docs) / sizeof(docs[0]))];
		if (rnd(6)) {
			c->from = docs[6 + rnd(3)];
		} else {
			rnd_text(store->from[i], sizeof(store->from[i]), true);
			c->from = store->from[i];
		}
		c->issued = res->at - (time_t)rnd(90 * 86400);
		c->next_update = res->at + (time_t)rnd(60 * 86400) - 86400;
		c->fetched_at = rnd(2) ? 0 : res->at - (time_t)rnd(3600);
		c->eval_number = rnd(2) ? 0 : rnd(100);
	}
}
