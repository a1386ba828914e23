// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier explain: one CPUID bit, its name, and what each platform
 * model says about it: the class, and every rule that touches the bit in
 * the order the model applies them, each with its source.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "verifier.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

#define CMD "explain"
#define EXPLAIN_MAX_MODELS 8

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s " CMD " BIT [--model NAME|FILE]...\n"
		"\n"
		"Explain one CPUID bit: its name, the class each platform model gives it\n"
		"(fixed0, fixed1, configurable, native, xfam, attributes, calculated,\n"
		"dynamic, ve, as_set) and the rules behind that, with their sources.\n"
		"\n"
		"  BIT            CPUID.07H.0:EBX[5], CPUID.01H:ECX.hypervisor, 7.0:ebx.5,\n"
		"                 0x80000001:ecx[8], QEMU's CPUID[eax=07h,ecx=00h].EBX[bit 16]\n"
		"                 (or a whole QEMU warning line) or a feature name (avx2)\n"
		"  --model NAME   model to ask (repeatable): tdx-<release> for any TDX module\n"
		"                 release (tdx-1.5.25), tdx (the newest), kvm, qemu-tcg or a file;\n"
		"                 default: tdx-1.5.01, the newest TDX module, and kvm\n", tdc_prog);
}

struct explain_ctx {
	unsigned n;
};

static void print_rule(void *ctx, enum tdc_bitclass cls, const char *rule, const char *source)
{
	struct explain_ctx *e = ctx;

	printf("    %u. %-12s %s%s%s\n", ++e->n, tdc_bitclass_name(cls), rule ? rule : "",
	       rule ? ": " : "", source ? source : "");
}

static int explain_one(const char *name, uint32_t leaf, uint32_t subleaf, enum tdc_reg reg,
		       unsigned bit)
{
	struct explain_ctx e = { 0 };
	struct tdc_model *m;
	enum tdc_bitclass cls;
	const char *src;
	int r;

	if ((r = tdc_model_load(name, &m)) != 0)
		return r;
	if ((r = tdc_model_classify(m, leaf, subleaf, reg, bit, &cls, &src)) == 0) {
		printf("  model %s: %s\n", tdc_model_name(m), tdc_bitclass_name(cls));
		if (tdc_model_releases(m))
			printf("    releases: %s%s\n", tdc_model_releases(m),
			       tdc_model_logic_verified(m) ? "" : " (CPUID logic inferred: no source)");
		printf("    source: %s\n", src ? src : "");
		printf("    rules, in the order the model applies them:\n");
		r = tdc_model_describe(m, leaf, subleaf, reg, bit, print_rule, &e);
	}
	tdc_model_free(m);
	return r;
}

int explain_main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	/* The first and the newest TDX module, and KVM. */
	const char *models[EXPLAIN_MAX_MODELS] = { "tdx-1.5.01", "tdx", "kvm" };
	size_t nmodels = 3, given = 0;
	uint32_t leaf, subleaf;
	enum tdc_reg reg;
	unsigned bit;
	char bb[TDC_BITNAME_MAX];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return TDC_EXIT_OK;
		}
		if (c != 'm') {
			usage(stderr);
			return TDC_EXIT_INPUT;
		}
		if (given == EXPLAIN_MAX_MODELS)
			return tdc_cli_fail(CMD, tdc_err(TDC_ERR_USAGE, "more than %d --model",
							 EXPLAIN_MAX_MODELS));
		models[given++] = optarg;
		nmodels = given;
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return TDC_EXIT_INPUT;
	}
	if ((r = tdc_parse_bit(argv[optind], &leaf, &subleaf, &reg, &bit)) != 0)
		return tdc_cli_fail(CMD, r);
	printf("%s\n", tdc_format_bit(bb, sizeof(bb), leaf, subleaf, tdc_leaf_is_indexed(leaf),
				      reg, bit));
	for (size_t i = 0; i < nmodels; i++)
		if ((r = explain_one(models[i], leaf, subleaf, reg, bit)) != 0)
			return tdc_cli_fail(CMD, r);
	return TDC_EXIT_OK;
}
