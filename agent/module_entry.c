// SPDX-License-Identifier: Apache-2.0
/*
 * The crypto module's one exported object (see module.h): the subcommands
 * that need libcrypto, dispatched on the agent's original argv.
 */
#include "agent.h"
#include "module.h"
#include "tdcpuid/cli.h"

static const struct tdc_subcommand commands[] = {
	{ "evidence", evidence_main, "" },
	{ "extend", extend_main, "" },
	{ "sim-keygen", sim_keygen_main, "" },
};

static int module_main(int argc, char *argv[])
{
	/* The agent dispatched argv already: the subcommand is one of these. */
	return tdc_cli_dispatch("tdcpuid-agent", commands, sizeof(commands) / sizeof(commands[0]),
				TDC_AGENT_EXIT_HELP, argc, argv);
}

__attribute__((visibility("default"))) const struct tdc_agent_module tdc_agent_module = {
	.abi = TDC_AGENT_MODULE_ABI,
	.version = TDC_VERSION,
	.main = module_main,
};
