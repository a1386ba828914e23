// SPDX-License-Identifier: Apache-2.0
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "crypto.h"
#include "tdcpuid/error.h"

static _Thread_local unsigned long ecdsa_verifies;

unsigned long tdc_ecdsa_verify_count(void)
{
	return ecdsa_verifies;
}

/* One 32-byte big-endian half of r||s as a DER INTEGER (minimal, positive)
 * at @der; its length (3 to 35 bytes). */
static size_t der_uint256(const uint8_t v[32], uint8_t *der)
{
	size_t skip = 0, n;

	while (skip < 31 && v[skip] == 0)
		skip++;
	n = 32 - skip;
	der[0] = 0x02;
	der[1] = (uint8_t)(n + (v[skip] >> 7));
	der[2] = 0x00;  /* kept only before a high bit */
	memcpy(der + 2 + (v[skip] >> 7), v + skip, n);
	return 2 + der[1];
}

/* ECDSA over SHA-256(@msg) with a DER ECDSA-Sig-Value (OpenSSL insists on
 * DER: it re-encodes the signature it decoded and compares). */
static bool verify_der(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *der,
		       size_t der_len)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	/* In the certificate context, where the keys verified here (PCK and
	 * collateral certificates, the attestation key) are: in another context
	 * each new key would be exported to that context's key manager first,
	 * rebuilding its curve group. */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(tdc_cert_libctx(), key, NULL);
	bool ok;

	if (!ctx)
		return false;
	ecdsa_verifies++;
	/* Hash, then verify the digest: the same ECDSA-SHA256 as
	 * EVP_DigestVerify without a digest fetch per call. */
	tdc_sha256(msg, len, digest);
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	     EVP_PKEY_verify(ctx, der, der_len, digest, sizeof(digest)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int tdc_ecdsa_verify_rs(EVP_PKEY *key, const uint8_t *msg, size_t len,
			const uint8_t sig[64])
{
	uint8_t der[2 + 2 * 35];
	size_t der_len;

	/* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, written
	 * directly: an ECDSA_SIG and two BIGNUMs per verification cost more. */
	der_len = 2 + der_uint256(sig, der + 2);
	der_len += der_uint256(sig + 32, der + der_len);
	der[0] = 0x30;
	der[1] = (uint8_t)(der_len - 2);
	return verify_der(key, msg, len, der, der_len) ? 0 :
	       tdc_err(TDC_ERR_SIGNATURE, "ECDSA-P256 signature does not verify");
}

int tdc_ecdsa_verify_der(EVP_PKEY *key, const uint8_t *msg, size_t len, const uint8_t *sig,
			 size_t sig_len)
{
	return verify_der(key, msg, len, sig, sig_len) ? 0 :
	       tdc_err(TDC_ERR_SIGNATURE, "ECDSA signature does not verify");
}

/* The P-256 generator: a valid point for the template key. */
static const uint8_t p256_g[65] = {
	0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
	0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39,
	0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e,
	0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e,
	0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};
static pthread_once_t template_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *p256_template;

/* P-256 with the generator as its point: the parameters of both template
 * keys (template_make, p256_keydata_make). */
static void p256_g_params(OSSL_PARAM params[3])
{
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)p256_g,
						      sizeof(p256_g));
	params[2] = OSSL_PARAM_construct_end();
}

/* In the certificate context, as the certificates' keys (see
 * tdc_ecdsa_verify_rs). */
static void template_make(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(tdc_cert_libctx(), "EC", NULL);
	OSSL_PARAM params[3];

	p256_g_params(params);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &p256_template, EVP_PKEY_PUBLIC_KEY, params) != 1)
		p256_template = NULL;
	EVP_PKEY_CTX_free(ctx);
}

/*
 * A copy of a P-256 template key with the new point: EVP_PKEY_fromdata
 * would build the curve group from its parameters each time (a Montgomery
 * setup and a modular inverse, four times the cost); copying the template
 * copies the group.  Setting the point checks that it is on the curve.
 */
int tdc_p256_key_from_xy(const uint8_t xy[64], EVP_PKEY **out)
{
	uint8_t pt[65];
	EVP_PKEY *k;

	pthread_once(&template_once, template_make);
	pt[0] = 0x04;
	memcpy(pt + 1, xy, 64);
	if (!p256_template || !(k = EVP_PKEY_dup(p256_template)))
		return tdc_err(TDC_ERR_ALLOC, "P-256 key");
	if (EVP_PKEY_set1_encoded_public_key(k, pt, sizeof(pt)) != 1) {
		EVP_PKEY_free(k);
		return tdc_err(TDC_ERR_FORMAT, "attestation key is not a P-256 point");
	}
	*out = k;
	return 0;
}

