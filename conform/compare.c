// SPDX-License-Identifier: MIT
/*
 * The `kvm` platform model applied to a conformance run: the guest must see
 * what was set (TDC_C_AS_SET), except the dynamic fields KVM or the CPU
 * rewrite at run time.  Interface and rationale: compare.h.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "tdcpuid/error.h"

/*
 * Dynamic fields of the kvm model (policies/models/kvm.json carries the same
 * list with sources): values KVM or the CPU change after KVM_SET_CPUID2.
 *   - 01H:EBX[31:24] initial APIC ID, 0BH/1FH:EDX x2APIC ID: per vCPU
 *     (Linux arch/x86/kvm/cpuid.c leaves them to userspace per vCPU).
 *   - 01H:ECX[27] OSXSAVE, 07H.0:ECX[4] OSPKE: mirror CR4.OSXSAVE/PKE
 *     (kvm_update_cpuid_runtime()).
 *   - 0DH.0:EBX / 0DH.1:EBX: XSAVE area size for the current XCR0 / XSS.
 */
struct dyn_field {
	uint32_t leaf;
	int64_t subleaf;   /* -1: every subleaf */
	uint8_t reg;
	uint32_t mask;
};

static const struct dyn_field kvm_dynamic[] = {
	{ 0x01, -1, TDC_EBX, 0xff000000u },
	{ 0x01, -1, TDC_ECX, 1u << 27 },
	{ 0x07, 0, TDC_ECX, 1u << 4 },
	{ 0x0b, -1, TDC_EDX, 0xffffffffu },
	{ 0x0d, 0, TDC_EBX, 0xffffffffu },
	{ 0x0d, 1, TDC_EBX, 0xffffffffu },
	{ 0x1f, -1, TDC_EDX, 0xffffffffu },
};

uint32_t tdc_conform_dynamic_mask(uint32_t leaf, uint32_t subleaf, enum tdc_reg reg)
{
	uint32_t m = 0;

	for (size_t i = 0; i < sizeof(kvm_dynamic) / sizeof(kvm_dynamic[0]); i++) {
		const struct dyn_field *d = &kvm_dynamic[i];

		if (d->leaf == leaf && d->reg == reg &&
		    (d->subleaf < 0 || d->subleaf == (int64_t)subleaf))
			m |= d->mask;
	}
	return m;
}

/* Same spelling as tdc_verdict_name() (verdict.h) uses for the JSON keys. */
static const char *verdict_key(int v)
{
	static const char *const names[TDC_V__COUNT] = {
		"confirmed", "forced", "unsupported", "native", "calculated",
		"dynamic", "untrusted", "mismatch",
	};

	return v >= 0 && v < TDC_V__COUNT ? names[v] : "?";
}

void tdc_conform_report_init(struct tdc_conform_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void tdc_conform_report_free(struct tdc_conform_report *rep)
{
	free(rep->regs);
	tdc_conform_report_init(rep);
}

static int report_add(struct tdc_conform_report *rep, const struct tdc_conform_reg *r)
{
	if (rep->n == rep->cap) {
		size_t ncap = rep->cap ? rep->cap * 2 : 256;
		struct tdc_conform_reg *p = realloc(rep->regs, ncap * sizeof(*p));

		if (!p)
			return tdc_err(TDC_ERR_ALLOC, "conformance report of %zu registers", ncap);
		rep->regs = p;
		rep->cap = ncap;
	}
	rep->regs[rep->n++] = *r;
	for (int v = 0; v < TDC_V__COUNT; v++)
		rep->bits[v] += __builtin_popcount(r->mask[v]);
	rep->unspecified += __builtin_popcount(~r->known);
	return 0;
}

static const struct tdc_cpuid_entry *find_exact(const struct tdc_cpuid_table *t,
						uint32_t leaf, uint32_t subleaf)
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(t, leaf, subleaf);

	/* An indexed entry for another subleaf is not this one. */
	if (e && (e->flags & TDC_CPUID_F_INDEXED) && e->subleaf != subleaf)
		return NULL;
	return e;
}

