// SPDX-License-Identifier: Apache-2.0
/*
 * The labelled TDX simulator: software TDREPORT, Quote v4 (or v5 with a TD
 * 1.5 body) and the test PKI that signs it.  Layouts: TDREPORT_STRUCT (Intel
 * TDX Module ABI spec, TDG.MR.REPORT) and DCAP sgx_quote_4.h / sgx_quote_5.h
 * (Quote v4/v5, signature data, certification data types 6 and 5, QE report).
 * See include/tdcpuid/sim.h for how every artefact is marked as simulated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/sim.h"

#define SIM_CPUSVN "\x03\x03\x02\x02\x04\x01\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00"
#define SIM_QE_AUTH "tdcpuid simulated QE auth data!!" /* 32 bytes, like Intel's */
#define SIM_CERT_DAYS 3650
#define MAC_COVERED TDX_OFF_MAC /* REPORTMACSTRUCT bytes 0..224 */

static int ossl_err(const char *what)
{
	return tdc_err(TDC_ERR_INTERNAL, "sim: %s failed (OpenSSL)", what);
}

/* Deterministic "measurements": SHA-384 of a label, so sim reports are
 * recognisable and stable across runs. */
static void label_hash(const char *label, uint8_t out[TDX_SHA384_LEN])
{
	unsigned int n;

	EVP_Digest(label, strlen(label), out, &n, EVP_sha384(), NULL);
}

void tdc_sim_params_init(struct tdc_sim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->attributes = TDC_SIM_DEFAULT_ATTRIBUTES;
	p->xfam = TDC_SIM_DEFAULT_XFAM;
	p->tee_tcb_svn[0] = 3;                /* module minor SVN */
	p->tee_tcb_svn[1] = 1;                /* module major SVN */
	if (tdc_sim_rtmr_initial(p->rtmr) != 0)
		memset(p->rtmr, 0, sizeof(p->rtmr));
}

/* ---- simulated firmware measurements --------------------------------------- */

#define EV_EFI_ACTION 0x80000007u /* TCG PC Client PFP §10.4.1 */

/* One EV_EFI_ACTION record per firmware RTMR, digest = SHA-384(its text). */
int tdc_sim_ccel(struct tdc_buf *out)
{
	size_t start = out->len;
	int r;

	if ((r = tdc_eventlog_put_header(out)) != 0)
		return r;
	for (unsigned i = 0; i < 3; i++) {
		char text[48];
		uint8_t d[TDX_SHA384_LEN];
		int n = snprintf(text, sizeof(text), "tdcpuid simulated firmware RTMR%u", i);

		label_hash(text, d);
		if ((r = tdc_buf_put_u32le(out, TDC_CCMR_RTMR0 + i)) != 0 ||
		    (r = tdc_buf_put_u32le(out, EV_EFI_ACTION)) != 0 ||
		    (r = tdc_buf_put_u32le(out, 1)) != 0 ||
		    (r = tdc_buf_put_u16le(out, TDC_TPM_ALG_SHA384)) != 0 ||
		    (r = tdc_buf_put(out, d, sizeof(d))) != 0 ||
		    (r = tdc_buf_put_u32le(out, (uint32_t)n)) != 0 ||
		    (r = tdc_buf_put(out, text, (size_t)n)) != 0)
			goto out;
	}
	for (unsigned i = 0; i < TDC_SIM_CCEL_FILL && !r; i++)
		r = tdc_buf_put_u8(out, 0xff);
out:
	if (r)
		out->len = start;
	return r;
}

int tdc_sim_rtmr_initial(uint8_t rtmr[4][48])
{
	struct tdc_eventlog l;
	struct tdc_buf b;
	int r;

	tdc_buf_init(&b);
	tdc_eventlog_init(&l);
	if ((r = tdc_sim_ccel(&b)) == 0 && (r = tdc_eventlog_parse(b.data, b.len, "sim ccel", &l)) == 0)
		for (unsigned i = 0; i < 4 && !r; i++)
			r = tdc_eventlog_replay(&l, TDC_CCMR_RTMR0 + i, SIZE_MAX, rtmr[i]);
	tdc_eventlog_free(&l);
	tdc_buf_free(&b);
	return r;
}

void tdc_sim_keys_init(struct tdc_sim_keys *k)
{
	memset(k, 0, sizeof(*k));
}

