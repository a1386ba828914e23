// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for the SGX PCK certificate extension decoder. */
#include <stddef.h>
#include <stdint.h>

#include "pck_ext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_pck_ext ext;

	if (tdc_pck_ext_parse(data, size, &ext) == 0 && ext.sgx_type > 255)
		__builtin_trap();
	return 0;
}
