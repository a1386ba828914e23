// SPDX-License-Identifier: Apache-2.0
/*
 * The service's default evidence check: the full engine (verify.c), the
 * same code as `tdcpuid-verifier check`.  Everything a VM's registry entry
 * names (requested config, platform dump, model, policy, trust root) is
 * parsed once at registry load; a check only reads it, so the worker
 * threads share it without locks.
 */
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll_source.h"
#include "collateral.h"
#include "engine.h"
#include "model.h"
#include "policy.h"
#include "service.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

struct engine_vm {
	struct tdc_requested req;
	struct tdc_cpuid_table *platform;
	size_t nplatform;
	struct tdc_model *model;
	struct tdc_model_set *models;   /* "model": "tdx": chosen per evidence */
	struct tdc_policy *policy;
	struct tdc_trust *trust;        /* loaded at prepare, shared read-only by workers */
	uint8_t sim_key[TDC_SIM_HMAC_KEY_LEN];
	/* Per VM entry, dropped with it on reload: verified PCK chains and keys,
	 * and the model's prediction for the attested TD parameters. */
	struct tdc_collateral_cache *cache;
	struct tdc_predict_memo *memo;
	struct tdc_coll_source *collateral; /* NULL: TCB status not evaluated */
};

static void engine_vm_free(struct engine_vm *v)
{
	tdc_requested_free(&v->req);
	for (size_t i = 0; i < v->nplatform; i++)
		tdc_cpuid_table_free(&v->platform[i]);
	free(v->platform);
	tdc_model_free(v->model);
	tdc_model_set_free(v->models);
	tdc_policy_free(v->policy);
	tdc_trust_free(v->trust);
	tdc_collateral_cache_free(v->cache);
	tdc_coll_source_put(v->collateral);
	tdc_predict_memo_free(v->memo);
	OPENSSL_cleanse(v->sim_key, sizeof(v->sim_key));
	free(v);
}

/* "tdx": the release index, models loaded per version on first use and kept. */
static int load_model(const char *name, struct engine_vm *v)
{
	if (!strcmp(name, "tdx"))
		return tdc_model_set_open(&v->models);
	return tdc_model_load(name, &v->model);
}

/*
 * The VM's collateral source: a directory, or a PCS/PCCS URL whose verified
 * copies live in the service's cache and are refreshed in the background.
 */
static int open_collateral(const struct tdc_engine_ctx *ctx, const struct tdc_vm_entry *vm,
			   struct engine_vm *v)
{
	struct tdc_coll_source_opts o;
	int e;

	tdc_coll_source_opts_init(&o);
	o.spec = vm->collateral;
	o.cache_root = ctx ? ctx->collateral_cache : NULL;
	o.ca_file = vm->collateral_ca[0] ? vm->collateral_ca : NULL;
	o.background = true;
	if ((e = tdc_tcb_update_parse(vm->tcb_update, &o.update)) != 0)
		return e;
	/* VM entries naming the same service share one source and its refresh
	 * thread, across registry reloads too. */
	return tdc_coll_source_get(&o, &v->collateral);
}

static int engine_prepare(void *ctx, struct tdc_vm_entry *vm)
{
	struct engine_vm *v = calloc(1, sizeof(*v));
	int e;

	if (!v)
		return tdc_err(TDC_ERR_ALLOC, "registry: alloc");
	tdc_requested_init(&v->req);
	if ((e = tdc_requested_load(vm->requested, vm->requested_format, &v->req)) != 0 ||
	    (vm->platform[0] && (e = tdc_platform_load(vm->platform, &v->platform, &v->nplatform)) != 0) ||
	    /* Same default as `check`: a TDX request implies the TDX module model. */
	    (e = load_model(vm->model[0] ? vm->model : v->req.has_td_params ? "tdx" : "kvm",
			    v)) != 0 ||
	    (e = vm->policy[0] ? tdc_policy_load(vm->policy, &v->policy)
			       : tdc_policy_default(&v->policy)) != 0 ||
	    /* The CLI's loader and checks (self-signed root, TD QE identity),
	     * once per entry and reload, never per evidence. */
	    (e = tdc_trust_load(vm->trust_root[0] ? vm->trust_root : v->policy->trust_anchor,
				&v->trust)) != 0 ||
	    (vm->collateral[0] && (e = open_collateral(ctx, vm, v)) != 0) ||
	    (vm->sim_dir[0] && (e = tdc_sim_mac_key_load(vm->sim_dir, v->sim_key)) != 0) ||
	    (e = tdc_collateral_cache_new(&v->cache)) != 0 ||
	    (e = tdc_predict_memo_new(&v->memo)) != 0) {
		engine_vm_free(v);
		return e;
	}
	vm->prepared = v;
	return 0;
}

