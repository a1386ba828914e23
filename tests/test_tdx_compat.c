// SPDX-License-Identifier: Apache-2.0
/* The compat copy of the /dev/tdx_guest uapi, forced even where the system
 * header exists: its static asserts must hold, and the values are checked
 * again at run time against tdx-abi.md §1. */
#define TDC_FORCE_TDX_GUEST_COMPAT 1
#include "tdcpuid/tdx_guest_compat.h"
#include "tdcpuid/tdx.h"

#include <stddef.h>

#include "testutil.h"

static void test_compat_abi(void **state)
{
	assert_int_equal(sizeof(struct tdx_report_req), 1088);
	assert_int_equal(offsetof(struct tdx_report_req, reportdata), 0);
	assert_int_equal(offsetof(struct tdx_report_req, tdreport), 64);
	assert_int_equal(TDX_REPORT_LEN, 1024);
	assert_int_equal(TDX_REPORTDATA_LEN, 64);
#if defined(__x86_64__)
	assert_int_equal((unsigned long)TDX_CMD_GET_REPORT0, 0xC4405401ul);
#endif
	assert_int_equal(_IOC_NR(TDX_CMD_GET_REPORT0), 1);
	assert_int_equal(_IOC_TYPE(TDX_CMD_GET_REPORT0), 'T');
	assert_int_equal(_IOC_DIR(TDX_CMD_GET_REPORT0), _IOC_READ | _IOC_WRITE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compat_abi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
