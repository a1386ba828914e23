// SPDX-License-Identifier: Apache-2.0
/*
 * Claims codec: the CBOR document the agent produces and REPORTDATA binds.
 * Wire format and map keys: docs/evidence.cddl (keep the two in step).
 *
 * The encoder is deterministic (RFC 8949 §4.2.1 core deterministic
 * encoding: shortest heads, definite lengths, integer map keys in ascending
 * order) and sorts what has no inherent order (CPUID tables by (leaf,
 * subleaf), CPUs and skipped CPUs by number), so the same claims always give
 * the same bytes.  The decoder accepts exactly that form and nothing else:
 * the verifier hashes the bytes it received, so tolerating a second spelling
 * of the same claims would buy nothing and widen the attack surface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_strict.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"

/* Claims map keys (docs/evidence.cddl). */
enum {
	K_VERSION = 0,
	K_NONCE = 1,
	K_TEE = 2,
	K_COMMON = 3,
	K_CPUS = 4,
	K_SKIPPED = 5,
	K_XCR0 = 6,
	K_KERNEL = 7,
	K_AGENT = 8,
	K_VM_NAME = 9,
	K_CPUID_COUNT = 10,
	K_TD_CONTROLS = 11,
	K_BINDING = 12,       /* 1.1 */
	K_CPU_SET = 13,       /* 1.2 */
};

/* td_controls map keys (claims 1.1). */
enum { K_TDC_KNOWN = 0, K_TDC_VALUE = 1, K_TDC_METHOD = 2 };

/* Per-CPU claim map keys. */
enum { K_CPU_CPU = 0, K_CPU_DELTA = 1, K_CPU_XCR0 = 2 };

/*
 * Smallest encodings, used to reject counts that cannot fit the remaining
 * input before allocating for them: an entry is a 1-byte array head plus
 * seven 1-byte integers; a CPU is {0: n, 1: []}; a skipped CPU is [n, "x"].
 */
#define MIN_ENTRY_BYTES 8
#define MIN_CPU_BYTES 5
#define MIN_SKIPPED_BYTES 4

#define NREGS_ENTRY (3 + TDC_NREGS) /* leaf, subleaf, flags, eax..edx */

static const char *const tee_names[] = {
	[TDC_TEE_NONE] = "none",
	[TDC_TEE_TDX] = "tdx",
	[TDC_TEE_SIM] = "sim",
};

const char *tdc_tee_name(enum tdc_tee t)
{
	return (unsigned)t < sizeof(tee_names) / sizeof(tee_names[0]) ? tee_names[t] : "?";
}

static const char *const binding_names[] = {
	[TDC_BIND_REPORTDATA] = "reportdata",
	[TDC_BIND_RTMR3] = "rtmr3",
};

static const char *const cpu_set_names[] = {
	[TDC_CPUSET_SYSFS] = "sysfs", [TDC_CPUSET_CPUINFO] = "cpuinfo",
	[TDC_CPUSET_SYSCONF] = "sysconf", [TDC_CPUSET_AFFINITY] = "affinity",
};

const char *tdc_cpu_set_name(enum tdc_cpu_set s)
{
	return (unsigned)s < sizeof(cpu_set_names) / sizeof(cpu_set_names[0]) ?
	       cpu_set_names[s] : "?";
}

const char *tdc_binding_name(enum tdc_binding b)
{
	return (unsigned)b < sizeof(binding_names) / sizeof(binding_names[0]) ?
	       binding_names[b] : "?";
}

