// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-conform: one command, one verdict.  Runs a guest with a requested
 * CPUID configuration, reads back what every vCPU saw, and judges it with
 * the kvm platform model.  Exit codes as `tdcpuid-verifier check`:
 * 0 pass, 1 mismatch, 2 bad input/usage, 3 internal/environment.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "conform.h"
#include "kvm.h"
#include "dump.h"
#include "scan.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"

static const char usage_text[] =
	"Usage: tdcpuid-conform [--backend kvm|qemu|linux] [--smp N] [--cpu SPEC]\n"
	"                       [--requested FILE [--requested-format FMT]]\n"
	"                       [--verify-against FILE] [--format text|json]\n"
	"                       [--model NAME] [--policy FILE] [--datadir DIR]\n"
	"                       [--timeout SECONDS] [--dump-requested FILE]\n"
	"                       [--dump-observed FILE] [--qemu PATH] [--guest ELF]\n"
	"                       [--kernel BZIMAGE] [--initrd FILE] [--tdx]\n"
	"\n"
	"Run a guest with a requested CPUID configuration and check, bit by bit,\n"
	"that every vCPU sees it (kvm platform model; dynamic fields excepted).\n"
	"\n"
	"  -b, --backend B         kvm: direct /dev/kvm, tiny real-mode guest (default)\n"
	"                          qemu: QEMU + KVM, multiboot guest, config read over QMP\n"
	"                          linux: QEMU + kernel + tdcpuid initramfs (needs vmx/svm)\n"
	"  -s, --smp N             vCPUs (default 1)\n"
	"  -c, --cpu SPEC          kvm: host[,+FEATURE,-FEATURE...] = KVM_GET_SUPPORTED_CPUID\n"
	"                          with edits (feature names or bits like CPUID.01H:ECX[21]);\n"
	"                          qemu/linux: passed to QEMU -cpu as given (default host)\n"
	"  -r, --requested FILE    kvm: set exactly this configuration (any importer format)\n"
	"      --requested-format F  kvm-json, qmp, cpuid-r, tdx-init-vm (default: detect)\n"
	"      --verify-against FILE judge against this configuration instead of the one\n"
	"                          set (what a lying host would claim; for testing)\n"
	"  -f, --format F          text (default) or json (as tdcpuid-verifier check)\n"
	"  -m, --model NAME|FILE   platform model (default kvm; qemu-tcg with --accel tcg;\n"
	"                          tdx with --tdx: chosen from the TD's evidence)\n"
	"  -p, --policy FILE       verifier policy (default: the built-in default policy)\n"
	"      --datadir DIR       models, policies, trust anchors (absolute; default\n"
	"                          $TDCPUID_DATADIR, else the installed data directory)\n"
	"  -t, --timeout SECONDS   wall clock for the guest run (default kvm 10,\n"
	"                          qemu 60, linux 300)\n"
	"      --dump-requested FILE  write the configuration that was set (kvm-json;\n"
	"                          qemu: the QMP capture document)\n"
	"      --json-out FILE     also write the JSON verdict to FILE\n"
	"      --dump-observed FILE   write what every vCPU saw (JSON, one kvm-json\n"
	"                          entry list per vCPU)\n"
	"      --dump-evidence FILE  linux: write the evidence envelope the guest printed\n"
	"      --qemu PATH         QEMU binary (default qemu-system-x86_64)\n"
	"      --guest ELF         multiboot guest (default: the one built with the tool)\n"
	"      --kernel BZIMAGE    linux backend kernel (default: scripts/fetch-kernel cache)\n"
	"      --initrd FILE       linux backend initramfs (default: initramfs/build output)\n"
	"      --tdx               linux backend: run as a TD (-object tdx-guest); the\n"
	"                          verdict is the TD's evidence under --model (default\n"
	"                          tdx: the model of the module its evidence names) with\n"
	"                          the run's nonce\n"
	"      --guest-tee KIND    linux: the agent's --tee in the guest (auto, tdx, sim;\n"
	"                          sim needs an initramfs built with --sim-dir)\n"
	"      --accel kvm|tcg     qemu/linux: QEMU accelerator (default kvm; tcg checks\n"
	"                          QEMU's emulated CPUID and the plumbing, not KVM)\n"
	"      --scan              kvm: flip every bit of every feature register, one VM\n"
	"                          each, and list which bits the guest follows (honoured)\n"
	"                          and which it does not (ignored)\n"
	"      --test-fault F      hang: the guest never reports; die: it stops before\n"
	"                          reporting (exercise the failure paths)\n"
	"  -v, --verbose           progress on stderr\n"
	"\n"
	"Exit status: 0 pass, 1 mismatch, 2 usage or bad input, 3 internal or\n"
	"environment error (no /dev/kvm, guest timeout, QEMU failure).\n";

