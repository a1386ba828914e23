// SPDX-License-Identifier: Apache-2.0
/*
 * Real-quote appraisals per second (tests/data/tdx SPR quote), in three
 * modes, each against its OpenSSL floor measured in the same run:
 *   chain       signature chain only (no collateral), nothing cached: the
 *               leaf and intermediate parsed (the root is the trusted one,
 *               compared by DER), which the floor does not pay
 *               (docs/performance.md)
 *   chain bound the floor plus OpenSSL's parse of the leaf and the
 *               intermediate: the best the chain mode can reach with them
 *               parsed by d2i_X509 (docs/performance.md, wave 2)
 *   chain+cache signature chain only, verified chain cached (a service)
 *   coll        with the 2023 collateral, every document verified each time
 *   coll+cache  with the verified-collateral cache (a long-running service)
 * and the collateral fetch path, against the loopback PCS stand-in
 * (tests/pcs_server.c) serving the same 2023 collateral:
 *   fetch cold  the first appraisal of a new source with an empty cache:
 *               four HTTP fetches, each document verified and written to disk
 *   fetch disk  the first appraisal of a new source over a filled cache (a
 *               restarted service): every document read back and verified
 *   url+cache   warm appraisals from the URL source with the verified-
 *               collateral cache, interleaved with coll+cache from the
 *               directory source in the same slices: ratio = directory time /
 *               URL time, 1.0 when the URL source costs nothing extra
 * The floor is the same number of ECDSA-P256 verifications the appraisal
 * performed (counted by the appraisal itself), done directly with OpenSSL
 * on pre-parsed keys and pre-encoded signatures (SHA-256 + EVP_PKEY_verify;
 * X509_verify for certificate links): what an implementation that did
 * nothing but the cryptography would cost.
 * Reference point: Intel's quote verification library needs about 4.1 ms
 * per full appraisal of this quote with its collateral on these machines.
 *
 * Usage: bench_quote [SECONDS-PER-MODE]   (default 1.5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "pcs_server.h"
#include "crypto.h"
#include "quote_verify.h"
#include "trust.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

#define INTEL_QVL_MS 4.1

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The four verifications of a genuine quote, prepared once. */
struct floor_ops {
	EVP_PKEY *att;
	uint8_t qsig[80], qesig[80];
	int qsig_len, qesig_len;
	const uint8_t *signed_data, *qe_report;
	size_t signed_len;
	X509 *leaf, *inter, *root;
};

static int rs_to_der(const uint8_t rs[64], uint8_t *der)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	uint8_t *p = der;
	int n;

	ECDSA_SIG_set0(s, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
	n = i2d_ECDSA_SIG(s, &p);
	ECDSA_SIG_free(s);
	return n;
}

static int floor_init(struct floor_ops *f, const struct tdx_quote *q)
{
	BIO *bio = BIO_new_mem_buf(q->pck_chain_pem, (int)q->pck_chain_len);

	if (tdc_p256_key_from_xy(q->attest_key, &f->att) != 0)
		return -1;
	f->qsig_len = rs_to_der(q->signature, f->qsig);
	f->qesig_len = rs_to_der(q->qe_report_sig, f->qesig);
	f->signed_data = q->signed_data;
	f->signed_len = q->signed_len;
	f->qe_report = q->qe_report.raw;
	f->leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	f->inter = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	f->root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return f->leaf && f->inter && f->root ? 0 : -1;
}

/* Hash, then EVP_PKEY_verify: the cheapest ECDSA-SHA256 verification the
 * EVP API offers (no per-call digest fetch), so the floor is not slowed by
 * API overhead the appraisal avoids. */