int tdc_binding_parse(const char *s, enum tdc_binding *b)
{
	for (size_t i = 0; i < sizeof(binding_names) / sizeof(binding_names[0]); i++) {
		if (strcmp(s, binding_names[i]) == 0) {
			*b = (enum tdc_binding)i;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_RANGE, "unknown binding '%s' (expected reportdata or rtmr3)", s);
}

int tdc_tee_parse(const char *s, enum tdc_tee *t)
{
	for (size_t i = 0; i < sizeof(tee_names) / sizeof(tee_names[0]); i++) {
		if (strcmp(s, tee_names[i]) == 0) {
			*t = (enum tdc_tee)i;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_RANGE, "unknown TEE kind '%s' (expected tdx, sim or none)", s);
}

void tdc_claims_init(struct tdc_claims *c)
{
	memset(c, 0, sizeof(*c));
	c->version_major = TDC_CLAIMS_VERSION_MAJOR;
	c->version_minor = TDC_CLAIMS_VERSION_MINOR;
	tdc_cpuid_table_init(&c->common);
}

void tdc_claims_free(struct tdc_claims *c)
{
	tdc_cpuid_table_free(&c->common);
	for (size_t i = 0; i < c->ncpus; i++)
		tdc_cpuid_table_free(&c->cpus[i].delta);
	free(c->cpus);
	free(c->skipped);
	tdc_claims_init(c);
}

/* ---- rules shared by encoder and decoder ---- */

/*
 * One entry on its own.  F_ABSENT only makes sense in a delta, and there the
 * registers carry nothing, so they must be zero (one spelling only).  A
 * non-indexed leaf is always stored under subleaf 0 (cpuid.h).
 */
static int entry_problem(const struct tdc_cpuid_entry *e, bool delta,
			 char *msg, size_t len)
{
	uint32_t allowed = TDC_CPUID_F_INDEXED | (delta ? TDC_CPUID_F_ABSENT : 0);

	if (e->flags & ~allowed) {
		snprintf(msg, len, "flags 0x%x has bits not allowed in %s table",
			 e->flags, delta ? "a delta" : "the common");
		return TDC_ERR_RANGE;
	}
	if (!(e->flags & TDC_CPUID_F_INDEXED) && e->subleaf != 0) {
		snprintf(msg, len, "leaf 0x%x is not indexed but has subleaf %u",
			 e->leaf, e->subleaf);
		return TDC_ERR_RANGE;
	}
	if ((e->flags & TDC_CPUID_F_ABSENT) &&
	    (e->regs[0] | e->regs[1] | e->regs[2] | e->regs[3])) {
		snprintf(msg, len, "absent entry (leaf 0x%x, subleaf %u) has non-zero registers",
			 e->leaf, e->subleaf);
		return TDC_ERR_RANGE;
	}
	return 0;
}

/* Entry @i of a sorted table against its predecessor. */
static int order_problem(const struct tdc_cpuid_table *t, size_t i, char *msg, size_t len)
{
	int c;

	if (i == 0)
		return 0;
	c = tdc_cpuid_entry_cmp(&t->e[i - 1], &t->e[i]);
	if (c == 0) {
		snprintf(msg, len, "duplicate entry for leaf 0x%x subleaf %u",
			 t->e[i].leaf, t->e[i].subleaf);
		return TDC_ERR_DUPLICATE;
	}
	if (c > 0) {
		snprintf(msg, len, "leaf 0x%x subleaf %u out of (leaf, subleaf) order",
			 t->e[i].leaf, t->e[i].subleaf);
		return TDC_ERR_FORMAT;
	}
	return 0;
}

static const struct tdc_cpuid_entry *sorted_find(const struct tdc_cpuid_table *t,
						 const struct tdc_cpuid_entry *key)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = tdc_cpuid_entry_cmp(&t->e[mid], key);

		if (c == 0)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A delta may only remove what the common table has. */
static int delta_problem(const struct tdc_cpuid_table *common_sorted,
			 const struct tdc_cpuid_entry *e, char *msg, size_t len)
{
	if ((e->flags & TDC_CPUID_F_ABSENT) && !sorted_find(common_sorted, e)) {
		snprintf(msg, len, "absent entry (leaf 0x%x, subleaf %u) is not in the common table",
			 e->leaf, e->subleaf);
		return TDC_ERR_FORMAT;
	}
	return 0;
}

static int string_problem(const char *s, bool nonempty, char *msg, size_t len)
{
	size_t n = strnlen(s, TDC_CLAIMS_STR_MAX);

	if (n >= TDC_CLAIMS_STR_MAX) {
		snprintf(msg, len, "not NUL-terminated within %d bytes", TDC_CLAIMS_STR_MAX);
		return TDC_ERR_TOO_LARGE;
	}
	if (nonempty && n == 0) {
		snprintf(msg, len, "must not be empty");
		return TDC_ERR_FORMAT;
	}
	if (!tdc_utf8_valid((const uint8_t *)s, n)) {
		snprintf(msg, len, "not valid UTF-8");
		return TDC_ERR_FORMAT;
	}
	return 0;
}

/* ================================ encoder ================================ */

struct enc {
	struct tdc_buf *b;
	const struct tdc_claims *c;
	struct tdc_cpuid_table common;      /* sorted copy */
	const struct tdc_cpu_claim **cpus;  /* sorted by CPU number */
};

static int sorted_copy(const struct tdc_cpuid_table *src, struct tdc_cpuid_table *dst,
		       const char *path)
{
	int r;

	if (src->n > TDC_CPUID_MAX_ENTRIES)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu entries exceed the limit of %d",
			       path, src->n, TDC_CPUID_MAX_ENTRIES);
	if ((r = tdc_cpuid_table_copy(dst, src)) != 0)
		return r;
	tdc_cpuid_table_sort(dst);
	return 0;
}

/* @t is sorted; @common is NULL when encoding the common table itself. */
static int put_table(struct tdc_buf *b, const struct tdc_cpuid_table *t,
		     const struct tdc_cpuid_table *common, const char *path)
{
	char msg[160];
	int r;

	if ((r = tdc_cbor_put_array(b, t->n)) != 0)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];

		if ((r = entry_problem(e, common != NULL, msg, sizeof(msg))) != 0 ||
		    (r = order_problem(t, i, msg, sizeof(msg))) != 0 ||
		    (common && (r = delta_problem(common, e, msg, sizeof(msg))) != 0))
			return tdc_err(r, "%s (sorted entry %zu): %s", path, i, msg);
		if ((r = tdc_cbor_put_array(b, NREGS_ENTRY)) != 0 ||
		    (r = tdc_cbor_put_uint(b, e->leaf)) != 0 ||
		    (r = tdc_cbor_put_uint(b, e->subleaf)) != 0 ||
		    (r = tdc_cbor_put_uint(b, e->flags)) != 0)
			return r;
		for (int k = 0; k < TDC_NREGS; k++)
			if ((r = tdc_cbor_put_uint(b, e->regs[k])) != 0)
				return r;
	}
	return 0;
}

