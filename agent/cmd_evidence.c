// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-agent evidence: probe CPUID, bind the claims into a TDREPORT (and
 * a quote) and write the evidence envelope (docs/evidence.cddl).
 *
 *   claims     = CBOR(nonce, tee, CPUID tables, XCR0, ...)
 *   --bind reportdata (default):
 *     REPORTDATA = SHA-512("tdcpuid-claims-v1" || 0x00 || claims)
 *     envelope   = { claims, tdreport, ? quote }
 *   --bind rtmr3 (docs/evidence.md "RTMR3 binding"):
 *     RTMR3 += AAEL "urn:tdcpuid cpuid-claims sha384:<SHA-384(tag||0||claims)>"
 *     REPORTDATA = --report-data (the pipeline's), zero-padded
 *     envelope   = { claims, tdreport, ? quote, eventlog }
 *
 * The TEE comes from agent/tee.h.  `--tee auto` means TDX if the device is
 * there and an error otherwise: simulated evidence is only ever produced
 * when asked for by name.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "replay.h"
#include "probe.h"
#include "remote.h"
#include "tee.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/serial.h"

enum quote_mode { QUOTE_DEFAULT, QUOTE_YES, QUOTE_NO };

struct evidence_args {
	uint8_t nonce[TDC_CLAIMS_NONCE_MAX];
	size_t nonce_len;
	const char *tee;
	const char *sim_dir;
	const char *output;
	const char *vm_name;
	enum quote_mode quote;
	struct tdc_probe_opts probe;
	bool sim_xfam_set;
	uint64_t sim_xfam;
	bool sim_attrs_set;
	uint64_t sim_attrs;
	const char *sim_cpuid;   /* replay this `cpuid -r` dump instead of CPUID (sim only) */
	const char *td_ctls;     /* --td-ctls: stated, not observed */
	bool sim_svn_set, sim_svn2_set, sim_mrseam_set;
	uint8_t sim_svn[16], sim_svn2[16], sim_mrseam[48];
	struct tdc_replay replay;
	const char *to;          /* verifier address: the nonce comes from it */
	const char *serial;      /* also write armored evidence here */
	const char *verifier_key; /* --to: the verdict must be signed by this key */
	const char *ca_cert;     /* --to https://: the CA to trust */
	unsigned timeout_s;
	enum tdc_binding bind;
	uint8_t report_data[TDC_REPORTDATA_LEN]; /* --bind rtmr3: the caller's REPORTDATA */
	bool has_report_data;
	const char *event_log;   /* --bind rtmr3: runtime log to append to */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s evidence (--nonce HEX | --to ADDR) [--tee auto|tdx|sim] [--quote|--report-only]\n"
		"                   [--sim-dir DIR] [--cpu LIST] [--vm-name NAME] [--td-ctls LIST]\n"
		"                   [-o FILE]\n"
		"                   [--serial DEV|-] [--timeout S] [--verifier-key PEM]\n"
		"       %s evidence --bind rtmr3 [--report-data HEX] [--nonce HEX | --to ADDR]\n"
		"                   [--event-log FILE] [options as above]\n"
		"\n"
		"Probe CPUID on every CPU, bind the claims into a TDREPORT via REPORTDATA\n"
		"= SHA-512(\"tdcpuid-claims-v1\" || 0 || claims) and write the CBOR evidence\n"
		"envelope (docs/evidence.cddl).\n"
		"\n"
		"  -n, --nonce HEX        verifier's nonce, 1..%d bytes (required, except with\n"
		"                         --bind rtmr3 --report-data)\n"
		"  -b, --bind MODE        reportdata (default): REPORTDATA binds the claims;\n"
		"                         rtmr3: extend RTMR3 with an AAEL event naming the claims'\n"
		"                         SHA-384 and record it in the event log (Linux >= 6.16\n"
		"                         RTMR sysfs ABI), leaving REPORTDATA to --report-data\n"
		"      --report-data HEX  rtmr3: the quote's REPORTDATA, up to 64 bytes, zero-padded\n"
		"                         (e.g. a pipeline's nonce hash); default 64 zero bytes\n"
		"      --event-log FILE   rtmr3: runtime TCG2 event log to append to (default $%s,\n"
		"                         else %s; sim: SIM_DIR/%s)\n"
		"  -t, --tee KIND         auto (default): tdx if %s exists, else an error\n"
		"                         tdx: /dev/tdx_guest + configfs-tsm\n"
		"                         sim: the labelled SIMULATOR (test keys, proves nothing)\n"
		"  -q, --quote            also get a DCAP quote (fail if impossible)\n"
		"  -r, --report-only      TDREPORT only (verifiable on this platform only)\n"
		"                         default: sim quotes; tdx quotes when configfs-tsm\n"
		"                         is available, else TDREPORT only, with a note\n"
		"  -s, --sim-dir DIR      sim keys (from `sim-keygen DIR`); default $%s\n"
		"                         or %s\n"
		"      --sim-attributes HEX  sim TD ATTRIBUTES (default SEPT_VE_DISABLE)\n"
		"      --sim-xfam HEX     sim XFAM (default: the XCR0 the probe saw, else 0x2e7)\n"
		"      --sim-cpuid FILE   sim: replay this `cpuid -r` dump (e.g. `tdcpuid-verifier\n"
		"                         predict --format raw`) instead of executing CPUID\n"
		"      --sim-tee-tcb-svn HEX, --sim-tee-tcb-svn2 HEX, --sim-mrseam HEX\n"
		"                         sim: the TDX module the report names (TEE_TCB_SVN,\n"
		"                         16 bytes, byte 0 minor and byte 1 major SVN; MRSEAM,\n"
		"                         48 bytes); default 0301, a simulator MRSEAM\n"
		"      --td-ctls LIST     the TD controls to claim: none or a comma list of\n"
		"                         enum_topology, virt_cpuid2, reduce_ve (method\n"
		"                         \"operator\": stated, not observed); default: inferred\n"
		"                         from the TD's CPUID (tdx, or sim with --sim-cpuid)\n"
		"  -c, --cpu LIST         probe only these CPUs, e.g. 0-3,7\n"
		"      --vm-name NAME     name recorded in the claims\n"
		"  -o, --output FILE      write there instead of stdout\n"
		"      --to ADDR          attest to a verifier (tcp:HOST:PORT, vsock:CID:PORT, or the\n"
		"                         REST API at http://HOST:PORT or https://HOST:PORT): take\n"
		"                         its nonce, send the evidence, print the verdict; exit 0\n"
		"                         pass, 1 fail, 75 try later (verifier busy or its audit\n"
		"                         log unavailable); no --nonce then\n"
		"      --ca-cert PEM      --to https://: trust this CA (default: the system's)\n"
		"      --timeout S        deadline for the whole --to exchange (default 30)\n"
		"      --verifier-key PEM --to: accept only a verdict signed by this verifier\n"
		"                         key (P-256 public key, certificate or key pair PEM;\n"
		"                         `serve --sign-key`): anything else is no verdict\n"
		"      --serial DEV       also write the evidence armored (base64 between BEGIN/END\n"
		"                         lines) to a serial console, '-' = stdout; for initramfs\n"
		"                         runs without a network (tdcpuid-verifier ingest)\n"
		"\n"
		"Environment: %s, %s, %s, %s override the device, configfs-tsm,\n"
		"RTMR sysfs and CCEL paths.\n"
		"Exit status: 0 ok, 2 usage or bad input, 3 TEE or environment error; with --to\n"
		"also 1 verdict fails, 75 try later.\n",
		tdc_prog, tdc_prog, TDC_CLAIMS_NONCE_MAX, TDC_ENV_EVENTLOG, TDC_EVENTLOG_DEFAULT,
		TDC_SIM_EVENTLOG, TDC_TDX_GUEST_DEV_DEFAULT, TDC_ENV_SIM_DIR,
		TDC_SIM_DIR_DEFAULT, TDC_ENV_TDX_GUEST_DEV, TDC_ENV_TSM_DIR, TDC_ENV_RTMR_DIR,
		TDC_ENV_CCEL);
}

