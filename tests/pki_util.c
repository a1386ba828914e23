// SPDX-License-Identifier: Apache-2.0
/* Test-PKI collateral in Intel's formats (pki_util.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki_util.h"
#include "tdcpuid/error.h"

#define NEED(x)                                                                        \
	do {                                                                           \
		if (!(x)) {                                                            \
			fprintf(stderr, "%s:%d: %s failed (%s)\n", __FILE__, __LINE__, #x, \
				tdc_errdetail());                                      \
			abort();                                                       \
		}                                                                      \
	} while (0)

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	NEED(k);
	return k;
}

static X509 *new_cert(time_t now, EVP_PKEY *key, const char *cn, X509 *issuer,
		      EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &now);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	/* Key identifiers, as Intel's TCB signing certificate has them (a
	 * strict X509_verify_cert wants the authority's). */
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (issuer) {
		NEED(ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
					       "keyid:always"));
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	NEED(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return x;
}

void tdc_test_pki_quote(const struct tdc_test_pki *p, const struct tdc_sim_params *sp, bool v5,
			struct tdc_buf *quote)
{
	uint8_t rd[TDX_REPORTDATA_LEN] = { 1, 2, 3 }, report[TDX_REPORT_LEN];

	NEED(tdc_sim_report(&p->keys, sp, rd, report) == 0);
	NEED((v5 ? tdc_sim_quote_v5(&p->keys, report, quote) :
	      tdc_sim_quote(&p->keys, report, quote)) == 0);
}

void tdc_test_pki_init(struct tdc_test_pki *p, const char *sim_dir)
{
	struct tdc_sim_params sp;

	memset(p, 0, sizeof(*p));
	p->now = time(NULL);
	tdc_sim_keys_init(&p->keys);
	NEED((sim_dir ? tdc_sim_keys_load(&p->keys, sim_dir) : tdc_sim_keys_generate(&p->keys)) == 0);
	tdc_sim_params_init(&sp);
	tdc_buf_init(&p->quote);
	tdc_test_pki_quote(p, &sp, false, &p->quote);
	NEED(tdx_quote_parse(p->quote.data, p->quote.len, false, &p->parsed) == 0);
	NEED(tdc_pck_ext_from_cert(p->keys.pck_cert, &p->pck) == 0);
	p->sign_key = new_key();
	p->sign_cert = new_cert(p->now, p->sign_key, "Test SGX TCB Signing", p->keys.root_cert,
				p->keys.root_key);
	p->rogue_key = new_key();
	p->rogue_cert = new_cert(p->now, p->rogue_key, "Rogue TCB Signing", NULL, NULL);
}

void tdc_test_pki_free(struct tdc_test_pki *p)
{
	tdc_sim_keys_free(&p->keys);
	tdc_buf_free(&p->quote);
	EVP_PKEY_free(p->sign_key);
	EVP_PKEY_free(p->rogue_key);
	X509_free(p->sign_cert);
	X509_free(p->rogue_cert);
}

void tdc_test_signed_doc(struct tdc_buf *out, const char *key, const char *body,
			 EVP_PKEY *k, bool odd)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80], rs[64] = { 0 };
	const unsigned char *pp = der;
	size_t len = sizeof(der);
	char hex[129];
	ECDSA_SIG *sig;

	NEED(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) == 1);
	NEED(EVP_DigestSign(md, der, &len, (const uint8_t *)body, strlen(body)) == 1);
	sig = d2i_ECDSA_SIG(NULL, &pp, (long)len);
	NEED(sig);
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
	tdc_hex_encode(rs, 64, hex);
	tdc_buf_init(out);
	if (odd)
		NEED(tdc_buf_printf(out, "{\n  \"signature\" : \"%s\" ,\n  \"%s\" :  %s\n}\n", hex,
				    key, body) == 0);
	else
		NEED(tdc_buf_printf(out, "{\"%s\":%s,\"signature\":\"%s\"}", key, body, hex) == 0);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
}