static int cmp_cpu_ptr(const void *a, const void *b)
{
	uint32_t x = (*(const struct tdc_cpu_claim *const *)a)->cpu;
	uint32_t y = (*(const struct tdc_cpu_claim *const *)b)->cpu;

	return x < y ? -1 : x > y;
}

static int cmp_skipped_ptr(const void *a, const void *b)
{
	uint32_t x = (*(const struct tdc_skipped_cpu *const *)a)->cpu;
	uint32_t y = (*(const struct tdc_skipped_cpu *const *)b)->cpu;

	return x < y ? -1 : x > y;
}

static int put_cpu(struct enc *en, const struct tdc_cpu_claim *cc)
{
	struct tdc_cpuid_table delta;
	char path[64];
	int r;

	snprintf(path, sizeof(path), "claims.cpus[cpu %u].delta", cc->cpu);
	if ((r = sorted_copy(&cc->delta, &delta, path)) != 0)
		return r;
	if ((r = tdc_cbor_put_map(en->b, cc->has_xcr0 ? 3 : 2)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, K_CPU_CPU)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, cc->cpu)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, K_CPU_DELTA)) != 0 ||
	    (r = put_table(en->b, &delta, &en->common, path)) != 0)
		goto out;
	if (cc->has_xcr0 &&
	    ((r = tdc_cbor_put_uint(en->b, K_CPU_XCR0)) != 0 ||
	     (r = tdc_cbor_put_uint(en->b, cc->xcr0)) != 0))
		goto out;
out:
	tdc_cpuid_table_free(&delta);
	return r;
}

/* Leaves the sorted CPU list in en->cpus for the skipped-CPU check. */
static int put_cpus(struct enc *en)
{
	const struct tdc_claims *c = en->c;
	const struct tdc_cpu_claim **v = NULL;
	int r = 0;

	if (c->ncpus > TDC_CLAIMS_MAX_CPUS)
		return tdc_err(TDC_ERR_TOO_LARGE, "claims.cpus: %zu CPUs exceed the limit of %d",
			       c->ncpus, TDC_CLAIMS_MAX_CPUS);
	if (c->ncpus && !(v = calloc(c->ncpus, sizeof(*v))))
		return tdc_err(TDC_ERR_ALLOC, "claims.cpus: %zu CPUs", c->ncpus);
	for (size_t i = 0; i < c->ncpus; i++)
		v[i] = &c->cpus[i];
	if (c->ncpus > 1)
		qsort(v, c->ncpus, sizeof(*v), cmp_cpu_ptr);
	if ((r = tdc_cbor_put_array(en->b, c->ncpus)) != 0)
		goto out;
	for (size_t i = 0; i < c->ncpus; i++) {
		if (i && v[i]->cpu == v[i - 1]->cpu) {
			r = tdc_err(TDC_ERR_DUPLICATE, "claims.cpus: CPU %u listed twice", v[i]->cpu);
			goto out;
		}
		if ((r = put_cpu(en, v[i])) != 0)
			goto out;
	}
out:
	en->cpus = v;
	return r;
}

static bool cpu_probed(const struct enc *en, uint32_t cpu)
{
	size_t lo = 0, hi = en->c->ncpus;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (en->cpus[mid]->cpu == cpu)
			return true;
		if (en->cpus[mid]->cpu < cpu)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int put_one_skipped(struct enc *en, const struct tdc_skipped_cpu *s)
{
	char msg[96];
	int r;

	if ((r = string_problem(s->reason, true, msg, sizeof(msg))) != 0)
		return tdc_err(r, "claims.skipped[cpu %u].reason: %s", s->cpu, msg);
	if (cpu_probed(en, s->cpu))
		return tdc_err(TDC_ERR_DUPLICATE,
			       "claims.skipped: CPU %u is also listed as probed", s->cpu);
	if ((r = tdc_cbor_put_array(en->b, 2)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, s->cpu)) != 0 ||
	    (r = tdc_cbor_put_text(en->b, s->reason)) != 0)
		return r;
	return 0;
}

static int put_skipped(struct enc *en)
{
	const struct tdc_claims *c = en->c;
	const struct tdc_skipped_cpu **v = NULL;
	int r = 0;

	if (c->nskipped > TDC_CLAIMS_MAX_SKIPPED)
		return tdc_err(TDC_ERR_TOO_LARGE, "claims.skipped: %zu entries exceed the limit of %d",
			       c->nskipped, TDC_CLAIMS_MAX_SKIPPED);
	if (c->nskipped && !(v = calloc(c->nskipped, sizeof(*v))))
		return tdc_err(TDC_ERR_ALLOC, "claims.skipped: %zu entries", c->nskipped);
	for (size_t i = 0; i < c->nskipped; i++)
		v[i] = &c->skipped[i];
	if (c->nskipped > 1)
		qsort(v, c->nskipped, sizeof(*v), cmp_skipped_ptr);
	if ((r = tdc_cbor_put_array(en->b, c->nskipped)) != 0)
		goto out;
	for (size_t i = 0; i < c->nskipped; i++) {
		if (i && v[i]->cpu == v[i - 1]->cpu) {
			r = tdc_err(TDC_ERR_DUPLICATE, "claims.skipped: CPU %u listed twice",
				    v[i]->cpu);
			goto out;
		}
		if ((r = put_one_skipped(en, v[i])) != 0)
			goto out;
	}
out:
	free(v);
	return r;
}

