// SPDX-License-Identifier: Apache-2.0
/*
 * The parallel probe (agent/cpuid_probe.c) with a fake CPUID and a fake
 * sysfs: every CPU ends up probed or skipped with the right reason, deltas
 * hold exactly the per-CPU differences, and the claims survive the codec.
 * Expectations are computed from this process's real affinity mask.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "probe.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"

/* Leaf 1 EBX[31:24] = the CPU the thread runs on, like an APIC ID. */
static int fake_fn(void *ctx, uint32_t leaf, uint32_t sub, uint32_t regs[TDC_NREGS])
{
	int cpu = sched_getcpu();

	memset(regs, 0, TDC_NREGS * sizeof(*regs));
	if (leaf == 0)
		regs[TDC_EAX] = 1;
	if (leaf == 1)
		regs[TDC_EBX] = (uint32_t)cpu << 24 | 0x0800;
	if (leaf == 0x80000000)
		regs[TDC_EAX] = cpu % 2 ? 0x80000001 : 0; /* odd CPUs have one more leaf */
	return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static bool in_affinity(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	return cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set);
}

static const char *reason_of(const struct tdc_claims *c, uint32_t cpu)
{
	for (size_t i = 0; i < c->nskipped; i++)
		if (c->skipped[i].cpu == cpu)
			return c->skipped[i].reason;
	return NULL;
}

static bool probed(const struct tdc_claims *c, uint32_t cpu)
{
	for (size_t i = 0; i < c->ncpus; i++)
		if (c->cpus[i].cpu == cpu)
			return true;
	return false;
}

static void test_fake_sysfs(void **state)
{
	char dir[] = "/tmp/tdc-probe-sysfs-XXXXXX";
	struct tdc_probe_opts o = { .fn = fake_fn };
	struct tdc_claims c, back;
	struct tdc_buf enc;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "possible", "0-7\n");
	write_file(dir, "present", "0-5\n");
	write_file(dir, "online", "0-2,4\n");
	o.sysfs_cpu_dir = dir;
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), 0);

	/* Every CPU 0..7 accounted for exactly once. */
	for (uint32_t cpu = 0; cpu < 8; cpu++) {
		const char *why = reason_of(&c, cpu);
		bool expect_probe = (cpu <= 2 || cpu == 4) && in_affinity(cpu);

		assert_true(probed(&c, cpu) != (why != NULL));
		assert_int_equal(probed(&c, cpu), expect_probe);
		if (cpu >= 6)
			assert_non_null(strstr(why, "not present"));
		else if (cpu == 3 || cpu == 5)
			assert_string_equal(why, "offline");
		else if (!expect_probe) /* which mask excluded it depends on this host */
			assert_true(strstr(why, "affinity mask") || strstr(why, "cgroup cpuset"));
	}
	for (size_t i = 1; i < c.nskipped; i++)
		assert_true(c.skipped[i - 1].cpu < c.skipped[i].cpu);
	assert_true(c.ncpus >= 1);
	assert_false(c.has_xcr0); /* fake backend: no XGETBV */
	assert_true(c.cpuid_count > 0);
	assert_true(strlen(c.kernel_release) > 0);
	assert_non_null(strstr(c.agent_version, "tdcpuid-agent"));

	/* Each CPU's table shows its own "APIC ID"; deltas carry only that. */
	for (size_t i = 0; i < c.ncpus; i++) {
		struct tdc_cpuid_table t;
		const struct tdc_cpuid_entry *e;
		uint32_t cpu = c.cpus[i].cpu;

		assert_int_equal(tdc_claims_cpu_table(&c, cpu, &t), 0);
		assert_non_null(e = tdc_cpuid_table_find(&t, 1, 0));
		assert_int_equal(e->regs[TDC_EBX] >> 24, cpu);
		assert_int_equal(tdc_cpuid_table_find(&t, 0x80000001, 0) != NULL, cpu % 2 == 1);
		if (i == 0)
			assert_int_equal(c.cpus[i].delta.n, 0);
		else
			assert_true(c.cpus[i].delta.n >= 1 && c.cpus[i].delta.n <= 3);
		tdc_cpuid_table_free(&t);
	}

	/* The codec accepts what the probe built, and it round-trips. */
	tdc_buf_init(&enc);
	assert_int_equal(tdc_claims_encode(&c, &enc), 0);
	assert_int_equal(tdc_claims_decode(enc.data, enc.len, &back), 0);
	assert_int_equal(back.ncpus, c.ncpus);
	assert_int_equal(back.nskipped, c.nskipped);
	assert_int_equal(back.common.n, c.common.n);
	tdc_claims_free(&back);
	tdc_buf_free(&enc);
	tdc_claims_free(&c);

	write_file(dir, "possible", "");
	write_file(dir, "present", "");
	write_file(dir, "online", "bogus");
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "online"));
	tdc_claims_free(&c);
	for (const char *const *n = (const char *const[]){ "possible", "present", "online", NULL }; *n; n++) {
		char p[512];

		snprintf(p, sizeof(p), "%s/%s", dir, *n);
		unlink(p);
	}
	rmdir(dir);
}

