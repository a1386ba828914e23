// SPDX-License-Identifier: Apache-2.0
/*
 * EAR: the IETF RATS "EAT Attestation Result" (draft-ietf-rats-ear), so a
 * relying party can consume tdcpuid verdicts like any other verifier's.
 *
 * Claims: eat_profile, iat, ear.verifier-id, eat_nonce and one submodule
 * "tdcpuid" with ear.status and an AR4SI trustworthiness vector
 * (draft-ietf-rats-ar4si tiers: 2 affirming, 32 warning, 96+ contraindicated):
 *   hardware           2  verified quote of real TDX hardware
 *                     32  TDREPORT only: not authenticated off-platform
 *                     97  simulated TEE, or no hardware report at all
 *   configuration      2  CPUID and TD fields accepted by the policy
 *                     96  a mismatch or policy failure
 *   instance-identity  2  nonce fresh and REPORTDATA binds the claims
 *                     96  binding or freshness failed
 * With a signing key the claims become a compact JWS (ES256, RFC 7515/7518).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "engine.h"
#include "tdcpuid/error.h"
#include "tdcpuid/serial.h"
#include "verify_internal.h"

#define EAR_PROFILE "tag:github.com,2023:veraison/ear"
#define AR_AFFIRMING 2
#define AR_WARNING 32
#define AR_CONTRAINDICATED 96
#define AR_HW_UNRECOGNIZED 97

static bool check_failed(const struct tdc_check_result *res, const char *const *names)
{
	for (size_t i = 0; i < tdc_check_count(&res->checks); i++) {
		const struct tdc_check *c = tdc_check_at(&res->checks, i);

		for (const char *const *n = names; *n; n++)
			if (c->status == TDC_CHECK_FAIL && !strncmp(c->name, *n, strlen(*n)))
				return true;
	}
	return false;
}

static int tier_hardware(const struct tdc_check_result *res)
{
	if (res->tee == TDC_TEE_SIM || !res->have_report)
		return AR_HW_UNRECOGNIZED;
	return res->authenticated ? AR_AFFIRMING : AR_WARNING;
}

static int tier_identity(const struct tdc_check_result *res)
{
	static const char *const binding[] = { "nonce", "tdreport_binding", "quote.report_data",
					       "evidence_format", "claims_format", NULL };

	return check_failed(res, binding) ? AR_CONTRAINDICATED : AR_AFFIRMING;
}

static const char *status_of(int worst)
{
	return worst >= AR_CONTRAINDICATED ? "contraindicated" :
	       worst >= AR_WARNING ? "warning" : "affirming";
}

/* base64url without padding (RFC 7515 §2). */
static int b64url(const uint8_t *p, size_t n, struct tdc_buf *out)
{
	struct tdc_buf b;
	int r;

	tdc_buf_init(&b);
	if ((r = tdc_base64_encode(p, n, &b)) == 0) {
		for (size_t i = 0; i < b.len; i++) {
			char c = (char)b.data[i];

			if (c == '=' || c == '\n' || c == '\r')
				continue;
			c = c == '+' ? '-' : c == '/' ? '_' : c;
			if ((r = tdc_buf_put_u8(out, (uint8_t)c)) != 0)
				break;
		}
	}
	tdc_buf_free(&b);
	return r;
}

static json_t *ear_claims(const struct tdc_check_result *res)
{
	int hw = tier_hardware(res), id = tier_identity(res);
	int cfg = res->passed ? AR_AFFIRMING : AR_CONTRAINDICATED;
	int worst = hw > id ? hw : id;
	struct tdc_buf nonce;
	json_t *o, *sub;

	worst = worst > cfg ? worst : cfg;
	sub = json_pack("{s:s, s:{s:i, s:i, s:i}, s:s, s:o}",
			"ear.status", status_of(worst),
			"ear.trustworthiness-vector", "hardware", hw, "configuration", cfg,
			"instance-identity", id,
			"ear.appraisal-policy-id", res->policy_name,
			"tdcpuid.verdict", tdc_check_summary_json(res));
	o = json_pack("{s:s, s:I, s:{s:s, s:s}, s:{s:o}}", "eat_profile", EAR_PROFILE,
		      "iat", (json_int_t)res->at, "ear.verifier-id", "developer", "tdcpuid",
		      "build", "tdcpuid-verifier " TDC_VERSION, "submods", "tdcpuid", sub);
	if (o && res->nonce_len) {
		tdc_buf_init(&nonce);
		if (b64url(res->nonce, res->nonce_len, &nonce) == 0)
			json_object_set_new(o, "eat_nonce", json_string(tdc_buf_cstr(&nonce)));
		tdc_buf_free(&nonce);
	}
	return o;
}

