/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The requested CPUID configuration: what the host asked KVM/the TDX module
 * for.  Imported from untrusted files (lib/import_*.c), each format with a
 * size cap and errors that name the file and field:
 *
 *   "kvm-json"    the project's JSON form of struct kvm_cpuid2 (docs/requested-formats.md)
 *   "qmp"         raw QMP replies of qom-get feature-words / filtered-features
 *                 (or a `tdcpuid-verifier capture` file holding them per vCPU)
 *   "cpuid-r"     a `cpuid -r` dump (all CPUs)
 *   "tdx-init-vm" KVM_TDX_INIT_VM cpuid array + attributes/xfam, plus
 *                 KVM_TDX_CAPABILITIES, as JSON
 *
 * Some formats do not specify whole registers (QMP feature words cover only
 * feature bits), so every entry has a parallel "known" mask: a bit the
 * format did not specify is not a request.
 */
#ifndef TDCPUID_REQUESTED_H
#define TDCPUID_REQUESTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/cpuid.h"

#define TDC_REQUESTED_FILE_MAX (4u * 1024 * 1024)
#define TDC_REQUESTED_MAX_CPUS 1024

struct tdc_requested {
	char format[16];                 /* which importer produced it */
	struct tdc_cpuid_table table;    /* requested values (vCPU 0, or common) */
	struct tdc_cpuid_table known;    /* same (leaf, subleaf) set; regs = mask of specified bits */
	struct tdc_cpuid_table *per_cpu; /* optional per-vCPU requested values (cpuid-r, capture) */
	size_t ncpus;
	struct tdc_cpuid_table filtered; /* QMP filtered-features: wanted but host lacks (regs = mask) */
	/*
	 * The format lists only some leaves (QMP feature words): a leaf it does
	 * not list is unspecified, not a request for zeros as in a full table.
	 */
	bool partial;

	/* TDX TD parameters (tdx-init-vm format); absent unless has_td_params. */
	bool has_td_params;
	uint64_t attributes;
	uint64_t xfam;
	bool has_tsc_khz;
	uint64_t tsc_khz;
	/*
	 * KVM's guest-physical-address-width knob, 0x80000008.EAX[23:16] of the
	 * INIT_VM CPUID (include/tdcpuid/kvm_tdx.h): not a guest-visible value,
	 * so those bits are not part of the request (known = 0).
	 */
	bool has_gpaw;
	uint32_t gpaw;
	/* kvm_tdx_init_vm.mrconfigid/mrowner/mrownerconfig (SHA-384), if given. */
	bool has_mrconfigid, has_mrowner, has_mrownerconfig;
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	/* KVM_TDX_CAPABILITIES, if given. */
	bool has_caps;
	uint64_t supported_attrs;
	uint64_t supported_xfam;
	struct tdc_cpuid_table configurable; /* caps->cpuid: configurable bit masks */
};

void tdc_requested_init(struct tdc_requested *r);
void tdc_requested_free(struct tdc_requested *r);
/* @format NULL or "auto": detect from content. @what names the input in errors. */
int tdc_requested_parse(const uint8_t *data, size_t len, const char *format,
			const char *what, struct tdc_requested *out);
int tdc_requested_load(const char *path, const char *format, struct tdc_requested *out);

/* `cpuid -r` dump → one table per CPU (used for --platform too). */
int tdc_import_cpuid_r(const uint8_t *data, size_t len, const char *what,
		       struct tdc_cpuid_table **cpus, size_t *ncpus);
/* The same from a file (the host's `cpuid -r`, --platform): size cap, and a
 * dump without a CPU is an error. */
int tdc_platform_load(const char *path, struct tdc_cpuid_table **cpus, size_t *ncpus);
/* Print a table in the `cpuid -r` line format (byte-compatible). */
struct tdc_buf;
int tdc_format_cpuid_r(const struct tdc_cpuid_table *t, unsigned cpu,
		       struct tdc_buf *out);

#endif
