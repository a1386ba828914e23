/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One QEMU child process for the qemu and linux backends: started paused
 * with QMP on a unix socket and the guest's COM1 on its stdin/stdout,
 * always killed and reaped by tdc_qemu_stop().
 */
#ifndef TDC_CONFORM_QEMU_H
#define TDC_CONFORM_QEMU_H

#include <stdbool.h>
#include <sys/types.h>

#include "conform.h"

struct tdc_qemu {
	pid_t pid;
	int in_fd;          /* guest COM1 input (QEMU stdin) */
	int out_fd;         /* guest COM1 output (QEMU stdout) */
	const char *qmp_path;
	const char *err_path; /* QEMU's stderr, for error messages */
	const char *cpu;
	char name[64];      /* -name: "tdcpuid-conform-<pid>" */
	unsigned timeout_ms;
	double deadline_ms; /* tdc_conform_now_ms() clock */
	struct tdc_buf rx;  /* serial bytes not yet consumed */
	size_t serial_total;
	bool echo;          /* copy serial output to stderr */
};

int tdc_qemu_start(struct tdc_qemu *q, const struct tdc_conform_opts *o,
		   const char *kernel, const char *initrd, const char *append,
		   const char *const *extra);
/* Requested configuration of every vCPU over QMP into run->requested(_doc). */
int tdc_qemu_capture(struct tdc_qemu *q, struct tdc_conform_run *run);
int tdc_qemu_cont(struct tdc_qemu *q);
/* Next serial line (without newline) before the deadline. */
int tdc_qemu_read_line(struct tdc_qemu *q, char *line, size_t cap, const char *waiting_for);
int tdc_qemu_write(struct tdc_qemu *q, const void *data, size_t len);
/* Wait up to @ms for QEMU to exit by itself; its wait status in @status. */
int tdc_qemu_wait_exit(struct tdc_qemu *q, unsigned ms, int *status);
void tdc_qemu_stop(struct tdc_qemu *q);

/* --guest, else the helper directory's guest (helpers.h). */
int tdc_conform_guest_path(const struct tdc_conform_opts *o, char *out, size_t n);

#endif
