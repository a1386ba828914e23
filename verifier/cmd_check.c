// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier check: one evidence file against the requested
 * configuration, a platform model and a policy -> verdict and exit code.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "coll_cli.h"
#include "engine.h"
#include "model.h"
#include "policy.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/evidence.h"
#include "verifier.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s check --evidence FILE --requested FILE [options]\n"
		"\n"
		"Check agent evidence against the CPUID configuration the host requested,\n"
		"bit by bit, with a platform model and a policy.\n"
		"\n"
		"  --evidence FILE          evidence ('-' = stdin): the envelope from `tdcpuid-agent\n"
		"                           evidence`, a raw TD quote, or Trustee's TDX evidence JSON\n"
		"                           ({\"cc_eventlog\": b64, \"quote\": b64}); detected from content\n"
		"  --claims FILE            with a raw quote or Trustee evidence: the tdcpuid claims\n"
		"                           (`inspect --extract claims`), bound by RTMR3\n"
		"  --event-log FILE         with a raw quote or Trustee evidence: a TCG2 event log\n"
		"                           (CCEL, agent runtime log), appended in order; repeatable\n"
		"  --report-data HEX        binding rtmr3: the REPORTDATA the quote must carry (the\n"
		"                           pipeline's value, up to 64 bytes, zero-padded)\n"
		"  --requested FILE         requested configuration (kvm-json, qmp capture, cpuid -r,\n"
		"                           tdx-init-vm; detected from content)\n"
		"  --requested-format FMT   force the importer (kvm-json|qmp|cpuid-r|tdx-init-vm)\n"
		"  --platform FILE          host's native CPUID (`cpuid -r` on the host): native\n"
		"                           bits are predicted instead of reported as native\n"
		"  --model NAME|FILE        platform model: tdx (chosen per evidence from the attested\n"
		"                           MRSEAM / TEE_TCB_SVN), tdx-<release> (any TDX module\n"
		"                           release, e.g. tdx-1.5.25), kvm, or a file (default: tdx\n"
		"                           for tdx-init-vm requests, else kvm); see docs/models.md\n"
		"  --policy FILE            tenant policy (default: built-in = policies/default.json)\n"
		"  --nonce HEX              the nonce this evidence must carry (freshness)\n"
		"  --nonce-issued TIME      when that nonce was issued (policy nonce_max_age)\n"
		"  --mrconfigid HEX         the MRCONFIGID (48 bytes) this TD must have\n"
		"  --root PEM               quote trust anchor (default: policy's, else Intel SGX Root CA)\n"
		TDC_COLL_CLI_HELP
		"  --sim-dir DIR            simulator keys: check a simulated TDREPORT's MAC\n"
		"  --at TIME                verification time (YYYY-MM-DDThh:mm:ssZ, YYYY-MM-DD, @EPOCH)\n"
		"  --format text|json|ear   output (default text)\n"
		"  --sign-key PEM           sign the EAR as a JWT (ES256, P-256 key)\n"
		"  -v, --verbose            text: one line for every bit\n"
		"  -o, --output FILE        write the verdict to FILE (default stdout)\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: 0 pass, 1 policy failure, 2 bad input or usage (including evidence\n"
		"that does not parse), 3 internal error.\n",
		tdc_prog);
}

struct check_args {
	const char *evidence, *requested, *req_format, *platform, *model, *policy;
	const char *root, *sim_dir, *sign_key, *output;
	struct tdc_coll_source_opts coll;
	enum tdc_out_format format;
	bool verbose;
	uint8_t nonce[TDC_CLAIMS_NONCE_MAX];
	size_t nonce_len;
	bool has_nonce;
	uint8_t mrconfigid[48];
	bool has_mrconfigid;
	time_t nonce_issued, at;
	const char *claims;
	const char *eventlog[TDC_IMPORT_MAX_LOGS];
	size_t neventlogs;
	uint8_t report_data[TDC_REPORTDATA_LEN];
	size_t report_data_len;
	bool has_report_data;
};

enum { O_EVIDENCE = 256, O_REQUESTED, O_REQFMT, O_PLATFORM, O_MODEL, O_POLICY, O_NONCE,
       O_ISSUED, O_MRCONFIGID, O_ROOT, O_SIM, O_AT, O_FORMAT, O_SIGN, O_CLAIMS, O_EVENTLOG,
       O_REPORT_DATA };

