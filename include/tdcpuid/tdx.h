/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel TDX guest ABI: TDREPORT_STRUCT and DCAP TD Quote v4/v5, parsed from
 * untrusted bytes (lib/tdreport.c, lib/quote.c).
 *
 * Layouts: TDREPORT_STRUCT from the Intel TDX Module ABI specification
 * (TDG.MR.REPORT) and intel/linux-sgx sgx_report2.h; the Quote from DCAP
 * sgx_quote_4.h/sgx_quote_5.h, offsets cross-checked with google/go-tdx-guest
 * abi/abi.go.  All integers are
 * little-endian except ECDSA values (big-endian r||s, x||y).
 *
 * Parsed structs *borrow* variable-length fields from the input buffer: keep
 * the bytes alive while the struct is used.
 */
#ifndef TDCPUID_TDX_H
#define TDCPUID_TDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- TDREPORT_STRUCT (tdx-abi.md §5) ---------------------------------- */

#define TDX_REPORT_LEN 1024
#define TDX_REPORTDATA_LEN 64
#define TDX_REPORT_TYPE_TDX 0x81
#define TDX_SHA384_LEN 48

/* Offsets inside TDREPORT_STRUCT. */
enum {
	TDX_OFF_REPORTMAC = 0,        /* 256 B REPORTMACSTRUCT */
	TDX_OFF_REPORT_TYPE = 0,
	TDX_OFF_CPUSVN = 16,
	TDX_OFF_TEE_TCB_INFO_HASH = 32,
	TDX_OFF_TEE_INFO_HASH = 80,
	TDX_OFF_REPORTDATA = 128,
	TDX_OFF_MAC = 224,
	TDX_OFF_TEE_TCB_INFO = 256,   /* 239 B */
	TDX_TEE_TCB_INFO_LEN = 239,
	TDX_OFF_TCB_VALID = 256,
	TDX_OFF_TEE_TCB_SVN = 264,
	TDX_OFF_MRSEAM = 280,
	TDX_OFF_MRSIGNERSEAM = 328,
	TDX_OFF_SEAM_ATTRIBUTES = 376,
	TDX_OFF_TEE_TCB_SVN2 = 384,   /* TDX 1.5 */
	TDX_OFF_TDINFO = 512,         /* 512 B */
	TDX_TDINFO_LEN = 512,
	TDX_OFF_ATTRIBUTES = 512,
	TDX_OFF_XFAM = 520,
	TDX_OFF_MRTD = 528,
	TDX_OFF_MRCONFIGID = 576,
	TDX_OFF_MROWNER = 624,
	TDX_OFF_MROWNERCONFIG = 672,
	TDX_OFF_RTMR0 = 720,
	TDX_OFF_SERVTD_HASH = 912,    /* TDX 1.5 */
};

struct tdx_tee_tcb_info {
	uint64_t valid;
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint64_t attributes;
	uint8_t tee_tcb_svn2[16];   /* TDX 1.5; zero on 1.0 */
};

