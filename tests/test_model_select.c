// SPDX-License-Identifier: Apache-2.0
/*
 * --model tdx: the model chosen from the attested TEE_TCB_INFO
 * (verifier/engine/model_select.c) with the shipped release index,
 * policies/models/tdx-releases.json.  Every release by its MRSEAM and by its
 * TEE_TCB_SVN; releases sharing an SVN; an unknown newer minor SVN (the
 * newest of its major, with a note); TEE_TCB_SVN2 after a run-time update;
 * and the index parser's refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "model.h"
#include "tdcpuid/error.h"

static struct tdc_model_set *set;

struct rel {
	const char *release, *model, *mrseam;
	uint8_t minor, major;
};

/* From policies/models/src/tdx-module-versions.json (the signed sigstructs). */
static const struct rel rels[] = {
	{ "1.5.01", "tdx-1.5.01", "9790d89a10210ec6968a773cee2ca05b5aa97309f36727a968527be4606fc19e6f73acce350946c9d46a9bf7a63f8430", 4, 1 },
	{ "1.5.05", "tdx-1.5.05", "1cc6a17ab799e9a693fac7536be61c12ee1e0fabada82d0c999e08ccee2aa86de77b0870f558c570e7ffe55d6d47fa04", 5, 1 },
	{ "1.5.06", "tdx-1.5.06", "5b38e33a6487958b72c3c12a938eaa5e3fd4510c51aeeab58c7d5ecee41d7c436489d6c8e4f92f160b7cad34207b00c1", 6, 1 },
	{ "1.5.08", "tdx-1.5.08", "49b66faa451d19ebbdbe89371b8daf2b65aa3984ec90110343e9e2eec116af08850fa20e3b1aa9a874d77a65380ee7e6", 7, 1 },
	{ "1.5.09", "tdx-1.5.09", "bfb360ac8e6233a1bca1433caf7382d95c165b4a77fb00bf1435e5a08f300cdfead5ee68461afd9b6c728dce7534602d", 8, 1 },
	{ "1.5.13", "tdx-1.5.09", "27b67e0b20508f0acfb8a99df4283a7c86ae569d85d556a91d4eb20e56b5d42d5e65b31a3a6996e8e461f104f32fdeec", 10, 1 },
	{ "1.5.16", "tdx-1.5.16", "7bf063280e94fb051f5dd7b1fc59ce9aac42bb961df8d44b709c9b0ff87a7b4df648657ba6d1189589feab1d5a3c9a9d", 11, 1 },
	{ "1.5.20", "tdx-1.5.16", "d0d80c085166ba78ccc69af268e5753cf0f3394523cb4ff7c50b08d9265c82489c099c377be6a400e4d2b57da924012c", 12, 1 },
	{ "1.5.24", "tdx-1.5.16", NULL, 13, 1 },
	{ "1.5.25", "tdx-1.5.16", "fca4ff221293807e3d247416299ca39a236872df4eb414567ca96072d3fde7dead740f807eefe2f7d938499c03cc8aba", 13, 1 },
	{ "2.0.02", "tdx-2.0.02", "685f891ea5c20e8fa27b151bf34bf3b50fbaf7143cc53662727cbdb167c0ad8385f1f6f3571539a91e104a1c96d75e04", 3, 3 },
	{ "2.0.04", "tdx-2.0.04", "64cae497e0c6221176fe8d3bc9d0cf25b4c97bb24cc16499f77102451f15bb24249f1aa3e5d3bf8897be74ad6c84e648", 4, 3 },
	{ "2.0.05", "tdx-2.0.04", "6f65e570e3bc418d2576f31aada40f7f7ce1ea810f964aa9bc70066a89ac1fc6e0d6b76d3f86a16405172b2c3e078528", 4, 3 },
	{ "2.0.08", "tdx-2.0.08", "476a2997c62bccc78370913d0a80b956e3721b24272bc66c4d6307ced4be2865c40e26afac75f12df3425b03eb59ea7c", 5, 3 },
};
#define NRELS (sizeof(rels) / sizeof(rels[0]))

