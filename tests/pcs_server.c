// SPDX-License-Identifier: Apache-2.0
/* Loopback PCS/PCCS stand-in for tests and benchmarks (pcs_server.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "collateral.h"
#include "pcs.h"
#include "pcs_server.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

#define MAX_DOCS 32
#define MAX_CHAINS 8
#define HUGE_BODY (2u << 20)

struct served {
	enum tdc_srv_doc doc;
	uint8_t fmspc[6];            /* TCB */
	char ca[16];                 /* PCK CRL: "platform" / "processor" */
	struct tdc_buf body;
	int chain;                   /* index into chains, -1: none */
	int other_chain;             /* a chain that does not verify it, -1: none */
};

struct content {
	struct served docs[MAX_DOCS];
	size_t n;
	struct tdc_buf chains[MAX_CHAINS];   /* URL-encoded, ready for a header */
	struct tdc_buf root_only[MAX_CHAINS];
	size_t nchains;
};

struct tdc_pcs_server {
	struct MHD_Daemon *d;
	char url[64];
	pthread_mutex_t lock;
	struct content *c;
	unsigned long count[SRV__COUNT];
	unsigned long early;             /* requests with update=early */
	enum tdc_srv_fault fault[SRV__COUNT];
	unsigned slow_ms;
	bool control;
	atomic_bool stopping;
	char *tls_key, *tls_cert;
};

static const char *const doc_names[SRV__COUNT] = { "tcb", "qe", "pckcrl", "rootcrl" };
static const char *const fault_names[SRV__FAULTS] = {
	"ok", "500", "404", "truncated", "slow", "huge", "huge-chunked", "wrong-chain",
	"no-chain", "bad-encoding", "down",
};
/* Header names of Intel's PCS v4 API, literally. */
static const char *const chain_headers[SRV__COUNT] = {
	"TCB-Info-Issuer-Chain", "SGX-Enclave-Identity-Issuer-Chain", "SGX-PCK-CRL-Issuer-Chain",
	NULL,
};

int tdc_srv_doc_parse(const char *s, enum tdc_srv_doc *d)
{
	for (int i = 0; i < SRV__COUNT; i++)
		if (!strcmp(s, doc_names[i])) {
			*d = (enum tdc_srv_doc)i;
			return 0;
		}
	return -1;
}

int tdc_srv_fault_parse(const char *s, enum tdc_srv_fault *f)
{
	for (int i = 0; i < SRV__FAULTS; i++)
		if (!strcmp(s, fault_names[i])) {
			*f = (enum tdc_srv_fault)i;
			return 0;
		}
	return -1;
}

/* ---- content ---------------------------------------------------------------- */

static void content_free(struct content *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		tdc_buf_free(&c->docs[i].body);
	for (size_t i = 0; i < c->nchains; i++) {
		tdc_buf_free(&c->chains[i]);
		tdc_buf_free(&c->root_only[i]);
	}
	free(c);
}

/* RFC 3986: everything but unreserved characters percent-encoded, as Intel does. */
static int url_encode(const uint8_t *p, size_t n, struct tdc_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		int r;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			r = tdc_buf_put_u8(out, c);
		else
			r = tdc_buf_printf(out, "%%%02X", c);
		if (r)
			return r;
	}
	return 0;
}

static int pem_of(X509 *x, struct tdc_buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r = -1;

	if (b && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &p)) > 0)
		r = tdc_buf_put(out, p, (size_t)n);
	BIO_free(b);
	return r;
}

struct chain_file {
	STACK_OF(X509) *certs;
	X509 *root;                  /* its self-signed certificate */
	struct tdc_buf pem;
};

static bool verifies(const struct served *d, const struct chain_file *cf)
{
	struct tdc_doc_info info;

	return cf->root && tdc_collateral_verify_doc(d->body.data, d->body.len, cf->certs,
						     cf->root, &info) == 0;
}

static int classify(struct content *c, const char *name, struct tdc_buf *b,
		    struct chain_file *cf, size_t *ncf)
{
	struct tdc_doc_info info;
	struct served *d;

