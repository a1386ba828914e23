// SPDX-License-Identifier: Apache-2.0
/*
 * The service's built-in evidence check, used when the full engine is not
 * wanted (`serve --checks basic`) and by the service's own tests: it checks
 * everything that binds evidence to *this* exchange, and no CPUID bits.
 *
 *   envelope and claims decode (strict, lib/evidence_*.c)
 *   REPORTDATA (TDREPORT or Quote body) == SHA-512(tag || 0 || claims)
 *   claims nonce == the nonce this verifier issued
 *   sim TDREPORT MAC, when the registry entry names the sim key directory
 *   MRCONFIGID == the registry entry's, when pinned
 *
 * None of this authenticates the hardware (no quote signature, no PCK
 * chain, no MAC unless simulated), so a basic verdict is never a pass: it
 * fails with "checks_basic" among the failing items, in the frame, the
 * document ("mode": "basic") and the audit log alike.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"
#include "tdcpuid/check.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

struct basic_vm {
	struct tdc_requested requested; /* loaded to validate the registry entry */
	bool has_sim_key;
	uint8_t sim_key[TDC_SIM_HMAC_KEY_LEN];
};

int tdc_service_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	SHA256(p, n, out);
	return 0;
}

static int basic_prepare(void *ctx, struct tdc_vm_entry *vm)
{
	struct basic_vm *b = calloc(1, sizeof(*b));
	int e;

	if (!b)
		return tdc_err(TDC_ERR_ALLOC, "registry: alloc");
	tdc_requested_init(&b->requested);
	if ((e = tdc_requested_load(vm->requested, vm->requested_format, &b->requested)) != 0)
		goto fail;
	if (vm->sim_dir[0]) {
		if ((e = tdc_sim_mac_key_load(vm->sim_dir, b->sim_key)) != 0)
			goto fail;
		b->has_sim_key = true;
	}
	vm->prepared = b;
	return 0;
fail:
	tdc_requested_free(&b->requested);
	free(b);
	return e;
}

static void basic_release(void *ctx, struct tdc_vm_entry *vm)
{
	struct basic_vm *b = vm->prepared;

	if (!b)
		return;
	tdc_requested_free(&b->requested);
	OPENSSL_cleanse(b->sim_key, sizeof(b->sim_key));
	free(b);
	vm->prepared = NULL;
}

struct basic_run {
	struct tdc_check_list checks;
	struct tdc_verify_out *out;
};

