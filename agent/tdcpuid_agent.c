// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-agent: runs inside the guest (TD), probes CPUID on every vCPU and
 * produces evidence.  Each subcommand lives in its own file; this table is
 * the only place that lists them.
 */
#include "agent.h"
#include "tdcpuid/cli.h"

static const struct tdc_subcommand subcommands[] = {
	{ "probe", probe_main, "Execute CPUID on every CPU and print the result" },
	{ "evidence", evidence_main, "Bind the CPUID claims into a TDREPORT/quote: evidence" },
	{ "extend", extend_main, "Record an AAEL event in the event log and extend RTMR3 with it" },
	{ "sim-keygen", sim_keygen_main, "Generate the simulator's test-only keys (--tee sim)" },
};

int main(int argc, char *argv[])
{
	return tdc_cli_dispatch("tdcpuid-agent", subcommands,
				sizeof(subcommands) / sizeof(subcommands[0]),
				"Exit status: 0 ok, 2 usage or bad input, 3 internal error, 75 try later\n"
				"(evidence --to: the verifier is busy or cannot record verdicts).",
				argc, argv);
}
