// SPDX-License-Identifier: Apache-2.0
/*
 * Named checks (include/tdcpuid/check.h): one record type, a list that
 * cannot lose a record silently, and their JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/check.h"
#include "tdcpuid/error.h"

#define CHECK_LIST_FIRST 32

static _Thread_local long fail_after = -1;

void tdc_check_test_fail_alloc(long n)
{
	fail_after = n;
}

void tdc_check_list_init(struct tdc_check_list *l)
{
	memset(l, 0, sizeof(*l));
}

void tdc_check_list_free(struct tdc_check_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void tdc_check_list_reset(struct tdc_check_list *l)
{
	l->n = 0;
	l->lost = 0;
	memset(&l->poison, 0, sizeof(l->poison));
}

static void *grow(void *p, size_t n)
{
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	return realloc(p, n);
}

/* snprintf(dst, size, "%s", s), without the printf machinery (@size > 0). */
static void copy_str(char *dst, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * vsnprintf(dst, size, fmt, ap).  Most details are a constant or one "%s"
 * (a record copied from another list): those are copied, the same bytes
 * without a printf per check.
 */
__attribute__((format(printf, 3, 0)))
static void format_detail(char *dst, size_t size, const char *fmt, va_list ap)
{
	if (fmt[0] == '%' && fmt[1] == 's' && !fmt[2]) {
		const char *s;
		va_list aq;

		va_copy(aq, ap);
		s = va_arg(aq, const char *);
		va_end(aq);
		if (s) {  /* NULL: glibc's "(null)", below */
			copy_str(dst, size, s);
			return;
		}
	} else if (!strchr(fmt, '%')) {
		copy_str(dst, size, fmt);
		return;
	}
	vsnprintf(dst, size, fmt, ap);
}

/* The record could not be stored: remember that, and what it was. */
static int poison(struct tdc_check_list *l, const char *name, enum tdc_check_status st,
		  int code)
{
	struct tdc_check *p = &l->poison;

	if (!l->lost++) {
		snprintf(p->name, sizeof(p->name), "check_record");
		p->status = TDC_CHECK_FAIL;
		p->waived_by[0] = '\0';
		snprintf(p->detail, sizeof(p->detail), "%s: the check \"%s\" (%s) could not be "
			 "recorded, so this result cannot pass", code == TDC_ERR_ALLOC ?
			 "out of memory" : "too many checks", name, tdc_check_status_name(st));
	} else {
		/* Keep the first record's name; count the rest. */
		char *more = strstr(p->detail, " (+");

		if (more)
			*more = '\0';
		snprintf(p->detail + strlen(p->detail), sizeof(p->detail) - strlen(p->detail),
			 " (+%zu more lost)", l->lost - 1);
	}
	return tdc_err(code, "check list: \"%s\" not recorded", name);
}

int tdc_check_vadd(struct tdc_check_list *l, const char *name, enum tdc_check_status st,
		   const char *key, const char *fmt, va_list ap)
{
	struct tdc_check *c;

	if ((unsigned)st > TDC_CHECK_INFO)
		st = TDC_CHECK_FAIL;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : CHECK_LIST_FIRST;
		void *p;

		if (l->cap >= TDC_CHECK_LIST_MAX)
			return poison(l, name, st, TDC_ERR_TOO_LARGE);
		if (ncap > TDC_CHECK_LIST_MAX)
			ncap = TDC_CHECK_LIST_MAX;
		if (!(p = grow(l->v, ncap * sizeof(*l->v))))
			return poison(l, name, st, TDC_ERR_ALLOC);
		l->v = p;
		l->cap = ncap;
	}
	c = &l->v[l->n++];
	copy_str(c->name, sizeof(c->name), name);
	format_detail(c->detail, sizeof(c->detail), fmt, ap);
	c->waived_by[0] = '\0';
	c->status = st;
	if (st != TDC_CHECK_SKIP)
		return 0;
	if (key && *key) {
		snprintf(c->waived_by, sizeof(c->waived_by), "%s", key);
		return 0;
	}
	/* A check that did not run and that nothing waives has failed. */
	c->status = TDC_CHECK_FAIL;
	return 0;
}

