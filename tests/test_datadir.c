// SPDX-License-Identifier: Apache-2.0
/*
 * The one data-directory lookup (lib/datadir.c): explicit directory >
 * TDCPUID_DATADIR > the configured default, absolute paths only, never the
 * working directory, and a missing file's error names where it looked.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"

static char tmp[PATH_MAX];

static int setup(void **state)
{
	char path[PATH_MAX + 32];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "/tmp/tdc-datadir.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(path, sizeof(path), "%s/trust", tmp);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/trust/root.pem", tmp);
	if (!(f = fopen(path, "w")))
		return -1;
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_precedence(void **state)
{
	char out[PATH_MAX];
	const char *from;

	unsetenv(TDC_DATADIR_ENV);
	tdc_data_dir_set(NULL);
	assert_int_equal(tdc_data_dir(out, sizeof(out), NULL, &from), 0);
	assert_string_equal(from, "configured default");
	assert_true(out[0] == '/');
	assert_non_null(strstr(out, "/tdcpuid"));

	setenv(TDC_DATADIR_ENV, "/env/dir", 1);
	assert_int_equal(tdc_data_dir(out, sizeof(out), NULL, &from), 0);
	assert_string_equal(out, "/env/dir");
	assert_non_null(strstr(from, TDC_DATADIR_ENV));

	assert_int_equal(tdc_data_dir_set("/opt/flag"), 0);
	assert_int_equal(tdc_data_dir(out, sizeof(out), NULL, &from), 0);
	assert_string_equal(out, "/opt/flag");
	assert_string_equal(from, "--datadir option");

	/* A directory passed by the caller beats the process-wide one. */
	assert_int_equal(tdc_data_dir(out, sizeof(out), "/call", NULL), 0);
	assert_string_equal(out, "/call");
	tdc_data_dir_set(NULL);
	unsetenv(TDC_DATADIR_ENV);
}

/* Relative directories would make the working directory a trust input. */
static void test_absolute_only(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(tdc_data_dir_set("policies"), TDC_ERR_USAGE);
	setenv(TDC_DATADIR_ENV, "policies", 1);
	assert_int_equal(tdc_data_dir(out, sizeof(out), NULL, NULL), TDC_ERR_USAGE);
	assert_non_null(strstr(tdc_errdetail(), "not an absolute path"));
	assert_int_equal(tdc_data_path(out, sizeof(out), "trust/root.pem", NULL), TDC_ERR_USAGE);
	/* An empty variable is unset, not the working directory. */
	setenv(TDC_DATADIR_ENV, "", 1);
	assert_int_equal(tdc_data_dir(out, sizeof(out), NULL, NULL), 0);
	assert_true(out[0] == '/');
	unsetenv(TDC_DATADIR_ENV);
}

static void test_path_found_and_missing(void **state)
{
	char out[PATH_MAX], want[PATH_MAX + 32];

	setenv(TDC_DATADIR_ENV, tmp, 1);
	assert_int_equal(tdc_data_path(out, sizeof(out), "trust/root.pem", NULL), 0);
	snprintf(want, sizeof(want), "%s/trust/root.pem", tmp);
	assert_string_equal(out, want);
	assert_int_equal(tdc_data_path(out, sizeof(out), "trust", NULL), 0);

	assert_int_equal(tdc_data_path(out, sizeof(out), "trust/other.pem", NULL),
			 TDC_ERR_NOT_FOUND);
	/* The message names the path, the directory and where it came from. */
	assert_non_null(strstr(tdc_errdetail(), "trust/other.pem"));
	assert_non_null(strstr(tdc_errdetail(), tmp));
	assert_non_null(strstr(tdc_errdetail(), TDC_DATADIR_ENV " environment variable"));
	unsetenv(TDC_DATADIR_ENV);
}

static void test_never_cwd(void **state)
{
	char out[PATH_MAX], cwd[PATH_MAX];

	/* The working directory holds trust/root.pem; an explicit empty-ish
	 * choice must still not find it there. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmp), 0);
	assert_int_equal(tdc_data_path(out, sizeof(out), "trust/root.pem", "/nonexistent"),
			 TDC_ERR_NOT_FOUND);
	assert_int_equal(chdir(cwd), 0);
}

static void test_no_escape(void **state)
{
	char out[PATH_MAX];

	setenv(TDC_DATADIR_ENV, tmp, 1);
	assert_int_not_equal(tdc_data_path(out, sizeof(out), "../etc/passwd", NULL), 0);
	assert_int_not_equal(tdc_data_path(out, sizeof(out), "trust/../../x", NULL), 0);
	assert_int_not_equal(tdc_data_path(out, sizeof(out), "/etc/passwd", NULL), 0);
	assert_int_not_equal(tdc_data_path(out, sizeof(out), "", NULL), 0);
	/* Names that merely start with dots are file names. */
	assert_int_equal(tdc_data_path(out, sizeof(out), "trust/root.pem", NULL), 0);
	assert_int_equal(tdc_data_path(out, 8, "trust/root.pem", NULL), TDC_ERR_RANGE);
	unsetenv(TDC_DATADIR_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_absolute_only),
		cmocka_unit_test(test_path_found_and_missing),
		cmocka_unit_test(test_never_cwd),
		cmocka_unit_test(test_no_escape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
