// SPDX-License-Identifier: Apache-2.0
/*
 * bench_serve: attestations per second through `tdcpuid-verifier serve`
 * (loopback TCP, full engine, SQLite audit log with synchronous=FULL),
 * with N concurrent in-process agents answering each nonce with fresh
 * simulated evidence — side by side with the single-core verification
 * rate measured in the same run (the same registry entry, the same engine
 * call the workers make, in a loop on one thread).
 *
 *   ratio = service throughput / single-core verification rate
 *
 * The clients share the machine with the server: their evidence
 * generation (sim TDREPORT, and with -q two ECDSA signatures for the quote)
 * is measured too and printed, since on 2 cores it is paid from the same
 * CPU budget.
 *
 * With --attack the same server alternates clean phases with phases under
 * attack (ATTACK_ROUNDS of each, after an unmeasured warm-up, COUNT split
 * among them): 100 slowloris connections (10 from each of 10 loopback
 * peers 127.0.9.x, dribbling a header byte now and then, reopened when
 * closed) and a connection churn from one more peer (127.0.10.1) as fast
 * as it can; it prints honest throughput and p99 of both sides.  Honest
 * agents connect from addresses of their own (127.0.1.1 - 127.0.4.250), as
 * TDs are peers of their own.
 *
 * With --rest the same server also listens on http:// and the run alternates
 * framed rounds with REST rounds (ATTACK_ROUNDS of each after a warm-up of
 * both): the same agents, each a libcurl client on a kept-alive HTTP/1.1
 * connection from a loopback peer of its own (127.0.5.x), doing what a
 * pipeline does per attestation: POST newSession, POST the evidence, DELETE
 * the session (docs/rest.md).  It prints REST throughput and its ratio to
 * the framed rounds (target >= 0.8).
 *
 * With --fleet the audit log is PostgreSQL (docs/deploy.md): COUNT attestations
 * each through one SQLite instance (the baseline), then 1, 2 and 4 instances
 * on one PostgreSQL database, agents spread over the instances, in the same
 * run; per configuration throughput, p50/p99 and the servers' CPU per
 * attestation next to verification alone (the machine-independent figure).
 * The database is a throwaway cluster started for the run (tests/pg_util.h)
 * unless --db names one (a database prepared as docs/deploy.md says).
 *
 * With --clients the same server serves 1, 8, 64 and 512 concurrent agents in
 * turn (client_sweep): per count throughput against the best count's, p50/p99
 * against the agents' deadline and the server's CPU per attestation.
 *
 * Usage: bench_serve [-c CLIENTS] [-n COUNT] [-w WORKERS] [-r] [-f json|ear] [--attack] [--rest]
 *                    [--fleet [--db postgresql://...]] [--clients]
 *   defaults: 32 clients (enough to keep both workers busy while earlier
 *   verdicts wait for their group-commit fsync), 3000 attestations,
 *   2 workers, TDREPORT+Quote evidence (-r: TDREPORT only, its policy waiving
 *   require_quote by name, a check of
 *   ~150 us where per-connection costs dominate), EAR verdicts (4 KB; the JSON verdict lists every bit, ~240 KB,
 *   and then the clients' decoding takes a visible share of the 2 cores)
 *   TDC_VERIFIER: the tdcpuid-verifier binary (default: next to this build)
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "../tests/serve_util.h"
#include "../tests/pg_util.h"
#include "service.h"
#include "tdcpuid/rest.h"

static struct su_env env;
static char addr[TDC_ADDR_MAX];
/* --fleet: the instances, agents spread over them (ticket modulo). */
#define FLEET_MAX 4
static char fleet_addr[FLEET_MAX][TDC_ADDR_MAX];
static int fleet_n;
static atomic_long next_ticket;
static long total;
static bool with_quote;
static double *lat;         /* seconds, one per attestation */
static atomic_long nerrors, nfailed;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "bench_serve: %s: %s\n", what, r ? tdc_errmsg(r) : "failed");
	exit(1);
}

static bool basic_mode;

static void *client(void *arg)
{
	struct tdc_client_result res;
	struct su_agent ag = { .env = &env, .claims_vm = "alpha", .with_quote = with_quote };
	char src[32];
	long t;
	double t0;
	int r;

	(void)arg;
	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	while ((t = atomic_fetch_add(&next_ticket, 1)) < total) {
		/* Each attestation from one of 1000 peers (127.0.1.1 - 127.0.4.250), as
		 * TDs are peers of their own and attest now and then, not 50 times a
		 * second each, which the per-peer rate limit would refuse. */
		snprintf(src, sizeof(src), "127.0.%ld.%ld", 1 + t % 1000 / 250, t % 250 + 1);
		t0 = now();
		r = su_attest_from(src, fleet_n ? fleet_addr[t % fleet_n] : addr, "alpha", 30000,
				   su_agent_fn, &ag, &res);
		lat[t] = now() - t0;
		if (r) {
			atomic_fetch_add(&nerrors, 1);
			if (atomic_load(&nerrors) <= 3)
				fprintf(stderr, "bench_serve: exchange %ld: %s\n", t, tdc_errmsg(r));
		} else if (!res.passed && !basic_mode) { /* basic verdicts never pass */
			atomic_fetch_add(&nfailed, 1);
		}
	}
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
	return NULL;
}

