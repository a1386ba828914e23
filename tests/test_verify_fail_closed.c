// SPDX-License-Identifier: Apache-2.0
/*
 * Evidence the engine must refuse although every signature holds (issue
 * 18): architecturally invalid XCR0 values (Intel SDM Vol. 1, 13.3), and
 * TDREPORT reserved bytes 495..511, which neither hash nor MAC covers;
 * claims whose vCPU set is not the requested one (skipped, omitted, none).
 * Sim evidence built in memory (lib/simev.c), the real engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pki_util.h"
#include "simfx.h"
#include "testutil.h"
#include "engine.h"
#include "model.h"
#include "policy.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/simev.h"

static struct tdc_simfx fx;

static const uint8_t nonce[16] = "fail-closed-test";

static int setup(void **state)
{
	static const char pol[] =
		"{\"version\":1,\"name\":\"sim\",\"allow_simulated\":true,\"require_tcb\":false}";

	(void)state;
	if (tdc_simfx_setup(&fx, nonce, sizeof(nonce), pol, false) != 0)
		return -1;
	fx.params.xfam = 0xe7; /* x87, SSE, AVX, AVX-512: every XCR0 below fits */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tdc_simfx_teardown(&fx);
	return 0;
}

/* Check @ev against @req; the named check must have status @st and mention @detail. */
static void expect_req(const struct tdc_requested *req, const struct tdc_buf *ev,
		       const char *name, enum tdc_check_status st, const char *detail)
{
	struct tdc_check_config cfg = {
		.requested = req, .model = fx.model, .policy = fx.policy,
		.trust = fx.trust, .sim_mac_key = fx.keys.hmac_key,
		.nonce = nonce, .nonce_len = sizeof(nonce),
	};
	const struct tdc_check *c;
	struct tdc_check_result res;

	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_evidence(&cfg, ev->data, ev->len, &res), 0);
	c = tdc_check_find(&res.checks, name);
	if (st == TDC_CHECK_PASS && !c) {
		tdc_check_result_free(&res);
		return; /* a rule that found nothing records nothing */
	}
	if (!c || c->status != st || !strstr(c->detail, detail)) {
		tdc_simfx_print_checks(&res);
		fail_msg("%s: want status %d with '%s'", name, st, detail);
	}
	if (st == TDC_CHECK_FAIL)
		assert_false(res.passed);
	tdc_check_result_free(&res);
}

static void expect(const struct tdc_buf *ev, const char *name, enum tdc_check_status st,
		   const char *detail)
{
	expect_req(&fx.req, ev, name, st, detail);
}

static void build(const struct tdc_claims *c, struct tdc_buf *ev)
{
	tdc_buf_init(ev);
	assert_int_equal(tdc_simev_build(&fx.keys, &fx.params, c, true, ev), 0);
}

static void test_xcr0_rules(void **state)
{
	static const struct {
		uint64_t xcr0;
		const char *why;        /* NULL: valid */
	} cases[] = {
		{ 0x0, "bit 0 (x87) is always 1" },
		{ 0x5, "AVX (bit 2) needs SSE (bit 1)" },
		{ 0x27, "bits 5-7" },
		{ 0xe3, "needs AVX" },
		{ 0x107, "only user state components" },   /* bit 8: PT, supervisor */
		{ 0x7, NULL },
		{ 0xe7, NULL },
	};
	struct tdc_claims c = fx.claims;
	struct tdc_buf ev;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.has_xcr0 = true;
		c.xcr0 = cases[i].xcr0;
		build(&c, &ev);
		expect(&ev, "xcr0_valid", cases[i].why ? TDC_CHECK_FAIL : TDC_CHECK_PASS,
		       cases[i].why ? cases[i].why : "");
		tdc_buf_free(&ev);
	}
}

static void test_tdreport_reserved(void **state)
{
	struct tdc_envelope e;
	struct tdc_buf ev;

	(void)state;
	build(&fx.claims, &ev);
	expect(&ev, "tdreport_reserved", TDC_CHECK_PASS, "");
	assert_int_equal(tdc_envelope_decode(ev.data, ev.len, &e), 0);
	assert_true(e.tdreport.len == 1024);
	e.tdreport.data[500] = 0x01;
	tdc_buf_reset(&ev);
	assert_int_equal(tdc_envelope_encode(&e, &ev), 0);
	tdc_envelope_free(&e);
	expect(&ev, "tdreport_reserved", TDC_CHECK_FAIL, "byte 500");
	tdc_buf_free(&ev);
}

