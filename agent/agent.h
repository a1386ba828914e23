/* SPDX-License-Identifier: Apache-2.0 */
/* tdcpuid-agent subcommands: one file each, one row each in tdcpuid_agent.c. */
#ifndef TDC_AGENT_H
#define TDC_AGENT_H

#define TDC_AGENT_EXIT_HELP \
	"Exit status: 0 ok, 2 usage or bad input, 3 internal error, 75 try later\n" \
	"(evidence --to: the verifier is busy or cannot record verdicts)."

int probe_main(int argc, char *argv[]);
/* These need libcrypto: the dynamic agent runs them in its module (module.h). */
int sim_keygen_main(int argc, char *argv[]);
int evidence_main(int argc, char *argv[]);
int extend_main(int argc, char *argv[]);

#endif
