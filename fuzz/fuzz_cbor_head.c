// SPDX-License-Identifier: Apache-2.0
/* Differential: libcbor's head decoder and the native one must agree. */
#include <stdlib.h>
#include <string.h>

#include "../lib/cbor_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_cbor_head a, b;
	size_t ra = 0, rb = 0;
	int sa = tdc_cbor_head_decode(data, size, &a, &ra);
	int sb = tdc_cbor_head_decode_native(data, size, &b, &rb);

	if (sa != sb)
		abort();
	if (sa == TDC_CBOR_HEAD_OK &&
	    (ra != rb || a.it.major != b.it.major || a.indefinite != b.indefinite ||
	     (!a.indefinite && a.it.val != b.it.val)))
		abort();
	return 0;
}
