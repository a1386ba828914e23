// SPDX-License-Identifier: Apache-2.0
/*
 * A fleet of `serve` instances on one PostgreSQL (docs/deploy.md), against
 * a real server this test starts (tests/pg_util.h):
 *  - 2 and 4 instances, agents spread over them: all pass, a nonce
 *    replayed at another instance is refused with the same error as at its
 *    own, the log holds exactly one row per acknowledged verdict;
 *  - SIGKILL of one instance under load: every acknowledged verdict is in
 *    the log, the other instance keeps serving;
 *  - PostgreSQL stopped under load, then started again: the instances
 *    refuse meanwhile (no acknowledgement without a row), serve again by
 *    themselves, no duplicate and no lost row;
 *  - a proxy between an instance and the database that stalls: the
 *    agent's exchange still ends within its deadline, the instance refuses
 *    until the proxy forwards again, then recovers.
 * After each, the hash chain of the shared log checks out.
 */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"
#include "serve_util.h"
#include "pg_util.h"
#include "audit.h"

#define MAX_INST 4
#define MAX_ACKS 20000
#define CLIENTS 8

static struct su_env env;
static struct pgu pg;
static const char *verifier;
static char owner_uri[300];

/* Every server: high per-peer limits (all agents come from 127.0.0.1). */
static const char *const fleet_args[] = {
	"--workers", "2", "--peer-conns", "1000", "--peer-rate", "100000", "--db-timeout", "2",
	NULL
};

struct fleet {
	struct su_server srv[MAX_INST];
	char addr[MAX_INST][TDC_ADDR_MAX];
	int n;
};

static struct ack {
	int64_t id;
	uint8_t nonce[32];
	bool passed, seen;
} *acks;
static size_t nacks;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stop;
static atomic_ulong failures, per_inst[MAX_INST];
static struct fleet *cur;
static bool file_has(const char *path, const char *needle);
static int per_client;          /* exchanges per client, 0: until stop */

/* A fresh database; every instance of @f on it as the service role. */
static void fleet_start(struct fleet *f, int n, const char *const *extra)
{
	char db[64];
	const char *args[24];
	size_t k = 0;

	/* Each case counts the servers' log lines of its own. */
	assert_int_equal(truncate(env.log, 0) == 0 || errno == ENOENT, 1);
	assert_int_equal(pgu_new_db(&pg, db, sizeof(db)), 0);
	pgu_uri(&pg, "tdc_service", db, env.db, sizeof(env.db));
	pgu_uri(&pg, "tdc_owner", db, owner_uri, sizeof(owner_uri));
	for (size_t i = 0; fleet_args[i]; i++)
		args[k++] = fleet_args[i];
	for (size_t i = 0; extra && extra[i]; i++)
		args[k++] = extra[i];
	args[k] = NULL;
	f->n = n;
	for (int i = 0; i < n; i++) {
		assert_int_equal(su_server_start(&env, verifier, args, &f->srv[i]), 0);
		snprintf(f->addr[i], sizeof(f->addr[i]), "%s", f->srv[i].addr);
	}
	nacks = 0;
	atomic_store(&failures, 0);
	for (int i = 0; i < MAX_INST; i++)
		atomic_store(&per_inst[i], 0);
}

static void fleet_stop(struct fleet *f)
{
	for (int i = 0; i < f->n; i++)
		if (f->srv[i].pid > 0)
			assert_int_equal(su_server_stop(&f->srv[i], SIGTERM), 0);
}

/* Client @arg: round robin over the instances, starting at its own index. */
static void *client(void *arg)
{
	struct tdc_client_result res;
	struct su_agent ag = { .env = &env, .claims_vm = "alpha" };
	int me = (int)(intptr_t)arg;

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	for (int k = 0; !atomic_load(&stop) && (!per_client || k < per_client); k++) {
		int i = (me + k) % cur->n;

		if (cur->srv[i].pid <= 0 ||
		    tdc_client_attest(cur->addr[i], "alpha", 5000, su_agent_fn, &ag, &res) != 0) {
			atomic_fetch_add(&failures, 1);
			usleep(2000);
			continue;
		}
		atomic_fetch_add(&per_inst[i], 1);
		pthread_mutex_lock(&mu);
		if (nacks < MAX_ACKS) {
			acks[nacks].id = (int64_t)res.record;
			memcpy(acks[nacks].nonce, ag.nonce, 32);
			acks[nacks].passed = res.passed;
			acks[nacks++].seen = false;
		}
		pthread_mutex_unlock(&mu);
	}
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
	return NULL;
}