/*
 * Give @cpu its own APIC ID as a CPU reports it: the 8-bit initial APIC ID
 * in leaf 1 EBX[31:24] (which wraps past 256) and the full x2APIC ID in
 * EDX of the topology leaves 0BH/1FH the common table has.
 */
static void set_apic_id(const struct tdc_claims *c, struct tdc_cpu_claim *cpu, uint32_t id)
{
	static const uint32_t leaves[] = { 0x1, 0xb, 0x1f };

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		const struct tdc_cpuid_entry *ce = tdc_cpuid_table_find(&c->common, leaves[i], 0);
		struct tdc_cpuid_entry e;

		if (!ce)
			continue;
		e = *ce;
		if (leaves[i] == 1)
			e.regs[TDC_EBX] = (e.regs[TDC_EBX] & 0x00ffffffu) | (id & 0xff) << 24;
		else
			e.regs[TDC_EDX] = id;
		assert_int_equal(tdc_cpuid_table_set(&cpu->delta, &e), 0);
	}
}

/* vCPU 1 as the agent reports a second CPU: its own APIC ID, XCR0 read. */
static void add_cpu1(struct tdc_claims *c, struct tdc_cpu_claim cpus[2])
{
	cpus[0] = c->cpus[0];
	memset(&cpus[1], 0, sizeof(cpus[1]));
	tdc_cpuid_table_init(&cpus[1].delta);
	/* vCPU 0 keeps the common table's ID (whichever CPU this test ran on): one more. */
	set_apic_id(c, &cpus[1], (tdc_cpuid_table_find(&c->common, 1, 0)->regs[TDC_EBX] >> 24) + 1);
	cpus[1].cpu = 1;
	cpus[1].has_xcr0 = true;
	cpus[1].xcr0 = c->xcr0;
	c->cpus = cpus;
	c->ncpus = 2;
}

/* A 2-vCPU request (cpuid-r): every requested vCPU probed and judged, or fail naming it. */
static void test_vcpu_set(void **state)
{
	struct tdc_skipped_cpu off = { .cpu = 1, .reason = "offline" };
	struct tdc_cpu_claim cpus[2];
	struct tdc_requested req;
	struct tdc_claims c;
	struct tdc_buf ev;

	(void)state;
	tdc_requested_init(&req);
	snprintf(req.format, sizeof(req.format), "cpuid-r");
	assert_non_null(req.per_cpu = calloc(2, sizeof(*req.per_cpu)));
	req.ncpus = 2;
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(tdc_cpuid_table_copy(&req.per_cpu[i], &fx.claims.common), 0);
	assert_int_equal(tdc_cpuid_table_copy(&req.table, &fx.claims.common), 0);
	assert_int_equal(tdc_cpuid_table_copy(&req.known, &fx.claims.common), 0);

	c = fx.claims;                       /* vCPU 1 omitted */
	build(&c, &ev);
	expect_req(&req, &ev, "vcpu_set", TDC_CHECK_FAIL, "requested vCPU 1 is missing");
	tdc_buf_free(&ev);

	c.skipped = &off;                    /* vCPU 1 "skipped: offline" */
	c.nskipped = 1;
	build(&c, &ev);
	expect_req(&req, &ev, "vcpu_set", TDC_CHECK_FAIL, "vCPU 1 was not probed (skipped: offline)");
	tdc_buf_free(&ev);
	/* A request that does not list vCPUs: a skipped vCPU still was not judged. */
	build(&c, &ev);
	expect(&ev, "vcpu_set", TDC_CHECK_FAIL, "vCPU 1 of the TD was not probed");
	tdc_buf_free(&ev);

	c = fx.claims;                       /* an agent that could not learn the CPU set */
	c.cpu_set = TDC_CPUSET_AFFINITY;
	build(&c, &ev);
	expect(&ev, "vcpu_set", TDC_CHECK_FAIL, "could not learn the TD's CPU set");
	tdc_buf_free(&ev);

	c = fx.claims;                       /* no vCPU at all */
	c.ncpus = 0;
	build(&c, &ev);
	expect_req(&req, &ev, "vcpu_set", TDC_CHECK_FAIL, "no probed vCPU");
	tdc_buf_free(&ev);

	c = fx.claims;                       /* both: passes */
	add_cpu1(&c, cpus);
	build(&c, &ev);
	expect_req(&req, &ev, "vcpu_set", TDC_CHECK_PASS, "the 2 requested vCPUs");
	expect_req(&req, &ev, "apic_ids_unique", TDC_CHECK_PASS, "");
	tdc_buf_free(&ev);
	tdc_cpuid_table_free(&cpus[1].delta);

	c = fx.claims;                       /* more vCPUs than requested */
	add_cpu1(&c, cpus);
	cpus[1].cpu = 2;
	c.cpus = (struct tdc_cpu_claim[3]){ cpus[0], cpus[1], cpus[1] };
	c.cpus[1].cpu = 1;
	c.ncpus = 3;
	build(&c, &ev);
	expect_req(&req, &ev, "vcpu_set", TDC_CHECK_FAIL, "vCPU 2 was probed but the request has 2 vCPUs");
	tdc_buf_free(&ev);
	/* One table is the template for every vCPU: two probed against it pass. */
	req.ncpus = 1;
	c.ncpus = 2;
	build(&c, &ev);
	expect_req(&req, &ev, "vcpu_set", TDC_CHECK_PASS, "vCPU 0 and 1 more probed");
	tdc_buf_free(&ev);
	tdc_cpuid_table_free(&cpus[1].delta);
	req.ncpus = 2;
	tdc_requested_free(&req);
}

