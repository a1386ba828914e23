// SPDX-License-Identifier: Apache-2.0
/*
 * Verdict outputs: text (QEMU-style lines for the bits worth a look) and
 * JSON (every bit, as per-register masks; schema in docs/verdict-json.md).
 * The EAR (ear.c) builds on the summary here; format.c picks one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "output.h"
#include "tdcpuid/error.h"

/* The model class of one bit (the class masks partition the register). */
const char *tdc_bit_class(const struct tdc_reg_result *rr, unsigned bit)
{
	for (unsigned c = 0; c < TDC_C__COUNT; c++)
		if (rr->cls[c] >> bit & 1)
			return tdc_bitclass_name(c);
	return "?";
}

enum tdc_verdict tdc_bit_verdict(const struct tdc_reg_result *rr, unsigned bit)
{
	for (unsigned v = 0; v < TDC_V__COUNT; v++)
		if (rr->verdict[v] >> bit & 1)
			return v;
	return TDC_V_MISMATCH;
}

const char *tdc_bit_describe(const struct tdc_reg_result *rr, unsigned bit, char *buf,
			     size_t len)
{
	char name[TDC_BITNAME_MAX], req[32];

	tdc_format_bit(name, sizeof(name), rr->leaf, rr->subleaf, rr->indexed, rr->reg, bit);
	if (rr->req_known >> bit & 1)
		snprintf(req, sizeof(req), "requested %u", rr->requested >> bit & 1);
	else
		snprintf(req, sizeof(req), "%s", rr->requested_has ? "request unspecified" :
			 "not requested");
	snprintf(buf, len, "%s: %s, guest sees %u%s, model says %s", name, req,
		 rr->seen >> bit & 1, rr->guest_has ? "" : " (leaf absent)", tdc_bit_class(rr, bit));
	return buf;
}

/* "TDX" for TDX models, "KVM" for the legacy one: whose decision it was. */
static const char *actor(const struct tdc_check_result *res)
{
	return strncmp(res->model_name, "tdx", 3) ? "KVM" : "TDX";
}

static int text_checks(const struct tdc_check_result *res, struct tdc_buf *out)
{
	int r = 0;

	for (size_t i = 0; i < tdc_check_count(&res->checks) && !r; i++) {
		const struct tdc_check *c = tdc_check_at(&res->checks, i);

		r = tdc_buf_printf(out, "%-4s  %s: %s%s%s%s\n", tdc_check_status_tag(c->status),
				   c->name, c->detail, c->waived_by[0] ? " (waived by " : "",
				   c->waived_by, c->waived_by[0] ? ")" : "");
	}
	return r;
}

static int text_cpu_prefix(const struct tdc_reg_result *rr, struct tdc_buf *out)
{
	return rr->cpu >= 0 ? tdc_buf_printf(out, "CPU %d: ", rr->cpu) : 0;
}

/* One line per notable bit; untrusted (VMM) registers collapse to one line. */
static int text_register(const struct tdc_check_result *res, const struct tdc_reg_result *rr,
			 bool verbose, struct tdc_buf *out)
{
	char name[TDC_BITNAME_MAX], desc[256];
	uint32_t changed = 0;
	int r = 0;

	if (rr->verdict[TDC_V_UNTRUSTED] && (rr->seen || verbose)) {
		tdc_format_reg(name, sizeof(name), rr->leaf, rr->subleaf, rr->indexed, rr->reg);
		if ((r = text_cpu_prefix(rr, out)) != 0 ||
		    (r = tdc_buf_printf(out, "UNTRUSTED: %s = 0x%08x: answered through #VE%s, not attestable\n",
					name, rr->seen, (rr->leaf >> 28) == 4 ? " by the VMM" : "")) != 0)
			return r;
	}
	for (unsigned b = 0; b < 32 && !r; b++) {
		enum tdc_verdict v = tdc_bit_verdict(rr, b);
		bool fail = rr->policy_fail >> b & 1;
		bool asked = rr->req_known >> b & 1;
		bool shown = v == TDC_V_MISMATCH || fail || v == TDC_V_UNSUPPORTED ||
			     (v == TDC_V_FORCED && asked) || (verbose && v != TDC_V_UNTRUSTED);

		if (!shown)
			continue;
		/* Fields that are not features (sizes, counts) get one line per register below. */
		if (!fail && !verbose && (v == TDC_V_FORCED || v == TDC_V_UNSUPPORTED) &&
		    !tdc_feature_lookup(rr->leaf, rr->subleaf, rr->reg, b)) {
			changed |= 1u << b;
			continue;
		}
		tdc_format_bit(name, sizeof(name), rr->leaf, rr->subleaf, rr->indexed, rr->reg, b);
		if ((r = text_cpu_prefix(rr, out)) != 0)
			return r;
		if (v == TDC_V_MISMATCH)
			r = tdc_buf_printf(out, "MISMATCH: %s\n", tdc_bit_describe(rr, b, desc, sizeof(desc)));
		else if (fail)
			r = tdc_buf_printf(out, "POLICY: %s: verdict %s fails the policy\n",
					   tdc_bit_describe(rr, b, desc, sizeof(desc)), tdc_verdict_name(v));
		else if (v == TDC_V_FORCED)
			r = tdc_buf_printf(out, "%s forcibly sets the feature: %s\n", actor(res), name);
		else if (v == TDC_V_UNSUPPORTED)
			r = tdc_buf_printf(out, "%s doesn't support requested feature: %s\n", actor(res), name);
		else
			r = tdc_buf_printf(out, "%s: %s\n", tdc_verdict_name(v),
					   tdc_bit_describe(rr, b, desc, sizeof(desc)));
	}
	if (changed && !r) {
		tdc_format_reg(name, sizeof(name), rr->leaf, rr->subleaf, rr->indexed, rr->reg);
		if ((r = text_cpu_prefix(rr, out)) == 0)
			r = tdc_buf_printf(out, "%s changes %s: requested 0x%08x, the guest sees 0x%08x (model: %s)\n",
					   actor(res), name, rr->requested, rr->seen,
					   tdc_bit_class(rr, (unsigned)__builtin_ctz(changed)));
	}
	return r;
}

