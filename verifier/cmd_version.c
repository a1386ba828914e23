// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "verifier.h"

int version_main(int argc, char *argv[])
{
	printf("tdcpuid-verifier %s\n", TDC_VERSION);
	return 0;
}