/* ---- the REST client (--rest) ----------------------------------------------- */

static char http_base[TDC_ADDR_MAX];

static size_t rest_body(char *p, size_t sz, size_t n, void *arg)
{
	return tdc_rest_body_add(arg, p, sz * n, TDC_REST_SESSION_MAX) == 0 ? sz * n : 0;
}

/* One request on the thread's kept-alive connection; the HTTP status, or -1. */
static long rest_call(CURL *c, const char *method, const char *url, const struct tdc_buf *ev,
		      struct curl_slist *hdr, struct tdc_buf *out)
{
	long st = -1;

	tdc_buf_reset(out);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, ev ? hdr : NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, ev ? (const char *)ev->data : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(ev ? ev->len : 0));
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	return st;
}

/* newSession, evidence, DELETE: one attestation as a pipeline makes it. */
static int rest_attest(CURL *c, struct su_agent *ag, struct curl_slist *hdr,
		       struct tdc_buf *out, bool *passed)
{
	struct tdc_rest_session s;
	struct curl_header *loc;
	struct tdc_buf ev;
	char url[TDC_ADDR_MAX + 128], sess[TDC_ADDR_MAX + 128];
	int r = TDC_ERR_PROTOCOL;

	tdc_rest_session_init(&s);
	tdc_buf_init(&ev);
	snprintf(url, sizeof(url), "%s" TDC_REST_NEW_SESSION "?nonceSize=32&vm=alpha", http_base);
	if (rest_call(c, "POST", url, NULL, hdr, out) != 201 ||
	    curl_easy_header(c, "Location", 0, CURLH_HEADER, -1, &loc) != CURLHE_OK)
		goto out;
	snprintf(sess, sizeof(sess), "%s%s", http_base, loc->value);
	if ((r = tdc_rest_session_parse(out->data, out->len, &s)) != 0 ||
	    (r = su_agent_fn(ag, s.nonce, s.nonce_len, &ev)) != 0)
		goto out;
	tdc_rest_session_free(&s);
	tdc_rest_session_init(&s);
	r = TDC_ERR_PROTOCOL;
	if (rest_call(c, "POST", sess, &ev, hdr, out) != 200 ||
	    tdc_rest_session_parse(out->data, out->len, &s) != 0 || !s.has_passed)
		goto out;
	*passed = s.passed;
	r = rest_call(c, "DELETE", sess, NULL, hdr, out) == 204 ? 0 : TDC_ERR_PROTOCOL;
out:
	tdc_rest_session_free(&s);
	tdc_buf_free(&ev);
	return r;
}

