// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-agent probe: execute CPUID on every CPU and print the result as
 * decoded text, JSON, the claims CBOR, or `cpuid -r` raw lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "probe.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/tdx.h"

enum probe_format { FMT_TEXT, FMT_JSON, FMT_CBOR, FMT_RAW };

static const struct {
	const char *name;
	enum probe_format fmt;
} formats[] = {
	{ "text", FMT_TEXT },
	{ "json", FMT_JSON },
	{ "cbor", FMT_CBOR },
	{ "raw", FMT_RAW },
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s probe [--cpu LIST] [--format text|json|cbor|raw] [-o FILE]\n"
		"\n"
		"Execute CPUID on every CPU (one pinned thread per CPU) and print the\n"
		"result.  CPUs that cannot be probed are listed with the reason.\n"
		"\n"
		"  -c, --cpu LIST      probe only these CPUs, e.g. 0-3,7\n"
		"  -f, --format FMT    text (default): decoded, named features\n"
		"                      json: machine readable\n"
		"                      cbor: the evidence claims (docs/evidence.cddl)\n"
		"                      raw:  the line format of `cpuid -r`\n"
		"  -o, --output FILE   write there instead of stdout\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 ok, 2 usage or bad input (including CPUID values beyond\n"
		"the enumeration caps), 3 internal or environment error.\n",
		tdc_prog);
}

/* ---- text ------------------------------------------------------------- */

static const char *leaf_label(char *buf, size_t len, const struct tdc_cpuid_entry *e)
{
	if (e->flags & TDC_CPUID_F_INDEXED)
		snprintf(buf, len, "CPUID.%02XH.%u", e->leaf, e->subleaf);
	else
		snprintf(buf, len, "CPUID.%02XH", e->leaf);
	return buf;
}

/* A register is a feature register if the name database knows any bit of it. */
static bool feature_reg(uint32_t leaf, uint32_t sub, enum tdc_reg reg)
{
	for (unsigned b = 0; b < 32; b++)
		if (tdc_feature_lookup(leaf, sub, reg, b))
			return true;
	return false;
}

static int text_features(struct tdc_buf *o, const struct tdc_cpuid_entry *e)
{
	int r = 0;

	for (int reg = 0; reg < TDC_NREGS && r == 0; reg++) {
		if (!feature_reg(e->leaf, e->subleaf, reg) || !e->regs[reg])
			continue;
		r = tdc_buf_printf(o, "      %s:", tdc_reg_name(reg));
		for (unsigned b = 0; b < 32 && r == 0; b++) {
			const struct tdc_feature *f;

			if (!(e->regs[reg] & (1u << b)))
				continue;
			f = tdc_feature_lookup(e->leaf, e->subleaf, reg, b);
			r = f ? tdc_buf_printf(o, " %s", f->qemu_name) : tdc_buf_printf(o, " [bit %u]", b);
		}
		if (r == 0)
			r = tdc_buf_printf(o, "\n");
	}
	return r;
}

static int text_entry(struct tdc_buf *o, const struct tdc_cpuid_entry *e, bool decode)
{
	char l[48];
	int r;

	if (e->flags & TDC_CPUID_F_ABSENT)
		return tdc_buf_printf(o, "    %-20s (not present on this CPU)\n",
				      leaf_label(l, sizeof(l), e));
	r = tdc_buf_printf(o, "    %-20s eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
			   leaf_label(l, sizeof(l), e), e->regs[TDC_EAX], e->regs[TDC_EBX],
			   e->regs[TDC_ECX], e->regs[TDC_EDX]);
	return r == 0 && decode ? text_features(o, e) : r;
}

static const char *range_heading(enum tdc_cpuid_range rg)
{
	switch (rg) {
	case TDC_RANGE_BASIC:
		return "basic leaves (CPU / TDX module)";
	case TDC_RANGE_HYPERVISOR:
		return "hypervisor-provided (VMM, untrusted in a TD)";
	case TDC_RANGE_EXTENDED:
		return "extended leaves";
	case TDC_RANGE_CENTAUR:
		return "Centaur leaves";
	default:
		return "other leaves";
	}
}