static int parse_args(int argc, char *argv[], struct check_args *a)
{
	static const struct option longopts[] = {
		{ "evidence", required_argument, NULL, O_EVIDENCE },
		{ "requested", required_argument, NULL, O_REQUESTED },
		{ "requested-format", required_argument, NULL, O_REQFMT },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "model", required_argument, NULL, O_MODEL },
		{ "policy", required_argument, NULL, O_POLICY },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "nonce-issued", required_argument, NULL, O_ISSUED },
		{ "mrconfigid", required_argument, NULL, O_MRCONFIGID },
		{ "root", required_argument, NULL, O_ROOT },
		TDC_COLL_CLI_LONGOPTS,
		{ "sim-dir", required_argument, NULL, O_SIM },
		{ "at", required_argument, NULL, O_AT },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "sign-key", required_argument, NULL, O_SIGN },
		{ "claims", required_argument, NULL, O_CLAIMS },
		{ "event-log", required_argument, NULL, O_EVENTLOG },
		{ "report-data", required_argument, NULL, O_REPORT_DATA },
		{ "verbose", no_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r = 0;

	optind = 1;
	tdc_coll_source_opts_init(&a->coll);
	while ((c = getopt_long(argc, argv, "vo:h", longopts, NULL)) != -1 && !r) {
		if ((r = tdc_coll_cli_opt(&a->coll, c, optarg)) <= 0)
			continue;
		r = 0;
		switch (c) {
		case O_EVIDENCE: a->evidence = optarg; break;
		case O_REQUESTED: a->requested = optarg; break;
		case O_REQFMT: a->req_format = optarg; break;
		case O_PLATFORM: a->platform = optarg; break;
		case O_MODEL: a->model = optarg; break;
		case O_POLICY: a->policy = optarg; break;
		case O_ROOT: a->root = optarg; break;
		case O_SIM: a->sim_dir = optarg; break;
		case O_SIGN: a->sign_key = optarg; break;
		case O_CLAIMS: a->claims = optarg; break;
		case O_EVENTLOG:
			if (a->neventlogs == TDC_IMPORT_MAX_LOGS)
				r = tdc_err(TDC_ERR_USAGE, "--event-log: at most %d", TDC_IMPORT_MAX_LOGS);
			else
				a->eventlog[a->neventlogs++] = optarg;
			break;
		case O_REPORT_DATA:
			if ((r = tdc_hex_decode(optarg, a->report_data, sizeof(a->report_data),
						&a->report_data_len)) != 0)
				r = tdc_err_wrap(TDC_ERR_USAGE, "--report-data: ");
			a->has_report_data = true;
			break;
		case 'o': a->output = optarg; break;
		case 'v': a->verbose = true; break;
		case O_NONCE:
			r = tdc_hex_decode(optarg, a->nonce, sizeof(a->nonce), &a->nonce_len);
			a->has_nonce = true;
			break;
		case O_ISSUED: r = tdc_time_parse(optarg, TDC_TIME_CLI, &a->nonce_issued); break;
		case O_MRCONFIGID: {
			size_t n;

			if ((r = tdc_hex_decode(optarg, a->mrconfigid, sizeof(a->mrconfigid), &n)) == 0 &&
			    n != sizeof(a->mrconfigid))
				r = tdc_err(TDC_ERR_USAGE, "--mrconfigid: %zu bytes, expected 48", n);
			a->has_mrconfigid = true;
			break;
		}
		case O_AT: r = tdc_time_parse(optarg, TDC_TIME_CLI, &a->at); break;
		case O_FORMAT: r = tdc_out_format_parse(optarg, &a->format); break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return tdc_err(TDC_ERR_USAGE, "invalid option");
		}
	}
	if (r)
		return r;
	if (!a->evidence || !a->requested || optind != argc) {
		usage(stderr);
		return tdc_err(TDC_ERR_USAGE, "--evidence and --requested are required");
	}
	return 0;
}

/* The inputs that are not the evidence itself, loaded once. */
struct check_inputs {
	struct tdc_requested req;
	struct tdc_cpuid_table *platform;
	size_t nplatform;
	struct tdc_model *model;
	struct tdc_model_set *models;   /* --model tdx */
	char model_why[128];
	struct tdc_policy *policy;
	struct tdc_coll_source *collateral;
	struct tdc_trust *trust;        /* loaded once, before any evidence is read */
};

static void inputs_free(struct check_inputs *in)
{
	tdc_requested_free(&in->req);
	for (size_t i = 0; i < in->nplatform; i++)
		tdc_cpuid_table_free(&in->platform[i]);
	free(in->platform);
	tdc_model_free(in->model);
	tdc_model_set_free(in->models);
	tdc_policy_free(in->policy);
	tdc_coll_source_free(in->collateral);
	tdc_trust_free(in->trust);
}

static int load_inputs(const struct check_args *a, struct check_inputs *in)
{
	const char *model = a->model;
	int r;

	if ((r = tdc_requested_load(a->requested, a->req_format, &in->req)) != 0)
		return r;
	if (a->platform && (r = tdc_platform_load(a->platform, &in->platform, &in->nplatform)) != 0)
		return r;
	if (!model)
		model = in->req.has_td_params ? "tdx" : "kvm";
	snprintf(in->model_why, sizeof(in->model_why), "%s", a->model ? "given with --model" :
		 in->req.has_td_params ? "default for a request with TD parameters" :
		 "default for a request without TD parameters");
	if (!strcmp(model, "tdx"))
		r = tdc_model_set_open(&in->models);
	else
		r = tdc_model_load(model, &in->model);
	if (r)
		return r;
	if ((r = a->policy ? tdc_policy_load(a->policy, &in->policy) :
			     tdc_policy_default(&in->policy)) != 0)
		return r;
	if ((r = tdc_coll_cli_open(&a->coll, &in->collateral)) != 0)
		return r;
	return tdc_cli_trust_load(a->root, in->policy->trust_anchor, &in->trust);
}

