// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier policy: validate a policy file and print the effective
 * policy (absent keys filled in from the built-in default), so a tenant can
 * see exactly what will be enforced before relying on it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "policy.h"
#include "trust.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"
#include "verifier.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s policy [FILE]\n"
		"\n"
		"Check a policy file (docs/policy.md) and print the effective policy,\n"
		"with every key the file leaves out taken from the built-in default.\n"
		"Without FILE, print the built-in default.  The trust anchor is loaded\n"
		"as check and serve would load it (self-signed root and the TD QE identity\n"
		"beside it) and reported; one that cannot be loaded is an error (exit 2).\n"
		"\n"
		"  -h, --help  this text\n",
		tdc_prog);
}

static void print_bits(const char *key, const struct tdc_policy_bit *b, size_t n)
{
	char name[TDC_BITNAME_MAX];

	printf("%s:", key);
	for (size_t i = 0; i < n; i++)
		printf(" %s", tdc_format_bit(name, sizeof(name), b[i].leaf, b[i].subleaf,
					     tdc_leaf_is_indexed(b[i].leaf), b[i].reg, b[i].bit));
	printf("\n");
}

static void print_mrs(const char *key, const struct tdc_policy_mrlist *l)
{
	char hex[2 * TDC_POLICY_MR_LEN + 1];

	if (l->n == 0) {
		printf("%s: any\n", key);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		tdc_hex_encode(l->mr[i], TDC_POLICY_MR_LEN, hex);
		printf("%s: %s\n", key, hex);
	}
}

static void print_policy(const struct tdc_policy *p)
{
	char buf[512], hex[2 * TDC_POLICY_SVN_LEN + 1];

	printf("name: %s\nversion: %u\n", p->name, p->version);
	print_bits("required_bits", p->required, p->nrequired);
	print_bits("forbidden_bits", p->forbidden, p->nforbidden);
	printf("fail_on:");
	for (int v = 0; v < TDC_V__COUNT; v++)
		if (p->fail_on & (1u << v))
			printf(" %s", tdc_verdict_name((enum tdc_verdict)v));
	printf("\nuntrusted_leaves:");
	for (size_t i = 0; i < p->nuntrusted_leaves; i++)
		printf(" 0x%08" PRIx32 "-0x%08" PRIx32, p->untrusted_leaves[i].first,
		       p->untrusted_leaves[i].last);
	printf("\nallow_simulated: %s\nallow_debug: %s\nrequire_quote: %s\n"
	       "require_nonce: %s\nrequire_tcb: %s\n",
	       p->allow_simulated ? "true" : "false", p->allow_debug ? "true" : "false",
	       p->require_quote ? "true" : "false", p->require_nonce ? "true" : "false",
	       p->require_tcb ? "true" : "false");
	printf("attributes.allowed: 0x%016" PRIx64 " %s\n", p->attributes_allowed,
	       tdx_attributes_str(p->attributes_allowed, buf, sizeof(buf)));
	printf("attributes.required: 0x%016" PRIx64 " %s\n", p->attributes_required,
	       tdx_attributes_str(p->attributes_required, buf, sizeof(buf)));
	printf("xfam.allowed: 0x%016" PRIx64 "\n", p->xfam_allowed);
	printf("xfam.required: 0x%016" PRIx64 " %s\n", p->xfam_required,
	       tdx_xfam_str(p->xfam_required, buf, sizeof(buf)));
	tdc_hex_encode(p->min_tee_tcb_svn, TDC_POLICY_SVN_LEN, hex);
	printf("min_tee_tcb_svn: %s\n", hex);
	print_mrs("mrtd", &p->mrtd);
	for (int i = 0; i < 4; i++) {
		snprintf(buf, sizeof(buf), "rtmr%d", i);
		print_mrs(buf, &p->rtmr[i]);
	}
	print_mrs("mrconfigid", &p->mrconfigid);
	printf("trust_anchor: %s\naccept_tcb:", p->trust_anchor ? p->trust_anchor :
	       "(none: the data directory's Intel root)");
	for (int s = 0; s < TDC_TCB__COUNT; s++)
		if (p->accept_tcb & (1u << s))
			printf(" %s", tdc_tcb_status_name((enum tdc_tcb_status)s));
	printf("\nnonce_max_age: %" PRIu64 "\n", p->nonce_max_age);
}

/* The anchor as every quote will meet it: the same loader as check and serve. */
static int print_trust(const struct tdc_policy *p)
{
	struct tdc_trust *t;
	char hex[65];
	int r;

	if ((r = tdc_trust_load(p->trust_anchor, &t)) != 0)
		return r;
	tdc_hex_encode(t->qe.mrsigner, 32, hex);
	printf("trust_anchor_loaded: %s (self-signed%s)\n", t->root_path,
	       t->simulator ? ", SIMULATOR test root" : "");
	printf("td_qe_identity: %s (MRSIGNER %.16s..., ISVPRODID %u)\n", t->qe_path, hex,
	       t->qe.isvprodid);
	tdc_trust_free(t);
	return 0;
}

int policy_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tdc_policy *p = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return TDC_EXIT_OK;
		}
		usage(stderr);
		return TDC_EXIT_INPUT;
	}
	if (argc - optind > 1) {
		usage(stderr);
		return TDC_EXIT_INPUT;
	}
	r = optind < argc ? tdc_policy_load(argv[optind], &p) : tdc_policy_default(&p);
	if (r)
		return tdc_cli_fail("policy", r);
	print_policy(p);
	r = print_trust(p);
	tdc_policy_free(p);
	return r ? tdc_cli_fail("policy", r) : TDC_EXIT_OK;
}
