// SPDX-License-Identifier: MIT
/*
 * tdcpuid-verifier: checks evidence against the requested CPUID
 * configuration, a platform model and a policy.  Each subcommand lives in
 * its own file; this table is the only place that lists them.
 */
#include "verifier.h"
#include "tdcpuid/cli.h"

static const struct tdc_subcommand subcommands[] = {
	{ "version", version_main, "Print the version" },
	{ "capture", capture_main, "Record a running QEMU's requested CPUID over QMP" },
	{ "import", import_main, "Read a requested configuration and print what it requests" },
	{ "inspect", inspect_main, "Print an evidence file, TDREPORT or quote field by field" },
	{ "quote", quote_main, "Appraise a TDX quote with the Intel root and collateral (TCB status)" },
};

int main(int argc, char *argv[])
{
	return tdc_cli_dispatch("tdcpuid-verifier", subcommands,
				sizeof(subcommands) / sizeof(subcommands[0]),
				"Exit status: 0 pass, 1 policy failure, 2 usage or bad input, 3 internal error.",
				argc, argv);
}
