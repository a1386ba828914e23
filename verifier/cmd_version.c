// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>

#include "verifier.h"

int version_main(int argc, char *argv[])
{
	printf("tdcpuid-verifier %s\n", TDC_VERSION);
	return 0;
}
