/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay a recorded `cpuid -r` dump through the probe instead of the CPUID
 * instruction (`tdcpuid-agent evidence --tee sim --sim-cpuid FILE`): lets the
 * simulator stand in for a TD on another platform (e.g. the view `tdcpuid-
 * verifier predict --format raw` computes), for tests and demos.  Only ever
 * used with the labelled simulator: evidence built from it says tee "sim".
 */
#ifndef TDC_AGENT_REPLAY_H
#define TDC_AGENT_REPLAY_H

#include <stddef.h>

#include "tdcpuid/cpuid.h"

struct tdc_replay {
	struct tdc_cpuid_table *cpus; /* per CPU of the dump */
	size_t ncpus;
};

/* Load @path (untrusted; the `cpuid -r` importer's caps apply). */
int tdc_replay_load(const char *path, struct tdc_replay *rp);
void tdc_replay_free(struct tdc_replay *rp);
/*
 * tdc_cpuid_fn over a replay: the dump's CPU N answers on CPU N (CPUs the
 * dump lacks use its CPU 0); leaves the dump lacks read as zeros.
 */
int tdc_replay_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS]);

#endif
