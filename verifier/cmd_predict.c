// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier predict: run a platform model forward before anything is
 * launched.  From the host's native CPUID (`cpuid -r`), the requested
 * configuration and the TD parameters, print the CPUID the TD will see
 * (raw: `cpuid -r` lines, byte-compatible), the bits the TDX module will
 * force on, force off or refuse (text: QEMU's message style), or all of it
 * per bit (json).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model.h"
#include "verifier.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/json.h"
#include "tdcpuid/kvm_tdx.h"
#include "tdcpuid/requested.h"

#define CMD "predict"

enum pformat { PF_TEXT, PF_RAW, PF_JSON, PF_CAPS };

struct popts {
	const char *model;
	const char *platform;
	const char *requested;
	const char *req_format;
	bool has_xfam, has_attr, has_tsc;
	uint64_t xfam, attributes, tsc_khz;
	uint32_t vcpu;
	int config;  /* -1 auto, 0 filter, 1 strict */
	bool module_only;  /* --host module: TD_PARAMS straight to the module, no KVM */
	const char *td_ctls;
	enum pformat format;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s " CMD " [--model NAME|FILE] [--platform CPUID_R] [--requested FILE]\n"
		"         [--requested-format FMT] [--xfam HEX] [--attributes HEX] [--tsc-khz N]\n"
		"         [--vcpu N] [--config strict|filter] [--format text|raw|json]\n"
		"\n"
		"Predict the CPUID a TD (or VM) will see, before it is launched.\n"
		"\n"
		"  --model NAME       platform model: tdx-<release> (every TDX module release,\n"
		"                     e.g. tdx-1.5.25), tdx (default: the newest known release),\n"
		"                     kvm, or a file; see docs/models.md\n"
		"  --platform FILE    the host's `cpuid -r` output (CPU 0 is used); without it,\n"
		"                     bits the module takes from the CPU are reported unpredicted\n"
		"  --requested FILE   requested configuration in any importer format\n"
		"                     (kvm-json, qmp, cpuid-r, tdx-init-vm)\n"
		"  --xfam HEX         TD XFAM (default: the requested file's, else derived from\n"
		"                     requested CPUID.0DH like QEMU, else 0x3)\n"
		"  --attributes HEX   TD ATTRIBUTES (default: the requested file's, else 0)\n"
		"  --tsc-khz N        TSC frequency (default: the requested file's, else unknown)\n"
		"  --vcpu N           vCPU index for per-vCPU fields (default 0)\n"
		"  --host kvm|module  kvm (default): the request goes through upstream KVM, which\n"
		"                     does not let TSX or WAITPKG be configured, takes\n"
		"                     0x80000008.EAX[23:16] as its GPAW knob and refuses what\n"
		"                     KVM_TDX_INIT_VM refuses; module: TD_PARAMS as given\n"
		"  --td-ctls LIST     TD controls the guest will set: unknown (default: leaves that\n"
		"                     depend on them are reported ambiguous), none, linux (what\n"
		"                     current Linux sets: REDUCE_VE, else ENUM_TOPOLOGY), or a\n"
		"                     comma list of enum_topology, virt_cpuid2, reduce_ve\n"
		"  --config MODE      strict: the requested values are the literal CPUID_CONFIG and\n"
		"                     bits outside the configurable masks are refused as the module\n"
		"                     does; filter: mask them first like QEMU (default: strict for\n"
		"                     tdx-init-vm input, filter otherwise)\n"
		"  --format FMT       text (default): forced/unsupported/refused bits;\n"
		"                     raw: `cpuid -r` lines of one vCPU (dynamic fields at reset,\n"
		"                     listed on stderr); json: every bit with class and source;\n"
		"                     capabilities: KVM_TDX_CAPABILITIES as upstream KVM reports\n"
		"                     them for this module (tdx-init-vm \"capabilities\" JSON)\n"
		"\n"
		"Exit status: 0 predicted, 2 bad input or KVM / the module would refuse the\n"
		"configuration (-EINVAL, TDX_OPERAND_INVALID...: named on stderr, no prediction\n"
		"printed), 3 internal error.\n", tdc_prog);
}

