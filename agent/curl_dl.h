/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl for the agent's REST client, loaded with dlopen when a --to
 * http(s):// exchange first needs it.  Linked normally, libcurl and its
 * ~30 libraries (GnuTLS, Kerberos, LDAP, ...) were mapped, relocated and
 * initialised at every agent start, `probe` included: most of the dynamic
 * agent's start-up time (docs/performance.md).  Include after
 * <curl/curl.h>: the calls of agent/remote_http.c then go to the
 * tdc_curl_* functions of curl_dl.c, which forward to the loaded library.
 * If libcurl cannot be loaded, every call fails (CURLE_FAILED_INIT, NULL)
 * and tdc_curl_dl_error() says why.
 */
#ifndef TDC_AGENT_CURL_DL_H
#define TDC_AGENT_CURL_DL_H

#include <curl/curl.h>

/* The soname the agent was built against (Debian: libcurl4 / libcurl3-gnutls
 * provide libcurl.so.4). */
#define TDC_CURL_SONAME "libcurl.so.4"

const char *tdc_curl_dl_error(void);

CURLcode tdc_curl_global_init(long flags);
CURL *tdc_curl_easy_init(void);
void tdc_curl_easy_cleanup(CURL *c);
void tdc_curl_easy_reset(CURL *c);
CURLcode tdc_curl_easy_setopt(CURL *c, CURLoption opt, ...);
CURLcode tdc_curl_easy_perform(CURL *c);
CURLcode tdc_curl_easy_getinfo(CURL *c, CURLINFO info, ...);
const char *tdc_curl_easy_strerror(CURLcode code);
char *tdc_curl_easy_escape(CURL *c, const char *s, int len);
void tdc_curl_free(void *p);
struct curl_slist *tdc_curl_slist_append(struct curl_slist *l, const char *s);
void tdc_curl_slist_free_all(struct curl_slist *l);
CURLHcode tdc_curl_easy_header(CURL *c, const char *name, size_t index, unsigned int origin,
			       int request, struct curl_header **hout);

/* curl.h may define some of these as type-checking macros. */
#undef curl_global_init
#undef curl_easy_init
#undef curl_easy_cleanup
#undef curl_easy_reset
#undef curl_easy_setopt
#undef curl_easy_perform
#undef curl_easy_getinfo
#undef curl_easy_strerror
#undef curl_easy_escape
#undef curl_free
#undef curl_slist_append
#undef curl_slist_free_all
#undef curl_easy_header
#define curl_global_init tdc_curl_global_init
#define curl_easy_init tdc_curl_easy_init
#define curl_easy_cleanup tdc_curl_easy_cleanup
#define curl_easy_reset tdc_curl_easy_reset
#define curl_easy_setopt tdc_curl_easy_setopt
#define curl_easy_perform tdc_curl_easy_perform
#define curl_easy_getinfo tdc_curl_easy_getinfo
#define curl_easy_strerror tdc_curl_easy_strerror
#define curl_easy_escape tdc_curl_easy_escape
#define curl_free tdc_curl_free
#define curl_slist_append tdc_curl_slist_append
#define curl_slist_free_all tdc_curl_slist_free_all
#define curl_easy_header tdc_curl_easy_header

#endif
