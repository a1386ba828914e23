/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verdicts: the result of checking evidence (or a conformance run) against
 * the requested configuration, a platform model and a policy.
 * Definitions: docs/verdict-json.md, docs/architecture.md.
 */
#ifndef TDCPUID_VERDICT_H
#define TDCPUID_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

/* Per-bit verdict: exactly one per (leaf, subleaf, register, bit). */
enum tdc_verdict {
	TDC_V_CONFIRMED = 0, /* requested value seen by the guest */
	TDC_V_FORCED,        /* requested 0, seen 1, model says fixed1 */
	TDC_V_UNSUPPORTED,   /* requested 1, seen 0, model says fixed0 */
	TDC_V_NATIVE,        /* owned by the CPU: checked against the platform if known */
	TDC_V_CALCULATED,    /* derived (XFAM, ATTRIBUTES, sizes): checked against attested values */
	TDC_V_DYNAMIC,       /* OSXSAVE, APIC IDs, ... : rule-checked */
	TDC_V_UNTRUSTED,     /* VMM-emulated via #VE: not attestable */
	TDC_V_MISMATCH,      /* nothing explains it: fail */
	TDC_V__COUNT,
};
const char *tdc_verdict_name(enum tdc_verdict v);
int tdc_verdict_parse(const char *s, enum tdc_verdict *v);

/* Per-bit class from the platform model (policies/models/, docs/models.md). */
enum tdc_bitclass {
	TDC_C_FIXED0 = 0,
	TDC_C_FIXED1,
	TDC_C_CONFIGURABLE,
	TDC_C_NATIVE,
	TDC_C_XFAM,
	TDC_C_ATTRIBUTES,
	TDC_C_CALCULATED,
	TDC_C_DYNAMIC,
	TDC_C_VE,          /* raises #VE: zeros from Linux, or VMM data (0x4000xxxx) */
	TDC_C_AS_SET,      /* kvm model: guest sees what KVM_SET_CPUID2 set */
	TDC_C__COUNT,
};
const char *tdc_bitclass_name(enum tdc_bitclass c);
int tdc_bitclass_parse(const char *s, enum tdc_bitclass *c);

#endif
