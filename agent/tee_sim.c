// SPDX-License-Identifier: Apache-2.0
/*
 * The simulator backend: keys from the sim directory (sim-keygen), report
 * and quote built by lib/sim.c.  Everything it makes is labelled simulated
 * (include/tdcpuid/sim.h); claims from this backend say tee = "sim".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tee.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"

#define STATE_LEN (4 * TDC_RTMR_LEN)

/*
 * The simulated TD's registers: <sim dir>/rtmr.state, the boot values until
 * the first extension creates it.  Returns the open descriptor (-1 if the
 * file does not exist and !@write), locked shared or (@write) exclusive, and
 * the current values.
 */
static int state_open(struct tdc_tee_ctx *ctx, bool write, int *fd,
		      uint8_t rtmr[4][TDC_RTMR_LEN])
{
	char path[4096];
	ssize_t n;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", ctx->sim_dir, TDC_SIM_RTMR_STATE) >=
	    (int)sizeof(path))
		return tdc_err(TDC_ERR_RANGE, "sim: path too long: %s", ctx->sim_dir);
	*fd = write ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) :
		      open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && !write && errno == ENOENT)
		return tdc_sim_rtmr_initial(rtmr);
	if (*fd < 0)
		return tdc_err(TDC_ERR_IO, "sim: open %s: %s", path, strerror(errno));
	if (flock(*fd, write ? LOCK_EX : LOCK_SH) != 0) {
		r = tdc_err(TDC_ERR_IO, "sim: lock %s: %s", path, strerror(errno));
		goto fail;
	}
	n = pread(*fd, rtmr, STATE_LEN, 0);
	if (n == 0)
		return tdc_sim_rtmr_initial(rtmr);
	if (n == STATE_LEN)
		return 0;
	r = tdc_err(TDC_ERR_FORMAT, "sim: %s: %zd bytes, expected %d (4 RTMRs)", path, n,
		    STATE_LEN);
fail:
	close(*fd);
	*fd = -1;
	return r;
}

static int sim_rtmr_read(struct tdc_tee_ctx *ctx, unsigned idx, uint8_t mr[TDC_RTMR_LEN])
{
	uint8_t rtmr[4][TDC_RTMR_LEN];
	int fd, r;

	if (idx > 3)
		return tdc_err(TDC_ERR_RANGE, "sim: no RTMR%u", idx);
	if ((r = state_open(ctx, false, &fd, rtmr)) != 0)
		return r;
	if (fd >= 0)
		close(fd);
	memcpy(mr, rtmr[idx], TDC_RTMR_LEN);
	return 0;
}

/* TDG.MR.RTMR.EXTEND: RTMR = SHA-384(RTMR || digest). */
static int sim_rtmr_extend(struct tdc_tee_ctx *ctx, unsigned idx,
			   const uint8_t digest[TDC_RTMR_LEN])
{
	uint8_t rtmr[4][TDC_RTMR_LEN];
	int fd, r;

	if (idx > 3)
		return tdc_err(TDC_ERR_RANGE, "sim: no RTMR%u", idx);
	if ((r = state_open(ctx, true, &fd, rtmr)) != 0)
		return r;
	if ((r = tdc_rtmr_extend(rtmr[idx], digest)) == 0 &&
	    (pwrite(fd, rtmr, STATE_LEN, 0) != STATE_LEN || fsync(fd) != 0))
		r = tdc_err(TDC_ERR_IO, "sim: write %s/%s: %s", ctx->sim_dir, TDC_SIM_RTMR_STATE,
			    strerror(errno));
	close(fd);
	return r;
}

static int sim_platform_eventlog(struct tdc_tee_ctx *ctx, struct tdc_buf *out)
{
	return tdc_sim_ccel(out);
}

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
	int fd, r;

	/* Like TDG.MR.REPORT: the registers as they are now. */
	if ((r = state_open(ctx, false, &fd, ctx->sim.rtmr)) != 0)
		return r;
	if (fd >= 0)
		close(fd);
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
	.rtmr_read = sim_rtmr_read,
	.rtmr_extend = sim_rtmr_extend,
	.platform_eventlog = sim_platform_eventlog,
};
