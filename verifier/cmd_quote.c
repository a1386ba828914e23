// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier quote: standalone appraisal of any TDX quote (v4/v5)
 * against the Intel SGX root and, optionally, Intel collateral.  The work
 * is done by quote_verify.c, shared with `check`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coll_cli.h"
#include "quote_verify.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "verifier.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s quote FILE [options]\n"
		"Appraise a TDX quote: signature, QE report, PCK chain to the root and,\n"
		"with --collateral, TCB info, QE identity, CRLs and the TCB status.\n\n"
		"  --root PEM            trust anchor (default: %s)\n"
		TDC_COLL_CLI_HELP
		"  --at TIME             appraisal time, YYYY-MM-DDThh:mm:ssZ, YYYY-MM-DD\n"
		"                        or @EPOCH (default: now)\n"
		"  --report-data HEX     expected REPORTDATA (prefix, up to 64 bytes)\n"
		"  --accept-tcb LIST     acceptable TCB statuses (default UpToDate)\n"
		"  --min-tcb-date DATE   oldest acceptable tcbDate\n"
		"  --no-crl              do not check revocation (stated in the output)\n"
		"  --allow-debug         accept a DEBUG TD\n"
		"  --signature-only      appraise the signature chain only, without collateral:\n"
		"                        the TCB status is not evaluated (a SKIP naming this flag)\n"
		"  --format text|json    output format (default text)\n\n"
		"Exit status: 0 all checks pass and the TCB is acceptable (with\n"
		"--signature-only: the signature chain holds, TCB not evaluated), 1 appraisal\n"
		"failure (including no collateral without --signature-only), 2 bad input or\n"
		"usage, 3 internal error.\n",
		tdc_prog, tdc_default_root_path());
}

struct quote_args {
	const char *file, *root, *format, *report_data;
	struct tdc_coll_source_opts coll;
	struct tdc_quote_opts opts;
	uint8_t rd[64];
	bool signature_only;
};

enum { OPT_ROOT = 256, OPT_AT, OPT_RD, OPT_ACCEPT, OPT_MINDATE, OPT_NOCRL,
       OPT_DEBUG, OPT_FORMAT, OPT_SIGONLY };

static int parse_args(int argc, char *argv[], struct quote_args *a)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		TDC_COLL_CLI_LONGOPTS,
		{ "at", required_argument, NULL, OPT_AT },
		{ "report-data", required_argument, NULL, OPT_RD },
		{ "accept-tcb", required_argument, NULL, OPT_ACCEPT },
		{ "min-tcb-date", required_argument, NULL, OPT_MINDATE },
		{ "no-crl", no_argument, NULL, OPT_NOCRL },
		{ "allow-debug", no_argument, NULL, OPT_DEBUG },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "signature-only", no_argument, NULL, OPT_SIGONLY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	a->opts.at = time(NULL);
	a->format = "text";
	tdc_coll_source_opts_init(&a->coll);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((ret = tdc_coll_cli_opt(&a->coll, c, optarg)) <= 0) {
			if (ret)
				return ret;
			continue;
		}
		switch (c) {
		case OPT_ROOT: a->root = optarg; break;
		case OPT_AT:
			if ((ret = tdc_time_parse(optarg, TDC_TIME_CLI, &a->opts.at)) != 0)
				return tdc_err(TDC_ERR_USAGE, "--at %s: expected "
					       "YYYY-MM-DDThh:mm:ssZ, YYYY-MM-DD or @EPOCH", optarg);
			break;
		case OPT_RD: a->report_data = optarg; break;
		case OPT_ACCEPT:
			if ((ret = tdc_quote_parse_accept(optarg, &a->opts.accept_tcb)) != 0)
				return tdc_err_wrap(TDC_ERR_USAGE, "--accept-tcb: ");
			break;
		case OPT_MINDATE:
			if ((ret = tdc_time_parse(optarg, TDC_TIME_CLI, &a->opts.min_tcb_date)) != 0)
				return tdc_err(TDC_ERR_USAGE, "--min-tcb-date %s: bad date", optarg);
			break;
		case OPT_NOCRL: a->opts.no_crl = true; break;
		case OPT_DEBUG: a->opts.allow_debug = true; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_SIGONLY: a->signature_only = true; break;
		case 'h': usage(stdout); exit(0);
		default: return tdc_err(TDC_ERR_USAGE, "see '%s quote --help'", tdc_prog);
		}
	}
	if (strcmp(a->format, "text") && strcmp(a->format, "json"))
		return tdc_err(TDC_ERR_USAGE, "--format must be text or json");
	if (optind + 1 != argc)
		return tdc_err(TDC_ERR_USAGE, "expected exactly one quote FILE");
	a->file = argv[optind];
	if (a->signature_only && a->coll.spec)
		return tdc_err(TDC_ERR_USAGE, "--signature-only contradicts a collateral source");
	if (a->report_data) {
		if ((ret = tdc_hex_decode(a->report_data, a->rd, sizeof(a->rd),
					  &a->opts.report_data_len)) != 0 || !a->opts.report_data_len)
			return tdc_err(TDC_ERR_USAGE, "--report-data: 1 to 64 bytes of hex");
		a->opts.report_data = a->rd;
	}
	return 0;
}

