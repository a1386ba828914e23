// SPDX-License-Identifier: Apache-2.0
/*
 * DCAP TD Quote v4 / v5 parser (bytes -> struct tdx_quote).  Layout:
 * Intel DCAP sgx_quote_4.h / sgx_quote_5.h (QuoteGeneration/quote_wrapper/common/inc),
 * offsets cross-checked with google/go-tdx-guest abi/abi.go).
 *
 * This is the "abi" layer only: it checks structure (versions, types,
 * every declared length against the bytes that remain) and records which
 * bytes are signed.  Signatures, chains and collateral are checked in
 * verifier/quote/quote_verify.c.
 */
#include <string.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

/* sgx_quote5_t body types (tdx-abi.md §6 "v5 layout"). */
enum {
	TDX_V5_BODY_SGX = 1,
	TDX_V5_BODY_TD10 = 2,
	TDX_V5_BODY_TD15 = 3,
};

/* Fixed part of the ECDSA-256 signature data before certification data. */
#define TDX_SIGDATA_FIXED_LEN (64 + 64 + 2 + 4)
/* Fixed part of type-6 certification data before the QE auth data. */
#define TDX_QE_CERT_FIXED_LEN (TDX_QE_REPORT_LEN + 64 + 2)

static int parse_header(struct tdc_reader *r, struct tdx_quote_header *h)
{
	int ret;

	if ((ret = tdc_get_u16le(r, &h->version)) != 0)
		return ret;
	if (h->version != 4 && h->version != 5)
		return tdc_err(TDC_ERR_VERSION, "quote: unsupported quote version %u "
			       "at offset 0 (expected 4 or 5)", h->version);
	if ((ret = tdc_get_u16le(r, &h->att_key_type)) != 0 ||
	    (ret = tdc_get_u32le(r, &h->tee_type)) != 0 ||
	    (ret = tdc_get_u16le(r, &h->qe_svn)) != 0 ||
	    (ret = tdc_get_u16le(r, &h->pce_svn)) != 0 ||
	    (ret = tdc_get_bytes(r, h->qe_vendor_id, sizeof(h->qe_vendor_id))) != 0 ||
	    (ret = tdc_get_bytes(r, h->user_data, sizeof(h->user_data))) != 0)
		return ret;
	if (h->att_key_type != TDX_ATT_KEY_ECDSA_P256)
		return tdc_err(TDC_ERR_UNSUPPORTED, "quote: att_key_type %u at offset 2 "
			       "(only 2 = ECDSA-256-with-P-256 is supported)",
			       h->att_key_type);
	if (h->tee_type != TDX_TEE_TYPE_TDX)
		return tdc_err(TDC_ERR_UNSUPPORTED, "quote: tee_type 0x%x at offset 4 "
			       "(expected 0x81 = TDX)", h->tee_type);
	return 0;
}

/* TD quote body 1.0 / 1.5 (tdx-abi.md §6 "TD quote body"). */
static int parse_body(struct tdc_reader *r, bool is_1_5, struct tdx_td_body *b)
{
	int ret;

	b->is_1_5 = is_1_5;
	if ((ret = tdc_get_bytes(r, b->tee_tcb_svn, 16)) != 0 ||
	    (ret = tdc_get_bytes(r, b->mr_seam, 48)) != 0 ||
	    (ret = tdc_get_bytes(r, b->mr_signer_seam, 48)) != 0 ||
	    (ret = tdc_get_u64le(r, &b->seam_attributes)) != 0 ||
	    (ret = tdc_get_u64le(r, &b->td_attributes)) != 0 ||
	    (ret = tdc_get_u64le(r, &b->xfam)) != 0 ||
	    (ret = tdc_get_bytes(r, b->mr_td, 48)) != 0 ||
	    (ret = tdc_get_bytes(r, b->mr_config_id, 48)) != 0 ||
	    (ret = tdc_get_bytes(r, b->mr_owner, 48)) != 0 ||
	    (ret = tdc_get_bytes(r, b->mr_owner_config, 48)) != 0 ||
	    (ret = tdc_get_bytes(r, b->rtmr, sizeof(b->rtmr))) != 0 ||
	    (ret = tdc_get_bytes(r, b->report_data, 64)) != 0)
		return ret;
	if (is_1_5 &&
	    ((ret = tdc_get_bytes(r, b->tee_tcb_svn2, 16)) != 0 ||
	     (ret = tdc_get_bytes(r, b->mr_servicetd, 48)) != 0))
		return ret;
	return tdc_reader_expect_end(r);
}