enum { OPT_SIM_ATTRS = 256, OPT_SIM_XFAM, OPT_SIM_CPUID, OPT_VM_NAME, OPT_TO, OPT_SERIAL,
       OPT_TIMEOUT, OPT_SIM_SVN, OPT_SIM_SVN2, OPT_SIM_MRSEAM, OPT_TD_CTLS, OPT_REPORT_DATA,
       OPT_EVENT_LOG, OPT_VERIFIER_KEY, OPT_CA_CERT };

/* Exactly @len bytes of hex, or fewer for a TEE_TCB_SVN (the rest zero). */
static int parse_hex_opt(const char *name, const char *s, uint8_t *out, size_t len, bool prefix)
{
	size_t n;

	memset(out, 0, len);
	if (tdc_hex_decode(s, out, len, &n) != 0 || (!prefix && n != len) || n == 0)
		return tdc_err(TDC_ERR_USAGE, "%s: %s%zu bytes of hex", name,
			       prefix ? "1.." : "", len);
	return 0;
}

static int parse_u64_opt(const char *name, const char *s, uint64_t *v)
{
	unsigned long long x;
	int ret;

	if ((ret = tdc_parse_u64(s, ~0ull, &x)) != 0)
		return tdc_err_wrap(TDC_ERR_USAGE, "%s: ", name);
	*v = x;
	return 0;
}