static int load_key(const char *path, EVP_PKEY **key)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return tdc_err(TDC_ERR_NOT_FOUND, "EAR signing key %s: cannot open", path);
	*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!*key)
		return tdc_err(TDC_ERR_FORMAT, "EAR signing key %s: not a PEM private key", path);
	if (EVP_PKEY_get_base_id(*key) != EVP_PKEY_EC || EVP_PKEY_get_bits(*key) != 256) {
		EVP_PKEY_free(*key);
		return tdc_err(TDC_ERR_FORMAT, "EAR signing key %s: ES256 needs a P-256 key", path);
	}
	return 0;
}

/* ECDSA DER signature -> the fixed 64-byte r||s that JWS wants. */
static int der_to_raw(const uint8_t *der, size_t len, uint8_t raw[64])
{
	const uint8_t *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int ok;

	if (!sig)
		return tdc_err(TDC_ERR_INTERNAL, "ECDSA signature encoding");
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, 32) == 32 && BN_bn2binpad(s, raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? 0 : tdc_err(TDC_ERR_INTERNAL, "ECDSA signature size");
}

static int sign_es256(EVP_PKEY *key, const struct tdc_buf *input, uint8_t raw[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t len = sizeof(der);
	int r = 0;

	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &len, input->data, input->len) != 1)
		r = tdc_err(TDC_ERR_INTERNAL, "ES256 signing failed");
	else
		r = der_to_raw(der, len, raw);
	EVP_MD_CTX_free(ctx);
	return r;
}

static int jws_compact(const char *payload, const char *key_path, struct tdc_buf *out)
{
	static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"JWT\"}";
	struct tdc_buf input;
	uint8_t sig[64];
	EVP_PKEY *key = NULL;
	int r;

	if ((r = load_key(key_path, &key)) != 0)
		return r;
	tdc_buf_init(&input);
	if ((r = b64url((const uint8_t *)header, strlen(header), &input)) != 0 ||
	    (r = tdc_buf_put_u8(&input, '.')) != 0 ||
	    (r = b64url((const uint8_t *)payload, strlen(payload), &input)) != 0 ||
	    (r = sign_es256(key, &input, sig)) != 0 ||
	    (r = tdc_buf_put(out, input.data, input.len)) != 0 ||
	    (r = tdc_buf_put_u8(out, '.')) != 0 ||
	    (r = b64url(sig, sizeof(sig), out)) != 0)
		goto out;
	r = tdc_buf_put_u8(out, '\n');
out:
	EVP_PKEY_free(key);
	tdc_buf_free(&input);
	return r;
}

int tdc_check_format_ear(const struct tdc_check_result *res, const char *sign_key_pem,
			 struct tdc_buf *out)
{
	json_t *claims = ear_claims(res);
	char *s;
	int r;

	if (!claims)
		return tdc_err(TDC_ERR_ALLOC, "EAR claims");
	s = json_dumps(claims, sign_key_pem ? JSON_COMPACT | JSON_PRESERVE_ORDER :
			       JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(claims);
	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "EAR claims");
	if (sign_key_pem)
		r = jws_compact(s, sign_key_pem, out);
	else if ((r = tdc_buf_put(out, s, strlen(s))) == 0)
		r = tdc_buf_put_u8(out, '\n');
	free(s);
	return r;
}
