// SPDX-License-Identifier: Apache-2.0
/* In-process simulated evidence (include/tdcpuid/simev.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/simev.h"

int tdc_simev_claims(struct tdc_claims *c, const uint8_t *nonce, size_t nonce_len,
		     const char *vm_name)
{
	unsigned long count = 0;
	int e;

	tdc_claims_init(c);
	if (nonce_len > TDC_CLAIMS_NONCE_MAX)
		return tdc_err(TDC_ERR_RANGE, "simev: nonce of %zu bytes", nonce_len);
	c->version_major = TDC_CLAIMS_VERSION_MAJOR;
	c->version_minor = TDC_CLAIMS_VERSION_MINOR;
	memcpy(c->nonce, nonce, nonce_len);
	c->nonce_len = nonce_len;
	c->tee = TDC_TEE_SIM;
	if ((e = tdc_cpuid_enumerate(tdc_cpuid_native_fn, NULL, &c->common, &count)) != 0)
		return e;
	c->cpuid_count = count;
	if (!(c->cpus = calloc(1, sizeof(*c->cpus))))
		return tdc_err(TDC_ERR_ALLOC, "simev: cpus");
	tdc_cpuid_table_init(&c->cpus[0].delta);
	c->ncpus = 1;
	/* OSXSAVE is set on any Linux x86-64: the engine needs XCR0 to explain it. */
	c->has_xcr0 = true;
	c->xcr0 = tdc_xgetbv(0);
	snprintf(c->kernel_release, sizeof(c->kernel_release), "simulated");
	snprintf(c->agent_version, sizeof(c->agent_version), "tdcpuid-simev %s", TDC_VERSION);
	if (vm_name)
		snprintf(c->vm_name, sizeof(c->vm_name), "%s", vm_name);
	return 0;
}

int tdc_simev_build(const struct tdc_sim_keys *k, const struct tdc_sim_params *p,
		    const struct tdc_claims *c, bool with_quote, struct tdc_buf *envelope)
{
	struct tdc_envelope env;
	uint8_t rd[TDC_REPORTDATA_LEN], report[TDX_REPORT_LEN];
	int e;

	tdc_envelope_init(&env);
	if ((e = tdc_claims_encode(c, &env.claims)) != 0 ||
	    (e = tdc_reportdata_compute(env.claims.data, env.claims.len, rd)) != 0 ||
	    (e = tdc_sim_report(k, p, rd, report)) != 0 ||
	    (e = tdc_buf_put(&env.tdreport, report, sizeof(report))) != 0)
		goto out;
	if (with_quote && (e = tdc_sim_quote(k, report, &env.quote)) != 0)
		goto out;
	e = tdc_envelope_encode(&env, envelope);
out:
	tdc_envelope_free(&env);
	return e;
}

int tdc_simev_build_rtmr3(const struct tdc_sim_keys *k, const struct tdc_sim_params *p,
			  const struct tdc_claims *c, const uint8_t *report_data,
			  bool with_quote, struct tdc_buf *envelope)
{
	char content[TDC_AAEL_CONTENT_LEN + 1];
	uint8_t rd[TDC_REPORTDATA_LEN] = { 0 }, report[TDX_REPORT_LEN], digest[48];
	struct tdc_sim_params sp = *p;
	struct tdc_claims cc = *c;       /* shallow: only the binding differs */
	struct tdc_envelope env;
	size_t used;
	int e;

	cc.binding = TDC_BIND_RTMR3;
	if (report_data)
		memcpy(rd, report_data, sizeof(rd));
	tdc_envelope_init(&env);
	if ((e = tdc_claims_encode(&cc, &env.claims)) != 0 ||
	    (e = tdc_claims_aael_content(env.claims.data, env.claims.len, content)) != 0 ||
	    (e = tdc_sim_ccel(&env.eventlog)) != 0 ||
	    (e = tdc_eventlog_used_len(env.eventlog.data, env.eventlog.len, "sim ccel", &used)) != 0)
		goto out;
	env.eventlog.len = used;
	if ((e = tdc_eventlog_put_aael(&env.eventlog, TDC_CCMR_RTMR3, TDC_AAEL_DOMAIN,
				       TDC_AAEL_OP_CLAIMS, content, digest)) != 0 ||
	    (e = tdc_rtmr_extend(sp.rtmr[3], digest)) != 0 ||
	    (e = tdc_sim_report(k, &sp, rd, report)) != 0 ||
	    (e = tdc_buf_put(&env.tdreport, report, sizeof(report))) != 0)
		goto out;
	if (with_quote && (e = tdc_sim_quote(k, report, &env.quote)) != 0)
		goto out;
	e = tdc_envelope_encode(&env, envelope);
out:
	tdc_envelope_free(&env);
	return e;
}