static void *rest_client(void *arg)
{
	struct su_agent ag = { .env = &env, .claims_vm = "alpha", .with_quote = with_quote };
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: " TDC_REST_MT_EVIDENCE);
	CURL *c = curl_easy_init();
	struct tdc_buf out;
	char src[32];
	bool passed = false;
	long t;
	double t0;
	int r;

	tdc_buf_init(&ag.last);
	tdc_buf_init(&out);
	/* One peer per client, its connection kept alive across attestations. */
	snprintf(src, sizeof(src), "127.0.5.%u", (unsigned)(uintptr_t)arg % 250 + 1);
	curl_easy_setopt(c, CURLOPT_INTERFACE, src);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rest_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	hdr = curl_slist_append(hdr, "Expect:");
	while ((t = atomic_fetch_add(&next_ticket, 1)) < total) {
		t0 = now();
		r = rest_attest(c, &ag, hdr, &out, &passed);
		lat[t] = now() - t0;
		if (r) {
			atomic_fetch_add(&nerrors, 1);
			if (atomic_load(&nerrors) <= 3)
				fprintf(stderr, "bench_serve: REST exchange %ld: %s %.200s\n", t,
					tdc_errmsg(r), tdc_buf_cstr(&out));
		} else if (!passed && !basic_mode) {
			atomic_fetch_add(&nfailed, 1);
		}
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	tdc_buf_free(&out);
	tdc_buf_free(&ag.last);
	return NULL;
}

static double cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct vloop {
	const struct tdc_vm_entry *vm;
	const struct tdc_buf *ev;
	const uint8_t *nonce;
	double secs;
	long n;
	double t;
	double cpu;             /* this thread's CPU seconds for the n calls */
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU per verification of the last verify_rate(1, ...): immune to other load. */
static double verify_cpu_us;

/* The workers' exact call, in a loop, for at least @secs. */
static void *verify_loop(void *arg)
{
	struct vloop *l = arg;
	struct tdc_verify_out out;
	double t0 = now(), c0 = thread_cpu();
	int r;

	memset(&out, 0, sizeof(out));
	tdc_buf_init(&out.doc);
	do {
		memset(out.failing, 0, sizeof(out.failing));
		out.detail[0] = '\0';
		if ((r = tdc_verifier_engine.verify(NULL, l->vm, l->ev->data, l->ev->len, l->nonce,
						     TDC_NONCE_LEN, 0, &out)) != 0)
			die("verify", r);
		if (!out.passed)
			die("verify: the honest evidence does not pass", 0);
		l->n++;
		l->t = now() - t0;
	} while (l->t < l->secs);
	l->cpu = thread_cpu() - c0;
	tdc_buf_free(&out.doc);
	return NULL;
}

/*
 * Verification rate of @nthreads in-process threads (1: the single-core
 * baseline; the worker count: what this machine can give right now, which
 * on a shared 2-core host may be much less than twice the single rate).
 */
static double verify_rate(unsigned nthreads, double secs, double *gen_us)
{
	struct tdc_registry *reg;
	const struct tdc_vm_entry *vm;
	uint8_t nonce[TDC_NONCE_LEN] = { 1, 2, 3 };
	struct vloop l[16];
	pthread_t th[16];
	struct tdc_buf ev;
	double t0, rate = 0;
	int r;

	if (nthreads > 16)
		nthreads = 16;
	tdc_buf_init(&ev);
	if ((r = tdc_registry_load(env.reg, &tdc_verifier_engine, NULL, &reg)) != 0)
		die("registry", r);
	if (!(vm = tdc_registry_by_name(reg, "alpha")))
		die("registry: no alpha", 0);
	/* Client-side cost of one evidence, for the record. */
	t0 = now();
	for (int i = 0; i < 50; i++) {
		tdc_buf_reset(&ev);
		if ((r = su_evidence(&env, nonce, sizeof(nonce), "alpha", with_quote, &ev)) != 0)
			die("evidence", r);
	}
	*gen_us = (now() - t0) / 50 * 1e6;
	for (unsigned i = 0; i < nthreads; i++) {
		l[i] = (struct vloop){ .vm = vm, .ev = &ev, .nonce = nonce, .secs = secs };
		pthread_create(&th[i], NULL, verify_loop, &l[i]);
	}
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		rate += (double)l[i].n / l[i].t;
	}
	if (nthreads == 1)
		verify_cpu_us = l[0].cpu / (double)l[0].n * 1e6;
	tdc_registry_put(reg);
	tdc_buf_free(&ev);
	return rate;
}

static double single_core_rate(double secs, double *gen_us)
{
	return verify_rate(1, secs, gen_us);
}

static const char *verifier_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (getenv("TDC_VERIFIER"))
		return getenv("TDC_VERIFIER");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	/* build/bench/bench_serve -> build/verifier/tdcpuid-verifier */
	snprintf(buf, len, "%s/../verifier/tdcpuid-verifier", dirname(exe));
	return buf;
}

struct phase {
	long n;                 /* attestations so far, latencies in pool[0..n) */
	double *pool;
	double elapsed, thr, p50, p99;
	long errors;
	double srv_cpu, cli_cpu; /* seconds spent in this phase's rounds */
};

static pid_t srv_pid;

