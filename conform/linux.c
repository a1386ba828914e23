// SPDX-License-Identifier: Apache-2.0
/*
 * The linux backend: QEMU + KVM + a real kernel + the project's initramfs
 * (initramfs/build: static tdcpuid-agent, busybox, /init).  The requested
 * configuration is read over QMP exactly as in the qemu backend; the guest
 * side is the agent's own probe (`probe --format raw`, the `cpuid -r` line
 * format) printed between markers on the serial console, so this path
 * checks the agent as it runs on real hosts and, with --tdx, in a TD.
 *
 * A Linux guest needs hardware virtualization: under a software KVM such
 * as PVM the kernel is still decompressing after 90 s
 * (measured on the project's test hosts, docs/conformance.md), so without vmx/svm the
 * backend refuses at once instead of timing out minutes later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"
#include "helpers.h"
#include "kvm.h"
#include "qemu.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/serial.h"

#define KVM_X86_TDX_VM 5            /* KVM_CAP_VM_TYPES bit (Linux 6.16 uapi) */
#define PROBE_BEGIN "===TDCPUID PROBE BEGIN==="
#define PROBE_END "===TDCPUID PROBE END==="
#define DONE_PREFIX "===TDCPUID DONE rc="
#define CONSOLE_LINE_MAX 1024
#define NONCE_LEN 32

/* 1 if /proc/cpuinfo lists vmx or svm, 0 if not, <0 if it cannot be read. */
int tdc_conform_have_hw_virt(void)
{
	char line[4096];
	FILE *f = fopen("/proc/cpuinfo", "r");
	int found = 0;

	if (!f)
		return tdc_err(TDC_ERR_IO, "/proc/cpuinfo: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		found = strstr(line, " vmx") != NULL || strstr(line, " svm") != NULL;
	}
	fclose(f);
	return found;
}

static int check_host(const struct tdc_conform_opts *o)
{
	int r;

	/* The more specific reason first: a TD needs the TDX VM type. */
	if (o->tdx && (r = tdc_kvm_has_vm_type(KVM_X86_TDX_VM)) <= 0)
		return r < 0 ? r : tdc_err(TDC_ERR_UNSUPPORTED,
			       "--tdx: KVM does not offer the TDX VM type (KVM_CAP_VM_TYPES bit %d "
			       "clear): not a TDX host, or a kernel without KVM TDX support",
			       KVM_X86_TDX_VM);
	if (o->accel && !strcmp(o->accel, "tcg"))
		return 0; /* emulation: slow but independent of the host's KVM */
	if ((r = tdc_conform_have_hw_virt()) < 0)
		return r;
	if (r == 0)
		return tdc_err(TDC_ERR_UNSUPPORTED,
			       "--backend linux needs hardware virtualization (vmx or svm in "
			       "/proc/cpuinfo); this KVM is a software one (e.g. PVM), under "
			       "which a Linux guest does not boot in usable time: use --backend kvm "
			       "or qemu here");
	return 0;
}

