// SPDX-License-Identifier: Apache-2.0
/*
 * The EAR mapping (verifier/engine/ear.c, docs/ear.md) as a table: one
 * verdict per row, built by hand, and the AR4SI vector, ear.status and the
 * reason each claim must carry.  The invariants are checked on every row:
 * a failing verdict is contraindicated, a passing one never is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testutil.h"
#include "engine.h"
#include "jsonw.h"
#include "output.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

struct row {
	const char *name;
	bool passed;
	enum tdc_tee tee;
	bool report, quote, tcb;         /* have_report, have_quote, tcb_evaluated */
	enum tdc_tcb_status status;
	bool pinned;
	uint64_t attributes;
	size_t mismatches;
	const char *fail_check;          /* one FAIL record, or NULL */
	const char *skip_check;          /* one SKIP record (waived), or NULL */
	int hw, cfg, id;
	const char *status_want;
	const char *why;                 /* substring of some reason */
};

static const struct row rows[] = {
	{ "genuine, current, pinned", true, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE,
	  true, 0, 0, NULL, NULL, 2, 2, 2, "affirming", "TCB UpToDate" },
	{ "identity not pinned: no claim", true, TDC_TEE_TDX, true, true, true,
	  TDC_TCB_UP_TO_DATE, false, 0, 0, NULL, NULL, 2, 2, 0, "affirming", "so no claim" },
	{ "OutOfDate accepted: warning", true, TDC_TEE_TDX, true, true, true, TDC_TCB_OUT_OF_DATE,
	  true, 0, 0, NULL, NULL, 32, 2, 2, "warning", "TCB status OutOfDate" },
	{ "ConfigurationNeeded accepted: warning", true, TDC_TEE_TDX, true, true, true,
	  TDC_TCB_CONFIGURATION_NEEDED, true, 0, 0, NULL, NULL, 32, 2, 2, "warning",
	  "ConfigurationNeeded" },
	{ "no collateral (require_tcb off)", true, TDC_TEE_TDX, true, true, false,
	  TDC_TCB_UP_TO_DATE, true, 0, 0, NULL, "quote.tcb_status", 32, 2, 2, "warning",
	  "not evaluated" },
	{ "TDREPORT only accepted", true, TDC_TEE_TDX, true, false, false, TDC_TCB_UP_TO_DATE,
	  true, 0, 0, NULL, NULL, 32, 2, 2, "warning", "not authenticated off-platform" },
	{ "audit policy: sim and mismatches pass, never contraindicated", true, TDC_TEE_SIM,
	  true, true, false, TDC_TCB_UP_TO_DATE, false, 0, 3, NULL, NULL, 32, 32, 0, "warning",
	  "accepted by policy audit" },
	{ "DEBUG TD accepted", true, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE, true,
	  TDX_ATTR_DEBUG, 0, NULL, NULL, 2, 32, 2, "warning", "DEBUG" },
	{ "no nonce (require_nonce off)", true, TDC_TEE_TDX, true, true, true,
	  TDC_TCB_UP_TO_DATE, true, 0, 0, NULL, "nonce", 2, 2, 32, "warning",
	  "freshness not proven" },
	{ "sim refused", false, TDC_TEE_SIM, true, true, false, TDC_TCB_UP_TO_DATE, false, 0, 0,
	  "evidence_kind", NULL, 97, 0, 0, "contraindicated", "failed: evidence_kind" },
	{ "REPORTDATA does not bind", false, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE,
	  true, 0, 0, "tdreport_binding", NULL, 0, 0, 99, "contraindicated",
	  "failed: tdreport_binding" },
	{ "RTMR3 replay mismatch", false, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE,
	  true, 0, 0, "rtmr3_replay", NULL, 0, 0, 99, "contraindicated", "rtmr3_replay" },
	{ "replayed nonce", false, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE, true, 0, 0,
	  "nonce", NULL, 0, 0, 96, "contraindicated", "failed: nonce" },
	{ "quote signature", false, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE, true, 0, 0,
	  "quote.signature", NULL, 99, 0, 0, "contraindicated", "quote.signature" },
	{ "TCB not accepted", false, TDC_TEE_TDX, true, true, true, TDC_TCB_REVOKED, true, 0, 0,
	  "quote.tcb.status", NULL, 96, 0, 0, "contraindicated", "quote.tcb.status" },
	{ "QE not Intel's", false, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE, true, 0, 0,
	  "quote.qe_identity.match", NULL, 97, 0, 0, "contraindicated", "qe_identity" },
	{ "CPUID policy failure", false, TDC_TEE_TDX, true, true, true, TDC_TCB_UP_TO_DATE, true,
	  0, 0, "required_bit", NULL, 0, 96, 0, "contraindicated", "required_bit" },
	{ "malformed evidence", false, TDC_TEE_TDX, false, false, false, TDC_TCB_UP_TO_DATE,
	  false, 0, 0, "claims_format", NULL, 1, 96, 1, "contraindicated", "the verdict failed" },
};

