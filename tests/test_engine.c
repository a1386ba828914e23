// SPDX-License-Identifier: Apache-2.0
/*
 * The per-bit engine, hermetic: guest views are built from the model's own
 * prediction (an honest TD/VM) and then altered one bit at a time, so every
 * expectation is computed here, not taken from this host.
 */
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "engine.h"
#include "model.h"
#include "policy.h"
#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/tdx.h"

#define EMR "platforms/emr-gold-5520p.baremetal.cpuid-r.txt"

struct fixture {
	struct tdc_cpuid_table *platform;
	size_t nplatform;
	struct tdc_model *tdx, *kvm;
	struct tdc_policy *policy;
};

static struct fixture fx;

static int setup(void **state)
{
	struct tdc_buf b;

	tdc_test_read(EMR, &b);
	assert_int_equal(tdc_import_cpuid_r(b.data, b.len, EMR, &fx.platform, &fx.nplatform), 0);
	tdc_buf_free(&b);
	assert_int_equal(tdc_model_load("tdx-1.5.01", &fx.tdx), 0);
	assert_int_equal(tdc_model_load("kvm", &fx.kvm), 0);
	assert_int_equal(tdc_policy_default(&fx.policy), 0);
	return 0;
}

static int teardown(void **state)
{
	for (size_t i = 0; i < fx.nplatform; i++)
		tdc_cpuid_table_free(&fx.platform[i]);
	free(fx.platform);
	tdc_model_free(fx.tdx);
	tdc_model_free(fx.kvm);
	tdc_policy_free(fx.policy);
	return 0;
}

/* A request = the platform's own CPUID as a desired full configuration. */
static void request_from(const struct tdc_cpuid_table *t, struct tdc_requested *req)
{
	tdc_requested_init(req);
	snprintf(req->format, sizeof(req->format), "kvm-json");
	assert_int_equal(tdc_cpuid_table_copy(&req->table, t), 0);
	assert_int_equal(tdc_cpuid_table_copy(&req->known, t), 0);
	for (size_t i = 0; i < req->known.n; i++)
		for (int k = 0; k < TDC_NREGS; k++)
			req->known.e[i].regs[k] = ~0u;
}

/* What an honest TD shows: every leaf the model virtualizes, at its predicted value. */
static void honest_view(const struct tdc_model *m, const struct tdc_requested *req,
			struct tdc_cpuid_table *guest)
{
	struct tdc_predict_in in = {
		.platform = &fx.platform[0], .requested = &req->table,
		.requested_known = &req->known, .xfam = req->xfam, .attributes = req->attributes,
		/* The engine judges a TD's request as having gone through upstream KVM. */
		.kvm_layer = tdc_model_kind(m) == TDC_MODEL_TDX,
	};
	struct tdc_prediction p;

	tdc_prediction_init(&p);
	assert_int_equal(tdc_model_predict(m, &in, &p), 0);
	tdc_cpuid_table_init(guest);
	for (size_t i = 0; i < p.n; i++) {
		struct tdc_cpuid_entry e = { .leaf = p.leaves[i].leaf, .subleaf = p.leaves[i].subleaf,
					     .flags = p.leaves[i].indexed ? TDC_CPUID_F_INDEXED : 0 };

		if (p.leaves[i].ve)
			continue;
		for (int k = 0; k < TDC_NREGS; k++)
			e.regs[k] = p.leaves[i].r[k].value;
		assert_int_equal(tdc_cpuid_table_set(guest, &e), 0);
	}
	tdc_prediction_free(&p);
}

static int check(const struct tdc_model *m, const struct tdc_requested *req,
		 const struct tdc_cpuid_table *guests, size_t n, struct tdc_check_result *res)
{
	uint32_t cpus[4] = { 0, 1, 2, 3 };
	struct tdc_check_config cfg = { .requested = req, .model = m, .policy = fx.policy,
					.platform = &fx.platform[0] };

	tdc_check_result_init(res);
	return tdc_check_tables(&cfg, guests, cpus, n, res);
}

static const struct tdc_reg_result *reg_of(const struct tdc_check_result *res, uint32_t leaf,
					   uint32_t sub, int reg, int cpu)
{
	for (size_t i = 0; i < res->nregs; i++)
		if (res->regs[i].leaf == leaf && res->regs[i].subleaf == sub &&
		    res->regs[i].reg == reg && res->regs[i].cpu == cpu)
			return &res->regs[i];
	return NULL;
}

