// SPDX-License-Identifier: Apache-2.0
/*
 * Collateral from a PCS/PCCS URL (verifier/quote/coll_source.c) against
 * the loopback test server (pcs_server.c): the same statuses as the
 * directory source for the real 2023 collateral and for the test PKI's
 * every TCB status; the cache (second run, server down with a valid or an
 * expired copy, background refresh); every failure of a response (wrong
 * issuer chain, truncated body, 500, slow server, huge body, ...) is a
 * clear error and nothing of it is cached; HTTPS with a test CA; the
 * header and URL-decoding parsers.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "testutil.h"
#include "pcs_server.h"
#include "pki_util.h"
#include "quote_verify.h"
#include "tdcpuid/error.h"

static struct tdc_test_pki pki;
static char tmp[256];
static X509 *intel_root;
static struct tdc_buf spr;
static time_t spr_at;

static void rm_rf(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* A fresh directory under the test's temporary directory. */
static const char *fresh(const char *name)
{
	static char path[4][400];
	static int k;
	char *p = path[k++ % 4];

	snprintf(p, 400, "%s/%s", tmp, name);
	rm_rf(p);
	return p;
}

static const struct tdc_check *find_check(const struct tdc_quote_result *r, const char *name)
{
	return tdc_check_find(&r->checks, name);
}

static void dump(const struct tdc_quote_result *r)
{
	for (size_t i = 0; i < r->checks.n; i++)
		print_message("  %s %s: %s\n", tdc_check_status_tag(r->checks.v[i].status),
			      r->checks.v[i].name, r->checks.v[i].detail);
}

static struct tdc_coll_source *open_src(const char *spec, const char *cache, bool bg,
					const char *ca)
{
	struct tdc_coll_source_opts o;
	struct tdc_coll_source *s = NULL;

	tdc_coll_source_opts_init(&o);
	o.spec = spec;
	o.cache_root = cache;
	o.background = bg;
	o.ca_file = ca;
	o.timeout_ms = 1000;
	o.connect_timeout_ms = 1000;
	if (tdc_coll_source_open(&o, &s) != 0)
		print_message("open %s: %s\n", spec, tdc_errdetail());
	assert_non_null(s);
	return s;
}

static void appraise(X509 *root, const struct tdc_buf *q, time_t at, struct tdc_coll_source *src,
		     unsigned accept, struct tdc_quote_result *r)
{
	struct tdc_quote_opts o = { .root = root, .at = at, .source = src, .accept_tcb = accept,
				    .allow_debug = true,
				    .qe_identity = root == intel_root ? tdc_test_intel_qe() :
								       tdc_test_sim_qe() };

	assert_int_equal(tdc_quote_appraise(&o, q->data, q->len, r), 0);
}

/* Same checks with the same outcomes, and the same TCB evaluation, except
 * for where the collateral came from. */
static void assert_same(const struct tdc_quote_result *a, const struct tdc_quote_result *b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a->checks.n && !strcmp(a->checks.v[i].name, "collateral.source"))
			i++;
		while (j < b->checks.n && !strcmp(b->checks.v[j].name, "collateral.source"))
			j++;
		if (i == a->checks.n || j == b->checks.n)
			break;
		if (strcmp(a->checks.v[i].name, b->checks.v[j].name) || a->checks.v[i].status != b->checks.v[j].status) {
			print_message("directory:\n");
			dump(a);
			print_message("URL:\n");
			dump(b);
		}
		assert_string_equal(a->checks.v[i].name, b->checks.v[j].name);
		assert_int_equal(a->checks.v[i].status, b->checks.v[j].status);
		i++;
		j++;
	}
	assert_int_equal(i, a->checks.n);
	assert_int_equal(j, b->checks.n);
	assert_int_equal(a->tcb_matched, b->tcb_matched);
	assert_int_equal(a->tcb_status, b->tcb_status);
	assert_int_equal(a->platform_status, b->platform_status);
	assert_int_equal(a->qe_status, b->qe_status);
	assert_int_equal(a->levels_behind, b->levels_behind);
	assert_int_equal(a->n_advisories, b->n_advisories);
	assert_int_equal(a->tcb_acceptable, b->tcb_acceptable);
	assert_int_equal(a->all_pass, b->all_pass);
	for (int d = 0; d < TDC_PCS__COUNT; d++) {
		assert_int_equal(a->fresh[d].used, b->fresh[d].used);
		assert_int_equal(a->fresh[d].issued, b->fresh[d].issued);
		assert_int_equal(a->fresh[d].next_update, b->fresh[d].next_update);
	}
}

