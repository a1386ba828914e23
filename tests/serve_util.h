/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the service tests and the benchmark: a scratch directory with
 * sim keys and a registry, a verifier process on an ephemeral port, and an
 * in-process agent that answers nonces with simulated evidence.
 * Header-only so bench/ can include it without a library of its own.
 */
#ifndef TDC_SERVE_UTIL_H
#define TDC_SERVE_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tdcpuid/client.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/error.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/simev.h"
#include "tdcpuid/transport.h"

struct su_env {
	char dir[256];
	char reg[300], db[300], sim[300], req[300], ready[300], log[300];
	struct tdc_sim_keys keys;
	struct tdc_sim_params params;
	struct tdc_claims claims;   /* template: nonce and VM name set per exchange */
};

struct su_server {
	pid_t pid;
	char addr[TDC_ADDR_MAX];
};

/* RLIMIT_NOFILE for the next server started (0: inherit). */
static unsigned su_nofile;

/* Servers still running when a failed assertion ends the test: kill them,
 * or ctest waits for the orphans that hold its output pipe. */
static pid_t su_pids[16];

static inline void su_reap(void)
{
	for (size_t i = 0; i < 16; i++)
		if (su_pids[i] > 0)
			kill(su_pids[i], SIGKILL);
}

static inline void su_track(pid_t pid, bool add)
{
	static bool registered;

	if (!registered) {
		atexit(su_reap);
		registered = true;
	}
	for (size_t i = 0; i < 16; i++) {
		if (add && su_pids[i] <= 0) {
			su_pids[i] = pid;
			return;
		}
		if (!add && su_pids[i] == pid) {
			su_pids[i] = 0;
			return;
		}
	}
}

static inline int su_write(const char *path, const char *text)
{
	return tdc_write_file(path, text, strlen(text));
}

static inline int su_run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* One registry entry; @extra is more JSON members (",\"policy\":..."). */
static inline int su_vm(const struct su_env *e, const char *name, const char *extra)
{
	char path[400], text[2048];

	snprintf(path, sizeof(path), "%s/%s.json", e->reg, name);
	snprintf(text, sizeof(text),
		 "{\"name\":\"%s\",\"requested\":\"%s\",\"requested_format\":\"cpuid-r\","
		 "\"model\":\"kvm\",\"sim_dir\":\"%s\",\"trust_root\":\"%s/root-ca.pem\"%s}\n",
		 name, e->req, e->sim, e->sim, extra ? extra : "");
	return su_write(path, text);
}

/*
 * Scratch dir, sim keys, requested config = this host's CPUID as the claims
 * see it (written in the `cpuid -r` format), a policy that accepts the
 * simulator, VMs "alpha" (sim allowed) and "beta" (default policy: rejects
 * sim evidence).  @agent is unused (kept for callers).
 */
