// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "tcb.h"
#include "tdcpuid/error.h"

/* ---- TCB status names (Intel PCS TCB Info "tcbStatus", QVL statuses) ------ */

static const struct {
	const char *name;
	bool in_collateral, needs_config;
} statuses[TDC_TCB__COUNT] = {
	[TDC_TCB_UP_TO_DATE] = { "UpToDate", true, false },
	[TDC_TCB_SW_HARDENING_NEEDED] = { "SWHardeningNeeded", true, false },
	[TDC_TCB_CONFIGURATION_NEEDED] = { "ConfigurationNeeded", true, true },
	[TDC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] =
		{ "ConfigurationAndSWHardeningNeeded", true, true },
	[TDC_TCB_OUT_OF_DATE] = { "OutOfDate", true, false },
	[TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = { "OutOfDateConfigurationNeeded", true, true },
	[TDC_TCB_REVOKED] = { "Revoked", true, false },
	[TDC_TCB_TD_RELAUNCH_ADVISED] = { "TDRelaunchAdvised", false, false },
	[TDC_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] =
		{ "TDRelaunchAdvisedConfigurationNeeded", false, true },
};

const char *tdc_tcb_status_name(enum tdc_tcb_status s)
{
	return (unsigned)s < TDC_TCB__COUNT ? statuses[s].name : "?";
}

int tdc_tcb_status_parse(const char *s, enum tdc_tcb_status *out)
{
	for (int i = 0; i < TDC_TCB__COUNT; i++)
		if (!strcmp(s, statuses[i].name)) {
			*out = (enum tdc_tcb_status)i;
			return 0;
		}
	return tdc_err(TDC_ERR_RANGE, "unknown TCB status '%s'", s);
}

bool tdc_tcb_status_in_collateral(enum tdc_tcb_status s)
{
	return (unsigned)s < TDC_TCB__COUNT && statuses[s].in_collateral;
}

bool tdc_tcb_status_needs_config(enum tdc_tcb_status s)
{
	return (unsigned)s < TDC_TCB__COUNT && statuses[s].needs_config;
}
