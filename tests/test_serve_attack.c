// SPDX-License-Identifier: Apache-2.0
/*
 * The service under attack over loopback (issue 13): a hostile peer on
 * another loopback address (127.0.0.2, 127.0.0.3: other peers to the
 * per-peer limits) churns connections, holds slots (slowloris), floods
 * refusals into the audit log or runs the service out of file
 * descriptors, while an honest agent on 127.0.0.1 must still pass within
 * its normal deadline.  Every attack is capped in count and in time.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"
#include "serve_util.h"
#include "tdcpuid/frame.h"
#include "audit.h"

#define HONEST_DEADLINE_MS 10000   /* the agent's own default is 30 s */

static struct su_env env;
static const char *verifier;

static int group_setup(void **state)
{
	const char *agent = getenv("TDC_AGENT");

	verifier = getenv("TDC_VERIFIER");
	if (!verifier || !agent)
		tdc_test_skip("TDC_VERIFIER/TDC_AGENT not set (run through ctest)");
	if (su_env_setup(&env, agent) != 0) {
		fprintf(stderr, "setup: %s\n", tdc_errdetail());
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	su_env_teardown(&env);
	return 0;
}

/* The server a test started (a copy: a failed test leaves its own behind). */
static struct su_server running;
static bool have_running;

/* A fresh audit log per test; a server a failed test left behind goes first. */
static void start(struct su_server *s, const char *const *extra)
{
	char p[400];

	if (have_running)
		su_server_stop(&running, SIGKILL);
	have_running = false;
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", env.db, (const char *[]){ "", "-wal", "-shm" }[i]);
		unlink(p);
	}
	if (su_server_start(&env, verifier, extra, s) != 0)
		fail_msg("server did not start; log in %s", env.log);
	running = *s;
	have_running = true;
}

static void stop_server(struct su_server *s)
{
	have_running = false;
	assert_int_equal(su_server_stop(s, SIGTERM), 0);
}

/* One honest exchange from 127.0.0.1: 0 and a passing verdict, or the error. */
static int honest(const char *addr, uint64_t *ms)
{
	struct tdc_client_result res;
	struct su_agent ag = { .env = &env, .claims_vm = "alpha" };
	uint64_t t0 = tdc_now_ms();
	int r;

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	r = su_attest_from("127.0.0.1", addr, "alpha", HONEST_DEADLINE_MS, su_agent_fn, &ag, &res);
	if (!r && !res.passed)
		r = tdc_err(TDC_ERR_POLICY, "verdict fails: %.300s", tdc_buf_cstr(&res.doc));
	if (ms)
		*ms = tdc_now_ms() - t0;
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
	return r;
}

static void assert_honest(const char *addr, const char *when)
{
	uint64_t ms;
	int r = honest(addr, &ms);

	if (r)
		fail_msg("honest agent %s: %s", when, tdc_errmsg(r));
	assert_true(ms < HONEST_DEADLINE_MS);
}

/* ---- nonce table exhaustion ----------------------------------------------------- */

/*
 * Every accepted connection used to put a nonce into a 65,536-entry table
 * that only expiry emptied: a churn of hellos starved every agent for a
 * TTL.  More connections than that table holds, from 127.0.0.2 and
 * 127.0.0.3; then an honest agent passes at once.
 */
static void test_churn_nonces(void **state)
{
	static const char *const extra[] = { "--nonce-ttl", "60", NULL };
	struct su_attacker a[2];
	pthread_t th[2];
	atomic_bool stop = false;
	struct su_server s;
	long total = 0;

	start(&s, extra);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct su_attacker){ .addr = s.addr, .src = i ? "127.0.0.3" : "127.0.0.2",
					  .max = 36000, .until = tdc_now_ms() + 25000,
					  .stop = &stop };
		pthread_create(&th[i], NULL, su_churn_main, &a[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		total += a[i].conns;
	}
	print_message("churn: %ld connections (%ld, %ld answered)\n", total, a[0].hellos,
		      a[1].hellos);
	assert_true(total >= 66000);
	assert_honest(s.addr, "after a churn of 66,000+ connections");
	stop_server(&s);
}

