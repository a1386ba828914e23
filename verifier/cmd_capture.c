// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier capture: record the requested CPUID configuration of
 * every vCPU of a running QEMU from its QMP socket.
 */
#include <getopt.h>
#include <stdio.h>

#include "tdcpuid/cli.h"
#include "tdcpuid/qmp.h"
#include "tdcpuid/error.h"
#include "verifier.h"

#define CAPTURE_DEFAULT_TIMEOUT_S 10
#define CAPTURE_MAX_TIMEOUT_S 3600

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s capture --qmp SOCKET -o FILE [--timeout SECONDS]\n"
		"\n"
		"Connect to a running QEMU's QMP unix socket (-qmp unix:SOCKET,server=on,wait=off),\n"
		"read qom-get feature-words and filtered-features of every vCPU listed by\n"
		"query-cpus-fast and write them as a tdcpuid-qmp-capture JSON file (see\n"
		"docs/requested-formats.md), usable as --requested input.\n"
		"\n"
		"  --qmp SOCKET       QMP unix socket path\n"
		"  -o, --output FILE  capture file, written atomically ('-' = stdout)\n"
		"  --timeout SECONDS  deadline for the whole capture (default %d)\n"
		"  -h, --help         this text\n",
		tdc_prog, CAPTURE_DEFAULT_TIMEOUT_S);
}

int capture_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "qmp", required_argument, NULL, 'q' },
		{ "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *sock = NULL, *output = NULL;
	unsigned long long timeout = CAPTURE_DEFAULT_TIMEOUT_S;
	struct tdc_buf doc;
	size_t ncpus = 0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			sock = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 't':
			if ((r = tdc_parse_u64(optarg, CAPTURE_MAX_TIMEOUT_S, &timeout)) != 0 ||
			    (timeout == 0 && (r = tdc_err(TDC_ERR_USAGE, "--timeout must be "
							  "at least 1 second")) != 0))
				return tdc_cli_fail("capture", TDC_ERR_USAGE);
			break;
		case 'h':
			usage(stdout);
			return TDC_EXIT_OK;
		default:
			usage(stderr);
			return TDC_EXIT_INPUT;
		}
	}
	if (!sock || !output || optind != argc) {
		usage(stderr);
		return TDC_EXIT_INPUT;
	}
	tdc_buf_init(&doc);
	r = tdc_capture_qmp(sock, (unsigned)timeout * 1000, &doc, &ncpus);
	if (r == 0)
		r = tdc_write_file(output, doc.data, doc.len);
	tdc_buf_free(&doc);
	if (r)
		return tdc_cli_fail("capture", r);
	if (output[0] != '-' || output[1])
		fprintf(stderr, "%s capture: %zu vCPUs written to %s\n", tdc_prog, ncpus, output);
	return TDC_EXIT_OK;
}
