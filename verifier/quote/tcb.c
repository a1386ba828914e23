// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "tcb.h"
#include "tdcpuid/error.h"

/* ---- TCB status names (Intel PCS TCB Info "tcbStatus") ------------------ */

static const char *const tcb_names[TDC_TCB__COUNT] = {
	[TDC_TCB_UP_TO_DATE] = "UpToDate",
	[TDC_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[TDC_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
	[TDC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[TDC_TCB_OUT_OF_DATE] = "OutOfDate",
	[TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
	[TDC_TCB_REVOKED] = "Revoked",
};

const char *tdc_tcb_status_name(enum tdc_tcb_status s)
{
	return (unsigned)s < TDC_TCB__COUNT ? tcb_names[s] : "?";
}

int tdc_tcb_status_parse(const char *s, enum tdc_tcb_status *out)
{
	for (int i = 0; i < TDC_TCB__COUNT; i++)
		if (!strcmp(s, tcb_names[i])) {
			*out = (enum tdc_tcb_status)i;
			return 0;
		}
	return tdc_err(TDC_ERR_RANGE, "unknown TCB status '%s'", s);
}
