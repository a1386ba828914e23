/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build a complete simulated evidence envelope in-process from claims:
 * encode the claims, bind them into REPORTDATA, make a sim TDREPORT and
 * (optionally) a sim Quote, and wrap all of it in the envelope.  Used by
 * the service tests and benchmarks, which need many exchanges quickly and
 * need to misbehave on purpose (wrong nonce, wrong VM name).
 */
#ifndef TDCPUID_SIMEV_H
#define TDCPUID_SIMEV_H

#include <stdbool.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/sim.h"

/* Claims from this CPU's real CPUID (one CPU, tee "sim"). */
int tdc_simev_claims(struct tdc_claims *c, const uint8_t *nonce, size_t nonce_len,
		     const char *vm_name);
/*
 * Make @c (claims of one CPU, as tdc_simev_claims gives) a TD of @n vCPUs:
 * vCPU 0 is the common table, every other one a delta with its own APIC IDs
 * (CPUID.01H:EBX[31:24], EDX of leaves 0BH and 1FH: the x2APIC ID), as the
 * agent records them.  For benchmarks and tests of how costs grow.
 */
int tdc_simev_vcpus(struct tdc_claims *c, size_t n);
int tdc_simev_build(const struct tdc_sim_keys *k, const struct tdc_sim_params *p,
		    const struct tdc_claims *c, bool with_quote, struct tdc_buf *envelope);

/*
 * The same with the rtmr3 binding (docs/evidence.md): claims marked
 * binding rtmr3, RTMR3 = the simulated boot values extended with the claims'
 * AAEL event, the event log = the sim CCEL (without its fill) + that record,
 * REPORTDATA = @report_data (64 bytes; NULL: zeros).  @c is not modified.
 */
int tdc_simev_build_rtmr3(const struct tdc_sim_keys *k, const struct tdc_sim_params *p,
			  const struct tdc_claims *c, const uint8_t *report_data,
			  bool with_quote, struct tdc_buf *envelope);

#endif