static int setup(void **state)
{
	(void)state;
	setenv("TDCPUID_DATADIR", TDC_SOURCE_DIR "/policies", 1);
	return tdc_model_set_open(&set) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tdc_model_set_free(set);
	return 0;
}

static void hex48(const char *hex, uint8_t out[48])
{
	for (int i = 0; i < 48; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void select_ok(const uint8_t *mrseam, uint8_t minor, uint8_t major, const uint8_t *svn2,
		      struct tdc_model_choice *c)
{
	uint8_t svn[16] = { minor, major };

	if (tdc_model_select(set, mrseam, svn, svn2, c) != 0)
		fail_msg("select %02x%02x: %s", minor, major, tdc_errdetail());
	assert_non_null(c->model);
	assert_non_null(strstr(c->why, c->note ? "note:" : ""));
}

static void test_count(void **state)
{
	(void)state;
	assert_int_equal(tdc_model_set_count(set), NRELS);
}

/* The exact release by MRSEAM, whatever the SVN says. */
static void test_by_mrseam(void **state)
{
	struct tdc_model_choice c;
	uint8_t m[48];

	(void)state;
	for (size_t i = 0; i < NRELS; i++) {
		if (!rels[i].mrseam)
			continue;
		hex48(rels[i].mrseam, m);
		select_ok(m, 0x7f, 0x7f, NULL, &c);
		assert_string_equal(tdc_model_name(c.model), rels[i].model);
		assert_string_equal(c.release, rels[i].release);
		assert_non_null(strstr(c.why, "MRSEAM"));
		assert_non_null(strstr(c.why, rels[i].release));
	}
}

/* By TEE_TCB_SVN (no known MRSEAM): releases sharing an SVN share a model. */
static void test_by_svn(void **state)
{
	struct tdc_model_choice c;
	uint8_t unknown[48];

	(void)state;
	memset(unknown, 0x5a, sizeof(unknown));
	for (size_t i = 0; i < NRELS; i++) {
		select_ok(unknown, rels[i].minor, rels[i].major, NULL, &c);
		assert_string_equal(tdc_model_name(c.model), rels[i].model);
		assert_false(c.note);
		assert_non_null(strstr(c.why, "TEE_TCB_SVN"));
	}
	select_ok(NULL, 13, 1, NULL, &c);
	assert_non_null(strstr(c.why, "1.5.24/1.5.25"));
	select_ok(NULL, 4, 3, NULL, &c);
	assert_non_null(strstr(c.why, "2.0.04/2.0.05"));
	/* Models are loaded once and shared. */
	{
		const struct tdc_model *first = c.model;

		select_ok(NULL, 4, 3, NULL, &c);
		assert_ptr_equal(c.model, first);
	}
}

/* Unknown versions: never silent. */
static void test_unknown(void **state)
{
	struct tdc_model_choice c;

	(void)state;
	/* A minor SVN newer than every 1.5 release: the newest 1.5 model. */
	select_ok(NULL, 0x0e, 1, NULL, &c);
	assert_true(c.note);
	assert_string_equal(tdc_model_name(c.model), "tdx-1.5.16");
	assert_non_null(strstr(c.why, "newest of that major version"));
	/* Newer 2.0: the newest 2.0 model. */
	select_ok(NULL, 9, 3, NULL, &c);
	assert_string_equal(tdc_model_name(c.model), "tdx-2.0.08");
	assert_true(c.note);
	/* Between releases (1.5 minor 9): the nearest release below. */
	select_ok(NULL, 9, 1, NULL, &c);
	assert_string_equal(c.release, "1.5.09");
	assert_true(c.note);
	/* An unknown major: the newest model of all. */
	select_ok(NULL, 1, 9, NULL, &c);
	assert_string_equal(tdc_model_name(c.model), "tdx-2.0.08");
	assert_non_null(strstr(c.why, "unknown major SVN"));
	/* No identity at all. */
	assert_int_equal(tdc_model_select(set, NULL, NULL, NULL, &c), 0);
	assert_true(c.note);
	assert_string_equal(tdc_model_name(c.model), "tdx-2.0.08");
}

/* TEE_TCB_SVN2 after a run-time update names the running module. */
static void test_svn2(void **state)
{
	struct tdc_model_choice c;
	uint8_t svn2[16] = { 11, 1 };

	(void)state;
	select_ok(NULL, 8, 1, svn2, &c);
	assert_string_equal(c.release, "1.5.16");
	assert_true(c.note);
	assert_non_null(strstr(c.why, "TEE_TCB_SVN2"));
	assert_non_null(strstr(c.why, "updated at run time"));
	/* Equal (or zero) TEE_TCB_SVN2 changes nothing. */
	svn2[0] = 8;
	select_ok(NULL, 8, 1, svn2, &c);
	assert_string_equal(c.release, "1.5.09");
	assert_false(c.note);
}

static void test_index_errors(void **state)
{
	static const struct { const char *doc, *needle; int code; } bad[] = {
		{ "[]", "expected", TDC_ERR_TYPE },
		{ "{\"format\":\"x\",\"format_version\":1,\"releases\":[]}", "is not", TDC_ERR_FORMAT },
		{ "{\"format\":\"tdcpuid-tdx-releases\",\"format_version\":2,\"releases\":[]}",
		  "format_version", TDC_ERR_VERSION },
		{ "{\"format\":\"tdcpuid-tdx-releases\",\"format_version\":1,\"releases\":["
		  "{\"release\":\"1\",\"major\":1,\"minor_svn\":300,\"major_svn\":1,\"model\":\"tdx-1\"}]}",
		  "one byte", TDC_ERR_RANGE },
		{ "{\"format\":\"tdcpuid-tdx-releases\",\"format_version\":1,\"releases\":["
		  "{\"release\":\"1\",\"major\":1,\"minor_svn\":3,\"major_svn\":1,\"model\":\"../x\"}]}",
		  "not a tdx-<version>", TDC_ERR_FORMAT },
		{ "{\"format\":\"tdcpuid-tdx-releases\",\"format_version\":1,\"releases\":["
		  "{\"release\":\"1\",\"major\":1,\"minor_svn\":3,\"major_svn\":1,\"model\":\"tdx-1\","
		  "\"mrseam\":\"00\"}]}", "mrseam", TDC_ERR_FORMAT },
		{ "{\"format\":\"tdcpuid-tdx-releases\",\"format_version\":1,\"releases\":["
		  "{\"release\":\"1\",\"major\":1,\"minor_svn\":3,\"major_svn\":1,\"model\":\"tdx-1\"},"
		  "{\"release\":\"1\",\"major\":1,\"minor_svn\":4,\"major_svn\":1,\"model\":\"tdx-1\"}]}",
		  "listed twice", TDC_ERR_DUPLICATE },
		{ "{\"format\":\"tdcpuid-tdx-releases\",\"format_version\":1,\"extra\":1,\"releases\":[]}",
		  "extra", TDC_ERR_FORMAT },
	};
	struct tdc_model_set *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = tdc_model_set_parse((const uint8_t *)bad[i].doc, strlen(bad[i].doc), "idx", &s);

		if (r != bad[i].code || !strstr(tdc_errdetail(), bad[i].needle))
			fail_msg("case %zu: expected %s naming '%s', got %s: %s", i,
				 tdc_strerror(bad[i].code), bad[i].needle, tdc_strerror(r), tdc_errdetail());
		assert_null(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_by_mrseam),
		cmocka_unit_test(test_by_svn),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_svn2),
		cmocka_unit_test(test_index_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
