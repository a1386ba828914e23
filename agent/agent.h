/* SPDX-License-Identifier: Apache-2.0 */
/* tdcpuid-agent subcommands: one file each, one row each in tdcpuid_agent.c. */
#ifndef TDC_AGENT_H
#define TDC_AGENT_H

int probe_main(int argc, char *argv[]);
int sim_keygen_main(int argc, char *argv[]);
int evidence_main(int argc, char *argv[]);
int extend_main(int argc, char *argv[]);

#endif
