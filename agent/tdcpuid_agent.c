// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-agent: runs inside the guest (TD), probes CPUID on every vCPU and
 * produces evidence.  Each subcommand lives in its own file; this table is
 * the only place that lists them.  In the dynamic agent the ones that need
 * libcrypto run in its crypto module, loaded only for them (module.h); the
 * static agent calls them directly.
 */
#include <stdio.h>

#include "agent.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#ifdef TDC_AGENT_MODULE
#include "module.h"
#define CRYPTO(fn) tdc_agent_module_main
#else
#define CRYPTO(fn) fn
#endif

static const struct tdc_subcommand subcommands[] = {
	{ "probe", probe_main, "Execute CPUID on every CPU and print the result" },
	{ "evidence", CRYPTO(evidence_main), "Bind the CPUID claims into a TDREPORT/quote: evidence" },
	{ "extend", CRYPTO(extend_main), "Record an AAEL event in the event log and extend RTMR3 with it" },
	{ "sim-keygen", CRYPTO(sim_keygen_main), "Generate the simulator's test-only keys (--tee sim)" },
};

int main(int argc, char *argv[])
{
#ifdef TDC_AGENT_MODULE
	if (tdc_agent_module_argv(argc, argv)) {
		perror("tdcpuid-agent");
		return TDC_EXIT_INTERNAL;
	}
#endif
	return tdc_cli_dispatch("tdcpuid-agent", subcommands,
				sizeof(subcommands) / sizeof(subcommands[0]), TDC_AGENT_EXIT_HELP,
				argc, argv);
}