/* ---- parsers -------------------------------------------------------------- */

static int header(struct tdc_pcs_headers *h, const char *line)
{
	return tdc_pcs_header_line(h, (const uint8_t *)line, strlen(line));
}

static void test_parsers(void **state)
{
	char base[TDC_PCS_URL_MAX], host[256], url[TDC_PCS_URL_MAX];
	static const uint8_t fm[6] = { 0x50, 0x80, 0x6f, 0, 0, 0 };
	struct tdc_pcs_headers h;
	struct tdc_buf b, pem;
	STACK_OF(X509) *sk = NULL;

	assert_int_equal(tdc_pcs_base_parse("https://api.trustedservices.intel.com/tdx/certification/v4/",
					    base, host), 0);
	assert_string_equal(base, "https://api.trustedservices.intel.com");
	assert_string_equal(host, "api.trustedservices.intel.com");
	assert_int_equal(tdc_pcs_base_parse("http://127.0.0.1:8081", base, host), 0);
	assert_string_equal(host, "127.0.0.1:8081");
	assert_int_not_equal(tdc_pcs_base_parse("ftp://x", base, host), 0);
	assert_int_not_equal(tdc_pcs_base_parse("https://x/?fmspc=1", base, host), 0);
	assert_int_not_equal(tdc_pcs_base_parse("https://user@x/", base, host), 0);
	assert_int_equal(tdc_pcs_url("https://pccs:8081", TDC_PCS_TCB, fm, TDC_PCS_CA_PLATFORM,
				     TDC_TCB_UPDATE_EARLY, url), 0);
	assert_string_equal(url, "https://pccs:8081/tdx/certification/v4/tcb?fmspc=50806f000000&update=early");
	assert_int_equal(tdc_pcs_url("https://pccs:8081", TDC_PCS_PCKCRL, fm, TDC_PCS_CA_PROCESSOR,
				     TDC_TCB_UPDATE_STANDARD, url), 0);
	assert_string_equal(url, "https://pccs:8081/sgx/certification/v4/pckcrl?ca=processor&encoding=der");
	assert_int_equal(tdc_pcs_url("https://pccs:8081", TDC_PCS_ROOTCRL, fm, 0, 0, url), 0);
	assert_string_equal(url, "https://pccs:8081/sgx/certification/v4/rootcacrl");
	/* Intel's own service keeps the root CA CRL elsewhere. */
	assert_int_equal(tdc_pcs_url("https://api.trustedservices.intel.com", TDC_PCS_ROOTCRL, fm,
				     0, 0, url), 0);
	assert_string_equal(url, "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der");

	/* URL-decoding: '+' is base64, never a space; %XX strict; raw spaces refused. */
	tdc_buf_init(&b);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"a%2Bb+c%0A%2f", 13, 64, &b), 0);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "a+b+c\n/", 7);
	tdc_buf_reset(&b);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"%zz", 3, 64, &b), TDC_ERR_FORMAT);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"%4", 2, 64, &b), TDC_ERR_FORMAT);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"a b", 3, 64, &b), TDC_ERR_FORMAT);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"%00", 3, 64, &b), TDC_ERR_FORMAT);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"%C3%A9", 6, 64, &b), TDC_ERR_FORMAT);
	tdc_buf_reset(&b);
	assert_int_equal(tdc_pcs_url_decode((const uint8_t *)"abcdef", 6, 4, &b), TDC_ERR_TOO_LARGE);
	tdc_buf_free(&b);

	/* Headers: names case-insensitive, a status line starts over, one chain only. */
	tdc_pcs_headers_init(&h, tdc_pcs_doc_desc(TDC_PCS_TCB));
	assert_int_equal(header(&h, "HTTP/1.1 302 Found\r\n"), 0);
	assert_int_equal(header(&h, "tcb-info-issuer-chain: x%41\r\n"), 0);
	assert_true(h.has_chain);
	assert_int_equal(header(&h, "HTTP/1.1 200 OK\r\n"), 0);
	assert_false(h.has_chain);
	assert_int_equal(h.status, 200);
	assert_int_equal(header(&h, "Request-ID:  abc123  \r\n"), 0);
	assert_string_equal(h.request_id, "abc123");
	assert_int_equal(header(&h, "SGX-TCB-Info-Issuer-Chain: %41%42\r\n"), 0);
	assert_int_equal(h.chain.len, 2);
	assert_int_equal(header(&h, "TCB-Info-Issuer-Chain: %41\r\n"), TDC_ERR_DUPLICATE);
	assert_int_equal(header(&h, "no colon here\r\n"), TDC_ERR_PROTOCOL);
	assert_int_equal(header(&h, "Bad Name: x\r\n"), TDC_ERR_PROTOCOL);
	assert_int_equal(header(&h, "\r\n"), 0);
	assert_int_equal(header(&h, " folded continuation\r\n"), 0);
	tdc_pcs_headers_free(&h);

	/* Issuer chains: PEM certificates and whitespace, nothing else. */
	tdc_test_pem(pki.sign_cert, pki.keys.root_cert, &pem);
	assert_int_equal(tdc_pcs_chain_parse(pem.data, pem.len, &sk), 0);
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	assert_int_equal(tdc_pcs_chain_parse((const uint8_t *)"junk", 4, &sk), TDC_ERR_FORMAT);
	assert_int_equal(tdc_pcs_chain_parse((const uint8_t *)" \n", 2, &sk), TDC_ERR_FORMAT);
	assert_int_equal(tdc_pcs_chain_parse(pem.data, pem.len - 10, &sk), TDC_ERR_FORMAT);
	tdc_buf_init(&b);
	for (int i = 0; i < 3; i++)
		tdc_buf_put(&b, pem.data, pem.len);
	assert_int_equal(tdc_pcs_chain_parse(b.data, b.len, &sk), TDC_ERR_TOO_LARGE);
	tdc_buf_reset(&b);
	tdc_buf_put(&b, pem.data, pem.len);
	tdc_buf_printf(&b, "trailing text");
	assert_int_equal(tdc_pcs_chain_parse(b.data, b.len, &sk), TDC_ERR_FORMAT);
	tdc_buf_free(&b);
	tdc_buf_free(&pem);

	/* CRLs in every encoding Intel's services use come out as the same DER. */
	{
		struct tdc_buf der, text, out;
		char hex[3];
		BIO *bio = BIO_new(BIO_s_mem());
		const unsigned char *p;
		X509_CRL *crl;
		char *mem;
		long n;

		tdc_test_read("tdx/collateral/rootcrl.der", &der);
		tdc_buf_init(&text);
		tdc_buf_init(&out);
		for (size_t i = 0; i < der.len; i++) {
			snprintf(hex, sizeof(hex), "%02x", der.data[i]);
			tdc_buf_put(&text, hex, 2);
		}
		tdc_buf_put(&text, "\n", 1);
		assert_int_equal(tdc_crl_to_der(text.data, text.len, &out), 0);
		assert_int_equal(out.len, der.len);
		assert_memory_equal(out.data, der.data, der.len);
		p = der.data;
		crl = d2i_X509_CRL(NULL, &p, (long)der.len);
		assert_non_null(crl);
		PEM_write_bio_X509_CRL(bio, crl);
		n = BIO_get_mem_data(bio, &mem);
		tdc_buf_reset(&out);
		assert_int_equal(tdc_crl_to_der((const uint8_t *)mem, (size_t)n, &out), 0);
		assert_memory_equal(out.data, der.data, der.len);
		tdc_buf_reset(&out);
		assert_int_equal(tdc_crl_to_der((const uint8_t *)"abcd", 4, &out), TDC_ERR_FORMAT);
		/* Each encoding described once, and kept as DER by the view. */
		{
			const struct { const uint8_t *d; size_t n; bool der; } enc[] = {
				{ der.data, der.len, true }, { text.data, text.len, false },
				{ (const uint8_t *)mem, (size_t)n, false },
			};

			for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
				struct tdc_collateral *c;
				struct tdc_doc_info info;

				assert_int_equal(tdc_collateral_doc_info(enc[i].d, enc[i].n, &info), 0);
				assert_int_equal(info.kind, TDC_DOC_CRL);
				assert_int_equal(info.der, enc[i].der);
				assert_int_equal(tdc_collateral_new(&c), 0);
				assert_int_equal(tdc_collateral_add_verified(c, "crl", &info, enc[i].d,
									     enc[i].n), 0);
				assert_int_equal(c->docs[0].len, der.len);
				assert_memory_equal(c->docs[0].data, der.data, der.len);
				tdc_collateral_free(c);
			}
		}
		X509_CRL_free(crl);
		BIO_free(bio);
		tdc_buf_free(&der);
		tdc_buf_free(&text);
		tdc_buf_free(&out);
	}
}