	if (b->len >= 27 && !memcmp(b->data, "-----BEGIN CERTIFICATE-----", 27)) {
		struct chain_file *f;

		if (*ncf == MAX_CHAINS)
			return tdc_err(TDC_ERR_TOO_LARGE, "test server: too many chain files");
		f = &cf[(*ncf)++];
		memset(f, 0, sizeof(*f));
		if (tdc_pcs_chain_parse(b->data, b->len, &f->certs) != 0)
			return tdc_err_wrap(TDC_ERR_FORMAT, "test server: %s: ", name);
		for (int i = 0; i < sk_X509_num(f->certs); i++) {
			X509 *x = sk_X509_value(f->certs, i);

			if (!X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)))
				f->root = x;
		}
		f->pem = *b;
		tdc_buf_init(b);
		return 0;
	}
	if (tdc_collateral_doc_info(b->data, b->len, &info) != 0)
		return tdc_err_wrap(TDC_ERR_FORMAT, "test server: %s: ", name);
	if (c->n == MAX_DOCS)
		return tdc_err(TDC_ERR_TOO_LARGE, "test server: too many documents");
	d = &c->docs[c->n++];
	memset(d, 0, sizeof(*d));
	d->chain = d->other_chain = -1;
	if (info.kind == TDC_DOC_TCBINFO) {
		d->doc = SRV_TCB;
		memcpy(d->fmspc, info.fmspc, 6);
	} else if (info.kind == TDC_DOC_QEID) {
		d->doc = SRV_QE;
	} else if (strstr(info.signer, "Root")) {
		d->doc = SRV_ROOTCRL;
	} else {
		d->doc = SRV_PCKCRL;
		snprintf(d->ca, sizeof(d->ca), "%s", strstr(info.signer, "Processor") ?
			 "processor" : "platform");
	}
	d->body = *b;
	tdc_buf_init(b);
	return 0;
}

static int load_content(const char *dir, struct content **out)
{
	struct content *c = calloc(1, sizeof(*c));
	struct chain_file cf[MAX_CHAINS];
	struct dirent **names = NULL;
	size_t ncf = 0;
	int n, r = 0;

	if (!c)
		return tdc_err(TDC_ERR_ALLOC, "test server");
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		free(c);
		return tdc_err(TDC_ERR_NOT_FOUND, "test server: %s: %m", dir);
	}
	for (int i = 0; i < n; i++) {
		char path[2048];
		struct stat st;
		struct tdc_buf b;

		if (!r && names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			tdc_buf_init(&b);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    (r = tdc_read_file(path, 1u << 20, &b)) == 0)
				r = classify(c, names[i]->d_name, &b, cf, &ncf);
			tdc_buf_free(&b);
		}
		free(names[i]);
	}
	free(names);
	/* Each document gets the chain that verifies it, and one that does not. */
	for (size_t i = 0; !r && i < c->n; i++) {
		struct served *d = &c->docs[i];

		for (size_t k = 0; k < ncf; k++) {
			if (d->chain < 0 && verifies(d, &cf[k]))
				d->chain = (int)k;
			else if (d->other_chain < 0 && !verifies(d, &cf[k]))
				d->other_chain = (int)k;
		}
		if (d->doc != SRV_ROOTCRL && d->chain < 0)
			r = tdc_err(TDC_ERR_CHAIN, "test server: no chain file verifies a document");
	}
	for (size_t k = 0; k < ncf; k++) {
		tdc_buf_init(&c->chains[k]);
		tdc_buf_init(&c->root_only[k]);
		if (!r)
			r = url_encode(cf[k].pem.data, cf[k].pem.len, &c->chains[k]);
		if (!r && cf[k].root) {
			struct tdc_buf pem;

			tdc_buf_init(&pem);
			if ((r = pem_of(cf[k].root, &pem)) == 0)
				r = url_encode(pem.data, pem.len, &c->root_only[k]);
			tdc_buf_free(&pem);
		}
		sk_X509_pop_free(cf[k].certs, X509_free);
		tdc_buf_free(&cf[k].pem);
	}
	c->nchains = ncf;
	if (r) {
		content_free(c);
		return r;
	}
	*out = c;
	return 0;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct gen {
	size_t total, sent, stop_at;
	const uint8_t *data;         /* NULL: 'A' filler */
	struct tdc_buf own;
};

