/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCB status of a quote: the tcbStatus values of Intel PCS TCB Info v3 and
 * QE Identity v2 (Intel "Intel TDX DCAP Quoting Library API", TCB Info /
 * Enclave Identity data structures).  The quote layer computes it; the
 * engine's policy lists which statuses it accepts.
 */
#ifndef TDC_TCB_H
#define TDC_TCB_H

/* Intel PCS TCB Info tcbStatus values, in order of decreasing trust. */
enum tdc_tcb_status {
	TDC_TCB_UP_TO_DATE = 0,
	TDC_TCB_SW_HARDENING_NEEDED,
	TDC_TCB_CONFIGURATION_NEEDED,
	TDC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	TDC_TCB_OUT_OF_DATE,
	TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	TDC_TCB_REVOKED,
	TDC_TCB__COUNT,
};
const char *tdc_tcb_status_name(enum tdc_tcb_status s);
int tdc_tcb_status_parse(const char *s, enum tdc_tcb_status *out);

#endif