/* Every bit in exactly one verdict mask: the partition the engine promises. */
static void assert_partition(const struct tdc_check_result *res)
{
	size_t total = 0;

	for (size_t i = 0; i < res->nregs; i++) {
		uint32_t all = 0;

		for (int v = 0; v < TDC_V__COUNT; v++) {
			assert_int_equal(all & res->regs[i].verdict[v], 0);
			all |= res->regs[i].verdict[v];
		}
		assert_int_equal(all, 0xffffffffu);
	}
	for (int v = 0; v < TDC_V__COUNT; v++)
		total += res->counts[v];
	assert_int_equal(total, res->nregs * 32);
}

static struct tdc_cpuid_entry *entry(struct tdc_cpuid_table *t, uint32_t leaf, uint32_t sub)
{
	struct tdc_cpuid_entry *e = (struct tdc_cpuid_entry *)tdc_cpuid_table_find(t, leaf, sub);

	assert_non_null(e);
	return e;
}

static void tdx_request(struct tdc_requested *req)
{
	request_from(&fx.platform[0], req);
	req->has_td_params = true;
	req->xfam = 0x2e7;
	req->attributes = TDX_ATTR_SEPT_VE_DISABLE;
}

/* Honest TD on the Emerald Rapids platform: no mismatch, hypervisor bit forced. */
static void test_tdx_honest(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;

	tdx_request(&req);
	honest_view(fx.tdx, &req, &guest);
	assert_int_equal(check(fx.tdx, &req, &guest, 1, &res), 0);
	assert_partition(&res);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	assert_true(res.passed);
	/* Bare metal has CPUID.01H:ECX.hypervisor = 0; the module forces it (fixed1). */
	rr = reg_of(&res, 1, 0, TDC_ECX, -1);
	assert_non_null(rr);
	assert_true(rr->verdict[TDC_V_FORCED] >> 31 & 1);
	assert_true(rr->cls[TDC_C_FIXED1] >> 31 & 1);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* The host/VMM changes one configurable bit behind the module's back: named mismatch. */
static void test_tdx_flipped_bit(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;
	struct tdc_buf text;
	size_t flipped = 0;

	tdx_request(&req);
	honest_view(fx.tdx, &req, &guest);
	assert_int_equal(check(fx.tdx, &req, &guest, 1, &res), 0);
	/* Pick every predicted (known), non-dynamic bit of 7.0 EBX in turn. */
	rr = reg_of(&res, 7, 0, TDC_EBX, -1);
	assert_non_null(rr);
	uint32_t candidates = rr->exp_known & ~rr->cls[TDC_C_DYNAMIC];
	tdc_check_result_free(&res);
	for (unsigned b = 0; b < 32; b++) {
		if (!(candidates >> b & 1))
			continue;
		entry(&guest, 7, 0)->regs[TDC_EBX] ^= 1u << b;
		assert_int_equal(check(fx.tdx, &req, &guest, 1, &res), 0);
		assert_int_equal(res.counts[TDC_V_MISMATCH], 1);
		assert_false(res.passed);
		rr = reg_of(&res, 7, 0, TDC_EBX, -1);
		assert_int_equal(rr->verdict[TDC_V_MISMATCH], 1u << b);
		tdc_buf_init(&text);
		assert_int_equal(tdc_check_format_text(&res, false, &text), 0);
		assert_non_null(strstr(tdc_buf_cstr(&text), "MISMATCH: CPUID.07H.0:EBX"));
		tdc_buf_free(&text);
		tdc_check_result_free(&res);
		entry(&guest, 7, 0)->regs[TDC_EBX] ^= 1u << b;
		flipped++;
	}
	assert_true(flipped > 8);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* Request bits the module fixes: forced / unsupported, never mismatch. */
static void test_tdx_fixed_bits(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;
	struct tdc_buf text;

	tdx_request(&req);
	honest_view(fx.tdx, &req, &guest);
	/*
	 * tdx-module 1.5.01 cpuid_lookup leaf 1: fixed1 ECX 0x80000000
	 * (hypervisor), fixed0_or_dynamic ECX 0x08010060 includes bit 5 (VMX).
	 * Request hypervisor=0 (already so on bare metal) and VMX=1.
	 */
	entry(&req.table, 1, 0)->regs[TDC_ECX] |= 1u << 5;
	assert_int_equal(check(fx.tdx, &req, &guest, 1, &res), 0);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	rr = reg_of(&res, 1, 0, TDC_ECX, -1);
	assert_true(rr->verdict[TDC_V_UNSUPPORTED] >> 5 & 1);
	assert_true(rr->verdict[TDC_V_FORCED] >> 31 & 1);
	tdc_buf_init(&text);
	assert_int_equal(tdc_check_format_text(&res, false, &text), 0);
	assert_non_null(strstr(tdc_buf_cstr(&text),
			       "TDX doesn't support requested feature: CPUID.01H:ECX.vmx [bit 5]"));
	assert_non_null(strstr(tdc_buf_cstr(&text),
			       "TDX forcibly sets the feature: CPUID.01H:ECX.hypervisor [bit 31]"));
	tdc_buf_free(&text);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* kvm model: the guest must see what was set, except dynamic fields. */
static void test_kvm_as_set(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;

	request_from(&fx.platform[0], &req);
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	/* OSXSAVE and the initial APIC ID may differ: dynamic, not mismatch. */
	entry(&guest, 1, 0)->regs[TDC_ECX] ^= 1u << 27;
	entry(&guest, 1, 0)->regs[TDC_EBX] ^= 0x05000000;
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	assert_partition(&res);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	tdc_check_result_free(&res);

	/* Host set a bit that was not requested (avx2 requested 0, seen 1). */
	entry(&req.table, 7, 0)->regs[TDC_EBX] &= ~(1u << 5);
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	rr = reg_of(&res, 7, 0, TDC_EBX, -1);
	assert_int_equal(rr->verdict[TDC_V_MISMATCH], 1u << 5);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 1);
	assert_false(res.passed);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* Leaves only one side has are verdicts too. */
static void test_kvm_missing_and_extra_leaves(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;
	uint32_t ebx1c;

	/* Guest sees a leaf (0x1c, LBR) the host never requested. */
	request_from(&fx.platform[0], &req);
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	tdc_cpuid_table_remove(&req.table, 0x1c, 0);
	tdc_cpuid_table_remove(&req.known, 0x1c, 0);
	ebx1c = entry(&guest, 0x1c, 0)->regs[TDC_EBX];
	assert_true(ebx1c != 0);
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	rr = reg_of(&res, 0x1c, 0, TDC_EBX, -1);
	assert_non_null(rr);
	assert_false(rr->requested_has);
	assert_int_equal(rr->verdict[TDC_V_MISMATCH], ebx1c);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
	request_from(&fx.platform[0], &req);

	/* Host requested a leaf the guest does not see (leaf 6 EAX non-zero on EMR). */
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	uint32_t eax6 = entry(&guest, 6, 0)->regs[TDC_EAX];
	tdc_cpuid_table_remove(&guest, 6, 0);
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	rr = reg_of(&res, 6, 0, TDC_EAX, -1);
	assert_non_null(rr);
	assert_false(rr->guest_has);
	assert_true(eax6 != 0);
	assert_int_equal(rr->verdict[TDC_V_MISMATCH], eax6);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/*
 * Above the maximum basic leaf KVM answers an Intel-vendor guest with the
 * maximum basic leaf, an AMD guest with zeros (get_out_of_range_cpuid_entry).
 */
static void test_kvm_out_of_range_vendor(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	struct tdc_cpuid_entry zeros = { .leaf = 0x7fff };

	request_from(&fx.platform[0], &req);
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	/* Maximum basic leaf 0x1f (EMR's 0x20 is all zeros, 0x1f.0 is not). */
	for (struct tdc_cpuid_table *t = &req.table; t; t = t == &req.table ? &guest : NULL) {
		entry(t, 0, 0)->regs[TDC_EAX] = 0x1f;
		tdc_cpuid_table_remove(t, 0x20, 0);
	}
	tdc_cpuid_table_remove(&req.known, 0x20, 0);
	assert_int_equal(tdc_cpuid_table_set(&guest, &zeros), 0);
	/* GenuineIntel: leaf 0x7fff must repeat leaf 0x1f.0, not zeros. */
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	assert_true(res.counts[TDC_V_MISMATCH] > 0);
	tdc_check_result_free(&res);
	/* AuthenticAMD (same request and view otherwise): zeros are right. */
	for (struct tdc_cpuid_table *t = &req.table; t; t = t == &req.table ? &guest : NULL) {
		entry(t, 0, 0)->regs[TDC_EBX] = 0x68747541;
		entry(t, 0, 0)->regs[TDC_EDX] = 0x69746e65;
		entry(t, 0, 0)->regs[TDC_ECX] = 0x444d4163;
	}
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* A partial request (QMP feature words) leaves unlisted leaves unchecked. */
static void test_partial_request(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;

	tdc_requested_init(&req);
	snprintf(req.format, sizeof(req.format), "qmp");
	req.partial = true;
	assert_int_equal(tdc_cpuid_table_set(&req.table, entry(&fx.platform[0], 1, 0)), 0);
	assert_int_equal(tdc_cpuid_table_set(&req.known, &(struct tdc_cpuid_entry){
		.leaf = 1, .regs = { 0, 0, ~0u, ~0u } }), 0);
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	rr = reg_of(&res, 7, 0, TDC_EBX, -1);
	assert_non_null(rr);
	/* Seen, not judged; the model's run-time fields (HLE/RTM) stay dynamic. */
	assert_int_equal(rr->verdict[TDC_V_NATIVE], ~0x810u);
	assert_int_equal(rr->verdict[TDC_V_DYNAMIC], 0x810u);
	tdc_check_result_free(&res);
	/* The listed feature words are still judged. */
	entry(&guest, 1, 0)->regs[TDC_ECX] ^= 1u << 21;
	assert_int_equal(check(fx.kvm, &req, &guest, 1, &res), 0);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 1);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* vCPUs may differ only in per-vCPU fields. */
static void test_vcpus_disagree(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guests[2];
	struct tdc_check_result res;
	const struct tdc_reg_result *rr;

	request_from(&fx.platform[0], &req);
	assert_int_equal(tdc_cpuid_table_copy(&guests[0], &fx.platform[0]), 0);
	assert_int_equal(tdc_cpuid_table_copy(&guests[1], &fx.platform[0]), 0);
	entry(&guests[1], 1, 0)->regs[TDC_EBX] += 0x02000000; /* APIC ID 2: fine */
	assert_int_equal(check(fx.kvm, &req, guests, 2, &res), 0);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	tdc_check_result_free(&res);

	entry(&guests[1], 7, 0)->regs[TDC_ECX] ^= 1u << 1; /* vCPU 1 lost avx512vbmi */
	assert_int_equal(check(fx.kvm, &req, guests, 2, &res), 0);
	rr = reg_of(&res, 7, 0, TDC_ECX, 1);
	assert_non_null(rr);
	assert_int_equal(rr->verdict[TDC_V_MISMATCH], 1u << 1);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 1);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guests[0]);
	tdc_cpuid_table_free(&guests[1]);
	tdc_requested_free(&req);
}

/* Required/forbidden bits of a policy. */
static void test_policy_bits(void **state)
{
	static const char pol[] = "{\"version\":1,\"name\":\"t\",\"required_bits\":[\"CPUID.07H.0:EBX[5]\"],"
				  "\"forbidden_bits\":[\"CPUID.01H:ECX[31]\"]}";
	struct tdc_policy *p;
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	uint32_t cpu0 = 0;
	struct tdc_check_config cfg;

	assert_int_equal(tdc_policy_parse((const uint8_t *)pol, sizeof(pol) - 1, "t", NULL, &p), 0);
	request_from(&fx.platform[0], &req);
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	cfg = (struct tdc_check_config){ .requested = &req, .model = fx.kvm, .policy = p };
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_tables(&cfg, &guest, &cpu0, 1, &res), 0);
	assert_true(res.passed); /* EMR: avx2 = 1, hypervisor = 0 */
	tdc_check_result_free(&res);
	entry(&guest, 7, 0)->regs[TDC_EBX] &= ~(1u << 5);
	entry(&req.table, 7, 0)->regs[TDC_EBX] &= ~(1u << 5);
	entry(&guest, 1, 0)->regs[TDC_ECX] |= 1u << 31;
	entry(&req.table, 1, 0)->regs[TDC_ECX] |= 1u << 31;
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_tables(&cfg, &guest, &cpu0, 1, &res), 0);
	assert_int_equal(res.counts[TDC_V_MISMATCH], 0);
	assert_false(res.passed);
	assert_int_equal(res.policy_failures, 4); /* two checks + two bits */
	tdc_check_result_free(&res);
	tdc_policy_free(p);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/*
 * A check record lost to an allocation failure poisons the verdict: the
 * only failure here is the "required_bit" record (a bit of a leaf nobody
 * reports), so a dropped record used to read as a pass.
 */
static void test_check_record_alloc_failure(void **state)
{
	static const char pol[] = "{\"version\":1,\"name\":\"t\",\"fail_on\":[],"
				  "\"required_bits\":[\"0x4fffff00:eax[0]\"]}";
	struct tdc_policy *p;
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	struct tdc_buf out;
	uint32_t cpu0 = 0;
	struct tdc_check_config cfg;

	assert_int_equal(tdc_policy_parse((const uint8_t *)pol, sizeof(pol) - 1, "t", NULL, &p), 0);
	request_from(&fx.platform[0], &req);
	assert_int_equal(tdc_cpuid_table_copy(&guest, &fx.platform[0]), 0);
	cfg = (struct tdc_check_config){ .requested = &req, .model = fx.kvm, .policy = p };
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_tables(&cfg, &guest, &cpu0, 1, &res), 0);
	assert_false(res.passed);
	assert_int_equal(tdc_check_find(&res.checks, "required_bit")->status, TDC_CHECK_FAIL);
	tdc_check_result_free(&res);

	tdc_check_result_init(&res);
	tdc_check_test_fail_alloc(0);
	assert_int_equal(tdc_check_tables(&cfg, &guest, &cpu0, 1, &res), 0);
	tdc_check_test_fail_alloc(-1);
	assert_null(tdc_check_find(&res.checks, "required_bit"));
	assert_false(res.passed);
	assert_true(res.policy_failures >= 1);
	tdc_buf_init(&out);
	assert_int_equal(tdc_check_format_text(&res, false, &out), 0);
	assert_non_null(strstr(tdc_buf_cstr(&out), "FAIL  check_record: out of memory"));
	assert_non_null(strstr(tdc_buf_cstr(&out), "result: FAIL"));
	tdc_buf_free(&out);
	tdc_check_result_free(&res);
	tdc_policy_free(p);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* A forbidden bit that only one vCPU shows fails too (audit-style policy). */
static void test_policy_bits_per_vcpu(void **state)
{
	static const char pol[] = "{\"version\":1,\"name\":\"t\",\"fail_on\":[],"
				  "\"forbidden_bits\":[\"CPUID.01H:ECX[5]\"]}";
	struct tdc_policy *p;
	struct tdc_requested req;
	struct tdc_cpuid_table guests[2];
	struct tdc_check_result res;
	uint32_t cpus[2] = { 0, 1 };
	struct tdc_check_config cfg;

	assert_int_equal(tdc_policy_parse((const uint8_t *)pol, sizeof(pol) - 1, "t", NULL, &p), 0);
	request_from(&fx.platform[0], &req);
	entry(&req.table, 1, 0)->regs[TDC_ECX] &= ~(1u << 5);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tdc_cpuid_table_copy(&guests[i], &fx.platform[0]), 0);
		entry(&guests[i], 1, 0)->regs[TDC_ECX] &= ~(1u << 5);
	}
	cfg = (struct tdc_check_config){ .requested = &req, .model = fx.kvm, .policy = p };
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_tables(&cfg, guests, cpus, 2, &res), 0);
	assert_true(res.passed);
	tdc_check_result_free(&res);
	entry(&guests[1], 1, 0)->regs[TDC_ECX] |= 1u << 5; /* vmx on vCPU 1 only */
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_tables(&cfg, guests, cpus, 2, &res), 0);
	assert_false(res.passed);
	tdc_check_result_free(&res);
	tdc_policy_free(p);
	tdc_cpuid_table_free(&guests[0]);
	tdc_cpuid_table_free(&guests[1]);
	tdc_requested_free(&req);
}

