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

/* @t's entry at (leaf, subleaf) with the APIC ID of vCPU @id, into @delta. */
static int apic_entry(const struct tdc_cpuid_table *t, uint32_t leaf, uint32_t subleaf,
		      uint32_t id, struct tdc_cpuid_table *delta)
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(t, leaf, subleaf);
	struct tdc_cpuid_entry x;

	if (!e)
		return 0;
	x = *e;
	if (leaf == 1)
		x.regs[TDC_EBX] = (x.regs[TDC_EBX] & 0x00ffffffu) | (id & 0xff) << 24;
	else
		x.regs[TDC_EDX] = id;
	return tdc_cpuid_table_set(delta, &x);
}

int tdc_simev_vcpus(struct tdc_claims *c, size_t n)
{
	static const uint32_t where[][2] = { { 1, 0 }, { 0xb, 0 }, { 0xb, 1 }, { 0x1f, 0 },
					      { 0x1f, 1 }, { 0x1f, 2 } };
	struct tdc_cpu_claim *cpus;
	int e;

	if (n < 1 || n > TDC_CLAIMS_MAX_CPUS)
		return tdc_err(TDC_ERR_RANGE, "simev: %zu vCPUs", n);
	if (!(cpus = calloc(n, sizeof(*cpus))))
		return tdc_err(TDC_ERR_ALLOC, "simev: %zu vCPUs", n);
	/* vCPU 0 is the common table: APIC ID 0, whichever CPU enumerated it. */
	for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++)
		if ((e = apic_entry(&c->common, where[k][0], where[k][1], 0, &c->common)) != 0)
			goto fail;
	for (size_t i = 0; i < n; i++) {
		cpus[i].cpu = (uint32_t)i;
		cpus[i].has_xcr0 = c->has_xcr0;
		cpus[i].xcr0 = c->xcr0;
		tdc_cpuid_table_init(&cpus[i].delta);
		for (size_t k = 0; i && k < sizeof(where) / sizeof(where[0]); k++)
			if ((e = apic_entry(&c->common, where[k][0], where[k][1], (uint32_t)i,
					    &cpus[i].delta)) != 0)
				goto fail;
		tdc_cpuid_table_sort(&cpus[i].delta);
	}
	for (size_t i = 0; i < c->ncpus; i++)
		tdc_cpuid_table_free(&c->cpus[i].delta);
	free(c->cpus);
	c->cpus = cpus;
	c->ncpus = n;
	return 0;
fail:
	for (size_t i = 0; i < n; i++)
		tdc_cpuid_table_free(&cpus[i].delta);
	free(cpus);
	return e;
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