/* Without sysfs the universe is the affinity mask: all of it is probed. */
static void test_no_sysfs_and_cpu_list(void **state)
{
	struct tdc_probe_opts o = { .fn = fake_fn, .sysfs_cpu_dir = "/nonexistent-tdc" };
	struct tdc_claims c;
	unsigned first = 0;

	while (!in_affinity(first))
		first++;
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), 0);
	assert_int_equal(c.nskipped, 0);
	assert_int_equal(c.cpus[0].cpu, first);
	tdc_claims_free(&c);

	/* --cpu: only those; CPUs that do not exist are skipped, not dropped. */
	o.cpus = "8000-8001";
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), TDC_ERR_NOT_FOUND);
	tdc_claims_free(&c);

	o.cpus = "x";
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), TDC_ERR_USAGE);
	tdc_claims_free(&c);
}

/*
 * No sysfs and an agent pinned to one CPU (taskset -c N in a chroot): the
 * other CPUs come from /proc/cpuinfo, else sysconf, and are skipped by
 * name; with neither, the claims say only the affinity mask was known.
 */
static void test_no_sysfs_pinned(void **state)
{
	char path[] = "/tmp/tdc-probe-cpuinfo-XXXXXX", flags[600];
	struct tdc_probe_opts o = { .fn = fake_fn, .sysfs_cpu_dir = "/nonexistent-tdc" };
	cpu_set_t saved, one;
	struct tdc_claims c;
	unsigned first = 0;
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	FILE *f;
	int fd;

	(void)state;
	while (!in_affinity(first))
		first++;
	assert_int_equal(sched_getaffinity(0, sizeof(saved), &saved), 0);
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	/* A cpuinfo of two CPUs, with a flags line longer than the reader's buffer. */
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	memset(flags, 'x', sizeof(flags) - 1);
	flags[sizeof(flags) - 1] = '\0';
	fprintf(f, "processor\t: %u\nflags\t\t: %s processor : 999\n\nprocessor\t: %u\n",
		first, flags, first + 1);
	fclose(f);
	o.cpuinfo_path = path;
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), 0);
	assert_int_equal(c.cpu_set, TDC_CPUSET_CPUINFO);
	assert_int_equal(c.ncpus, 1);
	assert_int_equal(c.nskipped, 1);
	assert_int_equal(c.skipped[0].cpu, first + 1);
	assert_non_null(strstr(c.skipped[0].reason, "affinity"));
	tdc_claims_free(&c);
	unlink(path);

	o.cpuinfo_path = "/nonexistent-tdc/cpuinfo";
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), 0);
	if (conf > 1) {
		assert_int_equal(c.cpu_set, TDC_CPUSET_SYSCONF);
		assert_int_equal(c.ncpus, 1);
		assert_int_equal(c.nskipped, (size_t)conf - 1); /* CPUs 0..conf-1 but this one */
	} else {
		assert_int_equal(c.cpu_set, TDC_CPUSET_AFFINITY);
	}
	tdc_claims_free(&c);
	assert_int_equal(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

/* The real instruction on the real machine: XCR0 read when OSXSAVE is set. */
static void test_native(void **state)
{
	struct tdc_probe_opts o = { 0 };
	struct tdc_claims c;
	const struct tdc_cpuid_entry *l1;

#if !defined(__x86_64__) && !defined(__i386__)
	skip();
#endif
	tdc_claims_init(&c);
	assert_int_equal(tdc_probe_run(&o, &c), 0);
	assert_true(c.ncpus >= 1);
	assert_non_null(l1 = tdc_cpuid_table_find(&c.common, 1, 0));
	assert_int_equal(c.has_xcr0, !!(l1->regs[TDC_ECX] & (1u << 27)));
	if (c.has_xcr0)
		assert_int_equal(c.xcr0 & 3, 3); /* x87 and SSE are always enabled with XSAVE */
	tdc_claims_free(&c);
}

static void test_cpulist(void **state)
{
	bool set[16];

	assert_int_equal(tdc_cpulist_parse("0-3,7\n", set, 16), 0);
	assert_true(set[0] && set[3] && !set[4] && set[7] && !set[8]);
	assert_int_equal(tdc_cpulist_parse("", set, 16), 0);
	for (int i = 0; i < 16; i++)
		assert_false(set[i]);
	assert_int_equal(tdc_cpulist_parse("15", set, 16), 0);
	assert_int_equal(tdc_cpulist_parse("16", set, 16), TDC_ERR_RANGE);
	assert_int_equal(tdc_cpulist_parse("3-1", set, 16), TDC_ERR_FORMAT);
	assert_int_equal(tdc_cpulist_parse("1,,2", set, 16), TDC_ERR_FORMAT);
	assert_int_equal(tdc_cpulist_parse("-1", set, 16), TDC_ERR_FORMAT);
	assert_int_equal(tdc_cpulist_parse("1 2", set, 16), TDC_ERR_FORMAT);
	assert_int_equal(tdc_cpulist_parse("1\nx", set, 16), TDC_ERR_FORMAT);
	assert_int_equal(tdc_cpulist_parse("99999999999999999999", set, 16), TDC_ERR_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_fake_sysfs),
		cmocka_unit_test(test_no_sysfs_and_cpu_list),
		cmocka_unit_test(test_no_sysfs_pinned),
		cmocka_unit_test(test_native),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