/* ---- slot exhaustion ------------------------------------------------------------ */

/* 300 slowloris connections from one peer against 256 slots. */
static void test_slowloris(void **state)
{
	static const char *const extra[] = { "--max-conns", "256", "--timeout", "10", NULL };
	struct su_attacker a = { 0 };
	atomic_bool stop = false;
	struct su_server s;
	pthread_t th;
	int ok = 0;

	start(&s, extra);
	a = (struct su_attacker){ .src = "127.0.0.2", .max = 5000, .until = tdc_now_ms() + 30000,
			       .stop = &stop, .hold = 300 };
	a.addr = s.addr;
	pthread_create(&th, NULL, su_slowloris_main, &a);
	/* Let the attacker take what it can before the honest agents come. */
	for (int i = 0; i < 200 && a.conns < 300; i++)
		usleep(10000);
	for (int i = 0; i < 10; i++) {
		uint64_t ms;
		int r = honest(s.addr, &ms);

		if (r)
			print_message("honest %d: %s\n", i, tdc_errmsg(r));
		ok += r == 0 && ms < HONEST_DEADLINE_MS;
	}
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	print_message("slowloris: %ld connections made; honest %d/10 passed\n", a.conns, ok);
	assert_int_equal(ok, 10);
	stop_server(&s);
}

/*
 * Many hoarders: 20 peers holding their 16 connections each would take 320
 * of 256 slots.  The last quarter goes only to peers holding none, so the
 * hoarders stop at 192 plus one each, and honest agents still get in.
 */
static void test_slowloris_many_peers(void **state)
{
	static const char *const extra[] = { "--max-conns", "256", "--timeout", "20", NULL };
	struct su_attacker a[20];
	char src[20][32];
	pthread_t th[20];
	atomic_bool stop = false;
	struct su_server s;
	long held = 0;
	int ok = 0;

	start(&s, extra);
	for (int i = 0; i < 20; i++) {
		snprintf(src[i], sizeof(src[i]), "127.0.2.%d", i + 1);
		a[i] = (struct su_attacker){ .addr = s.addr, .src = src[i], .max = 2000,
					  .until = tdc_now_ms() + 30000, .stop = &stop, .hold = 16 };
		pthread_create(&th[i], NULL, su_slowloris_main, &a[i]);
	}
	/* Until every hoarder has tried for all its connections (and been refused some). */
	for (int k = 0; k < 300; k++) {
		held = 0;
		for (int i = 0; i < 20; i++)
			held += a[i].conns;
		if (held >= 20 * 16)
			break;
		usleep(10000);
	}
	for (int i = 0; i < 5; i++) {
		uint64_t ms;
		int r = honest(s.addr, &ms);

		if (r)
			print_message("honest %d: %s\n", i, tdc_errmsg(r));
		ok += r == 0 && ms < HONEST_DEADLINE_MS;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 20; i++)
		pthread_join(th[i], NULL);
	print_message("20 hoarding peers: %ld connections made; honest %d/5 passed\n", held, ok);
	assert_true(held >= 20 * 16);
	assert_int_equal(ok, 5);
	stop_server(&s);
}

/*
 * Two deadlines: until its evidence frame has begun (the 4-byte header is
 * in) a connection has --handshake-timeout, after that --timeout from
 * accept.  An idle connection and one that sent half a header lose their
 * slot at the first; one whose frame has begun keeps it until the second.
 */
