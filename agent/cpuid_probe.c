// SPDX-License-Identifier: Apache-2.0
/*
 * Parallel CPUID probe: one thread per CPU, pinned with sched_setaffinity,
 * each running the table-driven enumeration (lib/leafrules.c).  CPUID
 * results differ per CPU (APIC IDs, topology), and in a TD every vCPU is a
 * separate TDX-module context, so every CPU is probed, not just one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

#define SYSFS_CPU_DIR "/sys/devices/system/cpu"
#define PROC_CPUINFO "/proc/cpuinfo"
/* "0-8191" is tiny; even "0,2,4,...,8190" fits.  A cap all the same. */
#define SYSFS_LIST_MAX 32768
#define NCPU (TDC_PROBE_MAX_CPU + 1)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
/* Entries per CPU table reserved before the threads start (typical: 60-150). */
#define TDC_PROBE_TABLE_RESERVE 256
/* The enumeration needs little stack; the 8 MiB default costs mapping time. */
#define TDC_PROBE_STACK (128 * 1024)

/* ---- CPU lists ---------------------------------------------------------- */

static int parse_cpu_num(const char **pp, size_t n, size_t *v, const char *all)
{
	char *end;
	unsigned long x;

	if (**pp < '0' || **pp > '9')
		return tdc_err(TDC_ERR_FORMAT, "CPU list '%s': expected a CPU number at '%s'",
			       all, *pp);
	errno = 0;
	x = strtoul(*pp, &end, 10);
	if (errno || x >= n)
		return tdc_err(TDC_ERR_RANGE, "CPU list '%s': CPU %.16s beyond the limit %zu",
			       all, *pp, n - 1);
	*v = x;
	*pp = end;
	return 0;
}

int tdc_cpulist_parse(const char *s, bool *set, size_t n)
{
	const char *p = s;
	size_t lo, hi;
	int r;

	memset(set, 0, n * sizeof(*set));
	while (*p && *p != '\n') {
		if ((r = parse_cpu_num(&p, n, &lo, s)) != 0)
			return r;
		hi = lo;
		if (*p == '-') {
			p++;
			if ((r = parse_cpu_num(&p, n, &hi, s)) != 0)
				return r;
			if (hi < lo)
				return tdc_err(TDC_ERR_FORMAT, "CPU list '%s': range %zu-%zu is reversed",
					       s, lo, hi);
		}
		for (size_t c = lo; c <= hi; c++)
			set[c] = true;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return tdc_err(TDC_ERR_FORMAT, "CPU list '%s': unexpected '%c'", s, *p);
	}
	if (*p == '\n' && p[1])
		return tdc_err(TDC_ERR_FORMAT, "CPU list '%s': text after the newline", s);
	return 0;
}

/*
 * Read a small kernel-generated text file into @buf (NUL-terminated).
 * Not tdc_read_file: that reserves and zeroes 64 KiB per call, and page
 * faults are what a probe pays most for under shadow-paging hypervisors.
 */
static int read_small(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return tdc_err(errno == ENOENT ? TDC_ERR_NOT_FOUND : TDC_ERR_IO, "open %s: %s",
			       path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tdc_err(TDC_ERR_IO, "read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			r = tdc_err(TDC_ERR_TOO_LARGE, "%s: larger than %zu bytes", path, cap - 1);
			break;
		}
	}
	close(fd);
	buf[len] = '\0';
	return r;
}

/* Read one sysfs CPU list; TDC_ERR_NOT_FOUND if the file is absent. */
static int read_sysfs_list(const char *dir, const char *name, bool *set)
{
	char path[1024], text[SYSFS_LIST_MAX];
	int r;

	snprintf(path, sizeof(path), "%s%s%s", dir, *dir ? "/" : "", name);
	if ((r = read_small(path, text, sizeof(text))) != 0)
		return r;
	if ((r = tdc_cpulist_parse(text, set, NCPU)) != 0)
		return tdc_err_wrap(r, "%s: ", path);
	return 0;
}

/* ---- Which CPUs to probe ------------------------------------------------ */

struct cpu_sets {
	bool possible[NCPU];
	bool present[NCPU];
	bool online[NCPU];
	bool affinity[NCPU];
	bool requested[NCPU];
	bool have_requested;
	bool cgroup[NCPU];   /* the cgroup cpuset, to say which mask excluded a CPU */
	bool have_cgroup;
	size_t limit;        /* 1 + the highest CPU in any set: loops stop there */
	enum tdc_cpu_set from; /* where possible/present/online came from */
};