/* ---- the real 2023 collateral --------------------------------------------- */

static void test_real_collateral_same_as_directory(void **state)
{
	struct tdc_quote_result *dir = calloc(1, sizeof(*dir)), *url = calloc(1, sizeof(*url));
	struct tdc_pcs_server_opts so = { .dir = TDC_TESTDATA "/tdx/collateral" };
	struct tdc_coll_source *d, *u;
	struct tdc_pcs_server *srv;
	const char *cache = fresh("cache-real");

	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	d = open_src("file://" TDC_TESTDATA "/tdx/collateral", NULL, false, NULL);
	appraise(intel_root, &spr, spr_at, d, 0, dir);
	/* The known outcome: everything verifies, no matching TCB level. */
	assert_true(find_check(dir, "collateral.tcb_info")->status == TDC_CHECK_PASS);
	assert_false(find_check(dir, "tcb.level")->status == TDC_CHECK_PASS);

	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(intel_root, &spr, spr_at, u, 0, url);
	assert_same(dir, url);
	assert_true(find_check(url, "collateral.source")->status == TDC_CHECK_PASS);
	assert_int_equal(url->fresh[TDC_PCS_TCB].from, TDC_COLL_FROM_NETWORK);
	assert_int_equal(tdc_pcs_server_total(srv), 4);
	/* The same source again: memory, no request. */
	appraise(intel_root, &spr, spr_at, u, 0, url);
	assert_same(dir, url);
	assert_int_equal(tdc_pcs_server_total(srv), 4);
	tdc_coll_source_free(u);

	/* A new process (new source object, same cache): the disk, no request. */
	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(intel_root, &spr, spr_at, u, 0, url);
	assert_same(dir, url);
	assert_int_equal(url->fresh[TDC_PCS_TCB].from, TDC_COLL_FROM_CACHE);
	assert_int_equal(tdc_pcs_server_total(srv), 4);
	tdc_coll_source_free(u);

	/* Server down, cache valid and not due: the same, from the cache. */
	{
		char url_s[64];

		snprintf(url_s, sizeof(url_s), "%s", tdc_pcs_server_url(srv));
		tdc_pcs_server_stop(srv);
		u = open_src(url_s, cache, false, NULL);
	}
	appraise(intel_root, &spr, spr_at, u, 0, url);
	assert_same(dir, url);
	assert_true(find_check(url, "collateral.source")->status == TDC_CHECK_PASS);
	tdc_coll_source_free(u);
	tdc_coll_source_free(d);
	tdc_quote_result_free(dir);
	free(dir);
	tdc_quote_result_free(url);
	free(url);
}