/* Start leaf of the block that holds @leaf (hypervisor blocks are 0x100 apart). */
static uint32_t block_base(uint32_t leaf)
{
	static const uint32_t bases[] = { 0x80860000, 0x80000000, 0x20000000, 0x00000000 };

	if (tdc_cpuid_range_of(leaf) == TDC_RANGE_HYPERVISOR)
		return leaf & ~0xffu;
	if (tdc_cpuid_range_of(leaf) == TDC_RANGE_CENTAUR)
		return 0xc0000000;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (leaf >= bases[i])
			return bases[i];
	return 0;
}

/*
 * An entry the configuration does not list is still a request where KVM
 * defines the answer: inside a range the configuration declares (its base
 * leaf's EAX), an absent leaf reads as zeros.  Out of range the answer is
 * vendor-specific (Intel repeats the highest basic leaf), so no request.
 */
static bool absent_is_zero(const struct tdc_cpuid_table *req, uint32_t leaf)
{
	uint32_t base = block_base(leaf);
	const struct tdc_cpuid_entry *b = find_exact(req, base, 0);

	return b && leaf != base && leaf <= b->regs[TDC_EAX];
}

/* Does the configuration specify whole registers (KVM_SET_CPUID2-like)? */
static bool config_is_complete(const struct tdc_requested *req)
{
	for (size_t i = 0; i < req->known.n; i++)
		for (int k = 0; k < TDC_NREGS; k++)
			if (req->known.e[i].regs[k] != 0xffffffffu)
				return false;
	return true;
}

static int compare_cpu(const struct tdc_requested *req, const struct tdc_cpuid_table *rt,
		       const struct tdc_cpuid_table *obs, uint32_t cpu, bool complete,
		       struct tdc_conform_report *rep)
{
	int r;

	for (size_t i = 0; i < obs->n; i++) {
		const struct tdc_cpuid_entry *o = &obs->e[i];
		const struct tdc_cpuid_entry *q = find_exact(rt, o->leaf, o->subleaf);
		const struct tdc_cpuid_entry *k = find_exact(&req->known, o->leaf, o->subleaf);

		for (int g = 0; g < TDC_NREGS; g++) {
			struct tdc_conform_reg cr = {
				.cpu = cpu, .leaf = o->leaf, .subleaf = o->subleaf,
				.indexed = (o->flags & TDC_CPUID_F_INDEXED) != 0,
				.requested_present = q != NULL, .reg = g,
				.seen = o->regs[g],
			};
			uint32_t diff, dyn;

			if (q) {
				cr.requested = q->regs[g];
				cr.known = k ? k->regs[g] : complete ? 0xffffffffu : 0;
			} else {
				cr.known = complete && absent_is_zero(rt, o->leaf) ? 0xffffffffu : 0;
			}
			diff = (cr.requested ^ cr.seen) & cr.known;
			dyn = tdc_conform_dynamic_mask(o->leaf, o->subleaf, g) & cr.known;
			cr.mask[TDC_V_DYNAMIC] = dyn;
			cr.mask[TDC_V_MISMATCH] = diff & ~dyn;
			cr.mask[TDC_V_CONFIRMED] = ~diff & cr.known & ~dyn;
			if ((r = report_add(rep, &cr)) != 0)
				return r;
		}
	}
	return 0;
}

int tdc_conform_compare(const struct tdc_requested *req,
			const struct tdc_cpuid_table *observed, size_t ncpus,
			const char *model, struct tdc_conform_report *rep)
{
	bool complete = config_is_complete(req);
	int r;

	if (strcmp(model, "kvm") != 0)
		return tdc_err(TDC_ERR_UNSUPPORTED,
			       "model '%s': conformance runs of legacy VMs use the kvm model", model);
	snprintf(rep->model, sizeof(rep->model), "%s", model);
	rep->ncpus = ncpus;
	for (size_t c = 0; c < ncpus; c++) {
		const struct tdc_cpuid_table *rt =
			req->per_cpu && c < req->ncpus ? &req->per_cpu[c] : &req->table;

		if ((r = compare_cpu(req, rt, &observed[c], c, complete, rep)) != 0)
			return r;
	}
	rep->pass = rep->bits[TDC_V_MISMATCH] == 0;
	return 0;
}

