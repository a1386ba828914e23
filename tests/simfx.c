// SPDX-License-Identifier: Apache-2.0
/* The engine tests' simulator fixture (simfx.h). */
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "pki_util.h"
#include "policy.h"
#include "simfx.h"
#include "trust.h"

int tdc_simfx_setup(struct tdc_simfx *fx, const uint8_t *nonce, size_t nonce_len,
		    const char *policy_json, bool all_known)
{
	tdc_sim_keys_init(&fx->keys);
	tdc_sim_params_init(&fx->params);
	if (tdc_sim_keys_generate(&fx->keys) != 0 ||
	    tdc_simev_claims(&fx->claims, nonce, nonce_len, NULL) != 0 ||
	    tdc_model_load("kvm", &fx->model) != 0 ||
	    tdc_policy_parse((const uint8_t *)policy_json, strlen(policy_json), "policy", NULL,
			     &fx->policy) != 0)
		return -1;
	fx->trust = tdc_test_sim_trust(fx->keys.root_cert);
	tdc_requested_init(&fx->req);
	snprintf(fx->req.format, sizeof(fx->req.format), "kvm-json");
	if (tdc_cpuid_table_copy(&fx->req.table, &fx->claims.common) != 0 ||
	    tdc_cpuid_table_copy(&fx->req.known, &fx->claims.common) != 0)
		return -1;
	for (size_t i = 0; all_known && i < fx->req.known.n; i++)
		for (int k = 0; k < TDC_NREGS; k++)
			fx->req.known.e[i].regs[k] = ~0u;
	return 0;
}

void tdc_simfx_teardown(struct tdc_simfx *fx)
{
	tdc_sim_keys_free(&fx->keys);
	tdc_claims_free(&fx->claims);
	tdc_requested_free(&fx->req);
	tdc_model_free(fx->model);
	tdc_policy_free(fx->policy);
	tdc_trust_free(fx->trust);
}

void tdc_simfx_print_checks(const struct tdc_check_result *res)
{
	for (size_t i = 0; i < tdc_check_count(&res->checks); i++)
		fprintf(stderr, "  %d %s: %s\n", tdc_check_at(&res->checks, i)->status,
			tdc_check_at(&res->checks, i)->name, tdc_check_at(&res->checks, i)->detail);
}