static json_t *ear_of(const struct row *w)
{
	struct tdc_check_result res;
	struct tdc_buf out;
	json_error_t je;
	json_t *j;

	tdc_check_result_init(&res);
	res.passed = w->passed;
	res.tee = w->tee;
	res.have_report = w->report;
	res.have_quote = w->quote;
	res.tcb_evaluated = w->tcb;
	res.tcb_status = w->status;
	res.identity_pinned = w->pinned;
	res.attributes = w->attributes;
	res.counts[TDC_V_MISMATCH] = w->mismatches;
	res.at = 1700000000;
	snprintf(res.policy_name, sizeof(res.policy_name), "%s", w->passed ? "audit" : "default");
	if (w->fail_check)
		assert_int_equal(tdc_check_add(&res.checks, w->fail_check, TDC_CHECK_FAIL, "x"), 0);
	if (w->skip_check)
		assert_int_equal(tdc_check_add_waived(&res.checks, w->skip_check, "require_x", "y"), 0);
	tdc_buf_init(&out);
	assert_int_equal(tdc_check_format_ear(&res, NULL, &out), 0);
	j = json_loadb((const char *)out.data, out.len, 0, &je);
	assert_non_null(j);
	tdc_buf_free(&out);
	tdc_check_result_free(&res);
	return j;
}

static void test_table(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		json_t *j = ear_of(w);
		json_t *sub = json_object_get(json_object_get(j, "submods"), "tdcpuid");
		json_t *tv = json_object_get(sub, "ear.trustworthiness-vector");
		json_t *why = json_object_get(sub, "tdcpuid.vector-reasons");
		int hw = (int)json_integer_value(json_object_get(tv, "hardware"));
		int cfg = (int)json_integer_value(json_object_get(tv, "configuration"));
		int id = (int)json_integer_value(json_object_get(tv, "instance-identity"));
		const char *st = json_string_value(json_object_get(sub, "ear.status"));
		char *reasons = json_dumps(why, JSON_COMPACT);

		if (hw != w->hw || cfg != w->cfg || id != w->id || strcmp(st, w->status_want) ||
		    !strstr(reasons, w->why)) {
			fprintf(stderr, "%s: got hw %d cfg %d id %d %s %s\n", w->name, hw, cfg, id, st,
				reasons);
			bad++;
		}
		/* The invariants, on every row. */
		assert_true(w->passed ? strcmp(st, "contraindicated") != 0 :
					strcmp(st, "contraindicated") == 0);
		assert_string_equal(json_string_value(json_object_get(j, "eat_profile")),
				    "tag:github.com,2023:veraison/ear");
		assert_int_equal(json_integer_value(json_object_get(j, "iat")), 1700000000);
		assert_non_null(json_object_get(json_object_get(j, "ear.verifier-id"), "build"));
		assert_non_null(json_object_get(json_object_get(sub, "tdcpuid.verdict"), "mismatches"));
		free(reasons);
		json_decref(j);
	}
	assert_int_equal(bad, 0);
}

