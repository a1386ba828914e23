// SPDX-License-Identifier: Apache-2.0
/*
 * The direct /dev/kvm backend: the KVM-selftests idea as a user tool.  No
 * QEMU, no firmware: a VM with one memory slot, N vCPUs each given the
 * requested table with KVM_SET_CPUID2, and a 42-byte real-mode guest that
 * executes CPUID for every record of a list in guest memory and writes the
 * four registers back next to it, then signals completion with one OUT.
 *
 * Real mode because it needs no descriptor tables or page tables and runs
 * under every KVM flavour, PVM included (measured on the project's PVM test
 * hosts, docs/conformance.md: about 3 ms per run).
 * One I/O exit per run instead of one per CPUID keeps runs in milliseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <asm/prctl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"
#include "kvm.h"
#include "tdcpuid/error.h"

/* Not in older uapi headers (added in Linux 6.8 with KVM_X86_SW_PROTECTED_VM). */
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif

#define KVM_DEV "/dev/kvm"
#define GUEST_MEM_SIZE 0x100000u   /* 1 MiB: all of real-mode space */
#define GUEST_CODE_GPA 0x1000u
#define GUEST_DATA_GPA 0x10000u    /* per-vCPU record areas start here */
#define GUEST_DONE_PORT 0xf4
#define RECORD_SIZE 24u            /* in: leaf, subleaf; out: eax, ebx, ecx, edx */
#define RECORD_AREA_MAX 0x10000u   /* SI is 16 bits: one segment per vCPU */
#define SUPPORTED_CPUID_MAX 1024

/*
 * Assembled from this source with `as --32` (.code16), kept as bytes so the
 * build needs no 16-bit toolchain.  Entry: CS:IP = code:0, DS:0 = records,
 * DI = record count.
 */
static const uint8_t guest_code[] = {
	0x85, 0xff,             /* 00 loop: test %di,%di          */
	0x74, 0x1f,             /* 02       je   done              */
	0x66, 0x8b, 0x04,       /* 04       mov  (%si),%eax        */
	0x66, 0x8b, 0x4c, 0x04, /* 07       mov  4(%si),%ecx       */
	0x0f, 0xa2,             /* 0b       cpuid                  */
	0x66, 0x89, 0x44, 0x08, /* 0d       mov  %eax,8(%si)       */
	0x66, 0x89, 0x5c, 0x0c, /* 11       mov  %ebx,12(%si)      */
	0x66, 0x89, 0x4c, 0x10, /* 15       mov  %ecx,16(%si)      */
	0x66, 0x89, 0x54, 0x14, /* 19       mov  %edx,20(%si)      */
	0x83, 0xc6, 0x18,       /* 1d       add  $24,%si           */
	0x4f,                   /* 20       dec  %di               */
	0xeb, 0xdd,             /* 21       jmp  loop              */
	0xba, 0xf4, 0x00,       /* 23 done: mov  $0xf4,%dx         */
	0xee,                   /* 26       out  %al,(%dx)         */
	0xf4,                   /* 27       hlt                    */
	0xeb, 0xfe,             /* 28 hang: jmp  hang              */
	/*
	 * Test fault "die": stop for good before reporting.  (A triple fault
	 * through an empty IVT is no use: PVM does not check the real-mode IDT
	 * limit and runs on through zeroed memory into the code above.)
	 */
	0xfa,                   /* 2a die:  cli                    */
	0xf4,                   /* 2b       hlt                    */
	0xeb, 0xfd,             /* 2c       jmp  die+1             */
};
#define GUEST_HANG_IP 0x28
#define GUEST_DIE_IP 0x2a

struct kvm_vcpu_ctx {
	struct tdc_kvm_vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	int rc;
	char err[256];
	unsigned nrec;
};

struct tdc_kvm_vm {
	int kvm_fd;
	int vm_fd;
	uint8_t *mem;
	unsigned nvcpus;
	struct kvm_vcpu_ctx *vcpu;
	struct timespec deadline;
	unsigned timeout_ms;
	volatile sig_atomic_t stop;
	enum tdc_conform_fault fault;
};