static const struct option longopts[] = {
	{ "backend", required_argument, NULL, 'b' },
	{ "smp", required_argument, NULL, 's' },
	{ "cpu", required_argument, NULL, 'c' },
	{ "requested", required_argument, NULL, 'r' },
	{ "requested-format", required_argument, NULL, 'R' },
	{ "verify-against", required_argument, NULL, 'V' },
	{ "format", required_argument, NULL, 'f' },
	{ "model", required_argument, NULL, 'm' },
	{ "policy", required_argument, NULL, 'p' },
	{ "datadir", required_argument, NULL, 'L' },
	{ "timeout", required_argument, NULL, 't' },
	{ "dump-requested", required_argument, NULL, 'D' },
	{ "json-out", required_argument, NULL, 'J' },
	{ "dump-observed", required_argument, NULL, 'O' },
	{ "dump-evidence", required_argument, NULL, 'E' },
	{ "qemu", required_argument, NULL, 'q' },
	{ "guest", required_argument, NULL, 'g' },
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "tdx", no_argument, NULL, 'T' },
	{ "accel", required_argument, NULL, 'A' },
	{ "guest-tee", required_argument, NULL, 'G' },
	{ "test-fault", required_argument, NULL, 'F' },
	{ "scan", no_argument, NULL, 'S' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'W' },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	struct tdc_conform_opts o;
	const char *requested_path, *requested_format, *against_path;
	const char *dump_requested, *dump_observed, *dump_evidence;
	const char *model, *policy, *json_out;
	bool scan;
	enum tdc_conform_format format;
};

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tdc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", tdc_prog);
	return TDC_EXIT_INPUT;
}

static int check_args(struct cli *c);

