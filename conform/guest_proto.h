/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the multiboot guest's serial protocol (the guest side
 * and the line grammar: conform/guest/guest.c).  The guest's output is
 * untrusted input: every line is checked against the list that was sent
 * (fuzz/fuzz_conform_guest.c).
 */
#ifndef TDC_CONFORM_GUEST_PROTO_H
#define TDC_CONFORM_GUEST_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"

#define TDC_GUEST_MAX_CPUS 64
/* 1024 CPUID records x 64 vCPUs x ~80 bytes: nothing honest is larger. */
#define TDC_GUEST_REPLY_MAX (8u * 1024 * 1024)
#define TDC_GUEST_LIST_MAX 1024 /* MAX_LIST in the guest */

/* Guest slot (AP check-in order) -> vCPU index, learned from the first reply. */
struct tdc_guest_map {
	bool mapped;
	int slot_cpu[TDC_GUEST_MAX_CPUS];
	uint32_t slot_apic[TDC_GUEST_MAX_CPUS];
};

/* "Q <n>\n" then one "<leaf> <subleaf>\n" per entry (hex). */
int tdc_guest_format_batch(const struct tdc_cpuid_table *list, struct tdc_buf *out);
/*
 * Parse one reply: exactly list->n x @ncpus "R ..." lines in list order per
 * slot, then "E <n>".  Results go to @out[vCPU] (tdc_cpuid_table_set).
 */
int tdc_guest_parse_batch(const char *text, size_t len, const struct tdc_cpuid_table *list,
			  size_t ncpus, struct tdc_guest_map *map,
			  struct tdc_cpuid_table *out);

#endif
