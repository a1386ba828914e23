// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: the TDX release index (policies/models/tdx-releases.json,
 * verifier/engine/model_select.c).  An index the parser accepts must answer
 * the name lookups without crashing or leaking (selection itself loads the
 * model files it names, which is tests/test_model_select.c's part).
 */
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdc_model_set *s;
	const char *rel = NULL;

	if (tdc_model_set_parse(data, size, "fuzz", &s) != 0)
		return 0;
	(void)tdc_model_set_newest(s, &rel);
	(void)tdc_model_set_count(s);
	/* Name lookups only: tdc_model_select() loads model files from disk. */
	(void)tdc_model_set_release(s, rel ? rel : "1.5.01", NULL, NULL);
	tdc_model_set_free(s);
	return 0;
}