static int read_affinity(bool *set)
{
	cpu_set_t *mask = CPU_ALLOC(NCPU);
	size_t sz = CPU_ALLOC_SIZE(NCPU);
	int r = 0;

	if (!mask)
		return tdc_err(TDC_ERR_ALLOC, "CPU affinity mask");
	CPU_ZERO_S(sz, mask);
	if (sched_getaffinity(0, sz, mask) != 0) {
		r = tdc_err(TDC_ERR_IO, "sched_getaffinity: %s", strerror(errno));
		goto out;
	}
	memset(set, 0, NCPU * sizeof(*set));
	for (size_t c = 0, left = CPU_COUNT_S(sz, mask); c < NCPU && left; c++)
		if ((set[c] = CPU_ISSET_S(c, sz, mask)))
			left--;
out:
	CPU_FREE(mask);
	return r;
}

/*
 * The effective cpuset of our cgroup (v2: cpuset.cpus.effective, v1:
 * cpuset.effective_cpus), only to name the reason a CPU is outside the
 * affinity mask.  Absent or unreadable: no refinement.
 */
static void read_cgroup_cpuset(struct cpu_sets *cs)
{
	char text[SYSFS_LIST_MAX], path[768], *line, *save = NULL;

	if (read_small("/proc/self/cgroup", text, sizeof(text)) != 0)
		goto out;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *rel = strstr(line, ":cpuset:");

		if (!strncmp(line, "0::", 3))
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpuset.cpus.effective",
				 strcmp(line + 3, "/") ? line + 3 : "");
		else if (rel)
			snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuset%s/cpuset.effective_cpus",
				 strcmp(rel + 8, "/") ? rel + 8 : "");
		else
			continue;
		if (read_sysfs_list("", path, cs->cgroup) == 0) {
			cs->have_cgroup = true;
			break;
		}
	}
out:
	tdc_errclear();
}

static size_t set_limit(const bool *set)
{
	size_t n = NCPU;

	while (n > 0 && !set[n - 1])
		n--;
	return n;
}

static void compute_limit(struct cpu_sets *cs)
{
	const bool *sets[] = { cs->possible, cs->present, cs->online, cs->affinity, cs->requested };

	cs->limit = 0;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		size_t n = set_limit(sets[i]);

		if (n > cs->limit)
			cs->limit = n;
	}
}

/*
 * The "processor : N" lines of /proc/cpuinfo (one per online CPU on x86),
 * read line by line: the file is large on big machines, only these lines
 * count.  TDC_ERR_NOT_FOUND if absent or without a processor line.
 */
static int read_cpuinfo(const char *path, bool *set)
{
	char line[256];
	bool at_start = true, any = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return tdc_err(TDC_ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		bool start = at_start;
		char *colon, *end;
		unsigned long n;

		at_start = strchr(line, '\n') != NULL; /* a long line comes in pieces */
		if (!start || strncmp(line, "processor", 9) || !(colon = strchr(line, ':')))
			continue;
		errno = 0;
		n = strtoul(colon + 1, &end, 10);
		if (errno || end == colon + 1 || n >= NCPU)
			continue;
		set[n] = any = true;
	}
	fclose(f);
	return any ? 0 : tdc_err(TDC_ERR_NOT_FOUND, "%s: no processor lines", path);
}

static size_t set_count(const bool *set)
{
	size_t n = 0;

	for (size_t c = 0; c < NCPU; c++)
		n += set[c];
	return n;
}

/*
 * Without sysfs (a chroot, an initramfs before it mounts /sys): the online
 * CPUs from /proc/cpuinfo, else sysconf's count of configured CPUs (0..n-1;
 * glibc counts from /sys or /proc itself, so a count no larger than the
 * affinity mask adds nothing), else only the affinity mask, which a
 * restricted agent sees as a subset: cs->from says which.
 */
static void online_fallback(const struct tdc_probe_opts *o, struct cpu_sets *cs)
{
	long n;

	memcpy(cs->online, cs->affinity, sizeof(cs->online));
	if (read_cpuinfo(o->cpuinfo_path ? o->cpuinfo_path : PROC_CPUINFO, cs->online) == 0) {
		cs->from = TDC_CPUSET_CPUINFO;
		return;
	}
	n = sysconf(_SC_NPROCESSORS_CONF);
	if (n > 0 && (size_t)n > set_count(cs->affinity) && (size_t)n <= NCPU) {
		for (long c = 0; c < n; c++)
			cs->online[c] = true;
		cs->from = TDC_CPUSET_SYSCONF;
		return;
	}
	cs->from = TDC_CPUSET_AFFINITY;
}

