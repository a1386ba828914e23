// SPDX-License-Identifier: Apache-2.0
/*
 * TEE backends without TDX hardware: backend selection (auto never becomes
 * sim), the configfs-tsm exchange against fake entry directories (wrong
 * provider, bad or stuck generation = concurrent writer), the device path
 * failures, and the sim backend end to end.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tee.h"
#include "testutil.h"
#include "tdcpuid/error.h"

static char tmpdir[64];

static void put_file(const char *name, const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tdc-test-tee-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "provider", "generation", "inblob", "outblob",
					     "dev" };
	char path[256];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	return 0;
}

static void test_select(void **state)
{
	const struct tdc_tee_ops *ops = NULL;
	char dev[256];

	snprintf(dev, sizeof(dev), "%s/no-such-device", tmpdir);
	setenv(TDC_ENV_TDX_GUEST_DEV, dev, 1);
	assert_int_equal(tdc_tee_select("auto", &ops), TDC_ERR_UNSUPPORTED);
	assert_null(ops);
	assert_non_null(strstr(tdc_errdetail(), "--tee sim"));
	assert_int_equal(tdc_tee_select("sim", &ops), 0);
	assert_ptr_equal(ops, &tdc_tee_sim_ops);
	assert_int_equal(tdc_tee_select("tdx", &ops), 0);
	assert_ptr_equal(ops, &tdc_tee_tdx_ops);
	assert_int_equal(tdc_tee_select("sev", &ops), TDC_ERR_USAGE);
	/* auto picks tdx as soon as the device exists. */
	put_file("dev", "");
	snprintf(dev, sizeof(dev), "%s/dev", tmpdir);
	setenv(TDC_ENV_TDX_GUEST_DEV, dev, 1);
	ops = NULL;
	assert_int_equal(tdc_tee_select("auto", &ops), 0);
	assert_ptr_equal(ops, &tdc_tee_tdx_ops);
	unsetenv(TDC_ENV_TDX_GUEST_DEV);
}

static void test_tdx_device_errors(void **state)
{
	struct tdc_tee_ctx ctx;
	uint8_t rd[64] = { 0 }, rep[1024];
	char dev[256];

	snprintf(dev, sizeof(dev), "%s/missing", tmpdir);
	setenv(TDC_ENV_TDX_GUEST_DEV, dev, 1);
	assert_int_equal(tdc_tee_open(&ctx, &tdc_tee_tdx_ops, NULL), TDC_ERR_UNSUPPORTED);
	assert_non_null(strstr(tdc_errdetail(), "No such file"));
	/* A regular file opens, but the ioctl fails: ENOTTY, named. */
	put_file("dev", "");
	snprintf(dev, sizeof(dev), "%s/dev", tmpdir);
	setenv(TDC_ENV_TDX_GUEST_DEV, dev, 1);
	assert_int_equal(tdc_tee_open(&ctx, &tdc_tee_tdx_ops, NULL), 0);
	assert_int_equal(ctx.ops->get_report(&ctx, rd, rep), TDC_ERR_TEE);
	assert_non_null(strstr(tdc_errdetail(), "TDX_CMD_GET_REPORT0"));
	assert_non_null(strstr(tdc_errdetail(), "Inappropriate ioctl"));
	tdc_tee_close(&ctx);
	unsetenv(TDC_ENV_TDX_GUEST_DEV);
}

static void test_tsm_missing_dir(void **state)
{
	struct tdc_tee_ctx ctx;
	struct tdc_buf q;
	uint8_t rd[64] = { 0 };
	char dir[256];

	tdc_buf_init(&q);
	put_file("dev", "");
	snprintf(dir, sizeof(dir), "%s/dev", tmpdir);
	setenv(TDC_ENV_TDX_GUEST_DEV, dir, 1);
	snprintf(dir, sizeof(dir), "%s/no-tsm", tmpdir);
	setenv(TDC_ENV_TSM_DIR, dir, 1);
	assert_int_equal(tdc_tee_open(&ctx, &tdc_tee_tdx_ops, NULL), 0);
	assert_int_equal(ctx.ops->quote_available(&ctx), TDC_ERR_UNSUPPORTED);
	assert_int_equal(ctx.ops->get_quote(&ctx, rd, &q), TDC_ERR_UNSUPPORTED);
	assert_non_null(strstr(tdc_errdetail(), "no-tsm"));
	tdc_tee_close(&ctx);
	unsetenv(TDC_ENV_TSM_DIR);
	unsetenv(TDC_ENV_TDX_GUEST_DEV);
	tdc_buf_free(&q);
}

