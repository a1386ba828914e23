// SPDX-License-Identifier: Apache-2.0
/* `tdcpuid-agent evidence --to ADDR`: the agent side of the exchange. */
#include <stdio.h>

#include "remote.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

int tdc_agent_remote(const char *addr, const char *vm, unsigned timeout_s,
		     tdc_evidence_fn fn, void *ctx, const char *output, bool *passed)
{
	struct tdc_client_result res;
	int e;

	tdc_client_result_init(&res);
	if ((e = tdc_client_attest(addr, vm, (int)timeout_s * 1000, fn, ctx, &res)) != 0 ||
	    (e = tdc_buf_put_u8(&res.doc, '\n')) != 0 ||
	    (e = tdc_write_file(output, res.doc.data, res.doc.len)) != 0)
		goto out;
	*passed = res.passed;
	fprintf(stderr, "%s evidence: %s: verdict %s (audit record %llu)\n", tdc_prog, addr,
		res.passed ? "PASS" : "FAIL", (unsigned long long)res.record);
out:
	tdc_client_result_free(&res);
	return e;
}
