/* SPDX-License-Identifier: MIT */
/*
 * Requested vs guest-observed CPUID under the `kvm` platform model: the
 * guest must see exactly what KVM_SET_CPUID2 (or QEMU) set, apart from the
 * model's dynamic fields.  Every requested bit of every vCPU gets one
 * verdict: confirmed, dynamic or mismatch (verdict.h).
 *
 * This is the narrow interface the conformance tool needs from the verifier
 * engine (verifier/verify.c); the tool calls only these functions, so the
 * engine can replace the body of compare.c without touching the backends.
 */
#ifndef TDC_CONFORM_COMPARE_H
#define TDC_CONFORM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/verdict.h"

/* One register of one entry of one vCPU, with per-bit verdict masks. */
struct tdc_conform_reg {
	uint32_t cpu;
	uint32_t leaf;
	uint32_t subleaf;
	bool indexed;
	bool requested_present;  /* the entry is in the requested table */
	uint8_t reg;             /* enum tdc_reg */
	uint32_t requested;      /* requested value (0 where the entry is absent) */
	uint32_t known;          /* bits the requested configuration specifies */
	uint32_t seen;           /* guest-observed value */
	uint32_t mask[TDC_V__COUNT]; /* bits with that verdict; each bit in at most one */
};

struct tdc_conform_report {
	struct tdc_conform_reg *regs;
	size_t n, cap;
	size_t bits[TDC_V__COUNT]; /* bit counts per verdict, all vCPUs */
	size_t unspecified;        /* observed bits the configuration says nothing about */
	size_t ncpus;
	char model[32];
	bool pass;
};

void tdc_conform_report_init(struct tdc_conform_report *rep);
void tdc_conform_report_free(struct tdc_conform_report *rep);

/*
 * Judge @observed[0..ncpus) against @req (per_cpu tables if it has them,
 * else the common table) under platform model @model ("kvm").
 */
int tdc_conform_compare(const struct tdc_requested *req,
			const struct tdc_cpuid_table *observed, size_t ncpus,
			const char *model, struct tdc_conform_report *rep);

/* Dynamic bits of (leaf, subleaf, reg) under the kvm model (0 if none). */
uint32_t tdc_conform_dynamic_mask(uint32_t leaf, uint32_t subleaf, enum tdc_reg reg);

enum tdc_conform_format { TDC_CONFORM_TEXT, TDC_CONFORM_JSON };
/*
 * text: one QEMU-style line per mismatching bit (vCPUs folded), then a
 * summary; json: every register of every vCPU with its verdict masks, plus
 * every mismatching bit by name (docs/conformance.md "JSON output").
 */
int tdc_conform_report_format(const struct tdc_conform_report *rep,
			      enum tdc_conform_format fmt, const char *header,
			      struct tdc_buf *out);

#endif