static void test_tsm_exchange(void **state)
{
	uint8_t rd[64];
	struct tdc_buf q;
	struct tdc_buf in;
	char path[256];

	tdc_buf_init(&q);
	memset(rd, 0xab, sizeof(rd));
	/* No attributes at all: not a configfs-tsm entry. */
	assert_int_equal(tdc_tee_tsm_exchange(tmpdir, rd, &q), TDC_ERR_TEE);
	assert_non_null(strstr(tdc_errdetail(), "provider"));

	put_file("provider", "sev_guest\n");
	assert_int_equal(tdc_tee_tsm_exchange(tmpdir, rd, &q), TDC_ERR_TEE);
	assert_non_null(strstr(tdc_errdetail(), "'sev_guest', expected 'tdx_guest'"));

	put_file("provider", "tdx_guest\n");
	put_file("generation", "seven\n");
	assert_int_equal(tdc_tee_tsm_exchange(tmpdir, rd, &q), TDC_ERR_TEE);
	assert_non_null(strstr(tdc_errdetail(), "not a number"));

	/* A plain file does not bump generation on our write: as a real entry
	 * would look if another writer had raced us, it must be refused. */
	put_file("generation", "7\n");
	put_file("inblob", "");
	put_file("outblob", "QUOTE");
	assert_int_equal(tdc_tee_tsm_exchange(tmpdir, rd, &q), TDC_ERR_TEE);
	assert_non_null(strstr(tdc_errdetail(), "concurrent writer"));
	/* ... but our 64 bytes of REPORTDATA were written to inblob. */
	snprintf(path, sizeof(path), "%s/inblob", tmpdir);
	tdc_buf_init(&in);
	assert_int_equal(tdc_read_file(path, 1024, &in), 0);
	assert_int_equal(in.len, 64);
	assert_memory_equal(in.data, rd, 64);
	tdc_buf_free(&in);
	tdc_buf_free(&q);
}

static void test_sim_backend(void **state)
{
	struct tdc_sim_keys k;
	struct tdc_tee_ctx ctx;
	uint8_t rd[64], rep[1024];
	struct tdc_buf q;
	struct tdx_quote quote;
	char dir[256];
	static const char *const files[] = {
		TDC_SIM_ROOT_KEY, TDC_SIM_ROOT_CERT, TDC_SIM_CA_KEY, TDC_SIM_CA_CERT,
		TDC_SIM_PCK_KEY, TDC_SIM_PCK_CERT, TDC_SIM_ATT_KEY, TDC_SIM_HMAC_KEY,
	};

	snprintf(dir, sizeof(dir), "%s/sim", tmpdir);
	assert_int_equal(tdc_tee_open(&ctx, &tdc_tee_sim_ops, dir), TDC_ERR_NOT_FOUND);
	assert_int_equal(tdc_sim_keys_generate(&k), 0);
	assert_int_equal(tdc_sim_keys_save(&k, dir), 0);
	assert_int_equal(tdc_tee_open(&ctx, &tdc_tee_sim_ops, dir), 0);
	assert_int_equal(ctx.ops->kind, TDC_TEE_SIM);
	memset(rd, 0x5c, sizeof(rd));
	assert_int_equal(ctx.ops->get_report(&ctx, rd, rep), 0);
	assert_int_equal(tdc_sim_report_verify(rep, sizeof(rep), k.hmac_key), 0);
	tdc_buf_init(&q);
	assert_int_equal(ctx.ops->quote_available(&ctx), 0);
	assert_int_equal(ctx.ops->get_quote(&ctx, rd, &q), 0);
	assert_int_equal(tdx_quote_parse(q.data, q.len, false, &quote), 0);
	assert_memory_equal(quote.body.report_data, rd, 64);
	tdc_buf_free(&q);
	tdc_tee_close(&ctx);
	tdc_sim_keys_free(&k);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[300];

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_tdx_device_errors),
		cmocka_unit_test(test_tsm_missing_dir),
		cmocka_unit_test(test_tsm_exchange),
		cmocka_unit_test(test_sim_backend),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