/* JSON carries every register; EAR signs and verifies as ES256. */
static void test_outputs(void **state)
{
	struct tdc_requested req;
	struct tdc_cpuid_table guest;
	struct tdc_check_result res;
	struct tdc_buf out;
	json_t *root;
	json_error_t jerr;
	char keypath[] = "/tmp/tdc-ear-key-XXXXXX";
	EVP_PKEY *key = EVP_EC_gen("P-256");
	FILE *f;
	int fd;

	tdx_request(&req);
	honest_view(fx.tdx, &req, &guest);
	assert_int_equal(check(fx.tdx, &req, &guest, 1, &res), 0);
	tdc_buf_init(&out);
	assert_int_equal(tdc_check_format_json(&res, &out), 0);
	root = json_loadb((const char *)out.data, out.len, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(root, "registers")), res.nregs);
	assert_true(json_is_true(json_object_get(root, "passed")));
	json_decref(root);

	tdc_buf_reset(&out);
	assert_int_equal(tdc_check_format_ear(&res, NULL, &out), 0);
	root = json_loadb((const char *)out.data, out.len, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "eat_profile")),
			    "tag:github.com,2023:veraison/ear");
	/* No hardware report in a table check, but the verdict passes: a warning,
	 * never contraindicated (docs/ear.md), with hardware "unrecognized" capped. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
				    root, "submods"), "tdcpuid"), "ear.status")), "warning");
	json_decref(root);

	/* Signed: three base64url parts; the signature verifies with the public key. */
	assert_non_null(key);
	assert_true((fd = mkstemp(keypath)) >= 0);
	f = fdopen(fd, "w");
	assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	tdc_buf_reset(&out);
	assert_int_equal(tdc_check_format_ear(&res, keypath, &out), 0);
	unlink(keypath);
	const char *jws = tdc_buf_cstr(&out);
	const char *dot2 = strrchr(jws, '.');
	assert_non_null(dot2);
	struct tdc_buf sigb64, sig;
	tdc_buf_init(&sigb64);
	tdc_buf_init(&sig);
	for (const char *p = dot2 + 1; *p && *p != '\n'; p++)
		tdc_buf_put_u8(&sigb64, *p == '-' ? '+' : *p == '_' ? '/' : (uint8_t)*p);
	while (sigb64.len % 4)
		tdc_buf_put_u8(&sigb64, '=');
	EVP_ENCODE_CTX *ectx = EVP_ENCODE_CTX_new();
	uint8_t raw[96];
	int outl = 0, fin = 0;
	EVP_DecodeInit(ectx);
	assert_true(EVP_DecodeUpdate(ectx, raw, &outl, sigb64.data, (int)sigb64.len) >= 0);
	assert_int_equal(EVP_DecodeFinal(ectx, raw + outl, &fin), 1);
	EVP_ENCODE_CTX_free(ectx);
	assert_int_equal(outl + fin, 64);
	ECDSA_SIG *es = ECDSA_SIG_new();
	ECDSA_SIG_set0(es, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
	unsigned char *der = NULL;
	int derlen = i2d_ECDSA_SIG(es, &der);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(mctx, der, (size_t)derlen, (const uint8_t *)jws,
					  (size_t)(dot2 - jws)), 1);
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	tdc_buf_free(&sigb64);
	tdc_buf_free(&sig);
	EVP_PKEY_free(key);
	tdc_buf_free(&out);
	tdc_check_result_free(&res);
	tdc_cpuid_table_free(&guest);
	tdc_requested_free(&req);
}

