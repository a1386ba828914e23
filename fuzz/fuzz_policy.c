// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness: policy parser and its evaluation helpers. */
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t svn[16], mr[48], rtmr[4][48];
	struct tdc_policy *p = NULL;
	struct tdc_buf why;

	if (tdc_policy_parse(data, size, "fuzz", "/nonexistent", &p) != 0)
		return 0;
	tdc_buf_init(&why);
	(void)tdc_policy_check_td(p, 0x10000001, 0x2e7, svn, mr, rtmr, mr, &why);
	(void)tdc_policy_check_evidence(p, true, false, &why);
	(void)tdc_policy_check_tcb(p, "OutOfDate", &why);
	for (int v = 0; v < TDC_V__COUNT; v++)
		(void)tdc_policy_verdict_fails(p, (enum tdc_verdict)v, 0x40000001);
	tdc_buf_free(&why);
	tdc_policy_free(p);
	return 0;
}