static int put_text_field(struct tdc_buf *b, unsigned key, const char *s,
			  const char *name)
{
	char msg[96];
	int r;

	if ((r = string_problem(s, false, msg, sizeof(msg))) != 0)
		return tdc_err(r, "claims.%s: %s", name, msg);
	if ((r = tdc_cbor_put_uint(b, key)) != 0)
		return r;
	return tdc_cbor_put_text(b, s);
}

static int put_header(struct enc *en)
{
	const struct tdc_claims *c = en->c;
	size_t nkeys = 9 + (c->has_xcr0 ? 1 : 0) + (c->vm_name[0] ? 1 : 0) +
		       (c->td_controls.present ? 1 : 0) +
		       (c->binding != TDC_BIND_REPORTDATA ? 1 : 0) +
		       (c->cpu_set != TDC_CPUSET_SYSFS ? 1 : 0);
	int r;

	if (c->nonce_len > TDC_CLAIMS_NONCE_MAX)
		return tdc_err(TDC_ERR_RANGE, "claims.nonce: %zu bytes exceed the limit of %d",
			       c->nonce_len, TDC_CLAIMS_NONCE_MAX);
	if ((unsigned)c->tee >= sizeof(tee_names) / sizeof(tee_names[0]))
		return tdc_err(TDC_ERR_RANGE, "claims.tee: unknown TEE kind %d", (int)c->tee);
	if ((unsigned)c->binding >= sizeof(binding_names) / sizeof(binding_names[0]))
		return tdc_err(TDC_ERR_RANGE, "claims.binding: unknown binding %d", (int)c->binding);
	if ((unsigned)c->cpu_set >= sizeof(cpu_set_names) / sizeof(cpu_set_names[0]))
		return tdc_err(TDC_ERR_RANGE, "claims.cpu_set: unknown source %d", (int)c->cpu_set);
	if ((r = tdc_cbor_put_map(en->b, nkeys)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, K_VERSION)) != 0 ||
	    (r = tdc_cbor_put_array(en->b, 2)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, c->version_major)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, c->version_minor)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, K_NONCE)) != 0 ||
	    (r = tdc_cbor_put_bytes(en->b, c->nonce, c->nonce_len)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, K_TEE)) != 0 ||
	    (r = tdc_cbor_put_text(en->b, tdc_tee_name(c->tee))) != 0)
		return r;
	return 0;
}

/* One spelling: no value bit outside known, a method always named. */
static int td_controls_problem(const struct tdc_td_controls *t, char *msg, size_t len)
{
	if (t->value & ~t->known) {
		snprintf(msg, len, "value 0x%llx has bits outside known 0x%llx",
			 (unsigned long long)t->value, (unsigned long long)t->known);
		return TDC_ERR_RANGE;
	}
	return string_problem(t->method, true, msg, len);
}

static int put_td_controls(struct tdc_buf *b, const struct tdc_td_controls *t)
{
	char msg[128];
	int r;

	if (!t->present)
		return 0;
	if ((r = td_controls_problem(t, msg, sizeof(msg))) != 0)
		return tdc_err(r, "claims.td_controls: %s", msg);
	if ((r = tdc_cbor_put_uint(b, K_TD_CONTROLS)) != 0 ||
	    (r = tdc_cbor_put_map(b, 3)) != 0 ||
	    (r = tdc_cbor_put_uint(b, K_TDC_KNOWN)) != 0 ||
	    (r = tdc_cbor_put_uint(b, t->known)) != 0 ||
	    (r = tdc_cbor_put_uint(b, K_TDC_VALUE)) != 0 ||
	    (r = tdc_cbor_put_uint(b, t->value)) != 0 ||
	    (r = tdc_cbor_put_uint(b, K_TDC_METHOD)) != 0)
		return r;
	return tdc_cbor_put_text(b, t->method);
}