int tdc_cert_window(X509 *cert, struct tdc_window *w)
{
	struct tm a, b;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &a) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(cert), &b) != 1)
		return tdc_err(TDC_ERR_CHAIN, "certificate validity times unreadable");
	w->not_before = timegm(&a);
	w->not_after = timegm(&b);
	return 0;
}

int tdc_window_valid_at(const struct tdc_window *w, time_t at, const char *what)
{
	if (at < w->not_before)
		return tdc_err(TDC_ERR_CHAIN, "%s is not yet valid at the appraisal time", what);
	if (at > w->not_after)
		return tdc_err(TDC_ERR_CHAIN, "%s has expired at the appraisal time", what);
	return 0;
}

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* OpenSSL 3's one-shot SHA256() fetches the implementation on every call;
 * per appraisal that costs more than the hashing. */
void tdc_sha256(const void *data, size_t len, uint8_t out[32])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || EVP_Digest(data, len, out, NULL, sha256_md, NULL) != 1)
		SHA256(data, len, out);
}

void tdc_cert_sha256(X509 *cert, uint8_t out[32])
{
	unsigned int n = 32;

	pthread_once(&sha256_once, sha256_fetch);
	if (!sha256_md || X509_digest(cert, sha256_md, out, &n) != 1)
		memset(out, 0, 32);
}

void tdc_ecdsa_count_one(void)
{
	ecdsa_verifies++;
}

/* ---- the certificate library context ------------------------------------ */

/*
 * A built-in provider for parsing certificates.  It lends the default
 * provider's SHA-1, SHA-256 and ECDSA (lend_named), and its EC key manager
 * with one function of ours (load); its only decoder is ours: DER
 * SubjectPublicKeyInfo, id-ecPublicKey on prime256v1, uncompressed point,
 * byte for byte (p256_spki below).  The lent implementations run with the
 * default provider's own provider context, exactly as they do there.
 *
 * OpenSSL 3.0 decodes each certificate's key while parsing it
 * (x509_pubkey_ex_d2i_ex -> OSSL_DECODER_from_data); the decoder hands the
 * key to the key manager as an opaque reference that only a key manager of
 * the same provider may take (decoder_construct_pkey -> keymgmt load()).
 * The default provider's decoder (d2i_EC_PUBKEY) builds the P-256 group
 * from its parameters for every certificate (a Montgomery set-up and a
 * modular inverse, 40 % of a certificate's parse); ours copies a template
 * key made once (the key manager's dup, which copies the group) and sets
 * the point (set_params, which checks it is on the curve), as
 * tdc_p256_key_from_xy does for the attestation key.
 *
 * Any other key (another curve, explicit parameters, a compressed point,
 * RSA, trailing bytes) is not decoded: the certificate parses without a
 * key, X509_get0_pubkey() returns NULL and every verification with it
 * fails.  The chain, the collateral signers and the CRL issuers are all
 * P-256 certificates (Intel's PCK certificate profile).
 */
static OSSL_PROVIDER *lend_from;
static void *lend_provctx;
static OSSL_ALGORITHM lent_keymgmt[2], lent_digest[3], lent_signature[2];
static OSSL_DISPATCH ec_keymgmt_fns[64];
static OSSL_FUNC_keymgmt_new_fn *km_new;
static OSSL_FUNC_keymgmt_free_fn *km_free;
static OSSL_FUNC_keymgmt_dup_fn *km_dup;
static OSSL_FUNC_keymgmt_import_fn *km_import;
static OSSL_FUNC_keymgmt_set_params_fn *km_set_params;
static OSSL_FUNC_BIO_read_ex_fn *core_read;
static void *p256_keydata;          /* the template, in the default provider */

/* SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { id-ecPublicKey,
 * prime256v1 }, BIT STRING (0 unused bits) 04 || X || Y }: 26 fixed bytes,
 * then the 65-byte point. */
static const uint8_t p256_spki[26] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};
#define P256_SPKI_LEN (sizeof(p256_spki) + 65)

/* The reference our decoder passes is the address of a key manager object
 * (a default-provider EC key); taking it detaches it. */
static void *ec_load(const void *ref, size_t ref_sz)
{
	void *keydata;

	if (ref_sz != sizeof(keydata))
		return NULL;
	memcpy(&keydata, ref, sizeof(keydata));
	memset((void *)ref, 0, sizeof(keydata));
	return keydata;
}

static void *spki_newctx(void *provctx)
{
	return provctx;  /* no state; must not be NULL */
}

