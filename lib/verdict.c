// SPDX-License-Identifier: Apache-2.0
/* Names of verdicts and model classes: the words used in every output. */
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/verdict.h"

static const char *const verdict_names[TDC_V__COUNT] = {
	[TDC_V_CONFIRMED] = "confirmed",
	[TDC_V_FORCED] = "forced",
	[TDC_V_UNSUPPORTED] = "unsupported",
	[TDC_V_NATIVE] = "native",
	[TDC_V_CALCULATED] = "calculated",
	[TDC_V_DYNAMIC] = "dynamic",
	[TDC_V_UNTRUSTED] = "untrusted",
	[TDC_V_MISMATCH] = "mismatch",
};

static const char *const class_names[TDC_C__COUNT] = {
	[TDC_C_FIXED0] = "fixed0",
	[TDC_C_FIXED1] = "fixed1",
	[TDC_C_CONFIGURABLE] = "configurable",
	[TDC_C_NATIVE] = "native",
	[TDC_C_XFAM] = "xfam",
	[TDC_C_ATTRIBUTES] = "attributes",
	[TDC_C_CALCULATED] = "calculated",
	[TDC_C_DYNAMIC] = "dynamic",
	[TDC_C_VE] = "ve",
	[TDC_C_AS_SET] = "as_set",
};

static int lookup(const char *const *names, int n, const char *s, const char *what)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return i;
	return tdc_err(TDC_ERR_FORMAT, "unknown %s '%s'", what, s);
}

const char *tdc_verdict_name(enum tdc_verdict v)
{
	return (unsigned)v < TDC_V__COUNT ? verdict_names[v] : "?";
}

int tdc_verdict_parse(const char *s, enum tdc_verdict *v)
{
	int i = lookup(verdict_names, TDC_V__COUNT, s, "verdict");

	if (i < 0)
		return i;
	*v = i;
	return 0;
}

const char *tdc_bitclass_name(enum tdc_bitclass c)
{
	return (unsigned)c < TDC_C__COUNT ? class_names[c] : "?";
}

int tdc_bitclass_parse(const char *s, enum tdc_bitclass *c)
{
	int i = lookup(class_names, TDC_C__COUNT, s, "model class");

	if (i < 0)
		return i;
	*c = i;
	return 0;
}
