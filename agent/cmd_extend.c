// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-agent extend: record one AAEL event "<domain> <operation>
 * <content>" in the runtime event log and extend RTMR3 with it, the way
 * Trustee's attestation agent's ExtendRuntimeMeasurement does (an
 * EV_EVENT_TAG record on CC MR index 4).  For measuring other things into
 * the same register and log that `evidence --bind rtmr3` uses; the verifier
 * reports such events without judging them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "tee.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s extend --domain D --operation O --content C [--tee auto|tdx|sim]\n"
		"                 [--sim-dir DIR] [--event-log FILE]\n"
		"\n"
		"Append the AAEL event \"D O C\" to the runtime event log (TCG2 EV_EVENT_TAG\n"
		"record, CC MR index 4) and extend RTMR3 with its SHA-384, after checking that\n"
		"the platform CCEL and the log replay to the current RTMR3.\n"
		"\n"
		"  --domain D        event domain, a URI recommended (no spaces)\n"
		"  --operation O     operation within the domain (no spaces)\n"
		"  --content C       content (printable ASCII, no newline)\n"
		"  --tee KIND        auto (default, tdx if %s exists), tdx or sim\n"
		"  --sim-dir DIR     simulator directory (its RTMR state and event log)\n"
		"  --event-log FILE  runtime log (default $%s, else %s; sim: SIM_DIR/%s)\n"
		"\n"
		"Exit status: 0 ok, 2 usage, 3 TEE or environment error (no RTMR sysfs ABI:\n"
		"Linux >= 6.16 needed).\n",
		tdc_prog, TDC_TDX_GUEST_DEV_DEFAULT, TDC_ENV_EVENTLOG, TDC_EVENTLOG_DEFAULT,
		TDC_SIM_EVENTLOG);
}

int extend_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "operation", required_argument, NULL, 'p' },
		{ "content", required_argument, NULL, 'c' },
		{ "tee", required_argument, NULL, 't' },
		{ "sim-dir", required_argument, NULL, 's' },
		{ "event-log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *domain = NULL, *op = NULL, *content = NULL, *tee = "auto";
	const char *sim_dir = NULL, *log = NULL;
	const struct tdc_tee_ops *ops;
	struct tdc_tee_ctx ctx = { 0 };
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': domain = optarg; break;
		case 'p': op = optarg; break;
		case 'c': content = optarg; break;
		case 't': tee = optarg; break;
		case 's': sim_dir = optarg; break;
		case 'l': log = optarg; break;
		case 'h':
			usage(stdout);
			return TDC_EXIT_OK;
		default:
			usage(stderr);
			return TDC_EXIT_INPUT;
		}
	}
	if (optind != argc || !domain || !op || !content) {
		usage(stderr);
		return tdc_cli_fail("extend", tdc_err(TDC_ERR_USAGE,
				    "--domain, --operation and --content are required"));
	}
	if ((ret = tdc_tee_select(tee, &ops)) != 0 || (ret = tdc_tee_open(&ctx, ops, sim_dir)) != 0)
		goto out;
	ret = tdc_tee_rtmr3_record(&ctx, log, domain, op, content, NULL, NULL);
	if (!ret)
		fprintf(stderr, "%s extend: RTMR3 extended with \"%s %s %s\"%s\n", tdc_prog, domain,
			op, content, ops->kind == TDC_TEE_SIM ? " (SIMULATED TD)" : "");
out:
	tdc_tee_close(&ctx);
	return ret ? tdc_cli_fail("extend", ret) : TDC_EXIT_OK;
}