static int parse_opts(int argc, char *argv[], struct popts *o)
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "platform", required_argument, NULL, 'p' },
		{ "requested", required_argument, NULL, 'r' },
		{ "requested-format", required_argument, NULL, 'R' },
		{ "xfam", required_argument, NULL, 'x' },
		{ "attributes", required_argument, NULL, 'a' },
		{ "tsc-khz", required_argument, NULL, 't' },
		{ "vcpu", required_argument, NULL, 'v' },
		{ "config", required_argument, NULL, 'c' },
		{ "host", required_argument, NULL, 'H' },
		{ "td-ctls", required_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long long v;
	int c, r;

	*o = (struct popts){ .model = "tdx", .config = -1, .td_ctls = "unknown" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:p:r:R:x:a:t:v:c:f:H:T:h", lo, NULL)) != -1) {
		r = 0;
		switch (c) {
		case 'm': o->model = optarg; break;
		case 'p': o->platform = optarg; break;
		case 'r': o->requested = optarg; break;
		case 'R': o->req_format = optarg; break;
		case 'x':
			r = tdc_parse_u64(optarg, UINT64_MAX, &v);
			o->xfam = v;
			o->has_xfam = true;
			break;
		case 'a':
			r = tdc_parse_u64(optarg, UINT64_MAX, &v);
			o->attributes = v;
			o->has_attr = true;
			break;
		case 't':
			r = tdc_parse_u64(optarg, UINT32_MAX, &v);
			o->tsc_khz = v;
			o->has_tsc = true;
			break;
		case 'v':
			r = tdc_parse_u64(optarg, UINT32_MAX, &v);
			o->vcpu = (uint32_t)v;
			break;
		case 'c':
			if (!strcmp(optarg, "strict") || !strcmp(optarg, "filter"))
				o->config = !strcmp(optarg, "strict");
			else
				r = tdc_err(TDC_ERR_USAGE, "--config: '%s' (strict or filter)", optarg);
			break;
		case 'H':
			if (!strcmp(optarg, "kvm") || !strcmp(optarg, "module"))
				o->module_only = !strcmp(optarg, "module");
			else
				r = tdc_err(TDC_ERR_USAGE, "--host: '%s' (kvm or module)", optarg);
			break;
		case 'T':
			o->td_ctls = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				o->format = PF_TEXT;
			else if (!strcmp(optarg, "raw"))
				o->format = PF_RAW;
			else if (!strcmp(optarg, "json"))
				o->format = PF_JSON;
			else if (!strcmp(optarg, "capabilities"))
				o->format = PF_CAPS;
			else
				r = tdc_err(TDC_ERR_USAGE, "--format: '%s' (text, raw, json or "
					    "capabilities)", optarg);
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return tdc_err(TDC_ERR_USAGE, "bad option");
		}
		if (r)
			return r;
	}
	if (optind != argc)
		return tdc_err(TDC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ---- inputs -------------------------------------------------------------- */

struct pinputs {
	struct tdc_cpuid_table *plat_cpus;
	size_t nplat;
	struct tdc_requested req;
	bool have_req;
};

static void free_inputs(struct pinputs *pi)
{
	for (size_t i = 0; i < pi->nplat; i++)
		tdc_cpuid_table_free(&pi->plat_cpus[i]);
	free(pi->plat_cpus);
	if (pi->have_req)
		tdc_requested_free(&pi->req);
}

/* What QEMU asks for: XCR0 bits of CPUID.0DH.0 plus XSS bits of CPUID.0DH.1. */
static uint64_t xfam_from_requested(const struct tdc_cpuid_table *t)
{
	const struct tdc_cpuid_entry *d0 = tdc_cpuid_table_find(t, 0xd, 0);
	const struct tdc_cpuid_entry *d1 = tdc_cpuid_table_find(t, 0xd, 1);
	uint64_t x = 0;

	if (d0)
		x |= d0->regs[TDC_EAX] | (uint64_t)d0->regs[TDC_EDX] << 32;
	if (d1)
		x |= d1->regs[TDC_ECX] | (uint64_t)d1->regs[TDC_EDX] << 32;
	return x ? x : 0x3;
}

/* --td-ctls: which TD_CTLS the guest sets, as far as the user says. */
static int parse_td_ctls(const char *s, const struct tdc_model *m, struct tdc_predict_in *in)
{
	uint64_t all = tdc_model_td_controls(m);
	char buf[128], *save = NULL, *tok;

	in->td_ctls = in->td_ctls_known = 0;
	if (!strcmp(s, "unknown"))
		return 0;
	in->td_ctls_known = all;
	if (!strcmp(s, "none"))
		return 0;
	if (!strcmp(s, "linux")) {
		/* arch/x86/coco/tdx/tdx.c reduce_unnecessary_ve(): REDUCE_VE, else ENUM_TOPOLOGY. */
		in->td_ctls = all & TDC_TD_CTLS_REDUCE_VE ?
			      TDC_TD_CTLS_REDUCE_VE | TDC_TD_CTLS_ENUM_TOPOLOGY | TDC_TD_CTLS_VIRT_CPUID2 :
			      all & TDC_TD_CTLS_ENUM_TOPOLOGY;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned b;

		for (b = 1; b < 4 && strcmp(tok, tdc_model_ctl_name(b)); b++)
			;
		if (b == 4)
			return tdc_err(TDC_ERR_USAGE, "--td-ctls: unknown control '%s' (enum_topology, "
				       "virt_cpuid2, reduce_ve, none, linux, unknown)", tok);
		in->td_ctls |= 1ull << b;
	}
	/* The module forces the two that REDUCE_VE implies (TDG.VM.WR). */
	if (in->td_ctls & TDC_TD_CTLS_REDUCE_VE)
		in->td_ctls |= TDC_TD_CTLS_ENUM_TOPOLOGY | TDC_TD_CTLS_VIRT_CPUID2;
	in->td_ctls &= all;
	return 0;
}

static void fill_in(const struct popts *o, struct pinputs *pi, struct tdc_predict_in *in)
{
	const struct tdc_requested *q = pi->have_req ? &pi->req : NULL;

	memset(in, 0, sizeof(*in));
	in->platform = pi->nplat ? &pi->plat_cpus[0] : NULL;
	in->requested = q ? &q->table : NULL;
	in->requested_known = q ? &q->known : NULL;
	in->strict_config = o->config >= 0 ? o->config : q && !strcmp(q->format, "tdx-init-vm");
	in->xfam = o->has_xfam ? o->xfam : q && q->has_td_params ? q->xfam :
		   q ? xfam_from_requested(&q->table) : 0x3;
	in->attributes = o->has_attr ? o->attributes : q && q->has_td_params ? q->attributes : 0;
	in->has_tsc_khz = o->has_tsc || (q && q->has_tsc_khz);
	in->tsc_khz = o->has_tsc ? o->tsc_khz : q && q->has_tsc_khz ? q->tsc_khz : 0;
	in->vcpu = o->vcpu;
}

/* ---- bit ranges of one register with one class and source ------------------ */

struct brange {
	unsigned lo, hi;
	uint8_t cls;
	const char *src;
};

/* Next run of bits from *bit on with the same class and source. */
static bool next_range(const struct tdc_pred_reg *r, unsigned *bit, struct brange *g)
{
	if (*bit > 31)
		return false;
	g->lo = g->hi = *bit;
	g->cls = r->cls[*bit];
	g->src = r->src[*bit];
	while (g->hi < 31 && r->cls[g->hi + 1] == g->cls && r->src[g->hi + 1] == g->src)
		g->hi++;
	*bit = g->hi + 1;
	return true;
}

static uint32_t range_mask(const struct brange *g)
{
	return (g->hi == 31 ? 0xffffffffu : (1u << (g->hi + 1)) - 1) & ~((1u << g->lo) - 1);
}

static const char *range_str(char *buf, size_t len, const struct brange *g)
{
	if (g->lo == g->hi)
		snprintf(buf, len, "%u", g->lo);
	else
		snprintf(buf, len, "%u:%u", g->hi, g->lo);
	return buf;
}

/* ---- raw --------------------------------------------------------------------- */

static void list_dynamic(const struct tdc_prediction *p)
{
	char rb[TDC_BITNAME_MAX], bb[16];
	struct brange g;

	fprintf(stderr, "# dynamic fields (shown at their vCPU reset value):\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct tdc_pred_leaf *pl = &p->leaves[i];

		for (int reg = 0; reg < TDC_NREGS; reg++) {
			for (unsigned bit = 0; next_range(&pl->r[reg], &bit, &g);) {
				if (g.cls != TDC_C_DYNAMIC)
					continue;
				tdc_format_reg(rb, sizeof(rb), pl->leaf, pl->subleaf, pl->indexed, reg);
				fprintf(stderr, "#   %s[%s] = 0x%x: %s\n", rb, range_str(bb, sizeof(bb), &g),
					(pl->r[reg].value & range_mask(&g)) >> g.lo, g.src);
			}
		}
	}
}

static int print_raw(const struct popts *o, const struct tdc_prediction *p)
{
	struct tdc_cpuid_table t;
	struct tdc_buf out;
	int r;

	tdc_cpuid_table_init(&t);
	tdc_buf_init(&out);
	for (size_t i = 0; i < p->n; i++) {
		const struct tdc_pred_leaf *pl = &p->leaves[i];
		struct tdc_cpuid_entry e = { .leaf = pl->leaf, .subleaf = pl->subleaf,
					     .flags = pl->indexed ? TDC_CPUID_F_INDEXED : 0 };

		if (pl->vmm)
			continue;
		for (int reg = 0; reg < TDC_NREGS; reg++)
			e.regs[reg] = pl->r[reg].value;
		if ((r = tdc_cpuid_table_set(&t, &e)) != 0)
			goto out;
	}
	if ((r = tdc_format_cpuid_r(&t, o->vcpu, &out)) != 0)
		goto out;
	fwrite(out.data, 1, out.len, stdout);
	list_dynamic(p);
out:
	tdc_cpuid_table_free(&t);
	tdc_buf_free(&out);
	return r;
}

/* ---- text --------------------------------------------------------------------- */

/* Bits of one register of @t (an all-zero mask if absent). */
static uint32_t mask_of(const struct tdc_cpuid_table *t, uint32_t leaf, uint32_t sub, int reg)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf && t->e[i].subleaf == sub)
			return t->e[i].regs[reg];
	return 0;
}

