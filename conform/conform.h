/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tdcpuid-conform: one pipeline, three backends (docs/architecture.md,
 * docs/conformance.md):
 *
 *   requested configuration -> guest run -> guest-observed CPUID per vCPU
 *   -> comparison against the `kvm` model (compare.h) -> verdict
 *
 * A backend fills a struct tdc_conform_run: what was requested of every
 * vCPU and what every vCPU saw.  It never judges; the comparison does.
 */
#ifndef TDC_CONFORM_H
#define TDC_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/requested.h"

#define TDC_CONFORM_MAX_SMP 64
#define TDC_CONFORM_DEFAULT_TIMEOUT_MS 30000u
/* A fixed point is normally reached in 2-3 rounds; more means a runaway rule. */
#define TDC_CONFORM_MAX_ROUNDS 16

/* Test hooks: guests that misbehave on purpose, to exercise failure paths. */
enum tdc_conform_fault {
	TDC_FAULT_NONE = 0,
	TDC_FAULT_HANG,   /* guest spins forever without reporting */
	TDC_FAULT_DIE,    /* guest stops before reporting (kvm: HLT; qemu: QEMU exits) */
};

struct tdc_conform_opts {
	const char *backend;      /* "kvm", "qemu", "linux" */
	unsigned smp;
	unsigned timeout_ms;      /* wall clock for the whole guest run */
	const char *cpu;          /* --cpu: "host[,+feat,-feat]" (kvm) or QEMU -cpu (qemu/linux) */
	const struct tdc_requested *requested; /* --requested (kvm): set exactly this */
	const char *qemu;         /* QEMU binary */
	const char *guest;        /* multiboot guest ELF (qemu backend) */
	const char *kernel;       /* bzImage (linux backend) */
	const char *initrd;       /* initramfs (linux backend) */
	bool tdx;                 /* linux backend: run as a TD */
	const char *guest_tee;    /* linux: tdcpuid.tee= for /init (default auto, tdx with --tdx) */
	const char *accel;        /* qemu/linux: -accel (default kvm; tcg for plumbing tests) */
	enum tdc_conform_fault fault;
	bool verbose;
};

struct tdc_conform_run {
	/* What each vCPU was given (kvm: KVM_SET_CPUID2; qemu: read over QMP). */
	struct tdc_requested requested;
	/* What each vCPU saw, one table per vCPU, canonical order. */
	struct tdc_cpuid_table *observed;
	size_t ncpus;
	unsigned rounds;          /* guest runs until the leaf rules reached a fixed point */
	unsigned long cpuid_count; /* CPUID executions in the guest, all vCPUs */
	double guest_ms;          /* wall time of the guest part */
	char backend_info[256];   /* e.g. "QEMU 7.2.0, -cpu host" */
	/* The requested configuration as an importable document (kvm-json, or
	 * the QMP capture for qemu/linux): what --dump-requested writes. */
	struct tdc_buf requested_doc;
	/* linux backend: the evidence envelope /init printed (serial armor), and
	 * the nonce it was asked for; empty when the guest made none. */
	struct tdc_buf evidence;
	uint8_t nonce[32];
	size_t nonce_len;
};

void tdc_conform_run_init(struct tdc_conform_run *run);
void tdc_conform_run_free(struct tdc_conform_run *run);
int tdc_conform_run_alloc(struct tdc_conform_run *run, size_t ncpus);

/* ---- backends ------------------------------------------------------- */
int tdc_conform_kvm(const struct tdc_conform_opts *o, struct tdc_conform_run *run);
int tdc_conform_qemu(const struct tdc_conform_opts *o, struct tdc_conform_run *run);
int tdc_conform_linux(const struct tdc_conform_opts *o, struct tdc_conform_run *run);

/* ---- the leaf-rule fixed point, shared by every backend --------------- */
/*
 * Executes a list of (leaf, subleaf) on every vCPU of a live guest and
 * stores the results in @out[vcpu] (tdc_cpuid_table_set semantics).
 */
typedef int (*tdc_guest_exec_fn)(void *ctx, const struct tdc_cpuid_table *list,
				 struct tdc_cpuid_table *out, size_t ncpus);
/*
 * Run @exec over the (leaf, subleaf) of @seed plus the range bases, then
 * apply the probe's leaf rules (tdc_cpuid_enumerate) to each vCPU's results
 * and run again for whatever they name that was not executed yet, until
 * nothing is missing.  @out[i] ends up with exactly the entries the leaf
 * rules enumerate plus the seed's.
 */
int tdc_conform_fixpoint(tdc_guest_exec_fn exec, void *ctx,
			 const struct tdc_cpuid_table *seed,
			 struct tdc_cpuid_table *out, size_t ncpus,
			 unsigned *rounds, unsigned long *count);

/* 1 if /proc/cpuinfo lists vmx or svm (a Linux guest can boot), else 0 (linux.c). */
int tdc_conform_have_hw_virt(void);

/* Monotonic milliseconds (pipeline.c). */
double tdc_conform_now_ms(void);

#endif