static void check(struct basic_run *run, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A record that cannot be stored poisons the list: the verdict then fails. */
static void check(struct basic_run *run, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tdc_check_vadd(&run->checks, name, ok ? TDC_CHECK_PASS : TDC_CHECK_FAIL, NULL, fmt, ap);
	va_end(ap);
}

/* The audit log's summary: failing names, the first failure's detail. */
static void summarize(const struct tdc_check_list *l, struct tdc_verify_out *out)
{
	for (size_t i = 0; i < tdc_check_count(l); i++) {
		const struct tdc_check *c = tdc_check_at(l, i);
		size_t fl = strlen(out->failing);

		if (c->status != TDC_CHECK_FAIL)
			continue;
		snprintf(out->failing + fl, sizeof(out->failing) - fl, "%s%s", fl ? "," : "",
			 c->name);
		if (!out->detail[0])
			snprintf(out->detail, sizeof(out->detail), "%s: %s", c->name, c->detail);
	}
}

/* REPORTDATA and MRCONFIGID from the TDREPORT, else from the quote body. */
static int attested(const struct tdc_envelope *env, uint8_t rd[64], uint8_t mrcfg[48],
		    const char **from)
{
	struct tdx_report rep;
	struct tdx_quote q;
	int e;

	if (env->tdreport.len) {
		if ((e = tdx_report_parse(env->tdreport.data, env->tdreport.len, &rep)) != 0)
			return e;
		memcpy(rd, rep.report_data, 64);
		memcpy(mrcfg, rep.td.mr_config_id, 48);
		*from = "tdreport";
		return 0;
	}
	if (env->quote.len) {
		if ((e = tdx_quote_parse(env->quote.data, env->quote.len, true, &q)) != 0)
			return e;
		memcpy(rd, q.body.report_data, 64);
		memcpy(mrcfg, q.body.mr_config_id, 48);
		*from = "quote";
		return 0;
	}
	return tdc_err(TDC_ERR_MISSING, "evidence: neither tdreport nor quote");
}

static void run_checks(struct basic_run *run, const struct tdc_vm_entry *vm,
		       const struct tdc_envelope *env, const struct tdc_claims *c,
		       const uint8_t *nonce, size_t nonce_len)
{
	const struct basic_vm *b = vm->prepared;
	uint8_t rd[64], want[64], mrcfg[48];
	const char *from = "";
	char hex[97];
	int e;

	if ((e = attested(env, rd, mrcfg, &from)) != 0) {
		check(run, "report", false, "%s", tdc_errmsg(e));
		return;
	}
	/* Fail closed: this debugging path does not replay event logs. */
	if (c->binding == TDC_BIND_RTMR3)
		check(run, "reportdata_binding", false, "claims are bound by RTMR3, which "
		      "--checks basic does not verify (use --checks engine)");
	else if (tdc_reportdata_compute(env->claims.data, env->claims.len, want) == 0)
		check(run, "reportdata_binding", !CRYPTO_memcmp(rd, want, 64),
		      "REPORTDATA in the %s %s SHA-512 of the claims", from,
		      CRYPTO_memcmp(rd, want, 64) ? "differs from" : "equals");
	else
		check(run, "reportdata_binding", false, "%s", tdc_errmsg(TDC_ERR_INTERNAL));
	if (!nonce) {
		/* Only `ingest --no-nonce` gets here: the operator's flag waives it. */
		tdc_check_add_waived(&run->checks, "nonce", "--no-nonce",
				     "not checked: freshness not proven (no nonce given)");
		goto mac;
	}
	check(run, "nonce", c->nonce_len == nonce_len && !CRYPTO_memcmp(c->nonce, nonce, nonce_len),
	      "claims nonce %s the nonce issued for this exchange",
	      c->nonce_len == nonce_len && !CRYPTO_memcmp(c->nonce, nonce, nonce_len)
		      ? "equals" : "differs from");
mac:
	if (b && b->has_sim_key && env->tdreport.len) {
		e = tdc_sim_report_verify(env->tdreport.data, env->tdreport.len, b->sim_key);
		check(run, "tdreport_mac", e == 0, "%s", e ? tdc_errmsg(e) : "sim MAC verifies");
	}
	if (vm->has_mrconfigid) {
		tdc_hex_encode(mrcfg, sizeof(mrcfg), hex);
		check(run, "mrconfigid", !memcmp(mrcfg, vm->mrconfigid, 48), "attested MRCONFIGID %s",
		      hex);
	}
}

static int basic_verify(void *ctx, const struct tdc_vm_entry *vm, const uint8_t *ev, size_t len,
			const uint8_t *nonce, size_t nonce_len, time_t nonce_issued,
			struct tdc_verify_out *out)
{
	struct tdc_envelope env;
	struct tdc_claims c;
	struct basic_run run = { .out = out };
	json_t *doc = NULL;
	char *s = NULL;
	int e;

	tdc_check_list_init(&run.checks);
	tdc_envelope_init(&env);
	tdc_claims_init(&c);
	if ((e = tdc_envelope_decode(ev, len, &env)) != 0 ||
	    (e = tdc_claims_decode(env.claims.data, env.claims.len, &c)) != 0) {
		snprintf(out->detail, sizeof(out->detail), "%s", tdc_errmsg(e));
		goto out;
	}
	snprintf(out->claims_vm, sizeof(out->claims_vm), "%s", c.vm_name);
	run_checks(&run, vm, &env, &c, nonce, nonce_len);
	if (out->expect_vm && (c.vm_name[0] || !out->expect_vm_optional))
		check(&run, "vm_name", !strcmp(c.vm_name, out->expect_vm),
		      "claims name VM '%s', registry entry is '%s'", c.vm_name, out->expect_vm);
	check(&run, "checks_basic", false, "basic checks only (serve --checks basic): the "
	      "hardware is not authenticated and no policy was applied");
	out->passed = tdc_check_list_ok(&run.checks);
	summarize(&run.checks, out);
	if ((doc = tdc_verdict_json_new("basic", out->passed))) {
		json_object_set_new(doc, "verifier", json_string("tdcpuid-basic"));
		json_object_set_new(doc, "mode", json_string("basic"));
		json_object_set_new(doc, "vm", json_string(vm->name));
		json_object_set_new(doc, "tee", json_string(tdc_tee_name(c.tee)));
		json_object_set_new(doc, "checks", tdc_check_list_json(&run.checks));
	}
	if (!doc || !(s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		out->passed = false;
		e = tdc_err(TDC_ERR_ALLOC, "verdict document");
		goto out;
	}
	snprintf(out->format, sizeof(out->format), "json");
	tdc_buf_reset(&out->doc);
	e = tdc_buf_put(&out->doc, s, strlen(s));
out:
	free(s);
	json_decref(doc);
	tdc_check_list_free(&run.checks);
	tdc_claims_free(&c);
	tdc_envelope_free(&env);
	return e;
}

const struct tdc_verifier_ops tdc_verifier_basic = {
	.name = "basic",
	.prepare = basic_prepare,
	.release = basic_release,
	.verify = basic_verify,
};
