// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier import: read a requested configuration in any supported
 * format and print what the verifier understood from it, one line per
 * register set, so a user (or a test) can see exactly which bits count as
 * requested before running a check.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "verifier.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s import [--format FMT] FILE\n"
		"\n"
		"Read a requested CPUID configuration and print it, one line per entry:\n"
		"  <section> 0xLEAF 0xSUB eax=.. ebx=.. ecx=.. edx=..\n"
		"Sections: requested (vCPU 0 or common), known (mask of bits the format\n"
		"specifies), filtered (QMP filtered-features), configurable\n"
		"(KVM_TDX_CAPABILITIES), cpuN (per-vCPU values), and td lines.\n"
		"\n"
		"  --format FMT  kvm-json, qmp, cpuid-r, tdx-init-vm or auto (default)\n"
		"  -h, --help    this text\n",
		tdc_prog);
}

static void print_table(const char *section, const struct tdc_cpuid_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];

		printf("%s 0x%08" PRIx32 " 0x%02" PRIx32 " eax=0x%08" PRIx32 " ebx=0x%08" PRIx32
		       " ecx=0x%08" PRIx32 " edx=0x%08" PRIx32 "%s\n", section, e->leaf,
		       e->subleaf, e->regs[0], e->regs[1], e->regs[2], e->regs[3],
		       e->flags & TDC_CPUID_F_INDEXED ? " indexed" : "");
	}
}

static void print_mr(const char *name, bool has, const uint8_t mr[48])
{
	char hex[97];

	if (!has)
		return;
	tdc_hex_encode(mr, 48, hex);
	printf("td %s %s\n", name, hex);
}

static void print_requested(const struct tdc_requested *r)
{
	char sec[32];

	printf("format %s\nvcpus %zu\n", r->format, r->ncpus);
	print_table("requested", &r->table);
	print_table("known", &r->known);
	print_table("filtered", &r->filtered);
	for (size_t i = 0; i < r->ncpus; i++) {
		snprintf(sec, sizeof(sec), "cpu%zu", i);
		print_table(sec, &r->per_cpu[i]);
	}
	if (r->has_td_params)
		printf("td attributes 0x%016" PRIx64 "\ntd xfam 0x%016" PRIx64 "\n",
		       r->attributes, r->xfam);
	if (r->has_tsc_khz)
		printf("td tsc_khz %" PRIu64 "\n", r->tsc_khz);
	print_mr("mrconfigid", r->has_mrconfigid, r->mrconfigid);
	print_mr("mrowner", r->has_mrowner, r->mrowner);
	print_mr("mrownerconfig", r->has_mrownerconfig, r->mrownerconfig);
	if (r->has_caps) {
		printf("caps supported_attrs 0x%016" PRIx64 "\ncaps supported_xfam 0x%016" PRIx64
		       "\n", r->supported_attrs, r->supported_xfam);
		print_table("configurable", &r->configurable);
	}
}

int import_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = "auto";
	struct tdc_requested req;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'h':
			usage(stdout);
			return TDC_EXIT_OK;
		default:
			usage(stderr);
			return TDC_EXIT_INPUT;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return TDC_EXIT_INPUT;
	}
	if ((r = tdc_requested_load(argv[optind], format, &req)) != 0)
		return tdc_cli_fail("import", r);
	print_requested(&req);
	tdc_requested_free(&req);
	return TDC_EXIT_OK;
}
