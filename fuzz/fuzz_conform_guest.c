// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz the host side of the conformance guest's serial protocol: whatever
 * a (broken or hostile) guest prints in reply to a CPUID list.  The input's
 * first byte picks the vCPU count; the rest is the reply text.  Includes the
 * real parser source (wireguard-tools src/fuzz style), since the fuzz build
 * does not link the conform library.
 */
#include <stddef.h>
#include <stdint.h>

#include "../conform/guest_proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t keys[][2] = { { 0, 0 }, { 1, 0 }, { 4, 1 }, { 0x80000000, 0 } };
	struct tdc_cpuid_table list, out[4];
	struct tdc_guest_map map = { 0 };
	size_t ncpus;

	if (size < 1)
		return 0;
	ncpus = 1 + data[0] % 4;
	tdc_cpuid_table_init(&list);
	for (size_t i = 0; i < 4; i++) {
		struct tdc_cpuid_entry e = { .leaf = keys[i][0], .subleaf = keys[i][1] };

		tdc_cpuid_table_init(&out[i]);
		tdc_cpuid_table_set(&list, &e);
	}
	tdc_guest_parse_batch((const char *)data + 1, size - 1, &list, ncpus, &map, out);
	/* A second reply with the slot map learned from the first. */
	tdc_guest_parse_batch((const char *)data + 1, size - 1, &list, ncpus, &map, out);
	for (size_t i = 0; i < 4; i++)
		tdc_cpuid_table_free(&out[i]);
	tdc_cpuid_table_free(&list);
	return 0;
}