/*
 * sysfs may be missing (containers, early initramfs without /sys): fall
 * back from possible to present to online, online itself to /proc/cpuinfo,
 * sysconf or the affinity mask, so the universe is never smaller than what
 * we can learn, and the claims say where it came from.
 */
static int read_cpu_sets(const struct tdc_probe_opts *o, struct cpu_sets *cs)
{
	const char *dir = o->sysfs_cpu_dir ? o->sysfs_cpu_dir : SYSFS_CPU_DIR;
	int r;

	if ((r = read_affinity(cs->affinity)) != 0)
		return r;
	cs->from = TDC_CPUSET_SYSFS;
	if ((r = read_sysfs_list(dir, "online", cs->online)) != 0) {
		if (r != TDC_ERR_NOT_FOUND && r != TDC_ERR_IO)
			return r;
		online_fallback(o, cs);
	}
	if ((r = read_sysfs_list(dir, "present", cs->present)) != 0) {
		if (r != TDC_ERR_NOT_FOUND && r != TDC_ERR_IO)
			return r;
		memcpy(cs->present, cs->online, sizeof(cs->present));
	}
	if ((r = read_sysfs_list(dir, "possible", cs->possible)) != 0) {
		if (r != TDC_ERR_NOT_FOUND && r != TDC_ERR_IO)
			return r;
		memcpy(cs->possible, cs->present, sizeof(cs->possible));
	}
	tdc_errclear();
	if (o->cpus && *o->cpus) {
		cs->have_requested = true;
		if ((r = tdc_cpulist_parse(o->cpus, cs->requested, NCPU)) != 0)
			return tdc_err_wrap(TDC_ERR_USAGE, "--cpu: ");
	}
	compute_limit(cs);
	/* The cgroup only names why a CPU is outside the affinity mask: two
	 * file reads saved when none is. */
	for (size_t c = 0; c < cs->limit; c++)
		if (cs->possible[c] && !cs->affinity[c]) {
			read_cgroup_cpuset(cs);
			break;
		}
	return 0;
}

/* NULL if @c should be probed, else why not. */
static const char *skip_reason(const struct cpu_sets *cs, size_t c)
{
	if (!cs->possible[c] && !cs->present[c])
		return "not present (not a possible CPU of this system)";
	if (!cs->present[c])
		return "not present (possible, hot-pluggable, not plugged)";
	if (!cs->online[c])
		return "offline";
	if (!cs->affinity[c] && cs->have_cgroup && !cs->cgroup[c])
		return "not in this process's cgroup cpuset (cpuset.cpus.effective)";
	if (!cs->affinity[c])
		return "not in this process's CPU affinity mask (taskset or sched_setaffinity)";
	return NULL;
}

static bool in_universe(const struct cpu_sets *cs, size_t c)
{
	if (cs->have_requested)
		return cs->requested[c];
	return cs->possible[c] || cs->present[c] || cs->online[c] || cs->affinity[c];
}

/* ---- One thread per CPU ------------------------------------------------- */

struct probe_job {
	uint32_t cpu;
	tdc_cpuid_fn fn;
	void *fn_ctx;
	bool native;
	/* results */
	int err;                    /* fatal: the whole probe fails */
	bool skipped;               /* could not run there: reason says why */
	char reason[TDC_CLAIMS_STR_MAX];
	struct tdc_cpuid_table table;
	unsigned long count;
	bool has_xcr0;
	uint64_t xcr0;
};

static int pin_self(uint32_t cpu)
{
	cpu_set_t *mask = CPU_ALLOC(NCPU);
	size_t sz = CPU_ALLOC_SIZE(NCPU);
	int r = 0;

	if (!mask)
		return ENOMEM;
	CPU_ZERO_S(sz, mask);
	CPU_SET_S(cpu, sz, mask);
	/* pid 0 = the calling thread, not the whole process. */
	if (sched_setaffinity(0, sz, mask) != 0)
		r = errno;
	CPU_FREE(mask);
	return r;
}

