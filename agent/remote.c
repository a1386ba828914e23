// SPDX-License-Identifier: Apache-2.0
/* `tdcpuid-agent evidence --to ADDR`: the agent side of the exchange. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "remote.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"

int tdc_agent_remote(const char *addr, const char *vm, unsigned timeout_s,
		     const char *verifier_key, const char *ca_cert, tdc_evidence_fn fn, void *ctx,
		     const char *output, bool *passed)
{
	struct tdc_agent_http h = { addr, vm, verifier_key, ca_cert, timeout_s };
	struct tdc_client_result res;
	EVP_PKEY *key = NULL;
	int e;

	if (!strncmp(addr, "http://", 7) || !strncmp(addr, "https://", 8))
		return tdc_agent_remote_http(&h, fn, ctx, output, passed);
	if (ca_cert)
		return tdc_err(TDC_ERR_USAGE, "--ca-cert is for https:// verifiers");

	tdc_client_result_init(&res);
	/* The key first: a verdict we could not check is no verdict. */
	if ((verifier_key && (e = tdc_es256_load_public(verifier_key, &key)) != 0) ||
	    (e = tdc_client_attest(addr, vm, (int)timeout_s * 1000, fn, ctx, &res)) != 0 ||
	    (key && (e = tdc_client_verify_verdict(&res, key)) != 0) ||
	    (e = tdc_buf_put_u8(&res.doc, '\n')) != 0 ||
	    (e = tdc_write_file(output, res.doc.data, res.doc.len)) != 0)
		goto out;
	*passed = res.passed;
	fprintf(stderr, "%s evidence: %s: verdict %s (audit record %llu; %s)\n", tdc_prog, addr,
		res.passed ? "PASS" : "FAIL", (unsigned long long)res.record,
		key ? "signature verified with the verifier key"
		    : res.sig[0] ? "signed, not checked: no --verifier-key"
				 : "unsigned: not authenticated");
out:
	EVP_PKEY_free(key);
	tdc_client_result_free(&res);
	return e;
}