/* kvm_tdx_init_vm's MRCONFIGID/MROWNER/MROWNERCONFIG must be the attested TD's (zero in the sim). */
static void test_td_params_mr(void **state)
{
	struct tdc_requested req = fx.req;   /* shares fx.req's tables: not freed here */
	struct tdc_buf ev;

	(void)state;
	build(&fx.claims, &ev);
	req.has_mrconfigid = req.has_mrowner = req.has_mrownerconfig = true;
	memset(req.mrconfigid, 0, 48);
	memset(req.mrowner, 0, 48);
	memset(req.mrownerconfig, 0, 48);
	expect_req(&req, &ev, "td_params_mr", TDC_CHECK_PASS,
		   "MRCONFIGID, MROWNER, MROWNERCONFIG as requested");
	req.mrconfigid[47] = 0x01;
	expect_req(&req, &ev, "td_params_mr", TDC_CHECK_FAIL, "attested MRCONFIGID differs");
	req.mrconfigid[47] = 0;
	req.mrowner[0] = 0xaa;
	expect_req(&req, &ev, "td_params_mr", TDC_CHECK_FAIL, "attested MROWNER differs");
	req.mrowner[0] = 0;
	req.mrownerconfig[10] = 0x55;
	expect_req(&req, &ev, "td_params_mr", TDC_CHECK_FAIL, "attested MROWNERCONFIG differs");
	tdc_buf_free(&ev);
}

/* 300 vCPUs: initial APIC IDs repeat past 256, x2APIC IDs do not. */
static void test_apic_ids_x2apic(void **state)
{
	enum { N = 300 };
	const struct tdc_cpuid_entry *t = tdc_cpuid_table_find(&fx.claims.common, 0xb, 0);
	struct tdc_cpu_claim *cpus;
	struct tdc_claims c = fx.claims;
	struct tdc_buf ev;

	(void)state;
	if (!t || !(t->regs[TDC_EBX] & 0xffff))
		skip(); /* SKIP: this CPU has no leaf 0BH to carry an x2APIC ID */
	assert_non_null(cpus = calloc(N, sizeof(*cpus)));
	for (uint32_t i = 0; i < N; i++) {
		tdc_cpuid_table_init(&cpus[i].delta);
		set_apic_id(&c, &cpus[i], i);
		cpus[i].cpu = i;
		cpus[i].has_xcr0 = true;
		cpus[i].xcr0 = c.xcr0;
	}
	c.cpus = cpus;
	c.ncpus = N;
	build(&c, &ev);
	expect(&ev, "apic_ids_unique", TDC_CHECK_PASS, "300 vCPUs, distinct APIC IDs");
	tdc_buf_free(&ev);
	/* Two CPUs with one x2APIC ID: caught. */
	tdc_cpuid_table_free(&cpus[299].delta);
	tdc_cpuid_table_init(&cpus[299].delta);
	set_apic_id(&c, &cpus[299], 7);
	build(&c, &ev);
	expect(&ev, "apic_ids_unique", TDC_CHECK_FAIL, "CPUs 7 and 299 have the same x2APIC ID 7");
	tdc_buf_free(&ev);
	for (uint32_t i = 0; i < N; i++)
		tdc_cpuid_table_free(&cpus[i].delta);
	free(cpus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xcr0_rules),
		cmocka_unit_test(test_tdreport_reserved),
		cmocka_unit_test(test_vcpu_set),
		cmocka_unit_test(test_td_params_mr),
		cmocka_unit_test(test_apic_ids_x2apic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
