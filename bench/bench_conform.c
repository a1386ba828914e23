// SPDX-License-Identifier: Apache-2.0
/*
 * bench_conform: cost of a conformance run next to the cost of the bare
 * virtual machine it needs, measured side by side in the same run.
 *
 *   kvm:  full `--backend kvm` runs (KVM_GET_SUPPORTED_CPUID, VM, vCPU
 *         threads, every leaf the leaf rules enumerate, verifier engine)
 *         per second, smp 1 and 2, against KVM_CREATE_VM + KVM_RUN of an
 *         empty guest (same VM setup, a guest that reports at once).
 *   qemu: wall time of `--backend qemu` against the same QEMU boot
 *         (-S, QMP capture, cont) with a guest that exits at once.
 *
 * Usage: bench_conform [--kvm-runs N] [--qemu-runs N] [--no-qemu]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compare.h"
#include "conform.h"
#include "kvm.h"
#include "qemu.h"
#include "tdcpuid/error.h"

static int full_kvm_run(unsigned smp)
{
	struct tdc_conform_opts o = { .backend = "kvm", .smp = smp, .timeout_ms = 10000 };
	struct tdc_conform_judge j;
	struct tdc_conform_run run;
	struct tdc_conform_report rep;
	int r;

	if ((r = tdc_conform_judge_open("kvm", NULL, false, &j)) != 0)
		return r;
	tdc_conform_run_init(&run);
	tdc_conform_report_init(&rep);
	if ((r = tdc_conform_kvm(&o, &run)) == 0)
		r = tdc_conform_compare(&j, &run.requested, run.observed, run.ncpus, &rep);
	tdc_conform_judge_close(&j);
	tdc_conform_report_free(&rep);
	tdc_conform_run_free(&run);
	return r;
}

/* The floor: the same VM, vCPUs and threads, an empty CPUID list. */
static int bare_kvm_run(unsigned smp)
{
	struct tdc_cpuid_table list, *out = calloc(smp, sizeof(*out));
	struct tdc_kvm_vm *vm = NULL;
	int r;

	tdc_cpuid_table_init(&list);
	if (!out)
		return TDC_ERR_ALLOC;
	if ((r = tdc_kvm_vm_create(smp, 10000, &vm)) == 0)
		r = tdc_kvm_vm_exec(vm, &list, out, smp);
	tdc_kvm_vm_destroy(vm);
	free(out);
	return r;
}

static int bench_kvm(unsigned smp, unsigned runs)
{
	double t0, full, bare;
	int r;

	/* One of each first, so neither loop pays for cold caches or page faults. */
	if ((r = bare_kvm_run(smp)) != 0 || (r = full_kvm_run(smp)) != 0)
		return r;
	t0 = tdc_conform_now_ms();
	for (unsigned i = 0; i < runs; i++)
		if ((r = bare_kvm_run(smp)) != 0)
			return r;
	bare = tdc_conform_now_ms() - t0;
	t0 = tdc_conform_now_ms();
	for (unsigned i = 0; i < runs; i++)
		if ((r = full_kvm_run(smp)) != 0)
			return r;
	full = tdc_conform_now_ms() - t0;
	printf("kvm  smp %u: conformance run %7.2f ms (%6.1f runs/s) | bare VM + empty guest %6.2f ms (%7.1f runs/s) | ratio %.1fx (%u runs each)\n",
	       smp, full / runs, runs * 1e3 / full, bare / runs, runs * 1e3 / bare, full / bare, runs);
	return 0;
}

static int full_qemu_run(const char *cpu, unsigned smp, double *ms)
{
	struct tdc_conform_opts o = { .backend = "qemu", .smp = smp, .timeout_ms = 120000,
				      .cpu = cpu };
	struct tdc_conform_judge j;
	struct tdc_conform_run run;
	struct tdc_conform_report rep;
	double t0 = tdc_conform_now_ms();
	int r;

	if ((r = tdc_conform_judge_open("kvm", NULL, false, &j)) != 0)
		return r;
	tdc_conform_run_init(&run);
	tdc_conform_report_init(&rep);
	if ((r = tdc_conform_qemu(&o, &run)) == 0)
		r = tdc_conform_compare(&j, &run.requested, run.observed, run.ncpus, &rep);
	*ms = tdc_conform_now_ms() - t0;
	tdc_conform_judge_close(&j);
	tdc_conform_report_free(&rep);
	tdc_conform_run_free(&run);
	return r;
}