void tdc_sim_keys_free(struct tdc_sim_keys *k)
{
	EVP_PKEY_free(k->root_key);
	X509_free(k->root_cert);
	EVP_PKEY_free(k->ca_key);
	X509_free(k->ca_cert);
	EVP_PKEY_free(k->pck_key);
	X509_free(k->pck_cert);
	EVP_PKEY_free(k->att_key);
	OPENSSL_cleanse(k->hmac_key, sizeof(k->hmac_key));
	tdc_sim_keys_init(k);
}

/* ---- TDREPORT ----------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int sim_mac(const uint8_t key[TDC_SIM_HMAC_KEY_LEN], const uint8_t *report,
		   uint8_t mac[32])
{
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key, TDC_SIM_HMAC_KEY_LEN, report, MAC_COVERED, mac, &n) ||
	    n != 32)
		return ossl_err("HMAC-SHA-256");
	return 0;
}

static void fill_tcb_info(uint8_t *rep, const struct tdc_sim_params *p)
{
	uint8_t *tcb = rep + TDX_OFF_TEE_TCB_INFO;

	put64(tcb, 0x1ff);                    /* every TDX 1.0 field valid (§5) */
	memcpy(rep + TDX_OFF_TEE_TCB_SVN, p->tee_tcb_svn, sizeof(p->tee_tcb_svn));
	memcpy(rep + TDX_OFF_TEE_TCB_SVN2, p->tee_tcb_svn2, sizeof(p->tee_tcb_svn2));
	if (p->has_mr_seam)
		memcpy(rep + TDX_OFF_MRSEAM, p->mr_seam, sizeof(p->mr_seam));
	else
		label_hash("tdcpuid simulated MRSEAM", rep + TDX_OFF_MRSEAM);
	memcpy(rep + TDX_OFF_MRSIGNERSEAM, TDC_SIM_SEAM_SIGNER,
	       strlen(TDC_SIM_SEAM_SIGNER));
}

static void fill_tdinfo(uint8_t *rep, const struct tdc_sim_params *p)
{
	put64(rep + TDX_OFF_ATTRIBUTES, p->attributes);
	put64(rep + TDX_OFF_XFAM, p->xfam);
	label_hash("tdcpuid simulated MRTD", rep + TDX_OFF_MRTD);
	memcpy(rep + TDX_OFF_RTMR0, p->rtmr, sizeof(p->rtmr));
}

int tdc_sim_report(const struct tdc_sim_keys *k, const struct tdc_sim_params *p,
		   const uint8_t reportdata[TDX_REPORTDATA_LEN],
		   uint8_t report[TDX_REPORT_LEN])
{
	unsigned int n;

	memset(report, 0, TDX_REPORT_LEN);
	report[TDX_OFF_REPORT_TYPE] = TDX_REPORT_TYPE_TDX;
	memcpy(report + TDX_OFF_CPUSVN, SIM_CPUSVN, 16);
	memcpy(report + TDX_OFF_REPORTDATA, reportdata, TDX_REPORTDATA_LEN);
	fill_tcb_info(report, p);
	fill_tdinfo(report, p);
	if (EVP_Digest(report + TDX_OFF_TEE_TCB_INFO, TDX_TEE_TCB_INFO_LEN,
		       report + TDX_OFF_TEE_TCB_INFO_HASH, &n, EVP_sha384(), NULL) != 1 ||
	    EVP_Digest(report + TDX_OFF_TDINFO, TDX_TDINFO_LEN,
		       report + TDX_OFF_TEE_INFO_HASH, &n, EVP_sha384(), NULL) != 1)
		return ossl_err("SHA-384");
	return sim_mac(k->hmac_key, report, report + TDX_OFF_MAC);
}

int tdc_sim_report_verify(const uint8_t *report, size_t len,
			  const uint8_t key[TDC_SIM_HMAC_KEY_LEN])
{
	struct tdx_report r;
	uint8_t mac[32];
	int ret;

	if ((ret = tdx_report_parse(report, len, &r)) != 0 ||
	    (ret = tdx_report_check_hashes(&r)) != 0 ||
	    (ret = sim_mac(key, report, mac)) != 0)
		return ret;
	if (CRYPTO_memcmp(mac, r.mac, sizeof(mac)) != 0)
		return tdc_err(TDC_ERR_SIGNATURE,
			       "tdreport: MAC at offset %d does not verify with the simulator key",
			       TDX_OFF_MAC);
	return 0;
}

/* ---- ECDSA P-256 helpers ------------------------------------------------ */

static int gen_p256(EVP_PKEY **out)
{
	if (!(*out = EVP_EC_gen("P-256")))
		return ossl_err("P-256 key generation");
	return 0;
}