static ssize_t gen_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct gen *g = cls;
	size_t n;

	if (pos >= g->stop_at)
		return g->stop_at < g->total ? MHD_CONTENT_READER_END_WITH_ERROR
					     : MHD_CONTENT_READER_END_OF_STREAM;
	n = g->stop_at - (size_t)pos < max ? g->stop_at - (size_t)pos : max;
	if (g->data)
		memcpy(buf, g->data + pos, n);
	else
		memset(buf, 'A', n);
	return (ssize_t)n;
}

static void gen_free(void *cls)
{
	struct gen *g = cls;

	tdc_buf_free(&g->own);
	free(g);
}

static enum MHD_Result send_text(struct MHD_Connection *con, unsigned code, const char *text,
				 const char *err_code)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (err_code) {
		char msg[128];

		snprintf(msg, sizeof(msg), "%s", text);
		msg[strcspn(msg, "\r\n")] = '\0';
		MHD_add_response_header(r, "Error-Code", err_code);
		MHD_add_response_header(r, "Error-Message", msg);
	}
	ret = MHD_queue_response(con, code, r);
	MHD_destroy_response(r);
	return ret;
}

static const struct served *find_doc(const struct content *c, enum tdc_srv_doc d,
				     const char *fmspc, const char *ca)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct served *s = &c->docs[i];
		char hex[13];

		if (s->doc != d)
			continue;
		if (d == SRV_TCB) {
			snprintf(hex, sizeof(hex), "%02x%02x%02x%02x%02x%02x", s->fmspc[0],
				 s->fmspc[1], s->fmspc[2], s->fmspc[3], s->fmspc[4], s->fmspc[5]);
			if (!fmspc || strcasecmp(fmspc, hex))
				continue;
		}
		if (d == SRV_PCKCRL && (!ca || strcmp(ca, s->ca)))
			continue;
		return s;
	}
	return NULL;
}