/* A thread that migrated never produced a trustworthy per-CPU result. */
static bool check_cpu(struct probe_job *j, const char *when)
{
	int now = sched_getcpu();

	if (now == (int)j->cpu)
		return true;
	j->skipped = true;
	snprintf(j->reason, sizeof(j->reason),
		 "pinning did not hold: sched_getcpu() = %d %s", now, when);
	return false;
}

static void read_xcr0(struct probe_job *j)
{
	const struct tdc_cpuid_entry *l1 = tdc_cpuid_table_find(&j->table, 1, 0);

	/* XGETBV raises #UD unless the OS set CR4.OSXSAVE (reflected in CPUID). */
	if (!j->native || !l1 || !(l1->regs[TDC_ECX] & CPUID_1_ECX_OSXSAVE))
		return;
	j->xcr0 = tdc_xgetbv(0);
	j->has_xcr0 = true;
}

static void *probe_thread(void *arg)
{
	struct probe_job *j = arg;
	int e;

	if ((e = pin_self(j->cpu)) != 0) {
		j->skipped = true;
		snprintf(j->reason, sizeof(j->reason), "sched_setaffinity: %s", strerror(e));
		return NULL;
	}
	if (!check_cpu(j, "after pinning"))
		return NULL;
	j->err = tdc_cpuid_enumerate(j->fn, j->fn_ctx, &j->table, &j->count);
	if (j->err) {
		snprintf(j->reason, sizeof(j->reason), "%s", tdc_errmsg(j->err));
		return NULL;
	}
	read_xcr0(j);
	check_cpu(j, "after enumeration");
	return NULL;
}

/* The job for the CPU the calling thread is on, if any: it runs inline. */
static struct probe_job *local_job(struct probe_job *jobs, size_t n)
{
	int here = sched_getcpu();

	for (size_t i = 0; i < n && here >= 0; i++)
		if (jobs[i].cpu == (uint32_t)here)
			return &jobs[i];
	return NULL;
}

/*
 * Run @j on the calling thread (pinned like the others), then give the
 * thread its affinity back: the main thread need not sit idle in join
 * while its own CPU is one of those to probe.
 */
static int run_inline(struct probe_job *j)
{
	cpu_set_t *saved = CPU_ALLOC(NCPU);
	size_t sz = CPU_ALLOC_SIZE(NCPU);
	int r = 0;

	if (!saved)
		return tdc_err(TDC_ERR_ALLOC, "CPU affinity mask");
	if (sched_getaffinity(0, sz, saved) != 0) {
		r = tdc_err(TDC_ERR_IO, "sched_getaffinity: %s", strerror(errno));
		goto out;
	}
	probe_thread(j);
	if (sched_setaffinity(0, sz, saved) != 0)
		r = tdc_err(TDC_ERR_IO, "restoring the affinity mask: %s", strerror(errno));
out:
	CPU_FREE(saved);
	return r;
}

static int run_batch(struct probe_job *jobs, size_t n)
{
	pthread_t tids[TDC_PROBE_MAX_THREADS];
	struct probe_job *mine = local_job(jobs, n);
	pthread_attr_t attr;
	cpu_set_t *set;
	size_t sz = CPU_ALLOC_SIZE(NCPU), started = 0, k = 0;
	int e, r = 0;

	if ((e = pthread_attr_init(&attr)) != 0)
		return tdc_err(TDC_ERR_INTERNAL, "pthread_attr_init: %s", strerror(e));
	pthread_attr_setstacksize(&attr, TDC_PROBE_STACK);
	if (!(set = CPU_ALLOC(NCPU))) {
		pthread_attr_destroy(&attr);
		return tdc_err(TDC_ERR_ALLOC, "CPU affinity mask");
	}
	for (; k < n; k++) {
		if (&jobs[k] == mine)
			continue;
		/* Born on its CPU: glibc sets the affinity before the thread
		 * first runs, so it is not started elsewhere and then migrated
		 * (each move waits for the target CPU's run queue).  The thread
		 * still pins itself and checks where it runs. */
		CPU_ZERO_S(sz, set);
		CPU_SET_S(jobs[k].cpu, sz, set);
		if ((e = pthread_attr_setaffinity_np(&attr, sz, set)) != 0 ||
		    (e = pthread_create(&tids[started], &attr, probe_thread, &jobs[k])) != 0) {
			r = tdc_err(TDC_ERR_INTERNAL, "pthread_create for CPU %u: %s",
				    jobs[k].cpu, strerror(e));
			break;
		}
		started++;
	}
	if (r == 0 && mine)
		r = run_inline(mine);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_attr_destroy(&attr);
	CPU_FREE(set);
	return r;
}

