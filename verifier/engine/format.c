// SPDX-License-Identifier: Apache-2.0
/*
 * The one dispatcher over the verdict formats.  It sits above output.c (text,
 * JSON) and ear.c (EAR, built on output.c's summary), so neither of them
 * needs the other's entry points: the calls go one way only.
 */
#include <string.h>

#include "engine.h"
#include "tdcpuid/error.h"

static int text(const struct tdc_check_result *res, const char *key, struct tdc_buf *out)
{
	(void)key;
	return tdc_check_format_text(res, false, out);
}

static int json(const struct tdc_check_result *res, const char *key, struct tdc_buf *out)
{
	(void)key;
	return tdc_check_format_json(res, out);
}

/* Indexed by enum tdc_out_format. */
static const struct {
	const char *name;
	int (*format)(const struct tdc_check_result *res, const char *sign_key_pem,
		      struct tdc_buf *out);
} formats[] = {
	[TDC_OUT_TEXT] = { "text", text },
	[TDC_OUT_JSON] = { "json", json },
	[TDC_OUT_EAR] = { "ear", tdc_check_format_ear },
};

int tdc_out_format_parse(const char *s, enum tdc_out_format *f)
{
	for (unsigned i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(s, formats[i].name)) {
			*f = (enum tdc_out_format)i;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_USAGE, "unknown output format '%s' (text, json or ear)", s);
}

int tdc_check_format(const struct tdc_check_result *res, enum tdc_out_format f,
		     const char *sign_key_pem, struct tdc_buf *out)
{
	if ((unsigned)f >= sizeof(formats) / sizeof(formats[0]))
		return tdc_err(TDC_ERR_USAGE, "unknown output format");
	return formats[f].format(res, sign_key_pem, out);
}
