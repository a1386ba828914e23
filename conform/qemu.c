// SPDX-License-Identifier: Apache-2.0
/*
 * The qemu backend: QEMU + KVM started paused (-S), the requested
 * configuration of every vCPU read over QMP (verifier/capture.c: feature-
 * words and filtered-features at the qom-path query-cpus-fast names), then
 * `cont`, and the project's multiboot guest (conform/guest/) answering
 * CPUID lists over COM1 (QEMU's stdin/stdout) until the leaf rules reach a
 * fixed point.  -device isa-debug-exit ends the run.
 *
 * QMP paths and PVM quirks, as measured on the project's test hosts
 * (docs/conformance.md): vCPU paths come from query-cpus-fast, and
 * "-cpu host,-avx512f" aborts with "failed to set MSR 0x10a" under PVM.
 *
 * QEMU is killed on every exit path: errors, the timeout, SIGINT/SIGTERM
 * (handler below) and, if this process dies, PR_SET_PDEATHSIG.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdcpuid/qmp.h"
#include "guest_proto.h"
#include "helpers.h"
#include "qemu.h"
#include "tdcpuid/error.h"

#define QEMU_DEFAULT "qemu-system-x86_64"
#define QEMU_MAX_ARGS 48
#define SERIAL_LINE_MAX 256
#define SERIAL_MAX (4u * 1024 * 1024) /* far above any honest run */
#define EXIT_GRACE_MS 5000

/* The one QEMU this process runs, for the signal handler. */
static volatile pid_t g_qemu_pid;
static char g_qmp_path[160], g_err_path[160], g_dir[96];

static void cleanup_files(void)
{
	if (g_qmp_path[0])
		unlink(g_qmp_path);
	if (g_err_path[0])
		unlink(g_err_path);
	if (g_dir[0])
		rmdir(g_dir);
}

