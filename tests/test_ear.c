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
#include "ear.h"
#include "jsonw.h"
#include "verdict_oracle.h"
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

/* ---- the direct writer against the jansson reference (verdict_oracle.c) -- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	return tdc_test_rnd(&rng, n);
}

static void test_writer_matches_jansson(void **state)
{
	size_t same = 0, refused = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct tdc_check_result res;
		struct tdc_oracle_store store;

		tdc_oracle_random_result(&rng, &res, &store);
		for (int compact = 0; compact < 2; compact++) {
			struct tdc_buf a, b;
			int ra, rb;

			tdc_buf_init(&a);
			tdc_buf_init(&b);
			ra = tdc_ear_claims_write(&res, compact, &a);
			rb = tdc_oracle_ear_claims(&res, compact, &b);
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
			if (tdc_oracle_ear_claims(&res, false, &ref) == 0) {
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
