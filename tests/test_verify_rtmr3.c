// SPDX-License-Identifier: Apache-2.0
/*
 * The engine's rtmr3 binding checks (verifier/engine/verify_rtmr.c), one
 * tampering per case, each failing exactly the named check: evidence is
 * built in-process from the simulator, the same way the agent builds it
 * (tdc_simev_build_rtmr3), then changed in one place.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pki_util.h"
#include "simfx.h"
#include "testutil.h"
#include "engine.h"
#include "model.h"
#include "policy.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/simev.h"

static struct tdc_simfx fx;

static const uint8_t nonce[16] = "rtmr3-test-nonce";

static int setup(void **state)
{
	static const char pol[] =
		"{\"version\":1,\"name\":\"sim\",\"allow_simulated\":true,\"require_tcb\":false,"
		"\"fail_on\":[\"mismatch\"]}";

	(void)state;
	/* The request is what the guest sees, every bit of it: an honest KVM guest. */
	if (tdc_simfx_setup(&fx, nonce, sizeof(nonce), pol, true) != 0)
		return -1;
	fx.params.xfam = fx.claims.xcr0; /* the simulated TD enables what this host does */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tdc_simfx_teardown(&fx);
	return 0;
}


/* Run the engine; the named check must have @st and mention @detail. */
static void expect(const struct tdc_buf *ev, const uint8_t *rd, const char *name,
		   enum tdc_check_status st, const char *detail, bool passed)
{
	struct tdc_check_config cfg = {
		.requested = &fx.req, .model = fx.model, .policy = fx.policy,
		.trust = fx.trust, .sim_mac_key = fx.keys.hmac_key,
		.nonce = nonce, .nonce_len = sizeof(nonce),
		.expect_report_data = rd, .expect_report_data_len = rd ? 64 : 0,
	};
	const struct tdc_check *c;
	struct tdc_check_result res;

	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_evidence(&cfg, ev->data, ev->len, &res), 0);
	c = tdc_check_find(&res.checks, name);
	if (!c || c->status != st || !strstr(c->detail, detail) || res.passed != passed) {
		tdc_simfx_print_checks(&res);
		fail_msg("%s: want status %d with '%s', passed %d", name, st, detail, passed);
	}
	assert_int_equal(res.binding, TDC_BIND_RTMR3);
	tdc_check_result_free(&res);
}

static void build(const uint8_t *rd, struct tdc_buf *ev)
{
	tdc_buf_init(ev);
	assert_int_equal(tdc_simev_build_rtmr3(&fx.keys, &fx.params, &fx.claims, rd, true, ev), 0);
}

/* Re-encode an envelope after @edit changed one of its parts. */
static void rewrap(struct tdc_buf *ev, void (*edit)(struct tdc_envelope *e))
{
	struct tdc_envelope e;

	assert_int_equal(tdc_envelope_decode(ev->data, ev->len, &e), 0);
	edit(&e);
	tdc_buf_reset(ev);
	assert_int_equal(tdc_envelope_encode(&e, ev), 0);
	tdc_envelope_free(&e);
}

static void test_honest(void **state)
{
	uint8_t rd[64];
	struct tdc_buf ev;

	(void)state;
	memset(rd, 0x5a, sizeof(rd));
	build(rd, &ev);
	expect(&ev, rd, "rtmr3_claims_event", TDC_CHECK_PASS, "the TD's latest tdcpuid claims", true);
	expect(&ev, rd, "rtmr3_replay", TDC_CHECK_PASS, "replays to the attested RTMR3", true);
	expect(&ev, rd, "quote.report_data", TDC_CHECK_PASS, "expected", true);
	expect(&ev, rd, "rtmr3_events", TDC_CHECK_INFO, "no other event", true);
	expect(&ev, NULL, "tdreport_binding", TDC_CHECK_INFO, "not checked", true);
	tdc_buf_free(&ev);
}

static void cut_log(struct tdc_envelope *e)
{
	e->eventlog.len -= 10;
}

static void drop_log(struct tdc_envelope *e)
{
	tdc_buf_reset(&e->eventlog);
}

static void test_log_damaged(void **state)
{
	struct tdc_buf ev;
	struct tdc_check_config cfg = { .requested = &fx.req, .model = fx.model,
					.policy = fx.policy, .trust = fx.trust };
	struct tdc_check_result res;

	(void)state;
	build(NULL, &ev);
	rewrap(&ev, cut_log);
	expect(&ev, NULL, "eventlog_format", TDC_CHECK_FAIL, "offset", false);
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_evidence(&cfg, ev.data, ev.len, &res), 0);
	assert_true(res.malformed); /* bad input, not a policy verdict */
	tdc_check_result_free(&res);
	rewrap(&ev, drop_log);
	expect(&ev, NULL, "rtmr3_claims_event", TDC_CHECK_FAIL, "no event log", false);
	tdc_buf_free(&ev);
}

