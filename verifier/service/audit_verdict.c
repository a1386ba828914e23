// SPDX-License-Identifier: Apache-2.0
/*
 * The audit record's verdict names, shared by every store backend and the
 * log printer.  Apart from audit.c (the front that dispatches to the
 * backends), so a backend never calls back into its dispatcher.
 */
#include <string.h>

#include "audit.h"
#include "tdcpuid/error.h"

static const char *const verdict_names[] = {
	[TDC_AUDIT_PASS] = "pass",
	[TDC_AUDIT_FAIL] = "fail",
	[TDC_AUDIT_ERROR] = "error",
	[TDC_AUDIT_REJECT] = "reject",
};

const char *tdc_audit_verdict_name(enum tdc_audit_verdict v)
{
	return (unsigned)v < 4 ? verdict_names[v] : "unknown";
}

int tdc_audit_verdict_parse(const char *s, enum tdc_audit_verdict *out)
{
	for (unsigned i = 0; i < 4; i++) {
		if (!strcmp(s, verdict_names[i])) {
			*out = (enum tdc_audit_verdict)i;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_FORMAT, "audit: unknown verdict '%s'", s);
}