struct tdx_tdinfo {
	uint64_t attributes;        /* TD ATTRIBUTES (tdx-abi.md §8) */
	uint64_t xfam;
	uint8_t mr_td[48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t servtd_hash[48];    /* TDX 1.5; zero on 1.0 */
};

struct tdx_report {
	uint8_t report_type;        /* 0x81 for TDX */
	uint8_t report_subtype;
	uint8_t report_version;
	uint8_t cpu_svn[16];
	uint8_t tee_tcb_info_hash[48];
	uint8_t tee_info_hash[48];
	uint8_t report_data[64];
	uint8_t mac[32];
	struct tdx_tee_tcb_info tcb;
	struct tdx_tdinfo td;
	uint32_t warnings;          /* TDX_REPORT_WARN_* : non-fatal oddities */
	const uint8_t *raw;         /* the 1024 input bytes (borrowed) */
};

/*
 * Oddities the parser flags but does not reject: tdx-abi.md §5 calls these
 * fields "reserved" without saying they must be zero, and later module
 * versions have turned reserved bytes into fields (TDX 1.5 SERVTD_HASH).
 */
enum {
	TDX_REPORT_WARN_SUBTYPE = 1u << 0,       /* report_type.subtype != 0 */
	TDX_REPORT_WARN_MAC_RESERVED = 1u << 1,  /* bytes 3..16 or 192..224 */
	TDX_REPORT_WARN_TCB_RESERVED = 1u << 2,  /* bytes 400..512 */
	TDX_REPORT_WARN_TD_RESERVED = 1u << 3,   /* bytes 960..1024 */
	TDX_REPORT_WARN_SEAM_ATTR = 1u << 4,     /* SEAM attributes (MBZ in TDX 1.0) */
};
/* "subtype|tcb-reserved" (or "none"); returns @buf. */
const char *tdx_report_warnings_str(uint32_t warnings, char *buf, size_t len);

/*
 * Parse exactly TDX_REPORT_LEN bytes.  Rejects any other length and a report
 * type other than 0x81; set reserved bytes are flagged in ->warnings, not
 * rejected (tdx-abi.md §5 does not call them must-be-zero).
 */
int tdx_report_parse(const uint8_t *data, size_t len, struct tdx_report *out);
/*
 * SHA-384(TEE_TCB_INFO) == TEE_TCB_INFO_HASH and SHA-384(TDINFO) ==
 * TEE_INFO_HASH: the two internal links of a genuine report.  The MAC itself
 * can only be checked by the CPU that made it (or the simulator's key).
 */
int tdx_report_check_hashes(const struct tdx_report *r);

/* ---- TD ATTRIBUTES and XFAM names (tdx-abi.md §8, §4.4) ---------------- */

struct tdx_bitname {
	uint8_t bit;
	const char *name;
	const char *what;
};
/* Table of named ATTRIBUTES / XFAM bits (data, lib/tdx_names.c). */
const struct tdx_bitname *tdx_attribute_names(size_t *n);
const struct tdx_bitname *tdx_xfam_names(size_t *n);
/* "DEBUG|SEPT_VE_DISABLE|bit62"; returns @buf. */
const char *tdx_attributes_str(uint64_t attrs, char *buf, size_t len);
const char *tdx_xfam_str(uint64_t xfam, char *buf, size_t len);

#define TDX_ATTR_DEBUG (1ull << 0)
#define TDX_ATTR_SEPT_VE_DISABLE (1ull << 28)
#define TDX_ATTR_PKS (1ull << 30)
#define TDX_ATTR_KL (1ull << 31)
#define TDX_ATTR_PERFMON (1ull << 63)

/* ---- DCAP TD Quote v4 / v5 (tdx-abi.md §6) ---------------------------- */

#define TDX_QUOTE_MAX (64u * 1024)
#define TDX_QUOTE_HEADER_LEN 48
#define TDX_TD_BODY10_LEN 584
#define TDX_TD_BODY15_LEN 648
#define TDX_QE_REPORT_LEN 384
#define TDX_ATT_KEY_ECDSA_P256 2
#define TDX_TEE_TYPE_TDX 0x81
#define TDX_CERT_TYPE_PCK_CHAIN 5
#define TDX_CERT_TYPE_QE_REPORT 6

struct tdx_quote_header {
	uint16_t version;           /* 4 or 5 */
	uint16_t att_key_type;      /* 2 = ECDSA-256-with-P-256 */
	uint32_t tee_type;          /* 0x81 = TDX */
	uint16_t qe_svn;            /* bytes 8..10 (go-tdx-guest "PceSvn") */
	uint16_t pce_svn;           /* bytes 10..12 */
	uint8_t qe_vendor_id[16];
	uint8_t user_data[20];
};

/* TD quote body 1.0 (584 B) and 1.5 (648 B). */
struct tdx_td_body {
	uint16_t body_type;         /* v5: 2 = TD 1.0, 3 = TD 1.5; v4: 2 */
	uint8_t tee_tcb_svn[16];
	uint8_t mr_seam[48];
	uint8_t mr_signer_seam[48];
	uint64_t seam_attributes;
	uint64_t td_attributes;
	uint64_t xfam;
	uint8_t mr_td[48];
	uint8_t mr_config_id[48];
	uint8_t mr_owner[48];
	uint8_t mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	bool is_1_5;
	uint8_t tee_tcb_svn2[16];   /* 1.5 only */
	uint8_t mr_servicetd[48];   /* 1.5 only */
};

/* SGX report body of the QE (384 B). */
struct tdx_qe_report {
	uint8_t cpu_svn[16];
	uint32_t misc_select;
	uint8_t attributes[16];
	uint8_t mr_enclave[32];
	uint8_t mr_signer[32];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint8_t report_data[64];
	const uint8_t *raw;         /* 384 bytes (borrowed): the signed region */
};

struct tdx_quote {
	struct tdx_quote_header header;
	struct tdx_td_body body;
	/* Region covered by the attestation-key signature: header || body
	 * (v5: header || type || size || body). */
	const uint8_t *signed_data;
	size_t signed_len;
	uint8_t signature[64];      /* r||s big-endian */
	uint8_t attest_key[64];     /* x||y big-endian */
	struct tdx_qe_report qe_report;
	uint8_t qe_report_sig[64];  /* by the PCK leaf key */
	const uint8_t *qe_auth_data;
	size_t qe_auth_len;
	const char *pck_chain_pem;  /* not NUL-terminated: use pck_chain_len */
	size_t pck_chain_len;
	size_t trailing;            /* bytes after the signature data (real quotes have some) */
	size_t total_len;
};

/*
 * Parse a v4 or v5 TD quote.  Every length is checked against the bytes
 * that remain.  Trailing bytes after the signature data are accepted only
 * if @allow_trailing, and counted in quote->trailing (tdx-abi.md §6: real
 * quote buffers carry padding or text).
 */
int tdx_quote_parse(const uint8_t *data, size_t len, bool allow_trailing,
		    struct tdx_quote *out);

#endif
