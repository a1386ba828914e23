// SPDX-License-Identifier: Apache-2.0
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
 * CPUID floor: the (leaf, subleaf) list the probe executed on each CPU,
 * run as a tight loop by one thread per CPU, pinned and waiting at a
 * barrier before the clock starts (thread start and pinning are not in the
 * floor), all CPUs in parallel; timed from the barrier to the last thread's
 * end, in the same rounds as the probe.  "probe vs CPUID floor" is probe
 * time / floor time: 1.0 would mean the probe's threads, pinning,
 * enumeration and claims cost nothing beyond the CPUID instructions.
 *
 * CPUID executions: the probe counts them itself (claims.cpuid_count, one per
 * (leaf, subleaf, CPU)).  For cpuid -r we count the lines it prints, one per
 * (leaf, subleaf, CPU) it reports; that is a lower bound on what it executes
 * (it also runs CPUID internally to decide its loops and ranges).
 *
 * Usage: bench_probe [REPETITIONS] [AGENT]   (defaults: 21, ../agent/tdcpuid-agent
 * next to this binary)
 */
#include <cpuid.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/requested.h"

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

/*
 * Run argv with stdout/stderr to /dev/null; wall microseconds, or -1 on
 * failure.  @cpu_us gets the child's user+system CPU time, which the load
 * other processes put on the machine disturbs much less than wall time.
 */