static void iso(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void components(struct tdc_buf *b, const uint8_t *v, int delta)
{
	tdc_buf_printf(b, "[");
	for (int i = 0; i < 16; i++)
		tdc_buf_printf(b, "%s{\"svn\":%d}", i ? "," : "", v[i] + (i == 0 ? delta : 0));
	tdc_buf_printf(b, "]");
}

static void modules_json(const struct tdc_test_pki *p, const struct tdc_test_coll *c,
			 struct tdc_buf *b)
{
	char h[97];

	tdc_hex_encode(p->parsed.body.mr_signer_seam, 48, h);
	tdc_buf_printf(b, ",\"tdxModuleIdentities\":[");
	for (size_t i = 0; i < c->n_modules; i++) {
		const struct tdc_test_module *m = &c->modules[i];

		tdc_buf_printf(b, "%s{\"id\":\"TDX_%02X\",\"mrsigner\":\"%s\",\"attributes\":"
			       "\"0000000000000000\",\"attributesMask\":\"FFFFFFFFFFFFFFFF\","
			       "\"tcbLevels\":[", i ? "," : "", m->version, h);
		for (size_t k = 0; k < m->n_levels; k++)
			tdc_buf_printf(b, "%s{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":"
				       "\"2024-0%zu-01T00:00:00Z\",\"tcbStatus\":\"%s\"}",
				       k ? "," : "", m->levels[k].isvsvn, 9 - k, m->levels[k].status);
		tdc_buf_printf(b, "]}");
	}
	tdc_buf_printf(b, "]");
}

static time_t or_default(time_t t, time_t dflt)
{
	return t ? t : dflt;
}

void tdc_test_tcbinfo_body(const struct tdc_test_pki *p, const struct tdc_test_coll *c,
			   struct tdc_buf *b)
{
	char h[129], d1[24], d2[24];
	const uint8_t *svn = c->tee_tcb_svn ? c->tee_tcb_svn : p->parsed.body.tee_tcb_svn;
	uint8_t fmspc[6];
	time_t next = c->expired ? p->now - 3600 : or_default(c->next, p->now + 86400 * 30);

	memcpy(fmspc, c->fmspc ? c->fmspc : p->pck.fmspc, 6);
	if (c->other_fmspc)
		fmspc[5] ^= 0x5a;
	iso(or_default(c->issue, p->now - 86400), d1);
	iso(next, d2);
	tdc_buf_init(b);
	tdc_hex_encode(fmspc, 6, h);
	tdc_buf_printf(b, "{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":"
		       "\"%s\",\"fmspc\":\"%s\",\"pceId\":\"%02x%02x\",\"tcbType\":0,"
		       "\"tcbEvaluationDataNumber\":17,\"tdxModule\":{\"mrsigner\":\"", d1, d2, h,
		       p->pck.pceid[0], p->pck.pceid[1]);
	tdc_hex_encode(p->parsed.body.mr_signer_seam, 48, h);
	tdc_buf_printf(b, "%s\",\"attributes\":\"0000000000000000\",\"attributesMask\":"
		       "\"FFFFFFFFFFFFFFFF\"}", h);
	if (c->n_modules)
		modules_json(p, c, b);
	tdc_buf_printf(b, ",\"tcbLevels\":[");
	for (size_t i = 0; i < c->n_levels; i++) {
		tdc_buf_printf(b, "%s{\"tcb\":{\"sgxtcbcomponents\":", i ? "," : "");
		components(b, p->pck.cpusvn_comp, c->levels[i].sgx_delta);
		tdc_buf_printf(b, ",\"pcesvn\":%u,\"tdxtcbcomponents\":", p->pck.pcesvn);
		components(b, svn, c->levels[i].tdx_delta);
		tdc_buf_printf(b, "},\"tcbDate\":\"2024-0%zu-01T00:00:00Z\",\"tcbStatus\":\"%s\"",
			       9 - i, c->levels[i].status);
		if (c->levels[i].advisories)
			tdc_buf_printf(b, ",\"advisoryIDs\":%s", c->levels[i].advisories);
		tdc_buf_printf(b, "}");
	}
	tdc_buf_printf(b, "]}");
}

void tdc_test_qeid_body(const struct tdc_test_pki *p, time_t issue, time_t next,
			const char *status, struct tdc_buf *b)
{
	char h[65], d1[24], d2[24];

	iso(issue, d1);
	iso(next, d2);
	tdc_hex_encode(p->parsed.qe_report.mr_signer, 32, h);
	tdc_buf_init(b);
	tdc_buf_printf(b, "{\"id\":\"TD_QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":"
		       "\"%s\",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\","
		       "\"miscselectMask\":\"00000000\",\"attributes\":"
		       "\"00000000000000000000000000000000\",\"attributesMask\":"
		       "\"00000000000000000000000000000000\",\"mrsigner\":\"%s\",\"isvprodid\":%u,"
		       "\"tcbLevels\":[{\"tcb\":{\"isvsvn\":%u},\"tcbDate\":\"2024-05-01T00:00:00Z\","
		       "\"tcbStatus\":\"%s\"}]}", d1, d2, h, p->parsed.qe_report.isv_prod_id,
		       p->parsed.qe_report.isv_svn, status);
}

static void test_crl(const struct tdc_test_pki *p, X509 *issuer, EVP_PKEY *key, X509 *revoke,
		     int age_days, time_t next, bool critical, struct tdc_buf *der);

void tdc_test_crl(const struct tdc_test_pki *p, X509 *issuer, EVP_PKEY *key, X509 *revoke,
		  int age_days, time_t next, struct tdc_buf *der)
{
	test_crl(p, issuer, key, revoke, age_days, next, false, der);
}

/* @critical: with an extension nobody processes, marked critical. */
static void test_crl(const struct tdc_test_pki *p, X509 *issuer, EVP_PKEY *key, X509 *revoke,
		     int age_days, time_t next, bool critical, struct tdc_buf *der)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t1 = ASN1_TIME_adj(NULL, p->now, -age_days, 0);
	ASN1_TIME *t2 = ASN1_TIME_set(NULL, or_default(next, p->now + 30 * 86400));
	uint8_t *out = NULL;
	int len;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_CRL_set1_lastUpdate(crl, t1);
	X509_CRL_set1_nextUpdate(crl, t2);
	if (revoke) {
		X509_REVOKED *r = X509_REVOKED_new();

		X509_REVOKED_set_serialNumber(r, (ASN1_INTEGER *)X509_get0_serialNumber(revoke));
		X509_REVOKED_set_revocationDate(r, t1);
		X509_CRL_add0_revoked(crl, r);
	}
	if (critical) {
		ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.57264.99.2", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;

		NEED(obj && os && ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00", 2));
		NEED(e = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os));
		NEED(X509_CRL_add_ext(crl, e, -1));
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	NEED(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	len = i2d_X509_CRL(crl, &out);
	NEED(len > 0);
	tdc_buf_init(der);
	NEED(tdc_buf_put(der, out, (size_t)len) == 0);
	OPENSSL_free(out);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	X509_CRL_free(crl);
}

void tdc_test_pem(X509 *a, X509 *b, struct tdc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pp;
	long n;

	NEED(bio && PEM_write_bio_X509(bio, a));
	if (b)
		NEED(PEM_write_bio_X509(bio, b));
	n = BIO_get_mem_data(bio, &pp);
	tdc_buf_init(out);
	NEED(tdc_buf_put(out, pp, (size_t)n) == 0);
	BIO_free(bio);
}

/* The six documents: name and bytes. */
static void each_doc(const struct tdc_test_pki *p, const struct tdc_test_coll *c,
		     void (*fn)(void *ctx, const char *name, const struct tdc_buf *b), void *ctx)
{
	struct tdc_buf body, doc;
	time_t issue = or_default(c->issue, p->now - 86400);
	time_t next = or_default(c->next, p->now + 86400 * 30);

	tdc_test_tcbinfo_body(p, c, &body);
	tdc_test_signed_doc(&doc, "tcbInfo", tdc_buf_cstr(&body),
			    c->rogue_signer ? p->rogue_key : p->sign_key, false);
	fn(ctx, "tcbinfo.json", &doc);
	tdc_buf_free(&body);
	tdc_buf_free(&doc);
	tdc_test_qeid_body(p, issue, next, c->qe_status ? c->qe_status : "UpToDate", &body);
	tdc_test_signed_doc(&doc, "enclaveIdentity", tdc_buf_cstr(&body), p->sign_key, false);
	fn(ctx, "qeidentity.json", &doc);
	tdc_buf_free(&body);
	tdc_buf_free(&doc);
	tdc_test_pem(p->sign_cert, p->keys.root_cert, &doc);
	fn(ctx, "tcb_signing_chain.pem", &doc);
	tdc_buf_free(&doc);
	if (c->rogue_signer) {
		tdc_test_pem(p->rogue_cert, NULL, &doc);
		fn(ctx, "rogue.pem", &doc);
		tdc_buf_free(&doc);
	}
	tdc_test_pem(p->keys.ca_cert, p->keys.root_cert, &doc);
	fn(ctx, "pckcrl_issuer_chain.pem", &doc);
	tdc_buf_free(&doc);
	tdc_test_crl(p, p->keys.root_cert, p->keys.root_key, c->revoke_ca ? p->keys.ca_cert : NULL,
		     1, c->crl_next, &doc);
	fn(ctx, "rootcrl.der", &doc);
	tdc_buf_free(&doc);
	test_crl(p, p->keys.ca_cert, p->keys.ca_key, c->revoke_pck ? p->keys.pck_cert : NULL,
		 1, c->crl_next, c->crl_critical, &doc);
	fn(ctx, "pckcrl.der", &doc);
	tdc_buf_free(&doc);
}

static void add_one(void *ctx, const char *name, const struct tdc_buf *b)
{
	NEED(tdc_collateral_add(ctx, name, b->data, b->len) == 0);
}

struct tdc_collateral *tdc_test_collateral(const struct tdc_test_pki *p,
					   const struct tdc_test_coll *c)
{
	struct tdc_collateral *coll;

	NEED(tdc_collateral_new(&coll) == 0);
	each_doc(p, c, add_one, coll);
	return coll;
}

static void write_one(void *ctx, const char *name, const struct tdc_buf *b)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/%s", (const char *)ctx, name);
	NEED(tdc_write_file(path, b->data, b->len) == 0);
}

void tdc_test_collateral_write(const struct tdc_test_pki *p, const struct tdc_test_coll *c,
			       const char *dir)
{
	mkdir(dir, 0755);
	each_doc(p, c, write_one, (void *)dir);
}

const struct tdc_qe_identity *tdc_test_sim_qe(void)
{
	static struct tdc_qe_identity id;
	static bool done;
	struct tdc_buf b;

	if (done)
		return &id;
	tdc_buf_init(&b);
	if (tdc_sim_qe_identity_json(&b) != 0 ||
	    tdc_qe_identity_parse((const char *)b.data, b.len, &id) != 0)
		abort();
	tdc_buf_free(&b);
	done = true;
	return &id;
}

const struct tdc_qe_identity *tdc_test_intel_qe(void)
{
	static struct tdc_qe_identity id;
	static bool done;
	struct tdc_buf b;

	if (done)
		return &id;
	tdc_buf_init(&b);
	if (tdc_read_file(TDC_TESTDATA "/tdx/trust/" TDC_TRUST_QE_IDENTITY, 1u << 16, &b) != 0 ||
	    tdc_qe_identity_parse((const char *)b.data, b.len, &id) != 0)
		abort();
	tdc_buf_free(&b);
	done = true;
	return &id;
}

struct tdc_trust *tdc_test_sim_trust(X509 *root)
{
	struct tdc_trust *t;
	struct tdc_buf b;

	tdc_buf_init(&b);
	if (tdc_sim_qe_identity_json(&b) != 0 ||
	    tdc_trust_from(root, (const char *)b.data, b.len, &t) != 0)
		abort();
	tdc_buf_free(&b);
	return t;
}