static void iso(time_t t, char buf[24])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "collateral: SOURCE: tcb_info issued X, 12.3 days old, nextUpdate Y" */
static int text_collateral(const struct tdc_check_result *res, struct tdc_buf *out)
{
	char d1[24], d2[24];
	int r;

	if (!res->collateral_used)
		return 0;
	if ((r = tdc_buf_printf(out, "collateral: %s\n", res->collateral_source)) != 0)
		return r;
	for (size_t i = 0; i < res->ncollateral; i++) {
		const struct tdc_check_coll_doc *c = &res->collateral[i];
		long age = (long)(res->at - c->issued);

		iso(c->issued, d1);
		iso(c->next_update, d2);
		if ((r = tdc_buf_printf(out, "  %s: issued %s (%.1f days old), nextUpdate %s, "
					"from %s\n", c->document, d1, (double)age / 86400, d2,
					c->from)) != 0)
			return r;
	}
	if (res->collateral_note[0])
		return tdc_buf_printf(out, "  note: %s\n", res->collateral_note);
	return 0;
}

int tdc_check_format_text(const struct tdc_check_result *res, bool verbose, struct tdc_buf *out)
{
	int r;

	if ((r = tdc_buf_printf(out, "model %s, policy %s, tee %s, %zu vCPU%s%s%s\n",
				res->model_name, res->policy_name[0] ? res->policy_name : "-",
				tdc_tee_name(res->tee), res->ncpus, res->ncpus == 1 ? "" : "s",
				res->vm_name[0] ? ", vm " : "", res->vm_name)) != 0)
		return r;
	if (res->have_report &&
	    (r = tdc_buf_printf(out, "%s\n", !res->authenticated ?
				"evidence NOT authenticated off-platform (no verified quote)" :
				res->tee == TDC_TEE_SIM ?
				"quote verified against the SIMULATOR's test root, not Intel's" :
				"evidence authenticated off-platform by a verified quote")) != 0)
		return r;
	if (res->tee == TDC_TEE_SIM &&
	    (r = tdc_buf_printf(out, "SIMULATED TEE: this evidence proves nothing about real hardware\n")) != 0)
		return r;
	if ((r = text_checks(res, out)) != 0 || (r = text_collateral(res, out)) != 0)
		return r;
	for (size_t i = 0; i < res->nregs; i++)
		if ((r = text_register(res, &res->regs[i], verbose, out)) != 0)
			return r;
	if ((r = tdc_buf_printf(out, "summary:")) != 0)
		return r;
	for (unsigned v = 0; v < TDC_V__COUNT; v++)
		if ((r = tdc_buf_printf(out, " %zu %s%s", res->counts[v], tdc_verdict_name(v),
					v + 1 < TDC_V__COUNT ? "," : "\n")) != 0)
			return r;
	return tdc_buf_printf(out, "result: %s (%zu policy failure%s)\n",
			      res->passed ? "PASS" : "FAIL", res->policy_failures,
			      res->policy_failures == 1 ? "" : "s");
}

/* ---- JSON, written directly (jsonw.h): `check --format json` and the EAR ---- */