static void engine_release(void *ctx, struct tdc_vm_entry *vm)
{
	if (vm->prepared)
		engine_vm_free(vm->prepared);
	vm->prepared = NULL;
}

static void add_failing(struct tdc_verify_out *o, const char *what)
{
	size_t fl = strlen(o->failing);

	/* The audit column is a summary; the verdict document has everything. */
	if (fl + strlen(what) + 5 >= sizeof(o->failing)) {
		if (!strstr(o->failing, ",..."))
			snprintf(o->failing + fl, sizeof(o->failing) - fl, ",...");
		return;
	}
	snprintf(o->failing + fl, sizeof(o->failing) - fl, "%s%s", fl ? "," : "", what);
}

/* Named checks that failed, then every bit whose verdict the policy rejects. */
static void collect_failing(const struct tdc_check_result *res, const struct tdc_policy *p,
			    struct tdc_verify_out *o)
{
	static const char *const regs[] = { "EAX", "EBX", "ECX", "EDX" };
	char bit[64];

	for (size_t i = 0; i < tdc_check_count(&res->checks); i++) {
		const struct tdc_check *c = tdc_check_at(&res->checks, i);

		if (c->status != TDC_CHECK_FAIL)
			continue;
		add_failing(o, c->name);
		if (!o->detail[0])
			snprintf(o->detail, sizeof(o->detail), "%s: %s", c->name, c->detail);
	}
	for (size_t i = 0; i < res->nregs; i++) {
		const struct tdc_reg_result *rr = &res->regs[i];

		for (unsigned v = 0; v < TDC_V__COUNT; v++) {
			uint32_t m = rr->verdict[v];

			if (!m || !tdc_policy_verdict_fails(p, (enum tdc_verdict)v, rr->leaf))
				continue;
			for (unsigned b = 0; b < 32; b++) {
				if (!(m & (1u << b)))
					continue;
				snprintf(bit, sizeof(bit), "CPUID.%02XH.%u:%s[%u]=%s", rr->leaf,
					 rr->subleaf, regs[rr->reg & 3], b,
					 tdc_verdict_name((enum tdc_verdict)v));
				add_failing(o, bit);
			}
		}
	}
}


static int engine_verify(void *ctx, const struct tdc_vm_entry *vm, const uint8_t *ev, size_t len,
			 const uint8_t *nonce, size_t nonce_len, time_t nonce_issued,
			 struct tdc_verify_out *out)
{
	const struct engine_vm *v = vm->prepared;
	struct tdc_check_config cfg = {
		.requested = &v->req, .model = v->model, .models = v->models,
		.model_why = vm->model[0] ? "the registry entry's model" : NULL,
		.policy = v->policy,
		.platform = v->nplatform ? &v->platform[0] : NULL, .trust = v->trust,
		.nonce = nonce, .nonce_len = nonce_len, .nonce_issued = nonce_issued,
		.sim_mac_key = vm->sim_dir[0] ? v->sim_key : NULL, /* loaded by engine_prepare */
		.expect_mrconfigid = vm->has_mrconfigid ? vm->mrconfigid : NULL,
		.expect_vm_name = out->expect_vm, .vm_name_optional = out->expect_vm_optional,
		.collateral_source = v->collateral, .collateral_cache = v->cache,
		.predict_memo = v->memo,
	};
	struct tdc_check_result res;
	enum tdc_out_format f = strcmp(vm->format, "ear") ? TDC_OUT_JSON : TDC_OUT_EAR;
	int e;

	tdc_check_result_init(&res);
	if ((e = tdc_check_evidence(&cfg, ev, len, &res)) != 0)
		goto out;
	out->passed = res.passed;
	snprintf(out->format, sizeof(out->format), "%s", f == TDC_OUT_EAR ? "ear" : "json");
	snprintf(out->claims_vm, sizeof(out->claims_vm), "%s", res.vm_name);
	collect_failing(&res, v->policy, out);
	tdc_buf_reset(&out->doc);
	e = tdc_check_format(&res, f, NULL, &out->doc);
out:
	tdc_check_result_free(&res);
	return e;
}

const struct tdc_verifier_ops tdc_verifier_engine = {
	.name = "engine",
	.prepare = engine_prepare,
	.release = engine_release,
	.verify = engine_verify,
};
