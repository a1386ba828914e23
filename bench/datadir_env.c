// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmarks run from the build tree, whose binaries look for data in the
 * installed data directory: point them at the source tree's policies/
 * unless the caller chose a data directory (tdcpuid/datadir.h), and
 * conform's helpers at the build tree's mirror (conform/helpers.h).
 */
#include <stdlib.h>

#include "tdcpuid/datadir.h"

__attribute__((constructor)) static void bench_datadir(void)
{
	setenv(TDC_DATADIR_ENV, TDC_BENCH_DATADIR, 0);
#ifdef TDC_BENCH_LIBEXECDIR
	setenv("TDCPUID_LIBEXECDIR", TDC_BENCH_LIBEXECDIR, 0); /* conform/helpers.h */
#endif
}