/* lib/check.c's str(): a detail quoting untrusted bytes never drops the record. */
static void jw_str_or_note(struct tdc_jw *w, const char *key, const char *s)
{
	if (!tdc_jw_str(w, key, s))
		tdc_jw_str(w, key, "(not valid UTF-8)");
}

static void jw_hexbytes(struct tdc_jw *w, const char *key, const uint8_t *p, size_t n)
{
	char hex[2 * TDC_CLAIMS_NONCE_MAX + 1];

	if (n > TDC_CLAIMS_NONCE_MAX) /* never: nonces and digests fit */
		n = TDC_CLAIMS_NONCE_MAX;
	tdc_hex_encode(p, n, hex);
	tdc_jw_str(w, key, hex);
}

static void jw_hex64(struct tdc_jw *w, const char *key, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%016llx", (unsigned long long)v);
	tdc_jw_str(w, key, s);
}

/* As jansson's json_pack would: a document with a name or source that is not UTF-8 is left out. */
static void jw_collateral(struct tdc_jw *w, const struct tdc_check_result *res)
{
	char d[24];

	tdc_jw_open(w, "collateral", '{');
	tdc_jw_str(w, "source", res->collateral_source);
	tdc_jw_open(w, "documents", '[');
	for (size_t i = 0; i < res->ncollateral; i++) {
		const struct tdc_check_coll_doc *c = &res->collateral[i];

		if (!tdc_jw_utf8_ok(c->document) || !tdc_jw_utf8_ok(c->from))
			continue;
		tdc_jw_open(w, NULL, '{');
		tdc_jw_str(w, "document", c->document);
		iso(c->issued, d);
		tdc_jw_str(w, "issued", d);
		iso(c->next_update, d);
		tdc_jw_str(w, "next_update", d);
		tdc_jw_int(w, "age_seconds", (long long)(res->at - c->issued));
		tdc_jw_int(w, "expires_in_seconds", (long long)(c->next_update - res->at));
		tdc_jw_str(w, "from", c->from);
		if (c->eval_number)
			tdc_jw_int(w, "tcb_evaluation_data_number", (long long)c->eval_number);
		if (c->fetched_at) {
			iso(c->fetched_at, d);
			tdc_jw_str(w, "fetched_at", d);
		}
		tdc_jw_close(w, '}');
	}
	tdc_jw_close(w, ']');
	if (res->collateral_note[0])
		tdc_jw_str(w, "note", res->collateral_note);
	tdc_jw_close(w, '}');
}

void tdc_check_summary_write(struct tdc_jw *w, const struct tdc_check_result *res)
{
	char at[24];

	tdc_jw_str(w, "format", TDC_VERDICT_FORMAT);
	tdc_jw_int(w, "version", TDC_VERDICT_VERSION);
	tdc_jw_str(w, "kind", "check");
	tdc_jw_bool(w, "passed", res->passed);
	tdc_jw_int(w, "policy_failures", (long long)res->policy_failures);
	iso(res->at, at);
	tdc_jw_str(w, "at", at);
	tdc_jw_str(w, "model", res->model_name);
	tdc_jw_str(w, "model_why", res->model_why);
	tdc_jw_str(w, "policy", res->policy_name);
	tdc_jw_str(w, "tee", tdc_tee_name(res->tee));
	tdc_jw_bool(w, "simulated", res->tee == TDC_TEE_SIM);
	tdc_jw_bool(w, "authenticated", res->authenticated);
	tdc_jw_int(w, "vcpus", (long long)res->ncpus);
	if (res->vm_name[0])
		tdc_jw_str(w, "vm", res->vm_name);
	jw_hexbytes(w, "nonce", res->nonce, res->nonce_len);
	jw_hexbytes(w, "evidence_sha256", res->evidence_sha256, 32);
	if (res->have_report) {
		tdc_jw_open(w, "attested", '{');
		jw_hex64(w, "attributes", res->attributes);
		jw_hex64(w, "xfam", res->xfam);
		tdc_jw_close(w, '}');
	}
	if (res->collateral_used)
		jw_collateral(w, res);
	tdc_jw_open(w, "counts", '{');
	for (unsigned v = 0; v < TDC_V__COUNT; v++)
		tdc_jw_int(w, tdc_verdict_name(v), (long long)res->counts[v]);
	tdc_jw_close(w, '}');
	tdc_jw_open(w, "checks", '[');
	for (size_t i = 0; i < tdc_check_count(&res->checks); i++) {
		const struct tdc_check *c = tdc_check_at(&res->checks, i);

		tdc_jw_open(w, NULL, '{');
		jw_str_or_note(w, "name", c->name);
		tdc_jw_str(w, "status", tdc_check_status_name(c->status));
		if (c->status == TDC_CHECK_SKIP)
			jw_str_or_note(w, "waived_by", c->waived_by);
		jw_str_or_note(w, "detail", c->detail);
		tdc_jw_close(w, '}');
	}
	tdc_jw_close(w, ']');
}