/* Named feature bits: one QEMU-style line each. */
static void print_named(const struct tdc_pred_leaf *pl, int reg, uint32_t mask,
			const char *prefix)
{
	char bb[TDC_BITNAME_MAX];

	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		tdc_format_bit(bb, sizeof(bb), pl->leaf, pl->subleaf, pl->indexed, reg, bit);
		printf("%s: %s (%s: %s)\n", prefix, bb, tdc_bitclass_name(pl->r[reg].cls[bit]),
		       pl->r[reg].src[bit]);
	}
}

/*
 * What the module does to the request, register by register: feature bits
 * in QEMU's words; multi-bit fields (sizes, counts, descriptors) as one
 * value line, since "bit 7 forced on" of a size means nothing.
 */
static void print_changes(const struct tdc_predict_in *in, const struct tdc_prediction *p)
{
	const struct tdc_cpuid_entry *req;
	char rb[TDC_BITNAME_MAX];

	for (size_t i = 0; i < p->n; i++) {
		const struct tdc_pred_leaf *pl = &p->leaves[i];

		for (int reg = 0; reg < TDC_NREGS; reg++) {
			uint32_t on = mask_of(&p->forced_on, pl->leaf, pl->subleaf, reg);
			uint32_t off = mask_of(&p->forced_off, pl->leaf, pl->subleaf, reg);
			uint32_t named = 0, other;

			for (unsigned b = 0; b < 32; b++)
				if (tdc_feature_lookup(pl->leaf, pl->subleaf, reg, b))
					named |= 1u << b;
			print_named(pl, reg, on & named, "TDX forcibly sets the feature");
			print_named(pl, reg, off & named, "TDX doesn't support requested feature");
			if (!(other = (on | off) & ~named))
				continue;
			req = tdc_cpuid_table_find(in->requested, pl->leaf, pl->subleaf);
			tdc_format_reg(rb, sizeof(rb), pl->leaf, pl->subleaf, pl->indexed, reg);
			printf("TDX changes %s: requested 0x%08x, the TD sees 0x%08x (%s: %s)\n", rb,
			       req ? req->regs[reg] : 0, pl->r[reg].value,
			       tdc_bitclass_name(pl->r[reg].cls[__builtin_ctz(other)]),
			       pl->r[reg].src[__builtin_ctz(other)]);
		}
	}
}