static int put_trailer(struct enc *en)
{
	const struct tdc_claims *c = en->c;
	int r;

	if (c->has_xcr0 &&
	    ((r = tdc_cbor_put_uint(en->b, K_XCR0)) != 0 ||
	     (r = tdc_cbor_put_uint(en->b, c->xcr0)) != 0))
		return r;
	if ((r = put_text_field(en->b, K_KERNEL, c->kernel_release, "kernel_release")) != 0 ||
	    (r = put_text_field(en->b, K_AGENT, c->agent_version, "agent_version")) != 0)
		return r;
	if (c->vm_name[0] &&
	    (r = put_text_field(en->b, K_VM_NAME, c->vm_name, "vm_name")) != 0)
		return r;
	if ((r = tdc_cbor_put_uint(en->b, K_CPUID_COUNT)) != 0 ||
	    (r = tdc_cbor_put_uint(en->b, c->cpuid_count)) != 0)
		return r;
	if ((r = put_td_controls(en->b, &c->td_controls)) != 0)
		return r;
	/* The default is never written: one spelling, and 1.0 documents stay 1.0-shaped. */
	if (c->binding != TDC_BIND_REPORTDATA &&
	    ((r = tdc_cbor_put_uint(en->b, K_BINDING)) != 0 ||
	     (r = tdc_cbor_put_text(en->b, tdc_binding_name(c->binding))) != 0))
		return r;
	if (c->cpu_set != TDC_CPUSET_SYSFS &&
	    ((r = tdc_cbor_put_uint(en->b, K_CPU_SET)) != 0 ||
	     (r = tdc_cbor_put_text(en->b, tdc_cpu_set_name(c->cpu_set))) != 0))
		return r;
	return 0;
}

/*
 * Appends to @out.  The version fields are written as given (tests use this
 * to build other-version documents); everything else is checked against the
 * same rules the decoder enforces, so the encoder never emits what its own
 * decoder would reject.
 */
int tdc_claims_encode(const struct tdc_claims *c, struct tdc_buf *out)
{
	struct enc en = { .b = out, .c = c };
	size_t start = out->len;
	int r;

	tdc_cpuid_table_init(&en.common);
	if ((r = sorted_copy(&c->common, &en.common, "claims.common")) != 0 ||
	    (r = put_header(&en)) != 0 ||
	    (r = tdc_cbor_put_uint(out, K_COMMON)) != 0 ||
	    (r = put_table(out, &en.common, NULL, "claims.common")) != 0 ||
	    (r = tdc_cbor_put_uint(out, K_CPUS)) != 0 ||
	    (r = put_cpus(&en)) != 0 ||
	    (r = tdc_cbor_put_uint(out, K_SKIPPED)) != 0 ||
	    (r = put_skipped(&en)) != 0 ||
	    (r = put_trailer(&en)) != 0)
		goto out;
	if (out->len - start > TDC_EVIDENCE_MAX)
		r = tdc_err(TDC_ERR_TOO_LARGE, "claims: encoding of %zu bytes exceeds the limit of %u",
			    out->len - start, TDC_EVIDENCE_MAX);
out:
	if (r)
		out->len = start;
	free(en.cpus);
	tdc_cpuid_table_free(&en.common);
	return r;
}

/* ================================ decoder ================================ */

/* The longest entry in its one accepted spelling: 0x87, seven 5-byte integers. */
#define MAX_ENTRY_BYTES (1 + NREGS_ENTRY * 5)

/*
 * An entry as every encoder writes it, read straight from the bytes: the
 * head 0x87 (array of 7), then seven unsigned integers of at most 32 bits
 * in their shortest form.  That is exactly what the item-by-item path below
 * accepts for an entry, with the same values; anything else (another
 * type, a longer head, a non-shortest integer, too few bytes) returns
 * false without consuming anything, and the item path then accepts or
 * names the problem as it always did.  One table entry is 8 items: this
 * saves the per-item head decoding and error-path bookkeeping of ~85
 * entries per claims document on the service's path.
 */
static bool dec_entry_fast(struct tdc_cbor_rd *d, struct tdc_cpuid_entry *e)
{
	size_t rem = tdc_reader_remaining(&d->r), lim = rem < MAX_ENTRY_BYTES ? rem : MAX_ENTRY_BYTES;
	struct tdc_reader look = d->r;
	uint32_t v[NREGS_ENTRY];
	const uint8_t *p;
	size_t k = 1;

	if (lim < 1 + NREGS_ENTRY || tdc_get_ref(&look, lim, &p) != 0 || p[0] != 0x80 + NREGS_ENTRY)
		return false;
	for (int i = 0; i < NREGS_ENTRY; i++) {
		uint8_t ib = k < lim ? p[k++] : 0xff;

		if (ib < 24) {
			v[i] = ib;
		} else if (ib == 24 && k + 1 <= lim && p[k] >= 24) {
			v[i] = p[k];
			k += 1;
		} else if (ib == 25 && k + 2 <= lim && (p[k] << 8 | p[k + 1]) >= 0x100) {
			v[i] = (uint32_t)(p[k] << 8 | p[k + 1]);
			k += 2;
		} else if (ib == 26 && k + 4 <= lim &&
			   (v[i] = (uint32_t)p[k] << 24 | (uint32_t)p[k + 1] << 16 |
				   (uint32_t)p[k + 2] << 8 | p[k + 3]) >= 0x10000) {
			k += 4;
		} else {
			return false;
		}
	}
	if (tdc_skip(&d->r, k) != 0)
		return false;
	e->leaf = v[0];
	e->subleaf = v[1];
	e->flags = v[2];
	memcpy(e->regs, &v[3], sizeof(e->regs));
	return true;
}

