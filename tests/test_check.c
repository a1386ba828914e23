// SPDX-License-Identifier: Apache-2.0
/*
 * The named-check list (lib/check.c): a record that cannot be stored
 * poisons the list, SKIP always names what waived it, and the JSON shape
 * every verdict uses.
 */
#include <stdlib.h>

#include <jansson.h>

#include "testutil.h"
#include "tdcpuid/check.h"
#include "tdcpuid/error.h"

static void test_add_and_find(void **state)
{
	struct tdc_check_list l;

	tdc_check_list_init(&l);
	assert_true(tdc_check_list_ok(&l));
	assert_int_equal(tdc_check_add(&l, "a", TDC_CHECK_PASS, "one %d", 1), 0);
	assert_int_equal(tdc_check_add(&l, "b", TDC_CHECK_INFO, "two"), 0);
	assert_true(tdc_check_list_ok(&l));
	assert_int_equal(tdc_check_add(&l, "c", TDC_CHECK_FAIL, "three"), 0);
	assert_false(tdc_check_list_ok(&l));
	assert_int_equal(tdc_check_failures(&l), 1);
	assert_int_equal(tdc_check_count(&l), 3);
	assert_string_equal(tdc_check_find(&l, "a")->detail, "one 1");
	assert_null(tdc_check_find(&l, "d"));
	tdc_check_list_reset(&l);
	assert_int_equal(tdc_check_count(&l), 0);
	assert_true(tdc_check_list_ok(&l));
	tdc_check_list_free(&l);
}

/* A SKIP that names no key did not run and nothing allowed that: FAIL. */
static void test_skip_needs_a_key(void **state)
{
	struct tdc_check_list l;

	tdc_check_list_init(&l);
	tdc_check_add(&l, "nonce", TDC_CHECK_SKIP, "no nonce");
	assert_int_equal(tdc_check_find(&l, "nonce")->status, TDC_CHECK_FAIL);
	tdc_check_add_waived(&l, "x", "", "empty key");
	assert_int_equal(tdc_check_find(&l, "x")->status, TDC_CHECK_FAIL);
	tdc_check_list_reset(&l);
	tdc_check_unverified(&l, "nonce", "require_nonce", true, "no nonce given");
	assert_int_equal(l.v[0].status, TDC_CHECK_SKIP);
	assert_string_equal(l.v[0].waived_by, "require_nonce");
	assert_true(tdc_check_list_ok(&l));
	tdc_check_unverified(&l, "tcb", "require_tcb", false, "no collateral");
	assert_int_equal(l.v[1].status, TDC_CHECK_FAIL);
	assert_string_equal(l.v[1].waived_by, "");
	assert_non_null(strstr(l.v[1].detail, "require_tcb requires it"));
	assert_false(tdc_check_list_ok(&l));
	tdc_check_list_free(&l);
}

/* An allocation failure never loses a FAIL silently. */
static void test_alloc_failure_poisons(void **state)
{
	struct tdc_check_list l;
	const struct tdc_check *p;

	tdc_check_list_init(&l);
	tdc_check_test_fail_alloc(0);
	assert_int_equal(tdc_check_add(&l, "bad", TDC_CHECK_FAIL, "lost"), TDC_ERR_ALLOC);
	assert_int_equal(tdc_check_add(&l, "good", TDC_CHECK_PASS, "lost too"), TDC_ERR_ALLOC);
	tdc_check_test_fail_alloc(-1);
	assert_int_equal(l.n, 0);
	assert_true(tdc_check_list_poisoned(&l));
	assert_false(tdc_check_list_ok(&l));
	assert_int_equal(tdc_check_count(&l), 1);
	p = tdc_check_at(&l, 0);
	assert_string_equal(p->name, "check_record");
	assert_int_equal(p->status, TDC_CHECK_FAIL);
	assert_non_null(strstr(p->detail, "\"bad\" (fail)"));
	assert_non_null(strstr(p->detail, "+1 more lost"));
	/* Later records are stored again, the poison stays. */
	assert_int_equal(tdc_check_add(&l, "after", TDC_CHECK_PASS, "kept"), 0);
	assert_false(tdc_check_list_ok(&l));
	assert_int_equal(tdc_check_count(&l), 2);
	assert_string_equal(tdc_check_at(&l, 1)->name, "check_record");
	tdc_check_list_free(&l);
}