/* ECDSA-SHA256 over @msg as the raw r||s that DCAP quotes carry (§6). */
static int sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t der_len = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	int ret = ossl_err("ECDSA sign");

	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &der_len, msg, len) != 1 ||
	    !(es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)))
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
		goto out;
	ret = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* Uncompressed public point without the 0x04 prefix: x||y big-endian. */
static int pub_xy(EVP_PKEY *key, uint8_t xy[64])
{
	uint8_t pt[65];
	size_t n = 0;

	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt,
					    sizeof(pt), &n) != 1 || n != 65 || pt[0] != 4)
		return ossl_err("P-256 public key export");
	memcpy(xy, pt + 1, 64);
	return 0;
}

/* ---- DER for the SGX PCK extension ---------------------------------------- */

/* Append tag, definite length, content. */
static int der_tlv(struct tdc_buf *b, uint8_t tag, const void *p, size_t n)
{
	uint8_t hdr[4] = { tag };
	size_t h = 2;
	int ret;

	if (n < 0x80) {
		hdr[1] = (uint8_t)n;
	} else if (n < 0x100) {
		hdr[1] = 0x81, hdr[2] = (uint8_t)n, h = 3;
	} else if (n < 0x10000) {
		hdr[1] = 0x82, hdr[2] = (uint8_t)(n >> 8), hdr[3] = (uint8_t)n, h = 4;
	} else {
		return tdc_err(TDC_ERR_INTERNAL, "sim: DER element too long");
	}
	if ((ret = tdc_buf_put(b, hdr, h)) != 0)
		return ret;
	return tdc_buf_put(b, p, n);
}

static int der_oid(struct tdc_buf *b, const char *dotted)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(dotted, 1);
	int n, ret;

	if (!obj)
		return ossl_err("OID");
	n = OBJ_length(obj);
	ret = n > 0 ? der_tlv(b, 0x06, OBJ_get0_data(obj), (size_t)n) : ossl_err("OID");
	ASN1_OBJECT_free(obj);
	return ret;
}

/* SEQUENCE { OID, value } with value given as a complete DER element. */
static int der_pair(struct tdc_buf *b, const char *oid, uint8_t tag, const void *v,
		    size_t n)
{
	struct tdc_buf seq;
	int ret;

	tdc_buf_init(&seq);
	if ((ret = der_oid(&seq, oid)) == 0 && (ret = der_tlv(&seq, tag, v, n)) == 0)
		ret = der_tlv(b, 0x30, seq.data, seq.len);
	tdc_buf_free(&seq);
	return ret;
}

/* INTEGER for 0..65535 (leading zero when the top bit would be set). */
static int der_small_int(uint32_t v, uint8_t out[3], size_t *n)
{
	uint8_t tmp[3] = { 0, (uint8_t)(v >> 8), (uint8_t)v };
	size_t skip = 0;

	while (skip < 2 && tmp[skip] == 0 && !(tmp[skip + 1] & 0x80))
		skip++;
	*n = 3 - skip;
	memcpy(out, tmp + skip, *n);
	return 0;
}

#define SGX_OID "1.2.840.113741.1.13.1"

/* TCB: sgxtcbcomp01..16 svn (from CPUSVN), pcesvn (17), cpusvn (18). */
static int sgx_tcb(struct tdc_buf *b)
{
	struct tdc_buf seq;
	uint8_t iv[3];
	size_t n;
	char oid[48];
	int ret = 0;

	tdc_buf_init(&seq);
	for (int i = 1; i <= 16 && !ret; i++) {
		snprintf(oid, sizeof(oid), SGX_OID ".2.%d", i);
		der_small_int((uint8_t)SIM_CPUSVN[i - 1], iv, &n);
		ret = der_pair(&seq, oid, 0x02, iv, n);
	}
	if (!ret) {
		der_small_int(TDC_SIM_PCESVN, iv, &n);
		ret = der_pair(&seq, SGX_OID ".2.17", 0x02, iv, n);
	}
	if (!ret)
		ret = der_pair(&seq, SGX_OID ".2.18", 0x04, SIM_CPUSVN, 16);
	if (!ret)
		ret = der_pair(b, SGX_OID ".2", 0x30, seq.data, seq.len);
	tdc_buf_free(&seq);
	return ret;
}

/*
 * The Intel SGX PCK certificate extension: SEQUENCE of {OID, value} for
 * PPID, TCB, PCE-ID, FMSPC and SGX type, with the simulator's values.
 */