static enum MHD_Result control(struct tdc_pcs_server *s, struct MHD_Connection *con,
			       const char *url)
{
	char buf[256];

	if (!strcmp(url, "/_test/stats")) {
		pthread_mutex_lock(&s->lock);
		snprintf(buf, sizeof(buf), "{\"tcb\": %lu, \"qe\": %lu, \"pckcrl\": %lu, "
			 "\"rootcrl\": %lu, \"total\": %lu}\n", s->count[0], s->count[1],
			 s->count[2], s->count[3], s->count[0] + s->count[1] + s->count[2] +
			 s->count[3]);
		pthread_mutex_unlock(&s->lock);
		return send_text(con, 200, buf, NULL);
	}
	if (!strcmp(url, "/_test/fault")) {
		const char *doc = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "doc");
		const char *mode = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "mode");
		enum tdc_srv_doc d;
		enum tdc_srv_fault f;

		if (!mode || tdc_srv_fault_parse(mode, &f) != 0)
			return send_text(con, 400, "bad mode\n", NULL);
		if (doc && !strcmp(doc, "all")) {
			for (int i = 0; i < SRV__COUNT; i++)
				tdc_pcs_server_fault(s, (enum tdc_srv_doc)i, f);
		} else if (!doc || tdc_srv_doc_parse(doc, &d) != 0) {
			return send_text(con, 400, "bad doc\n", NULL);
		} else {
			tdc_pcs_server_fault(s, d, f);
		}
		return send_text(con, 200, "ok\n", NULL);
	}
	return send_text(con, 404, "unknown control path\n", NULL);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct tdc_pcs_server *s = cls;
	enum tdc_srv_doc d;
	enum tdc_srv_fault f;
	const struct served *doc;
	struct MHD_Response *r;
	struct tdc_buf hdr;
	struct gen *g;
	char rid[33];
	uint8_t rnd[16];
	enum MHD_Result ret;
	bool found, with_chain = false;

	if (strcmp(method, "GET"))
		return send_text(con, 405, "GET only\n", NULL);
	if (s->control && !strncmp(url, "/_test/", 7))
		return control(s, con, url);
	if (!strcmp(url, "/tdx/certification/v4/tcb"))
		d = SRV_TCB;
	else if (!strcmp(url, "/tdx/certification/v4/qe/identity"))
		d = SRV_QE;
	else if (!strcmp(url, "/sgx/certification/v4/pckcrl"))
		d = SRV_PCKCRL;
	else if (!strcmp(url, "/sgx/certification/v4/rootcacrl") || !strcmp(url, "/IntelSGXRootCA.der"))
		d = SRV_ROOTCRL;
	else
		return send_text(con, 404, "no such path\n", "NotFound");
	if (!(g = calloc(1, sizeof(*g))))
		return MHD_NO;
	tdc_buf_init(&g->own);
	tdc_buf_init(&hdr);
	/* Copy what this response needs: a reload may replace the content. */
	pthread_mutex_lock(&s->lock);
	s->count[d]++;
	{
		const char *u = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "update");

		if (u && !strcmp(u, "early"))
			s->early++;
	}
	f = s->fault[d];
	doc = find_doc(s->c, d, MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "fmspc"),
		       MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "ca"));
	found = doc != NULL;
	if (doc) {
		int chain = f == SRV_WRONG_CHAIN ? doc->other_chain : doc->chain;
		const struct tdc_buf *cb = chain >= 0 ? &s->c->chains[chain] :
					   f == SRV_WRONG_CHAIN && doc->chain >= 0 ?
					   &s->c->root_only[doc->chain] : NULL;

		tdc_buf_put(&g->own, doc->body.data, doc->body.len);
		if (cb && chain_headers[d] && f != SRV_NO_CHAIN) {
			with_chain = true;
			if (f == SRV_BAD_ENCODING)
				tdc_buf_printf(&hdr, "-----BEGIN CERTIFICATE----- %%zz");
			else
				tdc_buf_put(&hdr, cb->data, cb->len);
		}
	}
	pthread_mutex_unlock(&s->lock);
	g->data = g->own.data;
	g->total = g->stop_at = g->own.len;
	if (f == SRV_DOWN) {
		ret = MHD_NO;
		goto out;
	}
	if (f == SRV_SLOW)
		for (unsigned t = 0; t < s->slow_ms && !atomic_load(&s->stopping); t += 20)
			sleep_ms(20);
	if (f == SRV_STATUS_500) {
		ret = send_text(con, 500, "Internal server error (injected)\n", "InternalError");
		goto out;
	}
	if (!found || f == SRV_NOT_FOUND) {
		ret = send_text(con, 404, "No collateral for these parameters\n", "NotFound");
		goto out;
	}
	if (f == SRV_TRUNCATED)
		g->stop_at = g->total / 2;
	if (f == SRV_HUGE || f == SRV_HUGE_CHUNKED) {
		g->data = NULL;
		g->total = g->stop_at = HUGE_BODY;
	}
	r = MHD_create_response_from_callback(f == SRV_HUGE_CHUNKED ? MHD_SIZE_UNKNOWN : g->total,
					      16 * 1024, gen_read, g, gen_free);
	if (!r) {
		ret = MHD_NO;
		goto out;
	}
	g = NULL; /* the response owns it now */
	RAND_bytes(rnd, sizeof(rnd));
	tdc_hex_encode(rnd, sizeof(rnd), rid);
	MHD_add_response_header(r, "Request-ID", rid);
	MHD_add_response_header(r, "Content-Type", d <= SRV_QE ? "application/json" :
				"application/pkix-crl");
	if (with_chain)
		MHD_add_response_header(r, chain_headers[d], tdc_buf_cstr(&hdr));
	ret = MHD_queue_response(con, 200, r);
	MHD_destroy_response(r);
out:
	if (g)
		gen_free(g);
	tdc_buf_free(&hdr);
	return ret;
}

/* ---- TLS: a test CA and a certificate for 127.0.0.1 --------------------------- */

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		       bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	const char *const exts[][2] = {
		{ "basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE" },
		{ "keyUsage", ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature" },
		{ "extendedKeyUsage", ca ? NULL : "serverAuth" },
		{ "subjectAltName", ca ? NULL : "IP:127.0.0.1,DNS:localhost" },
	};
	uint64_t serial = 0;

	RAND_bytes((unsigned char *)&serial, sizeof(serial));
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1);
	X509_set_version(x, 2);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		X509_EXTENSION *e;

		if (!exts[i][1])
			continue;
		e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	X509_NAME_free(name);
	return x;
}

