// SPDX-License-Identifier: Apache-2.0
/* Backend selection for the TEE ops (agent/tee.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tee.h"
#include "tdcpuid/error.h"

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *tdc_tee_dev_path(void)
{
	return env_or(TDC_ENV_TDX_GUEST_DEV, TDC_TDX_GUEST_DEV_DEFAULT);
}

const char *tdc_tee_tsm_dir(void)
{
	return env_or(TDC_ENV_TSM_DIR, TDC_TSM_DIR_DEFAULT);
}

const char *tdc_tee_sim_dir(void)
{
	return env_or(TDC_ENV_SIM_DIR, TDC_SIM_DIR_DEFAULT);
}

const char *tdc_tee_rtmr_dir(void)
{
	return env_or(TDC_ENV_RTMR_DIR, TDC_RTMR_DIR_DEFAULT);
}

const char *tdc_tee_ccel_path(void)
{
	return env_or(TDC_ENV_CCEL, TDC_CCEL_DEFAULT);
}

static const struct tdc_tee_ops *const backends[] = {
	&tdc_tee_tdx_ops,
	&tdc_tee_sim_ops,
};

int tdc_tee_select(const char *name, const struct tdc_tee_ops **ops)
{
	const char *dev = tdc_tee_dev_path();

	if (!strcmp(name, "auto")) {
		/* Only the device decides: a TD without it must not become "sim". */
		if (access(dev, F_OK) != 0)
			return tdc_err(TDC_ERR_UNSUPPORTED,
				       "--tee auto: %s: %s, so this is not a TDX guest "
				       "(or the tdx_guest driver is not loaded); pass "
				       "`--tee sim` for labelled simulated evidence",
				       dev, strerror(errno));
		*ops = &tdc_tee_tdx_ops;
		return 0;
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (!strcmp(name, backends[i]->name)) {
			*ops = backends[i];
			return 0;
		}
	}
	return tdc_err(TDC_ERR_USAGE, "--tee %s: expected auto, tdx or sim", name);
}

int tdc_tee_open(struct tdc_tee_ctx *ctx, const struct tdc_tee_ops *ops,
		 const char *sim_dir)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->ops = ops;
	ctx->dev_path = tdc_tee_dev_path();
	ctx->tsm_dir = tdc_tee_tsm_dir();
	ctx->sim_dir = sim_dir ? sim_dir : tdc_tee_sim_dir();
	ctx->rtmr_dir = tdc_tee_rtmr_dir();
	ctx->ccel_path = tdc_tee_ccel_path();
	/* The simulated TD keeps its runtime log with its state, in the sim dir. */
	if (getenv(TDC_ENV_EVENTLOG) && *getenv(TDC_ENV_EVENTLOG))
		snprintf(ctx->eventlog_path, sizeof(ctx->eventlog_path), "%s",
			 getenv(TDC_ENV_EVENTLOG));
	else if (ops->kind == TDC_TEE_SIM)
		snprintf(ctx->eventlog_path, sizeof(ctx->eventlog_path), "%s/%s", ctx->sim_dir,
			 TDC_SIM_EVENTLOG);
	else
		snprintf(ctx->eventlog_path, sizeof(ctx->eventlog_path), "%s",
			 TDC_EVENTLOG_DEFAULT);
	tdc_sim_params_init(&ctx->sim);
	tdc_sim_keys_init(&ctx->keys);
	return ops->open ? ops->open(ctx) : 0;
}

void tdc_tee_close(struct tdc_tee_ctx *ctx)
{
	if (ctx->ops && ctx->ops->close)
		ctx->ops->close(ctx);
	ctx->ops = NULL;
}
