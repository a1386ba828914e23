// SPDX-License-Identifier: Apache-2.0
/* libFuzzer harness for the DCAP TD Quote v4/v5 parser (lib/quote.c). */
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/tdx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdx_quote q;

	/* Both modes: strict (own evidence) and lenient (real quote buffers). */
	if (tdx_quote_parse(data, size, false, &q) == 0 && q.trailing)
		__builtin_trap();
	if (tdx_quote_parse(data, size, true, &q) == 0 &&
	    (q.signed_len > size || q.pck_chain_len > size || q.trailing > size))
		__builtin_trap();
	return 0;
}