/* #VE leaves the host asked to be non-zero: the TD's kernel will answer zeros. */
static void print_ve(const struct tdc_prediction *p, const struct tdc_cpuid_table *req)
{
	struct tdc_pred_leaf tmp;
	char rb[TDC_BITNAME_MAX];

	for (size_t i = 0; req && i < req->n; i++) {
		const struct tdc_cpuid_entry *e = &req->e[i];
		const struct tdc_pred_leaf *pl = tdc_prediction_lookup(p, e->leaf, e->subleaf, &tmp);

		if (!pl->ve || !(e->regs[0] | e->regs[1] | e->regs[2] | e->regs[3]))
			continue;
		tdc_format_reg(rb, sizeof(rb), e->leaf, e->subleaf,
			       e->flags & TDC_CPUID_F_INDEXED, TDC_EAX);
		*strrchr(rb, ':') = '\0';
		printf("%s: not virtualized by the module (#VE): %s; requested "
		       "eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n", rb,
		       pl->vmm ? "the VMM answers (untrusted)" : "the TD kernel answers zeros",
		       e->regs[0], e->regs[1], e->regs[2], e->regs[3]);
	}
}

static unsigned count_bits(const struct tdc_cpuid_table *t)
{
	unsigned n = 0;

	for (size_t i = 0; i < t->n; i++)
		for (int reg = 0; reg < TDC_NREGS; reg++)
			n += (unsigned)__builtin_popcount(t->e[i].regs[reg]);
	return n;
}