static int sgx_extension(struct tdc_buf *out)
{
	struct tdc_buf seq;
	const uint8_t zero = 0;
	int ret;

	tdc_buf_init(&seq);
	if ((ret = der_pair(&seq, SGX_OID ".1", 0x04, "TDCPUID-SIM-PPID", 16)) == 0 &&
	    (ret = sgx_tcb(&seq)) == 0 &&
	    (ret = der_pair(&seq, SGX_OID ".3", 0x04, "\0\0", 2)) == 0 &&
	    (ret = der_pair(&seq, SGX_OID ".4", 0x04, TDC_SIM_FMSPC, 6)) == 0 &&
	    (ret = der_pair(&seq, SGX_OID ".5", 0x0a, &zero, 1)) == 0)
		ret = der_tlv(out, 0x30, seq.data, seq.len);
	tdc_buf_free(&seq);
	return ret;
}

/* ---- certificates --------------------------------------------------------- */

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if (!(ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)))
		return ossl_err("X509 extension");
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ossl_err("X509_add_ext");
}

static int add_sgx_ext(X509 *cert)
{
	struct tdc_buf der;
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int ret;

	tdc_buf_init(&der);
	if ((ret = sgx_extension(&der)) != 0)
		goto out;
	ret = ossl_err("SGX extension");
	if (!(obj = OBJ_txt2obj(SGX_OID, 1)) || !(os = ASN1_OCTET_STRING_new()) ||
	    !ASN1_OCTET_STRING_set(os, der.data, (int)der.len) ||
	    !(ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) ||
	    !X509_add_ext(cert, ext, -1))
		goto out;
	ret = 0;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	tdc_buf_free(&der);
	return ret;
}

static int set_name(X509 *cert, const char *cn)
{
	X509_NAME *name = X509_get_subject_name(cert);

	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"tdcpuid simulator (TEST ONLY)",
					-1, -1, 0))
		return ossl_err("X509 name");
	return 0;
}

static int set_serial(X509 *cert)
{
	uint8_t rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return ossl_err("RAND_bytes");
	rnd[0] &= 0x7f; /* positive */
	if (!(bn = BN_bin2bn(rnd, sizeof(rnd), NULL)))
		return ossl_err("serial");
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok ? 0 : ossl_err("serial");
}

enum cert_kind { CERT_ROOT, CERT_CA, CERT_PCK };