static int dec_entry(struct tdc_cbor_rd *d, struct tdc_cpuid_entry *e)
{
	uint32_t v[NREGS_ENTRY];
	int r;

	if (dec_entry_fast(d, e))
		return 0;
	if ((r = tdc_cbor_array_exact(d, NREGS_ENTRY, "array of 7 unsigned integers")) != 0)
		return r;
	tdc_cbor_push_idx(d, 0);
	for (int k = 0; k < NREGS_ENTRY; k++) {
		tdc_cbor_set_idx(d, k);
		if ((r = tdc_cbor_u32(d, &v[k])) != 0)
			break;
	}
	tdc_cbor_pop(d);
	if (r)
		return r;
	e->leaf = v[0];
	e->subleaf = v[1];
	e->flags = v[2];
	memcpy(e->regs, &v[3], sizeof(e->regs));
	return 0;
}

static int dec_table(struct tdc_cbor_rd *d, struct tdc_cpuid_table *t, bool delta)
{
	char msg[160];
	size_t n;
	int r;

	if ((r = tdc_cbor_array(d, TDC_CPUID_MAX_ENTRIES, MIN_ENTRY_BYTES, &n)) != 0)
		return r;
	if (n && !(t->e = calloc(n, sizeof(*t->e))))
		return tdc_cbor_fail(d, TDC_ERR_ALLOC, "%zu entries", n);
	t->cap = n;
	tdc_cbor_push_idx(d, 0);
	for (size_t i = 0; i < n; i++) {
		tdc_cbor_set_idx(d, (long)i);
		if ((r = dec_entry(d, &t->e[i])) != 0)
			break;
		t->n = i + 1;
		if ((r = entry_problem(&t->e[i], delta, msg, sizeof(msg))) != 0 ||
		    (r = order_problem(t, i, msg, sizeof(msg))) != 0) {
			r = tdc_cbor_fail(d, r, "%s", msg);
			break;
		}
	}
	tdc_cbor_pop(d);
	return r;
}

static int dec_version(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	int r;

	if ((r = tdc_cbor_array_exact(d, 2, "array [major, minor]")) != 0)
		return r;
	if ((r = tdc_cbor_u32(d, &c->version_major)) != 0 ||
	    (r = tdc_cbor_u32(d, &c->version_minor)) != 0)
		return r;
	/*
	 * A new minor version may only add optional keys.  This decoder
	 * rejects every key it does not know, so a newer-minor document is
	 * accepted exactly when it uses none of the additions.
	 */
	if (c->version_major != TDC_CLAIMS_VERSION_MAJOR)
		return tdc_cbor_fail(d, TDC_ERR_VERSION,
				     "major version %u not supported (this decoder reads %d)",
				     c->version_major, TDC_CLAIMS_VERSION_MAJOR);
	return 0;
}

static int dec_nonce(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = tdc_cbor_bytes(d, TDC_CLAIMS_NONCE_MAX, &p, &n)) != 0)
		return r;
	memcpy(c->nonce, p, n);
	c->nonce_len = n;
	return 0;
}

static int dec_tee(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	char s[8];
	int r;

	if ((r = tdc_cbor_text(d, s, sizeof(s))) != 0)
		return r;
	if (tdc_tee_parse(s, &c->tee) != 0)
		return tdc_cbor_fail(d, TDC_ERR_RANGE,
				     "unknown TEE kind '%s' (expected tdx, sim or none)", s);
	return 0;
}

static int dec_common(struct tdc_cbor_rd *d, void *obj)
{
	return dec_table(d, &((struct tdc_claims *)obj)->common, false);
}

static int dec_cpu_cpu(struct tdc_cbor_rd *d, void *obj)
{
	return tdc_cbor_u32(d, &((struct tdc_cpu_claim *)obj)->cpu);
}

static int dec_cpu_delta(struct tdc_cbor_rd *d, void *obj)
{
	return dec_table(d, &((struct tdc_cpu_claim *)obj)->delta, true);
}

static int dec_cpu_xcr0(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_cpu_claim *cc = obj;

	cc->has_xcr0 = true;
	return tdc_cbor_uint(d, UINT64_MAX, &cc->xcr0);
}

static const struct tdc_cbor_field cpu_fields[] = {
	{ K_CPU_CPU, "cpu", true, dec_cpu_cpu },
	{ K_CPU_DELTA, "delta", true, dec_cpu_delta },
	{ K_CPU_XCR0, "xcr0", false, dec_cpu_xcr0 },
};

/* CPU numbers strictly ascending: one canonical order, no duplicates. */
static int ascending(struct tdc_cbor_rd *d, size_t i, uint32_t prev, uint32_t cpu)
{
	if (i == 0 || cpu > prev)
		return 0;
	if (cpu == prev)
		return tdc_cbor_fail(d, TDC_ERR_DUPLICATE, "CPU %u listed twice", cpu);
	return tdc_cbor_fail(d, TDC_ERR_FORMAT,
			     "CPU %u after CPU %u: CPU numbers must be strictly ascending",
			     cpu, prev);
}