static double time_spawn(char *const argv[], double *cpu_us)
{
	struct rusage ru;
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
	if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	t1 = now_us();
	*cpu_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
		  ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
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

/* ---- CPUID floor ---------------------------------------------------------- */

struct floor_cpu {
	uint32_t cpu;
	uint32_t (*ls)[2];          /* (leaf, subleaf) the probe ran there */
	size_t n;
	pthread_barrier_t *start;
	volatile uint32_t sink;
	bool pinned;
	double t0, t1;              /* this thread's loop, after the barrier */
};

static void *floor_thread(void *arg)
{
	struct floor_cpu *f = arg;
	cpu_set_t set;
	unsigned a, b, c, d, x = 0;

	CPU_ZERO(&set);
	CPU_SET(f->cpu, &set);
	f->pinned = sched_setaffinity(0, sizeof(set), &set) == 0;
	pthread_barrier_wait(f->start);
	f->t0 = now_us();
	for (size_t i = 0; i < f->n; i++) {
		__cpuid_count(f->ls[i][0], f->ls[i][1], a, b, c, d);
		x ^= a ^ b ^ c ^ d;
	}
	f->t1 = now_us();
	f->sink = x;
	return NULL;
}

/* One floor round: microseconds from the first thread's start after the
 * barrier to the last thread's end (each thread stamps its own loop). */
static double floor_round(struct floor_cpu *fc, size_t n)
{
	pthread_t tid[TDC_PROBE_MAX_THREADS];
	pthread_barrier_t start;
	double first = 0, last = 0;
	size_t k;

	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	for (k = 0; k < n; k++) {
		fc[k].start = &start;
		if (pthread_create(&tid[k], NULL, floor_thread, &fc[k]) != 0) {
			fprintf(stderr, "bench_probe: pthread_create failed\n");
			exit(3);
		}
	}
	pthread_barrier_wait(&start);
	for (k = 0; k < n; k++) {
		pthread_join(tid[k], NULL);
		if (k == 0 || fc[k].t0 < first)
			first = fc[k].t0;
		if (k == 0 || fc[k].t1 > last)
			last = fc[k].t1;
	}
	pthread_barrier_destroy(&start);
	return last - first;
}

static void *floor_started(void *arg)
{
	struct floor_cpu *f = arg;
	unsigned a, b, c, d, x = 0;

	for (size_t i = 0; i < f->n; i++) {
		__cpuid_count(f->ls[i][0], f->ls[i][1], a, b, c, d);
		x ^= a ^ b ^ c ^ d;
	}
	f->sink = x;
	return NULL;
}

/*
 * The same loops with thread start inside the clock: each thread created
 * already pinned (pthread_attr_setaffinity_np), the CPUID loop, joined.
 * What any one-thread-per-CPU probe pays at least; on a loaded machine the
 * wait for each CPU's run queue shows up here, not in the floor.
 */
static double floor_round_started(struct floor_cpu *fc, size_t n)
{
	pthread_t tid[TDC_PROBE_MAX_THREADS];
	pthread_attr_t attr;
	cpu_set_t set;
	double t0 = now_us();

	pthread_attr_init(&attr);
	for (size_t k = 0; k < n; k++) {
		CPU_ZERO(&set);
		CPU_SET(fc[k].cpu, &set);
		if (pthread_attr_setaffinity_np(&attr, sizeof(set), &set) != 0 ||
		    pthread_create(&tid[k], &attr, floor_started, &fc[k]) != 0) {
			fprintf(stderr, "bench_probe: pthread_create failed\n");
			exit(3);
		}
	}
	for (size_t k = 0; k < n; k++)
		pthread_join(tid[k], NULL);
	pthread_attr_destroy(&attr);
	return now_us() - t0;
}

/* The probe's own (leaf, subleaf) list per CPU; returns the CPU count. */
static size_t floor_plan(struct floor_cpu *fc, size_t cap)
{
	struct tdc_probe_opts o = { 0 };
	struct tdc_cpuid_table t;
	struct tdc_claims c;
	size_t n = 0;

	tdc_claims_init(&c);
	if (tdc_probe_run(&o, &c) != 0)
		return 0;
	for (size_t i = 0; i < c.ncpus && n < cap; i++) {
		if (tdc_claims_cpu_table(&c, c.cpus[i].cpu, &t) != 0)
			continue;
		fc[n].cpu = c.cpus[i].cpu;
		fc[n].ls = calloc(t.n ? t.n : 1, sizeof(*fc[n].ls));
		for (size_t k = 0; fc[n].ls && k < t.n; k++) {
			fc[n].ls[k][0] = t.e[k].leaf;
			fc[n].ls[k][1] = t.e[k].subleaf;
		}
		fc[n].n = fc[n].ls ? t.n : 0;
		tdc_cpuid_table_free(&t);
		n++;
	}
	tdc_claims_free(&c);
	return n;
}

/* Run `cpuid -r` once, capturing its output (for counting and coverage). */
static int cpuid_r_capture(struct tdc_buf *out)
{
	FILE *p = popen("cpuid -r 2>/dev/null", "r");
	char chunk[4096];
	size_t n;
	int r = 0;

	if (!p)
		return -1;
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		r = tdc_buf_put(out, chunk, n);
	return pclose(p) == 0 && r == 0 && out->len > 0 ? 0 : -1;
}

/* Lines `cpuid -r` prints for CPUID results: "   0x........ 0x..: eax=...". */
static long count_lines(const struct tdc_buf *b)
{
	long n = 0;

	for (size_t i = 0; i + 5 <= b->len; i++)
		if ((i == 0 || b->data[i - 1] == '\n') && !memcmp(b->data + i, "   0x", 5))
			n++;
	return n;
}

/*
 * Does the probe cover every (CPU, leaf, subleaf) of the `cpuid -r` dump?
 * Prints what it misses; all-zero misses are cpuid's blind probes.
 */
static void coverage(const struct tdc_buf *dump)
{
	struct tdc_probe_opts o = { 0 };
	struct tdc_cpuid_table *cpus = NULL, t;
	struct tdc_claims c;
	size_t ncpus = 0, missing = 0, zero = 0, total = 0;

	tdc_claims_init(&c);
	if (tdc_probe_run(&o, &c) != 0 ||
	    tdc_import_cpuid_r(dump->data, dump->len, "cpuid -r", &cpus, &ncpus) != 0) {
		printf("  coverage: not computed (%s)\n", tdc_errmsg(TDC_ERR_FORMAT));
		goto out;
	}
	for (size_t i = 0; i < ncpus && i < c.ncpus; i++) {
		if (tdc_claims_cpu_table(&c, c.cpus[i].cpu, &t) != 0)
			continue;
		for (size_t k = 0; k < cpus[i].n; k++, total++) {
			const struct tdc_cpuid_entry *e = &cpus[i].e[k];

			if (tdc_cpuid_table_find(&t, e->leaf, e->subleaf))
				continue;
			missing++;
			zero += !(e->regs[0] | e->regs[1] | e->regs[2] | e->regs[3]);
			printf("  only in cpuid -r: CPU %u %#010x.%u\n", c.cpus[i].cpu, e->leaf, e->subleaf);
		}
		tdc_cpuid_table_free(&t);
	}
	printf("  coverage: %zu of %zu cpuid -r entries are in the probe; %zu missing (%zu all-zero)%s\n",
	       total - missing, total, missing, zero,
	       ncpus == c.ncpus ? "" : " (CPU counts differ)");
out:
	for (size_t i = 0; i < ncpus; i++)
		tdc_cpuid_table_free(&cpus[i]);
	free(cpus);
	tdc_claims_free(&c);
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
	static double cagent[MAX_REPS], ccpuid[MAX_REPS], tfloor[MAX_REPS], tstart[MAX_REPS];
	static struct floor_cpu fc[TDC_PROBE_MAX_THREADS];
	size_t nfloor;
	unsigned long long floor_count = 0;
	int reps = argc > 1 ? atoi(argv[1]) : 21;
	char agent[PATH_MAX + 32];
	char *agent_argv[] = { agent, "probe", "--format", "raw", NULL };
	char *cpuid_argv[] = { "cpuid", "-r", NULL };
	unsigned long long count = 0;
	size_t ncpus = 0;
	struct tdc_buf dump;
	long clines;
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
	tdc_buf_init(&dump);
	clines = cpuid_r_capture(&dump) == 0 ? count_lines(&dump) : -1;
	time_in_process(&count, &ncpus); /* warm-up: page in code and data */
	nfloor = floor_plan(fc, TDC_PROBE_MAX_THREADS);
	for (size_t k = 0; k < nfloor; k++)
		floor_count += fc[k].n;
	for (int i = 0; i < reps; i++) {
		tin[i] = time_in_process(&count, &ncpus);
		tfloor[i] = nfloor ? floor_round(fc, nfloor) : -1;
		tstart[i] = nfloor ? floor_round_started(fc, nfloor) : -1;
		tagent[i] = have_agent ? time_spawn(agent_argv, &cagent[i]) : -1;
		tcpuid[i] = clines >= 0 ? time_spawn(cpuid_argv, &ccpuid[i]) : -1;
	}
	printf("bench_probe: %d repetitions, %zu CPUs, medians\n", reps, ncpus);
	printf("  probe in-process      %9.1f us  %llu CPUID executions\n", median(tin, reps),
	       count);
	if (nfloor) {
		printf("  CPUID floor           %9.1f us  %llu CPUID executions, one pinned thread "
		       "per CPU (%zu), in parallel\n", median(tfloor, reps), floor_count, nfloor);
		printf("  floor + thread start  %9.1f us  (the same, threads created pinned inside "
		       "the clock)\n", median(tstart, reps));
		printf("probe vs CPUID floor: %.2f x\n", median(tin, reps) / median(tfloor, reps));
		printf("probe vs floor + thread start: %.2f x\n",
		       median(tin, reps) / median(tstart, reps));
	}
	if (have_agent && tagent[0] >= 0)
		printf("  tdcpuid-agent probe   %9.1f us  (fork/exec, --format raw; CPU time %.1f us)\n",
		       median(tagent, reps), median(cagent, reps));
	else
		printf("  tdcpuid-agent probe   not run (no executable at %s)\n", agent);
	if (clines < 0 || tcpuid[0] < 0) {
		printf("  cpuid -r              not run (cpuid not installed or failed)\n");
		tdc_buf_free(&dump);
		return 0;
	}
	printf("  cpuid -r              %9.1f us  %ld CPUID results printed (CPU time %.1f us)\n",
	       median(tcpuid, reps), clines, median(ccpuid, reps));
	if (have_agent && tagent[0] >= 0) {
		printf("  ratio cpuid -r / agent (fork/exec both): %.2fx wall, %.2fx CPU time\n",
		       median(tcpuid, reps) / median(tagent, reps),
		       median(ccpuid, reps) / median(cagent, reps));
	}
	printf("  ratio cpuid -r / probe in-process:       %.2fx\n",
	       median(tcpuid, reps) / median(tin, reps));
	coverage(&dump);
	tdc_buf_free(&dump);
	return 0;
}
