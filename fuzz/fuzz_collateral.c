// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for Intel collateral JSON (verifier/quote/collateral.c): the
 * signed-document splitter (raw member span + signature), the TCB info and
 * QE identity parsers, document classification and tdc_collateral_doc_info
 * (a fetched document decoded once); and the FMSPC read from
 * a TCB info's text (tdc_tcbinfo_peek_fmspc), which on any text jansson
 * accepts must be the one jansson's parse holds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collateral.h"

/* Whenever the text says an FMSPC, jansson reads the same 12 digits there. */
static void peek_agrees(const uint8_t *data, size_t size)
{
	json_t *doc, *f;
	uint8_t peeked[6], parsed[6];
	size_t got;

	if (!tdc_tcbinfo_peek_fmspc(data, size, peeked))
		return;
	if (!(doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)))
		return; /* not a document that can be used */
	f = json_object_get(json_object_get(doc, "tcbInfo"), "fmspc");
	if (!json_is_string(f) || json_string_length(f) != 12 ||
	    tdc_hex_decode(json_string_value(f), parsed, 6, &got) != 0 || got != 6 ||
	    memcmp(peeked, parsed, 6) != 0)
		__builtin_trap();
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "tcbInfo", "enclaveIdentity" };
	struct tdc_collateral *c;
	const char *body;
	size_t body_len;
	uint8_t sig[64];

	for (int i = 0; i < 2; i++) {
		if (tdc_signed_json_split((const char *)data, size, keys[i], &body, &body_len,
					  sig) != 0)
			continue;
		/* The span must lie inside the input. */
		if (body < (const char *)data || body + body_len > (const char *)data + size)
			__builtin_trap();
		if (i == 0) {
			struct tdc_tcbinfo t;

			if (tdc_tcbinfo_parse(body, body_len, &t) == 0)
				tdc_tcbinfo_free(&t);
		} else {
			struct tdc_qe_identity q;

			if (tdc_qe_identity_parse(body, body_len, &q) == 0)
				tdc_qe_identity_free(&q);
		}
	}
	/* Bodies alone too, so the fuzzer reaches the field parsers directly. */
	{
		struct tdc_tcbinfo t;
		struct tdc_qe_identity q;

		if (tdc_tcbinfo_parse((const char *)data, size, &t) == 0)
			tdc_tcbinfo_free(&t);
		if (tdc_qe_identity_parse((const char *)data, size, &q) == 0)
			tdc_qe_identity_free(&q);
	}
	peek_agrees(data, size);
	{
		struct tdc_doc_info info;

		/* One decode for kind, fields and (CRL) window: a fetched document. */
		tdc_collateral_doc_info(data, size, &info);
	}
	if (tdc_collateral_new(&c) == 0) {
		tdc_collateral_add(c, "fuzz", data, size);
		tdc_collateral_free(c);
	}
	return 0;
}
