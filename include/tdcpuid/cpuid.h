/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPUID values as data: one entry per (leaf, subleaf), tables of entries,
 * the leaf rules that say which subleaves exist, and the bit-name database.
 */
#ifndef TDCPUID_CPUID_H
#define TDCPUID_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tdc_reg { TDC_EAX = 0, TDC_EBX = 1, TDC_ECX = 2, TDC_EDX = 3, TDC_NREGS = 4 };

/* Subleaf (ECX input) is significant for this leaf (KVM_CPUID_FLAG_SIGNIFCANT_INDEX). */
#define TDC_CPUID_F_INDEXED 0x1u
/* Per-CPU delta only: the CPU does not have this entry although the common table does. */
#define TDC_CPUID_F_ABSENT 0x80000000u

struct tdc_cpuid_entry {
	uint32_t leaf;
	uint32_t subleaf; /* 0 when not indexed */
	uint32_t flags;   /* TDC_CPUID_F_* */
	uint32_t regs[TDC_NREGS];
};

/* No real CPU needs more; a cap keeps untrusted tables bounded. */
#define TDC_CPUID_MAX_ENTRIES 4096

struct tdc_cpuid_table {
	struct tdc_cpuid_entry *e;
	size_t n;
	size_t cap;
	/*
	 * Entries are strictly ascending by (leaf, subleaf), so lookups can
	 * bisect.  Maintained by the functions below; code that writes e[]
	 * directly must keep the order or clear it (false is always safe).
	 */
	bool sorted;
};

void tdc_cpuid_table_init(struct tdc_cpuid_table *t);
void tdc_cpuid_table_free(struct tdc_cpuid_table *t);
/* Append, or replace an existing entry with the same (leaf, subleaf). */
int tdc_cpuid_table_set(struct tdc_cpuid_table *t, const struct tdc_cpuid_entry *e);
/* Exact (leaf, subleaf) match; a non-indexed entry matches any subleaf. */
const struct tdc_cpuid_entry *tdc_cpuid_table_find(const struct tdc_cpuid_table *t,
						   uint32_t leaf, uint32_t subleaf);
/* Any entry of @leaf, whatever its subleaf. */
bool tdc_cpuid_table_has_leaf(const struct tdc_cpuid_table *t, uint32_t leaf);
/* Order by (leaf, subleaf): <0, 0, >0. */
int tdc_cpuid_entry_cmp(const struct tdc_cpuid_entry *a, const struct tdc_cpuid_entry *b);
/* Sort by (leaf, subleaf): the canonical order of every encoder/printer. */
void tdc_cpuid_table_sort(struct tdc_cpuid_table *t);
int tdc_cpuid_table_copy(struct tdc_cpuid_table *dst, const struct tdc_cpuid_table *src);
/* Remove the exact (leaf, subleaf) entry if present, keeping the order. */
void tdc_cpuid_table_remove(struct tdc_cpuid_table *t, uint32_t leaf, uint32_t subleaf);

/*
 * Lookups in ascending (leaf, subleaf) order, as a walk over sorted keys
 * does them: each resumes where the previous one stopped, so n keys cost
 * O(n + t->n) steps instead of n bisections.  Same answer as
 * tdc_cpuid_table_find, which it falls back to for an unsorted table or a
 * key below the previous one.  The table must not change meanwhile.
 */
struct tdc_cpuid_cursor {
	const struct tdc_cpuid_table *t;
	size_t leaf_at;         /* first entry whose leaf >= the last key's leaf */
	size_t key_at;          /* first entry whose key >= the last key */
	uint32_t leaf, subleaf; /* the last key (valid once @started) */
	bool started;
};
void tdc_cpuid_cursor_init(struct tdc_cpuid_cursor *c, const struct tdc_cpuid_table *t);
const struct tdc_cpuid_entry *tdc_cpuid_cursor_find(struct tdc_cpuid_cursor *c, uint32_t leaf,
						    uint32_t subleaf);

