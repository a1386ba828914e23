// SPDX-License-Identifier: Apache-2.0
/*
 * tdc-pcs-server: the loopback PCS stand-in (pcs_server.h) as a program,
 * for the shell tests.  Writes its URL to --url-file once it listens, runs
 * until SIGTERM/SIGINT.  Control: GET /_test/stats (request counts),
 * GET /_test/fault?doc=tcb|qe|pckcrl|rootcrl|all&mode=ok|500|404|...
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcs_server.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "tls", no_argument, NULL, 't' },
		{ "ca-out", required_argument, NULL, 'c' },
		{ "url-file", required_argument, NULL, 'u' },
		{ "slow-ms", required_argument, NULL, 's' },
		{ 0 },
	};
	struct tdc_pcs_server_opts o = { .control = true };
	struct tdc_pcs_server *srv;
	const char *url_file = NULL;
	char line[128];
	sigset_t set;
	int c, sig;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 't': o.tls = true; break;
		case 'c': o.ca_out = optarg; break;
		case 'u': url_file = optarg; break;
		case 's': o.slow_ms = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: tdc-pcs-server --dir DIR [--tls --ca-out FILE] "
				"--url-file FILE [--slow-ms N]\n");
			return 2;
		}
	}
	if (!o.dir || !url_file) {
		fprintf(stderr, "tdc-pcs-server: --dir and --url-file are required\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (tdc_pcs_server_start(&o, &srv) != 0) {
		fprintf(stderr, "tdc-pcs-server: %s\n", tdc_errdetail());
		return 3;
	}
	snprintf(line, sizeof(line), "%s\n", tdc_pcs_server_url(srv));
	if (tdc_write_file(url_file, line, strlen(line)) != 0) {
		fprintf(stderr, "tdc-pcs-server: %s\n", tdc_errdetail());
		tdc_pcs_server_stop(srv);
		return 3;
	}
	sigwait(&set, &sig);
	tdc_pcs_server_stop(srv);
	return 0;
}