static int text_table(struct tdc_buf *o, const struct tdc_cpuid_table *t, bool decode)
{
	int last = -1, r = 0;

	for (size_t i = 0; i < t->n && r == 0; i++) {
		enum tdc_cpuid_range rg = tdc_cpuid_range_of(t->e[i].leaf);

		if ((int)rg != last && decode)
			r = tdc_buf_printf(o, "  -- %s --\n", range_heading(rg));
		last = rg;
		if (r == 0)
			r = text_entry(o, &t->e[i], decode);
	}
	return r;
}

/* Consecutive skipped CPUs with the same reason print as one range. */
static int text_skipped(struct tdc_buf *o, const struct tdc_claims *c)
{
	int r = 0;

	if (!c->nskipped)
		return 0;
	r = tdc_buf_printf(o, "Skipped CPUs:\n");
	for (size_t i = 0; i < c->nskipped && r == 0;) {
		size_t j = i;

		while (j + 1 < c->nskipped && c->skipped[j + 1].cpu == c->skipped[j].cpu + 1 &&
		       !strcmp(c->skipped[j + 1].reason, c->skipped[i].reason))
			j++;
		if (j == i)
			r = tdc_buf_printf(o, "  CPU %u: %s\n", c->skipped[i].cpu, c->skipped[i].reason);
		else
			r = tdc_buf_printf(o, "  CPUs %u-%u: %s\n", c->skipped[i].cpu,
					   c->skipped[j].cpu, c->skipped[i].reason);
		i = j + 1;
	}
	return r;
}

static int text_xcr0(struct tdc_buf *o, const char *who, bool has, uint64_t xcr0)
{
	char names[256];

	if (!has)
		return tdc_buf_printf(o, "%sXCR0: not read (CPUID.01H:ECX.osxsave [bit 27] clear)\n", who);
	return tdc_buf_printf(o, "%sXCR0: 0x%016llx (%s)\n", who, (unsigned long long)xcr0,
			      tdx_xfam_str(xcr0, names, sizeof(names)));
}

static int text_deltas(struct tdc_buf *o, const struct tdc_claims *c)
{
	int r = 0;

	for (size_t i = 0; i < c->ncpus && r == 0; i++) {
		const struct tdc_cpu_claim *cc = &c->cpus[i];

		r = tdc_buf_printf(o, "CPU %u: %zu entr%s differ from the common table\n", cc->cpu,
				   cc->delta.n, cc->delta.n == 1 ? "y" : "ies");
		if (r == 0 && cc->has_xcr0 != c->has_xcr0)
			r = text_xcr0(o, "  ", cc->has_xcr0, cc->xcr0);
		else if (r == 0 && cc->has_xcr0 && cc->xcr0 != c->xcr0)
			r = text_xcr0(o, "  ", true, cc->xcr0);
		if (r == 0)
			r = text_table(o, &cc->delta, false);
	}
	return r;
}

static int format_text(const struct tdc_claims *c, struct tdc_buf *o)
{
	int r;

	if ((r = tdc_buf_printf(o, "%s, kernel %s\n%zu CPU%s probed, %zu skipped, %llu CPUID executions\n"
				"CPU set from %s%s\n",
				c->agent_version, c->kernel_release, c->ncpus, c->ncpus == 1 ? "" : "s",
				c->nskipped, (unsigned long long)c->cpuid_count,
				tdc_cpu_set_name(c->cpu_set), c->cpu_set == TDC_CPUSET_AFFINITY ?
				" only: no /sys, /proc/cpuinfo or sysconf count, so CPUs outside this "
				"process's affinity mask cannot be known" : "")) != 0 ||
	    (r = text_xcr0(o, "", c->has_xcr0, c->xcr0)) != 0 ||
	    (r = text_skipped(o, c)) != 0 ||
	    (r = tdc_buf_printf(o, "\nCommon table (CPU %u; other CPUs differ only as listed below):\n",
				c->cpus[0].cpu)) != 0 ||
	    (r = text_table(o, &c->common, true)) != 0 ||
	    (r = tdc_buf_printf(o, "\nPer-CPU differences:\n")) != 0)
		return r;
	return text_deltas(o, c);
}

