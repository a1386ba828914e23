// SPDX-License-Identifier: Apache-2.0
/*
 * --scan: which requested bits does this KVM honour?  For every bit of every
 * feature register (a register the feature-name database names bits in),
 * flip the bit in the requested table, start a fresh one-vCPU VM (KVM
 * refuses KVM_SET_CPUID2 changes after the first KVM_RUN), execute that one
 * (leaf, subleaf) and see whether the guest follows.  Flipped: bits that are
 * 1 (can the host hide a feature?) and named bits that are 0 (can it
 * expose one?).  A run is a few milliseconds, so a full scan takes seconds.
 *
 * The kvm model's dynamic bits (OSXSAVE, APIC ID, ...) are left out: the
 * guest's value there does not follow the table by design.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "kvm.h"
#include "model.h"
#include "scan.h"
#include "tdcpuid/error.h"

static const char *const result_names[] = {
	[TDC_SCAN_HONOURED] = "honoured",
	[TDC_SCAN_STUCK0] = "ignored",
	[TDC_SCAN_STUCK1] = "ignored",
	[TDC_SCAN_OTHER] = "other",
};

static bool is_feature_reg(uint32_t leaf, uint32_t subleaf, enum tdc_reg reg)
{
	size_t n;
	const struct tdc_feature *f = tdc_feature_table(&n);

	for (size_t i = 0; i < n; i++)
		if (f[i].leaf == leaf && f[i].subleaf == subleaf && f[i].reg == reg)
			return true;
	return false;
}

/* One fresh VM with @table, CPUID(leaf, subleaf) once; the register value. */
static int run_one(const struct tdc_cpuid_table *table, const struct tdc_cpuid_entry *want,
		   unsigned timeout_ms, uint32_t regs[TDC_NREGS])
{
	struct tdc_cpuid_table list, out;
	struct tdc_kvm_vm *vm = NULL;
	struct tdc_cpuid_entry e = *want;
	int r;

	tdc_cpuid_table_init(&list);
	tdc_cpuid_table_init(&out);
	memset(e.regs, 0, sizeof(e.regs));
	if ((r = tdc_cpuid_table_set(&list, &e)) != 0 ||
	    (r = tdc_kvm_vm_create(1, timeout_ms, &vm)) != 0 ||
	    (r = tdc_kvm_vm_set_cpuid(vm, 0, table)) != 0 ||
	    (r = tdc_kvm_vm_exec(vm, &list, &out, 1)) != 0)
		goto out;
	if (out.n != 1) {
		r = tdc_err(TDC_ERR_INTERNAL, "scan: %zu results for one CPUID", out.n);
		goto out;
	}
	memcpy(regs, out.e[0].regs, sizeof(out.e[0].regs));
out:
	tdc_kvm_vm_destroy(vm);
	tdc_cpuid_table_free(&list);
	tdc_cpuid_table_free(&out);
	return r;
}

static int scan_add(struct tdc_scan *s, const struct tdc_scan_bit *b)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		struct tdc_scan_bit *p = realloc(s->bits, ncap * sizeof(*p));

		if (!p)
			return tdc_err(TDC_ERR_ALLOC, "scan results");
		s->bits = p;
		s->cap = ncap;
	}
	s->bits[s->n++] = *b;
	s->count[b->result]++;
	return 0;
}

static bool is_dynamic(const struct tdc_model *m, const struct tdc_cpuid_entry *e,
		       enum tdc_reg reg, unsigned bit)
{
	enum tdc_bitclass cls;
	const char *src;

	return tdc_model_classify(m, e->leaf, e->subleaf, reg, bit, &cls, &src) == 0 &&
	       cls == TDC_C_DYNAMIC;
}

static int scan_reg(struct tdc_scan *s, const struct tdc_model *m,
		    struct tdc_cpuid_table *t, size_t idx, enum tdc_reg reg,
		    const uint32_t base[TDC_NREGS], unsigned timeout_ms)
{
	struct tdc_cpuid_entry *e = &t->e[idx];
	uint32_t regs[TDC_NREGS];
	int r;

	for (unsigned b = 0; b < 32; b++) {
		uint32_t m1 = 1u << b, saved = e->regs[reg];
		struct tdc_scan_bit sb = { .leaf = e->leaf, .subleaf = e->subleaf,
					   .indexed = (e->flags & TDC_CPUID_F_INDEXED) != 0,
					   .reg = reg, .bit = b };

		if (is_dynamic(m, e, reg, b))
			continue;
		if (!(saved & m1) && !tdc_feature_lookup(e->leaf, e->subleaf, reg, b))
			continue;
		sb.requested = (saved & m1) != 0;
		sb.seen_base = (base[reg] & m1) != 0;
		e->regs[reg] ^= m1;
		r = run_one(t, e, timeout_ms, regs);
		e->regs[reg] = saved;
		if (r)
			return r;
		sb.seen_flipped = (regs[reg] & m1) != 0;
		if (sb.seen_base == sb.requested && sb.seen_flipped == !sb.requested)
			sb.result = TDC_SCAN_HONOURED;
		else if (sb.seen_base == sb.seen_flipped)
			sb.result = sb.seen_base ? TDC_SCAN_STUCK1 : TDC_SCAN_STUCK0;
		else
			sb.result = TDC_SCAN_OTHER;
		if ((r = scan_add(s, &sb)) != 0)
			return r;
	}
	return 0;
}

