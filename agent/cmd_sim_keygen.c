// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-agent sim-keygen DIR: the throw-away test PKI and HMAC key that
 * `--tee sim` signs with (include/tdcpuid/sim.h).  Generated on the machine
 * that runs the tests, never committed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "agent.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/sim.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s sim-keygen [--force] DIR\n"
		"\n"
		"Generate the SIMULATOR's test keys in DIR (created 0700; files 0600):\n"
		"  %s %s   root CA (the only anchor sim quotes chain to)\n"
		"  %s %s     PCK platform CA (intermediate)\n"
		"  %s %s           PCK leaf (SGX extension, FMSPC 0053494d0000)\n"
		"  %s             QE attestation key\n"
		"  %s              HMAC-SHA-256 key of sim TDREPORT MACs\n"
		"Evidence signed by these keys proves nothing; verifiers accept it only\n"
		"when given %s explicitly.\n"
		"\n"
		"  --force   overwrite existing keys\n",
		tdc_prog, TDC_SIM_ROOT_KEY, TDC_SIM_ROOT_CERT, TDC_SIM_CA_KEY, TDC_SIM_CA_CERT,
		TDC_SIM_PCK_KEY, TDC_SIM_PCK_CERT, TDC_SIM_ATT_KEY, TDC_SIM_HMAC_KEY,
		TDC_SIM_ROOT_CERT);
}

int sim_keygen_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tdc_sim_keys k;
	bool force = false;
	char probe[4096];
	struct stat st;
	int c, ret;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
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
	snprintf(probe, sizeof(probe), "%s/%s", argv[optind], TDC_SIM_ROOT_KEY);
	if (!force && stat(probe, &st) == 0)
		return tdc_cli_fail("sim-keygen", tdc_err(TDC_ERR_USAGE,
			"%s exists; pass --force to replace the keys", probe));
	if ((ret = tdc_sim_keys_generate(&k)) != 0)
		return tdc_cli_fail("sim-keygen", ret);
	ret = tdc_sim_keys_save(&k, argv[optind]);
	tdc_sim_keys_free(&k);
	if (ret)
		return tdc_cli_fail("sim-keygen", ret);
	fprintf(stderr, "%s: wrote SIMULATED (test-only) TDX keys to %s\n", tdc_prog,
		argv[optind]);
	return TDC_EXIT_OK;
}
