/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared CLI plumbing: one table dispatches every subcommand (wireguard-tools
 * wg.c is the model), and every tool prints errors the same way.
 */
#ifndef TDCPUID_CLI_H
#define TDCPUID_CLI_H

#include <stdio.h>
#include <time.h>

struct tdc_subcommand {
	const char *name;
	int (*function)(int argc, char *argv[]);
	const char *description;
};

/*
 * main() of every tdcpuid tool: handles --help/--version, finds argv[1] in
 * @cmds and calls it with argv shifted by one.  @exit_help describes the
 * tool's exit codes in the usage text.
 */
int tdc_cli_dispatch(const char *tool, const struct tdc_subcommand *cmds, size_t n,
		     const char *exit_help, int argc, char *argv[]);

/* The tool's argv[0] basename ("tdcpuid-agent"), set by tdc_cli_dispatch. */
extern const char *tdc_prog;

/* "tdcpuid-agent probe: <detail> (<strerror>)" on stderr, one line; returns
 * tdc_exit_code(code). */
int tdc_cli_fail(const char *subcommand, int code);

/* Parse an unsigned number (decimal or 0x hex) with range check. */
int tdc_parse_u64(const char *s, unsigned long long max, unsigned long long *out);

/*
 * The one time parser (command line, Intel collateral, cache metadata, the
 * audit log's --since): YYYY-MM-DDThh:mm:ssZ (UTC) always, and with
 * TDC_TIME_DATE also YYYY-MM-DD (midnight UTC), TDC_TIME_EPOCH also @SECONDS,
 * TDC_TIME_NO_Z also the date-time without its Z.  Collateral takes only
 * the first form (accept 0): what Intel's JSON carries, nothing looser.
 */
#define TDC_TIME_DATE 1u
#define TDC_TIME_EPOCH 2u
#define TDC_TIME_NO_Z 4u
#define TDC_TIME_CLI (TDC_TIME_DATE | TDC_TIME_EPOCH)
int tdc_time_parse(const char *s, unsigned accept, time_t *out);

#endif