static void clients_run(pthread_t *th)
{
	atomic_store(&stop, false);
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, client, (void *)(intptr_t)i), 0);
}

static void clients_join(pthread_t *th)
{
	atomic_store(&stop, true);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(th[i], NULL);
}

static size_t acked(void)
{
	size_t n;

	pthread_mutex_lock(&mu);
	n = nacks;
	pthread_mutex_unlock(&mu);
	return n;
}

struct tally {
	size_t rows, verdict_rows, unacked;
	size_t nonces;
	uint8_t (*seen)[32];
	size_t dup;
};

static int check_row(void *ctx, const struct tdc_audit_record *r)
{
	struct tally *t = ctx;
	bool found = false;

	t->rows++;
	if (r->verdict != TDC_AUDIT_PASS && r->verdict != TDC_AUDIT_FAIL)
		return 0;
	t->verdict_rows++;
	assert_true(r->has_nonce);
	for (size_t i = 0; i < t->nonces; i++)
		t->dup += !memcmp(t->seen[i], r->nonce, 32);
	if (t->nonces < MAX_ACKS * 2)
		memcpy(t->seen[t->nonces++], r->nonce, 32);
	for (size_t i = 0; i < nacks; i++) {
		if (acks[i].id != r->id)
			continue;
		assert_memory_equal(r->nonce, acks[i].nonce, 32);
		assert_int_equal(acks[i].passed, r->verdict == TDC_AUDIT_PASS);
		acks[i].seen = true;
		found = true;
	}
	t->unacked += !found;
	return 0;
}

/*
 * Every acknowledged verdict has its row (same id, same nonce, same
 * verdict), no nonce is in two rows, and the chain holds.  @exact: also no
 * verdict row that nobody was told about.
 */
static size_t last_verdict_rows;

static void check_log(bool exact)
{
	struct tally t = { 0 };
	struct tdc_audit_query q = { 0 };
	struct tdc_audit_report rep;
	struct tdc_audit *a;
	size_t missing = 0;

	t.seen = calloc(MAX_ACKS * 2, 32);
	assert_non_null(t.seen);
	assert_int_equal(tdc_audit_open(owner_uri, &a), 0);
	assert_int_equal(tdc_audit_select(a, &q, check_row, &t), 0);
	assert_int_equal(tdc_audit_verify(a, &rep), 0);
	tdc_audit_close(a);
	for (size_t i = 0; i < nacks; i++)
		missing += !acks[i].seen;
	printf("  log: %zu rows, %zu verdicts, %zu acknowledged, %zu not acknowledged, chain %s\n",
	       t.rows, t.verdict_rows, nacks, t.unacked, rep.ok ? "ok" : rep.problem);
	if (missing)
		fail_msg("%zu of %zu acknowledged verdicts are missing from the log", missing, nacks);
	assert_int_equal(t.dup, 0);
	assert_true(rep.ok);
	assert_int_equal(rep.unchained, 0);
	if (exact)
		assert_int_equal(t.unacked, 0);
	last_verdict_rows = t.verdict_rows;
	free(t.seen);
}

/* Evidence answering @nonce, sent on a new connection to @addr: the verifier's error. */
static int replay(const char *addr, const struct su_agent *ag, char *msg, size_t len)
{
	struct tdc_client_result res;
	struct tdc_addr a;
	uint8_t fresh[TDC_NONCE_LEN];
	int fd = -1, e;

	tdc_client_result_init(&res);
	if ((e = tdc_addr_parse(addr, &a)) == 0 &&
	    (e = tdc_transport_of(&a)->connect(&a, tdc_now_ms() + 5000, &fd)) == 0 &&
	    (e = tdc_client_hello(fd, tdc_now_ms() + 5000, fresh, NULL)) == 0 &&
	    (e = tdc_client_send_evidence(fd, tdc_now_ms() + 5000, ag->nonce, "alpha",
					  ag->last.data, ag->last.len)) == 0)
		e = tdc_client_verdict(fd, tdc_now_ms() + 5000, &res);
	snprintf(msg, len, "%s", tdc_errdetail());
	if (fd >= 0)
		close(fd);
	tdc_client_result_free(&res);
	return e;
}