static void spki_freectx(void *ctx)
{
}

static int spki_does_selection(void *provctx, int selection)
{
	return selection == 0 || (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
}

/* Up to @cap bytes of @in (fewer at its end or on a read error). */
static size_t read_all(OSSL_CORE_BIO *in, uint8_t *buf, size_t cap)
{
	size_t len, got;

	for (len = 0; len < cap; len += got)
		if (!core_read(in, buf + len, cap - len, &got) || got == 0)
			break;
	return len;
}

/* Not ours (returns 1 with no object) unless exactly a P-256 SPKI. */
static int spki_decode(void *ctx, OSSL_CORE_BIO *in, int selection, OSSL_CALLBACK *data_cb,
		       void *data_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
	uint8_t der[P256_SPKI_LEN + 1];
	int type = OSSL_OBJECT_PKEY, ok;
	void *keydata;
	OSSL_PARAM set[2], obj[4];

	/* One byte more than the SPKI is read so that trailing data is seen. */
	if (read_all(in, der, sizeof(der)) != P256_SPKI_LEN ||
	    memcmp(der, p256_spki, sizeof(p256_spki)) != 0 || der[sizeof(p256_spki)] != 0x04)
		return 1;
	if (!(keydata = km_dup(p256_keydata, OSSL_KEYMGMT_SELECT_ALL)))
		return 0;
	set[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
						   der + sizeof(p256_spki), 65);
	set[1] = OSSL_PARAM_construct_end();
	if (!km_set_params(keydata, set)) {
		km_free(keydata);  /* not a point on the curve */
		return 1;
	}
	obj[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
	obj[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *)"EC", 0);
	obj[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &keydata,
						   sizeof(keydata));
	obj[3] = OSSL_PARAM_construct_end();
	ok = data_cb(obj, data_cbarg);
	if (keydata)  /* not taken by ec_load */
		km_free(keydata);
	return ok;
}

/* Only our key manager may take our references (decoder_construct_pkey
 * otherwise exports): nothing to export. */
static int spki_export_object(void *ctx, const void *ref, size_t ref_sz,
			      OSSL_CALLBACK *export_cb, void *export_cbarg)
{
	return 0;
}

static const OSSL_DISPATCH spki_fns[] = {
	{ OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))spki_newctx },
	{ OSSL_FUNC_DECODER_FREECTX, (void (*)(void))spki_freectx },
	{ OSSL_FUNC_DECODER_DOES_SELECTION, (void (*)(void))spki_does_selection },
	{ OSSL_FUNC_DECODER_DECODE, (void (*)(void))spki_decode },
	{ OSSL_FUNC_DECODER_EXPORT_OBJECT, (void (*)(void))spki_export_object },
	{ 0, NULL },
};

static const OSSL_ALGORITHM our_decoder[] = {
	{ "EC:id-ecPublicKey:1.2.840.10045.2.1",
	  "provider=tdc-cert,input=der,structure=SubjectPublicKeyInfo", spki_fns,
	  "P-256 SubjectPublicKeyInfo from a template key" },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *lent_query(void *provctx, int op, int *no_cache)
{
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_DIGEST:
		return lent_digest;
	case OSSL_OP_SIGNATURE:
		return lent_signature;
	case OSSL_OP_KEYMGMT:
		return lent_keymgmt;
	case OSSL_OP_DECODER:
		return our_decoder;
	default:
		return NULL;
	}
}

static const OSSL_DISPATCH lent_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))lent_query },
	{ 0, NULL },
};

static int lent_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		     const OSSL_DISPATCH **out, void **provctx)
{
	for (; in->function_id; in++)
		if (in->function_id == OSSL_FUNC_BIO_READ_EX)
			core_read = OSSL_FUNC_BIO_read_ex(in);
	if (!core_read)
		return 0;
	*out = lent_dispatch;
	*provctx = lend_provctx;
	return 1;
}

/*
 * Of the default provider's @op algorithms, those whose first name is in
 * @names, into @out (@cap entries with the terminating one): SHA-256 and
 * ECDSA are what Intel's certificates, CRLs and documents are signed with,
 * SHA-1 what OpenSSL takes a certificate's fingerprint with.  Lending only
 * these keeps the context's name map small: OpenSSL 3.0 walks the whole
 * map to list a key manager's names (EVP_PKEY_set_type_by_keymgmt, for
 * every key decoded and every verification context).
 */