/* ---- json (jansson is not in the static agent: hand-written, escaped) -- */

static int json_str(struct tdc_buf *o, const char *s)
{
	int r = tdc_buf_put_u8(o, '"');

	for (; *s && r == 0; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			r = tdc_buf_printf(o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			/* Bytes >= 0x7f as \u00XX: always valid JSON, never a bad UTF-8 sequence. */
			r = tdc_buf_printf(o, "\\u%04x", ch);
		else
			r = tdc_buf_put_u8(o, ch);
	}
	return r ? r : tdc_buf_put_u8(o, '"');
}

static int json_entry(struct tdc_buf *o, const struct tdc_cpuid_entry *e, bool last)
{
	int r = tdc_buf_printf(o, "      {\"leaf\": %u, \"subleaf\": %u, \"indexed\": %s, \"range\": \"%s\"",
			       e->leaf, e->subleaf, e->flags & TDC_CPUID_F_INDEXED ? "true" : "false",
			       tdc_cpuid_range_name(tdc_cpuid_range_of(e->leaf)));

	if (r == 0 && (e->flags & TDC_CPUID_F_ABSENT))
		r = tdc_buf_printf(o, ", \"absent\": true");
	else if (r == 0)
		r = tdc_buf_printf(o, ", \"eax\": %u, \"ebx\": %u, \"ecx\": %u, \"edx\": %u",
				   e->regs[TDC_EAX], e->regs[TDC_EBX], e->regs[TDC_ECX], e->regs[TDC_EDX]);
	return r ? r : tdc_buf_printf(o, "}%s\n", last ? "" : ",");
}

static int json_table(struct tdc_buf *o, const char *key, const struct tdc_cpuid_table *t)
{
	int r = tdc_buf_printf(o, "\"%s\": [\n", key);

	for (size_t i = 0; i < t->n && r == 0; i++)
		r = json_entry(o, &t->e[i], i + 1 == t->n);
	return r ? r : tdc_buf_printf(o, "    ]");
}

static int json_xcr0(struct tdc_buf *o, bool has, uint64_t xcr0)
{
	/* A string: JSON numbers lose precision above 2^53. */
	if (!has)
		return tdc_buf_printf(o, "\"xcr0\": null");
	return tdc_buf_printf(o, "\"xcr0\": \"0x%016llx\"", (unsigned long long)xcr0);
}

static int json_cpus(struct tdc_buf *o, const struct tdc_claims *c)
{
	int r = tdc_buf_printf(o, "  \"cpus\": [\n");

	for (size_t i = 0; i < c->ncpus && r == 0; i++) {
		if ((r = tdc_buf_printf(o, "    {\"cpu\": %u, ", c->cpus[i].cpu)) != 0 ||
		    (r = json_xcr0(o, c->cpus[i].has_xcr0, c->cpus[i].xcr0)) != 0 ||
		    (r = tdc_buf_printf(o, ",\n    ")) != 0 ||
		    (r = json_table(o, "delta", &c->cpus[i].delta)) != 0)
			break;
		r = tdc_buf_printf(o, "}%s\n", i + 1 == c->ncpus ? "" : ",");
	}
	return r ? r : tdc_buf_printf(o, "  ],\n");
}

static int json_skipped(struct tdc_buf *o, const struct tdc_claims *c)
{
	int r = tdc_buf_printf(o, "  \"skipped\": [");

	for (size_t i = 0; i < c->nskipped && r == 0; i++) {
		if ((r = tdc_buf_printf(o, "%s\n    {\"cpu\": %u, \"reason\": ", i ? "," : "",
					c->skipped[i].cpu)) != 0 ||
		    (r = json_str(o, c->skipped[i].reason)) != 0)
			break;
		r = tdc_buf_printf(o, "}");
	}
	return r ? r : tdc_buf_printf(o, "%s]\n", c->nskipped ? "\n  " : "");
}

static int format_json(const struct tdc_claims *c, struct tdc_buf *o)
{
	int r;

	if ((r = tdc_buf_printf(o, "{\n  \"agent_version\": ")) != 0 ||
	    (r = json_str(o, c->agent_version)) != 0 ||
	    (r = tdc_buf_printf(o, ",\n  \"kernel_release\": ")) != 0 ||
	    (r = json_str(o, c->kernel_release)) != 0 ||
	    (r = tdc_buf_printf(o, ",\n  \"cpuid_count\": %llu,\n  \"cpu_set\": \"%s\",\n  \"common_cpu\": %u,\n  ",
				(unsigned long long)c->cpuid_count, tdc_cpu_set_name(c->cpu_set),
				c->cpus[0].cpu)) != 0 ||
	    (r = json_xcr0(o, c->has_xcr0, c->xcr0)) != 0 ||
	    (r = tdc_buf_printf(o, ",\n  ")) != 0 ||
	    (r = json_table(o, "common", &c->common)) != 0 ||
	    (r = tdc_buf_printf(o, ",\n")) != 0 ||
	    (r = json_cpus(o, c)) != 0)
		return r;
	if ((r = json_skipped(o, c)) != 0)
		return r;
	return tdc_buf_printf(o, "}\n");
}

/* ---- raw (`cpuid -r`) --------------------------------------------------- */

static int format_raw(const struct tdc_claims *c, struct tdc_buf *o)
{
	struct tdc_cpuid_table t;
	int r = 0;

	for (size_t i = 0; i < c->ncpus && r == 0; i++) {
		if ((r = tdc_claims_cpu_table(c, c->cpus[i].cpu, &t)) != 0)
			break;
		r = tdc_format_cpuid_r(&t, c->cpus[i].cpu, o);
		tdc_cpuid_table_free(&t);
	}
	/* The raw format has no place for them; stderr keeps them visible. */
	for (size_t i = 0; i < c->nskipped; i++)
		fprintf(stderr, "%s probe: CPU %u skipped: %s\n", tdc_prog, c->skipped[i].cpu,
			c->skipped[i].reason);
	return r;
}

/* ---- main --------------------------------------------------------------- */

static int parse_format(const char *s, enum probe_format *fmt)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!strcmp(s, formats[i].name)) {
			*fmt = formats[i].fmt;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_USAGE, "unknown format '%s' (text, json, cbor or raw)", s);
}