static const char *exit_reason_name(uint32_t r)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
		[KVM_EXIT_IO] = "KVM_EXIT_IO",
		[KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
		[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
		[KVM_EXIT_HLT] = "KVM_EXIT_HLT",
		[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
		[KVM_EXIT_INTR] = "KVM_EXIT_INTR",
		[KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
		[KVM_EXIT_NMI] = "KVM_EXIT_NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
		[KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
		[KVM_EXIT_X86_BUS_LOCK] = "KVM_EXIT_X86_BUS_LOCK",
		[KVM_EXIT_NOTIFY] = "KVM_EXIT_NOTIFY",
	};

	if (r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "unknown KVM exit";
}

static int kvm_open(int *fd)
{
	int api;

	if ((*fd = open(KVM_DEV, O_RDWR | O_CLOEXEC)) < 0) {
		int e = errno;

		/* No KVM is the environment's problem (exit 3), not bad input. */
		return tdc_err(e == ENOENT || e == ENXIO || e == ENODEV ? TDC_ERR_UNSUPPORTED :
			       e == EACCES || e == EPERM ? TDC_ERR_PERM : TDC_ERR_IO,
			       "%s: %s", KVM_DEV, strerror(e));
	}
	if ((api = ioctl(*fd, KVM_GET_API_VERSION, 0)) != KVM_API_VERSION) {
		close(*fd);
		*fd = -1;
		return tdc_err(TDC_ERR_UNSUPPORTED, "%s: KVM API version %d, expected %d",
			       KVM_DEV, api, KVM_API_VERSION);
	}
	return 0;
}

int tdc_kvm_has_vm_type(unsigned type)
{
	int fd, r, types;

	if ((r = kvm_open(&fd)) != 0)
		return r;
	/* Before KVM_CAP_VM_TYPES existed only the default type (0) did. */
	types = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	close(fd);
	if (types <= 0)
		types = 1;
	return type < 31 && (types & (1 << type)) ? 1 : 0;
}

static struct kvm_cpuid2 *cpuid2_alloc(size_t n)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	if (c)
		c->nent = n;
	return c;
}

int tdc_kvm_supported_cpuid(struct tdc_cpuid_table *out)
{
	struct kvm_cpuid2 *c = NULL;
	int fd = -1, r;
	size_t n = 128;

	if ((r = kvm_open(&fd)) != 0)
		return r;
	for (;;) {
		free(c);
		if (!(c = cpuid2_alloc(n))) {
			r = tdc_err(TDC_ERR_ALLOC, "KVM_GET_SUPPORTED_CPUID: %zu entries", n);
			goto out;
		}
		if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG || n >= SUPPORTED_CPUID_MAX) {
			r = tdc_err(TDC_ERR_IO, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			goto out;
		}
		n *= 2;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *k = &c->entries[i];
		struct tdc_cpuid_entry e = {
			.leaf = k->function,
			.subleaf = k->index,
			.flags = k->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ? TDC_CPUID_F_INDEXED : 0,
			.regs = { k->eax, k->ebx, k->ecx, k->edx },
		};

		if (!e.flags)
			e.subleaf = 0;
		if ((r = tdc_cpuid_table_set(out, &e)) != 0)
			goto out;
	}
	tdc_cpuid_table_sort(out);
	r = 0;
out:
	free(c);
	if (fd >= 0)
		close(fd);
	return r;
}

/* One "+name" / "-name" edit of --cpu host,...: a feature name or a bit spec. */
static int apply_edit(const char *tok, struct tdc_cpuid_table *t)
{
	const struct tdc_feature *f;
	struct tdc_cpuid_entry *e = NULL;
	uint32_t leaf, subleaf;
	enum tdc_reg reg;
	unsigned bit;
	bool on;
	int r;

	if (tok[0] != '+' && tok[0] != '-')
		return tdc_err(TDC_ERR_USAGE, "--cpu: '%s': expected +FEATURE or -FEATURE", tok);
	on = tok[0] == '+';
	if ((f = tdc_feature_by_name(tok + 1)) != NULL) {
		leaf = f->leaf;
		subleaf = f->subleaf;
		reg = f->reg;
		bit = f->bit;
	} else if ((r = tdc_parse_bit(tok + 1, &leaf, &subleaf, &reg, &bit)) != 0) {
		return tdc_err(TDC_ERR_USAGE, "--cpu: unknown feature '%s'", tok + 1);
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf &&
		    (t->e[i].subleaf == subleaf || !(t->e[i].flags & TDC_CPUID_F_INDEXED)))
			e = &t->e[i];
	if (!e) {
		struct tdc_cpuid_entry n = { .leaf = leaf, .subleaf = subleaf,
					     .flags = tdc_leaf_is_indexed(leaf) ? TDC_CPUID_F_INDEXED : 0 };

		if (!on)
			return 0; /* clearing a bit of a leaf that is not there: already 0 */
		if ((r = tdc_cpuid_table_set(t, &n)) != 0)
			return r;
		e = &t->e[t->n - 1];
	}
	if (on)
		e->regs[reg] |= 1u << bit;
	else
		e->regs[reg] &= ~(1u << bit);
	return 0;
}

int tdc_conform_cpu_host(const char *spec, struct tdc_requested *out)
{
	char *copy = NULL, *save = NULL, *tok;
	int r;

	if (strncmp(spec, "host", 4) != 0 || (spec[4] != '\0' && spec[4] != ','))
		return tdc_err(TDC_ERR_USAGE,
			       "--cpu '%s': the kvm backend takes host[,+FEATURE,-FEATURE...]", spec);
	tdc_requested_free(out);
	tdc_requested_init(out);
	snprintf(out->format, sizeof(out->format), "kvm-supported");
	if ((r = tdc_kvm_supported_cpuid(&out->table)) != 0)
		return r;
	if (!(copy = strdup(spec)))
		return tdc_err(TDC_ERR_ALLOC, "--cpu");
	for (tok = strtok_r(copy + 4, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if ((r = apply_edit(tok, &out->table)) != 0)
			goto out;
	tdc_cpuid_table_sort(&out->table);
	/* KVM_SET_CPUID2 sets whole registers: every bit is a request. */
	if ((r = tdc_cpuid_table_copy(&out->known, &out->table)) != 0)
		goto out;
	for (size_t i = 0; i < out->known.n; i++)
		for (int k = 0; k < TDC_NREGS; k++)
			out->known.e[i].regs[k] = 0xffffffffu;
out:
	free(copy);
	return r;
}

/*
 * AMX tile data (XSAVE component 18) is an XFD "dynamic" feature: KVM only
 * accepts a CPUID table that enables it (0xD.0 EAX bit 18, which
 * KVM_GET_SUPPORTED_CPUID reports on AMX hosts) from a process that asked
 * for the larger guest FPU state first, before creating vCPUs, else
 * KVM_SET_CPUID2 fails with EPERM (Linux arch/x86/kernel/fpu/xstate.c,
 * fpu_enable_guest_xfd_features(); QEMU does the same in
 * kvm_request_xsave_components()).  Hosts without AMX refuse the request,
 * which is harmless.
 */
#define XFEATURE_XTILEDATA 18

static void request_amx_permission(void)
{
	syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_GUEST_PERM, XFEATURE_XTILEDATA);
}

static void wake_handler(int sig)
{
	(void)sig; /* only there to make KVM_RUN return EINTR */
}

static int vcpu_create(struct tdc_kvm_vm *vm, unsigned id)
{
	struct kvm_vcpu_ctx *v = &vm->vcpu[id];
	int sz;

	v->vm = vm;
	v->id = id;
	if ((v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id)) < 0)
		return tdc_err(TDC_ERR_IO, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	if ((sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return tdc_err(TDC_ERR_IO, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	v->run_size = sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return tdc_err(TDC_ERR_IO, "mmap kvm_run of vCPU %u: %s", id, strerror(errno));
	}
	return 0;
}

int tdc_kvm_vm_create(unsigned nvcpus, unsigned timeout_ms, struct tdc_kvm_vm **out)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct sigaction sa = { .sa_handler = wake_handler };
	struct tdc_kvm_vm *vm;
	int r;

	*out = NULL;
	if (nvcpus == 0 || nvcpus > TDC_CONFORM_MAX_SMP)
		return tdc_err(TDC_ERR_RANGE, "--smp %u: must be 1..%d", nvcpus,
			       TDC_CONFORM_MAX_SMP);
	if (!(vm = calloc(1, sizeof(*vm))) ||
	    !(vm->vcpu = calloc(nvcpus, sizeof(*vm->vcpu)))) {
		free(vm);
		return tdc_err(TDC_ERR_ALLOC, "KVM VM with %u vCPUs", nvcpus);
	}
	vm->vm_fd = -1;
	vm->kvm_fd = -1;
	vm->nvcpus = nvcpus;
	vm->timeout_ms = timeout_ms;
	for (unsigned i = 0; i < nvcpus; i++)
		vm->vcpu[i].fd = -1;
	/* No SA_RESTART: the signal must interrupt KVM_RUN. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if ((r = kvm_open(&vm->kvm_fd)) != 0)
		goto fail;
	request_amx_permission();
	if ((vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0) {
		r = tdc_err(TDC_ERR_IO, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	vm->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		r = tdc_err(TDC_ERR_ALLOC, "guest memory (%u bytes): %s", GUEST_MEM_SIZE,
			    strerror(errno));
		goto fail;
	}
	memcpy(vm->mem + GUEST_CODE_GPA, guest_code, sizeof(guest_code));
	region.memory_size = GUEST_MEM_SIZE;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		r = tdc_err(TDC_ERR_IO, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		goto fail;
	}
	for (unsigned i = 0; i < nvcpus; i++)
		if ((r = vcpu_create(vm, i)) != 0)
			goto fail;
	*out = vm;
	return 0;
fail:
	tdc_kvm_vm_destroy(vm);
	return r;
}

void tdc_kvm_vm_destroy(struct tdc_kvm_vm *vm)
{
	if (!vm)
		return;
	for (unsigned i = 0; vm->vcpu && i < vm->nvcpus; i++) {
		if (vm->vcpu[i].run)
			munmap(vm->vcpu[i].run, vm->vcpu[i].run_size);
		if (vm->vcpu[i].fd >= 0)
			close(vm->vcpu[i].fd);
	}
	if (vm->mem)
		munmap(vm->mem, GUEST_MEM_SIZE);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->vcpu);
	free(vm);
}

void tdc_kvm_vm_set_fault(struct tdc_kvm_vm *vm, enum tdc_conform_fault f)
{
	vm->fault = f;
}

int tdc_kvm_vm_set_cpuid(struct tdc_kvm_vm *vm, unsigned vcpu,
			 const struct tdc_cpuid_table *t)
{
	struct kvm_cpuid2 *c;
	int r = 0;

	if (vcpu >= vm->nvcpus)
		return tdc_err(TDC_ERR_RANGE, "vCPU %u of %u", vcpu, vm->nvcpus);
	if (!(c = cpuid2_alloc(t->n)))
		return tdc_err(TDC_ERR_ALLOC, "KVM_SET_CPUID2: %zu entries", t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[i];
		struct kvm_cpuid_entry2 *k = &c->entries[i];

		k->function = e->leaf;
		k->index = e->subleaf;
		k->flags = e->flags & TDC_CPUID_F_INDEXED ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		k->eax = e->regs[TDC_EAX];
		k->ebx = e->regs[TDC_EBX];
		k->ecx = e->regs[TDC_ECX];
		k->edx = e->regs[TDC_EDX];
	}
	/* KVM refusing a table (EINVAL, EPERM) is this host's limit, not bad input. */
	if (ioctl(vm->vcpu[vcpu].fd, KVM_SET_CPUID2, c) < 0)
		r = tdc_err(errno == E2BIG ? TDC_ERR_TOO_LARGE : TDC_ERR_UNSUPPORTED,
			    "KVM refused KVM_SET_CPUID2 on vCPU %u (%zu entries): %s%s", vcpu, t->n,
			    strerror(errno), errno == EPERM ?
			    " (the table enables XSAVE components this host or process may not "
			    "give a guest, e.g. AMX in CPUID.0DH.0:EAX)" : "");
	free(c);
	return r;
}

static uint32_t record_area(unsigned nrec)
{
	return (nrec * RECORD_SIZE + 15u) & ~15u;
}

static int vcpu_setup(struct kvm_vcpu_ctx *v, uint32_t data_gpa)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return tdc_err(TDC_ERR_IO, "KVM_GET_SREGS vCPU %u: %s", v->id, strerror(errno));
	/* Real mode: base = selector << 4, so both must stay below 1 MiB. */
	sregs.cs.selector = GUEST_CODE_GPA >> 4;
	sregs.cs.base = GUEST_CODE_GPA;
	sregs.ds.selector = data_gpa >> 4;
	sregs.ds.base = data_gpa;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return tdc_err(TDC_ERR_IO, "KVM_SET_SREGS vCPU %u: %s", v->id, strerror(errno));
	regs.rflags = 0x2; /* bit 1 is reserved-1 */
	regs.rip = v->vm->fault == TDC_FAULT_HANG ? GUEST_HANG_IP :
		   v->vm->fault == TDC_FAULT_DIE ? GUEST_DIE_IP : 0;
	regs.rsi = 0;
	regs.rdi = v->nrec;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return tdc_err(TDC_ERR_IO, "KVM_SET_REGS vCPU %u: %s", v->id, strerror(errno));
	return 0;
}

static int vcpu_exit_error(struct kvm_vcpu_ctx *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return tdc_err(TDC_ERR_PROTOCOL, "vCPU %u: unexpected %s of port 0x%x (KVM_EXIT_IO)",
			       v->id, run->io.direction == KVM_EXIT_IO_OUT ? "write" : "read",
			       run->io.port);
	case KVM_EXIT_HLT:
		return tdc_err(TDC_ERR_PROTOCOL, "vCPU %u: guest halted before reporting (KVM_EXIT_HLT)",
			       v->id);
	case KVM_EXIT_SHUTDOWN:
		return tdc_err(TDC_ERR_INTERNAL, "vCPU %u: guest triple fault (KVM_EXIT_SHUTDOWN)",
			       v->id);
	case KVM_EXIT_FAIL_ENTRY:
		return tdc_err(TDC_ERR_INTERNAL,
			       "vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx", v->id,
			       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return tdc_err(TDC_ERR_INTERNAL, "vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u",
			       v->id, run->internal.suberror);
	default:
		return tdc_err(TDC_ERR_INTERNAL, "vCPU %u: unexpected exit %s (%u)", v->id,
			       exit_reason_name(run->exit_reason), run->exit_reason);
	}
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu_ctx *v = arg;

	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && v->vm->stop) {
				v->rc = tdc_err(TDC_ERR_TIMEOUT,
						"vCPU %u: guest did not report within %u ms",
						v->id, v->vm->timeout_ms);
				break;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			v->rc = tdc_err(TDC_ERR_IO, "KVM_RUN vCPU %u: %s", v->id, strerror(errno));
			break;
		}
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == GUEST_DONE_PORT &&
		    v->run->io.direction == KVM_EXIT_IO_OUT) {
			v->rc = 0;
			break;
		}
		if (v->run->exit_reason == KVM_EXIT_INTR)
			continue;
		v->rc = vcpu_exit_error(v);
		break;
	}
	if (v->rc)
		snprintf(v->err, sizeof(v->err), "%s", tdc_errdetail());
	return NULL;
}

/* Wait for every vCPU thread until the deadline, then kick the rest out of KVM_RUN. */
static void join_all(struct tdc_kvm_vm *vm, const struct timespec *deadline)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_vcpu_ctx *v = &vm->vcpu[i];

		if (!v->started)
			continue;
		if (!vm->stop && pthread_timedjoin_np(v->thread, NULL, deadline) == 0) {
			v->started = false;
			continue;
		}
		vm->stop = 1;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_vcpu_ctx *v = &vm->vcpu[i];

		if (!v->started)
			continue;
		v->run->immediate_exit = 1;
		/* Kick until the thread is gone: the signal may land before KVM_RUN. */
		while (pthread_tryjoin_np(v->thread, NULL) == EBUSY) {
			pthread_kill(v->thread, SIGUSR1);
			usleep(1000);
		}
		v->started = false;
		v->run->immediate_exit = 0;
	}
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int collect(struct tdc_kvm_vm *vm, const struct tdc_cpuid_table *list,
		   uint32_t area, struct tdc_cpuid_table *out)
{
	int r;

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const uint8_t *rec = vm->mem + GUEST_DATA_GPA + i * area;

		for (size_t k = 0; k < list->n; k++, rec += RECORD_SIZE) {
			struct tdc_cpuid_entry e = list->e[k];

			memcpy(e.regs, rec + 8, sizeof(e.regs));
			if ((r = tdc_cpuid_table_set(&out[i], &e)) != 0)
				return r;
		}
	}
	return 0;
}

