// SPDX-License-Identifier: Apache-2.0
/* The one time parser (lib/cli.c): each accepted form only where asked for. */
#include "testutil.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

static void test_forms(void **state)
{
	static const struct {
		const char *in;
		unsigned accept;
		long long want; /* -1: refused */
	} cases[] = {
		{ "2023-07-01T01:00:00Z", 0, 1688173200 },
		{ "2023-07-01T01:00:00Z", TDC_TIME_CLI, 1688173200 },
		{ "2023-07-01", 0, -1 },                   /* collateral: full form only */
		{ "2023-07-01", TDC_TIME_DATE, 1688169600 },
		{ "@1688173200", 0, -1 },
		{ "@1688173200", TDC_TIME_CLI, 1688173200 },
		{ "@", TDC_TIME_CLI, -1 },
		{ "2023-07-01T01:00:00", 0, -1 },          /* no Z */
		{ "2023-07-01T01:00:00", TDC_TIME_DATE | TDC_TIME_NO_Z, 1688173200 },
		{ "2023-07-01T01:00:00Zx", TDC_TIME_CLI, -1 },
		{ "2023-07-01T1:00:00Z", TDC_TIME_CLI, -1 },  /* every digit there */
		{ "2023-7-01", TDC_TIME_CLI, -1 },
		{ "2023-13-01T00:00:00Z", 0, -1 },
		{ "2023-07-01T24:00:00Z", 0, -1 },
		{ "2023-07-01T01:00", TDC_TIME_CLI, -1 },
		{ "", TDC_TIME_CLI, -1 },
	};
	time_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = tdc_time_parse(cases[i].in, cases[i].accept, &t);

		if (cases[i].want < 0) {
			assert_int_equal(r, TDC_ERR_FORMAT);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal((long long)t, cases[i].want);
		}
	}
	assert_int_equal(tdc_time_parse(NULL, TDC_TIME_CLI, &t), TDC_ERR_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