/*
 * Without collateral the TCB status (what exit 0 promises) was not
 * evaluated: that fails, unless --signature-only asked for exactly that.
 */
static void tcb_unevaluated(const struct quote_args *a, struct tdc_quote_result *res)
{
	if (!res->parsed || res->collateral_used)
		return;
	tdc_check_unverified(&res->checks, "tcb.status", "--signature-only", a->signature_only,
			     "not evaluated: no collateral given, TCB level, QE identity TCB "
			     "and PCK revocation unchecked");
	res->all_pass = tdc_check_list_ok(&res->checks);
	res->tcb_acceptable = res->all_pass;
}

static void print_result(const struct quote_args *a, const struct tdc_quote_result *res)
{
	if (strcmp(a->format, "json") == 0) {
		json_t *j = tdc_quote_result_json(res);

		json_object_set_new(j, "signature_only", json_boolean(a->signature_only));

		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		tdc_quote_result_text(res, stdout);
	}
}

int quote_main(int argc, char *argv[])
{
	struct quote_args a = { 0 };
	struct tdc_quote_result *res = NULL;
	struct tdc_trust *trust = NULL;
	struct tdc_buf q;
	int ret, code;

	tdc_buf_init(&q);
	if ((ret = parse_args(argc, argv, &a)) != 0 ||
	    (ret = tdc_cli_trust_load(a.root, NULL, &trust)) != 0 ||
	    (ret = tdc_read_file(a.file, TDX_QUOTE_MAX, &q)) != 0 ||
	    (ret = tdc_coll_cli_open(&a.coll, &a.opts.source)) != 0) {
		code = tdc_cli_fail("quote", ret);
		goto out;
	}
	a.opts.root = trust->root;
	a.opts.store = trust->store;
	a.opts.qe_identity = &trust->qe;
	if (!(res = calloc(1, sizeof(*res)))) {
		code = tdc_cli_fail("quote", TDC_ERR_ALLOC);
		goto out;
	}
	ret = tdc_quote_appraise(&a.opts, q.data, q.len, res);
	if (ret && !tdc_check_count(&res->checks)) {
		code = tdc_cli_fail("quote", ret);
		goto out;
	}
	if (!ret)
		tcb_unevaluated(&a, res);
	print_result(&a, res);
	/* A quote that does not even parse is bad input, not a failed appraisal. */
	code = ret ? TDC_EXIT_INPUT : tdc_quote_exit_code(res);
out:
	if (res)
		tdc_quote_result_free(res);
	free(res);
	tdc_coll_source_free(a.opts.source);
	tdc_trust_free(trust);
	tdc_buf_free(&q);
	return code;
}
