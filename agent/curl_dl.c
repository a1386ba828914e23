// SPDX-License-Identifier: Apache-2.0
/* libcurl loaded on first use (see curl_dl.h). */
#ifdef TDC_AGENT_HTTP

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <curl/curl.h>

/* The real functions, named as in libcurl: one table, filled by dlsym. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLHcode (*easy_header)(CURL *, const char *, size_t, unsigned int, int,
				 struct curl_header **);
} fn;

static const struct {
	const char *name;
	void **slot;
} syms[] = {
	{ "curl_global_init", (void **)&fn.global_init },
	{ "curl_easy_init", (void **)&fn.easy_init },
	{ "curl_easy_cleanup", (void **)&fn.easy_cleanup },
	{ "curl_easy_reset", (void **)&fn.easy_reset },
	{ "curl_easy_setopt", (void **)&fn.easy_setopt },
	{ "curl_easy_perform", (void **)&fn.easy_perform },
	{ "curl_easy_getinfo", (void **)&fn.easy_getinfo },
	{ "curl_easy_strerror", (void **)&fn.easy_strerror },
	{ "curl_easy_escape", (void **)&fn.easy_escape },
	{ "curl_free", (void **)&fn.free },
	{ "curl_slist_append", (void **)&fn.slist_append },
	{ "curl_slist_free_all", (void **)&fn.slist_free_all },
	{ "curl_easy_header", (void **)&fn.easy_header },
};

#include "curl_dl.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char why[256];

static void load(void)
{
	void *h = dlopen(TDC_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(why, sizeof(why), "%s", e ? e : "dlopen " TDC_CURL_SONAME " failed");
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
			snprintf(why, sizeof(why), "%s: no symbol %s", TDC_CURL_SONAME,
				 syms[i].name);
			return; /* the handle stays open: harmless, and we are failing */
		}
	loaded = 1;
}

static int ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

const char *tdc_curl_dl_error(void)
{
	return ready() ? "" : why;
}

CURLcode tdc_curl_global_init(long flags)
{
	return ready() ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *tdc_curl_easy_init(void)
{
	return ready() ? fn.easy_init() : NULL;
}

void tdc_curl_easy_cleanup(CURL *c)
{
	if (ready())
		fn.easy_cleanup(c);
}

void tdc_curl_easy_reset(CURL *c)
{
	if (ready())
		fn.easy_reset(c);
}

/* The argument's type follows from the option's range, as libcurl reads it. */
CURLcode tdc_curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	CURLcode r = CURLE_FAILED_INIT;
	va_list ap;

	if (!ready())
		return r;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = fn.easy_setopt(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		r = fn.easy_setopt(c, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = fn.easy_setopt(c, opt, va_arg(ap, void (*)(void)));
	else if (opt < CURLOPTTYPE_BLOB)
		r = fn.easy_setopt(c, opt, va_arg(ap, curl_off_t));
	else
		r = fn.easy_setopt(c, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLcode tdc_curl_easy_perform(CURL *c)
{
	return ready() ? fn.easy_perform(c) : CURLE_FAILED_INIT;
}

/* Every CURLINFO takes one pointer. */
CURLcode tdc_curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	CURLcode r = CURLE_FAILED_INIT;
	va_list ap;

	if (!ready())
		return r;
	va_start(ap, info);
	r = fn.easy_getinfo(c, info, va_arg(ap, void *));
	va_end(ap);
	return r;
}

const char *tdc_curl_easy_strerror(CURLcode code)
{
	return ready() ? fn.easy_strerror(code) : why;
}

char *tdc_curl_easy_escape(CURL *c, const char *s, int len)
{
	return ready() ? fn.easy_escape(c, s, len) : NULL;
}

void tdc_curl_free(void *p)
{
	if (ready())
		fn.free(p);
}

struct curl_slist *tdc_curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? fn.slist_append(l, s) : NULL;
}

void tdc_curl_slist_free_all(struct curl_slist *l)
{
	if (ready())
		fn.slist_free_all(l);
}

CURLHcode tdc_curl_easy_header(CURL *c, const char *name, size_t index, unsigned int origin,
			       int request, struct curl_header **hout)
{
	return ready() ? fn.easy_header(c, name, index, origin, request, hout) : CURLHE_NOT_BUILT_IN;
}

#endif
