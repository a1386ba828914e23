/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where `tdcpuid-agent evidence` sends its evidence besides a file: a
 * verifier over TCP/vsock (challenge-response, docs/protocol.md) or a
 * serial console (armored, include/tdcpuid/serial.h).
 */
#ifndef TDC_AGENT_REMOTE_H
#define TDC_AGENT_REMOTE_H

#include <stdbool.h>

#include "tdcpuid/client.h"

#define TDC_AGENT_DEFAULT_TIMEOUT_S 30

/*
 * Connect to @addr, take the verifier's nonce, make evidence with @fn, send
 * it, write the verdict document to @output ("-" = stdout).  *@passed says
 * the verdict; a non-zero return means there was none.  With @verifier_key
 * (a PEM file) the verdict counts only if it carries that key's signature
 * over this exchange; otherwise it is an error and nothing is written.
 */
int tdc_agent_remote(const char *addr, const char *vm, unsigned timeout_s,
		     const char *verifier_key, const char *ca_cert, tdc_evidence_fn fn, void *ctx,
		     const char *output, bool *passed);

/*
 * The same over the REST API (docs/rest.md) when @addr is http(s)://:
 * agent/remote_http.c, libcurl; the static agent has only a stub that says
 * it was built without it.  @ca_cert: PEM of the CA to trust for https
 * (NULL: the system store).
 */
struct tdc_agent_http {
	const char *url, *vm, *verifier_key, *ca_cert;
	unsigned timeout_s;
};
int tdc_agent_remote_http(const struct tdc_agent_http *h, tdc_evidence_fn fn, void *ctx,
			  const char *output, bool *passed);

#endif
