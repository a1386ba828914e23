// SPDX-License-Identifier: Apache-2.0
/*
 * The simulator backend: keys from the sim directory (sim-keygen), report
 * and quote built by lib/sim.c.  Everything it makes is labelled simulated
 * (include/tdcpuid/sim.h); claims from this backend say tee = "sim".
 */
#include "tee.h"
#include "tdcpuid/error.h"

static int sim_open(struct tdc_tee_ctx *ctx)
{
	return tdc_sim_keys_load(&ctx->keys, ctx->sim_dir);
}

static void sim_close(struct tdc_tee_ctx *ctx)
{
	tdc_sim_keys_free(&ctx->keys);
}

static int sim_quote_available(struct tdc_tee_ctx *ctx)
{
	return 0;
}

static int sim_get_report(struct tdc_tee_ctx *ctx, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			  uint8_t report[TDX_REPORT_LEN])
{
	return tdc_sim_report(&ctx->keys, &ctx->sim, reportdata, report);
}

static int sim_get_quote(struct tdc_tee_ctx *ctx, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			 struct tdc_buf *quote)
{
	uint8_t report[TDX_REPORT_LEN];
	int ret;

	/* Like the real path: TDREPORT first, then the QE turns it into a quote. */
	if ((ret = sim_get_report(ctx, reportdata, report)) != 0)
		return ret;
	return tdc_sim_quote(&ctx->keys, report, quote);
}

const struct tdc_tee_ops tdc_tee_sim_ops = {
	.name = "sim",
	.kind = TDC_TEE_SIM,
	.open = sim_open,
	.close = sim_close,
	.quote_available = sim_quote_available,
	.get_report = sim_get_report,
	.get_quote = sim_get_quote,
};