/* Returns -1 to continue, else an exit code. */
static int parse_args(int argc, char *argv[], struct cli *c)
{
	unsigned long long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "b:s:c:r:f:m:p:t:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (strcmp(optarg, "kvm") && strcmp(optarg, "qemu") && strcmp(optarg, "linux"))
				return usage_error("--backend '%s': expected kvm, qemu or linux", optarg);
			c->o.backend = optarg;
			break;
		case 's':
			if (tdc_parse_u64(optarg, TDC_CONFORM_MAX_SMP, &v) != 0 || v == 0)
				return usage_error("--smp '%s': expected 1..64", optarg);
			c->o.smp = v;
			break;
		case 'c': c->o.cpu = optarg; break;
		case 'r': c->requested_path = optarg; break;
		case 'R': c->requested_format = optarg; break;
		case 'V': c->against_path = optarg; break;
		case 'f':
			if (!strcmp(optarg, "json"))
				c->format = TDC_CONFORM_JSON;
			else if (!strcmp(optarg, "text"))
				c->format = TDC_CONFORM_TEXT;
			else
				return usage_error("--format '%s': expected text or json", optarg);
			break;
		case 't':
			if (tdc_parse_u64(optarg, 3600, &v) != 0 || v == 0)
				return usage_error("--timeout '%s': expected 1..3600 seconds", optarg);
			c->o.timeout_ms = v * 1000;
			break;
		case 'm': c->model = optarg; break;
		case 'p': c->policy = optarg; break;
		case 'L':
			if (tdc_data_dir_set(optarg) != 0)
				return usage_error("%s", tdc_errdetail());
			break;
		case 'J': c->json_out = optarg; break;
		case 'D': c->dump_requested = optarg; break;
		case 'O': c->dump_observed = optarg; break;
		case 'E': c->dump_evidence = optarg; break;
		case 'q': c->o.qemu = optarg; break;
		case 'g': c->o.guest = optarg; break;
		case 'k': c->o.kernel = optarg; break;
		case 'i': c->o.initrd = optarg; break;
		case 'T': c->o.tdx = true; break;
		case 'G':
			if (strcmp(optarg, "auto") && strcmp(optarg, "tdx") && strcmp(optarg, "sim"))
				return usage_error("--guest-tee '%s': expected auto, tdx or sim", optarg);
			c->o.guest_tee = optarg;
			break;
		case 'A':
			if (strcmp(optarg, "kvm") && strcmp(optarg, "tcg"))
				return usage_error("--accel '%s': expected kvm or tcg", optarg);
			c->o.accel = optarg;
			break;
		case 'F':
			if (!strcmp(optarg, "hang"))
				c->o.fault = TDC_FAULT_HANG;
			else if (!strcmp(optarg, "die"))
				c->o.fault = TDC_FAULT_DIE;
			else
				return usage_error("--test-fault '%s': expected hang or die", optarg);
			break;
		case 'S': c->scan = true; break;
		case 'v': c->o.verbose = true; break;
		case 'h': fputs(usage_text, stdout); return TDC_EXIT_OK;
		case 'W': printf("tdcpuid-conform %s\n", TDC_VERSION); return TDC_EXIT_OK;
		default: fputs(usage_text, stderr); return TDC_EXIT_INPUT;
		}
	}
	if (optind != argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return check_args(c);
}

/* Defaults that depend on other options, and combinations that make no sense. */
static int check_args(struct cli *c)
{
	if (!c->model)
		/* The TDX module decides a TD's CPUID; a legacy VM's is KVM's, or QEMU's under TCG. */
		c->model = c->o.tdx ? "tdx" : c->o.accel && !strcmp(c->o.accel, "tcg") ? "qemu-tcg" :
			   "kvm";
	if (!c->o.backend)
		c->o.backend = access("/dev/kvm", F_OK) == 0 ? "kvm" : "qemu";
	if (!c->o.timeout_ms)
		/* Milliseconds for kvm; QEMU boots SeaBIOS first; Linux boots a kernel. */
		c->o.timeout_ms = !strcmp(c->o.backend, "kvm") ? 10000 :
				  !strcmp(c->o.backend, "qemu") ? 60000 : 300000;
	if (c->requested_path && strcmp(c->o.backend, "kvm"))
		return usage_error("--requested: only the kvm backend sets a table directly "
				   "(%s takes --cpu)", c->o.backend);
	if (c->o.tdx && strcmp(c->o.backend, "linux"))
		return usage_error("%s", "--tdx needs --backend linux");
	if (c->scan && strcmp(c->o.backend, "kvm"))
		return usage_error("%s", "--scan needs --backend kvm");
	if (c->requested_path && c->o.cpu)
		return usage_error("%s", "--requested and --cpu are exclusive");
	return -1;
}

static int run_backend(const struct tdc_conform_opts *o, struct tdc_conform_run *run)
{
	if (!strcmp(o->backend, "kvm"))
		return tdc_conform_kvm(o, run);
	if (!strcmp(o->backend, "qemu"))
		return tdc_conform_qemu(o, run);
	return tdc_conform_linux(o, run);
}

