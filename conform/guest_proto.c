// SPDX-License-Identifier: Apache-2.0
/* Host side of the multiboot guest's serial protocol; see guest_proto.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_proto.h"
#include "tdcpuid/error.h"

#define LINE_MAX_LEN 128

int tdc_guest_format_batch(const struct tdc_cpuid_table *list, struct tdc_buf *out)
{
	int r;

	if (list->n > TDC_GUEST_LIST_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "CPUID list of %zu entries (guest max %d)",
			       list->n, TDC_GUEST_LIST_MAX);
	if ((r = tdc_buf_printf(out, "Q %zx\n", list->n)) != 0)
		return r;
	for (size_t i = 0; i < list->n; i++)
		if ((r = tdc_buf_printf(out, "%x %x\n", list->e[i].leaf, list->e[i].subleaf)) != 0)
			return r;
	return 0;
}

/* @n hex fields separated by single spaces, nothing after them. */
static int parse_hex_fields(const char *s, uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *end;
		unsigned long x;

		if (*s != ' ')
			return -1;
		s++;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return -1;
		errno = 0;
		x = strtoul(s, &end, 16);
		if (errno || x > 0xffffffffu || end - s > 8)
			return -1;
		v[i] = x;
		s = end;
	}
	return *s == '\0' ? 0 : -1;
}

/*
 * QEMU numbers vCPUs (cpu-index, the QMP capture's order) in APIC ID order
 * for the topologies -smp N creates, so slots map by the rank of their
 * APIC ID.  Two slots with one APIC ID would make that ambiguous.
 */
static int map_slots(struct tdc_guest_map *m, size_t ncpus)
{
	for (size_t s = 0; s < ncpus; s++) {
		int rank = 0;

		for (size_t o = 0; o < ncpus; o++) {
			if (o != s && m->slot_apic[o] == m->slot_apic[s])
				return tdc_err(TDC_ERR_PROTOCOL, "guest: vCPU slots %zu and %zu "
					       "report the same APIC ID %u", s, o, m->slot_apic[s]);
			rank += m->slot_apic[o] < m->slot_apic[s];
		}
		m->slot_cpu[s] = rank;
	}
	m->mapped = true;
	return 0;
}

static int parse_lines(const char *text, size_t len, const struct tdc_cpuid_table *list,
		       size_t ncpus, struct tdc_guest_map *map, struct tdc_cpuid_table *pending)
{
	char line[LINE_MAX_LEN];
	size_t got = 0, off = 0;
	uint32_t v[8];

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		const struct tdc_cpuid_entry *want;
		struct tdc_cpuid_entry e;
		int r;

		if (n >= sizeof(line))
			return tdc_err(TDC_ERR_PROTOCOL, "guest serial: line of %zu bytes", n);
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + 1;
		if (line[0] == 'E') {
			if (parse_hex_fields(line + 1, v, 1) != 0 || v[0] != list->n)
				return tdc_err(TDC_ERR_PROTOCOL, "guest serial: bad end line \"%.80s\"", line);
			if (got != list->n * ncpus)
				return tdc_err(TDC_ERR_PROTOCOL, "guest returned %zu results, expected %zu",
					       got, list->n * ncpus);
			return 0;
		}
		if (line[0] != 'R' || parse_hex_fields(line + 1, v, 8) != 0 || got >= list->n * ncpus)
			return tdc_err(TDC_ERR_PROTOCOL, "guest serial: unexpected line \"%.80s\"", line);
		/* Slot by slot, each in list order: the guest prints exactly so. */
		if (v[0] != got / list->n)
			return tdc_err(TDC_ERR_PROTOCOL, "guest serial: slot %u where %zu was due",
				       v[0], got / list->n);
		want = &list->e[got % list->n];
		if (v[2] != want->leaf || v[3] != want->subleaf)
			return tdc_err(TDC_ERR_PROTOCOL, "guest serial: result for %x.%x where %x.%x "
				       "was due", v[2], v[3], want->leaf, want->subleaf);
		if (map->mapped ? map->slot_apic[v[0]] != v[1] : false)
			return tdc_err(TDC_ERR_PROTOCOL, "guest serial: slot %u changed APIC ID "
				       "%u -> %u", v[0], map->slot_apic[v[0]], v[1]);
		map->slot_apic[v[0]] = v[1];
		e = *want;
		memcpy(e.regs, &v[4], sizeof(e.regs));
		if ((r = tdc_cpuid_table_set(&pending[v[0]], &e)) != 0)
			return r;
		got++;
	}
	return tdc_err(TDC_ERR_PROTOCOL, "guest serial: reply without an end line");
}

int tdc_guest_parse_batch(const char *text, size_t len, const struct tdc_cpuid_table *list,
			  size_t ncpus, struct tdc_guest_map *map,
			  struct tdc_cpuid_table *out)
{
	struct tdc_cpuid_table *pending;
	int r;

	if (ncpus == 0 || ncpus > TDC_GUEST_MAX_CPUS || list->n == 0)
		return tdc_err(TDC_ERR_INTERNAL, "guest batch: %zu vCPUs, %zu entries", ncpus, list->n);
	if (len > TDC_GUEST_REPLY_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "guest reply of %zu bytes", len);
	if (!(pending = calloc(ncpus, sizeof(*pending))))
		return tdc_err(TDC_ERR_ALLOC, "guest results");
	if ((r = parse_lines(text, len, list, ncpus, map, pending)) != 0)
		goto out;
	if (!map->mapped && (r = map_slots(map, ncpus)) != 0)
		goto out;
	for (size_t s = 0; s < ncpus; s++)
		for (size_t i = 0; i < pending[s].n; i++)
			if ((r = tdc_cpuid_table_set(&out[map->slot_cpu[s]], &pending[s].e[i])) != 0)
				goto out;
out:
	for (size_t s = 0; s < ncpus; s++)
		tdc_cpuid_table_free(&pending[s]);
	free(pending);
	return r;
}