static const char *td_ctls_text(const struct tdc_predict_in *in, const struct tdc_model *m)
{
	static char buf[96];
	uint64_t all = tdc_model_td_controls(m);
	size_t used = 0;

	if (!all)
		return "n/a";
	if ((in->td_ctls_known & all) != all)
		return "unknown";
	buf[0] = '\0';
	for (unsigned b = 1; b < 4; b++)
		if (in->td_ctls >> b & 1)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? "," : "",
						 tdc_model_ctl_name(b));
	return used ? buf : "none";
}

static void print_text(const struct tdc_predict_in *in, const struct tdc_prediction *p)
{
	unsigned unknown = 0;

	printf("# model %s%s%s%s: XFAM 0x%" PRIx64 ", ATTRIBUTES 0x%" PRIx64 ", TSC %s, config %s, "
	       "host %s, TD_CTLS %s\n", tdc_model_name(p->model),
	       tdc_model_releases(p->model) ? " (releases " : "",
	       tdc_model_releases(p->model) ? tdc_model_releases(p->model) : "",
	       tdc_model_releases(p->model) ? ")" : "", in->xfam, in->attributes,
	       in->has_tsc_khz ? "given" : "unknown", in->strict_config ? "strict" : "filter",
	       in->kvm_layer ? "upstream KVM" : "module only", td_ctls_text(in, p->model));
	print_changes(in, p);
	print_ve(p, in->requested);
	for (size_t i = 0; i < p->n; i++)
		for (int reg = 0; reg < TDC_NREGS; reg++)
			for (unsigned b = 0; b < 32; b++)
				unknown += !(p->leaves[i].r[reg].known & (1u << b)) &&
					   p->leaves[i].r[reg].cls[b] != TDC_C_DYNAMIC &&
					   !p->leaves[i].vmm;
	for (const char *s = p->notes.len ? (const char *)p->notes.data : NULL, *nl;
	     s && (nl = strchr(s, '\n')); s = nl + 1)
		printf("note: %.*s\n", (int)(nl - s), s);
	if (p->ambiguous_ctls)
		printf("# TD controls unknown (--td-ctls): %u bits in %zu leaves are ambiguous "
		       "(module-virtualized or #VE)\n", count_bits(&p->ambiguous), p->ambiguous.n);
	printf("# %u bits forced on, %u forced off, %u unpredicted%s\n",
	       count_bits(&p->forced_on), count_bits(&p->forced_off), unknown,
	       in->platform ? "" : " (no --platform: native bits are not predicted)");
}