/*
 * A restarted source hands the documents and chains it verified from disk
 * to its view (not decoded again): a stored copy whose chain does not sign
 * it is not used but fetched again, and a copy that verifies gives the same
 * appraisal as the directory.
 */
static void test_disk_copy_checked(void **state)
{
	struct tdc_quote_result *dir = calloc(1, sizeof(*dir)), *url = calloc(1, sizeof(*url));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1 };
	const char *cd = fresh("coll-disk"), *cache = fresh("cache-disk");
	struct tdc_pcs_server_opts so = { .dir = cd };
	struct tdc_pcs_server *srv;
	struct tdc_coll_source *d, *u;
	char spec[512], cmd[1200];
	unsigned long before;

	tdc_test_collateral_write(&pki, &c, cd);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	snprintf(spec, sizeof(spec), "file://%s", cd);
	d = open_src(spec, NULL, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, d, 0, dir);
	assert_true(dir->all_pass);
	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, url);
	tdc_coll_source_free(u);

	/* Restarted over the cache: from disk, no request, the same outcome. */
	before = tdc_pcs_server_total(srv);
	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, url);
	assert_same(dir, url);
	assert_int_equal(url->fresh[TDC_PCS_TCB].from, TDC_COLL_FROM_CACHE);
	assert_int_equal(url->fresh[TDC_PCS_PCKCRL].from, TDC_COLL_FROM_CACHE);
	assert_int_equal(tdc_pcs_server_total(srv), before);
	tdc_coll_source_free(u);

	/* The TCB info's stored chain replaced by the PCK CRL's (valid
	 * certificates, not its signer): that copy is fetched again. */
	snprintf(cmd, sizeof(cmd), "for d in '%s'/*/; do cp \"$d\"pckcrl-*.crl.chain.pem "
		 "\"$d\"tcb-*.json.chain.pem || exit 1; done", cache);
	assert_int_equal(system(cmd), 0);
	before = tdc_pcs_server_requests(srv, SRV_TCB);
	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, url);
	assert_same(dir, url);
	assert_int_equal(tdc_pcs_server_requests(srv, SRV_TCB), before + 1);
	assert_int_equal(url->fresh[TDC_PCS_TCB].from, TDC_COLL_FROM_NETWORK);
	assert_int_equal(url->fresh[TDC_PCS_QEID].from, TDC_COLL_FROM_CACHE);
	tdc_coll_source_free(u);

	/* Again, the service down: no usable TCB info, a failure. */
	assert_int_equal(system(cmd), 0);
	tdc_pcs_server_fault(srv, SRV_TCB, SRV_STATUS_500);
	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, url);
	assert_false(find_check(url, "collateral.source")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(url, "collateral.source")->detail, "no cached copy"));
	assert_false(url->all_pass);
	tdc_coll_source_free(u);
	tdc_pcs_server_fault(srv, SRV_TCB, SRV_OK);
	tdc_coll_source_free(d);
	tdc_pcs_server_stop(srv);
	tdc_quote_result_free(dir);
	free(dir);
	tdc_quote_result_free(url);
	free(url);
}