static char *bio_string(BIO *b)
{
	char *p, *s;
	long n = BIO_get_mem_data(b, &p);

	if (n <= 0 || !(s = malloc((size_t)n + 1)))
		return NULL;
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

static int make_tls(struct tdc_pcs_server *s, const char *ca_out)
{
	EVP_PKEY *cak = EVP_EC_gen("P-256"), *k = EVP_EC_gen("P-256");
	X509 *ca = cak ? make_cert(cak, "tdcpuid test PCCS CA (TEST ONLY)", NULL, NULL, true) : NULL;
	X509 *leaf = ca && k ? make_cert(k, "127.0.0.1", ca, cak, false) : NULL;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	FILE *f;
	int r = tdc_err(TDC_ERR_INTERNAL, "test server: TLS certificate");

	if (!leaf || !kb || !cb || !PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, leaf) || !(s->tls_key = bio_string(kb)) ||
	    !(s->tls_cert = bio_string(cb)))
		goto out;
	if (!ca_out || !(f = fopen(ca_out, "w"))) {
		r = tdc_err(TDC_ERR_IO, "test server: cannot write the test CA to %s",
			    ca_out ? ca_out : "(none)");
		goto out;
	}
	PEM_write_X509(f, ca);
	fclose(f);
	r = 0;
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	return r;
}

/* ---- lifecycle ---------------------------------------------------------------- */

int tdc_pcs_server_start(const struct tdc_pcs_server_opts *o, struct tdc_pcs_server **out)
{
	struct tdc_pcs_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	int r;

	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "test server");
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->stopping, false);
	s->slow_ms = o->slow_ms ? o->slow_ms : 3000;
	s->control = o->control;
	if ((r = load_content(o->dir, &s->c)) != 0)
		goto fail;
	if (o->tls && (r = make_tls(s, o->ca_out)) != 0)
		goto fail;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (o->tls)
		flags |= MHD_USE_TLS;
	s->d = o->tls ?
	       MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
				MHD_OPTION_HTTPS_MEM_KEY, s->tls_key, MHD_OPTION_HTTPS_MEM_CERT,
				s->tls_cert, MHD_OPTION_END) :
	       MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
				MHD_OPTION_END);
	if (!s->d) {
		r = tdc_err(TDC_ERR_IO, "test server: libmicrohttpd did not start%s",
			    o->tls ? " (TLS: is libmicrohttpd built with GnuTLS?)" : "");
		goto fail;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%u", o->tls ? "https" : "http",
		 info ? info->port : 0);
	*out = s;
	return 0;
fail:
	tdc_pcs_server_stop(s);
	return r;
}

void tdc_pcs_server_stop(struct tdc_pcs_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	if (s->d)
		MHD_stop_daemon(s->d);
	content_free(s->c);
	free(s->tls_key);
	free(s->tls_cert);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *tdc_pcs_server_url(const struct tdc_pcs_server *s)
{
	return s->url;
}

unsigned long tdc_pcs_server_requests(struct tdc_pcs_server *s, enum tdc_srv_doc d)
{
	unsigned long n;

	pthread_mutex_lock(&s->lock);
	n = s->count[d];
	pthread_mutex_unlock(&s->lock);
	return n;
}

unsigned long tdc_pcs_server_total(struct tdc_pcs_server *s)
{
	unsigned long n = 0;

	for (int i = 0; i < SRV__COUNT; i++)
		n += tdc_pcs_server_requests(s, (enum tdc_srv_doc)i);
	return n;
}

unsigned long tdc_pcs_server_early(struct tdc_pcs_server *s)
{
	unsigned long n;

	pthread_mutex_lock(&s->lock);
	n = s->early;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void tdc_pcs_server_fault(struct tdc_pcs_server *s, enum tdc_srv_doc d, enum tdc_srv_fault f)
{
	pthread_mutex_lock(&s->lock);
	s->fault[d] = f;
	pthread_mutex_unlock(&s->lock);
}

int tdc_pcs_server_reload(struct tdc_pcs_server *s, const char *dir)
{
	struct content *c, *old;
	int r;

	if ((r = load_content(dir, &c)) != 0)
		return r;
	pthread_mutex_lock(&s->lock);
	old = s->c;
	s->c = c;
	pthread_mutex_unlock(&s->lock);
	/* Handlers copy what they serve under the lock, so the old set can go. */
	content_free(old);
	return 0;
}
