// SPDX-License-Identifier: Apache-2.0
/*
 * TDREPORT_STRUCT parser (1024 bytes, the output of TDG.MR.REPORT).
 *
 * Layout: Intel TDX Module ABI spec, TDG.MR.REPORT (intel/linux-sgx
 * sgx_report2.h, DCAP sgx_quote_4.h / sgx_quote_5.h).  Everything is read through the
 * bounds-checked reader, one sub-reader per part, so a field can never be
 * taken from the wrong part of the report.
 */
#include <string.h>

#include <openssl/evp.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"
#include "tdcpuid/tdx.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Skip @n reserved bytes, remembering @warn if any of them is set. */
static int get_reserved(struct tdc_reader *r, size_t n, uint32_t warn,
			uint32_t *warnings)
{
	const uint8_t *p;
	int ret;

	if ((ret = tdc_get_ref(r, n, &p)) != 0)
		return ret;
	if (!all_zero(p, n))
		*warnings |= warn;
	return 0;
}

/* REPORTMACSTRUCT, 256 bytes (tdx-abi.md §5). */
static int parse_mac(struct tdc_reader *r, struct tdx_report *out)
{
	int ret;

	if ((ret = tdc_get_u8(r, &out->report_type)) != 0)
		return ret;
	if (out->report_type != TDX_REPORT_TYPE_TDX)
		return tdc_err(TDC_ERR_FORMAT,
			       "tdreport: report type 0x%02x at offset %d, expected 0x%02x (TDX)",
			       out->report_type, TDX_OFF_REPORT_TYPE, TDX_REPORT_TYPE_TDX);
	if ((ret = tdc_get_u8(r, &out->report_subtype)) != 0 ||
	    (ret = tdc_get_u8(r, &out->report_version)) != 0)
		return ret;
	/* TDREPORT_SUBTYPE_0 is the only subtype TDG.MR.REPORT defines (§1). */
	if (out->report_subtype != 0)
		out->warnings |= TDX_REPORT_WARN_SUBTYPE;
	if ((ret = get_reserved(r, 13, TDX_REPORT_WARN_MAC_RESERVED, &out->warnings)) != 0 ||
	    (ret = tdc_get_bytes(r, out->cpu_svn, sizeof(out->cpu_svn))) != 0 ||
	    (ret = tdc_get_bytes(r, out->tee_tcb_info_hash, TDX_SHA384_LEN)) != 0 ||
	    (ret = tdc_get_bytes(r, out->tee_info_hash, TDX_SHA384_LEN)) != 0 ||
	    (ret = tdc_get_bytes(r, out->report_data, TDX_REPORTDATA_LEN)) != 0 ||
	    (ret = get_reserved(r, 32, TDX_REPORT_WARN_MAC_RESERVED, &out->warnings)) != 0 ||
	    (ret = tdc_get_bytes(r, out->mac, sizeof(out->mac))) != 0)
		return ret;
	return tdc_reader_expect_end(r);
}

/*
 * TEE_TCB_INFO (239 bytes) plus the 17 reserved bytes that pad it to 256.
 * TDX 1.0 reserves bytes 128..239; 1.5 puts TEE_TCB_SVN2 at 128..144, which
 * is read either way (zero on 1.0).
 */
static int parse_tcb(struct tdc_reader *r, struct tdx_report *out)
{
	struct tdx_tee_tcb_info *t = &out->tcb;
	int ret;

	if ((ret = tdc_get_u64le(r, &t->valid)) != 0 ||
	    (ret = tdc_get_bytes(r, t->tee_tcb_svn, sizeof(t->tee_tcb_svn))) != 0 ||
	    (ret = tdc_get_bytes(r, t->mr_seam, sizeof(t->mr_seam))) != 0 ||
	    (ret = tdc_get_bytes(r, t->mr_signer_seam, sizeof(t->mr_signer_seam))) != 0 ||
	    (ret = tdc_get_u64le(r, &t->attributes)) != 0 ||
	    (ret = tdc_get_bytes(r, t->tee_tcb_svn2, sizeof(t->tee_tcb_svn2))) != 0 ||
	    (ret = get_reserved(r, 95 + 17, TDX_REPORT_WARN_TCB_RESERVED, &out->warnings)) != 0)
		return ret;
	/* tdx-abi.md §6: SEAM attributes are MBZ in TDX 1.0. */
	if (t->attributes != 0)
		out->warnings |= TDX_REPORT_WARN_SEAM_ATTR;
	return tdc_reader_expect_end(r);
}

