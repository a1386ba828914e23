// SPDX-License-Identifier: Apache-2.0
/*
 * End to end over loopback TCP: `tdcpuid-verifier serve` with the full
 * engine, simulated evidence made in-process for each nonce.
 */
#include <poll.h>
#include <sys/socket.h>

#include "testutil.h"
#include "serve_util.h"
#include "tdcpuid/frame.h"
#include "audit.h"

#define TTL_S 2
#define TIMEOUT_S 4

static struct su_env env;
static struct su_server srv;
static const char *verifier;

/* Every verdict the service acknowledged, to find in the audit log at the end. */
static struct { int64_t id; bool passed; } acked[64];
static size_t nacked;

static void note_ack(const struct tdc_client_result *r)
{
	assert_true(r->record > 0);
	if (nacked < 64) {
		acked[nacked].id = (int64_t)r->record;
		acked[nacked++].passed = r->passed;
	}
}

static int group_setup(void **state)
{
	const char *agent = getenv("TDC_AGENT");
	static const char *const extra[] = { "--nonce-ttl", "2", "--timeout", "4",
					     "--workers", "2", "--max-conns", "16", NULL };

	verifier = getenv("TDC_VERIFIER");
	if (!verifier || !agent)
		tdc_test_skip("TDC_VERIFIER/TDC_AGENT not set (run through ctest)");
	if (su_env_setup(&env, agent) != 0) {
		fprintf(stderr, "setup: %s\n", tdc_errdetail());
		return -1;
	}
	if (su_server_start(&env, verifier, extra, &srv) != 0) {
		fprintf(stderr, "server did not start; log in %s\n", env.log);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	int st = su_server_stop(&srv, SIGTERM);

	su_env_teardown(&env);
	if (st != 0) {
		fprintf(stderr, "serve exited %d after SIGTERM\n", st);
		return -1;
	}
	return 0;
}

static int attest(const char *addr, const char *frame_vm, const char *claims_vm,
		  struct tdc_client_result *res, struct su_agent *ag)
{
	ag->env = &env;
	ag->claims_vm = claims_vm;
	return tdc_client_attest(addr, frame_vm, 10000, su_agent_fn, ag, res);
}

static void test_pass(void **state)
{
	struct tdc_client_result res;
	struct su_agent ag = { 0 };

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	int r = attest(srv.addr, "alpha", "alpha", &res, &ag);
	if (r)
		fail_msg("attest: %s", tdc_errmsg(r));
	if (!res.passed)
		fail_msg("verdict: %.3000s", tdc_buf_cstr(&res.doc));
	assert_string_equal(res.format, "json");
	assert_non_null(strstr(tdc_buf_cstr(&res.doc), "\"alpha\""));
	note_ack(&res);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
}

static void test_policy_fail(void **state)
{
	struct tdc_client_result res;
	struct su_agent ag = { 0 };

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	/* beta runs the default policy, which refuses simulated evidence. */
	assert_int_equal(attest(srv.addr, "beta", "beta", &res, &ag), 0);
	assert_false(res.passed);
	note_ack(&res);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
}

static int dial(uint8_t nonce[TDC_NONCE_LEN])
{
	int fd = -1;

	assert_int_equal(tdc_transport_dial(srv.addr, 5000, &fd), 0);
	assert_int_equal(tdc_client_hello(fd, tdc_now_ms() + 5000, nonce, NULL), 0);
	return fd;
}

/* Send raw bytes after the hello and return the code of the error frame. */
static int raw_exchange(const void *bytes, size_t n)
{
	struct tdc_client_result res;
	uint8_t nonce[TDC_NONCE_LEN];
	int fd = dial(nonce), r;

	tdc_client_result_init(&res);
	assert_int_equal(tdc_io_write_all(fd, bytes, n, tdc_now_ms() + 5000), 0);
	r = tdc_client_verdict(fd, tdc_now_ms() + 5000, &res);
	close(fd);
	tdc_client_result_free(&res);
	return r;
}

static void test_replay(void **state)
{
	struct tdc_client_result res;
	struct su_agent ag = { 0 };
	uint8_t first[TDC_NONCE_LEN], nonce[TDC_NONCE_LEN];
	int fd;

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	assert_int_equal(attest(srv.addr, "alpha", "alpha", &res, &ag), 0);
	assert_true(res.passed);
	note_ack(&res);
	/* The claims carry the first nonce at a fixed place: read it back. */
	struct tdc_envelope envl;
	struct tdc_claims c;

	tdc_envelope_init(&envl);
	tdc_claims_init(&c);
	assert_int_equal(tdc_envelope_decode(ag.last.data, ag.last.len, &envl), 0);
	assert_int_equal(tdc_claims_decode(envl.claims.data, envl.claims.len, &c), 0);
	memcpy(first, c.nonce, sizeof(first));

	/* Same evidence, same nonce, new connection: that nonce belonged to the
	 * first connection only (docs/protocol.md), and died with it. */
	fd = dial(nonce);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, first, "alpha",
						  ag.last.data, ag.last.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 5000, &res), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "not the nonce this connection was given"));
	close(fd);

	/* Same evidence under the fresh nonce: the claims do not carry it. */
	fd = dial(nonce);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, nonce, "alpha",
						  ag.last.data, ag.last.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 5000, &res), 0);
	assert_false(res.passed);
	note_ack(&res);
	close(fd);
	tdc_claims_free(&c);
	tdc_envelope_free(&envl);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
}