/* ---- the merge walk against the lookups it replaced ------------------------ */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	return tdc_test_rnd(&rng, n);
}

/* One register's inputs as the engine gathered them. */
struct ref_reg {
	uint32_t leaf, subleaf, seen, requested, req_known, expected, exp_known;
	int32_t cpu;
	uint8_t reg;
	bool indexed, guest_has, requested_has;
};

static int cmp_entry(const void *a, const void *b)
{
	return tdc_cpuid_entry_cmp(a, b);
}

static int ref_fn(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[TDC_NREGS])
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(ctx, leaf, subleaf);

	for (int i = 0; i < TDC_NREGS; i++)
		regs[i] = e ? e->regs[i] : 0;
	return 0;
}

static void ref_push(struct ref_reg *out, size_t *n, uint32_t leaf, uint32_t sub, int32_t cpu,
		     bool indexed, const struct tdc_cpuid_entry *ge, bool absent,
		     const struct tdc_pred_leaf *pl, const struct tdc_requested *req, unsigned reg)
{
	const struct tdc_cpuid_entry *v = tdc_cpuid_table_find(&req->table, leaf, sub);
	const struct tdc_cpuid_entry *k = v ? tdc_cpuid_table_find(&req->known, leaf, sub) : NULL;

	out[(*n)++] = (struct ref_reg){
		.leaf = leaf, .subleaf = sub, .cpu = cpu, .reg = (uint8_t)reg,
		.indexed = indexed || pl->indexed, .guest_has = ge && !absent,
		.seen = ge && !absent ? ge->regs[reg] : 0, .requested_has = v != NULL,
		.requested = v ? v->regs[reg] : 0, .req_known = v ? (k ? k->regs[reg] : ~0u) : 0,
		.expected = pl->r[reg].value, .exp_known = pl->r[reg].known,
	};
}