/* v4: the body follows the header directly and is always TD 1.0. */
static int parse_body_v4(struct tdc_reader *r, struct tdx_td_body *b)
{
	struct tdc_reader sub;
	int ret;

	if ((ret = tdc_get_sub(r, TDX_TD_BODY10_LEN, &sub, "quote.body")) != 0)
		return ret;
	b->body_type = TDX_V5_BODY_TD10;
	return parse_body(&sub, false, b);
}

/* v5: type (u16) and size (u32) precede the body; the size must fit the type. */
static int parse_body_v5(struct tdc_reader *r, struct tdx_td_body *b)
{
	struct tdc_reader sub;
	uint32_t size, want;
	uint16_t type;
	int ret;

	if ((ret = tdc_get_u16le(r, &type)) != 0 ||
	    (ret = tdc_get_u32le(r, &size)) != 0)
		return ret;
	if (type == TDX_V5_BODY_TD10)
		want = TDX_TD_BODY10_LEN;
	else if (type == TDX_V5_BODY_TD15)
		want = TDX_TD_BODY15_LEN;
	else
		return tdc_err(TDC_ERR_UNSUPPORTED, "quote: v5 body type %u at offset 48 "
			       "(expected 2 = TD 1.0 or 3 = TD 1.5)", type);
	if (size != want)
		return tdc_err(TDC_ERR_FORMAT, "quote: v5 body size %u at offset 50 "
			       "does not match body type %u (expected %u)", size, type, want);
	if ((ret = tdc_get_sub(r, size, &sub, "quote.body")) != 0)
		return ret;
	b->body_type = type;
	return parse_body(&sub, type == TDX_V5_BODY_TD15, b);
}

/* QE report: sgx_report_body_t (tdx-abi.md §6 "QE report"). */
static int parse_qe_report(struct tdc_reader *r, struct tdx_qe_report *q)
{
	struct tdc_reader sub;
	int ret;

	if ((ret = tdc_get_sub(r, TDX_QE_REPORT_LEN, &sub, "quote.qe_report")) != 0)
		return ret;
	q->raw = sub.data;
	if ((ret = tdc_get_bytes(&sub, q->cpu_svn, 16)) != 0 ||
	    (ret = tdc_get_u32le(&sub, &q->misc_select)) != 0 ||
	    (ret = tdc_skip(&sub, 28)) != 0 ||
	    (ret = tdc_get_bytes(&sub, q->attributes, 16)) != 0 ||
	    (ret = tdc_get_bytes(&sub, q->mr_enclave, 32)) != 0 ||
	    (ret = tdc_skip(&sub, 32)) != 0 ||
	    (ret = tdc_get_bytes(&sub, q->mr_signer, 32)) != 0 ||
	    (ret = tdc_skip(&sub, 96)) != 0 ||
	    (ret = tdc_get_u16le(&sub, &q->isv_prod_id)) != 0 ||
	    (ret = tdc_get_u16le(&sub, &q->isv_svn)) != 0 ||
	    (ret = tdc_skip(&sub, 60)) != 0 ||
	    (ret = tdc_get_bytes(&sub, q->report_data, 64)) != 0)
		return ret;
	return tdc_reader_expect_end(&sub);
}

/*
 * A {type u16, size u32, data[size]} certification-data header whose size
 * must use up exactly what its parent has left: a size that is smaller or
 * larger than the rest is how corrupted length fields show up.
 */
static int get_cert_data(struct tdc_reader *r, uint16_t want_type, const char *what,
			 struct tdc_reader *sub)
{
	size_t at = tdc_reader_offset(r);
	uint16_t type;
	uint32_t size;
	int ret;