static void jw_hex32(struct tdc_jw *w, const char *key, uint32_t v)
{
	char s[12];

	snprintf(s, sizeof(s), "0x%08x", v);
	tdc_jw_str(w, key, s);
}

/* Masks keyed by name, only the non-empty ones. */
static void jw_mask_map(struct tdc_jw *w, const char *key, const uint32_t *masks, unsigned n,
			const char *(*name)(unsigned))
{
	tdc_jw_open(w, key, '{');
	for (unsigned i = 0; i < n; i++)
		if (masks[i])
			jw_hex32(w, name(i), masks[i]);
	tdc_jw_close(w, '}');
}

static const char *verdict_name_u(unsigned v) { return tdc_verdict_name(v); }
static const char *class_name_u(unsigned c) { return tdc_bitclass_name(c); }

/* The bits worth naming: all but the confirmed ones the policy does not fail. */
static void jw_bits(struct tdc_jw *w, const struct tdc_reg_result *rr)
{
	char name[TDC_BITNAME_MAX];

	tdc_jw_open(w, "bits", '[');
	for (unsigned b = 0; b < 32; b++) {
		enum tdc_verdict v = tdc_bit_verdict(rr, b);

		if (v == TDC_V_CONFIRMED && !(rr->policy_fail >> b & 1))
			continue;
		tdc_format_bit(name, sizeof(name), rr->leaf, rr->subleaf, rr->indexed, rr->reg, b);
		if (!tdc_jw_utf8_ok(name))
			continue; /* json_pack would refuse the whole bit */
		tdc_jw_open(w, NULL, '{');
		tdc_jw_int(w, "bit", b);
		tdc_jw_str(w, "name", name);
		tdc_jw_str(w, "verdict", tdc_verdict_name(v));
		tdc_jw_str(w, "class", tdc_bit_class(rr, b));
		tdc_jw_int(w, "seen", rr->seen >> b & 1);
		tdc_jw_bool(w, "policy_fail", rr->policy_fail >> b & 1);
		if (rr->req_known >> b & 1)
			tdc_jw_int(w, "requested", rr->requested >> b & 1);
		if (rr->exp_known >> b & 1)
			tdc_jw_int(w, "expected", rr->expected >> b & 1);
		tdc_jw_close(w, '}');
	}
	tdc_jw_close(w, ']');
}

static void jw_register(struct tdc_jw *w, const struct tdc_reg_result *rr)
{
	tdc_jw_open(w, NULL, '{');
	jw_hex32(w, "leaf", rr->leaf);
	tdc_jw_int(w, "subleaf", rr->subleaf);
	tdc_jw_str(w, "reg", tdc_reg_name(rr->reg));
	if (rr->cpu < 0)
		tdc_jw_null(w, "cpu");
	else
		tdc_jw_int(w, "cpu", rr->cpu);
	tdc_jw_bool(w, "guest_has", rr->guest_has);
	tdc_jw_bool(w, "requested_has", rr->requested_has);
	jw_hex32(w, "seen", rr->seen);
	jw_hex32(w, "requested", rr->requested);
	jw_hex32(w, "requested_known", rr->req_known);
	jw_hex32(w, "expected", rr->expected);
	jw_hex32(w, "expected_known", rr->exp_known);
	jw_mask_map(w, "class", rr->cls, TDC_C__COUNT, class_name_u);
	jw_mask_map(w, "verdict", rr->verdict, TDC_V__COUNT, verdict_name_u);
	jw_hex32(w, "policy_fail", rr->policy_fail);
	if (rr->source)
		tdc_jw_str(w, "source", rr->source);
	jw_bits(w, rr);
	tdc_jw_close(w, '}');
}

int tdc_check_format_json(const struct tdc_check_result *res, struct tdc_buf *out)
{
	struct tdc_jw w;
	size_t start = out->len;
	int r;

	tdc_jw_init(&w, out, false);
	tdc_jw_open(&w, NULL, '{');
	tdc_check_summary_write(&w, res);
	tdc_jw_open(&w, "registers", '[');
	for (size_t i = 0; i < res->nregs; i++)
		jw_register(&w, &res->regs[i]);
	tdc_jw_close(&w, ']');
	tdc_jw_close(&w, '}');
	if ((r = tdc_jw_end(&w)) != 0 || (r = tdc_buf_put_u8(out, '\n')) != 0) {
		out->len = start; /* nothing half written */
		return tdc_err(r, "JSON output");
	}
	return 0;
}