static int parse_args(int argc, char *argv[], struct evidence_args *a)
{
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, 'n' },
		{ "tee", required_argument, NULL, 't' },
		{ "quote", no_argument, NULL, 'q' },
		{ "report-only", no_argument, NULL, 'r' },
		{ "sim-dir", required_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "sim-attributes", required_argument, NULL, OPT_SIM_ATTRS },
		{ "sim-xfam", required_argument, NULL, OPT_SIM_XFAM },
		{ "sim-cpuid", required_argument, NULL, OPT_SIM_CPUID },
		{ "sim-tee-tcb-svn", required_argument, NULL, OPT_SIM_SVN },
		{ "sim-tee-tcb-svn2", required_argument, NULL, OPT_SIM_SVN2 },
		{ "sim-mrseam", required_argument, NULL, OPT_SIM_MRSEAM },
		{ "td-ctls", required_argument, NULL, OPT_TD_CTLS },
		{ "vm-name", required_argument, NULL, OPT_VM_NAME },
		{ "to", required_argument, NULL, OPT_TO },
		{ "ca-cert", required_argument, NULL, OPT_CA_CERT },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "bind", required_argument, NULL, 'b' },
		{ "report-data", required_argument, NULL, OPT_REPORT_DATA },
		{ "event-log", required_argument, NULL, OPT_EVENT_LOG },
		{ "verifier-key", required_argument, NULL, OPT_VERIFIER_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_nonce = false;
	uint64_t tmo = 0;
	int c, ret;

	size_t rd_len = 0;

	while ((c = getopt_long(argc, argv, "n:t:qrs:c:o:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if ((ret = tdc_hex_decode(optarg, a->nonce, sizeof(a->nonce),
						  &a->nonce_len)) != 0)
				return tdc_err_wrap(TDC_ERR_USAGE, "--nonce: ");
			have_nonce = true;
			break;
		case 't': a->tee = optarg; break;
		case 'q': a->quote = QUOTE_YES; break;
		case 'r': a->quote = QUOTE_NO; break;
		case 's': a->sim_dir = optarg; break;
		case 'c': a->probe.cpus = optarg; break;
		case 'o': a->output = optarg; break;
		case OPT_VM_NAME: a->vm_name = optarg; break;
		case OPT_TO: a->to = optarg; break;
		case OPT_CA_CERT: a->ca_cert = optarg; break;
		case OPT_SERIAL: a->serial = optarg; break;
		case OPT_VERIFIER_KEY: a->verifier_key = optarg; break;
		case OPT_TIMEOUT:
			if ((ret = parse_u64_opt("--timeout", optarg, &tmo)) != 0)
				return ret;
			if (tmo == 0 || tmo > 3600)
				return tdc_err(TDC_ERR_USAGE, "--timeout: 1..3600 seconds");
			a->timeout_s = (unsigned)tmo;
			break;
		case OPT_SIM_CPUID: a->sim_cpuid = optarg; break;
		case 'b':
			if (tdc_binding_parse(optarg, &a->bind) != 0)
				return tdc_err(TDC_ERR_USAGE, "--bind %s: expected reportdata or rtmr3",
					       optarg);
			break;
		case OPT_REPORT_DATA:
			if ((ret = tdc_hex_decode(optarg, a->report_data, sizeof(a->report_data),
						  &rd_len)) != 0)
				return tdc_err_wrap(TDC_ERR_USAGE, "--report-data: ");
			a->has_report_data = true;
			break;
		case OPT_EVENT_LOG: a->event_log = optarg; break;
		case OPT_TD_CTLS: a->td_ctls = optarg; break;
		case OPT_SIM_SVN:
			if ((ret = parse_hex_opt("--sim-tee-tcb-svn", optarg, a->sim_svn,
						 sizeof(a->sim_svn), true)) != 0)
				return ret;
			a->sim_svn_set = true;
			break;
		case OPT_SIM_SVN2:
			if ((ret = parse_hex_opt("--sim-tee-tcb-svn2", optarg, a->sim_svn2,
						 sizeof(a->sim_svn2), true)) != 0)
				return ret;
			a->sim_svn2_set = true;
			break;
		case OPT_SIM_MRSEAM:
			if ((ret = parse_hex_opt("--sim-mrseam", optarg, a->sim_mrseam,
						 sizeof(a->sim_mrseam), false)) != 0)
				return ret;
			a->sim_mrseam_set = true;
			break;
		case OPT_SIM_ATTRS:
			if ((ret = parse_u64_opt("--sim-attributes", optarg, &a->sim_attrs)) != 0)
				return ret;
			a->sim_attrs_set = true;
			break;
		case OPT_SIM_XFAM:
			if ((ret = parse_u64_opt("--sim-xfam", optarg, &a->sim_xfam)) != 0)
				return ret;
			a->sim_xfam_set = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return tdc_err(TDC_ERR_USAGE, "bad option");
		}
	}
	if (optind != argc)
		return tdc_err(TDC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
	/* REPORTDATA is ours in reportdata mode: nobody else may set it. */
	if (a->bind != TDC_BIND_RTMR3 && (a->has_report_data || a->event_log))
		return tdc_err(TDC_ERR_USAGE, "%s needs --bind rtmr3 (in reportdata mode "
			       "REPORTDATA binds the claims)",
			       a->has_report_data ? "--report-data" : "--event-log");
	/* With --to the verifier issues the nonce; anything else needs one given. */
	if (a->ca_cert && !a->to)
		return tdc_err(TDC_ERR_USAGE, "--ca-cert is for --to https://");
	if (a->verifier_key && !a->to)
		return tdc_err(TDC_ERR_USAGE, "--verifier-key checks a verdict: it needs --to");
	if (a->to && have_nonce)
		return tdc_err(TDC_ERR_USAGE, "--to takes the nonce from the verifier: drop --nonce");
	/* rtmr3: freshness may come from the caller's REPORTDATA instead. */
	if (!a->to && (!have_nonce || a->nonce_len == 0) &&
	    !(a->bind == TDC_BIND_RTMR3 && a->has_report_data))
		return tdc_err(TDC_ERR_USAGE, "--nonce HEX (1..%d bytes) is required%s",
			       TDC_CLAIMS_NONCE_MAX, a->bind == TDC_BIND_RTMR3 ?
			       " (or --report-data HEX for the pipeline's freshness)" : "");
	if (a->vm_name && strlen(a->vm_name) >= TDC_CLAIMS_STR_MAX)
		return tdc_err(TDC_ERR_USAGE, "--vm-name: longer than %d bytes",
			       TDC_CLAIMS_STR_MAX - 1);
	return 0;
}