static int digest_verify(EVP_PKEY *k, const uint8_t *sig, int sig_len, const uint8_t *m,
			 size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	uint8_t d[32];
	int ok;

	tdc_sha256(m, len, d);
	ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_verify(ctx, sig, (size_t)sig_len, d, sizeof(d)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* Verification number @i of the cycle quote, QE report, intermediate, leaf. */
static int floor_one(const struct floor_ops *f, unsigned long i)
{
	switch (i % 4) {
	case 0: return digest_verify(f->att, f->qsig, f->qsig_len, f->signed_data, f->signed_len);
	case 1: return digest_verify(X509_get0_pubkey(f->leaf), f->qesig, f->qesig_len,
				     f->qe_report, TDX_QE_REPORT_LEN);
	case 2: return X509_verify(f->inter, X509_get0_pubkey(f->root)) == 1;
	default: return X509_verify(f->leaf, X509_get0_pubkey(f->inter)) == 1;
	}
}

struct mode_result {
	double per;                 /* seconds per appraisal */
	double floor_per;           /* seconds per floor round (same verifies) */
	unsigned long verifies;
};

/*
 * Appraisals and floor rounds run interleaved in short slices, so both see
 * the same machine load (the test hosts are shared and noisy).
 */
static struct mode_result run_mode(const struct tdc_quote_opts *o, const struct tdc_buf *q,
				   const struct floor_ops *f, double secs, int want_pass)
{
	enum { SLICE = 16 };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	struct mode_result m = { 0, 0, 0 };
	unsigned long n = 0;
	double t_app = 0, t_floor = 0, t0;

	/* Warm up twice (the first fills the cache in the cached modes), then
	 * count the steady state's verifications and sanity-check it. */
	if (!r || tdc_quote_appraise(o, q->data, q->len, r) != 0 ||
	    tdc_quote_appraise(o, q->data, q->len, r) != 0 || (want_pass && !r->all_pass)) {
		fprintf(stderr, "bench_quote: appraisal failed: %s\n", tdc_errdetail());
		exit(3);
	}
	m.verifies = r->ecdsa_verifies;
	while (t_app + t_floor < 2 * secs) {
		t0 = now_s();
		for (int i = 0; i < SLICE; i++)
			tdc_quote_appraise(o, q->data, q->len, r);
		t_app += now_s() - t0;
		t0 = now_s();
		for (int i = 0; i < SLICE; i++)
			for (unsigned long v = 0; v < m.verifies; v++)
				if (!floor_one(f, v)) {
					fprintf(stderr, "bench_quote: floor verification failed\n");
					exit(3);
				}
		t_floor += now_s() - t0;
		n += SLICE;
	}
	m.per = t_app / (double)n;
	m.floor_per = t_floor / (double)n;
	tdc_quote_result_free(r);
	free(r);
	return m;
}

/* Two option sets in alternating slices: @b's cost next to @a's. */
static void run_pair(const struct tdc_quote_opts *a, const struct tdc_quote_opts *b,
		     const struct tdc_buf *q, double secs, double *per_a, double *per_b)
{
	enum { SLICE = 16 };
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	double ta = 0, tb = 0, t0;
	unsigned long n = 0;

	if (!r || tdc_quote_appraise(a, q->data, q->len, r) != 0 ||
	    tdc_quote_appraise(b, q->data, q->len, r) != 0 ||
	    tdc_quote_appraise(b, q->data, q->len, r) != 0) {
		fprintf(stderr, "bench_quote: appraisal failed: %s\n", tdc_errdetail());
		exit(3);
	}
	while (ta + tb < 2 * secs) {
		t0 = now_s();
		for (int i = 0; i < SLICE; i++)
			tdc_quote_appraise(a, q->data, q->len, r);
		ta += now_s() - t0;
		t0 = now_s();
		for (int i = 0; i < SLICE; i++)
			tdc_quote_appraise(b, q->data, q->len, r);
		tb += now_s() - t0;
		n += SLICE;
	}
	*per_a = ta / (double)n;
	*per_b = tb / (double)n;
	tdc_quote_result_free(r);
	free(r);
}

/* The first appraisal of a new source (cold: empty cache). */
static double first_appraisal(const struct tdc_quote_opts *base, const char *url,
			      const char *cache, const struct tdc_buf *q, bool want_fetch)
{
	struct tdc_coll_source_opts so;
	struct tdc_quote_opts o = *base;
	struct tdc_coll_source_stats st;
	struct tdc_quote_result *r = calloc(1, sizeof(*r));
	double t0, t;

	tdc_coll_source_opts_init(&so);
	so.spec = url;
	so.cache_root = cache;
	o.collateral = NULL;
	o.cache = NULL; /* nothing verified before: the whole first appraisal */
	t0 = now_s();
	if (!r || tdc_coll_source_open(&so, &o.source) != 0 ||
	    tdc_quote_appraise(&o, q->data, q->len, r) != 0 || !r->collateral_used) {
		fprintf(stderr, "bench_quote: fetch path: %s\n", tdc_errdetail());
		exit(3);
	}
	t = now_s() - t0;
	tdc_coll_source_stats(o.source, &st);
	if ((st.fetches == 4) != want_fetch || st.fetch_failures) {
		fprintf(stderr, "bench_quote: fetch path: %lu fetches, %lu failed\n", st.fetches,
			st.fetch_failures);
		exit(3);
	}
	tdc_coll_source_free(o.source);
	tdc_quote_result_free(r);
	free(r);
	return t;
}

static void bench_fetch(const struct tdc_quote_opts *dir_cached, const struct tdc_buf *q,
			double secs)
{
	enum { COLD_RUNS = 5 };
	struct tdc_pcs_server_opts so = { .dir = TDC_TESTDATA "/tdx/collateral" };
	struct tdc_quote_opts warm = *dir_cached;
	struct tdc_coll_source_opts co;
	struct tdc_collateral_cache *cache;
	struct tdc_pcs_server *srv;
	char tmpl[] = "/tmp/bench-quote-XXXXXX", cdir[64], cmd[128];
	double cold = 0, disk = 0, per_dir, per_url;

	setenv("no_proxy", "127.0.0.1", 1);
	if (!mkdtemp(tmpl) || tdc_pcs_server_start(&so, &srv) != 0) {
		fprintf(stderr, "bench_quote: loopback server: %s\n", tdc_errdetail());
		exit(3);
	}
	for (int i = 0; i < COLD_RUNS; i++) {
		snprintf(cdir, sizeof(cdir), "%s/cold%d", tmpl, i);
		cold += first_appraisal(dir_cached, tdc_pcs_server_url(srv), cdir, q, true);
		disk += first_appraisal(dir_cached, tdc_pcs_server_url(srv), cdir, q, false);
	}
	printf("fetch cold   first appraisal %8.0f us (new source, empty cache: 4 documents "
	       "fetched over loopback HTTP, verified, stored; mean of %d)\n",
	       cold / COLD_RUNS * 1e6, COLD_RUNS);
	printf("fetch disk   first appraisal %8.0f us (new source over the filled cache: "
	       "read back and verified; mean of %d)\n", disk / COLD_RUNS * 1e6, COLD_RUNS);
	tdc_coll_source_opts_init(&co);
	co.spec = tdc_pcs_server_url(srv);
	co.cache_root = cdir;
	if (tdc_coll_source_open(&co, &warm.source) != 0 ||
	    tdc_collateral_cache_new(&cache) != 0) {
		fprintf(stderr, "bench_quote: %s\n", tdc_errdetail());
		exit(3);
	}
	warm.collateral = NULL;
	warm.cache = cache;
	run_pair(dir_cached, &warm, q, secs, &per_dir, &per_url);
	printf("%-12s %9.0f appraisals/s  %7.1f us each  directory source %7.1f us  "
	       "ratio %.2f\n", "url+cache", 1.0 / per_url, per_url * 1e6, per_dir * 1e6,
	       per_dir / per_url);
	tdc_coll_source_free(warm.source);
	tdc_collateral_cache_free(cache);
	tdc_pcs_server_stop(srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_quote: could not remove %s\n", tmpl);
}

static void report(const char *name, struct mode_result m)
{
	double floor_per = m.floor_per;

	printf("%-12s %9.0f appraisals/s  %7.1f us each  %2lu ECDSA verifies  "
	       "floor %7.1f us  ratio %.2f\n", name, 1.0 / m.per, m.per * 1e6, m.verifies,
	       floor_per * 1e6, floor_per / m.per);
}

/*
 * What the chain mode could reach at best while OpenSSL 3.0 parses the
 * leaf and the intermediate (d2i_X509 in the certificate context, then
 * X509_free, as the appraisal does): the floor's verifications plus those
 * two parses, against the floor alone, in alternating slices.  Nothing of
 * the appraisal's own (PEM, path building, checks) is in it.
 */
static void chain_bound(const struct floor_ops *f, double secs)
{
	enum { SLICE = 16 };
	unsigned char *der[2] = { NULL, NULL };
	int len[2] = { i2d_X509(f->leaf, &der[0]), i2d_X509(f->inter, &der[1]) };
	double t_parse = 0, t_floor = 0, t0;
	unsigned long n = 0;

	if (len[0] <= 0 || len[1] <= 0) {
		fprintf(stderr, "bench_quote: chain bound: certificates do not encode\n");
		exit(3);
	}
	while (t_parse + t_floor < 2 * secs) {
		t0 = now_s();
		for (int i = 0; i < SLICE; i++) {
			X509 *a = tdc_der_read_cert(der[0], (size_t)len[0]);
			X509 *b = tdc_der_read_cert(der[1], (size_t)len[1]);

			if (!a || !b)
				exit(3);
			for (unsigned long v = 0; v < 4; v++)
				floor_one(f, v);
			X509_free(a);
			X509_free(b);
		}
		t_parse += now_s() - t0;
		t0 = now_s();
		for (int i = 0; i < SLICE; i++)
			for (unsigned long v = 0; v < 4; v++)
				floor_one(f, v);
		t_floor += now_s() - t0;
		n += SLICE;
	}
	printf("%-12s %9.0f rounds/s      %7.1f us each  floor + d2i_X509 of leaf and "
	       "intermediate  floor %7.1f us  ratio %.2f\n", "chain bound", n / t_parse,
	       t_parse / (double)n * 1e6, t_floor / (double)n * 1e6, t_floor / t_parse);
	OPENSSL_free(der[0]);
	OPENSSL_free(der[1]);
}

static int usage(FILE *f)
{
	fprintf(f, "usage: bench_quote [SECONDS-PER-MODE]   (default 1.5)\n"
		"Appraisals of the SPR quote per mode (chain, chain+cache, coll, coll+cache,\n"
		"the fetch path), each against its OpenSSL floor measured in the same run.\n");
	return f == stdout ? 0 : 2;
}

int main(int argc, char *argv[])
{
	double secs = 1.5;
	char *rest;
	struct tdc_quote_opts o = { 0 };
	struct tdc_collateral_cache *cache;
	struct mode_result chain, chain_cached, coll, cached;
	struct floor_ops f = { 0 };
	struct tdx_quote q;
	struct tdc_buf buf;
	struct tdc_collateral_cache *chain_cache;

	tdc_buf_init(&buf);
	struct tdc_trust *trust = NULL;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(stdout);
	/* A number of seconds, or usage: atof("--help") was 0 s, printing NaN. */
	if (argc > 1)
		secs = strtod(argv[1], &rest);
	if (argc > 2 || (argc > 1 && (*rest || !(secs > 0) || secs > 3600)))
		return usage(stderr);
	if (tdc_trust_load(TDC_TESTDATA "/tdx/trust/Intel_SGX_Root_CA.pem", &trust) != 0 ||
	    !(o.root = trust->root) || !(o.store = trust->store) || !(o.qe_identity = &trust->qe) ||
	    tdc_read_file(TDC_TESTDATA "/tdx/tdx_prod_quote_SPR_E4.dat", TDX_QUOTE_MAX, &buf) ||
	    tdx_quote_parse(buf.data, buf.len, true, &q) != 0 || floor_init(&f, &q) != 0 ||
	    tdc_time_parse("2023-07-01T01:00:00Z", 0, &o.at) != 0 ||
	    tdc_collateral_cache_new(&cache) != 0) {
		fprintf(stderr, "bench_quote: setup: %s\n", tdc_errdetail());
		return 3;
	}
	printf("bench_quote: SPR quote (%zu bytes), %.1f s per mode, OpenSSL %s\n", buf.len,
	       secs, OpenSSL_version(OPENSSL_VERSION));

	chain = run_mode(&o, &buf, &f, secs, 1);
	report("chain", chain);
	chain_bound(&f, secs);
	if (tdc_collateral_cache_new(&chain_cache) != 0)
		return 3;
	o.cache = chain_cache;
	chain_cached = run_mode(&o, &buf, &f, secs, 1);
	report("chain+cache", chain_cached);
	o.cache = NULL;
	tdc_collateral_cache_free(chain_cache);

	if (tdc_collateral_load_dir(TDC_TESTDATA "/tdx/collateral", &o.collateral) != 0) {
		fprintf(stderr, "bench_quote: collateral: %s\n", tdc_errdetail());
		return 3;
	}
	coll = run_mode(&o, &buf, &f, secs, 0);
	report("coll", coll);
	o.cache = cache;
	cached = run_mode(&o, &buf, &f, secs, 0);
	report("coll+cache", cached);

	printf("cache effect: %.1fx faster than verifying the collateral each time "
	       "(cache hits %lu, misses %lu)\n", coll.per / cached.per, cache->hits,
	       cache->misses);
	printf("vs Intel QVL reference (%.1f ms per full appraisal): %.1fx faster with the "
	       "cache, %.1fx without (target >= 10x)\n", INTEL_QVL_MS,
	       INTEL_QVL_MS / 1e3 / cached.per, INTEL_QVL_MS / 1e3 / coll.per);
	bench_fetch(&o, &buf, secs);

	tdc_collateral_free(o.collateral);
	tdc_collateral_cache_free(cache);
	tdc_trust_free(trust);
	X509_free(f.leaf);
	X509_free(f.inter);
	X509_free(f.root);
	EVP_PKEY_free(f.att);
	tdc_buf_free(&buf);
	return 0;
}
