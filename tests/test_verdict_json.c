// SPDX-License-Identifier: Apache-2.0
/*
 * `check --format json` is written directly (verifier/engine/output.c,
 * jsonw.h); its bytes must be those jansson dumped when the verdict was
 * built as an object (tests/verdict_oracle.c).  Compared over many hostile
 * random verdicts, and on the CLI's own output for the test fixtures: the
 * verifier binary runs each case, the same verdict is computed here with
 * the same inputs, and the CLI's bytes, the writer's and the oracle's must
 * all be equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "coll_cli.h"
#include "engine.h"
#include "model.h"
#include "policy.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/requested.h"
#include "verdict_oracle.h"

static void expect_same(const char *what, const struct tdc_buf *a, const char *an,
			const struct tdc_buf *b, const char *bn)
{
	size_t i = 0;

	if (a->len == b->len && !memcmp(a->data, b->data, a->len))
		return;
	while (i < a->len && i < b->len && a->data[i] == b->data[i])
		i++;
	fprintf(stderr, "%s: %s (%zu bytes) and %s (%zu bytes) differ at byte %zu:\n"
		"--- %s\n%.*s\n--- %s\n%.*s\n", what, an, a->len, bn, b->len, i, an,
		(int)(a->len - i < 200 ? a->len - i : 200), (const char *)a->data + i, bn,
		(int)(b->len - i < 200 ? b->len - i : 200), (const char *)b->data + i);
	fail();
}

static void test_random_verdicts(void **state)
{
	uint64_t rng = 0x2545f4914f6cdd1dull;
	size_t bits = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct tdc_check_result res;
		struct tdc_oracle_store store;
		struct tdc_buf a, b;
		char what[32];

		tdc_oracle_random_result(&rng, &res, &store);
		tdc_buf_init(&a);
		tdc_buf_init(&b);
		assert_int_equal(tdc_check_format_json(&res, &a), 0);
		assert_int_equal(tdc_oracle_check_json(&res, &b), 0);
		snprintf(what, sizeof(what), "verdict %d", i);
		expect_same(what, &a, "writer", &b, "jansson");
		bits += res.nregs;
		tdc_buf_free(&a);
		tdc_buf_free(&b);
		tdc_check_result_free(&res);
	}
	printf("  3000 verdicts (%zu registers) byte-identical\n", bits);
}

/* ---- the CLI on the fixtures ------------------------------------------------ */

struct fixture {
	const char *name;
	const char *requested;  /* under TDC_TESTDATA, or NULL: this host's probe */
	const char *model;
	bool policy;            /* the sim policy, else the built-in default */
	bool collateral;        /* the test PKI's collateral directory */
	bool nonce;             /* --nonce 0102 (the evidence carries it) */
	bool past;              /* --at before the collateral was issued */
};

static const struct fixture fixtures[] = {
	{ "sim, own probe, collateral", NULL, "kvm", true, true, true, false },
	{ "sim, collateral not yet valid", NULL, "kvm", true, true, true, true },
	{ "default policy, no nonce", NULL, "kvm", false, false, false, false },
	{ "kvm-cpuid2 request", "requested/kvm-cpuid2.json", "kvm", true, false, true, false },
	{ "qmp capture", "requested/qmp-capture-qemu64-kvm.json", "kvm", true, true, true, false },
	{ "tdx-init-vm, tdx model", "requested/tdx-init-vm.json", "tdx", true, false, true, false },
	{ "tdx-init-vm, tdx-1.5 model", "requested/tdx-init-vm.json", "tdx-1.5.25", false, true,
	  false, false },
};

static char dir[] = "/tmp/tdc-verdict-json-XXXXXX";

static const char *path_in(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
	return buf;
}

