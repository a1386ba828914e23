/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named checks: one record type and one list for every layer that reports
 * what it checked (the quote appraisal and its collateral, the engine, the
 * service's basic checks), and one JSON shape for them and for the verdict
 * around them (docs/verdict-json.md).
 *
 * Fail closed by construction:
 *  - a record that cannot be stored (allocation failure, more than
 *    TDC_CHECK_LIST_MAX records) poisons the list: it never passes again,
 *    and every output shows one extra FAIL record, "check_record", that
 *    says how many records were lost and what the first one was;
 *  - SKIP means "could not run, and a named key waived it": a SKIP record
 *    always names the policy key or flag that waived it (waived_by).  A
 *    check that could not run and that nothing waives is a FAIL
 *    (tdc_check_unverified); tdc_check_add() records a SKIP without a key
 *    as a FAIL.
 */
#ifndef TDCPUID_CHECK_H
#define TDCPUID_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum tdc_check_status {
	TDC_CHECK_PASS,
	TDC_CHECK_FAIL,
	TDC_CHECK_SKIP,   /* could not run; waived_by names the key that allows that */
	TDC_CHECK_INFO,   /* a fact worth reporting, nothing to pass or fail */
};

#define TDC_CHECK_NAME_MAX 48
#define TDC_CHECK_KEY_MAX 40
#define TDC_CHECK_DETAIL_MAX 384
#define TDC_CHECK_LIST_MAX 4096   /* records per list; more poison it */

struct tdc_check {
	char name[TDC_CHECK_NAME_MAX];      /* "nonce", "quote.signature", ... */
	enum tdc_check_status status;
	char waived_by[TDC_CHECK_KEY_MAX];  /* SKIP: "require_nonce", "--signature-only"; else "" */
	char detail[TDC_CHECK_DETAIL_MAX];
};

struct tdc_check_list {
	struct tdc_check *v;                /* the stored records, v[0..n) */
	size_t n, cap;
	size_t lost;                        /* records that could not be stored */
	struct tdc_check poison;            /* "check_record" FAIL, valid when lost */
};

void tdc_check_list_init(struct tdc_check_list *l);
void tdc_check_list_free(struct tdc_check_list *l);
/* Empty the list (and clear its poison), keeping the storage. */
void tdc_check_list_reset(struct tdc_check_list *l);

/*
 * Record a check (detail printf-style).  Returns 0, or TDC_ERR_ALLOC /
 * TDC_ERR_TOO_LARGE when the record could not be stored: the list is then
 * poisoned, so a caller that ignores the return still cannot pass.
 */
int tdc_check_add(struct tdc_check_list *l, const char *name, enum tdc_check_status st,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int tdc_check_vadd(struct tdc_check_list *l, const char *name, enum tdc_check_status st,
		   const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
/*
 * A check that could not run: SKIP naming @key when @waived (the key or
 * flag is off), else FAIL with the detail and "(@key requires it)".
 */
int tdc_check_unverified(struct tdc_check_list *l, const char *name, const char *key,
			 bool waived, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A SKIP waived by @key (an empty @key records a FAIL). */
int tdc_check_add_waived(struct tdc_check_list *l, const char *name, const char *key,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Append every record of @src (its poison too), each name prefixed by
 * @prefix unless it already starts with it. */
int tdc_check_append(struct tdc_check_list *dst, const struct tdc_check_list *src,
		     const char *prefix);

/* Records to show: the stored ones, then the poison record if any. */
size_t tdc_check_count(const struct tdc_check_list *l);
const struct tdc_check *tdc_check_at(const struct tdc_check_list *l, size_t i);
/* First record named @name, or NULL. */
const struct tdc_check *tdc_check_find(const struct tdc_check_list *l, const char *name);
/* FAIL records, the poison record included. */
size_t tdc_check_failures(const struct tdc_check_list *l);
/* No FAIL and nothing lost. */
bool tdc_check_list_ok(const struct tdc_check_list *l);
bool tdc_check_list_poisoned(const struct tdc_check_list *l);

const char *tdc_check_status_name(enum tdc_check_status st);   /* "pass", ... */
const char *tdc_check_status_tag(enum tdc_check_status st);    /* "PASS", ... */

/* {"name", "status", ["waived_by",] "detail"} and the list as an array. */
json_t *tdc_check_json(const struct tdc_check *c);
json_t *tdc_check_list_json(const struct tdc_check_list *l);
/*
 * The verdict header every JSON verdict starts with (check, quote, serve,
 * ingest): {"format": "tdcpuid-verdict", "version": TDC_VERDICT_VERSION,
 * "kind": @kind, "passed": @passed}.  The producer adds its own fields
 * and "checks".
 */
#define TDC_VERDICT_FORMAT "tdcpuid-verdict"
#define TDC_VERDICT_VERSION 2
json_t *tdc_verdict_json_new(const char *kind, bool passed);

/*
 * Test hook (this thread only): let @n more list allocations succeed and
 * fail every one after them; -1 turns the injection off.
 */
void tdc_check_test_fail_alloc(long n);

#endif