static int run_jobs(struct probe_job *jobs, size_t n)
{
	int r;

	for (size_t off = 0; off < n; off += TDC_PROBE_MAX_THREADS) {
		size_t k = n - off < TDC_PROBE_MAX_THREADS ? n - off : TDC_PROBE_MAX_THREADS;

		if ((r = run_batch(jobs + off, k)) != 0)
			return r;
	}
	for (size_t i = 0; i < n; i++)
		if (jobs[i].err)
			return tdc_err(jobs[i].err, "CPU %u: %s", jobs[i].cpu, jobs[i].reason);
	return 0;
}

/* ---- Claims ------------------------------------------------------------- */

static bool same_values(const struct tdc_cpuid_entry *a, const struct tdc_cpuid_entry *b)
{
	return a->flags == b->flags && !memcmp(a->regs, b->regs, sizeof(a->regs));
}

/*
 * Delta of @t against @common (both sorted): entries that differ or exist
 * only in @t, and TDC_CPUID_F_ABSENT markers for entries only in @common.
 */
static int make_delta(const struct tdc_cpuid_table *common, const struct tdc_cpuid_table *t,
		      struct tdc_cpuid_table *delta)
{
	size_t i = 0, k = 0;
	int r = 0, c;

	while (r == 0 && (i < common->n || k < t->n)) {
		if (i == common->n)
			c = 1;
		else if (k == t->n)
			c = -1;
		else
			c = tdc_cpuid_entry_cmp(&common->e[i], &t->e[k]);
		if (c < 0) {
			struct tdc_cpuid_entry gone = { .leaf = common->e[i].leaf,
							.subleaf = common->e[i].subleaf,
							.flags = common->e[i].flags | TDC_CPUID_F_ABSENT };
			r = tdc_cpuid_table_set(delta, &gone);
			i++;
		} else if (c > 0) {
			r = tdc_cpuid_table_set(delta, &t->e[k++]);
		} else {
			if (!same_values(&common->e[i], &t->e[k]))
				r = tdc_cpuid_table_set(delta, &t->e[k]);
			i++;
			k++;
		}
	}
	return r;
}

static int add_skipped(struct tdc_claims *out, uint32_t cpu, const char *reason)
{
	struct tdc_skipped_cpu *s;

	/* out->skipped has one slot per CPU of the universe; the cap is the codec's. */
	if (out->nskipped >= TDC_CLAIMS_MAX_SKIPPED)
		return tdc_err(TDC_ERR_TOO_LARGE, "more than %d skipped CPUs", TDC_CLAIMS_MAX_SKIPPED);
	s = &out->skipped[out->nskipped++];
	s->cpu = cpu;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	return 0;
}

static int skipped_cmp(const void *a, const void *b)
{
	const struct tdc_skipped_cpu *x = a, *y = b;

	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

static void fill_identity(struct tdc_claims *out)
{
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(out->kernel_release, sizeof(out->kernel_release), "%s", u.release);
	snprintf(out->agent_version, sizeof(out->agent_version), "tdcpuid-agent %s", TDC_VERSION);
}

/* Move the probed tables into @out: common = lowest probed CPU, deltas for all. */
static int build_claims(struct probe_job *jobs, size_t n, struct tdc_claims *out)
{
	struct probe_job *first = NULL;
	int r;

	for (size_t i = 0; i < n && !first; i++)
		if (!jobs[i].skipped)
			first = &jobs[i];
	if (!first && out->nskipped)
		return tdc_err(TDC_ERR_NOT_FOUND, "no CPU could be probed (%zu skipped; CPU %u: %s)",
			       out->nskipped, out->skipped[0].cpu, out->skipped[0].reason);
	if (!first)
		return tdc_err(TDC_ERR_NOT_FOUND, "no CPU could be probed (none selected)");
	tdc_cpuid_table_sort(&first->table);
	tdc_cpuid_table_free(&out->common);
	out->common = first->table;
	tdc_cpuid_table_init(&first->table);
	out->has_xcr0 = first->has_xcr0;
	out->xcr0 = first->xcr0;
	for (size_t i = 0; i < n; i++) {
		struct tdc_cpu_claim *cc;

		if (jobs[i].skipped)
			continue;
		cc = &out->cpus[out->ncpus++];
		cc->cpu = jobs[i].cpu;
		cc->has_xcr0 = jobs[i].has_xcr0;
		cc->xcr0 = jobs[i].xcr0;
		tdc_cpuid_table_init(&cc->delta);
		out->cpuid_count += jobs[i].count;
		if (&jobs[i] == first)
			continue; /* its table is the common table: empty delta */
		tdc_cpuid_table_sort(&jobs[i].table);
		if ((r = make_delta(&out->common, &jobs[i].table, &cc->delta)) != 0)
			return tdc_err_wrap(r, "CPU %u delta: ", jobs[i].cpu);
	}
	return 0;
}

static void free_jobs(struct probe_job *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++)
		tdc_cpuid_table_free(&jobs[i].table);
	free(jobs);
}