static int dec_cpus(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	size_t n;
	int r;

	if ((r = tdc_cbor_array(d, TDC_CLAIMS_MAX_CPUS, MIN_CPU_BYTES, &n)) != 0)
		return r;
	if (n && !(c->cpus = calloc(n, sizeof(*c->cpus))))
		return tdc_cbor_fail(d, TDC_ERR_ALLOC, "%zu CPUs", n);
	c->ncpus = n; /* zeroed entries free cleanly if we fail part-way */
	tdc_cbor_push_idx(d, 0);
	for (size_t i = 0; i < n; i++) {
		tdc_cbor_set_idx(d, (long)i);
		if ((r = tdc_cbor_decode_map(d, cpu_fields, 3, &c->cpus[i])) != 0 ||
		    (r = ascending(d, i, i ? c->cpus[i - 1].cpu : 0, c->cpus[i].cpu)) != 0)
			break;
	}
	tdc_cbor_pop(d);
	return r;
}

static int dec_one_skipped(struct tdc_cbor_rd *d, struct tdc_skipped_cpu *s)
{
	int r;

	if ((r = tdc_cbor_array_exact(d, 2, "array [cpu, reason]")) != 0)
		return r;
	tdc_cbor_push_idx(d, 0);
	if ((r = tdc_cbor_u32(d, &s->cpu)) != 0)
		goto out;
	tdc_cbor_set_idx(d, 1);
	if ((r = tdc_cbor_text(d, s->reason, sizeof(s->reason))) != 0)
		goto out;
	if (!s->reason[0])
		r = tdc_cbor_fail(d, TDC_ERR_FORMAT, "empty reason");
out:
	tdc_cbor_pop(d);
	return r;
}

static int dec_skipped(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	size_t n;
	int r;

	if ((r = tdc_cbor_array(d, TDC_CLAIMS_MAX_SKIPPED, MIN_SKIPPED_BYTES, &n)) != 0)
		return r;
	if (n && !(c->skipped = calloc(n, sizeof(*c->skipped))))
		return tdc_cbor_fail(d, TDC_ERR_ALLOC, "%zu skipped CPUs", n);
	c->nskipped = n;
	tdc_cbor_push_idx(d, 0);
	for (size_t i = 0; i < n; i++) {
		tdc_cbor_set_idx(d, (long)i);
		if ((r = dec_one_skipped(d, &c->skipped[i])) != 0 ||
		    (r = ascending(d, i, i ? c->skipped[i - 1].cpu : 0, c->skipped[i].cpu)) != 0)
			break;
	}
	tdc_cbor_pop(d);
	return r;
}

static int dec_xcr0(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;

	c->has_xcr0 = true;
	return tdc_cbor_uint(d, UINT64_MAX, &c->xcr0);
}

static int dec_kernel(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;

	return tdc_cbor_text(d, c->kernel_release, sizeof(c->kernel_release));
}

static int dec_agent(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;

	return tdc_cbor_text(d, c->agent_version, sizeof(c->agent_version));
}

static int dec_vm_name(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	int r;

	if ((r = tdc_cbor_text(d, c->vm_name, sizeof(c->vm_name))) != 0)
		return r;
	/* "" means absent; a present empty name would be a second spelling. */
	if (!c->vm_name[0])
		return tdc_cbor_fail(d, TDC_ERR_FORMAT, "present but empty (omit the key)");
	return 0;
}

static int dec_cpuid_count(struct tdc_cbor_rd *d, void *obj)
{
	return tdc_cbor_uint(d, UINT64_MAX, &((struct tdc_claims *)obj)->cpuid_count);
}

static int dec_tdc_known(struct tdc_cbor_rd *d, void *obj)
{
	return tdc_cbor_uint(d, UINT64_MAX, &((struct tdc_td_controls *)obj)->known);
}

static int dec_tdc_value(struct tdc_cbor_rd *d, void *obj)
{
	return tdc_cbor_uint(d, UINT64_MAX, &((struct tdc_td_controls *)obj)->value);
}

static int dec_tdc_method(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_td_controls *t = obj;

	return tdc_cbor_text(d, t->method, sizeof(t->method));
}

static const struct tdc_cbor_field td_controls_fields[] = {
	{ K_TDC_KNOWN, "known", true, dec_tdc_known },
	{ K_TDC_VALUE, "value", true, dec_tdc_value },
	{ K_TDC_METHOD, "method", true, dec_tdc_method },
};

static int dec_td_controls(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_td_controls *t = &((struct tdc_claims *)obj)->td_controls;
	char msg[128];
	int r;

	if ((r = tdc_cbor_decode_map(d, td_controls_fields,
				     sizeof(td_controls_fields) / sizeof(td_controls_fields[0]),
				     t)) != 0)
		return r;
	if ((r = td_controls_problem(t, msg, sizeof(msg))) != 0)
		return tdc_cbor_fail(d, r, "%s", msg);
	t->present = true;
	return 0;
}

static int dec_binding(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	char s[16];
	int r;

	if ((r = tdc_cbor_text(d, s, sizeof(s))) != 0)
		return r;
	if (tdc_binding_parse(s, &c->binding) != 0)
		return tdc_cbor_fail(d, TDC_ERR_RANGE, "unknown binding '%s' (expected rtmr3)", s);
	/* The default is spelled by omission only. */
	if (c->binding == TDC_BIND_REPORTDATA)
		return tdc_cbor_fail(d, TDC_ERR_FORMAT, "\"reportdata\" is the default: omit the key");
	return 0;
}

