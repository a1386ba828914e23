// SPDX-License-Identifier: Apache-2.0
/*
 * tdc-test-pki: Intel-format collateral for a simulator key directory
 * (`tdcpuid-agent sim-keygen`), for the shell tests (pki_util.h):
 *   tdc-test-pki --sim-dir DIR --out DIR [--status S] [--qe-status S]
 *                [--next-hours N] [--older]
 * --status is the tcbStatus of the one TCB level (the quote's own values),
 * --next-hours the nextUpdate of every document from now (default 720),
 * --older an older level above it (the quote is one level behind).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "pki_util.h"

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "sim-dir", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 't' },
		{ "qe-status", required_argument, NULL, 'q' },
		{ "next-hours", required_argument, NULL, 'n' },
		{ "older", no_argument, NULL, 'b' },
		{ 0 },
	};
	const char *sim = NULL, *out = NULL, *status = "UpToDate";
	struct tdc_test_level lv[2];
	struct tdc_test_coll c = { 0 };
	struct tdc_test_pki p;
	long hours = 720;
	bool older = false;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': sim = optarg; break;
		case 'o': out = optarg; break;
		case 't': status = optarg; break;
		case 'q': c.qe_status = optarg; break;
		case 'n': hours = atol(optarg); break;
		case 'b': older = true; break;
		default: return 2;
		}
	}
	if (!sim || !out) {
		fprintf(stderr, "usage: tdc-test-pki --sim-dir DIR --out DIR [--status S] "
			"[--qe-status S] [--next-hours N] [--older]\n");
		return 2;
	}
	tdc_test_pki_init(&p, sim);
	lv[0] = (struct tdc_test_level){ 1, 0, "UpToDate", NULL };
	lv[1] = (struct tdc_test_level){ 0, 0, status, "[\"INTEL-SA-00001\"]" };
	c.levels = older ? lv : lv + 1;
	c.n_levels = older ? 2 : 1;
	c.next = c.crl_next = p.now + hours * 3600;
	tdc_test_collateral_write(&p, &c, out);
	tdc_test_pki_free(&p);
	return 0;
}
