// SPDX-License-Identifier: MIT
/*
 * bench_probe: a full CPUID probe of every CPU against `cpuid -r` (Debian
 * package cpuid) on the same machine, in the same run, alternating, so both
 * see the same load.  Three contenders:
 *
 *   probe (in-process)  tdc_probe_run(): threads, pinning, enumeration, claims
 *   agent (fork/exec)   tdcpuid-agent probe --format raw, stdout to /dev/null
 *   cpuid -r (fork/exec) output to /dev/null
 *
 * "agent" vs "cpuid -r" is the like-for-like ratio (both pay exec, dynamic
 * loading and output formatting).  Medians of N repetitions are printed.
 *
 * CPUID executions: the probe counts them itself (claims.cpuid_count, one per
 * (leaf, subleaf, CPU)).  For cpuid -r we count the lines it prints, one per
 * (leaf, subleaf, CPU) it reports; that is a lower bound on what it executes
 * (it also runs CPUID internally to decide its loops and ranges).
 *
 * Usage: bench_probe [REPETITIONS] [AGENT]   (defaults: 21, ../agent/tdcpuid-agent
 * next to this binary)
 */
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"

#define MAX_REPS 1001
#define LINE_MAX_LEN 256

extern char **environ;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), dcmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Run argv with stdout/stderr to /dev/null; microseconds, or -1 on failure. */
static double time_spawn(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	double t0, t1;
	pid_t pid;
	int st, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	t0 = now_us();
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	t1 = now_us();
	return t1 - t0;
}

static double time_in_process(unsigned long long *count, size_t *ncpus)
{
	struct tdc_probe_opts o = { 0 };
	struct tdc_claims c;
	double t0, t1;
	int r;

	tdc_claims_init(&c);
	t0 = now_us();
	r = tdc_probe_run(&o, &c);
	t1 = now_us();
	*count = c.cpuid_count;
	*ncpus = c.ncpus;
	tdc_claims_free(&c);
	if (r) {
		fprintf(stderr, "bench_probe: probe failed: %s\n", tdc_errmsg(r));
		exit(3);
	}
	return t1 - t0;
}

/* Lines `cpuid -r` prints for CPUID results: "   0x........ 0x..: eax=...". */
static long cpuid_r_lines(void)
{
	FILE *p = popen("cpuid -r 2>/dev/null", "r");
	char line[LINE_MAX_LEN];
	long n = 0;

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		n += strncmp(line, "   0x", 5) == 0;
	return pclose(p) == 0 ? n : -1;
}

static void default_agent(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	buf[0] = '\0';
	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')))
		*slash = '\0';
	snprintf(buf, len, "%s/../agent/tdcpuid-agent", self);
}

int main(int argc, char *argv[])
{
	static double tin[MAX_REPS], tagent[MAX_REPS], tcpuid[MAX_REPS];
	int reps = argc > 1 ? atoi(argv[1]) : 21;
	char agent[PATH_MAX + 32];
	char *agent_argv[] = { agent, "probe", "--format", "raw", NULL };
	char *cpuid_argv[] = { "cpuid", "-r", NULL };
	unsigned long long count = 0;
	size_t ncpus = 0;
	long clines = cpuid_r_lines();
	bool have_agent;

	if (reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "bench_probe: repetitions must be 1..%d\n", MAX_REPS);
		return 2;
	}
	if (argc > 2)
		snprintf(agent, sizeof(agent), "%s", argv[2]);
	else
		default_agent(agent, sizeof(agent));
	have_agent = access(agent, X_OK) == 0;
	time_in_process(&count, &ncpus); /* warm-up: page in code and data */
	for (int i = 0; i < reps; i++) {
		tin[i] = time_in_process(&count, &ncpus);
		tagent[i] = have_agent ? time_spawn(agent_argv) : -1;
		tcpuid[i] = clines >= 0 ? time_spawn(cpuid_argv) : -1;
	}
	printf("bench_probe: %d repetitions, %zu CPUs, medians\n", reps, ncpus);
	printf("  probe in-process      %9.1f us  %llu CPUID executions\n", median(tin, reps),
	       count);
	if (have_agent && tagent[0] >= 0)
		printf("  tdcpuid-agent probe   %9.1f us  (fork/exec, --format raw)\n",
		       median(tagent, reps));
	else
		printf("  tdcpuid-agent probe   not run (no executable at %s)\n", agent);
	if (clines < 0 || tcpuid[0] < 0) {
		printf("  cpuid -r              not run (cpuid not installed or failed)\n");
		return 0;
	}
	printf("  cpuid -r              %9.1f us  %ld CPUID results printed\n",
	       median(tcpuid, reps), clines);
	if (have_agent && tagent[0] >= 0)
		printf("  ratio cpuid -r / agent (fork/exec both): %.2fx\n",
		       median(tcpuid, reps) / median(tagent, reps));
	printf("  ratio cpuid -r / probe in-process:       %.2fx\n",
	       median(tcpuid, reps) / median(tin, reps));
	return 0;
}