static int dec_cpu_set(struct tdc_cbor_rd *d, void *obj)
{
	struct tdc_claims *c = obj;
	char s[16];
	int r;

	if ((r = tdc_cbor_text(d, s, sizeof(s))) != 0)
		return r;
	for (size_t i = 1; i < sizeof(cpu_set_names) / sizeof(cpu_set_names[0]); i++)
		if (!strcmp(s, cpu_set_names[i])) {
			c->cpu_set = (enum tdc_cpu_set)i;
			return 0;
		}
	if (!strcmp(s, cpu_set_names[TDC_CPUSET_SYSFS]))
		return tdc_cbor_fail(d, TDC_ERR_FORMAT, "\"sysfs\" is the default: omit the key");
	return tdc_cbor_fail(d, TDC_ERR_RANGE, "unknown CPU set source '%s' (expected cpuinfo, "
			     "sysconf or affinity)", s);
}

/* Sorted by key: canonical order, and version comes first. */
static const struct tdc_cbor_field claims_fields[] = {
	{ K_VERSION, "version", true, dec_version },
	{ K_NONCE, "nonce", true, dec_nonce },
	{ K_TEE, "tee", true, dec_tee },
	{ K_COMMON, "common", true, dec_common },
	{ K_CPUS, "cpus", true, dec_cpus },
	{ K_SKIPPED, "skipped", true, dec_skipped },
	{ K_XCR0, "xcr0", false, dec_xcr0 },
	{ K_KERNEL, "kernel_release", true, dec_kernel },
	{ K_AGENT, "agent_version", true, dec_agent },
	{ K_VM_NAME, "vm_name", false, dec_vm_name },
	{ K_CPUID_COUNT, "cpuid_count", true, dec_cpuid_count },
	{ K_TD_CONTROLS, "td_controls", false, dec_td_controls },
	{ K_BINDING, "binding", false, dec_binding },
	{ K_CPU_SET, "cpu_set", false, dec_cpu_set },
};

/* Rules that relate fields to each other, checked once all are decoded. */
static int cross_check(const struct tdc_claims *c)
{
	char msg[160];
	size_t i, j;
	int r;

	for (i = 0; i < c->ncpus; i++) {
		const struct tdc_cpuid_table *t = &c->cpus[i].delta;

		for (j = 0; j < t->n; j++)
			if ((r = delta_problem(&c->common, &t->e[j], msg, sizeof(msg))) != 0)
				return tdc_err(r, "claims.cpus[%zu].delta[%zu]: %s", i, j, msg);
	}
	/* Both lists ascending: one merge walk finds a CPU in both. */
	for (i = 0, j = 0; i < c->ncpus && j < c->nskipped;) {
		if (c->cpus[i].cpu == c->skipped[j].cpu)
			return tdc_err(TDC_ERR_DUPLICATE,
				       "claims.skipped[%zu]: CPU %u is also listed in claims.cpus[%zu]",
				       j, c->skipped[j].cpu, i);
		if (c->cpus[i].cpu < c->skipped[j].cpu)
			i++;
		else
			j++;
	}
	return 0;
}

/* @c is (re)initialised here; on error it is left empty. */
int tdc_claims_decode(const uint8_t *data, size_t len, struct tdc_claims *c)
{
	struct tdc_cbor_rd d;
	int r;

	tdc_claims_init(c);
	if (len > TDC_EVIDENCE_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "claims: %zu bytes exceed the limit of %u",
			       len, TDC_EVIDENCE_MAX);
	tdc_cbor_rd_init(&d, data, len, "claims");
	if ((r = tdc_cbor_decode_map(&d, claims_fields,
				     sizeof(claims_fields) / sizeof(claims_fields[0]), c)) != 0 ||
	    (r = tdc_cbor_expect_end(&d)) != 0 ||
	    (r = cross_check(c)) != 0)
		tdc_claims_free(c);
	return r;
}

/* ============================ per-CPU view ============================ */


/* @out is initialised here (any previous contents are not freed). */
int tdc_claims_cpu_table(const struct tdc_claims *c, uint32_t cpu,
			 struct tdc_cpuid_table *out)
{
	const struct tdc_cpu_claim *cc = NULL;
	int r;

	tdc_cpuid_table_init(out);
	for (size_t i = 0; i < c->ncpus && !cc; i++)
		if (c->cpus[i].cpu == cpu)
			cc = &c->cpus[i];
	if (!cc)
		return tdc_err(TDC_ERR_NOT_FOUND, "claims: CPU %u was not probed", cpu);
	if ((r = tdc_cpuid_table_copy(out, &c->common)) != 0)
		return r;
	for (size_t i = 0; i < cc->delta.n; i++) {
		const struct tdc_cpuid_entry *e = &cc->delta.e[i];

		if (e->flags & TDC_CPUID_F_ABSENT)
			tdc_cpuid_table_remove(out, e->leaf, e->subleaf);
		else if ((r = tdc_cpuid_table_set(out, e)) != 0)
			goto out;
	}
	tdc_cpuid_table_sort(out);
out:
	if (r)
		tdc_cpuid_table_free(out);
	return r;
}