/* The server's CPU time so far (utime + stime of /proc/PID/stat). */
static double srv_cpu_now(void)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)srv_pid);
	if (!srv_pid || !(f = fopen(path, "r")))
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* fields after the name: state(3) ... utime(14) stime(15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* @n more honest attestations by @clients agents into @ph. */
static void run_phase_with(void *(*fn)(void *), unsigned clients, long n, struct phase *ph)
{
	pthread_t *th = calloc(clients, sizeof(*th));
	double t0, s0 = srv_cpu_now();
	long e0 = atomic_load(&nerrors);
	struct rusage r0, r1;

	if (!th)
		die("alloc", TDC_ERR_ALLOC);
	getrusage(RUSAGE_SELF, &r0);
	total = n;
	lat = ph->pool + ph->n;
	atomic_store(&next_ticket, 0);
	t0 = now();
	for (unsigned i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, fn, (void *)(uintptr_t)i);
	for (unsigned i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	ph->elapsed += now() - t0;
	getrusage(RUSAGE_SELF, &r1);
	ph->srv_cpu += srv_cpu_now() - s0;
	ph->cli_cpu += cpu_s(&r1) - cpu_s(&r0);
	free(th);
	ph->n += n;
	ph->errors += atomic_load(&nerrors) - e0;
}

static void run_phase(unsigned clients, long n, struct phase *ph)
{
	run_phase_with(client, clients, n, ph);
}

/* Throughput and percentiles over every round of @ph. */
static void finish_phase(struct phase *ph)
{
	qsort(ph->pool, (size_t)ph->n, sizeof(*ph->pool), cmp_double);
	ph->thr = (double)ph->n / ph->elapsed;
	ph->p50 = ph->pool[ph->n / 2] * 1e3;
	ph->p99 = ph->pool[(ph->n * 99) / 100] * 1e3;
}

#define SLOW_PEERS 10
#define SLOW_PER_PEER 10
/*
 * With --attack: rounds of clean and attacked phases, alternating, after
 * an unmeasured warm-up, so the drift of a shared machine (and the first
 * connections' costs) land on both sides alike; percentiles are over all
 * rounds of a side.
 */
#define ATTACK_ROUNDS 3

struct attack {
	struct su_attacker slow[SLOW_PEERS], churn;
	char src[SLOW_PEERS][32];
	pthread_t slow_th[SLOW_PEERS], churn_th;
	atomic_bool stop;
	long made, churned, hellos, refused;   /* over every round */
};

static void attack_start(struct attack *a)
{
	atomic_store(&a->stop, false);
	for (int i = 0; i < SLOW_PEERS; i++) {
		snprintf(a->src[i], sizeof(a->src[i]), "127.0.9.%d", i + 1);
		a->slow[i] = (struct su_attacker){ .addr = addr, .src = a->src[i], .max = LONG_MAX,
						   .until = tdc_now_ms() + 600000, .stop = &a->stop,
						   .hold = SLOW_PER_PEER };
		pthread_create(&a->slow_th[i], NULL, su_slowloris_main, &a->slow[i]);
	}
	a->churn = (struct su_attacker){ .addr = addr, .src = "127.0.10.1", .max = LONG_MAX,
					 .until = tdc_now_ms() + 600000, .stop = &a->stop };
	pthread_create(&a->churn_th, NULL, su_churn_main, &a->churn);
	/* The slowloris connections are all in place before the agents come. */
	for (int k = 0; k < 300; k++) {
		long held = 0;

		for (int i = 0; i < SLOW_PEERS; i++)
			held += a->slow[i].conns;
		if (held >= SLOW_PEERS * SLOW_PER_PEER)
			break;
		usleep(10000);
	}
}

static void attack_stop(struct attack *a)
{
	atomic_store(&a->stop, true);
	for (int i = 0; i < SLOW_PEERS; i++) {
		pthread_join(a->slow_th[i], NULL);
		a->made += a->slow[i].conns;
	}
	pthread_join(a->churn_th, NULL);
	a->churned += a->churn.conns;
	a->hellos += a->churn.hellos;
	a->refused += a->churn.refused;
}

/* The server's http:// address: the second line of its ready file. */
static int rest_base(const struct su_env *e, char *out, size_t cap)
{
	char line[TDC_ADDR_MAX + 16];
	FILE *f = fopen(e->ready, "r");
	int r = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "http://", 7)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, cap, "%s", line);
			r = 0;
		}
	if (f)
		fclose(f);
	return r;
}

/* ---- --fleet ------------------------------------------------------------------ */

static char fr_vpath[PATH_MAX + 64];

struct fleet_run {
	const char *name;
	int instances;
	bool pg;
	struct su_server srv[FLEET_MAX];
	char addr[FLEET_MAX][TDC_ADDR_MAX];
	long done;              /* attestations served, warm-up included */
	struct phase ph;
	double srv_cpu;         /* seconds, every instance */
	int exit_status;
};

/* Start @fr->instances servers on @db. */
static void fleet_up(struct fleet_run *fr, const char *db, const char *const *extra)
{
	snprintf(env.db, sizeof(env.db), "%s", db);
	for (int i = 0; i < fr->instances; i++) {
		if (su_server_start(&env, verifier_path(fr_vpath, sizeof(fr_vpath)), extra,
				    &fr->srv[i]) != 0)
			die("serve did not start", 0);
		snprintf(fr->addr[i], sizeof(fr->addr[i]), "%s", fr->srv[i].addr);
	}
}

/* @n attestations spread over @fr's instances, into @ph. */
static void fleet_phase(struct fleet_run *fr, unsigned clients, long n, struct phase *ph)
{
	for (int i = 0; i < fr->instances; i++)
		snprintf(fleet_addr[i], sizeof(fleet_addr[i]), "%s", fr->addr[i]);
	fleet_n = fr->instances;
	run_phase(clients, n, ph);
	fleet_n = 0;
	fr->done += n;
}