int tdc_kvm_vm_exec(void *ctx, const struct tdc_cpuid_table *list,
		    struct tdc_cpuid_table *out, size_t ncpus)
{
	struct tdc_kvm_vm *vm = ctx;
	uint32_t area = record_area(list->n);
	struct timespec deadline;
	int r = 0;

	if (ncpus != vm->nvcpus)
		return tdc_err(TDC_ERR_INTERNAL, "KVM exec: %zu result tables for %u vCPUs",
			       ncpus, vm->nvcpus);
	if (area > RECORD_AREA_MAX ||
	    GUEST_DATA_GPA + (uint64_t)area * vm->nvcpus > GUEST_MEM_SIZE)
		return tdc_err(TDC_ERR_TOO_LARGE,
			       "KVM guest: %zu CPUID records x %u vCPUs do not fit in real-mode memory",
			       list->n, vm->nvcpus);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		uint8_t *rec = vm->mem + GUEST_DATA_GPA + i * area;

		memset(rec, 0, area);
		for (size_t k = 0; k < list->n; k++, rec += RECORD_SIZE) {
			memcpy(rec, &list->e[k].leaf, 4);
			memcpy(rec + 4, &list->e[k].subleaf, 4);
		}
		vm->vcpu[i].nrec = list->n;
		if ((r = vcpu_setup(&vm->vcpu[i], GUEST_DATA_GPA + i * area)) != 0)
			return r;
	}
	vm->stop = 0;
	deadline_after(&deadline, vm->timeout_ms);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_vcpu_ctx *v = &vm->vcpu[i];

		v->rc = 0;
		v->err[0] = '\0';
		if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
			r = tdc_err(TDC_ERR_INTERNAL, "vCPU %u thread: %s", i, strerror(errno));
			vm->stop = 1;
			break;
		}
		v->started = true;
	}
	join_all(vm, &deadline);
	for (unsigned i = 0; i < vm->nvcpus && !r; i++)
		if (vm->vcpu[i].rc)
			r = tdc_err(vm->vcpu[i].rc, "%s", vm->vcpu[i].err);
	if (r)
		return r;
	return collect(vm, list, area, out);
}