/* ---- the test PKI: every status ------------------------------------------- */

static const char *const statuses[] = {
	"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
	"ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded",
	"Revoked",
};

static void test_every_status_same_as_directory(void **state)
{
	struct tdc_quote_result *dir = calloc(1, sizeof(*dir)), *url = calloc(1, sizeof(*url));
	struct tdc_pcs_server *srv = NULL;

	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct tdc_test_level lv[2] = {
			{ 1, 0, "UpToDate", NULL },
			{ 0, 0, statuses[i], "[\"INTEL-SA-00001\"]" },
		};
		struct tdc_test_coll c = { .levels = lv, .n_levels = 2 };
		const char *cd = fresh("coll"), *cache = fresh("cache-status");
		struct tdc_pcs_server_opts so = { .dir = cd };
		struct tdc_coll_source *d, *u;
		char spec[512];
		enum tdc_tcb_status want;

		tdc_test_collateral_write(&pki, &c, cd);
		if (!srv)
			assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
		else
			assert_int_equal(tdc_pcs_server_reload(srv, cd), 0);
		snprintf(spec, sizeof(spec), "file://%s", cd);
		d = open_src(spec, NULL, false, NULL);
		u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
		appraise(pki.keys.root_cert, &pki.quote, pki.now, d, 0, dir);
		appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, url);
		assert_same(dir, url);
		assert_int_equal(tdc_tcb_status_parse(statuses[i], &want), 0);
		assert_int_equal(url->tcb_status, want);
		assert_int_equal(url->levels_behind, 1);
		tdc_coll_source_free(d);
		tdc_coll_source_free(u);
	}
	tdc_pcs_server_stop(srv);
	tdc_quote_result_free(dir);
	free(dir);
	tdc_quote_result_free(url);
	free(url);
}

/* ---- failures: clear errors, nothing cached -------------------------------- */

static size_t count_files(const char *dir)
{
	char cmd[600];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f 2>/dev/null | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fscanf(p, "%zu", &n) != 1)
		n = 0;
	pclose(p);
	return n;
}

static bool cached(const char *cache_root, const char *base, const char *slot)
{
	struct tdc_coll_store st;
	struct tdc_coll_meta m;
	struct tdc_buf b, c;
	char b2[TDC_PCS_URL_MAX], host[256];
	int r;

	assert_int_equal(tdc_pcs_base_parse(base, b2, host), 0);
	assert_int_equal(tdc_coll_store_open(cache_root, b2, host, false, &st), 0);
	tdc_buf_init(&b);
	tdc_buf_init(&c);
	r = tdc_coll_store_get(&st, slot, &b, &c, &m);
	tdc_buf_free(&b);
	tdc_buf_free(&c);
	return r == 0;
}

