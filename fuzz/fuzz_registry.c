// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness: one `serve` registry entry (verifier/service/registry.c). */
#include <stddef.h>
#include <stdint.h>

#include "service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_vm_entry vm;

	tdc_registry_parse_entry(data, size, "fuzz.json", "/registry", &vm);
	return 0;
}