/*
 * KVM_SET_CPUID2 takes whole entries: a format that specifies only some
 * registers (QMP feature words) would leave the rest zero, leaf 0 included,
 * and the run would test a configuration nobody asked for.
 */
static int check_whole_table(const struct tdc_requested *req)
{
	if (!tdc_cpuid_table_find(&req->table, 0, 0))
		return tdc_err(TDC_ERR_FORMAT, "requested configuration (%s) has no leaf 0: "
			       "KVM_SET_CPUID2 needs a whole table", req->format);
	for (size_t i = 0; i < req->known.n; i++)
		for (int g = 0; g < TDC_NREGS; g++)
			if (req->known.e[i].regs[g] != 0xffffffffu)
				return tdc_err(TDC_ERR_FORMAT, "requested configuration (%s) "
					       "specifies only part of CPUID.%08XH.%u:%s: the kvm "
					       "backend sets whole entries (use kvm-json or cpuid-r)",
					       req->format, req->known.e[i].leaf,
					       req->known.e[i].subleaf, tdc_reg_name(g));
	return 0;
}

int tdc_conform_kvm(const struct tdc_conform_opts *o, struct tdc_conform_run *run)
{
	struct tdc_kvm_vm *vm = NULL;
	const struct tdc_cpuid_table *set;
	double t0;
	int r;

	if ((r = tdc_conform_run_alloc(run, o->smp)) != 0)
		return r;
	if (o->requested) {
		if ((r = check_whole_table(o->requested)) != 0)
			return r;
		tdc_requested_free(&run->requested);
		tdc_requested_init(&run->requested);
		if ((r = tdc_cpuid_table_copy(&run->requested.table, &o->requested->table)) != 0 ||
		    (r = tdc_cpuid_table_copy(&run->requested.known, &o->requested->known)) != 0)
			return r;
		snprintf(run->requested.format, sizeof(run->requested.format), "%s",
			 o->requested->format);
	} else if ((r = tdc_conform_cpu_host(o->cpu ? o->cpu : "host", &run->requested)) != 0) {
		return r;
	}
	t0 = tdc_conform_now_ms();
	if ((r = tdc_kvm_vm_create(o->smp, o->timeout_ms, &vm)) != 0)
		return r;
	tdc_kvm_vm_set_fault(vm, o->fault);
	set = &run->requested.table;
	for (unsigned i = 0; i < o->smp; i++)
		if ((r = tdc_kvm_vm_set_cpuid(vm, i, set)) != 0)
			goto out;
	r = tdc_conform_fixpoint(tdc_kvm_vm_exec, vm, set, run->observed, run->ncpus,
				 &run->rounds, &run->cpuid_count);
	run->guest_ms = tdc_conform_now_ms() - t0;
	snprintf(run->backend_info, sizeof(run->backend_info),
		 "direct /dev/kvm, %u vCPU(s), real-mode guest, %u round(s)", o->smp,
		 run->rounds);
out:
	tdc_kvm_vm_destroy(vm);
	return r;
}