static void test_expired(void **state)
{
	struct tdc_client_result res;
	uint8_t nonce[TDC_NONCE_LEN];
	struct tdc_buf ev;
	int fd;

	tdc_client_result_init(&res);
	tdc_buf_init(&ev);
	uint64_t issued = tdc_now_ms();

	fd = dial(nonce);
	assert_int_equal(su_evidence(&env, nonce, sizeof(nonce), "alpha", false, &ev), 0);
	/* The event waited for is the clock passing the TTL. */
	while (tdc_now_ms() < issued + TTL_S * 1000 + 200)
		usleep(20000);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, nonce, "alpha",
						  ev.data, ev.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 5000, &res), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "expired"));
	close(fd);
	tdc_client_result_free(&res);
	tdc_buf_free(&ev);
}

static void test_wrong_vm(void **state)
{
	struct tdc_client_result res;
	struct su_agent ag = { 0 };

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	/* Claims say beta but the frame asks for alpha's (laxer) policy. */
	assert_int_equal(attest(srv.addr, "alpha", "beta", &res, &ag), 0);
	assert_false(res.passed);
	note_ack(&res);
	/* No name at all, and a name the registry does not know. */
	assert_int_equal(attest(srv.addr, NULL, "alpha", &res, &ag), TDC_ERR_NOT_FOUND);
	assert_int_equal(attest(srv.addr, "gamma", "gamma", &res, &ag), TDC_ERR_NOT_FOUND);
	assert_non_null(strstr(tdc_errdetail(), "unknown VM"));
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
}

static void test_oversized(void **state)
{
	uint8_t hdr[4];
	uint32_t n = TDC_FRAME_MAX + 1;

	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	assert_int_equal(raw_exchange(hdr, sizeof(hdr)), TDC_ERR_TOO_LARGE);
}

static void test_garbage(void **state)
{
	static const uint8_t junk[] = { 0, 0, 0, 6, 0xff, 0xfe, 0x00, 0x13, 0x37, 0x42 };
	/* {"v":2,"t":"evidence"} */
	static const uint8_t v2[] = { 0, 0, 0, 15, 0xa2, 0x61, 'v', 0x02, 0x61, 't', 0x68,
				      'e', 'v', 'i', 'd', 'e', 'n', 'c', 'e' };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	struct tdc_buf b;
	struct tdc_frame f;
	int r;

	r = raw_exchange(junk, sizeof(junk));
	assert_true(r < 0 && r != TDC_ERR_TIMEOUT && r != TDC_ERR_PROTOCOL);
	assert_int_equal(raw_exchange(v2, sizeof(v2)), TDC_ERR_VERSION);
	assert_non_null(strstr(tdc_errdetail(), "version 2"));
	assert_int_equal(raw_exchange(zero, sizeof(zero)), TDC_ERR_FORMAT);
	/* A well-formed frame of the wrong type. */
	tdc_buf_init(&b);
	tdc_frame_init(&f);
	f.type = TDC_FRAME_HELLO;
	assert_int_equal(tdc_frame_encode(&f, &b), 0);
	assert_int_equal(raw_exchange(b.data, b.len), TDC_ERR_PROTOCOL);
	tdc_frame_free(&f);
	tdc_buf_free(&b);
}