/* ---- output --------------------------------------------------------- */

static const char *bitname(char *buf, size_t len, const struct tdc_conform_reg *r, unsigned b)
{
	return tdc_format_bit(buf, len, r->leaf, r->subleaf, r->indexed, r->reg, b);
}

static bool same_bit(const struct tdc_conform_reg *a, const struct tdc_conform_reg *b)
{
	return a->leaf == b->leaf && a->subleaf == b->subleaf && a->reg == b->reg;
}

/* vCPUs on which bit @b of @r's register mismatches the same way: "0-3" or "0,2". */
static void cpu_list(const struct tdc_conform_report *rep, const struct tdc_conform_reg *r,
		     unsigned b, char *buf, size_t len)
{
	uint32_t m = 1u << b;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < rep->n && used < len; i++) {
		const struct tdc_conform_reg *o = &rep->regs[i];

		if (!same_bit(o, r) || !(o->mask[TDC_V_MISMATCH] & m) ||
		    (o->seen & m) != (r->seen & m))
			continue;
		used += snprintf(buf + used, len - used, "%s%u", used ? "," : "", o->cpu);
	}
}

/* Has an earlier register of another vCPU already printed this bit? */
static bool printed_before(const struct tdc_conform_report *rep, size_t idx, unsigned b)
{
	const struct tdc_conform_reg *r = &rep->regs[idx];
	uint32_t m = 1u << b;

	for (size_t i = 0; i < idx; i++)
		if (same_bit(&rep->regs[i], r) && (rep->regs[i].mask[TDC_V_MISMATCH] & m) &&
		    (rep->regs[i].seen & m) == (r->seen & m))
			return true;
	return false;
}

static int format_text(const struct tdc_conform_report *rep, const char *header,
		       struct tdc_buf *out)
{
	char name[TDC_BITNAME_MAX], cpus[256];
	int r;

	if (header && (r = tdc_buf_printf(out, "%s\n", header)) != 0)
		return r;
	for (size_t i = 0; i < rep->n; i++) {
		const struct tdc_conform_reg *cr = &rep->regs[i];

		for (unsigned b = 0; b < 32; b++) {
			if (!(cr->mask[TDC_V_MISMATCH] & (1u << b)) || printed_before(rep, i, b))
				continue;
			cpu_list(rep, cr, b, cpus, sizeof(cpus));
			r = tdc_buf_printf(out,
					   "MISMATCH: %s: requested %u, guest sees %u, model %s says as-set (vCPU %s)\n",
					   bitname(name, sizeof(name), cr, b),
					   (cr->requested >> b) & 1, (cr->seen >> b) & 1,
					   rep->model, cpus);
			if (r)
				return r;
		}
	}
	return tdc_buf_printf(out,
			      "bits: %zu confirmed, %zu dynamic, %zu mismatch (%zu vCPU(s), %zu registers, %zu bits not specified by the configuration)\n"
			      "verdict: %s\n",
			      rep->bits[TDC_V_CONFIRMED], rep->bits[TDC_V_DYNAMIC],
			      rep->bits[TDC_V_MISMATCH], rep->ncpus, rep->n, rep->unspecified,
			      rep->pass ? "PASS" : "FAIL");
}

static int json_set(json_t *obj, const char *key, json_t *val)
{
	if (!val || json_object_set_new(obj, key, val) != 0)
		return tdc_err(TDC_ERR_ALLOC, "JSON output: %s", key);
	return 0;
}

