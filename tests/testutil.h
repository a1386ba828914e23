/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the C tests. */
#ifndef TDC_TESTUTIL_H
#define TDC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tdcpuid/buf.h"

/* Exit code ctest treats as "skipped" (SKIP_RETURN_CODE). */
#define TDC_TEST_SKIP 77

/* Print "SKIP: reason" and exit 77. */
void tdc_test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Path under tests/data (static buffer). */
const char *tdc_testdata(const char *rel);

/* Read a test fixture, failing the test if it cannot. */
void tdc_test_read(const char *rel, struct tdc_buf *out);

/* xorshift64: a number below @n (0 if @n is 0), reproducible from the
 * seed in *@state (nonzero), for the randomized differential tests. */
uint32_t tdc_test_rnd(uint64_t *state, uint32_t n);

#endif