/* The growth after the first block fails: records 0..31 stay, the rest poison. */
static void test_alloc_failure_on_growth(void **state)
{
	struct tdc_check_list l;

	tdc_check_list_init(&l);
	tdc_check_test_fail_alloc(1);
	for (int i = 0; i < 40; i++)
		tdc_check_add(&l, "c", TDC_CHECK_PASS, "%d", i);
	tdc_check_test_fail_alloc(-1);
	assert_int_equal(l.n, 32);
	assert_int_equal(l.lost, 8);
	assert_false(tdc_check_list_ok(&l));
	tdc_check_list_free(&l);
}

static void test_overflow_poisons(void **state)
{
	struct tdc_check_list l;

	tdc_check_list_init(&l);
	for (int i = 0; i < TDC_CHECK_LIST_MAX; i++)
		assert_int_equal(tdc_check_add(&l, "c", TDC_CHECK_PASS, "%d", i), 0);
	assert_true(tdc_check_list_ok(&l));
	assert_int_equal(tdc_check_add(&l, "one too many", TDC_CHECK_PASS, "x"), TDC_ERR_TOO_LARGE);
	assert_false(tdc_check_list_ok(&l));
	assert_non_null(strstr(tdc_check_at(&l, TDC_CHECK_LIST_MAX)->detail, "too many checks"));
	tdc_check_list_free(&l);
}

/* Appending keeps statuses, waivers and the poison; the prefix is added once. */
static void test_append(void **state)
{
	struct tdc_check_list a, b;

	tdc_check_list_init(&a);
	tdc_check_list_init(&b);
	tdc_check_add(&b, "signature", TDC_CHECK_PASS, "ok");
	tdc_check_add(&b, "quote.structure", TDC_CHECK_PASS, "ok");
	tdc_check_add_waived(&b, "tcb", "--signature-only", "not evaluated");
	assert_int_equal(tdc_check_append(&a, &b, "quote."), 0);
	assert_non_null(tdc_check_find(&a, "quote.signature"));
	assert_non_null(tdc_check_find(&a, "quote.structure"));
	assert_string_equal(tdc_check_find(&a, "quote.tcb")->waived_by, "--signature-only");
	assert_true(tdc_check_list_ok(&a));
	tdc_check_list_free(&b);
	tdc_check_test_fail_alloc(0);
	tdc_check_add(&b, "lost", TDC_CHECK_FAIL, "x");
	tdc_check_test_fail_alloc(-1);
	tdc_check_list_reset(&a);
	tdc_check_append(&a, &b, "quote.");
	assert_false(tdc_check_list_ok(&a));
	assert_non_null(tdc_check_find(&a, "quote.check_record"));
	tdc_check_list_free(&a);
	tdc_check_list_free(&b);
}