static inline int su_env_setup(struct su_env *e, const char *agent)
{
	char path[400];
	struct tdc_buf req;
	int r;

	(void)agent;
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "%s/tdc-serve-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(e->dir))
		return -1;
	snprintf(e->reg, sizeof(e->reg), "%s/registry", e->dir);
	snprintf(e->db, sizeof(e->db), "%s/audit.db", e->dir);
	snprintf(e->sim, sizeof(e->sim), "%s/sim", e->dir);
	snprintf(e->req, sizeof(e->req), "%s/requested.cpuid-r", e->dir);
	snprintf(e->ready, sizeof(e->ready), "%s/ready", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/server.log", e->dir);
	mkdir(e->reg, 0700);
	tdc_sim_keys_init(&e->keys);
	tdc_sim_params_init(&e->params);
	if ((r = tdc_sim_keys_generate(&e->keys)) != 0 || (r = tdc_sim_keys_save(&e->keys, e->sim)) != 0)
		return r;
	if ((r = tdc_simev_claims(&e->claims, (const uint8_t *)"", 0, NULL)) != 0)
		return r;
	e->params.xfam = e->claims.xcr0; /* as the agent does: XFAM covers what XCR0 enables */
	tdc_buf_init(&req);
	r = tdc_format_cpuid_r(&e->claims.common, 0, &req);
	if (!r)
		r = tdc_write_file(e->req, req.data, req.len);
	tdc_buf_free(&req);
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/sim-policy.json", e->dir);
	/* TDREPORT-only sim evidence keeps the service tests fast: say so explicitly
	 * (the default policy requires a quote). */
	if (su_write(path, "{\"version\":1,\"name\":\"test-sim\",\"allow_simulated\":true,"
			   "\"require_quote\":false,\"fail_on\":[\"mismatch\"]}\n") != 0)
		return -1;
	snprintf(path, sizeof(path), ",\"policy\":\"%s/sim-policy.json\"", e->dir);
	if (su_vm(e, "alpha", path) != 0 || su_vm(e, "beta", NULL) != 0)
		return -1;
	return 0;
}

static inline void su_env_teardown(struct su_env *e)
{
	char cmd[400];

	tdc_claims_free(&e->claims);
	tdc_sim_keys_free(&e->keys);
	if (!getenv("TDC_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		su_run(cmd);
	}
}

/* Start `tdcpuid-verifier serve` on tcp:127.0.0.1:0 plus @extra args; learn the port. */
static inline int su_server_start(const struct su_env *e, const char *verifier,
				  const char *const *extra, struct su_server *s)
{
	const char *argv[48];
	size_t n = 0;
	FILE *f;

	unlink(e->ready);
	argv[n++] = verifier;
	argv[n++] = "serve";
	argv[n++] = "--listen";
	argv[n++] = "tcp:127.0.0.1:0";
	argv[n++] = "--registry";
	argv[n++] = e->reg;
	argv[n++] = "--db";
	argv[n++] = e->db;
	argv[n++] = "--ready-file";
	argv[n++] = e->ready;
	argv[n++] = "--quiet";
	for (size_t i = 0; extra && extra[i] && n < 46; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		FILE *lf = fopen(e->log, "a");

		/* If the test dies (ctest timeout), its servers die with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);

		if (lf)
			dup2(fileno(lf), 2);
		if (su_nofile) {
			struct rlimit rl = { su_nofile, su_nofile };

			setrlimit(RLIMIT_NOFILE, &rl);
		}
		execv(verifier, (char *const *)argv);
		_exit(127);
	}
	su_track(s->pid, true);
	for (int i = 0; i < 3000; i++) { /* up to 30 s (ASan, loaded machine) */
		if ((f = fopen(e->ready, "r"))) {
			bool ok = fgets(s->addr, sizeof(s->addr), f) != NULL;

			fclose(f);
			if (ok) {
				s->addr[strcspn(s->addr, "\n")] = '\0';
				return 0;
			}
		}
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			return -1;
		usleep(10000);
	}
	return -1;
}

/* Signal and wait; returns the exit status (128+sig if killed). */
static inline int su_server_stop(struct su_server *s, int sig)
{
	int st;

	kill(s->pid, sig);
	if (waitpid(s->pid, &st, 0) != s->pid)
		return -1;
	su_track(s->pid, false);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The in-process agent: claims from the template, nonce from the verifier. */
struct su_agent {
	const struct su_env *env;
	const char *claims_vm;
	bool with_quote;
	struct tdc_buf last;        /* evidence of the last exchange (for replays) */
	uint8_t nonce[32];          /* nonce of the last exchange */
};

static inline int su_evidence(const struct su_env *e, const uint8_t *nonce, size_t nlen,
			      const char *vm, bool quote, struct tdc_buf *out)
{
	struct tdc_claims c = e->claims; /* shallow: only nonce and name differ */

	memcpy(c.nonce, nonce, nlen);
	c.nonce_len = nlen;
	snprintf(c.vm_name, sizeof(c.vm_name), "%s", vm ? vm : "");
	return tdc_simev_build(&e->keys, &e->params, &c, quote, out);
}

static inline int su_agent_fn(void *ctx, const uint8_t *nonce, size_t nlen, struct tdc_buf *ev)
{
	struct su_agent *a = ctx;
	int r = su_evidence(a->env, nonce, nlen, a->claims_vm, a->with_quote, ev);

	if (nlen == sizeof(a->nonce))
		memcpy(a->nonce, nonce, nlen);

	tdc_buf_reset(&a->last);
	if (!r)
		r = tdc_buf_put(&a->last, ev->data, ev->len);
	return r;
}

/*
 * Connect to "tcp:127.0.0.1:PORT" from the loopback address @src (another
 * 127/8 address is another peer to the service's per-peer limits).
 * Blocking connect; -errno on failure.
 */
static inline int su_dial_from(const char *addr, const char *src, int *fd)
{
	struct tdc_addr a;
	struct sockaddr_in sa = { .sin_family = AF_INET }, from = { .sin_family = AF_INET };
	int s, one = 1;

	if (tdc_addr_parse(addr, &a) != 0 || inet_pton(AF_INET, a.host, &sa.sin_addr) != 1 ||
	    inet_pton(AF_INET, src, &from.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons(a.port);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(s);
		return e;
	}
	*fd = s;
	return 0;
}

/* Close with a RST (no TIME_WAIT left behind: attack loops open thousands). */
static inline void su_close_rst(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* tdc_client_attest from a chosen loopback source address. */
static inline int su_attest_from(const char *src, const char *addr, const char *vm,
				 int timeout_ms, tdc_evidence_fn fn, void *ctx,
				 struct tdc_client_result *res)
{
	uint64_t deadline = tdc_now_ms() + (uint64_t)timeout_ms;
	uint8_t nonce[TDC_NONCE_LEN];
	struct tdc_buf ev;
	int fd = -1, e;

	if (!src)
		return tdc_client_attest(addr, vm, timeout_ms, fn, ctx, res);
	tdc_buf_init(&ev);
	if ((e = su_dial_from(addr, src, &fd)) != 0) {
		e = tdc_err(TDC_ERR_IO, "connect from %s: %s", src, strerror(-e));
		goto out;
	}
	if ((e = tdc_client_hello(fd, deadline, nonce, NULL)) != 0)
		goto out;
	memcpy(res->nonce, nonce, sizeof(nonce));
	if ((e = fn(ctx, nonce, sizeof(nonce), &ev)) != 0 ||
	    (e = tdc_client_send_evidence(fd, deadline, nonce, vm, ev.data, ev.len)) != 0)
		goto out;
	e = tdc_client_verdict(fd, deadline, res);
out:
	if (fd >= 0)
		close(fd);
	tdc_buf_free(&ev);
	return e;
}

/* Wait until @fd is closed by the peer (EOF or reset), up to @ms: 1 if it was. */
static inline int su_wait_closed(int fd, int ms)
{
	uint64_t end = tdc_now_ms() + (uint64_t)ms;
	uint8_t b[256];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (tdc_now_ms() < end) {
		if (poll(&p, 1, (int)(end - tdc_now_ms())) <= 0)
			continue;
		ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
	return 0;
}

/* Lines of the servers' log (stderr of every server started) containing @needle. */
static inline int su_log_count(const struct su_env *e, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(e->log, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Wait (up to @ms) until the log holds at least @count such lines: 1 if it does. */
static inline int su_wait_log(const struct su_env *e, const char *needle, int count, int ms)
{
	uint64_t end = tdc_now_ms() + (uint64_t)ms;

	while (su_log_count(e, needle) < count) {
		if (tdc_now_ms() >= end)
			return 0;
		usleep(5000);
	}
	return 1;
}

/*
 * Attackers for the DoS tests and `bench_serve --attack`, each on a thread
 * of its own, from loopback address @src, capped by @max connections,
 * @until (monotonic ms) and *@stop.
 */

struct su_attacker {
	const char *addr, *src;
	long max;              /* connections at most */
	uint64_t until;        /* and not after this (monotonic ms) */
	atomic_bool *stop;
	long conns, hellos, refused;
	int hold;              /* slowloris: connections held at once */
};

static inline bool su_attack_over(const struct su_attacker *a, long n)
{
	return n >= a->max || tdc_now_ms() >= a->until || atomic_load(a->stop);
}

/* Connect, take the hello (the service has done its work for it), reset. */
static inline void *su_churn_main(void *arg)
{
	struct su_attacker *a = arg;
	struct tdc_frame f;
	uint8_t buf[512];
	uint32_t len;
	ssize_t n;
	int fd = -1;

	while (!su_attack_over(a, a->conns)) {
		if (su_dial_from(a->addr, a->src, &fd) != 0)
			continue;
		a->conns++;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		/* A hello means the service gave this connection a nonce. */
		tdc_frame_init(&f);
		if (poll(&p, 1, 2000) == 1 && (n = recv(fd, buf, sizeof(buf), 0)) > 4 &&
		    tdc_frame_header(buf, sizeof(buf), &len) == 0 && len <= (size_t)n - 4 &&
		    tdc_frame_decode(buf + 4, len, &f) == 0) {
			a->hellos += f.type == TDC_FRAME_HELLO;
			a->refused += f.type == TDC_FRAME_ERROR;
		}
		tdc_frame_free(&f);
		su_close_rst(fd);
	}
	return NULL;
}

/* Hold @hold connections, dribbling a byte of a frame header now and then;
 * reconnect whatever the service closes. */
static inline void *su_slowloris_main(void *arg)
{
	struct su_attacker *a = arg;
	int *fds = calloc((size_t)a->hold, sizeof(int));
	uint8_t *sent = calloc((size_t)a->hold, 1), buf[512];
	uint64_t next = 0;

	if (!fds || !sent) {
		free(fds);
		free(sent);
		return NULL;
	}
	for (int i = 0; i < a->hold; i++)
		fds[i] = -1;
	while (!su_attack_over(a, a->conns)) {
		for (int i = 0; i < a->hold && !su_attack_over(a, a->conns); i++) {
			if (fds[i] >= 0)
				continue;
			if (su_dial_from(a->addr, a->src, &fds[i]) != 0) {
				fds[i] = -1;
				continue;
			}
			fcntl(fds[i], F_SETFL, O_NONBLOCK);
			sent[i] = 0;
			a->conns++;
		}
		if (tdc_now_ms() >= next) {
			next = tdc_now_ms() + 300;
			for (int i = 0; i < a->hold; i++) {
				if (fds[i] < 0)
					continue;
				/* A frame header that never completes: 0x00 0x00 0x10 ... */
				if (sent[i] < 3 && send(fds[i], "\0\0\x10", 1, MSG_NOSIGNAL) == 1)
					sent[i]++;
			}
		}
		for (int i = 0; i < a->hold; i++) {
			ssize_t r;

			if (fds[i] < 0)
				continue;
			while ((r = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
				;
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
		usleep(20000);
	}
	for (int i = 0; i < a->hold; i++)
		if (fds[i] >= 0)
			su_close_rst(fds[i]);
	free(fds);
	free(sent);
	return NULL;
}

/* CPU seconds (user + system) a process has used so far; -1 if unknown. */
static inline double su_proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the ")" that ends the command name: state is field 3. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

#endif