/* Resolve QUOTE_DEFAULT (see usage) and check an explicit --quote can work. */
static int decide_quote(struct tdc_tee_ctx *ctx, enum quote_mode mode, bool *want)
{
	int ret = ctx->ops->quote_available(ctx);

	if (mode == QUOTE_NO) {
		*want = false;
		return 0;
	}
	if (mode == QUOTE_YES) {
		*want = true;
		return ret ? tdc_err_wrap(ret, "--quote: ") : 0;
	}
	*want = ret == 0;
	if (ret)
		fprintf(stderr, "%s evidence: note: no quote (%s); writing a TDREPORT only, "
			"which only this platform can verify\n", tdc_prog, tdc_errdetail());
	return 0;
}

/*
 * The td_controls claim: stated with --td-ctls, else read from the TD's own
 * CPUID (a TD, or the simulator replaying a TD's dump); a machine that is
 * not a TD says nothing about TD controls.
 */
static int td_controls(const struct evidence_args *a, const struct tdc_tee_ctx *ctx,
		       struct tdc_claims *claims)
{
	static const struct { const char *name; uint64_t bit; } names[] = {
		{ "enum_topology", TDC_TD_CTLS_ENUM_TOPOLOGY },
		{ "virt_cpuid2", TDC_TD_CTLS_VIRT_CPUID2 },
		{ "reduce_ve", TDC_TD_CTLS_REDUCE_VE },
	};
	struct tdc_td_controls *t = &claims->td_controls;
	char buf[128], *save = NULL, *tok;