static void on_fatal_signal(int sig)
{
	pid_t p = g_qemu_pid;

	if (p > 0)
		kill(p, SIGKILL);
	cleanup_files();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int remaining_ms(const struct tdc_qemu *q)
{
	double left = q->deadline_ms - tdc_conform_now_ms();

	return left <= 0 ? 0 : (int)left + 1;
}

/* Last line QEMU wrote on stderr (usually why it failed); @msr: the PVM MSR abort. */
static void stderr_tail(const struct tdc_qemu *q, char *buf, size_t len, bool *msr)
{
	struct tdc_buf b;
	char *s, *nl;

	buf[0] = '\0';
	tdc_buf_init(&b);
	if (tdc_read_file(q->err_path, 1u << 20, &b) == 0 && b.len) {
		s = (char *)tdc_buf_cstr(&b);
		*msr = strstr(s, "failed to set MSR 0x10a") != NULL;
		while ((nl = strrchr(s, '\n')) && nl[1] == '\0')
			*nl = '\0';
		nl = strrchr(s, '\n');
		snprintf(buf, len, "%s", nl ? nl + 1 : s);
	}
	tdc_buf_free(&b);
}

/* Reap QEMU if it exited; returns true (and the status) if it did. */
static bool reaped(struct tdc_qemu *q, int *status)
{
	if (q->pid <= 0)
		return true;
	if (waitpid(q->pid, status, WNOHANG) == q->pid) {
		q->pid = -1;
		g_qemu_pid = 0;
		return true;
	}
	return false;
}

static int qemu_died(struct tdc_qemu *q, int status, const char *doing)
{
	char tail[256];
	bool msr = false;

	stderr_tail(q, tail, sizeof(tail), &msr);
	if (msr)
		return tdc_err(TDC_ERR_UNSUPPORTED,
			       "QEMU aborted %s: failed to set MSR 0x10a (this KVM rejects "
			       "IA32_ARCH_CAPABILITIES: try --cpu %s,-arch-capabilities)", doing,
			       q->cpu ? q->cpu : "host");
	if (WIFEXITED(status))
		return tdc_err(TDC_ERR_INTERNAL, "QEMU exited with status %d %s%s%s",
			       WEXITSTATUS(status), doing, tail[0] ? ": " : "", tail);
	return tdc_err(TDC_ERR_INTERNAL, "QEMU killed by signal %d %s%s%s",
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0, doing,
		       tail[0] ? ": " : "", tail);
}

/* The QEMU command line: paused, QMP socket, COM1 on stdio, debug-exit port. */
struct qemu_argv {
	const char *argv[QEMU_MAX_ARGS];
	char smp[16];
	char qmp[192];
	int n;
};

static void build_argv(struct qemu_argv *a, const struct tdc_qemu *q,
		       const struct tdc_conform_opts *o, const char *kernel, const char *initrd,
		       const char *append, const char *const *extra)
{
	const char **v = a->argv;
	int n = 0;

	snprintf(a->smp, sizeof(a->smp), "%u", o->smp);
	snprintf(a->qmp, sizeof(a->qmp), "unix:%s,server=on,wait=off", q->qmp_path);
	v[n++] = o->qemu ? o->qemu : QEMU_DEFAULT;
	v[n++] = "-name"; v[n++] = q->name;
	v[n++] = "-accel"; v[n++] = o->accel ? o->accel : "kvm";
	v[n++] = "-cpu"; v[n++] = o->cpu ? o->cpu : "host";
	v[n++] = "-smp"; v[n++] = a->smp;
	v[n++] = "-nodefaults"; v[n++] = "-display"; v[n++] = "none";
	v[n++] = "-no-reboot"; v[n++] = "-S";
	v[n++] = "-qmp"; v[n++] = a->qmp;
	v[n++] = "-serial"; v[n++] = "stdio";
	v[n++] = "-device"; v[n++] = "isa-debug-exit,iobase=0xf4,iosize=0x04";
	v[n++] = "-kernel"; v[n++] = kernel;
	if (initrd) {
		v[n++] = "-initrd";
		v[n++] = initrd;
	}
	v[n++] = "-append"; v[n++] = append;
	for (size_t i = 0; extra && extra[i] && n < QEMU_MAX_ARGS - 1; i++)
		v[n++] = extra[i];
	v[n] = NULL;
	a->n = n;
}

/* Fork and exec @argv with COM1 on pipes and stderr in q->err_path. */
static int spawn(struct tdc_qemu *q, const char *const *argv)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errfd = -1;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    (errfd = open(q->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		int e = errno;

		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0) close(in[i]);
			if (out[i] >= 0) close(out[i]);
		}
		return tdc_err(TDC_ERR_IO, "QEMU pipes: %s", strerror(e));
	}
	if ((q->pid = fork()) < 0) {
		int e = errno;

		close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(errfd);
		return tdc_err(TDC_ERR_IO, "fork: %s", strerror(e));
	}
	if (q->pid == 0) {
		/* Never outlive the tool, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(errfd, 2);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	g_qemu_pid = q->pid;
	close(in[0]);
	close(out[1]);
	close(errfd);
	q->in_fd = in[1];
	q->out_fd = out[0];
	return 0;
}

int tdc_qemu_start(struct tdc_qemu *q, const struct tdc_conform_opts *o,
		   const char *kernel, const char *initrd, const char *append,
		   const char *const *extra)
{
	struct sigaction sa = { .sa_handler = on_fatal_signal };
	struct qemu_argv a;
	int r;

	memset(q, 0, sizeof(*q));
	q->pid = -1;
	q->in_fd = q->out_fd = -1;
	q->cpu = o->cpu;
	q->timeout_ms = o->timeout_ms;
	q->deadline_ms = tdc_conform_now_ms() + o->timeout_ms;
	tdc_buf_init(&q->rx);
	snprintf(g_dir, sizeof(g_dir), "/tmp/tdcpuid-conform.XXXXXX");
	if (!mkdtemp(g_dir)) {
		g_dir[0] = '\0';
		return tdc_err(TDC_ERR_IO, "temporary directory: %s", strerror(errno));
	}
	snprintf(g_qmp_path, sizeof(g_qmp_path), "%s/qmp.sock", g_dir);
	snprintf(g_err_path, sizeof(g_err_path), "%s/qemu.stderr", g_dir);
	q->qmp_path = g_qmp_path;
	q->err_path = g_err_path;
	/* A unique name, so callers (and tests) can find this very QEMU. */
	snprintf(q->name, sizeof(q->name), "tdcpuid-conform-%d", (int)getpid());
	build_argv(&a, q, o, kernel, initrd, append, extra);

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = spawn(q, a.argv)) != 0)
		return r;
	if (o->verbose) {
		fprintf(stderr, "tdcpuid-conform: started");
		for (int i = 0; i < a.n; i++)
			fprintf(stderr, " %s", a.argv[i]);
		fprintf(stderr, " (pid %d)\n", (int)q->pid);
	}
	return 0;
}

