/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-process simulator fixture of the engine tests: fresh sim keys, the
 * claims of this host's CPUID (lib/simev.c), the kvm model, a policy, the
 * sim root as trust anchor, and a request equal to what the guest sees (an
 * honest KVM guest).  Evidence is then built and changed per case.
 */
#ifndef TDC_TEST_SIMFX_H
#define TDC_TEST_SIMFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "tdcpuid/requested.h"
#include "tdcpuid/simev.h"

struct tdc_model;
struct tdc_policy;
struct tdc_trust;

struct tdc_simfx {
	struct tdc_sim_keys keys;
	struct tdc_sim_params params;
	struct tdc_claims claims;
	struct tdc_requested req;
	struct tdc_model *model;
	struct tdc_policy *policy;
	struct tdc_trust *trust;
};

/*
 * @policy_json parsed as the policy; the request is the claims' common table
 * with req.known a copy of it too, or every bit known with @all_known.
 * -1 on failure (a cmocka setup's answer).
 */
int tdc_simfx_setup(struct tdc_simfx *fx, const uint8_t *nonce, size_t nonce_len,
		    const char *policy_json, bool all_known);
void tdc_simfx_teardown(struct tdc_simfx *fx);

/* Every check of @res on stderr, before a test fails on one of them. */
void tdc_simfx_print_checks(const struct tdc_check_result *res);

#endif