static int run(const char *cmd)
{
	int st = system(cmd);

	if (st != -1 && WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

/* The agent's sim evidence for this host, the test PKI's collateral, a sim policy. */
static bool make_inputs(void)
{
	const char *agent = getenv("TDC_AGENT"), *pki = getenv("TDC_TEST_PKI");
	char cmd[2048];
	FILE *f;

	if (!agent || !pki || !getenv("TDC_VERIFIER"))
		return false;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' sim-keygen sim >/dev/null 2>&1 && "
		 "'%s' --sim-dir sim --out pki >/dev/null && '%s' probe --format raw -o req.txt && "
		 "'%s' evidence --tee sim --sim-dir sim --nonce 0102 -o ev.cbor 2>/dev/null", dir,
		 agent, pki, agent, agent);
	assert_int_equal(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/policy.json", dir);
	assert_non_null(f = fopen(cmd, "w"));
	fputs("{\"version\":1,\"name\":\"test-sim\",\"allow_simulated\":true,"
	      "\"fail_on\":[\"mismatch\"]}\n", f);
	assert_int_equal(fclose(f), 0);
	return true;
}

static const char *requested_of(const struct fixture *fx, char *buf, size_t cap)
{
	if (!fx->requested)
		return path_in(buf, cap, "req.txt");
	snprintf(buf, cap, "%s", tdc_testdata(fx->requested));
	return buf;
}

/* What `tdcpuid-verifier check` printed for @fx, and its exit status. */
static int cli_output(const struct fixture *fx, time_t at, struct tdc_buf *out)
{
	char cmd[4096], req[512], p[512];
	int rc;

	/* Absolute paths: the collateral source is named in the verdict as given. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' check --evidence ev.cbor --requested '%s' "
		 "--model %s %s --root sim/root-ca.pem %s%s %s --at @%lld --format json "
		 "-o out.json 2>/dev/null", dir, getenv("TDC_VERIFIER"),
		 requested_of(fx, req, sizeof(req)), fx->model,
		 fx->policy ? "--policy policy.json" : "", fx->collateral ? "--collateral " : "",
		 fx->collateral ? path_in(p, sizeof(p), "pki") : "", fx->nonce ? "--nonce 0102" : "",
		 (long long)at);
	rc = run(cmd);
	assert_int_equal(tdc_read_file(path_in(p, sizeof(p), "out.json"), 64 << 20, out), 0);
	return rc;
}

/*
 * The same verdict computed in process, with cmd_check.c's inputs for the
 * same options, written by the product (@mine) and by the oracle (@ref)
 * while the model its registers borrow from is open.
 */
static bool verdict_here(const struct fixture *fx, time_t at, struct tdc_buf *mine,
			 struct tdc_buf *ref)
{
	static const uint8_t nonce[] = { 1, 2 };
	struct tdc_coll_source_opts opts;
	struct tdc_check_config cfg = { .model_why = "given with --model", .at = at };
	struct tdc_requested req;
	struct tdc_model *model = NULL;
	struct tdc_model_set *models = NULL;
	struct tdc_policy *policy = NULL;
	struct tdc_coll_source *coll = NULL;
	struct tdc_trust *trust = NULL;
	struct tdc_buf ev, env;
	struct tdc_check_result res;
	char p[512], root[512];
	bool passed;

	tdc_requested_init(&req);
	assert_int_equal(tdc_requested_load(requested_of(fx, p, sizeof(p)), NULL, &req), 0);
	if (!strcmp(fx->model, "tdx"))
		assert_int_equal(tdc_model_set_open(&models), 0);
	else
		assert_int_equal(tdc_model_load(fx->model, &model), 0);
	assert_int_equal(fx->policy ? tdc_policy_load(path_in(p, sizeof(p), "policy.json"),
						      &policy) : tdc_policy_default(&policy), 0);
	tdc_coll_source_opts_init(&opts);
	if (fx->collateral)
		assert_int_equal(tdc_coll_cli_opt(&opts, TDC_COLL_OPT_SRC,
						  path_in(p, sizeof(p), "pki")), 0);
	assert_int_equal(tdc_coll_cli_open(&opts, &coll), 0);
	assert_int_equal(tdc_cli_trust_load(path_in(root, sizeof(root), "sim/root-ca.pem"),
					    policy->trust_anchor, &trust), 0);
	tdc_buf_init(&ev);
	tdc_buf_init(&env);
	assert_int_equal(tdc_read_file(path_in(p, sizeof(p), "ev.cbor"), TDC_IMPORT_MAX, &ev), 0);
	assert_int_equal(tdc_evidence_import(ev.data, ev.len, &(struct tdc_evidence_parts){ 0 },
					     &env, NULL), 0);
	cfg.requested = &req;
	cfg.model = model;
	cfg.models = models;
	cfg.policy = policy;
	cfg.trust = trust;
	cfg.collateral_source = coll;
	if (fx->nonce) {
		cfg.nonce = nonce;
		cfg.nonce_len = sizeof(nonce);
	}
	tdc_check_result_init(&res);
	assert_int_equal(tdc_check_evidence(&cfg, env.data, env.len, &res), 0);
	assert_int_equal(tdc_check_format_json(&res, mine), 0);
	assert_int_equal(tdc_oracle_check_json(&res, ref), 0);
	passed = res.passed;
	tdc_check_result_free(&res);
	tdc_buf_free(&ev);
	tdc_buf_free(&env);
	tdc_requested_free(&req);
	tdc_model_free(model);
	tdc_model_set_free(models);
	tdc_policy_free(policy);
	tdc_coll_source_free(coll);
	tdc_trust_free(trust);
	return passed;
}

static void test_cli_fixtures(void **state)
{
	time_t now = time(NULL);
	char cmd[600];

	(void)state;
	if (!make_inputs()) {
		printf("  TDC_AGENT, TDC_TEST_PKI or TDC_VERIFIER not set (run through ctest): "
		       "CLI not run\n");
		return;
	}
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *fx = &fixtures[i];
		time_t at = fx->past ? now - 30 * 86400 : now;
		struct tdc_buf cli, mine, ref;
		bool passed;
		int rc;

		tdc_buf_init(&cli);
		tdc_buf_init(&mine);
		tdc_buf_init(&ref);
		rc = cli_output(fx, at, &cli);
		passed = verdict_here(fx, at, &mine, &ref);
		expect_same(fx->name, &cli, "CLI", &ref, "jansson");
		expect_same(fx->name, &mine, "writer", &ref, "jansson");
		/* The exit status is the verdict's: the same output for a pass and a failure. */
		assert_int_equal(rc, passed ? 0 : 1);
		printf("  %s: exit %d, %zu bytes: CLI = writer = jansson\n", fx->name, rc, cli.len);
		tdc_buf_free(&cli);
		tdc_buf_free(&mine);
		tdc_buf_free(&ref);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(run(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_verdicts),
		cmocka_unit_test(test_cli_fixtures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