/* ---- json ---------------------------------------------------------------------- */

static json_t *json_reg(const struct tdc_pred_reg *r)
{
	json_t *o = json_object(), *fields = json_array();
	char bb[16];
	struct brange g;

	json_object_set_new(o, "value", tdc_json_hex32(r->value));
	json_object_set_new(o, "known", tdc_json_hex32(r->known));
	for (unsigned bit = 0; next_range(r, &bit, &g);)
		json_array_append_new(fields, json_pack("{s:s, s:s, s:s}", "bits",
							range_str(bb, sizeof(bb), &g), "class",
							tdc_bitclass_name(g.cls), "source",
							g.src ? g.src : ""));
	json_object_set_new(o, "fields", fields);
	return o;
}

static json_t *json_leaf(const struct tdc_pred_leaf *pl)
{
	static const char *const rn[TDC_NREGS] = { "eax", "ebx", "ecx", "edx" };
	json_t *o = json_object(), *regs = json_object();

	json_object_set_new(o, "leaf", tdc_json_hex32(pl->leaf));
	json_object_set_new(o, "subleaf", pl->indexed ? json_integer(pl->subleaf) : json_null());
	json_object_set_new(o, "ve", json_boolean(pl->ve));
	json_object_set_new(o, "vmm", json_boolean(pl->vmm));
	for (int reg = 0; reg < TDC_NREGS; reg++)
		json_object_set_new(regs, rn[reg], json_reg(&pl->r[reg]));
	json_object_set_new(o, "regs", regs);
	return o;
}

static json_t *json_bits(const struct tdc_prediction *p, const struct tdc_cpuid_table *t)
{
	json_t *a = json_array();
	struct tdc_pred_leaf tmp;
	char bb[TDC_BITNAME_MAX];

	for (size_t i = 0; i < t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];
		const struct tdc_pred_leaf *pl = tdc_prediction_lookup(p, e->leaf, e->subleaf, &tmp);

		for (int reg = 0; reg < TDC_NREGS; reg++)
			for (unsigned bit = 0; bit < 32; bit++)
				if (e->regs[reg] & (1u << bit))
					json_array_append_new(a, json_pack("{s:s, s:s}", "bit",
						tdc_format_bit(bb, sizeof(bb), e->leaf, e->subleaf,
							       pl->indexed, reg, bit),
						"class", tdc_bitclass_name(pl->r[reg].cls[bit])));
	}
	return a;
}