/*
 * The common table as the engine judged it before the merge walk: the keys
 * of guest, request and prediction appended, sorted, folded; then every
 * table bisected per key.
 */
static size_t ref_table(const struct tdc_requested *req, const struct tdc_prediction *pred,
			const struct tdc_cpuid_table *guest, struct ref_reg *out)
{
	struct tdc_cpuid_table keys, reach;
	struct tdc_pred_leaf tmp;
	bool have_reach;
	size_t n = 0, k = 0;

	tdc_cpuid_table_init(&reach);
	have_reach = guest->n && tdc_cpuid_enumerate(ref_fn, (void *)guest, &reach, NULL) == 0;
	keys.n = 0;
	keys.e = calloc(guest->n + req->table.n + pred->n + 1, sizeof(*keys.e));
	assert_non_null(keys.e);
	for (size_t i = 0; i < guest->n; i++)
		keys.e[keys.n++] = guest->e[i];
	for (size_t i = 0; i < req->table.n; i++)
		keys.e[keys.n++] = req->table.e[i];
	for (size_t i = 0; i < pred->n; i++)
		if (!pred->leaves[i].ve)
			keys.e[keys.n++] = (struct tdc_cpuid_entry){
				.leaf = pred->leaves[i].leaf, .subleaf = pred->leaves[i].subleaf,
				.flags = pred->leaves[i].indexed ? TDC_CPUID_F_INDEXED : 0 };
	qsort(keys.e, keys.n, sizeof(*keys.e), cmp_entry);
	for (size_t i = 0; i < keys.n; i++) {
		if (k && !tdc_cpuid_entry_cmp(&keys.e[k - 1], &keys.e[i])) {
			keys.e[k - 1].flags |= keys.e[i].flags & TDC_CPUID_F_INDEXED;
			continue;
		}
		keys.e[k++] = keys.e[i];
	}
	for (size_t i = 0; i < k; i++) {
		const struct tdc_cpuid_entry *kk = &keys.e[i];
		const struct tdc_cpuid_entry *ge = tdc_cpuid_table_find(guest, kk->leaf, kk->subleaf);
		const struct tdc_pred_leaf *pl;

		if (!ge && have_reach && !tdc_cpuid_table_find(&reach, kk->leaf, kk->subleaf))
			continue;
		pl = tdc_prediction_lookup(pred, kk->leaf, kk->subleaf, &tmp);
		for (unsigned reg = 0; reg < TDC_NREGS; reg++)
			ref_push(out, &n, kk->leaf, kk->subleaf, -1, kk->flags & TDC_CPUID_F_INDEXED,
				 ge, false, pl, req, reg);
	}
	free(keys.e);
	tdc_cpuid_table_free(&reach);
	return n;
}