static int render(const struct tdc_claims *c, enum probe_format fmt, struct tdc_buf *o)
{
	switch (fmt) {
	case FMT_TEXT:
		return format_text(c, o);
	case FMT_JSON:
		return format_json(c, o);
	case FMT_CBOR:
		return tdc_claims_encode(c, o);
	case FMT_RAW:
		return format_raw(c, o);
	}
	return tdc_err(TDC_ERR_INTERNAL, "format %d", fmt);
}

int probe_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tdc_probe_opts opts = { 0 };
	enum probe_format fmt = FMT_TEXT;
	const char *output = "-";
	struct tdc_claims claims;
	struct tdc_buf out;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "c:f:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opts.cpus = optarg;
			break;
		case 'f':
			if ((r = parse_format(optarg, &fmt)) != 0)
				return tdc_cli_fail("probe", r);
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			usage(stdout);
			return TDC_EXIT_OK;
		default:
			usage(stderr);
			return TDC_EXIT_INPUT;
		}
	}
	if (optind != argc) {
		tdc_err(TDC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
		return tdc_cli_fail("probe", TDC_ERR_USAGE);
	}
	tdc_claims_init(&claims);
	tdc_buf_init(&out);
	if ((r = tdc_probe_run(&opts, &claims)) != 0 ||
	    (r = render(&claims, fmt, &out)) != 0 ||
	    (r = tdc_write_file(output, out.data, out.len)) != 0) {
		int code = tdc_cli_fail("probe", r);

		/* Nothing probeable without --cpu is the environment, not the input. */
		if (r == TDC_ERR_NOT_FOUND && !opts.cpus)
			code = TDC_EXIT_INTERNAL;
		tdc_claims_free(&claims);
		tdc_buf_free(&out);
		return code;
	}
	tdc_claims_free(&claims);
	tdc_buf_free(&out);
	return TDC_EXIT_OK;
}
