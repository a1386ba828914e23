// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the REST API's request and response text
 * (lib/rest.c, tdcpuid/rest.h): what `serve --listen http://` reads from a
 * request before the engine sees a byte (path, Content-Type, the nonce
 * parameters, the body under its cap) and what `agent evidence --to
 * http://` reads from the service (the session object, a problem
 * document, the verdict document's nonce and verdict).  Input: four lines (path, Content-Type, nonce, nonceSize; an
 * empty nonce line means absent), then the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/client.h"
#include "tdcpuid/error.h"
#include "tdcpuid/rest.h"

/* The next line of @data as a C string (NULL once the input is used up). */
static char *line(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, *data, n);
	s[n] = '\0';
	*data += n + (nl != NULL);
	*size -= n + (nl != NULL);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = line(&data, &size), *ct = line(&data, &size);
	char *nonce = line(&data, &size), *nsize = line(&data, &size);
	struct tdc_rest_route rt;
	struct tdc_rest_session s;
	uint8_t n[TDC_REST_NONCE_MAX] = { 0 };
	char mt[TDC_REST_MT_MAX + 1], text[256];
	struct tdc_buf body;
	size_t len;
	bool gen, has_code;
	int64_t code;

	if (tdc_rest_route(path, &rt) == 0 && rt.kind == TDC_REST_R_SESSION &&
	    strlen(rt.id) != TDC_REST_ID_LEN)
		__builtin_trap();
	if (tdc_rest_media_type(ct, mt, sizeof(mt)) == 0 && !strchr(mt, '/'))
		__builtin_trap();
	if (tdc_rest_nonce_param(nonce[0] ? nonce : NULL, nsize[0] ? nsize : NULL, n, &len,
				 &gen) == 0 &&
	    (len > TDC_REST_NONCE_MAX || (!gen && len < TDC_REST_NONCE_MIN)))
		__builtin_trap();
	/* The body in chunks as libmicrohttpd delivers it: never past the cap. */
	tdc_buf_init(&body);
	for (size_t off = 0; off < size; off += 7)
		if (tdc_rest_body_add(&body, data + off, size - off < 7 ? size - off : 7, 4096) != 0)
			break;
	if (body.len > 4096)
		__builtin_trap();
	tdc_buf_free(&body);
	tdc_rest_session_init(&s);
	if (tdc_rest_session_parse(data, size, &s) == 0 && s.nonce_len > TDC_REST_NONCE_MAX)
		__builtin_trap();
	tdc_rest_session_free(&s);
	tdc_rest_problem_text(data, size, text, sizeof(text), &has_code, &code);
	/* Whatever code a document names, the agent's error stays in the error space. */
	if (has_code && (tdc_client_refusal_code(code) >= 0 ||
			 tdc_client_refusal_code(code) <= TDC_ERR__LAST))
		__builtin_trap();
	/* What the agent believes of a (verified) verdict document: only its own nonce. */
	if (tdc_rest_doc_verdict(data, size, n, sizeof(n), &gen) == 0 &&
	    tdc_rest_doc_verdict(data, size, n, sizeof(n) - 1, &gen) == 0)
		__builtin_trap();
	free(path);
	free(ct);
	free(nonce);
	free(nsize);
	return 0;
}