void tdc_qemu_stop(struct tdc_qemu *q)
{
	int status;

	if (q->in_fd >= 0)
		close(q->in_fd);
	if (q->out_fd >= 0)
		close(q->out_fd);
	q->in_fd = q->out_fd = -1;
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
		q->pid = -1;
	}
	g_qemu_pid = 0;
	cleanup_files();
	g_qmp_path[0] = g_err_path[0] = g_dir[0] = '\0';
	tdc_buf_free(&q->rx);
}

/* Connect to QMP once QEMU has created the socket (it does so before -S waits). */
static int qmp_connect(struct tdc_qemu *q, struct tdc_qmp *qmp)
{
	int r, status;

	for (;;) {
		if (reaped(q, &status))
			return qemu_died(q, status, "before QMP was ready");
		if (access(q->qmp_path, F_OK) == 0 &&
		    (r = tdc_qmp_open(qmp, q->qmp_path, remaining_ms(q))) == 0)
			return 0;
		if (remaining_ms(q) == 0)
			return tdc_err(TDC_ERR_TIMEOUT, "QEMU's QMP socket %s not ready within %u ms",
				       q->qmp_path, q->timeout_ms);
		usleep(20000);
	}
}

int tdc_qemu_capture(struct tdc_qemu *q, struct tdc_conform_run *run)
{
	struct tdc_qmp qmp;
	size_t ncpus = 0;
	int r;

	/* Wait for the socket with our own loop, then let capture.c do the QMP. */
	if ((r = qmp_connect(q, &qmp)) != 0)
		return r;
	tdc_qmp_close(&qmp);
	if ((r = tdc_capture_qmp(q->qmp_path, remaining_ms(q), &run->requested_doc,
				 &ncpus)) != 0)
		return r;
	tdc_requested_free(&run->requested);
	tdc_requested_init(&run->requested);
	if ((r = tdc_requested_parse(run->requested_doc.data, run->requested_doc.len, "qmp",
				     "QMP capture", &run->requested)) != 0)
		return r;
	if (ncpus != run->ncpus)
		return tdc_err(TDC_ERR_PROTOCOL, "QMP: query-cpus-fast lists %zu vCPUs, -smp is %zu",
			       ncpus, run->ncpus);
	return 0;
}

int tdc_qemu_cont(struct tdc_qemu *q)
{
	struct tdc_qmp qmp;
	json_t *ret = NULL;
	int r;

	if ((r = qmp_connect(q, &qmp)) != 0)
		return r;
	r = tdc_qmp_execute(&qmp, "cont", NULL, &ret);
	json_decref(ret);
	tdc_qmp_close(&qmp);
	return r;
}

static void serial_snippet(const struct tdc_qemu *q, char *buf, size_t len)
{
	size_t n = q->rx.len < 60 ? q->rx.len : 60;

	snprintf(buf, len, "%zu bytes of serial output", q->serial_total);
	if (!q->serial_total)
		return;
	size_t used = strlen(buf);

	used += snprintf(buf + used, len - used, ", last: \"");
	for (size_t i = q->rx.len - n; i < q->rx.len && used + 5 < len; i++) {
		char c = q->rx.data[i];

		buf[used++] = c >= 0x20 && c < 0x7f ? c : '.';
	}
	snprintf(buf + used, len - used, "\"");
}