/* Same QEMU command line and QMP capture; the guest exits on entry. */
static int bare_qemu_run(const char *cpu, unsigned smp, double *ms)
{
	struct tdc_conform_opts o = { .backend = "qemu", .smp = smp, .timeout_ms = 120000,
				      .cpu = cpu };
	struct tdc_qemu q = { .pid = -1, .in_fd = -1, .out_fd = -1 };
	struct tdc_conform_run run;
	double t0 = tdc_conform_now_ms();
	char guest[4096];
	int r, status;

	tdc_conform_run_init(&run);
	if ((r = tdc_conform_run_alloc(&run, smp)) == 0 &&
	    (r = tdc_conform_guest_path(&o, guest, sizeof(guest))) == 0 &&
	    (r = tdc_qemu_start(&q, &o, guest, NULL, "tdc.exit", NULL)) == 0 &&
	    (r = tdc_qemu_capture(&q, &run)) == 0 && (r = tdc_qemu_cont(&q)) == 0 &&
	    (r = tdc_qemu_wait_exit(&q, o.timeout_ms, &status)) == 0 &&
	    (!WIFEXITED(status) || WEXITSTATUS(status) != 1))
		r = tdc_err(TDC_ERR_INTERNAL, "empty guest: QEMU wait status 0x%x", status);
	*ms = tdc_conform_now_ms() - t0;
	tdc_qemu_stop(&q);
	tdc_conform_run_free(&run);
	return r;
}

static int bench_qemu(unsigned smp, unsigned runs)
{
	/* PVM rejects IA32_ARCH_CAPABILITIES (test-hosts.md); harmless elsewhere. */
	const char *cpu = "host,-arch-capabilities";
	double full = 0, bare = 0, ms;
	int r;

	for (unsigned i = 0; i < runs; i++) {
		if ((r = bare_qemu_run(cpu, smp, &ms)) != 0)
			return r;
		bare += ms;
		if ((r = full_qemu_run(cpu, smp, &ms)) != 0)
			return r;
		full += ms;
	}
	printf("qemu smp %u: conformance run %7.0f ms | same boot, guest exits at once %7.0f ms | ratio %.2fx, guest work + verdict add %.0f ms (%u runs each)\n",
	       smp, full / runs, bare / runs, full / bare, (full - bare) / runs, runs);
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "kvm-runs", required_argument, NULL, 'k' },
		{ "qemu-runs", required_argument, NULL, 'q' },
		{ "no-qemu", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned kvm_runs = 200, qemu_runs = 2;
	bool qemu = true;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kvm_runs = strtoul(optarg, NULL, 0); break;
		case 'q': qemu_runs = strtoul(optarg, NULL, 0); break;
		case 'n': qemu = false; break;
		default:
			fprintf(stderr, "usage: bench_conform [--kvm-runs N] [--qemu-runs N] [--no-qemu]\n");
			return 2;
		}
	}
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("SKIP: /dev/kvm not accessible\n");
		return 77;
	}
	if (kvm_runs < 1 || qemu_runs < 1) {
		fprintf(stderr, "bench_conform: run counts must be >= 1\n");
		return 2;
	}
	for (unsigned smp = 1; smp <= 2; smp++)
		if ((r = bench_kvm(smp, kvm_runs)) != 0)
			goto fail;
	for (unsigned smp = 1; qemu && smp <= 2; smp++)
		if ((r = bench_qemu(smp, qemu_runs)) != 0)
			goto fail;
	return 0;
fail:
	fprintf(stderr, "bench_conform: %s\n", tdc_errmsg(r));
	return 3;
}