/* A client that stops mid-frame loses its slot at the deadline; others go on. */
static void test_stall(void **state)
{
	uint8_t nonce[TDC_NONCE_LEN], buf[64];
	struct pollfd p;
	uint64_t t0 = tdc_now_ms(), t1;
	int fd = dial(nonce);

	assert_int_equal(send(fd, "\x00\x00", 2, MSG_NOSIGNAL), 2);
	test_pass(state);
	test_pass(state);
	assert_true(tdc_now_ms() - t0 < TIMEOUT_S * 1000);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, (TIMEOUT_S + 3) * 1000), 1);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0); /* closed without a word */
	t1 = tdc_now_ms();
	assert_true(t1 - t0 >= (TIMEOUT_S - 1) * 1000);
	close(fd);
}

static void test_reload(void **state)
{
	struct tdc_client_result res;
	struct su_agent ag = { 0 };
	char path[400], pol[400];

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	assert_int_equal(attest(srv.addr, "delta", "delta", &res, &ag), TDC_ERR_NOT_FOUND);
	snprintf(pol, sizeof(pol), ",\"policy\":\"%s/sim-policy.json\"", env.dir);
	assert_int_equal(su_vm(&env, "delta", pol), 0);
	int reloads = su_log_count(&env, "registry reloaded");
	int failed = su_log_count(&env, "reload failed");

	kill(srv.pid, SIGHUP);
	assert_true(su_wait_log(&env, "registry reloaded", reloads + 1, 10000));
	assert_int_equal(attest(srv.addr, "delta", "delta", &res, &ag), 0);
	assert_true(res.passed);
	note_ack(&res);
	/* A broken entry makes the reload fail as a whole; the old registry serves on. */
	snprintf(path, sizeof(path), "%s/zz-broken.json", env.reg);
	assert_int_equal(su_write(path, "{\"name\": \"broken\", "), 0);
	kill(srv.pid, SIGHUP);
	assert_true(su_wait_log(&env, "reload failed", failed + 1, 10000));
	assert_int_equal(attest(srv.addr, "delta", "delta", &res, &ag), 0);
	assert_true(res.passed);
	note_ack(&res);
	unlink(path);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
}

static int find_row(void *ctx, const struct tdc_audit_record *r)
{
	size_t *found = ctx;

	for (size_t i = 0; i < nacked; i++)
		if (acked[i].id == r->id) {
			assert_int_equal(acked[i].passed, r->verdict == TDC_AUDIT_PASS);
			(*found)++;
		}
	return 0;
}

static void test_audit(void **state)
{
	struct tdc_audit_query q = { 0 };
	struct tdc_audit *a;
	size_t found = 0;
	char cmd[1024], ic[64];

	assert_true(nacked >= 8);
	assert_int_equal(tdc_audit_open(env.db, &a), 0);
	assert_int_equal(tdc_audit_select(a, &q, find_row, &found), 0);
	assert_int_equal(found, nacked);
	assert_int_equal(tdc_audit_integrity(a, ic, sizeof(ic)), 0);
	assert_string_equal(ic, "ok");
	tdc_audit_close(a);
	/* Append-only is enforced by the database, not just by our code. */
	snprintf(cmd, sizeof(cmd), "command -v sqlite3 >/dev/null || exit 0; "
		 "sqlite3 '%s' \"DELETE FROM verdicts\" 2>/dev/null && exit 1; exit 0", env.db);
	assert_int_equal(su_run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' log --db '%s' --vm alpha --format json | grep -q '\"verdict\": \"pass\"'",
		 verifier, env.db);
	assert_int_equal(su_run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "'%s' log --db '%s' --vm alpha --since 1h --check >/dev/null",
		 verifier, env.db);
	assert_int_equal(su_run(cmd), 0);
}

/*
 * Two instances sharing a nonce key: each serves its own exchanges; a nonce
 * one of them issued is no good at the other (it answers the hello of its
 * own connection only), and a forged one is no good anywhere.
 */