static void test_failures_not_cached(void **state)
{
	static const struct {
		enum tdc_srv_fault fault;
		const char *expect;
	} cases[] = {
		{ SRV_STATUS_500, "HTTP status 500, Error-Code InternalError" },
		{ SRV_NOT_FOUND, "HTTP status 404" },
		{ SRV_TRUNCATED, "transfer closed" },
		{ SRV_SLOW, "timed out" },
		{ SRV_HUGE, "exceeds 1048576 bytes" },
		{ SRV_HUGE_CHUNKED, "exceeds 1048576 bytes" },
		{ SRV_WRONG_CHAIN, "does not verify" },
		{ SRV_NO_CHAIN, "has no TCB-Info-Issuer-Chain header" },
		{ SRV_BAD_ENCODING, "must be percent-encoded" },
		{ SRV_DOWN, "GET http" },
	};
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1 };
	const char *cd = fresh("coll-fail");
	struct tdc_pcs_server_opts so = { .dir = cd, .slow_ms = 3000 };
	struct tdc_pcs_server *srv;
	char slot[TDC_COLL_SLOT_MAX];

	tdc_test_collateral_write(&pki, &c, cd);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	tdc_coll_slot_name(TDC_PCS_TCB, pki.pck.fmspc, 0, TDC_TCB_UPDATE_STANDARD, slot);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *cache = fresh("cache-fail");
		struct tdc_coll_source *u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
		const struct tdc_check *src;
		unsigned long before;

		tdc_pcs_server_fault(srv, SRV_TCB, cases[i].fault);
		appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
		src = find_check(r, "collateral.source");
		assert_non_null(src);
		if (src->status == TDC_CHECK_PASS || !strstr(src->detail, cases[i].expect) ||
		    !strstr(src->detail, tdc_pcs_server_url(srv)))
			print_message("case %zu: %s\n", i, src->detail);
		assert_false(src->status == TDC_CHECK_PASS);
		assert_non_null(strstr(src->detail, cases[i].expect));
		assert_non_null(strstr(src->detail, tdc_pcs_server_url(srv)));
		assert_non_null(strstr(src->detail, "no cached copy"));
		assert_false(find_check(r, "tcb.status")->status == TDC_CHECK_PASS);
		assert_int_equal(tdc_quote_exit_code(r), 1);
		/* Nothing of the failed document is kept, on disk or in memory. */
		assert_false(cached(cache, tdc_pcs_server_url(srv), slot));
		/* ... the other three were stored: .source, 3 bodies, 2 chains, 3 metas. */
		assert_int_equal(count_files(cache), 1 + 3 + 2 + 3);
		/* A failure is not retried at once against the service. */
		before = tdc_pcs_server_requests(srv, SRV_TCB);
		appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
		assert_int_equal(tdc_pcs_server_requests(srv, SRV_TCB), before);
		assert_non_null(strstr(find_check(r, "collateral.source")->detail,
				       "last attempt failed"));
		tdc_coll_source_free(u);
	}
	tdc_pcs_server_fault(srv, SRV_TCB, SRV_OK);
	tdc_pcs_server_stop(srv);
	tdc_quote_result_free(r);
	free(r);
}

/* ---- the cache: refresh, server down ---------------------------------------- */

static void test_server_down(void **state)
{
	struct tdc_quote_result *up = calloc(1, sizeof(*up)), *r = calloc(1, sizeof(*r));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	/* nextUpdate in an hour: inside the refresh window from the start. */
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1, .next = pki.now + 3600,
				   .crl_next = pki.now + 3600 };
	const char *cd = fresh("coll-down"), *cache = fresh("cache-down");
	struct tdc_pcs_server_opts so = { .dir = cd };
	struct tdc_pcs_server *srv;
	struct tdc_coll_source *u;
	char base[64];
	const char *why;

	tdc_test_collateral_write(&pki, &c, cd);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	snprintf(base, sizeof(base), "%s", tdc_pcs_server_url(srv));
	u = open_src(base, cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, up);
	assert_true(up->all_pass);
	tdc_coll_source_free(u);
	tdc_pcs_server_stop(srv);

	/* Down, copy valid but due: the same result, and a note that says so. */
	u = open_src(base, cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_true(r->all_pass);
	assert_int_equal(r->tcb_status, up->tcb_status);
	assert_true(find_check(r, "collateral.source")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(r->collateral_note, "refresh failed"));
	assert_non_null(strstr(r->collateral_note, base));
	assert_non_null(strstr(find_check(r, "collateral.source")->detail, "refresh failed"));
	tdc_coll_source_free(u);

	/* Down, copy expired at the appraisal time: a clear failure. */
	u = open_src(base, cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now + 7200, u, 0, r);
	why = find_check(r, "collateral.source")->detail;
	assert_false(find_check(r, "collateral.source")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(why, base));
	assert_non_null(strstr(why, "expired at its nextUpdate"));
	assert_false(r->all_pass);
	assert_int_equal(tdc_quote_exit_code(r), 1);
	tdc_coll_source_free(u);
	tdc_quote_result_free(up);
	free(up);
	tdc_quote_result_free(r);
	free(r);
}

