// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness: the "qmp" requested-configuration importer (and, via
 * "auto", content detection in front of it). */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(data, size, "qmp");
}