static void test_stateless(void **state)
{
	char key[400];
	const char *extra[] = { "--stateless-nonce-key", key, "--nonce-ttl", "30", NULL };
	struct su_server a, b;
	struct tdc_client_result res;
	struct su_agent ag = { 0 };
	uint8_t nonce[TDC_NONCE_LEN], spare[TDC_NONCE_LEN];
	struct tdc_buf ev;
	int fd;

	snprintf(key, sizeof(key), "%s/nonce.key", env.dir);
	assert_int_equal(su_write(key, "000102030405060708090a0b0c0d0e0f"
				       "101112131415161718191a1b1c1d1e1f\n"), 0);
	assert_int_equal(su_server_start(&env, verifier, extra, &a), 0);
	assert_int_equal(su_server_start(&env, verifier, extra, &b), 0);
	tdc_client_result_init(&res);
	tdc_buf_init(&ev);
	tdc_buf_init(&ag.last);
	assert_int_equal(attest(a.addr, "alpha", "alpha", &res, &ag), 0);
	assert_true(res.passed);
	assert_int_equal(attest(b.addr, "alpha", "alpha", &res, &ag), 0);
	assert_true(res.passed);

	/* Nonce from A, evidence to B. */
	assert_int_equal(tdc_transport_dial(a.addr, 5000, &fd), 0);
	assert_int_equal(tdc_client_hello(fd, tdc_now_ms() + 5000, nonce, NULL), 0);
	close(fd);
	assert_int_equal(su_evidence(&env, nonce, sizeof(nonce), "alpha", false, &ev), 0);
	assert_int_equal(tdc_transport_dial(b.addr, 5000, &fd), 0);
	assert_int_equal(tdc_client_hello(fd, tdc_now_ms() + 5000, spare, NULL), 0);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, nonce, "alpha",
						  ev.data, ev.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 5000, &res), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "not the nonce this connection was given"));
	close(fd);
	/* A forged nonce (bad MAC) is refused. */
	nonce[20] ^= 1;
	assert_int_equal(tdc_transport_dial(b.addr, 5000, &fd), 0);
	assert_int_equal(tdc_client_hello(fd, tdc_now_ms() + 5000, spare, NULL), 0);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, nonce, "alpha",
						  ev.data, ev.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 5000, &res), TDC_ERR_NONCE);
	close(fd);
	assert_int_equal(su_server_stop(&a, SIGTERM), 0);
	assert_int_equal(su_server_stop(&b, SIGTERM), 0);
	tdc_client_result_free(&res);
	tdc_buf_free(&ev);
	tdc_buf_free(&ag.last);
}

/* With every slot held by a silent client, newcomers get a clear "busy". */
static void test_max_conns(void **state)
{
	const char *extra[] = { "--max-conns", "2", "--timeout", "2", NULL };
	struct su_server s;
	struct tdc_client_result res;
	struct su_agent ag = { 0 };
	uint8_t nonce[TDC_NONCE_LEN];
	int fds[2];

	assert_int_equal(su_server_start(&env, verifier, extra, &s), 0);
	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tdc_transport_dial(s.addr, 5000, &fds[i]), 0);
		assert_int_equal(tdc_client_hello(fds[i], tdc_now_ms() + 5000, nonce, NULL), 0);
	}
	assert_int_equal(attest(s.addr, "alpha", "alpha", &res, &ag), TDC_ERR_BUSY);
	assert_non_null(strstr(tdc_errdetail(), "busy"));
	/* The squatters hit their deadline: the service closes them. */
	assert_true(su_wait_closed(fds[0], 10000));
	assert_true(su_wait_closed(fds[1], 10000));
	assert_int_equal(attest(s.addr, "alpha", "alpha", &res, &ag), 0);
	assert_true(res.passed);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(su_server_stop(&s, SIGTERM), 0);
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
}

/* SIGTERM: no new connections, the open exchange still gets its verdict, exit 0. */
static void test_drain(void **state)
{
	struct su_server s;
	struct tdc_client_result res;
	uint8_t nonce[TDC_NONCE_LEN];
	struct tdc_buf ev;
	int fd, fd2 = -1, st;

	assert_int_equal(su_server_start(&env, verifier, NULL, &s), 0);
	tdc_client_result_init(&res);
	tdc_buf_init(&ev);
	assert_int_equal(tdc_transport_dial(s.addr, 5000, &fd), 0);
	assert_int_equal(tdc_client_hello(fd, tdc_now_ms() + 5000, nonce, NULL), 0);
	int drains = su_log_count(&env, "serve: draining");

	kill(s.pid, SIGTERM);
	/* The listeners are closed once the service says so. */
	assert_true(su_wait_log(&env, "serve: draining", drains + 1, 10000));
	assert_int_equal(waitpid(s.pid, &st, WNOHANG), 0); /* still draining */
	assert_int_not_equal(tdc_transport_dial(s.addr, 1000, &fd2), 0);
	assert_int_equal(su_evidence(&env, nonce, sizeof(nonce), "alpha", false, &ev), 0);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, nonce, "alpha",
						  ev.data, ev.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 5000, &res), 0);
	assert_true(res.passed);
	close(fd);
	assert_int_equal(waitpid(s.pid, &st, 0), s.pid);
	su_track(s.pid, false);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	tdc_client_result_free(&res);
	tdc_buf_free(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_policy_fail),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_wrong_vm),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_stateless),
		cmocka_unit_test(test_max_conns),
		cmocka_unit_test(test_drain),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