/*
 * A log whose claims event says the right text but whose digest (the one
 * the register was really extended with) is something else: the replay
 * matches, the claims event must not count.
 */
static void test_digest_is_not_the_text(void **state)
{
	char content[TDC_AAEL_CONTENT_LEN + 1];
	uint8_t rep[TDX_REPORT_LEN], d[48];
	struct tdc_sim_params sp = fx.params;
	struct tdc_claims cc = fx.claims;
	struct tdc_envelope e;
	struct tdc_buf ev;
	size_t used, at;

	(void)state;
	cc.binding = TDC_BIND_RTMR3;
	tdc_envelope_init(&e);
	assert_int_equal(tdc_claims_encode(&cc, &e.claims), 0);
	assert_int_equal(tdc_claims_aael_content(e.claims.data, e.claims.len, content), 0);
	assert_int_equal(tdc_sim_ccel(&e.eventlog), 0);
	assert_int_equal(tdc_eventlog_used_len(e.eventlog.data, e.eventlog.len, "ccel", &used), 0);
	e.eventlog.len = used;
	at = used + 14; /* PCRIndex, type, count, alg: the digest follows */
	assert_int_equal(tdc_eventlog_put_aael(&e.eventlog, TDC_CCMR_RTMR3, TDC_AAEL_DOMAIN,
					       TDC_AAEL_OP_CLAIMS, content, d), 0);
	e.eventlog.data[at] ^= 1;
	d[0] ^= 1;
	assert_int_equal(tdc_rtmr_extend(sp.rtmr[3], d), 0);
	assert_int_equal(tdc_sim_report(&fx.keys, &sp, (uint8_t[64]){ 0 }, rep), 0);
	assert_int_equal(tdc_buf_put(&e.tdreport, rep, sizeof(rep)), 0);
	assert_int_equal(tdc_sim_quote(&fx.keys, rep, &e.quote), 0);
	tdc_buf_init(&ev);
	assert_int_equal(tdc_envelope_encode(&e, &ev), 0);
	expect(&ev, NULL, "rtmr3_replay", TDC_CHECK_PASS, "replays", false);
	expect(&ev, NULL, "rtmr3_claims_event", TDC_CHECK_FAIL, "digest is not the hash", false);
	tdc_envelope_free(&e);
	tdc_buf_free(&ev);
}

/* The TD's RTMR3 moved on (another extension the log lacks). */
static void test_register_moved(void **state)
{
	struct tdc_sim_params saved = fx.params;
	struct tdc_buf ev;

	(void)state;
	memset(fx.params.rtmr[3], 0x11, 48); /* the TD started from a different RTMR3 */
	build(NULL, &ev);
	fx.params = saved;
	expect(&ev, NULL, "rtmr3_replay", TDC_CHECK_FAIL, "does not describe this TD", false);
	tdc_buf_free(&ev);
}

static void test_wrong_report_data(void **state)
{
	uint8_t rd[64] = { 1 }, other[64] = { 2 };
	struct tdc_buf ev;

	(void)state;
	build(rd, &ev);
	expect(&ev, other, "tdreport_binding", TDC_CHECK_FAIL, "not the expected value", false);
	expect(&ev, other, "quote.report_data", TDC_CHECK_FAIL, "", false);
	tdc_buf_free(&ev);
}

/* The sim models boot: RTMR0..2 = replay of its CCEL, RTMR3 zero. */
static void test_sim_boot_model(void **state)
{
	uint8_t r[4][48], z[48] = { 0 }, mr[48];
	struct tdc_eventlog l;
	struct tdc_buf b;
	size_t used;

	(void)state;
	assert_int_equal(tdc_sim_rtmr_initial(r), 0);
	assert_memory_equal(r[3], z, 48);
	assert_memory_equal(fx.params.rtmr, r, sizeof(r));
	tdc_buf_init(&b);
	tdc_eventlog_init(&l);
	assert_int_equal(tdc_sim_ccel(&b), 0);
	assert_int_equal(tdc_eventlog_used_len(b.data, b.len, "ccel", &used), 0);
	assert_int_equal(b.len - used, TDC_SIM_CCEL_FILL);
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "ccel", &l), 0);
	assert_int_equal(l.n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(tdc_eventlog_replay(&l, TDC_CCMR_RTMR0 + i, SIZE_MAX, mr), 0);
		assert_memory_equal(mr, r[i], 48);
		assert_memory_not_equal(mr, z, 48);
	}
	tdc_eventlog_free(&l);
	tdc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest),
		cmocka_unit_test(test_log_damaged),
		cmocka_unit_test(test_digest_is_not_the_text),
		cmocka_unit_test(test_register_moved),
		cmocka_unit_test(test_wrong_report_data),
		cmocka_unit_test(test_sim_boot_model),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