static int print_json(const struct tdc_predict_in *in, const struct tdc_prediction *p)
{
	json_t *o = json_object(), *leaves = json_array();
	char *text;

	json_object_set_new(o, "model", json_string(tdc_model_name(p->model)));
	json_object_set_new(o, "xfam", tdc_json_hex64(in->xfam));
	json_object_set_new(o, "attributes", tdc_json_hex64(in->attributes));
	json_object_set_new(o, "tsc_khz", in->has_tsc_khz ? json_integer((json_int_t)in->tsc_khz) :
			    json_null());
	json_object_set_new(o, "platform", json_boolean(in->platform != NULL));
	json_object_set_new(o, "config", json_string(in->strict_config ? "strict" : "filter"));
	json_object_set_new(o, "max_basic", tdc_json_hex32(p->max_basic));
	json_object_set_new(o, "max_extended", tdc_json_hex32(p->max_extended));
	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(leaves, json_leaf(&p->leaves[i]));
	json_object_set_new(o, "leaves", leaves);
	json_object_set_new(o, "forced_on", json_bits(p, &p->forced_on));
	json_object_set_new(o, "forced_off", json_bits(p, &p->forced_off));
	json_object_set_new(o, "refused", json_bits(p, &p->refused));
	json_object_set_new(o, "notes", json_stringn(p->notes.len ? (const char *)p->notes.data : "",
						    p->notes.len));
	json_object_set_new(o, "td_ctls_known", tdc_json_hex64(in->td_ctls_known));
	json_object_set_new(o, "td_ctls", tdc_json_hex64(in->td_ctls));
	json_object_set_new(o, "ambiguous", json_bits(p, &p->ambiguous));
	text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return tdc_err(TDC_ERR_ALLOC, "predict: JSON output");
	printf("%s\n", text);
	free(text);
	return 0;
}

/* ---- capabilities ------------------------------------------------------------------ */

/*
 * KVM_TDX_CAPABILITIES as upstream KVM builds them from the module's
 * TDH.SYS.RD data (arch/x86/kvm/vmx/tdx.c init_kvm_tdx_caps(),
 * td_init_cpuid_entry2()): the configurable bits, 0x80000008.EAX[23:16]
 * set (KVM's GPAW knob), TSX and WAITPKG cleared; supported_attrs =
 * KVM_SUPPORTED_TD_ATTRS within the module's; supported_xfam = the
 * module's within what the platform's XSAVE supports.
 */
