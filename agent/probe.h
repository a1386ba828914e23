/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPUID probe: execute CPUID on every CPU the agent may run on, in
 * parallel, and return the result as claims (include/tdcpuid/evidence.h).
 *
 * Every CPU Linux knows about (sysfs possible/present/online, the process's
 * affinity mask, or the --cpu list) ends up either probed or in the skipped
 * list with a reason; none is silently left out.
 */
#ifndef TDC_AGENT_PROBE_H
#define TDC_AGENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/evidence.h"

/* Largest CPU number the probe handles (the claims cap). */
#define TDC_PROBE_MAX_CPU (TDC_CLAIMS_MAX_CPUS - 1)
/* Threads alive at once; more CPUs are probed in batches of this size. */
#define TDC_PROBE_MAX_THREADS 256

struct tdc_probe_opts {
	/* CPU list ("0-3,7"); NULL or "" = every CPU Linux knows about. */
	const char *cpus;
	/* Directory with possible/present/online; NULL = /sys/devices/system/cpu. */
	const char *sysfs_cpu_dir;
	/* Without sysfs: the CPU list of this file; NULL = /proc/cpuinfo. */
	const char *cpuinfo_path;
	/*
	 * CPUID backend, called on the pinned thread; NULL = the real
	 * instruction.  XCR0 is read (XGETBV) only with the real instruction.
	 */
	tdc_cpuid_fn fn;
	void *fn_ctx;
};

/*
 * Probe and fill @out, which the caller has set up with tdc_claims_init()
 * and frees with tdc_claims_free().  Sets common (table of the lowest
 * probed CPU), cpus[] (per-CPU deltas against common, XCR0), skipped[],
 * has_xcr0/xcr0 (lowest CPU), kernel_release, agent_version, cpuid_count
 * and cpu_set (sysfs, else /proc/cpuinfo, else sysconf, else only the
 * affinity mask: then the set may be incomplete, and the claims say so);
 * leaves version, nonce, tee and vm_name alone.
 *
 * Errors: TDC_ERR_USAGE (bad --cpu list), TDC_ERR_NOT_FOUND (no CPU could be
 * probed; the skipped list says why), TDC_ERR_TOO_LARGE (a leaf declared
 * more subleaves/leaves than the caps: broken or hostile values), and
 * TDC_ERR_IO/ALLOC for the environment.
 */
int tdc_probe_run(const struct tdc_probe_opts *opts, struct tdc_claims *out);

/*
 * Parse a Linux CPU list ("0-3,7", "" = empty, trailing newline allowed)
 * into @set[0..n).  Used for sysfs files and --cpu.  TDC_ERR_FORMAT with the
 * offending token; TDC_ERR_RANGE for a CPU >= n.
 */
int tdc_cpulist_parse(const char *s, bool *set, size_t n);

#endif
