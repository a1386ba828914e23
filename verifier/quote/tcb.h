/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCB status of a quote: the tcbStatus values of Intel PCS TCB Info v3 and
 * QE Identity v2 (Intel "Intel TDX DCAP Quoting Library API", TCB Info /
 * Enclave Identity data structures), and the two statuses only a TDX 1.5
 * evaluation produces (Intel DCAP QVL, TDRelaunchCheck.cpp): TDRelaunchAdvised
 * and TDRelaunchAdvisedConfigurationNeeded, for a TD built on an out-of-date
 * TDX module that a TD-preserving update has since replaced by an
 * up-to-date one.  The quote layer computes the status; the engine's
 * policy lists which statuses it accepts (a bit per value).
 */
#ifndef TDC_TCB_H
#define TDC_TCB_H

#include <stdbool.h>

enum tdc_tcb_status {
	TDC_TCB_UP_TO_DATE = 0,
	TDC_TCB_SW_HARDENING_NEEDED,
	TDC_TCB_CONFIGURATION_NEEDED,
	TDC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	TDC_TCB_OUT_OF_DATE,
	TDC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	TDC_TCB_REVOKED,
	TDC_TCB_TD_RELAUNCH_ADVISED,
	TDC_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
	TDC_TCB__COUNT,
};
const char *tdc_tcb_status_name(enum tdc_tcb_status s);
int tdc_tcb_status_parse(const char *s, enum tdc_tcb_status *out);
/* A status Intel's documents may carry in a tcbLevels[] entry (the two
 * relaunch statuses are computed, never published). */
bool tdc_tcb_status_in_collateral(enum tdc_tcb_status s);
/* The platform needs a configuration change (…ConfigurationNeeded). */
bool tdc_tcb_status_needs_config(enum tdc_tcb_status s);

#endif