/* One certificate of the sim chain; @issuer NULL means self-signed. */
static int make_cert(X509 **out, enum cert_kind kind, const char *cn, EVP_PKEY *key,
		     X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *c = X509_new();
	X509 *signer;
	int ret = ossl_err("X509 certificate");

	if (!c || !X509_set_version(c, 2) || (ret = set_serial(c)) != 0 ||
	    (ret = set_name(c, cn)) != 0)
		goto out;
	ret = ossl_err("X509 certificate");
	/* Back-dated a day so clock skew between agent and verifier is harmless. */
	if (!X509_gmtime_adj(X509_getm_notBefore(c), -86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), (long)SIM_CERT_DAYS * 86400) ||
	    !X509_set_pubkey(c, key) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(issuer ? issuer : c)))
		goto out;
	signer = issuer ? issuer : c;
	if ((ret = add_ext(c, signer, NID_basic_constraints,
			   kind == CERT_PCK ? "critical,CA:FALSE" :
			   kind == CERT_CA ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE,pathlen:1")) != 0 ||
	    (ret = add_ext(c, signer, NID_key_usage, kind == CERT_PCK ?
			   "critical,digitalSignature,nonRepudiation" :
			   "critical,keyCertSign,cRLSign")) != 0 ||
	    (ret = add_ext(c, signer, NID_subject_key_identifier, "hash")) != 0)
		goto out;
	if (issuer && (ret = add_ext(c, signer, NID_authority_key_identifier,
				     "keyid:always")) != 0)
		goto out;
	if (kind == CERT_PCK && (ret = add_sgx_ext(c)) != 0)
		goto out;
	if (!X509_sign(c, issuer_key, EVP_sha256())) {
		ret = ossl_err("X509_sign");
		goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	X509_free(c);
	return ret;
}

int tdc_sim_keys_generate(struct tdc_sim_keys *k)
{
	int ret;

	tdc_sim_keys_init(k);
	if ((ret = gen_p256(&k->root_key)) != 0 || (ret = gen_p256(&k->ca_key)) != 0 ||
	    (ret = gen_p256(&k->pck_key)) != 0 || (ret = gen_p256(&k->att_key)) != 0)
		goto out;
	if ((ret = make_cert(&k->root_cert, CERT_ROOT,
			     "tdcpuid SIMULATED SGX Root CA (TEST ONLY)",
			     k->root_key, NULL, k->root_key)) != 0 ||
	    (ret = make_cert(&k->ca_cert, CERT_CA,
			     "tdcpuid SIMULATED PCK Platform CA (TEST ONLY)",
			     k->ca_key, k->root_cert, k->root_key)) != 0 ||
	    (ret = make_cert(&k->pck_cert, CERT_PCK,
			     "tdcpuid SIMULATED SGX PCK Certificate (TEST ONLY)",
			     k->pck_key, k->ca_cert, k->ca_key)) != 0)
		goto out;
	if (RAND_bytes(k->hmac_key, sizeof(k->hmac_key)) != 1)
		ret = ossl_err("RAND_bytes");
out:
	if (ret)
		tdc_sim_keys_free(k);
	return ret;
}

/* ---- key files ------------------------------------------------------------ */

static int write_private(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	const uint8_t *q = p;
	int fd, ret = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return tdc_err(TDC_ERR_RANGE, "sim: path too long: %s/%s", dir, name);
	/* Keys: owner-only from the first byte, never world-readable. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return tdc_err(errno == EACCES ? TDC_ERR_PERM : TDC_ERR_IO,
			       "sim: create %s: %s", path, strerror(errno));
	if (fchmod(fd, 0600) != 0)
		ret = tdc_err(TDC_ERR_IO, "sim: chmod %s: %s", path, strerror(errno));
	while (!ret && n) {
		ssize_t w = write(fd, q, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = tdc_err(TDC_ERR_IO, "sim: write %s: %s", path, strerror(errno));
			break;
		}
		q += w;
		n -= (size_t)w;
	}
	if (close(fd) != 0 && !ret)
		ret = tdc_err(TDC_ERR_IO, "sim: close %s: %s", path, strerror(errno));
	return ret;
}

/* PEM of a key (PKCS#8, unencrypted: these are throw-away test keys) or cert. */
static int write_pem(const char *dir, const char *name, EVP_PKEY *key, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ret;

	if (!bio || !(key ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) :
			    PEM_write_bio_X509(bio, cert))) {
		BIO_free(bio);
		return ossl_err("PEM write");
	}
	n = BIO_get_mem_data(bio, &p);
	ret = write_private(dir, name, p, (size_t)n);
	BIO_free(bio);
	return ret;
}

/* Attributes INIT|MODE64BIT, as qe_report() writes them. */
#define SIM_QE_ATTRIBUTES "11000000000000000000000000000000"

int tdc_sim_qe_identity_json(struct tdc_buf *out)
{
	uint8_t md[TDX_SHA384_LEN];
	char signer[65];

	label_hash("tdcpuid simulated QE MRSIGNER", md);
	tdc_hex_encode(md, 32, signer);
	/* Intel's masks (DEBUG bit ignored only where Intel ignores it); the
	 * dates and level only make the document well formed. */
	return tdc_buf_printf(out, "{\"id\":\"TD_QE\",\"version\":2,"
			      "\"issueDate\":\"2024-01-01T00:00:00Z\","
			      "\"nextUpdate\":\"2099-01-01T00:00:00Z\","
			      "\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\","
			      "\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"%s\","
			      "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
			      "\"mrsigner\":\"%s\",\"isvprodid\":2,\"tcbLevels\":[{\"tcb\":"
			      "{\"isvsvn\":0},\"tcbDate\":\"2024-01-01T00:00:00Z\","
			      "\"tcbStatus\":\"UpToDate\"}],\"comment\":\"SIMULATED: the "
			      "tdcpuid simulator's QE, for its test root only\"}\n",
			      SIM_QE_ATTRIBUTES, signer);
}

static int write_qe_identity(const char *dir)
{
	struct tdc_buf b;
	int ret;

	tdc_buf_init(&b);
	if ((ret = tdc_sim_qe_identity_json(&b)) == 0)
		ret = write_private(dir, TDC_SIM_QE_IDENTITY, b.data, b.len);
	tdc_buf_free(&b);
	return ret;
}

int tdc_sim_keys_save(const struct tdc_sim_keys *k, const char *dir)
{
	int ret;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return tdc_err(errno == EACCES ? TDC_ERR_PERM : TDC_ERR_IO,
			       "sim: mkdir %s: %s", dir, strerror(errno));
	if ((ret = write_pem(dir, TDC_SIM_ROOT_KEY, k->root_key, NULL)) != 0 ||
	    (ret = write_pem(dir, TDC_SIM_ROOT_CERT, NULL, k->root_cert)) != 0 ||
	    (ret = write_pem(dir, TDC_SIM_CA_KEY, k->ca_key, NULL)) != 0 ||
	    (ret = write_pem(dir, TDC_SIM_CA_CERT, NULL, k->ca_cert)) != 0 ||
	    (ret = write_pem(dir, TDC_SIM_PCK_KEY, k->pck_key, NULL)) != 0 ||
	    (ret = write_pem(dir, TDC_SIM_PCK_CERT, NULL, k->pck_cert)) != 0 ||
	    (ret = write_pem(dir, TDC_SIM_ATT_KEY, k->att_key, NULL)) != 0 ||
	    (ret = write_qe_identity(dir)) != 0)
		return ret;
	return write_private(dir, TDC_SIM_HMAC_KEY, k->hmac_key, sizeof(k->hmac_key));
}

static int read_in(const char *dir, const char *name, struct tdc_buf *b)
{
	char path[4096];
	int ret;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return tdc_err(TDC_ERR_RANGE, "sim: path too long: %s/%s", dir, name);
	if ((ret = tdc_read_file(path, TDC_SIM_KEYFILE_MAX, b)) != 0)
		return tdc_err_wrap(ret, "sim key directory (create it with "
				    "`tdcpuid-agent sim-keygen %s`): ", dir);
	return 0;
}

static int load_pem(const char *dir, const char *name, EVP_PKEY **key, X509 **cert)
{
	struct tdc_buf b;
	BIO *bio = NULL;
	int ret;

	tdc_buf_init(&b);
	if ((ret = read_in(dir, name, &b)) != 0)
		goto out;
	ret = tdc_err(TDC_ERR_FORMAT, "sim: %s/%s: not a PEM %s", dir, name,
		      key ? "private key" : "certificate");
	if (!(bio = BIO_new_mem_buf(b.data, (int)b.len)))
		goto out;
	if (key ? !(*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) :
		  !(*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		goto out;
	if (key && (!EVP_PKEY_is_a(*key, "EC") || EVP_PKEY_get_bits(*key) != 256)) {
		ret = tdc_err(TDC_ERR_FORMAT, "sim: %s/%s: not a P-256 key", dir, name);
		goto out;
	}
	ret = 0;
out:
	BIO_free(bio);
	tdc_buf_free(&b);
	return ret;
}

int tdc_sim_mac_key_load(const char *dir, uint8_t key[TDC_SIM_HMAC_KEY_LEN])
{
	struct tdc_buf b;
	int ret;

	tdc_buf_init(&b);
	if ((ret = read_in(dir, TDC_SIM_HMAC_KEY, &b)) == 0 && b.len != TDC_SIM_HMAC_KEY_LEN)
		ret = tdc_err(TDC_ERR_FORMAT, "sim: %s/%s: %zu bytes, expected %d",
			      dir, TDC_SIM_HMAC_KEY, b.len, TDC_SIM_HMAC_KEY_LEN);
	if (!ret)
		memcpy(key, b.data, TDC_SIM_HMAC_KEY_LEN);
	if (b.data)
		OPENSSL_cleanse(b.data, b.len);
	tdc_buf_free(&b);
	return ret;
}

int tdc_sim_keys_load(struct tdc_sim_keys *k, const char *dir)
{
	int ret;

	tdc_sim_keys_init(k);
	if ((ret = load_pem(dir, TDC_SIM_ROOT_KEY, &k->root_key, NULL)) != 0 ||
	    (ret = load_pem(dir, TDC_SIM_ROOT_CERT, NULL, &k->root_cert)) != 0 ||
	    (ret = load_pem(dir, TDC_SIM_CA_KEY, &k->ca_key, NULL)) != 0 ||
	    (ret = load_pem(dir, TDC_SIM_CA_CERT, NULL, &k->ca_cert)) != 0 ||
	    (ret = load_pem(dir, TDC_SIM_PCK_KEY, &k->pck_key, NULL)) != 0 ||
	    (ret = load_pem(dir, TDC_SIM_PCK_CERT, NULL, &k->pck_cert)) != 0 ||
	    (ret = load_pem(dir, TDC_SIM_ATT_KEY, &k->att_key, NULL)) != 0 ||
	    (ret = tdc_sim_mac_key_load(dir, k->hmac_key)) != 0)
		goto out;
out:
	if (ret)
		tdc_sim_keys_free(k);
	return ret;
}

/* ---- Quote v4 ------------------------------------------------------------- */

static int put_header(struct tdc_buf *q, uint16_t version)
{
	static const char user_data[20] = "tdcpuid SIMULATED QE";
	int ret;

	if ((ret = tdc_buf_put_u16le(q, version)) != 0 ||
	    (ret = tdc_buf_put_u16le(q, TDX_ATT_KEY_ECDSA_P256)) != 0 ||
	    (ret = tdc_buf_put_u32le(q, TDX_TEE_TYPE_TDX)) != 0 ||
	    (ret = tdc_buf_put_u16le(q, 0)) != 0 ||              /* qe_svn */
	    (ret = tdc_buf_put_u16le(q, TDC_SIM_PCESVN)) != 0 ||  /* pce_svn */
	    (ret = tdc_buf_put(q, TDC_SIM_QE_VENDOR_ID, 16)) != 0)
		return ret;
	return tdc_buf_put(q, user_data, sizeof(user_data));
}

/* TD quote body 1.0 (584 bytes) from a TDREPORT: the QE copies these. */
static int put_body(struct tdc_buf *q, const uint8_t *rep)
{
	static const struct { uint16_t off, len; } fields[] = {
		{ TDX_OFF_TEE_TCB_SVN, 16 },
		{ TDX_OFF_MRSEAM, 48 },
		{ TDX_OFF_MRSIGNERSEAM, 48 },
		{ TDX_OFF_SEAM_ATTRIBUTES, 8 },
		{ TDX_OFF_ATTRIBUTES, 8 },
		{ TDX_OFF_XFAM, 8 },
		{ TDX_OFF_MRTD, 48 },
		{ TDX_OFF_MRCONFIGID, 48 },
		{ TDX_OFF_MROWNER, 48 },
		{ TDX_OFF_MROWNERCONFIG, 48 },
		{ TDX_OFF_RTMR0, 4 * 48 },
		{ TDX_OFF_REPORTDATA, 64 },
	};
	int ret;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((ret = tdc_buf_put(q, rep + fields[i].off, fields[i].len)) != 0)
			return ret;
	return 0;
}

/* TD quote body 1.5 (648 bytes): 1.0, then TEE_TCB_SVN2 and MRSERVICETD. */
static int put_body15(struct tdc_buf *q, const uint8_t *rep)
{
	int ret;

	if ((ret = tdc_buf_put_u16le(q, 3)) != 0 ||                   /* body type TD 1.5 */
	    (ret = tdc_buf_put_u32le(q, TDX_TD_BODY15_LEN)) != 0 ||
	    (ret = put_body(q, rep)) != 0 ||
	    (ret = tdc_buf_put(q, rep + TDX_OFF_TEE_TCB_SVN2, 16)) != 0)
		return ret;
	return tdc_buf_put(q, rep + TDX_OFF_SERVTD_HASH, 48);
}

/* SGX report body of the simulated QE (384 bytes, §6 "QE report"). */
static int qe_report(uint8_t rep[TDX_QE_REPORT_LEN], const uint8_t att_xy[64])
{
	uint8_t md[48];
	unsigned int n;
	EVP_MD_CTX *ctx;
	int ret = ossl_err("SHA-256 of the QE report data");

	memset(rep, 0, TDX_QE_REPORT_LEN);
	memcpy(rep, SIM_CPUSVN, 16);
	rep[48] = 0x11;                                   /* attributes: INIT|MODE64BIT */
	label_hash("tdcpuid simulated QE MRENCLAVE", md);
	memcpy(rep + 64, md, 32);
	label_hash("tdcpuid simulated QE MRSIGNER", md);
	memcpy(rep + 128, md, 32);
	rep[256] = 2;                                     /* isv_prod_id: TD QE */
	/* report_data = SHA-256(attest_pub || QE auth data) || 32 zero bytes. */
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, att_xy, 64) == 1 &&
	    EVP_DigestUpdate(ctx, SIM_QE_AUTH, 32) == 1 &&
	    EVP_DigestFinal_ex(ctx, rep + 320, &n) == 1)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	return ret;
}

static int pem_chain(const struct tdc_sim_keys *k, struct tdc_buf *out)
{
	X509 *const chain[] = { k->pck_cert, k->ca_cert, k->root_cert };
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ret = ossl_err("PEM chain");

	if (!bio)
		return ret;
	for (size_t i = 0; i < 3; i++)
		if (!PEM_write_bio_X509(bio, chain[i]))
			goto out;
	n = BIO_get_mem_data(bio, &p);
	ret = tdc_buf_put(out, p, (size_t)n);
out:
	BIO_free(bio);
	return ret;
}

/* Certification data type 6 (QE report ... nested type 5 chain), §6. */
static int qe_cert_data(const struct tdc_sim_keys *k, const uint8_t att_xy[64],
			struct tdc_buf *out)
{
	uint8_t rep[TDX_QE_REPORT_LEN], sig[64];
	struct tdc_buf chain;
	int ret;

	tdc_buf_init(&chain);
	if ((ret = qe_report(rep, att_xy)) != 0 ||
	    (ret = sign_raw(k->pck_key, rep, sizeof(rep), sig)) != 0 ||
	    (ret = pem_chain(k, &chain)) != 0)
		goto out;
	if ((ret = tdc_buf_put(out, rep, sizeof(rep))) != 0 ||
	    (ret = tdc_buf_put(out, sig, sizeof(sig))) != 0 ||
	    (ret = tdc_buf_put_u16le(out, 32)) != 0 ||
	    (ret = tdc_buf_put(out, SIM_QE_AUTH, 32)) != 0 ||
	    (ret = tdc_buf_put_u16le(out, TDX_CERT_TYPE_PCK_CHAIN)) != 0 ||
	    (ret = tdc_buf_put_u32le(out, (uint32_t)chain.len)) != 0)
		goto out;
	ret = tdc_buf_put(out, chain.data, chain.len);
out:
	tdc_buf_free(&chain);
	return ret;
}

static int sim_quote(const struct tdc_sim_keys *k, const uint8_t report[TDX_REPORT_LEN],
		     uint16_t version, struct tdc_buf *quote)
{
	size_t signed_len = version == 5 ? TDX_QUOTE_HEADER_LEN + 6 + TDX_TD_BODY15_LEN :
			    TDX_QUOTE_HEADER_LEN + TDX_TD_BODY10_LEN;
	uint8_t sig[64], att_xy[64];
	struct tdc_buf cert;
	int ret;

	tdc_buf_init(&cert);
	tdc_buf_reset(quote);
	/* A QE only quotes reports whose MAC the CPU accepts. */
	if ((ret = tdc_sim_report_verify(report, TDX_REPORT_LEN, k->hmac_key)) != 0)
		return tdc_err_wrap(ret, "sim quote: ");
	if ((ret = put_header(quote, version)) != 0 ||
	    (ret = version == 5 ? put_body15(quote, report) : put_body(quote, report)) != 0)
		goto out;
	if (quote->len != signed_len) {
		ret = tdc_err(TDC_ERR_INTERNAL, "sim quote: signed region is %zu bytes",
			      quote->len);
		goto out;
	}
	if ((ret = sign_raw(k->att_key, quote->data, quote->len, sig)) != 0 ||
	    (ret = pub_xy(k->att_key, att_xy)) != 0 ||
	    (ret = qe_cert_data(k, att_xy, &cert)) != 0)
		goto out;
	/* signature_data_len, sig, key, {type 6, size, data} */
	if ((ret = tdc_buf_put_u32le(quote, (uint32_t)(64 + 64 + 6 + cert.len))) != 0 ||
	    (ret = tdc_buf_put(quote, sig, 64)) != 0 ||
	    (ret = tdc_buf_put(quote, att_xy, 64)) != 0 ||
	    (ret = tdc_buf_put_u16le(quote, TDX_CERT_TYPE_QE_REPORT)) != 0 ||
	    (ret = tdc_buf_put_u32le(quote, (uint32_t)cert.len)) != 0)
		goto out;
	ret = tdc_buf_put(quote, cert.data, cert.len);
out:
	tdc_buf_free(&cert);
	return ret;
}

int tdc_sim_quote(const struct tdc_sim_keys *k, const uint8_t report[TDX_REPORT_LEN],
		  struct tdc_buf *quote)
{
	return sim_quote(k, report, 4, quote);
}

int tdc_sim_quote_v5(const struct tdc_sim_keys *k, const uint8_t report[TDX_REPORT_LEN],
		     struct tdc_buf *quote)
{
	return sim_quote(k, report, 5, quote);
}

int tdc_sim_quote_is_sim(const struct tdx_quote *q)
{
	return memcmp(q->header.qe_vendor_id, TDC_SIM_QE_VENDOR_ID, 16) == 0;
}