/* Leaf ranges, enumerated separately (hypervisor range is VMM-provided). */
enum tdc_cpuid_range {
	TDC_RANGE_BASIC,      /* 0x00000000.. */
	TDC_RANGE_HYPERVISOR, /* 0x40000000..0x4fffffff */
	TDC_RANGE_EXTENDED,   /* 0x80000000.. */
	TDC_RANGE_CENTAUR,    /* 0xc0000000.. */
	TDC_RANGE_OTHER,
};
enum tdc_cpuid_range tdc_cpuid_range_of(uint32_t leaf);
const char *tdc_cpuid_range_name(enum tdc_cpuid_range r);

/*
 * Execute (or look up) CPUID(leaf, subleaf).  Backends: the real instruction
 * on the current CPU, a recorded dump, a fake for tests, a KVM guest's
 * results.  Returns 0 or a TDC_ERR_* code.
 */
typedef int (*tdc_cpuid_fn)(void *ctx, uint32_t leaf, uint32_t subleaf,
			    uint32_t regs[TDC_NREGS]);

/*
 * Enumerate every valid (leaf, subleaf) in all ranges following the leaf
 * rules (lib/leafrules.c): each leaf with subleaves enumerates exactly the
 * subleaves it declares valid.  Appends to @out in canonical order.
 * @count, if non-NULL, receives the number of CPUID executions.
 */
int tdc_cpuid_enumerate(tdc_cpuid_fn fn, void *ctx, struct tdc_cpuid_table *out,
			unsigned long *count);

/* The real CPUID / XGETBV instructions on the calling CPU (x86 only). */
void tdc_cpuid_native(uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS]);
int tdc_cpuid_native_fn(void *ctx, uint32_t leaf, uint32_t subleaf,
			uint32_t regs[TDC_NREGS]);
uint64_t tdc_xgetbv(uint32_t index);

/* Register name "EAX".."EDX"; tdc_reg_parse accepts any case. */
const char *tdc_reg_name(enum tdc_reg r);
int tdc_reg_parse(const char *s, enum tdc_reg *r);

/* Feature-name database (lib/features.c, data table; sources in the file). */
struct tdc_feature {
	uint32_t leaf;
	uint32_t subleaf;
	uint8_t reg;   /* enum tdc_reg */
	uint8_t bit;   /* 0..31 */
	const char *qemu_name; /* QEMU feature name, e.g. "tsc-deadline" */
	const char *linux_name; /* Linux /proc/cpuinfo name if different, else NULL */
};

const struct tdc_feature *tdc_feature_lookup(uint32_t leaf, uint32_t subleaf,
					     enum tdc_reg reg, unsigned bit);
/* By QEMU or Linux name (case-insensitive; '_' and '-' equivalent). */
const struct tdc_feature *tdc_feature_by_name(const char *name);
/* The whole table, for iteration. */
const struct tdc_feature *tdc_feature_table(size_t *n);

/*
 * The project-wide message form of a bit:
 *   CPUID.01H:ECX.tsc-deadline [bit 24]     (leaf without subleaves)
 *   CPUID.07H.0:EBX.avx2 [bit 5]            (indexed leaf)
 *   CPUID.80000001H:ECX [bit 8]            (unnamed: no ".name"; as QEMU prints it)
 * Returns @buf.  @indexed selects the ".subleaf" form.
 */
#define TDC_BITNAME_MAX 96
const char *tdc_format_bit(char *buf, size_t len, uint32_t leaf, uint32_t subleaf,
			   bool indexed, enum tdc_reg reg, unsigned bit);
/* "CPUID.07H.0:EBX" */
const char *tdc_format_reg(char *buf, size_t len, uint32_t leaf, uint32_t subleaf,
			   bool indexed, enum tdc_reg reg);
/*
 * Parse "CPUID.07H.0:EBX[5]", "CPUID.01H:ECX.tsc-deadline", "7.0:ebx.5",
 * "0x80000001:ecx[8]", current QEMU's "CPUID[eax=07h,ecx=00h].EBX.avx2
 * [bit 5]" (also a whole QEMU warning line), or a bare feature name ("avx2").
 * Grammar in lib/features.c; docs/architecture.md "Reading a CPUID bit".
 */
int tdc_parse_bit(const char *s, uint32_t *leaf, uint32_t *subleaf,
		  enum tdc_reg *reg, unsigned *bit);

/* Leaves whose subleaf is significant, per the leaf rules. */
bool tdc_leaf_is_indexed(uint32_t leaf);

#endif