/* Last line a helper printed on stdout (its result), its exit status in @st. */
static int run_helper(const char *cmd, const char *what, char *line, size_t len, int *st)
{
	FILE *p;

	if (!(p = popen(cmd, "r")))
		return tdc_err(TDC_ERR_IO, "%s: %s", what, strerror(errno));
	line[0] = '\0';
	while (fgets(line, len, p))
		;
	*st = pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

/*
 * --kernel, else the Debian kernel with TDX guest support the fetch-kernel
 * helper caches (it prints the unpacked package root: boot/vmlinuz-* and
 * the lib/modules the initramfs takes its modules from).
 */
static int find_kernel(const struct tdc_conform_opts *o, char *path, size_t len,
		       char *root, size_t root_len)
{
	char helper[4096], cmd[4200];
	int r, st;

	root[0] = '\0';
	if (o->kernel) {
		snprintf(path, len, "%s", o->kernel);
		if (access(path, R_OK) != 0)
			return tdc_err(TDC_ERR_NOT_FOUND, "kernel %s: %s", path, strerror(errno));
		return 0;
	}
	if ((r = tdc_conform_helper(helper, sizeof(helper), TDC_HELPER_FETCH_KERNEL)) != 0)
		return tdc_err_wrap(TDC_ERR_UNSUPPORTED, "no kernel (pass --kernel): ");
	snprintf(cmd, sizeof(cmd), "'%s' --print-root", helper);
	if ((r = run_helper(cmd, helper, root, root_len, &st)) != 0)
		return r;
	if (st != 0 || root[0] != '/')
		return tdc_err(TDC_ERR_UNSUPPORTED, "no kernel: pass --kernel, or see %s (%s)",
			       helper, root);
	snprintf(cmd, sizeof(cmd), "ls '%s'/boot/vmlinuz-* 2>/dev/null", root);
	if ((r = run_helper(cmd, "ls", path, len, &st)) != 0)
		return r;
	if (st != 0 || access(path, R_OK) != 0)
		return tdc_err(TDC_ERR_UNSUPPORTED, "no kernel image in %s/boot", root);
	return 0;
}

/*
 * --initrd, else a fresh image from the build-initramfs helper (the static
 * agent, busybox and, from the fetched kernel, the TDX guest modules) in
 * @tmpdir, which the caller removes.
 */
static int find_initrd(const struct tdc_conform_opts *o, const char *kroot, char *path,
		       size_t len, char tmpdir[64])
{
	char helper[4096], cmd[8500], line[512];
	int r, st;

	tmpdir[0] = '\0';
	if (o->initrd) {
		snprintf(path, len, "%s", o->initrd);
		if (access(path, R_OK) != 0)
			return tdc_err(TDC_ERR_NOT_FOUND, "initramfs %s: %s", path, strerror(errno));
		return 0;
	}
	if ((r = tdc_conform_helper(helper, sizeof(helper), TDC_HELPER_BUILD_INITRAMFS)) != 0)
		return tdc_err_wrap(TDC_ERR_UNSUPPORTED, "no initramfs (pass --initrd): ");
	snprintf(tmpdir, 64, "%s/tdcpuid-conform.XXXXXX", "/tmp");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return tdc_err(TDC_ERR_IO, "mkdtemp: %s", strerror(errno));
	}
	snprintf(path, len, "%s/initrd.cpio.gz", tmpdir);
	snprintf(cmd, sizeof(cmd), "'%s' -o '%s'%s%s%s 2>&1", helper, path,
		 kroot[0] ? " --kernel-root '" : "", kroot, kroot[0] ? "'" : "");
	if ((r = run_helper(cmd, helper, line, sizeof(line), &st)) != 0)
		return r;
	if (st != 0 || access(path, R_OK) != 0)
		return tdc_err(TDC_ERR_UNSUPPORTED, "building the initramfs failed: %s (pass --initrd)",
			       line);
	return 0;
}

static void remove_tmpdir(const char *tmpdir, const char *initrd)
{
	if (!tmpdir[0])
		return;
	unlink(initrd);
	rmdir(tmpdir);
}

static int make_nonce(struct tdc_conform_run *run, char hex[2 * NONCE_LEN + 1])
{
	if (getrandom(run->nonce, NONCE_LEN, 0) != NONCE_LEN)
		return tdc_err(TDC_ERR_IO, "getrandom: %s", strerror(errno));
	run->nonce_len = NONCE_LEN;
	tdc_hex_encode(run->nonce, NONCE_LEN, hex);
	return 0;
}

/* Kernel messages share the console: keep only lines of the `cpuid -r` format. */
static bool cpuid_r_line(const char *l)
{
	return !strncmp(l, "CPU ", 4) || strstr(l, ": eax=0x") != NULL;
}

/* Probe lines into @dump; everything after the probe into @rest (evidence armor). */
static int read_console(struct tdc_qemu *q, struct tdc_buf *dump, struct tdc_buf *rest,
			int *guest_rc)
{
	char line[CONSOLE_LINE_MAX];
	bool in = false, done_probe = false;
	int r;

	for (;;) {
		if ((r = tdc_qemu_read_line(q, line, sizeof(line),
					    in ? "the end of the probe" : "probe output")) != 0)
			return r;
		if (strstr(line, PROBE_BEGIN)) {
			in = true;
			continue;
		}
		if (strstr(line, PROBE_END)) {
			in = false;
			done_probe = true;
			continue;
		}
		if (done_probe && !in && ((r = tdc_buf_put(rest, line, strlen(line))) != 0 ||
					  (r = tdc_buf_put_u8(rest, '\n')) != 0))
			return r;
		if (rest->len > TDC_EVIDENCE_MAX * 2)
			return tdc_err(TDC_ERR_TOO_LARGE, "guest console after the probe exceeds %u bytes",
				       TDC_EVIDENCE_MAX * 2);
		if (in && cpuid_r_line(line) &&
		    ((r = tdc_buf_put(dump, line, strlen(line))) != 0 ||
		     (r = tdc_buf_put_u8(dump, '\n')) != 0))
			return r;
		if (!strncmp(line, DONE_PREFIX, strlen(DONE_PREFIX))) {
			*guest_rc = atoi(line + strlen(DONE_PREFIX));
			return 0;
		}
	}
}

