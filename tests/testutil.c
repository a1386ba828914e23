// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "tdcpuid/error.h"

void tdc_test_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(TDC_TEST_SKIP);
}

const char *tdc_testdata(const char *rel)
{
	static _Thread_local char path[4096];
	const char *dir = getenv("TDC_TESTDATA");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : TDC_TESTDATA, rel);
	return path;
}

void tdc_test_read(const char *rel, struct tdc_buf *out)
{
	int r;

	tdc_buf_init(out);
	r = tdc_read_file(tdc_testdata(rel), 1u << 24, out);
	if (r != 0)
		fail_msg("cannot read %s: %s", tdc_testdata(rel), tdc_errmsg(r));
}

uint32_t tdc_test_rnd(uint64_t *state, uint32_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return n ? (uint32_t)(*state % n) : 0;
}
