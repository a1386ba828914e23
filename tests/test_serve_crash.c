// SPDX-License-Identifier: Apache-2.0
/*
 * Crash safety of the audit log: SIGKILL the service in the middle of a
 * burst of attestations, restart it on the same database, and check that
 * every verdict a client received (= was told is recorded) is in the log,
 * with its nonce, and that SQLite's integrity_check is clean.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "testutil.h"
#include "serve_util.h"
#include "audit.h"

#define CLIENTS 6
#define MAX_ACKS 100000

static struct su_env env;
static const char *verifier;
static char addr[TDC_ADDR_MAX];
static atomic_bool stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ack { int64_t id; uint8_t nonce[32]; bool passed; bool seen; } *acks;
static size_t nacks;
static atomic_ulong failures;

static void *client(void *arg)
{
	struct tdc_client_result res;
	struct su_agent ag = { .env = &env, .claims_vm = "alpha" };

	tdc_client_result_init(&res);
	tdc_buf_init(&ag.last);
	while (!atomic_load(&stop)) {
		if (tdc_client_attest(addr, "alpha", 5000, su_agent_fn, &ag, &res) != 0) {
			atomic_fetch_add(&failures, 1);
			usleep(1000);
			continue;
		}
		pthread_mutex_lock(&mu);
		if (nacks < MAX_ACKS) {
			acks[nacks].id = (int64_t)res.record;
			memcpy(acks[nacks].nonce, ag.nonce, 32);
			acks[nacks++].passed = res.passed;
		}
		pthread_mutex_unlock(&mu);
	}
	tdc_client_result_free(&res);
	tdc_buf_free(&ag.last);
	return NULL;
}

static int check_row(void *ctx, const struct tdc_audit_record *r)
{
	for (size_t i = 0; i < nacks; i++) {
		if (acks[i].id != r->id)
			continue;
		assert_true(r->has_nonce);
		assert_memory_equal(r->nonce, acks[i].nonce, 32);
		assert_int_equal(acks[i].passed, r->verdict == TDC_AUDIT_PASS);
		acks[i].seen = true;
	}
	return 0;
}

static void test_kill9(void **state)
{
	static const char *const extra[] = { "--workers", "2", "--max-conns", "64", NULL };
	struct su_server s;
	pthread_t th[CLIENTS];
	struct tdc_audit *a;
	struct tdc_audit_query q = { 0 };
	char ic[64];
	size_t before, missing = 0;

	acks = calloc(MAX_ACKS, sizeof(*acks));
	assert_non_null(acks);
	assert_int_equal(su_server_start(&env, verifier, extra, &s), 0);
	snprintf(addr, sizeof(addr), "%s", s.addr);
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, client, NULL), 0);
	/* Kill once the burst is well under way, not at a quiet moment. */
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		before = nacks;
		pthread_mutex_unlock(&mu);
		if (before >= 200)
			break;
		usleep(10000);
	}
	assert_int_equal(su_server_stop(&s, SIGKILL), 128 + SIGKILL);
	atomic_store(&stop, true);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(th[i], NULL);
	printf("acknowledged before SIGKILL: %zu, failed exchanges: %lu\n", nacks,
	       atomic_load(&failures));
	assert_true(nacks >= 20);

	/* Restart on the same database: it must open and serve. */
	assert_int_equal(su_server_start(&env, verifier, extra, &s), 0);
	snprintf(addr, sizeof(addr), "%s", s.addr);
	atomic_store(&stop, false);
	{
		struct tdc_client_result res;
		struct su_agent ag = { .env = &env, .claims_vm = "alpha" };

		tdc_client_result_init(&res);
		tdc_buf_init(&ag.last);
		assert_int_equal(tdc_client_attest(addr, "alpha", 5000, su_agent_fn, &ag, &res), 0);
		assert_true(res.passed);
		tdc_client_result_free(&res);
		tdc_buf_free(&ag.last);
	}
	assert_int_equal(su_server_stop(&s, SIGTERM), 0);

	assert_int_equal(tdc_audit_open(env.db, &a), 0);
	assert_int_equal(tdc_audit_integrity(a, ic, sizeof(ic)), 0);
	assert_string_equal(ic, "ok");
	assert_int_equal(tdc_audit_select(a, &q, check_row, NULL), 0);
	tdc_audit_close(a);
	for (size_t i = 0; i < nacks; i++)
		missing += !acks[i].seen;
	if (missing)
		fail_msg("%zu of %zu acknowledged verdicts are missing from the log", missing, nacks);
	free(acks);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_kill9) };
	const char *agent = getenv("TDC_AGENT");
	int r;

	verifier = getenv("TDC_VERIFIER");
	if (!verifier || !agent)
		tdc_test_skip("TDC_VERIFIER/TDC_AGENT not set (run through ctest)");
	if (su_env_setup(&env, agent) != 0) {
		fprintf(stderr, "setup failed: %s\n", tdc_errdetail());
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	su_env_teardown(&env);
	return r;
}
