/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct /dev/kvm (conform/kvm.c): a VM, its vCPUs, KVM_SET_CPUID2, and what
 * KVM offers (KVM_GET_SUPPORTED_CPUID, `--cpu host[,+feat,-feat]`).  It sits
 * above the pipeline (conform.h) and below the CLI; the pipeline never calls
 * into it.
 */
#ifndef TDC_CONFORM_KVM_H
#define TDC_CONFORM_KVM_H

#include "conform.h"

struct tdc_kvm_vm;
/* KVM_GET_SUPPORTED_CPUID into @out (flags: TDC_CPUID_F_INDEXED). */
int tdc_kvm_supported_cpuid(struct tdc_cpuid_table *out);
int tdc_kvm_vm_create(unsigned nvcpus, unsigned timeout_ms, struct tdc_kvm_vm **vm);
void tdc_kvm_vm_destroy(struct tdc_kvm_vm *vm);
int tdc_kvm_vm_set_cpuid(struct tdc_kvm_vm *vm, unsigned vcpu,
			 const struct tdc_cpuid_table *t);
void tdc_kvm_vm_set_fault(struct tdc_kvm_vm *vm, enum tdc_conform_fault f);
/* tdc_guest_exec_fn over a live VM: one KVM_RUN per vCPU thread. */
int tdc_kvm_vm_exec(void *vm, const struct tdc_cpuid_table *list,
		    struct tdc_cpuid_table *out, size_t ncpus);
/*
 * Whether KVM offers VM type @type (KVM_CAP_VM_TYPES bit; 5 = KVM_X86_TDX_VM).
 * Returns 1/0, or a negative error when /dev/kvm cannot be opened.
 */
int tdc_kvm_has_vm_type(unsigned type);

/* --cpu host[,+feat,-feat]: KVM_GET_SUPPORTED_CPUID with named edits. */
int tdc_conform_cpu_host(const char *spec, struct tdc_requested *out);

#endif
