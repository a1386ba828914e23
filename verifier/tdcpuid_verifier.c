// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier: checks evidence against the requested CPUID
 * configuration, a platform model and a policy.  Each subcommand lives in
 * its own file; this table is the only place that lists them.
 */
#include "verifier.h"
#include "tdcpuid/cli.h"

static const struct tdc_subcommand subcommands[] = {
	{ "check", check_main, "Check evidence against the requested CPUID, a model and a policy" },
	{ "version", version_main, "Print the version" },
	{ "serve", serve_main, "Attestation service: nonce, evidence, verdict, audit log (TCP/vsock)" },
	{ "log", log_main, "Query the audit log of verdicts" },
	{ "ingest", ingest_main, "Check evidence armored in a serial console log" },
	{ "capture", capture_main, "Record a running QEMU's requested CPUID over QMP" },
	{ "import", import_main, "Read a requested configuration and print what it requests" },
	{ "policy", policy_main, "Check a policy file and print the effective policy" },
	{ "inspect", inspect_main, "Print an evidence file, TDREPORT or quote field by field" },
	{ "quote", quote_main, "Appraise a TDX quote with the Intel root and collateral (TCB status)" },
	{ "collateral", collateral_main, "Fetch, show and prune the cache of Intel collateral (PCS/PCCS)" },
	{ "predict", predict_main, "Predict the CPUID a TD will see (platform model run forward)" },
	{ "explain", explain_main, "Explain one CPUID bit: name, model class, source" },
};

int main(int argc, char *argv[])
{
	return tdc_cli_dispatch("tdcpuid-verifier", subcommands,
				sizeof(subcommands) / sizeof(subcommands[0]),
				"Exit status: 0 pass, 1 policy failure, 2 usage or bad input, 3 internal error.",
				argc, argv);
}
