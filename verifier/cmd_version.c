// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>

#include "verifier.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"

/* The version, and where data comes from: the first question when a file is not found. */
int version_main(int argc, char *argv[])
{
	char dir[4096];
	const char *from;

	printf("tdcpuid-verifier %s\n", TDC_VERSION);
	if (tdc_data_dir(dir, sizeof(dir), NULL, &from) == 0)
		printf("data directory: %s (%s)\n", dir, from);
	else
		printf("data directory: %s\n", tdc_errdetail());
	return 0;
}