static int take_tables(struct tdc_conform_run *run, const struct tdc_buf *dump, size_t smp)
{
	struct tdc_cpuid_table *cpus = NULL;
	size_t n = 0;
	int r;

	if (!dump->len)
		return tdc_err(TDC_ERR_PROTOCOL, "the guest agent printed no probe output");
	if ((r = tdc_import_cpuid_r(dump->data, dump->len, "guest probe", &cpus, &n)) != 0)
		return r;
	if (n != smp) {
		r = tdc_err(TDC_ERR_PROTOCOL, "the guest agent probed %zu CPUs, -smp is %zu", n, smp);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		tdc_cpuid_table_free(&run->observed[i]);
		run->observed[i] = cpus[i];
		tdc_cpuid_table_init(&cpus[i]);
	}
out:
	for (size_t i = 0; i < n; i++)
		tdc_cpuid_table_free(&cpus[i]);
	free(cpus);
	return r;
}

int tdc_conform_linux(const struct tdc_conform_opts *o, struct tdc_conform_run *run)
{
	static const char *const tdx_args[] = {
		"-object", "tdx-guest,id=tdx0",
		"-machine", "q35,confidential-guest-support=tdx0,kernel-irqchip=split",
		"-m", "2048", NULL,
	};
	static const char *const vm_args[] = { "-m", "1024", NULL };
	struct tdc_qemu q = { .pid = -1, .in_fd = -1, .out_fd = -1 };
	char kernel[1024], kroot[1024], initrd[1024], tmpdir[64] = "";
	char append[256], nonce[2 * NONCE_LEN + 1];
	double t0 = tdc_conform_now_ms();
	struct tdc_buf dump, rest;
	size_t pos = 0;
	int r, status, guest_rc = -1;

	tdc_buf_init(&dump);
	tdc_buf_init(&rest);
	if ((r = check_host(o)) != 0 ||
	    (r = find_kernel(o, kernel, sizeof(kernel), kroot, sizeof(kroot))) != 0 ||
	    (r = find_initrd(o, kroot, initrd, sizeof(initrd), tmpdir)) != 0)
		goto out;
	t0 = tdc_conform_now_ms(); /* the guest's time, not the kernel fetch's */
	if ((r = tdc_conform_run_alloc(run, o->smp)) != 0 || (r = make_nonce(run, nonce)) != 0)
		goto out;
	snprintf(append, sizeof(append),
		 "console=ttyS0 quiet panic=-1 tdcpuid.nonce=%s tdcpuid.to=serial tdcpuid.tee=%s",
		 nonce, o->guest_tee ? o->guest_tee : o->tdx ? "tdx" : "auto");
	if ((r = tdc_qemu_start(&q, o, kernel, initrd, append, o->tdx ? tdx_args : vm_args)) != 0)
		goto out;
	q.echo = o->verbose;
	if ((r = tdc_qemu_capture(&q, run)) != 0 || (r = tdc_qemu_cont(&q)) != 0 ||
	    (r = read_console(&q, &dump, &rest, &guest_rc)) != 0 ||
	    (r = take_tables(run, &dump, o->smp)) != 0)
		goto out;
	/* Evidence only where the agent could make it (a TD); a broken block is an error. */
	if (rest.len && (r = tdc_armor_next(rest.data, rest.len, &pos, &run->evidence)) != 0) {
		if (r != TDC_ERR_NOT_FOUND)
			goto out;
		tdc_buf_reset(&run->evidence);
	}
	if (o->tdx && !run->evidence.len) {
		r = tdc_err(TDC_ERR_TEE, "--tdx: the TD printed no evidence (/init rc %d)", guest_rc);
		goto out;
	}
	/* /init powers off; QEMU then exits 0. */
	if ((r = tdc_qemu_wait_exit(&q, 10000, &status)) != 0)
		goto out;
	run->guest_ms = tdc_conform_now_ms() - t0;
	for (size_t i = 0; i < run->ncpus; i++)
		run->cpuid_count += run->observed[i].n;
	snprintf(run->backend_info, sizeof(run->backend_info),
		 "QEMU -cpu %s, %u vCPU(s), Linux %s + tdcpuid initramfs%s, /init rc %d",
		 o->cpu ? o->cpu : "host", o->smp, kernel, o->tdx ? ", TD" : "", guest_rc);
out:
	tdc_qemu_stop(&q);
	tdc_buf_free(&dump);
	tdc_buf_free(&rest);
	remove_tmpdir(tmpdir, initrd);
	return r;
}
