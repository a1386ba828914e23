// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for what a PCS/PCCS response puts in headers
 * (verifier/quote/pcs.c): header lines (status lines, names, values, the
 * size caps), the URL-decoding of issuer chains and the PEM chain parser;
 * also the base URL and cache file name parsers and the CRL decoder.
 * Input: raw header lines as a server would send them; the first byte
 * picks which document's issuer-chain header is looked for.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coll_store.h"
#include "collateral.h"
#include "pcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_pcs_headers h;
	STACK_OF(X509) *sk = NULL;
	struct tdc_buf b;
	char *s;
	size_t start = 1;

	if (size < 1)
		return 0;
	tdc_pcs_headers_init(&h, tdc_pcs_doc_desc((enum tdc_pcs_doc)(data[0] % TDC_PCS__COUNT)));
	for (size_t i = 1; i <= size; i++) {
		if (i < size && data[i - 1] != '\n')
			continue;
		if (i > start && tdc_pcs_header_line(&h, data + start, i - start) != 0)
			break;
		start = i;
	}
	if (h.has_chain) {
		if (h.chain.len > TDC_PCS_CHAIN_MAX)
			__builtin_trap();
		if (tdc_pcs_chain_parse(h.chain.data, h.chain.len, &sk) == 0)
			sk_X509_pop_free(sk, X509_free);
	}
	tdc_pcs_headers_free(&h);

	tdc_buf_init(&b);
	if (tdc_pcs_url_decode(data, size, 4096, &b) == 0 && b.len > 4096)
		__builtin_trap();
	tdc_buf_reset(&b);
	tdc_crl_to_der(data, size, &b);
	tdc_buf_free(&b);

	if ((s = malloc(size + 1))) {
		char base[TDC_PCS_URL_MAX], host[256];
		enum tdc_pcs_doc d;
		enum tdc_pcs_ca ca;
		enum tdc_tcb_update u;
		uint8_t fmspc[6];

		memcpy(s, data, size);
		s[size] = '\0';
		if (tdc_pcs_base_parse(s, base, host) == 0 && strlen(base) >= TDC_PCS_URL_MAX)
			__builtin_trap();
		tdc_coll_slot_parse(s, &d, fmspc, &ca, &u);
		free(s);
	}
	return 0;
}