static int json_reg(const struct tdc_conform_reg *cr, json_t *regs, json_t *mism)
{
	char name[TDC_BITNAME_MAX];
	json_t *o = json_object();
	int r = 0;

	if (!o || json_array_append_new(regs, o) != 0)
		return tdc_err(TDC_ERR_ALLOC, "JSON output: registers");
	if ((r = json_set(o, "cpu", json_integer(cr->cpu))) ||
	    (r = json_set(o, "leaf", json_integer(cr->leaf))) ||
	    (r = json_set(o, "subleaf", json_integer(cr->subleaf))) ||
	    (r = json_set(o, "reg", json_string(tdc_reg_name(cr->reg)))) ||
	    (r = json_set(o, "in_requested", json_boolean(cr->requested_present))) ||
	    (r = json_set(o, "requested", json_integer(cr->requested))) ||
	    (r = json_set(o, "known", json_integer(cr->known))) ||
	    (r = json_set(o, "seen", json_integer(cr->seen))))
		return r;
	for (int v = 0; v < TDC_V__COUNT; v++)
		if (cr->mask[v] && (r = json_set(o, verdict_key(v), json_integer(cr->mask[v]))))
			return r;
	for (unsigned b = 0; b < 32; b++) {
		json_t *m;

		if (!(cr->mask[TDC_V_MISMATCH] & (1u << b)))
			continue;
		m = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:I}",
			      "bit", bitname(name, sizeof(name), cr, b), "cpu", (json_int_t)cr->cpu,
			      "leaf", (json_int_t)cr->leaf, "subleaf", (json_int_t)cr->subleaf,
			      "reg", tdc_reg_name(cr->reg), "index", (json_int_t)b,
			      "requested", (json_int_t)((cr->requested >> b) & 1),
			      "seen", (json_int_t)((cr->seen >> b) & 1));
		if (!m || json_array_append_new(mism, m) != 0)
			return tdc_err(TDC_ERR_ALLOC, "JSON output: mismatches");
	}
	return 0;
}

static int format_json(const struct tdc_conform_report *rep, const char *header,
		       struct tdc_buf *out)
{
	json_t *root = json_object(), *counts = json_object();
	json_t *regs = json_array(), *mism = json_array();
	char *s = NULL;
	int r;

	if (!root || !counts || !regs || !mism) {
		json_decref(counts);
		json_decref(regs);
		json_decref(mism);
		r = tdc_err(TDC_ERR_ALLOC, "JSON output");
		goto out;
	}
	if ((r = json_set(root, "counts", counts)) ||
	    (r = json_set(root, "registers", regs)) ||
	    (r = json_set(root, "mismatches", mism))) {
		goto out;
	}
	if ((r = json_set(root, "tool", json_string("tdcpuid-conform"))) ||
	    (r = json_set(root, "run", json_string(header ? header : ""))) ||
	    (r = json_set(root, "model", json_string(rep->model))) ||
	    (r = json_set(root, "vcpus", json_integer(rep->ncpus))) ||
	    (r = json_set(root, "result", json_string(rep->pass ? "pass" : "fail"))))
		goto out;
	for (int v = 0; v < TDC_V__COUNT; v++)
		if ((r = json_set(counts, verdict_key(v), json_integer(rep->bits[v]))))
			goto out;
	for (size_t i = 0; i < rep->n; i++)
		if ((r = json_reg(&rep->regs[i], regs, mism)) != 0)
			goto out;
	if (!(s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		r = tdc_err(TDC_ERR_ALLOC, "JSON output");
		goto out;
	}
	r = tdc_buf_printf(out, "%s\n", s);
out:
	free(s);
	json_decref(root);
	return r;
}

int tdc_conform_report_format(const struct tdc_conform_report *rep,
			      enum tdc_conform_format fmt, const char *header,
			      struct tdc_buf *out)
{
	return fmt == TDC_CONFORM_JSON ? format_json(rep, header, out)
				       : format_text(rep, header, out);
}