static void test_background_refresh(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1, .next = pki.now + 3600,
				   .crl_next = pki.now + 3600 };
	struct tdc_test_coll c2 = c;
	const char *cd = fresh("coll-bg"), *cd2 = fresh("coll-bg2"), *cache = fresh("cache-bg");
	struct tdc_pcs_server_opts so = { .dir = cd };
	struct tdc_coll_source_stats st;
	struct tdc_pcs_server *srv;
	struct tdc_coll_source *u;

	tdc_test_collateral_write(&pki, &c, cd);
	c2.issue = pki.now - 60;
	c2.next = c2.crl_next = pki.now + 30 * 86400;
	tdc_test_collateral_write(&pki, &c2, cd2);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	u = open_src(tdc_pcs_server_url(srv), cache, true, NULL);
	/* Cold: fetched in line. */
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_true(r->all_pass);
	assert_int_equal(tdc_pcs_server_total(srv), 4);
	/* Intel publishes newer collateral; the next appraisal is served at once
	 * from the copy it has and queues the refresh. */
	assert_int_equal(tdc_pcs_server_reload(srv, cd2), 0);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_true(r->all_pass);
	assert_int_equal(r->fresh[TDC_PCS_TCB].issued, pki.now - 86400);
	assert_int_equal(tdc_coll_source_wait_idle(u, 10000), 0);
	assert_int_equal(tdc_pcs_server_total(srv), 8);
	tdc_coll_source_stats(u, &st);
	assert_int_equal(st.background_refreshes, 4);
	/* Now the new copies, from memory. */
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_true(r->all_pass);
	assert_int_equal(r->fresh[TDC_PCS_TCB].issued, pki.now - 60);
	assert_int_equal(tdc_pcs_server_total(srv), 8);
	tdc_coll_source_free(u);
	tdc_pcs_server_stop(srv);
	tdc_quote_result_free(r);
	free(r);
}

/* ---- HTTPS and the update type ------------------------------------------------ */

static void test_https(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1 };
	const char *cd = fresh("coll-tls"), *cache = fresh("cache-tls");
	char ca[512];
	struct tdc_pcs_server_opts so = { .dir = cd, .tls = true, .ca_out = ca };
	struct tdc_pcs_server *srv;
	struct tdc_coll_source *u;

	snprintf(ca, sizeof(ca), "%s/test-ca.pem", tmp);
	tdc_test_collateral_write(&pki, &c, cd);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	assert_int_equal(strncmp(tdc_pcs_server_url(srv), "https://", 8), 0);
	/* Not trusting the test CA: TLS verification fails, nothing cached. */
	u = open_src(tdc_pcs_server_url(srv), cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_false(find_check(r, "collateral.source")->status == TDC_CHECK_PASS);
	assert_non_null(strstr(find_check(r, "collateral.source")->detail, "certificate"));
	assert_int_equal(count_files(cache), 1);
	tdc_coll_source_free(u);
	/* With it: verified end to end. */
	u = open_src(tdc_pcs_server_url(srv), cache, false, ca);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	if (!r->all_pass)
		dump(r);
	assert_true(r->all_pass);
	assert_int_equal(tdc_pcs_server_total(srv), 4);
	tdc_coll_source_free(u);
	tdc_pcs_server_stop(srv);
	tdc_quote_result_free(r);
	free(r);
}

static void test_update_early(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1 };
	const char *cd = fresh("coll-early"), *cache = fresh("cache-early");
	struct tdc_pcs_server_opts so = { .dir = cd };
	struct tdc_coll_source_opts o;
	struct tdc_pcs_server *srv;
	struct tdc_coll_source *u;

	tdc_test_collateral_write(&pki, &c, cd);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	tdc_coll_source_opts_init(&o);
	o.spec = tdc_pcs_server_url(srv);
	o.cache_root = cache;
	o.update = TDC_TCB_UPDATE_EARLY;
	assert_int_equal(tdc_coll_source_open(&o, &u), 0);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_true(r->all_pass);
	/* TCB info and QE identity asked for early; the CRLs have no such thing. */
	assert_int_equal(tdc_pcs_server_early(srv), 2);
	assert_non_null(strstr(r->tcbinfo_name, "-early.json"));
	tdc_coll_source_free(u);
	tdc_pcs_server_stop(srv);
	tdc_quote_result_free(r);
	free(r);
}