	if ((ret = tdc_get_u16le(r, &type)) != 0 ||
	    (ret = tdc_get_u32le(r, &size)) != 0)
		return ret;
	if (type != want_type)
		return tdc_err(TDC_ERR_FORMAT, "quote: %s type %u at offset %zu "
			       "(expected %u)", what, type, at, want_type);
	if (size != tdc_reader_remaining(r))
		return tdc_err(TDC_ERR_FORMAT, "quote: certification data size mismatch: "
			       "%s size %u at offset %zu, but %zu bytes remain",
			       what, size, at + 2, tdc_reader_remaining(r));
	return tdc_get_sub(r, size, sub, what);
}

/* Type 6: QE report, its PCK signature, QE auth data, nested type 5 chain. */
static int parse_qe_cert_data(struct tdc_reader *r, struct tdx_quote *q)
{
	struct tdc_reader chain;
	uint16_t auth_len;
	const uint8_t *p;
	int ret;

	if ((ret = parse_qe_report(r, &q->qe_report)) != 0 ||
	    (ret = tdc_get_bytes(r, q->qe_report_sig, 64)) != 0 ||
	    (ret = tdc_get_u16le(r, &auth_len)) != 0 ||
	    (ret = tdc_get_ref(r, auth_len, &q->qe_auth_data)) != 0)
		return ret;
	q->qe_auth_len = auth_len;
	if ((ret = get_cert_data(r, TDX_CERT_TYPE_PCK_CHAIN, "pck_cert_chain",
				 &chain)) != 0)
		return ret;
	if ((ret = tdc_get_ref(&chain, chain.len, &p)) != 0)
		return ret;
	q->pck_chain_pem = (const char *)p;
	q->pck_chain_len = chain.len;
	return 0;
}

static int parse_signature_data(struct tdc_reader *r, struct tdx_quote *q)
{
	struct tdc_reader cert;
	int ret;

	if ((ret = tdc_get_bytes(r, q->signature, 64)) != 0 ||
	    (ret = tdc_get_bytes(r, q->attest_key, 64)) != 0)
		return ret;
	if ((ret = get_cert_data(r, TDX_CERT_TYPE_QE_REPORT, "qe_cert_data",
				 &cert)) != 0)
		return ret;
	return parse_qe_cert_data(&cert, q);
}

int tdx_quote_parse(const uint8_t *data, size_t len, bool allow_trailing,
		    struct tdx_quote *out)
{
	struct tdc_reader r, sig;
	uint32_t sig_len;
	size_t sig_at;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len > TDX_QUOTE_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "quote: %zu bytes exceeds the "
			       "%u-byte limit", len, TDX_QUOTE_MAX);
	tdc_reader_init(&r, data, len, "quote");
	if ((ret = parse_header(&r, &out->header)) != 0)
		return ret;
	ret = out->header.version == 4 ? parse_body_v4(&r, &out->body) :
					 parse_body_v5(&r, &out->body);
	if (ret != 0)
		return ret;
	/* The attestation key signs everything up to the signature length. */
	out->signed_data = data;
	out->signed_len = tdc_reader_offset(&r);
	sig_at = tdc_reader_offset(&r);
	if ((ret = tdc_get_u32le(&r, &sig_len)) != 0)
		return ret;
	if (sig_len < TDX_SIGDATA_FIXED_LEN || sig_len > tdc_reader_remaining(&r))
		return tdc_err(TDC_ERR_TRUNCATED, "quote: signature_data_len %u at offset "
			       "%zu, but %zu bytes remain", sig_len, sig_at,
			       tdc_reader_remaining(&r));
	if ((ret = tdc_get_sub(&r, sig_len, &sig, "quote.signature_data")) != 0 ||
	    (ret = parse_signature_data(&sig, out)) != 0)
		return ret;
	out->trailing = tdc_reader_remaining(&r);
	out->total_len = len;
	/* Real quote buffers carry padding or text after the signature data. */
	if (out->trailing && !allow_trailing)
		return tdc_reader_expect_end(&r);
	return 0;
}
