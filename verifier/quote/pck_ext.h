/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel SGX PCK certificate extensions (OID 1.2.840.113741.1.13.1), as
 * defined in Intel's "SGX PCK Certificate and Certificate Revocation List
 * Profile Specification": a SEQUENCE of {OID, value} pairs carrying the
 * platform's PPID, TCB (16 CPUSVN components, PCESVN, CPUSVN), PCE ID,
 * FMSPC, SGX type and, for multi-package platforms, the platform instance
 * ID and configuration flags.  Decoded by a bounds-checked DER walk over
 * the extension's bytes (pck_ext.c).
 */
#ifndef TDC_PCK_EXT_H
#define TDC_PCK_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define TDC_SGX_EXT_OID "1.2.840.113741.1.13.1"
/* The extension is a few hundred bytes; anything near this is not Intel's. */
#define TDC_PCK_EXT_MAX 4096

struct tdc_pck_ext {
	uint8_t ppid[16];
	uint8_t cpusvn_comp[16];    /* TCB components 1..16 */
	uint8_t cpusvn[16];
	uint16_t pcesvn;
	uint8_t pceid[2];
	uint8_t fmspc[6];
	int sgx_type;               /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
	bool has_platform_instance_id;
	uint8_t platform_instance_id[16];
	bool has_config;
	bool dynamic_platform, cached_keys, smt_enabled;
};

/*
 * Decode the DER extension value (the contents of the extension's OCTET
 * STRING).  Required: PPID, TCB (all 16 components, PCESVN, CPUSVN), PCE ID,
 * FMSPC, SGX type; duplicates and wrong types are errors.
 */
int tdc_pck_ext_parse(const uint8_t *der, size_t len, struct tdc_pck_ext *out);
/* Find the SGX extension in @cert and decode it. */
int tdc_pck_ext_from_cert(X509 *cert, struct tdc_pck_ext *out);

const char *tdc_sgx_type_name(int type);

#endif