/* A document cached under one trust anchor is not used under another. */
static void test_other_root(void **state)
{
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct tdc_test_level lv[1] = { { 0, 0, "UpToDate", NULL } };
	struct tdc_test_coll c = { .levels = lv, .n_levels = 1 };
	const char *cd = fresh("coll-root"), *cache = fresh("cache-root");
	struct tdc_pcs_server_opts so = { .dir = cd };
	struct tdc_pcs_server *srv;
	struct tdc_coll_source *u;
	char base[64];

	tdc_test_collateral_write(&pki, &c, cd);
	assert_int_equal(tdc_pcs_server_start(&so, &srv), 0);
	snprintf(base, sizeof(base), "%s", tdc_pcs_server_url(srv));
	u = open_src(base, cache, false, NULL);
	appraise(pki.keys.root_cert, &pki.quote, pki.now, u, 0, r);
	assert_true(r->all_pass);
	tdc_coll_source_free(u);
	tdc_pcs_server_stop(srv);
	/* Another PKI (same sim FMSPC, so the same cache files): its quote
	 * verifies, but nothing cached under the first root is used. */
	{
		struct tdc_test_pki other;

		tdc_test_pki_init(&other, NULL);
		u = open_src(base, cache, false, NULL);
		appraise(other.keys.root_cert, &other.quote, other.now, u, 0, r);
		assert_true(find_check(r, "pck_chain.root")->status == TDC_CHECK_PASS);
		assert_false(find_check(r, "collateral.source")->status == TDC_CHECK_PASS);
		assert_non_null(strstr(find_check(r, "collateral.source")->detail, "no cached copy"));
		assert_false(r->all_pass);
		tdc_coll_source_free(u);
		tdc_test_pki_free(&other);
	}
	tdc_quote_result_free(r);
	free(r);
}

/* The service's VM entries naming one service share one source. */
static void test_shared_sources(void **state)
{
	struct tdc_coll_source_opts o;
	struct tdc_coll_source *a, *b, *c, *d1, *d2;

	tdc_coll_source_opts_init(&o);
	o.spec = "https://pccs.example:8081";
	o.cache_root = fresh("cache-shared");
	o.background = true;
	assert_int_equal(tdc_coll_source_get(&o, &a), 0);
	assert_int_equal(tdc_coll_source_get(&o, &b), 0);
	assert_ptr_equal(a, b);
	o.update = TDC_TCB_UPDATE_EARLY;
	assert_int_equal(tdc_coll_source_get(&o, &c), 0);
	assert_ptr_not_equal(a, c);
	tdc_coll_source_put(a);
	tdc_coll_source_put(c);
	o.update = TDC_TCB_UPDATE_STANDARD;
	assert_int_equal(tdc_coll_source_get(&o, &a), 0);
	assert_ptr_equal(a, b); /* b still holds it */
	tdc_coll_source_put(a);
	tdc_coll_source_put(b);
	/* Directories are never shared: a registry reload rereads them. */
	o.spec = TDC_TESTDATA "/tdx/collateral";
	assert_int_equal(tdc_coll_source_get(&o, &d1), 0);
	assert_int_equal(tdc_coll_source_get(&o, &d2), 0);
	assert_ptr_not_equal(d1, d2);
	tdc_coll_source_put(d1);
	tdc_coll_source_put(d2);
}

static int setup(void **state)
{
	char t[] = "/tmp/tdc-collfetch-XXXXXX";

	if (!mkdtemp(t))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", t);
	/* A proxy in the environment must not see loopback requests. */
	setenv("no_proxy", "127.0.0.1,localhost", 1);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	tdc_test_pki_init(&pki, NULL);
	tdc_buf_init(&spr);
	if (tdc_load_root(TDC_TESTDATA "/tdx/trust/Intel_SGX_Root_CA.pem", &intel_root) != 0 ||
	    tdc_read_file(TDC_TESTDATA "/tdx/tdx_prod_quote_SPR_E4.dat", TDX_QUOTE_MAX, &spr) != 0 ||
	    tdc_time_parse("2023-07-01T01:00:00Z", 0, &spr_at) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	rm_rf(tmp);
	tdc_test_pki_free(&pki);
	X509_free(intel_root);
	tdc_buf_free(&spr);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_real_collateral_same_as_directory),
		cmocka_unit_test(test_every_status_same_as_directory),
		cmocka_unit_test(test_disk_copy_checked),
		cmocka_unit_test(test_failures_not_cached),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_background_refresh),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_update_early),
		cmocka_unit_test(test_other_root),
		cmocka_unit_test(test_shared_sources),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