/* Split the universe into jobs (to probe) and skipped entries (with reasons). */
static int plan(const struct cpu_sets *cs, const struct tdc_probe_opts *o,
		struct tdc_claims *out, struct probe_job *jobs, size_t *njobs)
{
	const char *why;
	int r;

	*njobs = 0;
	for (size_t c = 0; c < cs->limit; c++) {
		if (!in_universe(cs, c))
			continue;
		if ((why = skip_reason(cs, c)) != NULL) {
			if ((r = add_skipped(out, c, why)) != 0)
				return r;
			continue;
		}
		jobs[*njobs] = (struct probe_job){ .cpu = c, .fn_ctx = o->fn_ctx,
						   .fn = o->fn ? o->fn : tdc_cpuid_native_fn,
						   .native = !o->fn };
		tdc_cpuid_table_init(&jobs[*njobs].table);
		(*njobs)++;
	}
	return 0;
}

static size_t universe_size(const struct cpu_sets *cs)
{
	size_t n = 0;

	for (size_t c = 0; c < cs->limit; c++)
		n += in_universe(cs, c);
	return n;
}

/*
 * Give each job its table up front: a thread that mallocs makes glibc
 * create a per-thread arena (a 128 MiB mapping), which is slow under
 * shadow-paging hypervisors.  Realloc in the thread stays possible.
 */
static int reserve_tables(struct probe_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!(jobs[i].table.e = malloc(TDC_PROBE_TABLE_RESERVE * sizeof(*jobs[i].table.e))))
			return tdc_err(TDC_ERR_ALLOC, "CPUID table for CPU %u", jobs[i].cpu);
		jobs[i].table.cap = TDC_PROBE_TABLE_RESERVE;
	}
	return 0;
}

int tdc_probe_run(const struct tdc_probe_opts *opts, struct tdc_claims *out)
{
	struct cpu_sets *cs = calloc(1, sizeof(*cs));
	struct probe_job *jobs = NULL;
	size_t njobs = 0, nuniv = 0;
	int r;

	out->ncpus = out->nskipped = 0;
	out->cpuid_count = 0;
	if (!cs) {
		r = tdc_err(TDC_ERR_ALLOC, "probe CPU sets");
		goto out;
	}
	if ((r = read_cpu_sets(opts, cs)) != 0)
		goto out;
	out->cpu_set = cs->from;
	nuniv = universe_size(cs);
	/* +1: calloc(0) may return NULL; an empty universe is reported below. */
	jobs = calloc(nuniv + 1, sizeof(*jobs));
	out->cpus = calloc(nuniv + 1, sizeof(*out->cpus));
	out->skipped = calloc(nuniv + 1, sizeof(*out->skipped));
	if (!jobs || !out->cpus || !out->skipped) {
		r = tdc_err(TDC_ERR_ALLOC, "probe state for %zu CPUs", nuniv);
		goto out;
	}
	if ((r = plan(cs, opts, out, jobs, &njobs)) != 0 ||
	    (r = reserve_tables(jobs, njobs)) != 0 ||
	    (r = run_jobs(jobs, njobs)) != 0)
		goto out;
	/* Skips found while running (pinning failed) join the list. */
	for (size_t i = 0; i < njobs; i++)
		if (jobs[i].skipped && (r = add_skipped(out, jobs[i].cpu, jobs[i].reason)) != 0)
			goto out;
	/* Claims list CPUs in ascending order (docs/evidence.cddl). */
	qsort(out->skipped, out->nskipped, sizeof(*out->skipped), skipped_cmp);
	if ((r = build_claims(jobs, njobs, out)) != 0)
		goto out;
	fill_identity(out);
out:
	free_jobs(jobs, njobs);
	free(cs);
	return r;
}