int tdc_check_add(struct tdc_check_list *l, const char *name, enum tdc_check_status st,
		  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tdc_check_vadd(l, name, st, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int tdc_check_unverified(struct tdc_check_list *l, const char *name, const char *key,
			 bool waived, const char *fmt, ...)
{
	char detail[TDC_CHECK_DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (waived)
		return tdc_check_add_waived(l, name, key, "%s", detail);
	return tdc_check_add(l, name, TDC_CHECK_FAIL, "%s (%s requires it)", detail, key);
}

int tdc_check_add_waived(struct tdc_check_list *l, const char *name, const char *key,
			 const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tdc_check_vadd(l, name, TDC_CHECK_SKIP, key, fmt, ap);
	va_end(ap);
	return r;
}

static int add_copy(struct tdc_check_list *dst, const struct tdc_check *c, const char *prefix)
{
	const char *p = strncmp(c->name, prefix, strlen(prefix)) ? prefix : "";
	char name[TDC_CHECK_NAME_MAX];
	size_t n = strnlen(p, sizeof(name) - 1);

	/* snprintf(name, sizeof(name), "%s%s", p, c->name) */
	memcpy(name, p, n);
	copy_str(name + n, sizeof(name) - n, c->name);
	if (c->status == TDC_CHECK_SKIP)
		return tdc_check_add_waived(dst, name, c->waived_by, "%s", c->detail);
	return tdc_check_add(dst, name, c->status, "%s", c->detail);
}

int tdc_check_append(struct tdc_check_list *dst, const struct tdc_check_list *src,
		     const char *prefix)
{
	int r = 0, e;

	for (size_t i = 0; i < tdc_check_count(src); i++)
		if ((e = add_copy(dst, tdc_check_at(src, i), prefix ? prefix : "")) != 0 && !r)
			r = e;
	return r;
}

size_t tdc_check_count(const struct tdc_check_list *l)
{
	return l->n + (l->lost ? 1 : 0);
}

const struct tdc_check *tdc_check_at(const struct tdc_check_list *l, size_t i)
{
	if (i < l->n)
		return &l->v[i];
	return i == l->n && l->lost ? &l->poison : NULL;
}

const struct tdc_check *tdc_check_find(const struct tdc_check_list *l, const char *name)
{
	for (size_t i = 0; i < tdc_check_count(l); i++)
		if (!strcmp(tdc_check_at(l, i)->name, name))
			return tdc_check_at(l, i);
	return NULL;
}

size_t tdc_check_failures(const struct tdc_check_list *l)
{
	size_t n = l->lost ? 1 : 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].status == TDC_CHECK_FAIL;
	return n;
}

bool tdc_check_list_ok(const struct tdc_check_list *l)
{
	return tdc_check_failures(l) == 0;
}

bool tdc_check_list_poisoned(const struct tdc_check_list *l)
{
	return l->lost != 0;
}

const char *tdc_check_status_name(enum tdc_check_status st)
{
	static const char *const names[] = { "pass", "fail", "skip", "info" };

	return (unsigned)st <= TDC_CHECK_INFO ? names[st] : "fail";
}

const char *tdc_check_status_tag(enum tdc_check_status st)
{
	static const char *const tags[] = { "PASS", "FAIL", "SKIP", "INFO" };

	return (unsigned)st <= TDC_CHECK_INFO ? tags[st] : "FAIL";
}

/* Details can quote untrusted bytes: never let one drop the record. */
static json_t *str(const char *s)
{
	json_t *j = json_string(s);

	return j ? j : json_string("(not valid UTF-8)");
}

json_t *tdc_check_json(const struct tdc_check *c)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "name", str(c->name));
	json_object_set_new(o, "status", json_string(tdc_check_status_name(c->status)));
	if (c->status == TDC_CHECK_SKIP)
		json_object_set_new(o, "waived_by", str(c->waived_by));
	json_object_set_new(o, "detail", str(c->detail));
	return o;
}

json_t *tdc_check_list_json(const struct tdc_check_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < tdc_check_count(l); i++)
		json_array_append_new(a, tdc_check_json(tdc_check_at(l, i)));
	return a;
}

json_t *tdc_verdict_json_new(const char *kind, bool passed)
{
	return json_pack("{s:s, s:i, s:s, s:b}", "format", TDC_VERDICT_FORMAT,
			 "version", TDC_VERDICT_VERSION, "kind", kind, "passed", passed);
}