static int print_caps(const struct tdc_model *m, const struct tdc_predict_in *in)
{
	uint64_t xfam = tdc_model_xfam_allowed(m);
	const struct tdc_cpuid_entry *d0, *d1;
	json_t *o = json_object(), *ents = json_array(), *cpuid = json_object();
	struct tdc_cpuid_table t;
	char *text;
	int r;

	if ((r = tdc_model_configurable(m, &t)) != 0)
		goto out;
	if (in->platform && (d0 = tdc_cpuid_table_find(in->platform, 0xd, 0)) &&
	    (d1 = tdc_cpuid_table_find(in->platform, 0xd, 1)))
		xfam &= d0->regs[TDC_EAX] | (uint64_t)d0->regs[TDC_EDX] << 32 | d1->regs[TDC_ECX] |
			(uint64_t)d1->regs[TDC_EDX] << 32;
	for (size_t i = 0; i < t.n; i++) {
		struct tdc_cpuid_entry e = t.e[i];

		for (int reg = 0; reg < TDC_NREGS; reg++)
			e.regs[reg] &= ~tdc_kvm_tdx_unsupported_mask(e.leaf, e.subleaf, (unsigned)reg, NULL);
		if (e.leaf == TDC_KVM_TDX_GPAW_LEAF)
			e.regs[TDC_EAX] |= TDC_KVM_TDX_GPAW_MASK;
		json_array_append_new(ents, json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:o}",
			"function", tdc_json_hex32(e.leaf), "index", (json_int_t)e.subleaf,
			"flags", (json_int_t)(e.flags & TDC_CPUID_F_INDEXED),
			"eax", tdc_json_hex32(e.regs[TDC_EAX]), "ebx", tdc_json_hex32(e.regs[TDC_EBX]),
			"ecx", tdc_json_hex32(e.regs[TDC_ECX]), "edx", tdc_json_hex32(e.regs[TDC_EDX])));
	}
	json_object_set_new(o, "supported_attrs",
			    tdc_json_hex64(TDC_KVM_TDX_SUPPORTED_ATTRS & tdc_model_attributes_allowed(m)));
	json_object_set_new(o, "supported_xfam", tdc_json_hex64(xfam));
	json_object_set_new(cpuid, "nent", json_integer((json_int_t)t.n));
	json_object_set_new(cpuid, "entries", ents);
	ents = NULL;
	json_object_set_new(o, "cpuid", cpuid);
	cpuid = NULL;
	if (!(text = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		r = tdc_err(TDC_ERR_ALLOC, "predict: capabilities JSON");
		goto out;
	}
	printf("%s\n", text);
	free(text);
out:
	tdc_cpuid_table_free(&t);
	json_decref(ents);
	json_decref(cpuid);
	json_decref(o);
	return r;
}

/* ---- main ------------------------------------------------------------------------ */

static int run(const struct popts *o, struct pinputs *pi, struct tdc_model **m,
	       struct tdc_prediction *p)
{
	struct tdc_predict_in in;
	int r, status;

	if ((r = tdc_model_load(o->model, m)) != 0)
		return r;
	if (o->platform && (r = tdc_platform_load(o->platform, &pi->plat_cpus, &pi->nplat)) != 0)
		return r;
	if (o->requested) {
		if ((r = tdc_requested_load(o->requested, o->req_format, &pi->req)) != 0) {
			tdc_requested_free(&pi->req);
			return r;
		}
		pi->have_req = true;
	}
	fill_in(o, pi, &in);
	if (o->format == PF_CAPS)
		return tdc_model_kind(*m) == TDC_MODEL_TDX ? print_caps(*m, &in) :
		       tdc_err(TDC_ERR_USAGE, "--format capabilities needs a TDX model");
	in.kvm_layer = !o->module_only && tdc_model_kind(*m) == TDC_MODEL_TDX;
	if ((r = parse_td_ctls(o->td_ctls, *m, &in)) != 0)
		return r;
	status = tdc_model_predict(*m, &in, p);
	/* A configuration KVM or the module refuses has no prediction: say why, print none. */
	if (status != 0)
		return status;
	switch (o->format) {
	case PF_RAW:
		r = print_raw(o, p);
		break;
	case PF_JSON:
		r = print_json(&in, p);
		break;
	case PF_TEXT:
		print_text(&in, p);
		break;
	case PF_CAPS:
		break;
	}
	return r ? r : status;
}

int predict_main(int argc, char *argv[])
{
	struct popts o;
	struct pinputs pi = { 0 };
	struct tdc_model *m = NULL;
	struct tdc_prediction p;
	int r;

	if ((r = parse_opts(argc, argv, &o)) != 0)
		return r > 0 ? TDC_EXIT_OK : tdc_cli_fail(CMD, r);
	tdc_prediction_init(&p);
	r = run(&o, &pi, &m, &p);
	tdc_prediction_free(&p);
	tdc_model_free(m);
	free_inputs(&pi);
	return r ? tdc_cli_fail(CMD, r) : TDC_EXIT_OK;
}