/* vCPU 1's entries that differ from vCPU 0's, as tdc_check_tables splits them. */
static size_t ref_delta(const struct tdc_requested *req, const struct tdc_prediction *pred,
			const struct tdc_cpuid_table *t0, const struct tdc_cpuid_table *t1,
			struct ref_reg *out, size_t n)
{
	struct tdc_cpuid_table d;
	struct tdc_pred_leaf tmp;

	tdc_cpuid_table_init(&d);
	for (size_t j = 0; j < t1->n; j++) {
		const struct tdc_cpuid_entry *c = tdc_cpuid_table_find(t0, t1->e[j].leaf,
								       t1->e[j].subleaf);

		if (!c || memcmp(c->regs, t1->e[j].regs, sizeof(c->regs)))
			assert_int_equal(tdc_cpuid_table_set(&d, &t1->e[j]), 0);
	}
	for (size_t j = 0; j < t0->n; j++) {
		struct tdc_cpuid_entry gone = t0->e[j];

		if (tdc_cpuid_table_find(t1, gone.leaf, gone.subleaf))
			continue;
		gone.flags |= TDC_CPUID_F_ABSENT;
		assert_int_equal(tdc_cpuid_table_set(&d, &gone), 0);
	}
	for (size_t i = 0; i < d.n; i++) {
		const struct tdc_cpuid_entry *de = &d.e[i];
		const struct tdc_cpuid_entry *ce = tdc_cpuid_table_find(t0, de->leaf, de->subleaf);
		const struct tdc_pred_leaf *pl = tdc_prediction_lookup(pred, de->leaf, de->subleaf,
								       &tmp);
		bool absent = de->flags & TDC_CPUID_F_ABSENT;

		for (unsigned reg = 0; reg < TDC_NREGS; reg++)
			if (absent || de->regs[reg] != (ce ? ce->regs[reg] : 0))
				ref_push(out, &n, de->leaf, de->subleaf, 1,
					 de->flags & TDC_CPUID_F_INDEXED, de, absent, pl, req, reg);
	}
	tdc_cpuid_table_free(&d);
	return n;
}