/* TDINFO (tee_info_t), 512 bytes (tdx-abi.md §5). */
static int parse_tdinfo(struct tdc_reader *r, struct tdx_report *out)
{
	struct tdx_tdinfo *td = &out->td;
	int ret;

	if ((ret = tdc_get_u64le(r, &td->attributes)) != 0 ||
	    (ret = tdc_get_u64le(r, &td->xfam)) != 0 ||
	    (ret = tdc_get_bytes(r, td->mr_td, sizeof(td->mr_td))) != 0 ||
	    (ret = tdc_get_bytes(r, td->mr_config_id, sizeof(td->mr_config_id))) != 0 ||
	    (ret = tdc_get_bytes(r, td->mr_owner, sizeof(td->mr_owner))) != 0 ||
	    (ret = tdc_get_bytes(r, td->mr_owner_config, sizeof(td->mr_owner_config))) != 0)
		return ret;
	for (size_t i = 0; i < 4; i++)
		if ((ret = tdc_get_bytes(r, td->rtmr[i], sizeof(td->rtmr[i]))) != 0)
			return ret;
	/* Reserved on TDX 1.0, SERVTD_HASH on 1.5: either way just bytes. */
	if ((ret = tdc_get_bytes(r, td->servtd_hash, sizeof(td->servtd_hash))) != 0 ||
	    (ret = get_reserved(r, 64, TDX_REPORT_WARN_TD_RESERVED, &out->warnings)) != 0)
		return ret;
	return tdc_reader_expect_end(r);
}

int tdx_report_parse(const uint8_t *data, size_t len, struct tdx_report *out)
{
	struct tdc_reader r, sub;
	int ret;

	memset(out, 0, sizeof(*out));
	if (len != TDX_REPORT_LEN)
		return tdc_err(len < TDX_REPORT_LEN ? TDC_ERR_TRUNCATED : TDC_ERR_TRAILING,
			       "tdreport: %zu bytes, a TDREPORT_STRUCT is exactly %d",
			       len, TDX_REPORT_LEN);
	tdc_reader_init(&r, data, len, "tdreport");
	if ((ret = tdc_get_sub(&r, TDX_OFF_TEE_TCB_INFO, &sub, "tdreport.reportmac")) != 0 ||
	    (ret = parse_mac(&sub, out)) != 0)
		return ret;
	if ((ret = tdc_get_sub(&r, TDX_OFF_TDINFO - TDX_OFF_TEE_TCB_INFO, &sub,
			       "tdreport.tee_tcb_info")) != 0 ||
	    (ret = parse_tcb(&sub, out)) != 0)
		return ret;
	if ((ret = tdc_get_sub(&r, TDX_TDINFO_LEN, &sub, "tdreport.tdinfo")) != 0 ||
	    (ret = parse_tdinfo(&sub, out)) != 0)
		return ret;
	if ((ret = tdc_reader_expect_end(&r)) != 0)
		return ret;
	out->raw = data;
	return 0;
}

static int sha384(const uint8_t *p, size_t n, uint8_t md[TDX_SHA384_LEN])
{
	unsigned int mdlen = 0;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha384(), NULL) != 1 ||
	    mdlen != TDX_SHA384_LEN)
		return tdc_err(TDC_ERR_INTERNAL, "tdreport: SHA-384 failed");
	return 0;
}

int tdx_report_check_hashes(const struct tdx_report *r)
{
	uint8_t md[TDX_SHA384_LEN];
	int ret;

	if (!r->raw)
		return tdc_err(TDC_ERR_INTERNAL, "tdreport: not parsed");
	/* The hash covers the 239-byte TEE_TCB_INFO, not the 17 pad bytes. */
	if ((ret = sha384(r->raw + TDX_OFF_TEE_TCB_INFO, TDX_TEE_TCB_INFO_LEN, md)) != 0)
		return ret;
	if (memcmp(md, r->tee_tcb_info_hash, sizeof(md)) != 0)
		return tdc_err(TDC_ERR_BINDING,
			       "tdreport: SHA-384(TEE_TCB_INFO at offset %d) != TEE_TCB_INFO_HASH at offset %d",
			       TDX_OFF_TEE_TCB_INFO, TDX_OFF_TEE_TCB_INFO_HASH);
	if ((ret = sha384(r->raw + TDX_OFF_TDINFO, TDX_TDINFO_LEN, md)) != 0)
		return ret;
	if (memcmp(md, r->tee_info_hash, sizeof(md)) != 0)
		return tdc_err(TDC_ERR_BINDING,
			       "tdreport: SHA-384(TDINFO at offset %d) != TEE_INFO_HASH at offset %d",
			       TDX_OFF_TDINFO, TDX_OFF_TEE_INFO_HASH);
	return 0;
}