static bool lend_named(int op, const char *const *names, OSSL_ALGORITHM *out, size_t cap)
{
	const OSSL_ALGORITHM *a;
	size_t n = 0, len;
	int nc;

	for (a = OSSL_PROVIDER_query_operation(lend_from, op, &nc); a && a->algorithm_names; a++)
		for (const char *const *w = names; *w && n + 1 < cap; w++) {
			len = strlen(*w);
			if (strncmp(a->algorithm_names, *w, len) == 0 &&
			    (a->algorithm_names[len] == ':' || a->algorithm_names[len] == '\0'))
				out[n++] = *a;
		}
	return n + 1 == cap;
}

/* The default provider's EC key manager, its functions copied with our
 * load; false if it lacks one we call. */
static bool lend_ec_keymgmt(void)
{
	const OSSL_ALGORITHM *a;
	const OSSL_DISPATCH *f;
	size_t n = 0;
	int nc;

	for (a = OSSL_PROVIDER_query_operation(lend_from, OSSL_OP_KEYMGMT, &nc);
	     a && a->algorithm_names; a++)
		if (strncmp(a->algorithm_names, "EC:", 3) == 0)
			break;
	if (!a || !a->algorithm_names)
		return false;
	for (f = a->implementation; f->function_id && n + 2 < 64; f++) {
		ec_keymgmt_fns[n] = *f;
		switch (f->function_id) {
		case OSSL_FUNC_KEYMGMT_NEW: km_new = OSSL_FUNC_keymgmt_new(f); break;
		case OSSL_FUNC_KEYMGMT_FREE: km_free = OSSL_FUNC_keymgmt_free(f); break;
		case OSSL_FUNC_KEYMGMT_DUP: km_dup = OSSL_FUNC_keymgmt_dup(f); break;
		case OSSL_FUNC_KEYMGMT_IMPORT: km_import = OSSL_FUNC_keymgmt_import(f); break;
		case OSSL_FUNC_KEYMGMT_SET_PARAMS:
			km_set_params = OSSL_FUNC_keymgmt_set_params(f);
			break;
		case OSSL_FUNC_KEYMGMT_LOAD:
			ec_keymgmt_fns[n].function = (void (*)(void))ec_load;
			break;
		}
		n++;
	}
	if (f->function_id || !km_new || !km_free || !km_dup || !km_import || !km_set_params)
		return false;
	ec_keymgmt_fns[n] = (OSSL_DISPATCH){ 0, NULL };
	lent_keymgmt[0] = *a;
	lent_keymgmt[0].implementation = ec_keymgmt_fns;
	return true;
}

/* The template: P-256 with the generator as its point. */
static void *p256_keydata_make(void)
{
	void *k = km_new(lend_provctx);
	OSSL_PARAM params[3];

	p256_g_params(params);
	if (k && !km_import(k, OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS |
			    OSSL_KEYMGMT_SELECT_PUBLIC_KEY, params)) {
		km_free(k);
		k = NULL;
	}
	return k;
}

static pthread_once_t cert_ctx_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *cert_ctx;

static void cert_ctx_make(void)
{
	OSSL_LIB_CTX *ctx;

	if (!(lend_from = OSSL_PROVIDER_load(NULL, "default")))
		return;
	lend_provctx = OSSL_PROVIDER_get0_provider_ctx(lend_from);
	if (!lend_named(OSSL_OP_DIGEST, (const char *const[]){ "SHA1", "SHA2-256", NULL },
			lent_digest, 3) ||
	    !lend_named(OSSL_OP_SIGNATURE, (const char *const[]){ "ECDSA", NULL },
			lent_signature, 2) || !lend_ec_keymgmt() || !(p256_keydata = p256_keydata_make()) ||
	    !(ctx = OSSL_LIB_CTX_new()))
		return;
	if (OSSL_PROVIDER_add_builtin(ctx, "tdc-cert", lent_init) != 1 ||
	    !OSSL_PROVIDER_load(ctx, "tdc-cert")) {
		OSSL_LIB_CTX_free(ctx);
		return;
	}
	cert_ctx = ctx;
}

OSSL_LIB_CTX *tdc_cert_libctx(void)
{
	pthread_once(&cert_ctx_once, cert_ctx_make);
	return cert_ctx;
}