/*
 * The evidence as one envelope: ours as it is (an oversized one goes to the
 * engine, which names the limit), or a pipeline's quote / Trustee JSON
 * with the claims and event logs given beside it.
 */
static int assemble(const struct check_args *a, const struct tdc_buf *ev, struct tdc_buf *env)
{
	struct tdc_evidence_parts parts = { .neventlogs = a->neventlogs };
	struct tdc_buf claims, logs[TDC_IMPORT_MAX_LOGS];
	int r = 0;

	tdc_buf_init(&claims);
	for (size_t i = 0; i < TDC_IMPORT_MAX_LOGS; i++)
		tdc_buf_init(&logs[i]);
	if (!a->claims && !a->neventlogs && ev->len > TDC_IMPORT_MAX) {
		r = tdc_buf_put(env, ev->data, ev->len);
		goto out;
	}
	if (a->claims) {
		if ((r = tdc_read_file(a->claims, TDC_EVIDENCE_MAX, &claims)) != 0)
			goto out;
		parts.claims = claims.data;
		parts.claims_len = claims.len;
	}
	for (size_t i = 0; i < a->neventlogs; i++) {
		if ((r = tdc_read_file(a->eventlog[i], TDC_CCEL_AREA_MAX, &logs[i])) != 0)
			goto out;
		parts.eventlog[i] = logs[i].data;
		parts.eventlog_len[i] = logs[i].len;
	}
	if ((r = tdc_evidence_import(ev->data, ev->len, &parts, env, NULL)) != 0)
		r = tdc_err_wrap(r, "%s: ", a->evidence);
out:
	tdc_buf_free(&claims);
	for (size_t i = 0; i < TDC_IMPORT_MAX_LOGS; i++)
		tdc_buf_free(&logs[i]);
	return r;
}

static int run_check(const struct check_args *a, struct check_inputs *in, bool *passed,
		     bool *malformed)
{
	struct tdc_check_config cfg = {
		.requested = &in->req, .model = in->model, .models = in->models,
		.model_why = in->model_why, .policy = in->policy,
		.platform = in->nplatform ? &in->platform[0] : NULL,
		.trust = in->trust, .collateral_source = in->collateral, .sim_dir = a->sim_dir,
		.at = a->at, .nonce = a->has_nonce ? a->nonce : NULL, .nonce_len = a->nonce_len,
		.nonce_issued = a->nonce_issued,
		.expect_mrconfigid = a->has_mrconfigid ? a->mrconfigid : NULL,
		.expect_report_data = a->has_report_data ? a->report_data : NULL,
		.expect_report_data_len = a->report_data_len,
	};
	struct tdc_check_result res;
	struct tdc_buf ev, out, env;
	int r;

	tdc_check_result_init(&res);
	tdc_buf_init(&ev);
	tdc_buf_init(&out);
	tdc_buf_init(&env);
	/* One byte over the cap so the engine can say "too large" precisely. */
	if ((r = tdc_read_file(a->evidence, TDC_IMPORT_MAX + 1, &ev)) != 0 &&
	    r != TDC_ERR_TOO_LARGE)
		goto out;
	if ((r = assemble(a, &ev, &env)) != 0)
		goto out;
	if ((r = tdc_check_evidence(&cfg, env.data, env.len, &res)) != 0 ||
	    (r = tdc_check_format(&res, a->format, a->sign_key, &out)) != 0)
		goto out;
	if (a->format == TDC_OUT_TEXT && a->verbose) {
		tdc_buf_reset(&out);
		if ((r = tdc_check_format_text(&res, true, &out)) != 0)
			goto out;
	}
	r = tdc_write_file(a->output ? a->output : "-", out.data, out.len);
	*passed = res.passed;
	*malformed = res.malformed;
out:
	tdc_check_result_free(&res);
	tdc_buf_free(&ev);
	tdc_buf_free(&env);
	tdc_buf_free(&out);
	return r;
}

int check_main(int argc, char *argv[])
{
	struct check_args a = { .format = TDC_OUT_TEXT };
	struct check_inputs in;
	bool passed = false, malformed = false;
	int r;

	memset(&in, 0, sizeof(in));
	tdc_requested_init(&in.req);
	if ((r = parse_args(argc, argv, &a)) != 0)
		return r > 0 ? TDC_EXIT_OK : tdc_cli_fail("check", r);
	if ((r = load_inputs(&a, &in)) == 0)
		r = run_check(&a, &in, &passed, &malformed);
	inputs_free(&in);
	if (r)
		return tdc_cli_fail("check", r);
	/* Evidence that does not even parse is bad input, not a policy verdict. */
	if (malformed)
		return TDC_EXIT_INPUT;
	return passed ? TDC_EXIT_OK : TDC_EXIT_FAIL;
}