static void fleet_of(int n)
{
	struct fleet f;
	pthread_t th[CLIENTS];
	struct su_agent ag = { .env = &env, .claims_vm = "alpha" };
	struct tdc_client_result res;
	char at_own[256], at_other[256];

	cur = &f;
	fleet_start(&f, n, NULL);
	per_client = 6 * n;
	clients_run(th);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(th[i], NULL);
	per_client = 0;
	printf("  %d instances: %zu verdicts (", n, nacks);
	for (int i = 0; i < n; i++)
		printf("%s%lu", i ? " + " : "", atomic_load(&per_inst[i]));
	printf("), %lu failed exchanges\n", atomic_load(&failures));
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(nacks, (size_t)CLIENTS * 6 * n);
	for (int i = 0; i < n; i++)
		assert_true(atomic_load(&per_inst[i]) > 0);
	for (size_t i = 0; i < nacks; i++)
		assert_true(acks[i].passed);

	/* A nonce of instance 0, answered once there, replayed at every instance. */
	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	assert_int_equal(tdc_client_attest(f.addr[0], "alpha", 5000, su_agent_fn, &ag, &res), 0);
	pthread_mutex_lock(&mu);
	acks[nacks].id = (int64_t)res.record;
	memcpy(acks[nacks].nonce, ag.nonce, 32);
	acks[nacks++].passed = res.passed;
	pthread_mutex_unlock(&mu);
	assert_int_equal(replay(f.addr[0], &ag, at_own, sizeof(at_own)), TDC_ERR_NONCE);
	for (int i = 1; i < n; i++) {
		assert_int_equal(replay(f.addr[i], &ag, at_other, sizeof(at_other)), TDC_ERR_NONCE);
		assert_string_equal(at_own, at_other);
	}
	printf("  replay at its own and at %d other instance(s): \"%s\"\n", n - 1, at_own);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
	fleet_stop(&f);
	check_log(true);
}

/* `log` on the shared database as the reader: @extra arguments, output into @out. */
static int log_cli(const char *db, const char *extra, const char *out)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd), "'%s' log --db '%s' %s >'%s' 2>&1", verifier, db, extra, out);
	return su_run(cmd);
}

static void test_fleet_2(void **state)
{
	char db[64], uri[300], out[400], bad[400];

	fleet_of(2);
	/* The CLI on the fleet's log: the reader checks it, a rewritten row shows. */
	snprintf(db, sizeof(db), "%s", strrchr(owner_uri, '/') + 1);
	db[strcspn(db, "?")] = '\0';
	pgu_uri(&pg, "tdc_reader", db, uri, sizeof(uri));
	snprintf(out, sizeof(out), "%s/log.txt", env.dir);
	assert_int_equal(log_cli(uri, "--check --limit 1", out), 0);
	assert_true(file_has(out, "integrity_check: ok"));
	assert_true(file_has(out, "chain: ok: "));
	assert_int_equal(log_cli(uri, "--format json --vm alpha --limit 3", out), 0);
	assert_true(file_has(out, "\"verdict\": \"pass\""));
	assert_int_equal(pgu_admin(&pg, db, "ALTER TABLE verdicts DISABLE TRIGGER verdicts_no_update;"
				   "UPDATE verdicts SET verdict = 'fail' WHERE id = 7"), 0);
	assert_int_equal(log_cli(uri, "--check --limit 1", out), 3);
	assert_true(file_has(out, "chain: BROKEN: row 7:"));
	/* A password in --db: refused, and not repeated. */
	snprintf(bad, sizeof(bad), "postgresql://tdc_reader:reader-pw@127.0.0.1:%d/%s", pg.port, db);
	assert_int_equal(log_cli(bad, "--check", out), 2);
	assert_false(file_has(out, "reader-pw"));
	assert_true(file_has(out, "PGPASSFILE"));
}

static void test_fleet_4(void **state)
{
	fleet_of(4);
}

