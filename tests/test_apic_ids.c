// SPDX-License-Identifier: Apache-2.0
/*
 * apic_ids_unique on TDs of many vCPUs (tdc_simev_vcpus): 300 and 1024
 * vCPUs pass (their 8-bit initial APIC IDs repeat, their x2APIC IDs do
 * not), one repeated x2APIC ID fails naming both CPUs, and without leaf
 * 0BH the 8-bit IDs are what is compared.  Sim evidence, the real engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pki_util.h"
#include "testutil.h"
#include "engine.h"
#include "model.h"
#include "policy.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/simev.h"

static struct {
	struct tdc_sim_keys keys;
	struct tdc_sim_params params;
	struct tdc_requested req;
	struct tdc_model *model;
	struct tdc_policy *policy;
	struct tdc_trust *trust;
} fx;

static const uint8_t nonce[16] = "apic-id-test-sim";

static int setup(void **state)
{
	static const char pol[] =
		"{\"version\":1,\"name\":\"sim\",\"allow_simulated\":true,\"require_tcb\":false}";
	struct tdc_claims c;

	(void)state;
	tdc_sim_keys_init(&fx.keys);
	tdc_sim_params_init(&fx.params);
	if (tdc_sim_keys_generate(&fx.keys) != 0 ||
	    tdc_simev_claims(&c, nonce, sizeof(nonce), NULL) != 0 ||
	    tdc_model_load("kvm", &fx.model) != 0 ||
	    tdc_policy_parse((const uint8_t *)pol, sizeof(pol) - 1, "policy", NULL, &fx.policy) != 0) {
		fprintf(stderr, "setup: %s\n", tdc_errmsg(TDC_ERR_INTERNAL));
		return -1;
	}
	fx.trust = tdc_test_sim_trust(fx.keys.root_cert);
	fx.params.xfam = c.xcr0;
	tdc_requested_init(&fx.req);
	snprintf(fx.req.format, sizeof(fx.req.format), "kvm-json");
	if (tdc_cpuid_table_copy(&fx.req.table, &c.common) != 0 ||
	    tdc_cpuid_table_copy(&fx.req.known, &c.common) != 0)
		return -1;
	for (size_t i = 0; i < fx.req.known.n; i++)
		memset(fx.req.known.e[i].regs, 0xff, sizeof(fx.req.known.e[i].regs));
	tdc_claims_free(&c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tdc_sim_keys_free(&fx.keys);
	tdc_requested_free(&fx.req);
	tdc_model_free(fx.model);
	tdc_policy_free(fx.policy);
	tdc_trust_free(fx.trust);
	return 0;
}

/* Claims of @n vCPUs; @dup >= 1: vCPU @dup gets vCPU 1's x2APIC ID. */
static void claims_of(struct tdc_claims *c, size_t n, size_t dup, bool drop_0b)
{
	assert_int_equal(tdc_simev_claims(c, nonce, sizeof(nonce), NULL), 0);
	if (drop_0b) {
		struct tdc_cpuid_table t;

		tdc_cpuid_table_init(&t);
		for (size_t i = 0; i < c->common.n; i++)
			if (c->common.e[i].leaf != 0xb && c->common.e[i].leaf != 0x1f)
				assert_int_equal(tdc_cpuid_table_set(&t, &c->common.e[i]), 0);
		tdc_cpuid_table_free(&c->common);
		c->common = t;
		tdc_cpuid_table_sort(&c->common);
	}
	assert_int_equal(tdc_simev_vcpus(c, n), 0);
	for (size_t i = 0; dup && i < c->cpus[dup].delta.n; i++)
		if (c->cpus[dup].delta.e[i].leaf == 0xb || c->cpus[dup].delta.e[i].leaf == 0x1f)
			c->cpus[dup].delta.e[i].regs[TDC_EDX] = 1;
}

/* The apic_ids_unique check of @c's evidence; its detail into @detail. */
static enum tdc_check_status apic_check(const struct tdc_claims *c, char *detail, size_t len)
{
	struct tdc_check_config cfg = {
		.requested = &fx.req, .model = fx.model, .policy = fx.policy,
		.trust = fx.trust, .sim_mac_key = fx.keys.hmac_key,
		.nonce = nonce, .nonce_len = sizeof(nonce),
	};
	const struct tdc_check *k;
	struct tdc_check_result res;
	enum tdc_check_status st;
	struct tdc_buf ev;

	tdc_buf_init(&ev);
	assert_int_equal(tdc_simev_build(&fx.keys, &fx.params, c, true, &ev), 0);
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_evidence(&cfg, ev.data, ev.len, &res), 0);
	assert_non_null(k = tdc_check_find(&res.checks, "apic_ids_unique"));
	st = k->status;
	snprintf(detail, len, "%s", k->detail);
	tdc_check_result_free(&res);
	tdc_buf_free(&ev);
	return st;
}

static void many_vcpus_pass(void **state)
{
	static const size_t sizes[] = { 2, 300, 1024 };
	struct tdc_claims c;
	char d[256];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		claims_of(&c, sizes[i], 0, false);
		if (!tdc_cpuid_table_find(&c.common, 0xb, 0)) {
			tdc_claims_free(&c);
			skip(); /* this CPU has no leaf 0BH: no x2APIC IDs to synthesize */
		}
		assert_int_equal(apic_check(&c, d, sizeof(d)), TDC_CHECK_PASS);
		assert_non_null(strstr(d, "distinct APIC IDs"));
		tdc_claims_free(&c);
	}
}

static void repeated_x2apic_fails(void **state)
{
	struct tdc_claims c;
	char d[256];

	(void)state;
	claims_of(&c, 300, 299, false);
	assert_int_equal(apic_check(&c, d, sizeof(d)), TDC_CHECK_FAIL);
	assert_non_null(strstr(d, "CPUs 1 and 299 have the same x2APIC ID 1"));
	tdc_claims_free(&c);
}

/* Without leaf 0BH only the 8-bit ID exists: 257 vCPUs repeat one. */
static void eight_bit_ids_without_0b(void **state)
{
	struct tdc_claims c;
	char d[256];

	(void)state;
	claims_of(&c, 256, 0, true);
	assert_int_equal(apic_check(&c, d, sizeof(d)), TDC_CHECK_PASS);
	tdc_claims_free(&c);
	claims_of(&c, 257, 0, true);
	assert_int_equal(apic_check(&c, d, sizeof(d)), TDC_CHECK_FAIL);
	assert_non_null(strstr(d, "CPUs 0 and 256 have the same initial APIC ID 0"));
	tdc_claims_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_vcpus_pass),
		cmocka_unit_test(repeated_x2apic_fails),
		cmocka_unit_test(eight_bit_ids_without_0b),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