static int judge(struct cli *c, const struct tdc_conform_judge *j, struct tdc_conform_run *run)
{
	struct tdc_requested against;
	const struct tdc_requested *req = &run->requested;
	struct tdc_conform_report rep;
	struct tdc_buf out;
	char header[512];
	int r;

	tdc_requested_init(&against);
	tdc_conform_report_init(&rep);
	tdc_buf_init(&out);
	if (c->against_path) {
		if ((r = tdc_requested_load(c->against_path, NULL, &against)) != 0)
			goto out;
		req = &against;
	}
	/* A TD's evidence carries the same tables, bound to a report: judge that. */
	if (run->evidence.len && c->o.tdx)
		r = tdc_conform_compare_evidence(j, req, run->evidence.data, run->evidence.len,
						 run->nonce, run->nonce_len, &rep);
	else
		r = tdc_conform_compare(j, req, run->observed, run->ncpus, &rep);
	if (r)
		goto out;
	snprintf(header, sizeof(header),
		 "tdcpuid-conform: backend %s (%s), requested %s%s, %zu vCPU(s), %lu CPUID executions, guest %.1f ms",
		 c->o.backend, run->backend_info, req->format[0] ? req->format : "configuration",
		 c->against_path ? " (--verify-against)" : "", run->ncpus, run->cpuid_count,
		 run->guest_ms);
	if ((r = tdc_conform_report_format(&rep, c->format, false, header, &out)) != 0)
		goto out;
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	if (c->json_out) {
		tdc_buf_reset(&out);
		if ((r = tdc_conform_report_format(&rep, TDC_CONFORM_JSON, false, header, &out)) != 0 ||
		    (r = tdc_write_file(c->json_out, out.data, out.len)) != 0)
			goto out;
	}
	r = rep.pass ? 0 : 1;
out:
	tdc_buf_free(&out);
	tdc_conform_report_free(&rep);
	tdc_requested_free(&against);
	return r;
}

static int scan(struct cli *c)
{
	struct tdc_requested host;
	struct tdc_scan s = { 0 };
	struct tdc_buf out;
	int r;

	tdc_requested_init(&host);
	tdc_buf_init(&out);
	if (!c->o.requested) {
		if ((r = tdc_conform_cpu_host(c->o.cpu ? c->o.cpu : "host", &host)) != 0)
			goto out;
		c->o.requested = &host;
	}
	if ((r = tdc_conform_scan(c->o.requested, c->o.timeout_ms, &s)) != 0 ||
	    (r = tdc_scan_format(&s, c->format == TDC_CONFORM_JSON, &out)) != 0)
		goto out;
	fwrite(out.data, 1, out.len, stdout);
out:
	tdc_scan_free(&s);
	tdc_buf_free(&out);
	tdc_requested_free(&host);
	return r;
}

int main(int argc, char *argv[])
{
	struct cli c = { .o = { .smp = 1 } };
	struct tdc_conform_judge judge_with = { 0 };
	struct tdc_requested requested;
	struct tdc_conform_run run;
	int r;

	tdc_prog = "tdcpuid-conform";
	if ((r = parse_args(argc, argv, &c)) >= 0)
		return r;
	tdc_requested_init(&requested);
	tdc_conform_run_init(&run);
	if (c.requested_path) {
		if ((r = tdc_requested_load(c.requested_path, c.requested_format, &requested)) != 0)
			goto out;
		c.o.requested = &requested;
	}
	if (c.scan) {
		r = scan(&c);
		goto out;
	}
	/* Model, policy and trust anchor once, before a guest runs for nothing. */
	if ((r = tdc_conform_judge_open(c.model, c.policy, c.o.tdx, &judge_with)) != 0 ||
	    (r = run_backend(&c.o, &run)) != 0)
		goto out;
	if (c.dump_requested && (r = tdc_conform_dump_requested(&run, c.dump_requested)) != 0)
		goto out;
	if (c.dump_observed && (r = tdc_conform_dump_observed(&run, c.dump_observed)) != 0)
		goto out;
	if (c.dump_evidence && run.evidence.len &&
	    (r = tdc_write_file(c.dump_evidence, run.evidence.data, run.evidence.len)) != 0)
		goto out;
	r = judge(&c, &judge_with, &run);
out:
	tdc_conform_judge_close(&judge_with);
	tdc_conform_run_free(&run);
	tdc_requested_free(&requested);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", tdc_prog, tdc_errmsg(r));
		/* A guest that breaks our own protocol is a failed run, not bad input. */
		return r == TDC_ERR_PROTOCOL ? TDC_EXIT_INTERNAL : tdc_exit_code(r);
	}
	return r;
}