/* SIGKILL one of two instances under load. */
static void test_fleet_kill9(void **state)
{
	struct fleet f;
	pthread_t th[CLIENTS];
	size_t before;
	unsigned long survivor;

	cur = &f;
	fleet_start(&f, 2, NULL);
	clients_run(th);
	for (int i = 0; i < 1000 && acked() < 150; i++)
		usleep(10000);
	assert_int_equal(su_server_stop(&f.srv[0], SIGKILL), 128 + SIGKILL);
	f.srv[0].pid = 0;
	before = acked();
	survivor = atomic_load(&per_inst[1]);
	/* The other instance keeps serving. */
	for (int i = 0; i < 500 && atomic_load(&per_inst[1]) < survivor + 40; i++)
		usleep(10000);
	clients_join(th);
	printf("  acknowledged before SIGKILL: %zu, after (instance 1): %lu\n", before,
	       atomic_load(&per_inst[1]) - survivor);
	assert_true(before >= 20);
	assert_true(atomic_load(&per_inst[1]) >= survivor + 40);
	fleet_stop(&f);
	check_log(false);
}

/* Stop PostgreSQL under load, start it again. */
static void test_fleet_db_restart(void **state)
{
	struct fleet f;
	pthread_t th[CLIENTS];
	size_t before, during;
	unsigned long fail_before;
	uint64_t t0;
	int down_seen = 0;

	cur = &f;
	fleet_start(&f, 2, NULL);
	clients_run(th);
	for (int i = 0; i < 1000 && acked() < 100; i++)
		usleep(10000);
	assert_int_equal(pgu_stop(&pg), 0);
	before = acked();
	fail_before = atomic_load(&failures);
	/* Both instances notice and refuse, saying why. */
	for (int i = 0; i < 500 && down_seen < 2; i++) {
		down_seen = su_log_count(&env, "audit log unavailable, refusing new exchanges");
		usleep(10000);
	}
	usleep(500000);
	during = acked();
	assert_int_equal(pgu_start_again(&pg), 0);
	t0 = tdc_now_ms();
	/* Both instances serve again by themselves. */
	for (int i = 0; i < 1500 && su_log_count(&env, "audit log reachable again") < 2; i++)
		usleep(10000);
	printf("  before the stop: %zu acknowledged; while down: %zu (%lu failed exchanges); "
	       "both instances back %llu ms after the restart\n", before, during - before,
	       atomic_load(&failures) - fail_before, (unsigned long long)(tdc_now_ms() - t0));
	assert_true(down_seen >= 2);
	assert_true(atomic_load(&failures) > fail_before);
	assert_int_equal(su_log_count(&env, "audit log reachable again"), 2);
	before = acked();
	for (int i = 0; i < 500 && acked() < before + 50; i++)
		usleep(10000);
	clients_join(th);
	assert_true(acked() >= before + 50);
	fleet_stop(&f);
	check_log(false);
}

/* ---- a proxy that can stop forwarding -------------------------------------- */

static atomic_bool stall, proxy_quit;
static int proxy_lfd = -1;

struct pipe_pair {
	int a, b;
};

