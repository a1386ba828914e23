// SPDX-License-Identifier: MIT
/* Placeholder replaced by the probe implementation (issue 3). */
#include <stdio.h>

#include "agent.h"
#include "tdcpuid/error.h"

int probe_main(int argc, char *argv[])
{
	fprintf(stderr, "probe: not built yet\n");
	return TDC_EXIT_INTERNAL;
}