/* Random leaves near the real ones, sometimes out of order (sorted = false). */
static void scramble(struct tdc_cpuid_table *t, bool values)
{
	static const uint32_t base[] = { 0, 0x40000000, 0x80000000 };
	size_t drop = rnd(4) ? rnd(6) : 0, add = rnd(8);

	for (size_t i = 0; i < drop && t->n; i++) {
		const struct tdc_cpuid_entry *e = &t->e[rnd((uint32_t)t->n)];

		tdc_cpuid_table_remove(t, e->leaf, e->subleaf);
	}
	for (size_t i = 0; i < add; i++) {
		struct tdc_cpuid_entry e = { .leaf = base[rnd(3)] + rnd(0x24), .subleaf = rnd(4),
					     .flags = rnd(2) ? TDC_CPUID_F_INDEXED : 0 };

		for (int r = 0; r < TDC_NREGS; r++)
			e.regs[r] = rnd(3) ? 0 : rnd(0xffffffff);
		assert_int_equal(tdc_cpuid_table_set(t, &e), 0);
	}
	for (size_t i = 0; values && t->n && i < rnd(4); i++)
		t->e[rnd((uint32_t)t->n)].regs[rnd(TDC_NREGS)] ^= 1u << rnd(32);
	if (rnd(5))
		tdc_cpuid_table_sort(t);
}