static void *proxy_pump(void *arg)
{
	struct pipe_pair *pp = arg;
	struct pollfd p[2] = { { .fd = pp->a, .events = POLLIN }, { .fd = pp->b, .events = POLLIN } };
	char buf[8192];
	ssize_t n;

	while (!atomic_load(&proxy_quit)) {
		if (atomic_load(&stall)) {
			/* Holding everything: connections stay open, nothing moves. */
			usleep(20000);
			continue;
		}
		if (poll(p, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			if ((n = recv(p[i].fd, buf, sizeof(buf), 0)) <= 0 ||
			    send(p[1 - i].fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
				goto out;
		}
	}
out:
	close(pp->a);
	close(pp->b);
	free(pp);
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons((uint16_t)pg.port) };
	pthread_t t;

	up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (!atomic_load(&proxy_quit)) {
		struct pollfd p = { .fd = proxy_lfd, .events = POLLIN };
		struct pipe_pair *pp;
		int c, u;

		if (poll(&p, 1, 50) <= 0 || (c = accept(proxy_lfd, NULL, NULL)) < 0)
			continue;
		u = socket(AF_INET, SOCK_STREAM, 0);
		if (u < 0 || connect(u, (struct sockaddr *)&up, sizeof(up)) != 0 ||
		    !(pp = malloc(sizeof(*pp)))) {
			close(c);
			if (u >= 0)
				close(u);
			continue;
		}
		*pp = (struct pipe_pair){ c, u };
		pthread_create(&t, NULL, proxy_pump, pp);
		pthread_detach(t);
	}
	return NULL;
}

static void test_fleet_stall(void **state)
{
	static const char *const extra[] = { "--timeout", "3", "--db-timeout", "1", NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct tdc_client_result res;
	struct su_agent ag = { .env = &env, .claims_vm = "alpha" };
	struct fleet f;
	pthread_t pt;
	char db[64];
	uint64_t t0, took;
	int e, one = 1;

	/* The proxy on a port of its own, the instance's --db through it. */
	proxy_lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(proxy_lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(proxy_lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(proxy_lfd, 16), 0);
	assert_int_equal(getsockname(proxy_lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(pthread_create(&pt, NULL, proxy_main, NULL), 0);
	cur = &f;
	fleet_start(&f, 0, NULL);
	{
		/* fleet_start made the database; point the instance at the proxy. */
		const char *args[16];
		size_t k = 0;

		snprintf(db, sizeof(db), "%s", strrchr(env.db, '/') + 1);
		db[strcspn(db, "?")] = '\0';
		snprintf(env.db, sizeof(env.db), "postgresql://tdc_service@127.0.0.1:%d/%s",
			 ntohs(sa.sin_port), db);
		for (size_t i = 0; fleet_args[i]; i++)
			args[k++] = fleet_args[i];
		for (size_t i = 0; extra[i]; i++)
			args[k++] = extra[i];
		args[k] = NULL;
		assert_int_equal(su_server_start(&env, verifier, args, &f.srv[0]), 0);
		snprintf(f.addr[0], sizeof(f.addr[0]), "%s", f.srv[0].addr);
		f.n = 1;
	}
	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	assert_int_equal(tdc_client_attest(f.addr[0], "alpha", 5000, su_agent_fn, &ag, &res), 0);
	nacks = 1;
	acks[0] = (struct ack){ .id = (int64_t)res.record, .passed = res.passed };
	memcpy(acks[0].nonce, ag.nonce, 32);

	/* Stalled: the exchange ends (refused) within the agent's deadline. */
	atomic_store(&stall, true);
	t0 = tdc_now_ms();
	e = tdc_client_attest(f.addr[0], "alpha", 6000, su_agent_fn, &ag, &res);
	took = tdc_now_ms() - t0;
	printf("  stalled database: exchange ended after %llu ms: %s\n", (unsigned long long)took,
	       e ? tdc_errdetail() : "verdict (!)");
	assert_int_not_equal(e, 0);
	assert_true(took < 3500);               /* --db-timeout 1 s, --timeout 3 s */
	assert_non_null(strstr(tdc_errdetail(), "audit log unavailable"));
	/* The next one is refused at once, with the reason. */
	t0 = tdc_now_ms();
	e = tdc_client_attest(f.addr[0], "alpha", 6000, su_agent_fn, &ag, &res);
	took = tdc_now_ms() - t0;
	assert_int_equal(e, TDC_ERR_BUSY); /* nothing judged: try later (exit 75) */
	assert_true(took < 1000);
	assert_non_null(strstr(tdc_errdetail(), "not accepting exchanges"));

	/* Forwarding again: the instance recovers by itself. */
	atomic_store(&stall, false);
	t0 = tdc_now_ms();
	for (int i = 0; i < 100; i++) {
		if ((e = tdc_client_attest(f.addr[0], "alpha", 5000, su_agent_fn, &ag, &res)) == 0)
			break;
		usleep(100000);
	}
	printf("  proxy forwarding again: serving after %llu ms\n",
	       (unsigned long long)(tdc_now_ms() - t0));
	assert_int_equal(e, 0);
	acks[nacks] = (struct ack){ .id = (int64_t)res.record, .passed = res.passed };
	memcpy(acks[nacks++].nonce, ag.nonce, 32);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
	fleet_stop(&f);
	atomic_store(&proxy_quit, true);
	pthread_join(pt, NULL);
	close(proxy_lfd);
	check_log(false);
}

/* Run ingest with @nonce on the shared log; its exit status, stderr into @err. */
static pid_t ingest_start(const char *armor, const char *nonce, const char *err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execl(verifier, verifier, "ingest", "--serial-log", armor, "--nonce", nonce,
		      "--registry", env.reg, "--vm", "fleet", "--db", env.db, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int ingest_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/*
 * The nonce travels on the kernel command line, so two verifier hosts can
 * be handed the same boot's evidence: two ingests racing on the shared log
 * (two instances), one wins, the other is refused as a replay by the UNIQUE
 * nonce in the verdict's own transaction, and so is a third one later.
 */
static void test_fleet_ingest_race(void **state)
{
	struct fleet f;
	char armor[400], cmd[1400], nonce[65], e1[400], e2[400], e3[400];
	uint8_t raw[32];
	pid_t a, b;
	int ra, rb, rc;

	/* The agent's sim evidence carries a quote without collateral: waived by name. */
	snprintf(armor, sizeof(armor), "%s/fleet-policy.json", env.dir);
	assert_int_equal(su_write(armor, "{\"version\":1,\"name\":\"test-fleet\",\"allow_simulated\""
				  ":true,\"require_tcb\":false,\"fail_on\":[\"mismatch\"]}\n"), 0);
	snprintf(cmd, sizeof(cmd), ",\"policy\":\"%s\"", armor);
	assert_int_equal(su_vm(&env, "fleet", cmd), 0);
	cur = &f;
	fleet_start(&f, 0, NULL);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(RAND_bytes(raw, sizeof(raw)), 1);
		tdc_hex_encode(raw, sizeof(raw), nonce);
		snprintf(armor, sizeof(armor), "%s/armor-%d.txt", env.dir, round);
		snprintf(cmd, sizeof(cmd), "'%s' evidence --tee sim --sim-dir '%s' --nonce %s "
			 "--vm-name fleet --serial '%s' 2>/dev/null", getenv("TDC_AGENT"), env.sim,
			 nonce, armor);
		assert_int_equal(su_run(cmd), 0);
		snprintf(e1, sizeof(e1), "%s/ingest-a.txt", env.dir);
		snprintf(e2, sizeof(e2), "%s/ingest-b.txt", env.dir);
		snprintf(e3, sizeof(e3), "%s/ingest-c.txt", env.dir);
		a = ingest_start(armor, nonce, e1);
		b = ingest_start(armor, nonce, e2);
		ra = ingest_wait(a);
		rb = ingest_wait(b);
		rc = ingest_wait(ingest_start(armor, nonce, e3));
		if (!((ra == 0) ^ (rb == 0)))
			fail_msg("round %d: exit %d and %d, expected exactly one 0", round, ra, rb);
		assert_true(rc >= 2);
		assert_true(file_has(ra ? e1 : e2, "nonce already recorded"));
		assert_true(file_has(e3, "nonce already recorded"));
	}
	printf("  3 races of two ingests on one boot's nonce: one verdict each, replays refused\n");
	nacks = 0;
	check_log(false);
	assert_int_equal(last_verdict_rows, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fleet_2),
		cmocka_unit_test(test_fleet_4),
		cmocka_unit_test(test_fleet_kill9),
		cmocka_unit_test(test_fleet_db_restart),
		cmocka_unit_test(test_fleet_stall),
		cmocka_unit_test(test_fleet_ingest_race),
	};
	char why[256];
	int r;

	verifier = getenv("TDC_VERIFIER");
	if (!verifier || !getenv("TDC_AGENT"))
		tdc_test_skip("TDC_VERIFIER/TDC_AGENT not set (run through ctest)");
	if ((r = pgu_start(&pg, why, sizeof(why))) == 77)
		tdc_test_skip("%s", why);
	if (r != 0) {
		fprintf(stderr, "PostgreSQL: %s\n", why);
		return 1;
	}
	if (su_env_setup(&env, getenv("TDC_AGENT")) != 0 || !(acks = calloc(MAX_ACKS, sizeof(*acks)))) {
		fprintf(stderr, "setup failed: %s\n", tdc_errdetail());
		pgu_destroy(&pg);
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	su_env_teardown(&env);
	pgu_destroy(&pg);
	free(acks);
	return r;
}
