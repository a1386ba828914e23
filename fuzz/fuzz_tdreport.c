// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness: TDREPORT_STRUCT parser and its SHA-384 links. */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdx_report r;
	char s[256];

	if (tdx_report_parse(data, size, &r) != 0)
		return 0;
	(void)tdx_report_check_hashes(&r);
	tdx_attributes_str(r.td.attributes, s, sizeof(s));
	tdx_xfam_str(r.td.xfam, s, sizeof(s));
	tdx_report_warnings_str(r.warnings, s, sizeof(s));
	return 0;
}