static void assert_same_inputs(const struct tdc_check_result *res, const struct ref_reg *ref,
			       size_t n, int round)
{
	if (res->nregs != n)
		fail_msg("round %d: %zu registers judged, the lookups give %zu", round,
			 res->nregs, n);
	for (size_t i = 0; i < n; i++) {
		const struct tdc_reg_result *rr = &res->regs[i];
		const struct ref_reg *f = &ref[i];

		if (rr->leaf != f->leaf || rr->subleaf != f->subleaf || rr->reg != f->reg ||
		    rr->cpu != f->cpu || rr->indexed != f->indexed || rr->guest_has != f->guest_has ||
		    rr->seen != f->seen || rr->requested_has != f->requested_has ||
		    rr->requested != f->requested || rr->req_known != f->req_known ||
		    rr->expected != f->expected || rr->exp_known != f->exp_known)
			fail_msg("round %d: register %zu (0x%x.%u %s cpu %d) differs from the lookups'"
				 " (0x%x.%u)", round, i, rr->leaf, rr->subleaf, tdc_reg_name(rr->reg),
				 rr->cpu, f->leaf, f->subleaf);
	}
}

/*
 * The engine's one walk over sorted keys, with forward cursors, against the
 * old per-key bisection on random guests and requests (both models, sorted
 * and unsorted tables, leaves added and dropped, a second vCPU that
 * differs): the same registers in the same order with the same inputs.
 * decide() sees the same inputs, so the same verdicts.
 */
static void test_merge_walk_differential(void **state)
{
	struct ref_reg *ref = calloc(4 * 3 * 4096, sizeof(*ref));

	assert_non_null(ref);
	for (int round = 0; round < 600; round++) {
		const struct tdc_model *m = round % 2 ? fx.kvm : fx.tdx;
		struct tdc_cpuid_table guests[2];
		struct tdc_requested req;
		struct tdc_check_result res;
		struct tdc_prediction p;
		size_t nguests = rnd(3) ? 1 : 2, n;

		tdx_request(&req);
		if (m == fx.kvm)
			req.has_td_params = false;
		honest_view(m, &req, &guests[0]);
		scramble(&req.table, true);
		tdc_cpuid_table_free(&req.known);
		assert_int_equal(tdc_cpuid_table_copy(&req.known, &req.table), 0);
		for (size_t i = 0; i < req.known.n; i++)
			for (int k = 0; k < TDC_NREGS; k++)
				req.known.e[i].regs[k] = rnd(4) ? ~0u : rnd(0xffffffff);
		if (rnd(3)) {
			tdc_cpuid_table_free(&req.known);
			assert_int_equal(tdc_cpuid_table_copy(&req.known, &req.table), 0);
			scramble(&req.known, false);
		}
		scramble(&guests[0], true);
		assert_int_equal(tdc_cpuid_table_copy(&guests[1], &guests[0]), 0);
		scramble(&guests[1], true);

		struct tdc_predict_in in = {
			.platform = &fx.platform[0], .requested = &req.table,
			.requested_known = &req.known, .xfam = req.xfam, .attributes = req.attributes,
			.kvm_layer = tdc_model_kind(m) == TDC_MODEL_TDX,
		};
		tdc_prediction_init(&p);
		int pr = tdc_model_predict(m, &in, &p);
		assert_true(pr == 0 || pr == TDC_ERR_MODEL);
		assert_int_equal(check(m, &req, guests, nguests, &res), 0);
		n = ref_table(&req, &p, &guests[0], ref);
		if (nguests == 2)
			n = ref_delta(&req, &p, &guests[0], &guests[1], ref, n);
		assert_same_inputs(&res, ref, n, round);
		assert_partition(&res);
		/* The count's fast path (all confirmed): the same as popcounts. */
		size_t counted[TDC_V__COUNT] = { 0 };

		for (size_t i = 0; i < res.nregs; i++)
			for (int v = 0; v < TDC_V__COUNT; v++)
				counted[v] += (size_t)__builtin_popcount(res.regs[i].verdict[v]);
		assert_memory_equal(counted, res.counts, sizeof(counted));
		tdc_check_result_free(&res);
		tdc_prediction_free(&p);
		for (size_t i = 0; i < 2; i++)
			tdc_cpuid_table_free(&guests[i]);
		tdc_requested_free(&req);
	}
	free(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdx_honest),
		cmocka_unit_test(test_tdx_flipped_bit),
		cmocka_unit_test(test_tdx_fixed_bits),
		cmocka_unit_test(test_kvm_as_set),
		cmocka_unit_test(test_kvm_missing_and_extra_leaves),
		cmocka_unit_test(test_kvm_out_of_range_vendor),
		cmocka_unit_test(test_partial_request),
		cmocka_unit_test(test_vcpus_disagree),
		cmocka_unit_test(test_policy_bits),
		cmocka_unit_test(test_policy_bits_per_vcpu),
		cmocka_unit_test(test_check_record_alloc_failure),
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_merge_walk_differential),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