static void test_json(void **state)
{
	struct tdc_check_list l;
	json_t *a, *v;

	tdc_check_list_init(&l);
	tdc_check_add(&l, "n", TDC_CHECK_PASS, "d");
	tdc_check_add_waived(&l, "s", "require_nonce", "w");
	tdc_check_add(&l, "bad", TDC_CHECK_FAIL, "\xff\xfe not UTF-8");
	a = tdc_check_list_json(&l);
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "status")),
			    "pass");
	assert_null(json_object_get(json_array_get(a, 0), "waived_by"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "waived_by")),
			    "require_nonce");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "status")),
			    "skip");
	/* A detail that is not UTF-8 still leaves its record in the output. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "name")),
			    "bad");
	json_decref(a);
	v = tdc_verdict_json_new("quote", false);
	assert_string_equal(json_string_value(json_object_get(v, "format")), TDC_VERDICT_FORMAT);
	assert_int_equal(json_integer_value(json_object_get(v, "version")), TDC_VERDICT_VERSION);
	assert_string_equal(json_string_value(json_object_get(v, "kind")), "quote");
	assert_true(json_is_false(json_object_get(v, "passed")));
	json_decref(v);
	tdc_check_list_free(&l);
}

static uint64_t rng = 0x853c49e6748fea9bull;

static uint32_t rnd(uint32_t n)
{
	return tdc_test_rnd(&rng, n);
}

/* Around the limits: empty, short, exactly the buffer, longer. */
static void rnd_str(char *dst, size_t cap)
{
	static const size_t sizes[] = { 0, 1, TDC_CHECK_NAME_MAX - 2, TDC_CHECK_NAME_MAX - 1,
					TDC_CHECK_NAME_MAX, TDC_CHECK_DETAIL_MAX - 1,
					TDC_CHECK_DETAIL_MAX, TDC_CHECK_DETAIL_MAX + 7 };
	size_t n = rnd(2) ? sizes[rnd(sizeof(sizes) / sizeof(sizes[0]))] : rnd(500);

	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(1 + rnd(255));
	dst[n] = '\0';
}

/*
 * Names and details are copied without printf when the detail is a constant
 * or one "%s" (and record copies with a prefix): the bytes snprintf gives,
 * truncation included, over random strings at and around the limits.
 */
static void test_copy_as_snprintf(void **state)
{
	static char name[600], detail[600], prefix[80];
	char want_name[TDC_CHECK_NAME_MAX], want[TDC_CHECK_DETAIL_MAX];

	for (int round = 0; round < 20000; round++) {
		struct tdc_check_list l, m;
		const struct tdc_check *c;

		tdc_check_list_init(&l);
		tdc_check_list_init(&m);
		rnd_str(name, sizeof(name));
		rnd_str(detail, sizeof(detail));
		rnd_str(prefix, rnd(2) ? 8 : sizeof(prefix));
		if (strchr(detail, '%') && rnd(2))
			*strchr(detail, '%') = 'x';
		snprintf(want_name, sizeof(want_name), "%s", name);
		switch (rnd(3)) {
		case 0:
			tdc_check_add(&l, name, TDC_CHECK_PASS, "%s", detail);
			snprintf(want, sizeof(want), "%s", detail);
			break;
		case 1:
			if (strchr(detail, '%'))
				continue;  /* not a constant any more */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
			tdc_check_add(&l, name, TDC_CHECK_INFO, detail);
#pragma GCC diagnostic pop
			snprintf(want, sizeof(want), "%s", detail);
			break;
		default:
			tdc_check_add(&l, name, TDC_CHECK_FAIL, "%s|%d", detail, round);
			snprintf(want, sizeof(want), "%s|%d", detail, round);
			break;
		}
		c = tdc_check_at(&l, 0);
		assert_string_equal(c->name, want_name);
		assert_string_equal(c->detail, want);
		tdc_check_append(&m, &l, prefix);
		snprintf(want_name, sizeof(want_name), "%s%s",
			 strncmp(c->name, prefix, strlen(prefix)) ? prefix : "", c->name);
		assert_string_equal(tdc_check_at(&m, 0)->name, want_name);
		assert_string_equal(tdc_check_at(&m, 0)->detail, want);
		tdc_check_list_free(&l);
		tdc_check_list_free(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_find),
		cmocka_unit_test(test_skip_needs_a_key),
		cmocka_unit_test(test_alloc_failure_poisons),
		cmocka_unit_test(test_alloc_failure_on_growth),
		cmocka_unit_test(test_overflow_poisons),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_copy_as_snprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