static void test_handshake_deadline(void **state)
{
	static const char *const extra[] = { "--handshake-timeout", "1", "--timeout", "6", NULL };
	static const uint8_t hdr[4] = { 0, 0, 0, 100 };   /* a 100-byte frame follows, never */
	struct su_server s;
	int idle = -1, half = -1, begun = -1;
	uint64_t t0;

	start(&s, extra);
	assert_int_equal(su_dial_from(s.addr, "127.0.0.2", &idle), 0);
	assert_int_equal(su_dial_from(s.addr, "127.0.0.2", &half), 0);
	assert_int_equal(su_dial_from(s.addr, "127.0.0.2", &begun), 0);
	t0 = tdc_now_ms();
	assert_int_equal(send(half, hdr, 2, MSG_NOSIGNAL), 2);
	assert_int_equal(send(begun, hdr, 4, MSG_NOSIGNAL), 4);
	assert_true(su_wait_closed(idle, 4000));
	assert_true(su_wait_closed(half, 1000));
	print_message("handshake deadline: idle and half-header connections closed after %llu ms\n",
		      (unsigned long long)(tdc_now_ms() - t0));
	assert_true(tdc_now_ms() - t0 < 4000);
	/* The frame has begun: past the handshake deadline, within the exchange's. */
	assert_false(su_wait_closed(begun, 1500));
	assert_true(su_wait_closed(begun, 8000));
	print_message("handshake deadline: begun frame closed after %llu ms\n",
		      (unsigned long long)(tdc_now_ms() - t0));
	assert_true(tdc_now_ms() - t0 >= 4500);
	close(idle);
	close(half);
	close(begun);
	assert_honest(s.addr, "after the deadlines");
	stop_server(&s);
}

/* ---- audit log flood ------------------------------------------------------------ */

struct count_ctx {
	const char *prefix;
	long rows;
	long refusals;
};

static int count_rows(void *ctx, const struct tdc_audit_record *r)
{
	struct count_ctx *c = ctx;

	if (strncmp(r->peer, c->prefix, strlen(c->prefix)) == 0) {
		c->rows++;
		c->refusals += r->count ? (long)r->count : 1;
	}
	return 0;
}

/* Evidence frames naming no VM the registry knows: each one a refusal. */
static void test_reject_flood(void **state)
{
	static const char *const extra[] = { "--reject-interval", "2", NULL };
	struct tdc_client_result res;
	struct tdc_audit_query q = { 0 };
	struct count_ctx cc = { .prefix = "ip:127.0.0.2" };
	struct tdc_audit *db;
	struct su_server s;
	uint8_t nonce[TDC_NONCE_LEN];
	uint64_t t0 = tdc_now_ms();
	long nrej = 0, nbusy = 0;
	int fd = -1, r;

	start(&s, extra);
	tdc_client_result_init(&res);
	/* A burst first (the door turns most of it away), then a steady pace the
	 * per-peer rate lets through: refusals over three intervals. */
	for (int i = 0; i < 400 && tdc_now_ms() - t0 < 10000; i++) {
		if (i >= 200)
			usleep(25000);
		if (su_dial_from(s.addr, "127.0.0.2", &fd) != 0)
			continue;
		uint64_t dl = tdc_now_ms() + 3000;

		r = tdc_client_hello(fd, dl, nonce, NULL);
		if (r == 0) {
			r = tdc_client_send_evidence(fd, dl, nonce, "nosuch", (const uint8_t *)"x", 1);
			if (r == 0)
				r = tdc_client_verdict(fd, dl, &res);
			nrej += r == TDC_ERR_NOT_FOUND;
		} else {
			nbusy++;
		}
		close(fd);
		if (i == 300)
			assert_honest(s.addr, "during a flood of refusals");
	}
	uint64_t secs = (tdc_now_ms() - t0) / 1000 + 1;

	stop_server(&s);
	print_message("reject flood: %ld refusals answered, %ld refused at the door, %llu s\n",
		      nrej, nbusy, (unsigned long long)secs);
	assert_true(nrej > 0);
	assert_int_equal(tdc_audit_open(env.db, &db), 0);
	assert_int_equal(tdc_audit_select(db, &q, count_rows, &cc), 0);
	tdc_audit_close(db);
	print_message("reject flood: %ld rows for %ld refusals\n", cc.rows, cc.refusals);
	/* One row per peer per interval (2 s), carrying the count; none lost. */
	assert_true(cc.rows <= (long)(secs / 2 + 2));
	assert_int_equal(cc.refusals, nrej);
}

/* ---- file descriptors --------------------------------------------------------- */

/*
 * --max-conns above RLIMIT_NOFILE: once accept() fails with EMFILE the
 * listener stays readable, and a loop that retries at once spins.  The
 * service must clamp to the limit and back off; CPU is measured while 60
 * connections are held against a limit of 40 descriptors.
 */