int tdc_qemu_read_line(struct tdc_qemu *q, char *line, size_t cap, const char *waiting_for)
{
	char snip[160];
	int status;

	for (;;) {
		uint8_t *nl = q->rx.len ? memchr(q->rx.data, '\n', q->rx.len) : NULL;
		struct pollfd p = { .fd = q->out_fd, .events = POLLIN };
		uint8_t tmp[4096];
		ssize_t got;
		int left;

		if (nl) {
			size_t n = nl - q->rx.data;

			if (n >= cap)
				return tdc_err(TDC_ERR_PROTOCOL, "guest serial line of %zu bytes "
					       "(max %zu)", n, cap - 1);
			memcpy(line, q->rx.data, n);
			line[n] = '\0';
			if (n && line[n - 1] == '\r')
				line[n - 1] = '\0';
			memmove(q->rx.data, nl + 1, q->rx.len - n - 1);
			q->rx.len -= n + 1;
			return 0;
		}
		if ((left = remaining_ms(q)) == 0) {
			serial_snippet(q, snip, sizeof(snip));
			return tdc_err(TDC_ERR_TIMEOUT, "guest produced no %s within %u s (%s); "
				       "QEMU killed", waiting_for, q->timeout_ms / 1000, snip);
		}
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return tdc_err(TDC_ERR_IO, "poll on QEMU serial: %s", strerror(errno));
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		if ((got = read(q->out_fd, tmp, sizeof(tmp))) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return tdc_err(TDC_ERR_IO, "read QEMU serial: %s", strerror(errno));
		}
		if (got == 0) {
			/* EOF: QEMU is gone (or going); report why. */
			for (int i = 0; i < 100 && !reaped(q, &status); i++)
				usleep(10000);
			serial_snippet(q, snip, sizeof(snip));
			if (q->pid > 0)
				return tdc_err(TDC_ERR_INTERNAL, "QEMU closed the serial port before "
					       "the guest sent %s (%s)", waiting_for, snip);
			return qemu_died(q, status, "before the guest reported");
		}
		q->serial_total += got;
		if (q->serial_total > SERIAL_MAX)
			return tdc_err(TDC_ERR_TOO_LARGE, "guest serial output exceeds %u bytes",
				       SERIAL_MAX);
		if (q->echo)
			fwrite(tmp, 1, got, stderr);
		if (tdc_buf_put(&q->rx, tmp, got) != 0)
			return TDC_ERR_ALLOC;
	}
}

int tdc_qemu_write(struct tdc_qemu *q, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t w = write(q->in_fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return tdc_err(TDC_ERR_IO, "write to the guest serial port: %s",
				       strerror(errno));
		}
		p += w;
		len -= w;
	}
	return 0;
}

int tdc_qemu_wait_exit(struct tdc_qemu *q, unsigned ms, int *status)
{
	double until = tdc_conform_now_ms() + ms;

	while (!reaped(q, status)) {
		if (tdc_conform_now_ms() > until)
			return tdc_err(TDC_ERR_TIMEOUT, "QEMU did not exit within %u ms", ms);
		usleep(2000);
	}
	return 0;
}

/* ---- the multiboot guest protocol (conform/guest/guest.c) -------------- */

struct guest_ctx {
	struct tdc_qemu *q;
	struct tdc_guest_map map;
};

/* One batch: send the list, collect the reply up to its "E" line, parse it. */
static int guest_exec(void *ctx, const struct tdc_cpuid_table *list,
		      struct tdc_cpuid_table *out, size_t ncpus)
{
	struct guest_ctx *g = ctx;
	char line[SERIAL_LINE_MAX];
	struct tdc_buf req, reply;
	int r;