	if (!a->td_ctls) {
		if (ctx->ops->kind == TDC_TEE_TDX || a->sim_cpuid)
			tdc_td_controls_infer(&claims->common, t);
		return 0;
	}
	memset(t, 0, sizeof(*t));
	t->present = true;
	snprintf(t->method, sizeof(t->method), "operator");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		t->known |= names[i].bit;
	if (!strcmp(a->td_ctls, "none"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", a->td_ctls);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(tok, names[i].name); i++)
			;
		if (i == sizeof(names) / sizeof(names[0]))
			return tdc_err(TDC_ERR_USAGE, "--td-ctls: unknown control '%s' (none, "
				       "enum_topology, virt_cpuid2, reduce_ve)", tok);
		t->value |= names[i].bit;
	}
	return 0;
}

static int fill_claims(const struct evidence_args *a, struct tdc_tee_ctx *ctx,
		       struct tdc_claims *claims)
{
	int ret;

	if ((ret = tdc_probe_run(&a->probe, claims)) != 0)
		return ret;
	if (claims->cpu_set == TDC_CPUSET_AFFINITY)
		fprintf(stderr, "%s evidence: the full CPU set cannot be learnt (no /sys, no "
			"/proc/cpuinfo, no sysconf count): only this process's affinity mask "
			"was probed, and the claims say so (cpu_set \"affinity\")\n", tdc_prog);
	memcpy(claims->nonce, a->nonce, a->nonce_len);
	claims->nonce_len = a->nonce_len;
	claims->tee = ctx->ops->kind;
	claims->binding = a->bind;
	if (a->vm_name)
		snprintf(claims->vm_name, sizeof(claims->vm_name), "%s", a->vm_name);
	/* The simulated TD's XFAM follows what this machine actually enabled. */
	ctx->sim.xfam = a->sim_xfam_set ? a->sim_xfam :
			claims->has_xcr0 ? claims->xcr0 : TDC_SIM_DEFAULT_XFAM;
	if (a->sim_attrs_set)
		ctx->sim.attributes = a->sim_attrs;
	if (a->sim_svn_set)
		memcpy(ctx->sim.tee_tcb_svn, a->sim_svn, sizeof(a->sim_svn));
	if (a->sim_svn2_set)
		memcpy(ctx->sim.tee_tcb_svn2, a->sim_svn2, sizeof(a->sim_svn2));
	if (a->sim_mrseam_set) {
		memcpy(ctx->sim.mr_seam, a->sim_mrseam, sizeof(a->sim_mrseam));
		ctx->sim.has_mr_seam = true;
	}
	return td_controls(a, ctx, claims);
}

/* A quote that does not carry our REPORTDATA would bind someone else's claims. */
static int check_quote(const struct tdc_buf *quote, const uint8_t rd[TDC_REPORTDATA_LEN])
{
	struct tdx_quote q;
	int ret;

	if ((ret = tdx_quote_parse(quote->data, quote->len, true, &q)) != 0)
		return tdc_err_wrap(TDC_ERR_TEE, "the TEE returned an unparsable quote: ");
	if (memcmp(q.body.report_data, rd, TDC_REPORTDATA_LEN) != 0)
		return tdc_err(TDC_ERR_TEE, "the quote's REPORTDATA is not ours "
			       "(another writer used the same configfs-tsm entry?)");
	return 0;
}

static int make_evidence(const struct evidence_args *a, struct tdc_tee_ctx *ctx,
			 struct tdc_envelope *env)
{
	uint8_t rd[TDC_REPORTDATA_LEN], report[TDX_REPORT_LEN];
	struct tdc_claims claims;
	bool want_quote;
	int ret, lock = -1;