static void test_emfile(void **state)
{
	static const char *const extra[] = { "--max-conns", "256", NULL };
	struct su_server s;
	int fds[60], n = 0;
	double c0, c1;

	su_nofile = 40;
	start(&s, extra);
	su_nofile = 0;
	for (int i = 0; i < 60; i++)
		if (su_dial_from(s.addr, "127.0.0.2", &fds[n]) == 0)
			n++;
	usleep(200000); /* let the service see them all (the CPU window starts after) */
	c0 = su_proc_cpu(s.pid);
	usleep(1000000);
	c1 = su_proc_cpu(s.pid);
	print_message("emfile: %d connections held, server CPU %.0f%% of a core\n", n,
		      100 * (c1 - c0));
	assert_true(c0 >= 0 && c1 >= 0);
	assert_true(c1 - c0 < 0.3);
	assert_honest(s.addr, "while another peer holds more connections than descriptors");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	assert_honest(s.addr, "after the descriptors were released");
	stop_server(&s);
}

/*
 * The soft RLIMIT_NOFILE that leaves @pid exactly @room free descriptor
 * numbers (the limit bounds numbers, and a process may hold a stray high one).
 */
static int limit_for_room(pid_t pid, int room)
{
	bool used[4096] = { false };
	char path[64];
	struct dirent *d;
	DIR *dir;
	int fd, free_below = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(dir = opendir(path)))
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && (fd = atoi(d->d_name)) >= 0 && fd < 4096)
			used[fd] = true;
	closedir(dir);
	for (fd = 0; fd < 4096; fd++)
		if (!used[fd] && ++free_below == room)
			return fd + 1;
	return -1;
}

/*
 * The clamp at start cannot foresee a limit lowered later (prlimit, or
 * descriptors the process needs for something else): accept() then fails
 * with EMFILE while connections wait in the backlog, the listener stays
 * readable, and only a back-off keeps the loop from spinning.  The
 * server's soft limit is lowered to room for two more descriptors; CPU is
 * measured while 30 connections wait.
 */
static void test_emfile_backoff(void **state)
{
	static const char *const extra[] = { "--max-conns", "64", NULL };
	struct rlimit old, low;
	struct su_server s;
	int fds[30], n = 0, lim;
	double c0, c1;

	start(&s, extra);
	assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, NULL, &old), 0);
	assert_true((lim = limit_for_room(s.pid, 2)) > 2);
	low = (struct rlimit){ (rlim_t)lim, old.rlim_max };
	assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, &low, NULL), 0);
	for (int i = 0; i < 30; i++)
		if (su_dial_from(s.addr, "127.0.0.2", &fds[n]) == 0)
			n++;
	/* Connect returns once the kernel queued the connection; give the loop
	 * time to meet EMFILE, then measure. */
	usleep(300000);
	c0 = su_proc_cpu(s.pid);
	usleep(1000000);
	c1 = su_proc_cpu(s.pid);
	print_message("emfile back-off: limit %d, %d connections queued, server CPU %.0f%% of a "
		      "core\n", lim, n, 100 * (c1 - c0));
	assert_true(n > 2);
	assert_true(c0 >= 0 && c1 >= 0);
	assert_true(c1 - c0 < 0.3);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	assert_int_equal(prlimit(s.pid, RLIMIT_NOFILE, &old, NULL), 0);
	assert_honest(s.addr, "after EMFILE, with descriptors back");
	stop_server(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_churn_nonces),
		cmocka_unit_test(test_slowloris),
		cmocka_unit_test(test_slowloris_many_peers),
		cmocka_unit_test(test_handshake_deadline),
		cmocka_unit_test(test_reject_flood),
		cmocka_unit_test(test_emfile),
		cmocka_unit_test(test_emfile_backoff),
	};

	/* One attack at a time while working on it: TDC_TEST_FILTER=test_emfile* */
	if (getenv("TDC_TEST_FILTER"))
		cmocka_set_test_filter(getenv("TDC_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
