/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel's Provisioning Certification Service API v4, and the PCCS that
 * mirrors it, as data: the four documents a TDX quote appraisal needs,
 * their request paths, the response headers that carry their issuer
 * chains, and the parsers for those headers.
 *
 * Source: Intel, "Intel SGX and Intel TDX services - V4 API Documentation"
 * (api.portal.trustedservices.intel.com/content/documentation.html):
 *   GET /tdx/certification/v4/tcb?fmspc=HEX[&update=early|standard]
 *       body: TCB Info JSON; header TCB-Info-Issuer-Chain
 *   GET /tdx/certification/v4/qe/identity[?update=early|standard]
 *       body: QE Identity JSON; header SGX-Enclave-Identity-Issuer-Chain
 *   GET /sgx/certification/v4/pckcrl?ca=processor|platform&encoding=der
 *       body: DER CRL; header SGX-PCK-CRL-Issuer-Chain
 * Each issuer chain is a PEM certificate chain, URL-encoded (RFC 3986
 * percent-encoding; '+' is a base64 character there, never a space).
 * The root CA CRL has no chain (the root signs it): Intel publishes it at
 * https://certificates.trustedservices.intel.com/IntelSGXRootCA.der (the
 * CRL distribution point of the PCK CA certificates), a PCCS serves it at
 * /sgx/certification/v4/rootcacrl.  Error responses carry Error-Code and
 * Error-Message headers; Request-ID identifies a response to Intel support.
 */
#ifndef TDC_PCS_H
#define TDC_PCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "tdcpuid/buf.h"

enum tdc_pcs_doc { TDC_PCS_TCB, TDC_PCS_QEID, TDC_PCS_PCKCRL, TDC_PCS_ROOTCRL, TDC_PCS__COUNT };
enum tdc_pcs_ca { TDC_PCS_CA_PROCESSOR, TDC_PCS_CA_PLATFORM, TDC_PCS_CA__COUNT };
/* TCB evaluation data Intel publishes early (at a TCB recovery's embargo
 * end) or after the standard grace period ("update" query parameter). */
enum tdc_tcb_update { TDC_TCB_UPDATE_STANDARD, TDC_TCB_UPDATE_EARLY };

#define TDC_PCS_URL_MAX 512
/* One response header line; an issuer chain is ~4 KB URL-encoded. */
#define TDC_PCS_HEADER_MAX (32u * 1024)
/* A response's header lines, all of them together. */
#define TDC_PCS_HEADERS_MAX (64u * 1024)
/* The decoded PEM issuer chain, and how many certificates it may hold. */
#define TDC_PCS_CHAIN_MAX (16u * 1024)
#define TDC_PCS_CHAIN_CERTS_MAX 4

struct tdc_pcs_doc_desc {
	enum tdc_pcs_doc doc;
	const char *name;          /* slot name stem: "tcb", "qe-identity", ... */
	const char *what;          /* "TCB info" */
	const char *path;          /* below the service's base URL */
	const char *chain_header;  /* NULL: no issuer chain (root CA CRL) */
	const char *chain_header_alt; /* also accepted (API v3 name), or NULL */
	bool has_update;           /* takes update=early|standard */
	bool is_crl;
};

const struct tdc_pcs_doc_desc *tdc_pcs_doc_desc(enum tdc_pcs_doc d);
const char *tdc_pcs_ca_name(enum tdc_pcs_ca ca);
const char *tdc_tcb_update_name(enum tdc_tcb_update u);
int tdc_tcb_update_parse(const char *s, enum tdc_tcb_update *out);

/*
 * A service base URL ("https://api.trustedservices.intel.com",
 * "https://pccs:8081") from what a user typed: scheme http or https, no
 * query, trailing slashes and a trailing "/sgx|tdx/certification/v4"
 * removed.  @host gets the host[:port] part (for cache directory names).
 */
int tdc_pcs_base_parse(const char *url, char base[TDC_PCS_URL_MAX], char host[256]);
/* The URL of one document.  @fmspc is needed for TDC_PCS_TCB, @ca for
 * TDC_PCS_PCKCRL. */
int tdc_pcs_url(const char *base, enum tdc_pcs_doc d, const uint8_t fmspc[6],
		enum tdc_pcs_ca ca, enum tdc_tcb_update u, char out[TDC_PCS_URL_MAX]);

/* What a response's headers say (only the headers tdcpuid uses). */
struct tdc_pcs_headers {
	const struct tdc_pcs_doc_desc *desc;
	long status;               /* from the last status line */
	struct tdc_buf chain;      /* URL-decoded issuer chain (PEM) */
	bool has_chain;
	size_t total;              /* bytes of header lines seen */
	char request_id[64];
	char error_code[64];
	char error_message[192];
};

void tdc_pcs_headers_init(struct tdc_pcs_headers *h, const struct tdc_pcs_doc_desc *d);
void tdc_pcs_headers_free(struct tdc_pcs_headers *h);
/*
 * One header line as received ("Name: value\r\n" or a status line
 * "HTTP/1.1 200 OK\r\n"; a status line starts a new response, as after a
 * redirect, and forgets the previous one's headers).  Untrusted bytes:
 * size caps, strict URL-decoding, a repeated issuer-chain header is an
 * error.
 */
int tdc_pcs_header_line(struct tdc_pcs_headers *h, const uint8_t *line, size_t len);

/*
 * RFC 3986 percent-decoding of @len bytes into @out (appended), at most
 * @cap output bytes: "%XX" with two hex digits becomes one byte, any other
 * byte must be printable ASCII and stays itself ('+' included).  The
 * decoded text must be printable ASCII, TAB, CR or LF (PEM).
 */
int tdc_pcs_url_decode(const uint8_t *in, size_t len, size_t cap, struct tdc_buf *out);

/*
 * A PEM issuer chain: 1..TDC_PCS_CHAIN_CERTS_MAX "CERTIFICATE" blocks with
 * only whitespace around them, each a valid X.509 certificate.
 */
int tdc_pcs_chain_parse(const uint8_t *pem, size_t len, STACK_OF(X509) **out);

/* "Intel SGX PCK Processor CA" -> processor, "... Platform CA" -> platform
 * (the subject CN of the PCK chain's intermediate). */
int tdc_pcs_ca_of(X509 *pck_issuer, enum tdc_pcs_ca *out);

#endif