int tdc_conform_scan(const struct tdc_requested *req, unsigned timeout_ms, struct tdc_scan *s)
{
	struct tdc_cpuid_table t;
	struct tdc_model *m = NULL;
	double t0 = tdc_conform_now_ms();
	int r;

	tdc_cpuid_table_init(&t);
	if ((r = tdc_model_load("kvm", &m)) != 0 ||
	    (r = tdc_cpuid_table_copy(&t, &req->table)) != 0)
		goto out;
	for (size_t i = 0; i < t.n; i++) {
		uint32_t base[TDC_NREGS];
		bool any = false;

		for (int g = 0; g < TDC_NREGS; g++)
			any |= is_feature_reg(t.e[i].leaf, t.e[i].subleaf, g);
		if (!any)
			continue;
		if ((r = run_one(&t, &t.e[i], timeout_ms, base)) != 0)
			goto out;
		s->runs++;
		for (int g = 0; g < TDC_NREGS; g++) {
			size_t before = s->n;

			if (is_feature_reg(t.e[i].leaf, t.e[i].subleaf, g) &&
			    (r = scan_reg(s, m, &t, i, g, base, timeout_ms)) != 0)
				goto out;
			s->runs += s->n - before;
		}
	}
	s->ms = tdc_conform_now_ms() - t0;
out:
	tdc_model_free(m);
	tdc_cpuid_table_free(&t);
	return r;
}

void tdc_scan_free(struct tdc_scan *s)
{
	free(s->bits);
	memset(s, 0, sizeof(*s));
}

static const char *scan_line(const struct tdc_scan_bit *b, char *buf, size_t len)
{
	char name[TDC_BITNAME_MAX];

	tdc_format_bit(name, sizeof(name), b->leaf, b->subleaf, b->indexed, b->reg, b->bit);
	switch (b->result) {
	case TDC_SCAN_HONOURED:
		snprintf(buf, len, "HONOURED %s: set %u -> guest sees %u, set %u -> sees %u", name,
			 b->requested, b->seen_base, !b->requested, b->seen_flipped);
		break;
	case TDC_SCAN_STUCK0:
	case TDC_SCAN_STUCK1:
		snprintf(buf, len, "IGNORED  %s: guest sees %u whether %u or %u is set", name,
			 b->seen_base, b->requested, !b->requested);
		break;
	default:
		snprintf(buf, len, "OTHER    %s: set %u -> sees %u, set %u -> sees %u", name,
			 b->requested, b->seen_base, !b->requested, b->seen_flipped);
	}
	return buf;
}

static int scan_json(const struct tdc_scan *s, struct tdc_buf *out)
{
	json_t *root, *bits = json_array();
	char name[TDC_BITNAME_MAX], *txt;
	int r;

	for (size_t i = 0; bits && i < s->n; i++) {
		const struct tdc_scan_bit *b = &s->bits[i];

		tdc_format_bit(name, sizeof(name), b->leaf, b->subleaf, b->indexed, b->reg, b->bit);
		json_array_append_new(bits, json_pack("{s:s, s:I, s:I, s:s, s:i, s:i, s:i, s:i, s:s}",
			"name", name, "leaf", (json_int_t)b->leaf, "subleaf", (json_int_t)b->subleaf,
			"reg", tdc_reg_name(b->reg), "bit", b->bit, "requested", b->requested,
			"seen", b->seen_base, "seen_flipped", b->seen_flipped,
			"result", result_names[b->result]));
	}
	root = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "format", "tdcpuid-conform-scan",
			 "honoured", (json_int_t)s->count[TDC_SCAN_HONOURED],
			 "ignored", (json_int_t)(s->count[TDC_SCAN_STUCK0] + s->count[TDC_SCAN_STUCK1]),
			 "other", (json_int_t)s->count[TDC_SCAN_OTHER],
			 "runs", (json_int_t)s->runs, "bits", bits);
	if (!root || !(txt = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		json_decref(root);
		return tdc_err(TDC_ERR_ALLOC, "scan JSON");
	}
	r = tdc_buf_printf(out, "%s\n", txt);
	free(txt);
	json_decref(root);
	return r;
}

int tdc_scan_format(const struct tdc_scan *s, bool json, struct tdc_buf *out)
{
	char line[256];
	int r;

	if (json)
		return scan_json(s, out);
	for (size_t i = 0; i < s->n; i++)
		if ((r = tdc_buf_printf(out, "%s\n", scan_line(&s->bits[i], line, sizeof(line)))) != 0)
			return r;
	return tdc_buf_printf(out, "scan: %zu bits, %zu honoured, %zu ignored, %zu other; %zu VM runs in %.0f ms\n",
			      s->n, s->count[TDC_SCAN_HONOURED],
			      s->count[TDC_SCAN_STUCK0] + s->count[TDC_SCAN_STUCK1],
			      s->count[TDC_SCAN_OTHER], s->runs, s->ms);
}