	tdc_claims_init(&claims);
	if ((ret = decide_quote(ctx, a->quote, &want_quote)) != 0 ||
	    (ret = fill_claims(a, ctx, &claims)) != 0 ||
	    (ret = tdc_claims_encode(&claims, &env->claims)) != 0)
		goto out;
	if (a->bind == TDC_BIND_RTMR3) {
		char content[TDC_AAEL_CONTENT_LEN + 1];

		/* RTMR3 first: the report and quote must show the extension. */
		memcpy(rd, a->report_data, sizeof(rd));
		if ((ret = tdc_claims_aael_content(env->claims.data, env->claims.len,
						   content)) != 0 ||
		    (ret = tdc_tee_rtmr3_record(ctx, a->event_log, TDC_AAEL_DOMAIN,
						TDC_AAEL_OP_CLAIMS, content, &env->eventlog,
						&lock)) != 0)
			goto out;
	} else if ((ret = tdc_reportdata_compute(env->claims.data, env->claims.len, rd)) != 0) {
		goto out;
	}
	/* Quote first: it is the step that can fail for reasons outside the TD. */
	if (want_quote && ((ret = ctx->ops->get_quote(ctx, rd, &env->quote)) != 0 ||
			   (ret = check_quote(&env->quote, rd)) != 0))
		goto out;
	if ((ret = ctx->ops->get_report(ctx, rd, report)) != 0 ||
	    (ret = tdc_buf_put(&env->tdreport, report, sizeof(report))) != 0)
		goto out;
out:
	if (lock >= 0)
		close(lock);
	tdc_claims_free(&claims);
	return ret;
}

/* Evidence for a nonce chosen elsewhere (the verifier, over --to). */
struct produce_ctx {
	struct evidence_args *a;
	struct tdc_tee_ctx *tee;
};

static int produce(void *ctx, const uint8_t *nonce, size_t nonce_len, struct tdc_buf *out)
{
	struct produce_ctx *p = ctx;
	struct tdc_envelope env;
	int ret;

	if (nonce_len > sizeof(p->a->nonce))
		return tdc_err(TDC_ERR_PROTOCOL, "verifier nonce of %zu bytes", nonce_len);
	memcpy(p->a->nonce, nonce, nonce_len);
	p->a->nonce_len = nonce_len;
	tdc_envelope_init(&env);
	if ((ret = make_evidence(p->a, p->tee, &env)) == 0 &&
	    (ret = tdc_envelope_encode(&env, out)) == 0 && p->a->serial)
		ret = tdc_armor_write(p->a->serial, out->data, out->len);
	tdc_envelope_free(&env);
	return ret;
}

/* --to: exit 0 on a passing verdict, 1 on a failing one. */
static int evidence_remote(struct evidence_args *a, struct tdc_tee_ctx *tee)
{
	struct produce_ctx p = { .a = a, .tee = tee };
	bool passed = false;
	int ret;

	ret = tdc_agent_remote(a->to, a->vm_name, a->timeout_s ? a->timeout_s
			       : TDC_AGENT_DEFAULT_TIMEOUT_S, a->verifier_key, a->ca_cert, produce, &p,
			       a->output ? a->output : "-", &passed);
	if (ret)
		return tdc_cli_fail("evidence", ret);
	return passed ? TDC_EXIT_OK : TDC_EXIT_FAIL;
}

int evidence_main(int argc, char *argv[])
{
	struct evidence_args a = { .tee = "auto" };
	const struct tdc_tee_ops *ops;
	struct tdc_tee_ctx ctx = { 0 };
	struct tdc_envelope env;
	struct tdc_buf out;
	int ret;

	tdc_envelope_init(&env);
	tdc_buf_init(&out);
	if ((ret = parse_args(argc, argv, &a)) == 1)
		return TDC_EXIT_OK;
	if (ret != 0)
		return tdc_cli_fail("evidence", ret);
	if ((ret = tdc_tee_select(a.tee, &ops)) != 0 ||
	    (ret = tdc_tee_open(&ctx, ops, a.sim_dir)) != 0)
		goto out;
	if ((a.sim_svn_set || a.sim_svn2_set || a.sim_mrseam_set) && ops->kind != TDC_TEE_SIM) {
		ret = tdc_err(TDC_ERR_USAGE, "--sim-tee-tcb-svn/--sim-mrseam need --tee sim");
		goto out;
	}
	if (a.sim_cpuid) {
		/* A replayed CPUID proves nothing: only the labelled simulator may use it. */
		if (ops->kind != TDC_TEE_SIM) {
			ret = tdc_err(TDC_ERR_USAGE, "--sim-cpuid needs --tee sim");
			goto out;
		}
		if ((ret = tdc_replay_load(a.sim_cpuid, &a.replay)) != 0)
			goto out;
		a.probe.fn = tdc_replay_fn;
		a.probe.fn_ctx = &a.replay;
	}
	if (a.to) {
		int rc = evidence_remote(&a, &ctx);

		tdc_replay_free(&a.replay);
		tdc_tee_close(&ctx);
		return rc;
	}
	/* --serial alone writes only the armor; -o still writes the raw envelope. */
	if ((ret = make_evidence(&a, &ctx, &env)) != 0 ||
	    (ret = tdc_envelope_encode(&env, &out)) != 0 ||
	    (a.serial && (ret = tdc_armor_write(a.serial, out.data, out.len)) != 0) ||
	    ((a.output || !a.serial) &&
	     (ret = tdc_write_file(a.output ? a.output : "-", out.data, out.len)) != 0))
		goto out;
	if (ops->kind == TDC_TEE_SIM)
		fprintf(stderr, "%s evidence: SIMULATED evidence (tee=sim, test keys from %s), "
			"not from TDX hardware\n", tdc_prog, ctx.sim_dir);
	fprintf(stderr, "%s evidence: %zu bytes of claims, TDREPORT%s%s\n", tdc_prog,
		env.claims.len, env.quote.len ? ", quote" : " only",
		a.bind == TDC_BIND_RTMR3 ? ", bound in RTMR3 (event log attached)" : "");
out:
	tdc_replay_free(&a.replay);
	tdc_tee_close(&ctx);
	tdc_envelope_free(&env);
	tdc_buf_free(&out);
	return ret ? tdc_cli_fail("evidence", ret) : TDC_EXIT_OK;
}