/* Stop the servers: their CPU time, all of it spent on fr->done attestations. */
static void fleet_down(struct fleet_run *fr)
{
	struct rusage ru;
	int st;

	for (int i = 0; i < fr->instances; i++) {
		kill(fr->srv[i].pid, SIGTERM);
		if (wait4(fr->srv[i].pid, &st, 0, &ru) != fr->srv[i].pid)
			die("wait4", 0);
		su_track(fr->srv[i].pid, false);
		fr->srv_cpu += cpu_s(&ru);
		fr->exit_status |= WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}

#define FLEET_ROUNDS 3

static int fleet_main(unsigned clients, unsigned workers, long n, const char *db_arg,
		      const char *format)
{
	struct fleet_run runs[] = {
		{ .name = "SQLite, 1 instance", .instances = 1 },
		{ .name = "PostgreSQL, 1 instance", .instances = 1, .pg = true },
		{ .name = "PostgreSQL, 2 instances", .instances = 2, .pg = true },
		{ .name = "PostgreSQL, 4 instances", .instances = 4, .pg = true },
	};
	char wbuf[16], why[256], db[64], uri[300], sqlite_db[300];
	const char *extra[] = { "--workers", wbuf, "--max-conns", "512", "--timeout", "60", NULL };
	static struct pgu pg;
	size_t nruns = sizeof(runs) / sizeof(runs[0]);
	long w = n / 10 > (long)clients ? n / 10 : (long)clients;
	struct phase warm = { 0 };
	double single, gen_us, vcpu;
	bool own = !db_arg;
	int r, bad = 0;

	snprintf(wbuf, sizeof(wbuf), "%u", workers);
	snprintf(sqlite_db, sizeof(sqlite_db), "%s", env.db);
	if (own && (r = pgu_start(&pg, why, sizeof(why))) != 0) {
		fprintf(stderr, "bench_serve --fleet: PostgreSQL: %s\n", why);
		return r == 77 ? 77 : 1;
	}
	single = single_core_rate(2.0, &gen_us);
	vcpu = verify_cpu_us;
	for (size_t i = 0; i < nruns; i++) {
		if (runs[i].pg && own) {
			if (pgu_new_db(&pg, db, sizeof(db)) != 0)
				die("new database", 0);
			pgu_uri(&pg, "tdc_service", db, uri, sizeof(uri));
		} else if (runs[i].pg) {
			snprintf(uri, sizeof(uri), "%s", db_arg);
		}
		fleet_up(&runs[i], runs[i].pg ? uri : sqlite_db, extra);
		if (!(runs[i].ph.pool = calloc((size_t)n, sizeof(double))) ||
		    !(warm.pool = realloc(warm.pool, (size_t)(warm.n + w) * sizeof(double))))
			die("alloc", TDC_ERR_ALLOC);
		fleet_phase(&runs[i], clients, w, &warm);
	}
	/*
	 * Rounds over every configuration, the order reversed each round, so
	 * the drift of a shared machine lands on all of them alike.
	 */
	for (int round = 0; round < FLEET_ROUNDS; round++)
		for (size_t k = 0; k < nruns; k++) {
			size_t i = round % 2 ? nruns - 1 - k : k;
			long per = round == FLEET_ROUNDS - 1 ? n - n / FLEET_ROUNDS * (FLEET_ROUNDS - 1)
							   : n / FLEET_ROUNDS;

			fleet_phase(&runs[i], clients, per, &runs[i].ph);
		}
	for (size_t i = 0; i < nruns; i++) {
		fleet_down(&runs[i]);
		finish_phase(&runs[i].ph);
	}
	free(warm.pool);
	single = (single + single_core_rate(2.0, &gen_us)) / 2;
	vcpu = (vcpu + verify_cpu_us) / 2;
	printf("bench_serve --fleet: %ld attestations per configuration in %d rounds alternating "
	       "over the configurations (after a warm-up of each), %u "
	       "clients, %u workers per instance, %s evidence, %s verdicts, %ld cpus online, "
	       "PostgreSQL %s\n", n, FLEET_ROUNDS, clients, workers, with_quote ? "TDREPORT+quote" : "TDREPORT-only",
	       format, sysconf(_SC_NPROCESSORS_ONLN), own ? "started for this run (fsync on, "
	       "synchronous_commit on)" : "given by --db");
	printf("  verification alone (one thread, in process): %.0f us CPU per attestation (%.0f /s "
	       "wall on this shared machine); client evidence generation %.0f us (same CPUs)\n",
	       vcpu, single, gen_us);
	for (size_t i = 0; i < nruns; i++) {
		struct fleet_run *fr = &runs[i];
		double per = fr->srv_cpu / (double)fr->done * 1e6;

		printf("  %-24s %6.0f /s (%.2fx SQLite), p50 %6.2f ms, p99 %7.2f ms, server CPU "
		       "%5.0f us/attestation (%.2fx verification alone), errors %ld\n", fr->name,
		       fr->ph.thr, fr->ph.thr / runs[0].ph.thr, fr->ph.p50, fr->ph.p99, per,
		       per / vcpu, fr->ph.errors);
		bad |= fr->exit_status || fr->ph.errors;
		free(fr->ph.pool);
	}
	if (own)
		pgu_destroy(&pg);
	return bad || atomic_load(&nfailed) ? 1 : 0;
}

/*
 * --clients: how throughput and latency hold as concurrency grows (issue 17):
 * 1, 8, 64 and 512 agents on the same server, SWEEP_ROUNDS rounds of each
 * count in turn after a warm-up, so drift on a shared machine hits every
 * count alike.  No collapse means every count's throughput within 20 % of
 * the best one's and p99 well inside the agents' deadline (su_attest_from,
 * 30 s), without errors.
 */
#define SWEEP_ROUNDS 2
#define SWEEP_DEADLINE_MS 30000

static int client_sweep(long n)
{
	static const unsigned counts[] = { 1, 8, 64, 512 };
	enum { NC = sizeof(counts) / sizeof(counts[0]) };
	struct phase ph[NC] = { { 0 } }, warm = { 0 };
	long per = n / (NC * SWEEP_ROUNDS), m[NC];
	double best = 0, worst = 1e300, p99max = 0;
	unsigned at_worst = 0, at_p99 = 0;
	int kbest = 0;
	long errors = 0;

	for (int k = 0; k < NC; k++) {
		/* Every agent attests at least twice a round: not only its start-up. */
		m[k] = per > 2 * (long)counts[k] ? per : 2 * (long)counts[k];
		if (!(ph[k].pool = calloc((size_t)(m[k] * SWEEP_ROUNDS), sizeof(double))))
			die("alloc", TDC_ERR_ALLOC);
	}
	if (!(warm.pool = calloc(256, sizeof(double))))
		die("alloc", TDC_ERR_ALLOC);
	run_phase(64, 256, &warm);
	for (int round = 0; round < SWEEP_ROUNDS; round++)
		for (int k = 0; k < NC; k++)
			run_phase(counts[k], m[k], &ph[k]);
	for (int k = 0; k < NC; k++) {
		finish_phase(&ph[k]);
		if (ph[k].thr > best) {
			best = ph[k].thr;
			kbest = k;
		}
	}
	printf("bench_serve --clients: %d rounds of 1, 8, 64, 512 concurrent agents in turn, "
	       "%s evidence, %ld cpus online\n", SWEEP_ROUNDS,
	       with_quote ? "TDREPORT+quote" : "TDREPORT-only", sysconf(_SC_NPROCESSORS_ONLN));
	for (int k = 0; k < NC; k++) {
		printf("  clients %4u: %6.0f /s (%.2fx best) over %ld attestations, p50 %8.2f ms, "
		       "p99 %8.2f ms, errors %ld, server CPU %.0f us/attestation\n", counts[k],
		       ph[k].thr, ph[k].thr / best, ph[k].n, ph[k].p50, ph[k].p99, ph[k].errors,
		       ph[k].srv_cpu / (double)ph[k].n * 1e6);
		/* Fewer agents than it takes to fill the workers are bound by their
		 * own round trips (Little's law): a collapse is a drop past the best. */
		if (k >= kbest && ph[k].thr < worst) {
			worst = ph[k].thr;
			at_worst = counts[k];
		}
		if (ph[k].p99 > p99max) {
			p99max = ph[k].p99;
			at_p99 = counts[k];
		}
		errors += ph[k].errors;
		free(ph[k].pool);
	}
	printf("client scaling: best %.0f /s at %u clients; from there to %u clients lowest %.2fx "
	       "best (%u clients; target >= 0.8); highest p99 %.2f ms (%u clients; deadline %d ms); "
	       "errors %ld%s\n", best, counts[kbest], counts[NC - 1], worst / best, at_worst,
	       p99max, at_p99, SWEEP_DEADLINE_MS, errors,
	       worst / best >= 0.8 && p99max < SWEEP_DEADLINE_MS && !errors ? "" : " (COLLAPSE)");
	free(warm.pool);
	return errors || atomic_load(&nfailed) ? 1 : 0;
}

int main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "attack", no_argument, NULL, 'A' },
		{ "rest", no_argument, NULL, 'R' },
		{ "fleet", no_argument, NULL, 'F' },
		{ "db", required_argument, NULL, 'D' },
		{ "clients", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned clients = 32, workers = 2;
	const char *format = "ear";
	char fmt[512];
	char wbuf[16], vpath[PATH_MAX + 64], ppath[PATH_MAX];
	const char *verifier;
	struct su_server srv;
	double single, par, gen_us;
	struct rusage ru0, ru1, srv_ru;
	struct phase base = { 0 }, hit = { 0 }, warm = { 0 }, rest = { 0 };
	static struct attack atk;
	bool attack = false, with_rest = false, fleet = false, sweep = false;
	const char *db_arg = NULL;
	long n = 3000;
	int o, r, st;

	with_quote = true;
	while ((o = getopt_long(argc, argv, "c:n:w:qrf:", lopts, NULL)) != -1) {
		switch (o) {
		case 'c': clients = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'w': workers = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'q': with_quote = true; break;
		case 'r': with_quote = false; break;
		case 'f': format = optarg; break;
		case 'A': attack = true; break;
		case 'R': with_rest = true; break;
		case 'F': fleet = true; break;
		case 'D': db_arg = optarg; break;
		case 'S': sweep = true; break;
		default:
			fprintf(stderr, "usage: bench_serve [-c CLIENTS] [-n COUNT] [-w WORKERS] [-r] "
				"[-f json|ear] [--attack] [--rest] [--fleet [--db postgresql://...]] "
				"[--clients]\n");
			return 2;
		}
	}
	if (!clients || n <= 0 || !workers || !(verifier = verifier_path(vpath, sizeof(vpath))) ||
	    access(verifier, X_OK) != 0) {
		fprintf(stderr, "bench_serve: bad arguments or no verifier binary (set TDC_VERIFIER)\n");
		return 2;
	}
	if ((r = su_env_setup(&env, NULL)) != 0)
		die("setup", r);
	/*
	 * Sim quotes have no Intel collateral: the TCB waiver is named, as in the
	 * sim tests.  -r measures TDREPORT-only evidence, which require_quote
	 * fails by design (it authenticates nothing off-platform): that waiver
	 * is named too, so the honest evidence still passes.
	 */
	snprintf(ppath, sizeof(ppath), "%s/bench-policy.json", env.dir);
	if (su_write(ppath, with_quote ?
		     "{\"version\":1,\"name\":\"bench-sim\",\"allow_simulated\":true,"
		     "\"require_tcb\":false,\"fail_on\":[\"mismatch\"]}\n" :
		     "{\"version\":1,\"name\":\"bench-sim\",\"allow_simulated\":true,"
		     "\"require_tcb\":false,\"require_quote\":false,\"fail_on\":[\"mismatch\"]}\n")
	    != 0)
		die("policy", 0);
	snprintf(fmt, sizeof(fmt), ",\"policy\":\"%s/bench-policy.json\",\"format\":\"%s\"",
		 env.dir, format);
	if (su_vm(&env, "alpha", fmt) != 0)
		die("registry entry", 0);
	if (fleet || db_arg) {
		r = fleet_main(clients, workers, n, db_arg, format);
		su_env_teardown(&env);
		return r;
	}
	single = single_core_rate(2.0, &gen_us);
	double vcpu = verify_cpu_us;

	snprintf(wbuf, sizeof(wbuf), "%u", workers);
	/* TDC_BENCH_CHECKS=basic measures the service machinery alone. */
	const char *checks = getenv("TDC_BENCH_CHECKS") ? getenv("TDC_BENCH_CHECKS") : "engine";
	basic_mode = !strcmp(checks, "basic");
	/* Default per-peer limits: what a deployment gets.  Basic mode is fast
	 * enough for one agent to exceed 20 new connections a second. */
	/* Room for --clients' 512 agents and the connections they just closed. */
	const char *extra[] = { "--workers", wbuf, "--max-conns", "1024", "--timeout", "60",
				"--checks", checks, "--listen", "http://127.0.0.1:0",
				basic_mode ? "--peer-rate" : NULL, "1000", NULL };
	if (su_server_start(&env, verifier, extra, &srv) != 0)
		die("serve did not start", 0);
	snprintf(addr, sizeof(addr), "%s", srv.addr);
	srv_pid = srv.pid;
	if (rest_base(&env, http_base, sizeof(http_base)) != 0)
		die("serve wrote no http:// address", 0);
	if (attack && with_rest)
		die("--attack and --rest: one at a time", 0);
	if (sweep) {
		r = client_sweep(n);
		su_server_stop(&srv, SIGTERM);
		su_env_teardown(&env);
		return r;
	}
	base.pool = calloc((size_t)n, sizeof(double));
	hit.pool = calloc((size_t)n, sizeof(double));
	rest.pool = calloc((size_t)n, sizeof(double));
	warm.pool = calloc((size_t)n, sizeof(double));
	if (!base.pool || !hit.pool || !warm.pool || !rest.pool)
		die("alloc", TDC_ERR_ALLOC);
	getrusage(RUSAGE_SELF, &ru0);
	if (with_rest) {
		long per = n / ATTACK_ROUNDS;
		long w = per / 6 > (long)clients ? per / 6 : (long)clients;

		run_phase(clients, w, &warm);
		run_phase_with(rest_client, clients, w, &warm);
		for (int round = 0; round < ATTACK_ROUNDS; round++) {
			run_phase(clients, per, &base);
			run_phase_with(rest_client, clients, per, &rest);
		}
	} else if (!attack) {
		run_phase(clients, n, &base);
	} else {
		long per = n / ATTACK_ROUNDS;

		run_phase(clients, per / 3 > (long)clients ? per / 3 : (long)clients, &warm);
		for (int round = 0; round < ATTACK_ROUNDS; round++) {
			run_phase(clients, per, &base);
			attack_start(&atk);
			run_phase(clients, per, &hit);
			attack_stop(&atk);
		}
	}
	getrusage(RUSAGE_SELF, &ru1);
	finish_phase(&base);
	if (attack)
		finish_phase(&hit);
	if (with_rest)
		finish_phase(&rest);
	/* wait4 rather than su_server_stop: the server's own CPU time. */
	kill(srv.pid, SIGTERM);
	if (wait4(srv.pid, &st, 0, &srv_ru) != srv.pid)
		die("wait4", 0);
	su_track(srv.pid, false);
	r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* Again after the run: the mean of both brackets drift on a shared machine. */
	single = (single + single_core_rate(2.0, &gen_us)) / 2;
	vcpu = (vcpu + verify_cpu_us) / 2;
	par = verify_rate(workers, 2.0, &gen_us);

	double thr = base.thr, elapsed = base.elapsed;
	double p50 = base.p50, p99 = base.p99;

	total = base.n;
	printf("bench_serve: %ld attestations, %u clients, %u workers, %s evidence, %s verdicts, "
	       "%ld cpus online\n", total, clients, workers,
	       with_quote ? "TDREPORT+quote" : "TDREPORT-only", format,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("  single-core verification: %.0f /s (engine + %s verdict, one thread)\n", single,
	       format);
	printf("  in-process verification, %u threads: %.0f /s (%.2fx single: what this machine"
	       " gives now)\n", workers, par, par / single);
	printf("  client evidence generation: %.0f us each (same CPUs as the server)\n", gen_us);
	printf("  service throughput:       %.0f /s over %.2f s\n", thr, elapsed);
	printf("  latency p50 %.2f ms, p99 %.2f ms (p99/p50 %.2f)\n", p50, p99, p99 / p50);
	printf("  errors %ld, failing verdicts %ld, serve exit %d\n", base.errors,
	       atomic_load(&nfailed), r);
	printf("  ratio throughput / single-core = %.2f (target >= 1.6 on 2 cores); "
	       "throughput / in-process %u-thread rate = %.2f\n", thr / single, workers, thr / par);
	double srv_cpu = cpu_s(&srv_ru), cli_cpu = cpu_s(&ru1) - cpu_s(&ru0);
	long all = base.n + hit.n + warm.n + rest.n;

	double wall = base.elapsed + hit.elapsed + warm.elapsed + rest.elapsed;

	/* With --attack, the attackers' threads are in this process: counted as clients. */
	printf("  CPU: server %.0f us/attestation (verification alone %.0f us), clients%s %.0f us/"
	       "attestation; clients used %.0f%% of the machine\n", srv_cpu / (double)all * 1e6,
	       1e6 / single, attack ? " and attackers" : "", cli_cpu / (double)all * 1e6,
	       100.0 * cli_cpu / (wall * (double)sysconf(_SC_NPROCESSORS_ONLN)));
	printf("  server CPU split: user %.0f us, system %.0f us per attestation\n",
	       ((double)srv_ru.ru_utime.tv_sec + (double)srv_ru.ru_utime.tv_usec * 1e-6) /
		       (double)all * 1e6,
	       ((double)srv_ru.ru_stime.tv_sec + (double)srv_ru.ru_stime.tv_usec * 1e-6) /
		       (double)all * 1e6);
	/*
	 * The line above divides the server's whole life (start-up: registry,
	 * models, trust, database; shutdown) by the attestations and compares
	 * it with the wall time of the in-process loop.  This one takes the
	 * server's CPU over the measured rounds only (/proc/PID/stat around
	 * each round) and the loop's own thread CPU time: CPU against CPU.
	 */
	double round_cpu = (base.srv_cpu + hit.srv_cpu + warm.srv_cpu + rest.srv_cpu) /
			   (double)all * 1e6;

	printf("  CPU in the rounds: server %.0f us/attestation (start-up excluded), verification "
	       "alone %.0f us thread CPU; ratio %.2f (target <= 1.25); start-up and shutdown "
	       "%.0f ms\n", round_cpu, vcpu, round_cpu / vcpu,
	       (srv_cpu - round_cpu * (double)all * 1e-6) * 1e3);
	/* Thread hand-offs show as voluntary switches: steadier than CPU time here. */
	printf("  server context switches: %.2f voluntary, %.2f involuntary per attestation\n",
	       (double)srv_ru.ru_nvcsw / (double)all, (double)srv_ru.ru_nivcsw / (double)all);
	if (attack) {
		printf("  under attack (%d rounds alternating with the clean ones; each round %d "
		       "slowloris from %d peers, churn from 1 peer: %ld slowloris opened, %ld churn "
		       "connections in %.1f s, %ld given a nonce, %ld turned away):\n", ATTACK_ROUNDS,
		       SLOW_PEERS * SLOW_PER_PEER, SLOW_PEERS, atk.made, atk.churned, hit.elapsed,
		       atk.hellos, atk.refused);
		printf("  attack throughput:        %.0f /s over %.2f s (%.2fx without attack)\n",
		       hit.thr, hit.elapsed, hit.thr / thr);
		printf("  attack latency p50 %.2f ms, p99 %.2f ms (p99 %.2fx without attack; "
		       "target <= 2), errors %ld\n", hit.p50, hit.p99, hit.p99 / p99, hit.errors);
	}
	if (with_rest) {
		printf("  REST API (%d rounds alternating with the framed ones; HTTP/1.1 kept alive, "
		       "libcurl, newSession + evidence + DELETE per attestation):\n", ATTACK_ROUNDS);
		printf("  REST throughput:          %.0f /s over %.2f s (%.2fx framed; target >= 0.8), "
		       "p50 %.2f ms, p99 %.2f ms, errors %ld\n", rest.thr, rest.elapsed,
		       rest.thr / thr, rest.p50, rest.p99, rest.errors);
		printf("  CPU per attestation, framed vs REST rounds: server %.0f vs %.0f us, "
		       "clients %.0f vs %.0f us\n", base.srv_cpu / (double)base.n * 1e6,
		       rest.srv_cpu / (double)rest.n * 1e6, base.cli_cpu / (double)base.n * 1e6,
		       rest.cli_cpu / (double)rest.n * 1e6);
	}
	su_env_teardown(&env);
	free(rest.pool);
	free(base.pool);
	free(hit.pool);
	free(warm.pool);
	return atomic_load(&nerrors) || atomic_load(&nfailed) || r ? 1 : 0;
}