X509 *tdc_pem_read_cert(BIO *bio)
{
	X509 *x = X509_new_ex(tdc_cert_libctx(), NULL);

	/* On a parse error PEM_read_bio_X509 frees and clears x; at the end
	 * of the input it leaves it as it was. */
	if (x && !PEM_read_bio_X509(bio, &x, NULL, NULL)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *tdc_der_read_cert(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = X509_new_ex(tdc_cert_libctx(), NULL);

	if (!x || len > LONG_MAX || !d2i_X509(&x, &p, (long)len) || p != der + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_CRL *tdc_der_read_crl(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = X509_CRL_new_ex(tdc_cert_libctx(), NULL);

	if (!crl || len > LONG_MAX || !d2i_X509_CRL(&crl, &p, (long)len) || p != der + len) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

/* ---- PEM certificates ---------------------------------------------------- */

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
/* The END marker starts a line. */
static const char pem_end[] = "\n-----END CERTIFICATE-----";

static bool pem_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Base64 digit values; B64_PAD for '=', B64_SPACE for pem_space(), else
 * B64_BAD. */
enum { B64_PAD = 64, B64_SPACE = 65, B64_BAD = 66 };
static uint8_t b64_tab[256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void b64_make(void)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(b64_tab, B64_BAD, sizeof(b64_tab));
	for (int i = 0; i < 64; i++)
		b64_tab[(uint8_t)digits[i]] = (uint8_t)i;
	b64_tab['='] = B64_PAD;
	b64_tab[' '] = b64_tab['\t'] = b64_tab['\r'] = b64_tab['\n'] = B64_SPACE;
}

/* The three bytes of a complete group of four digits. */
static long b64_emit(unsigned acc, uint8_t *out, long len)
{
	out[len] = (uint8_t)(acc >> 16);
	out[len + 1] = (uint8_t)(acc >> 8);
	out[len + 2] = (uint8_t)acc;
	return len + 3;
}

/* @s..@end (whitespace between) into @out; its length, or -1 when not
 * base64 in whole groups of four with '=' only at the very end. */
static long b64_decode(const char *s, const char *end, uint8_t *out)
{
	unsigned acc = 0, n = 0, pad = 0, v;
	long len = 0;

	pthread_once(&b64_once, b64_make);
	for (; s < end; s++) {
		/* Whole groups of four digits at once, the common case: '=',
		 * whitespace and bad bytes are all 64 or more. */
		while (n % 4 == 0 && !pad && end - s >= 4) {
			unsigned a = b64_tab[(uint8_t)s[0]], b = b64_tab[(uint8_t)s[1]],
				 c = b64_tab[(uint8_t)s[2]], d = b64_tab[(uint8_t)s[3]];

			if ((a | b | c | d) & 64)
				break;
			len = b64_emit(a << 18 | b << 12 | c << 6 | d, out, len);
			n += 4;
			s += 4;
		}
		if (s == end)
			break;
		if ((v = b64_tab[(uint8_t)*s]) < 64 && !pad) {
			acc = acc << 6 | v;
			if (++n % 4 == 0)
				len = b64_emit(acc, out, len);
			continue;
		}
		if (v == B64_SPACE)
			continue;
		/* '=' ends the data: one or two, completing the last group. */
		if (v != B64_PAD || n % 4 < 2 || ++pad > 2)
			return -1;
		acc <<= 6;
		if (++n % 4 == 0)
			len = b64_emit(acc, out, len);
	}
	return n % 4 || n == 0 ? -1 : len - pad;
}

int tdc_pem_cert_next(const char **p, const char *end, uint8_t **der, size_t *len)
{
	const char *s = *p, *body, *stop;
	uint8_t *buf;
	long n;

	while (s < end && pem_space(*s))
		s++;
	if ((size_t)(end - s) < sizeof(pem_begin) - 1 ||
	    memcmp(s, pem_begin, sizeof(pem_begin) - 1) != 0)
		return tdc_err(TDC_ERR_FORMAT, "not at a -----BEGIN CERTIFICATE----- line");
	s += sizeof(pem_begin) - 1;
	if (s < end && *s == '\r')
		s++;
	if (s == end || *s != '\n')
		return tdc_err(TDC_ERR_FORMAT, "text after -----BEGIN CERTIFICATE-----");
	body = ++s;
	/* The END line starts a line; everything before it is the body. */
	if (!(stop = memmem(body, (size_t)(end - body), pem_end, sizeof(pem_end) - 1)))
		return tdc_err(TDC_ERR_FORMAT, "no -----END CERTIFICATE----- line");
	if (memchr(body, ':', (size_t)(stop - body)))
		return tdc_err(TDC_ERR_FORMAT, "PEM headers are not accepted");
	if (!(buf = malloc((size_t)(stop - body) / 4 * 3 + 3)))
		return tdc_err(TDC_ERR_ALLOC, "PEM certificate");
	if ((n = b64_decode(body, stop, buf)) <= 0) {
		free(buf);
		return tdc_err(TDC_ERR_FORMAT, "certificate body is not base64");
	}
	*p = stop + sizeof(pem_end) - 1;
	*der = buf;
	*len = (size_t)n;
	return 0;
}