	tdc_buf_init(&req);
	tdc_buf_init(&reply);
	if ((r = tdc_guest_format_batch(list, &req)) != 0 ||
	    (r = tdc_qemu_write(g->q, req.data, req.len)) != 0)
		goto out;
	do {
		if ((r = tdc_qemu_read_line(g->q, line, sizeof(line), "CPUID results")) != 0 ||
		    (r = tdc_buf_printf(&reply, "%s\n", line)) != 0)
			goto out;
		if (reply.len > TDC_GUEST_REPLY_MAX) {
			r = tdc_err(TDC_ERR_TOO_LARGE, "guest reply exceeds %u bytes",
				    TDC_GUEST_REPLY_MAX);
			goto out;
		}
	} while (line[0] != 'E');
	r = tdc_guest_parse_batch((const char *)reply.data, reply.len, list, ncpus, &g->map, out);
out:
	tdc_buf_free(&req);
	tdc_buf_free(&reply);
	return r;
}

static int guest_ready(struct tdc_qemu *q, size_t ncpus)
{
	char line[SERIAL_LINE_MAX];
	unsigned long n;
	char *end;
	int r;

	for (;;) {
		if ((r = tdc_qemu_read_line(q, line, sizeof(line), "READY line")) != 0)
			return r;
		if (strncmp(line, "TDCG READY ", 11) == 0)
			break;
		/* Firmware may print before the guest runs; only our marker counts. */
	}
	n = strtoul(line + 11, &end, 16);
	if (end == line + 11 || *end)
		return tdc_err(TDC_ERR_PROTOCOL, "guest serial: bad READY line \"%.80s\"", line);
	if (n != ncpus)
		return tdc_err(TDC_ERR_PROTOCOL, "only %lu of %zu vCPUs came up in the guest", n, ncpus);
	return 0;
}

int tdc_conform_guest_path(const struct tdc_conform_opts *o, char *out, size_t n)
{
	if (o->guest) {
		snprintf(out, n, "%s", o->guest);
		return 0;
	}
	return tdc_conform_helper(out, n, TDC_HELPER_GUEST);
}

int tdc_conform_qemu(const struct tdc_conform_opts *o, struct tdc_conform_run *run)
{
	struct tdc_qemu q = { .pid = -1, .in_fd = -1, .out_fd = -1 };
	struct guest_ctx g = { .q = &q };
	char append[64], guest[4096];
	double t0 = tdc_conform_now_ms();
	int r, status;

	/* A --guest that is not there is bad input; a missing installed one is not. */
	if ((r = tdc_conform_guest_path(o, guest, sizeof(guest))) != 0)
		return tdc_err_wrap(TDC_ERR_UNSUPPORTED, "multiboot guest (install it or pass --guest): ");
	if (access(guest, R_OK) != 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "multiboot guest %s: %s", guest, strerror(errno));
	if ((r = tdc_conform_run_alloc(run, o->smp)) != 0)
		return r;
	snprintf(append, sizeof(append), "smp=%x%s", o->smp,
		 o->fault == TDC_FAULT_HANG ? " tdc.hang" :
		 o->fault == TDC_FAULT_DIE ? " tdc.die" : "");
	if ((r = tdc_qemu_start(&q, o, guest, NULL, append, NULL)) != 0)
		goto out;
	q.echo = false;
	if ((r = tdc_qemu_capture(&q, run)) != 0 || (r = tdc_qemu_cont(&q)) != 0 ||
	    (r = guest_ready(&q, o->smp)) != 0)
		goto out;
	if ((r = tdc_conform_fixpoint(guest_exec, &g, &run->requested.table, run->observed,
				      run->ncpus, &run->rounds, &run->cpuid_count)) != 0)
		goto out;
	if ((r = tdc_qemu_write(&q, "X\n", 2)) != 0 || (r = tdc_qemu_wait_exit(&q, EXIT_GRACE_MS, &status)) != 0)
		goto out;
	/* isa-debug-exit: status = (value << 1) | 1; the guest writes 0. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1) {
		r = qemu_died(&q, status, "at the end of the run");
		goto out;
	}
	run->guest_ms = tdc_conform_now_ms() - t0;
	snprintf(run->backend_info, sizeof(run->backend_info),
		 "QEMU -cpu %s, %u vCPU(s), multiboot guest, %u round(s)",
		 o->cpu ? o->cpu : "host", o->smp, run->rounds);
out:
	tdc_qemu_stop(&q);
	return r;
}
