// SPDX-License-Identifier: Apache-2.0
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

int tdc_replay_load(const char *path, struct tdc_replay *rp)
{
	struct tdc_buf b;
	int r;

	memset(rp, 0, sizeof(*rp));
	tdc_buf_init(&b);
	if ((r = tdc_read_file(path, TDC_REQUESTED_FILE_MAX, &b)) == 0)
		r = tdc_import_cpuid_r(b.data, b.len, path, &rp->cpus, &rp->ncpus);
	tdc_buf_free(&b);
	if (!r && !rp->ncpus)
		r = tdc_err(TDC_ERR_FORMAT, "%s: no CPU in the dump", path);
	return r;
}

void tdc_replay_free(struct tdc_replay *rp)
{
	for (size_t i = 0; i < rp->ncpus; i++)
		tdc_cpuid_table_free(&rp->cpus[i]);
	free(rp->cpus);
	memset(rp, 0, sizeof(*rp));
}

int tdc_replay_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	const struct tdc_replay *rp = ctx;
	int cpu = sched_getcpu(); /* the probe pins each thread to its CPU */
	const struct tdc_cpuid_table *t = &rp->cpus[cpu >= 0 && (size_t)cpu < rp->ncpus ? cpu : 0];
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(t, leaf, subleaf);

	if (e)
		memcpy(regs, e->regs, sizeof(e->regs));
	else
		memset(regs, 0, TDC_NREGS * sizeof(regs[0]));
	return 0;
}