/* ---- the direct writer against the jansson reference -------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
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

static void rnd_result(struct tdc_check_result *res, char store[][64])
{
	static const enum tdc_check_status st[] = { TDC_CHECK_PASS, TDC_CHECK_FAIL,
						    TDC_CHECK_SKIP, TDC_CHECK_INFO };
	static const char *const names[] = { "nonce", "quote.signature", "quote.tcb.status",
					     "tdreport_binding", "evidence_kind", "claims_format",
					     "required_bit", "quote.qe_identity.match", "vm_name" };
	char name[64], detail[400], key[64];

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
		uint32_t mm = rnd(2) ? 0 : rnd(3) ? 1u << rnd(32) : rnd(UINT32_MAX);

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
		rr->cls[rnd(TDC_C__COUNT)] = UINT32_MAX;
		rr->verdict[TDC_V_MISMATCH] = mm;
		rr->verdict[TDC_V_CONFIRMED] = ~mm;
		rr->policy_fail = rnd(3) ? 0 : mm & rnd(UINT32_MAX);
		rr->cpu = rnd(2) ? -1 : (int32_t)rnd(8);
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
			rnd_text(store[i], 64, true);
			c->from = store[i];
		}
		c->issued = res->at - (time_t)rnd(90 * 86400);
		c->next_update = res->at + (time_t)rnd(60 * 86400) - 86400;
		c->fetched_at = rnd(2) ? 0 : res->at - (time_t)rnd(3600);
		c->eval_number = rnd(2) ? 0 : rnd(100);
	}
}

static void test_writer_matches_jansson(void **state)
{
	size_t same = 0, refused = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct tdc_check_result res;
		char store[TDC_CHECK_COLL_DOCS][64];

		rnd_result(&res, store);
		for (int compact = 0; compact < 2; compact++) {
			struct tdc_buf a, b;
			int ra, rb;

			tdc_buf_init(&a);
			tdc_buf_init(&b);
			ra = tdc_ear_claims_write(&res, compact, &a);
			rb = tdc_ear_claims_jansson(&res, compact, &b);
			if (ra != rb || (!ra && (a.len != b.len || memcmp(a.data, b.data, a.len)))) {
				fprintf(stderr, "verdict %d (%s): writer %d, jansson %d\n--- writer\n%.*s\n"
					"--- jansson\n%.*s\n", i, compact ? "compact" : "indent", ra, rb,
					(int)a.len, (const char *)a.data, (int)b.len, (const char *)b.data);
				fail();
			}
			same += !ra;
			refused += ra != 0;
			tdc_buf_free(&a);
			tdc_buf_free(&b);
		}
		/* What `check --format ear` prints: the indented form and a newline. */
		{
			struct tdc_buf out, ref;

			tdc_buf_init(&out);
			tdc_buf_init(&ref);
			if (tdc_ear_claims_jansson(&res, false, &ref) == 0) {
				assert_int_equal(tdc_check_format_ear(&res, NULL, &out), 0);
				assert_int_equal(out.len, ref.len + 1);
				assert_memory_equal(out.data, ref.data, ref.len);
				assert_int_equal(out.data[ref.len], '\n');
			} else {
				assert_int_not_equal(tdc_check_format_ear(&res, NULL, &out), 0);
			}
			tdc_buf_free(&out);
			tdc_buf_free(&ref);
		}
		tdc_check_result_free(&res);
	}
	printf("  %zu documents byte-identical, %zu refused by both\n", same, refused);
	assert_true(same > 5000 && refused > 0);
}

/* json_string() accepts exactly the strings tdc_jw_utf8_ok() does, and both dump them alike. */
static void test_strings_property(void **state)
{
	char s[16];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t n = 1 + rnd(6);
		json_t *j;

		for (size_t k = 0; k < n; k++) {
			uint32_t c = rnd(4) ? 0x80 + rnd(0x80) : 1 + rnd(0x7f);

			s[k] = (char)c;
		}
		s[n] = '\0';
		j = json_string(s);
		assert_int_equal(tdc_jw_utf8_ok(s), j != NULL);
		if (j) {
			struct tdc_buf out;
			struct tdc_jw w;
			char *d = json_dumps(j, JSON_ENCODE_ANY);

			tdc_buf_init(&out);
			tdc_jw_init(&w, &out, false);
			assert_true(tdc_jw_str(&w, NULL, s));
			assert_int_equal(tdc_jw_end(&w), 0);
			assert_int_equal(out.len, strlen(d));
			assert_memory_equal(out.data, d, out.len);
			free(d);
			tdc_buf_free(&out);
		}
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_writer_matches_jansson),
		cmocka_unit_test(test_strings_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
