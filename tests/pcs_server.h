/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A loopback stand-in for Intel's Provisioning Certification Service (or a
 * PCCS), for tests and benchmarks: libmicrohttpd on 127.0.0.1 and a free
 * port, the PCS v4 paths, the real response headers (URL-encoded issuer
 * chains, Request-ID, Error-Code), optionally HTTPS with a certificate
 * from a test CA it makes itself.  It serves the collateral files of a
 * directory (classified by content, each chain matched to the documents
 * it verifies), counts requests, and injects faults per document.
 *
 * The header names and paths are written out here literally (not taken
 * from verifier/quote/pcs.c), so a typo there fails the tests.
 */
#ifndef TDC_PCS_SERVER_H
#define TDC_PCS_SERVER_H

#include <stdbool.h>
#include <stddef.h>

enum tdc_srv_doc { SRV_TCB, SRV_QE, SRV_PCKCRL, SRV_ROOTCRL, SRV__COUNT };

enum tdc_srv_fault {
	SRV_OK,
	SRV_STATUS_500,
	SRV_NOT_FOUND,
	SRV_TRUNCATED,        /* Content-Length of the whole body, half of it sent */
	SRV_SLOW,             /* answers after slow_ms */
	SRV_HUGE,             /* a 2 MiB body, Content-Length announced */
	SRV_HUGE_CHUNKED,     /* a 2 MiB body, chunked (no length up front) */
	SRV_WRONG_CHAIN,      /* another document's issuer chain */
	SRV_NO_CHAIN,         /* no issuer-chain header */
	SRV_BAD_ENCODING,     /* issuer chain not URL-encoded */
	SRV_DOWN,             /* the connection is closed without an answer */
	SRV__FAULTS,
};

struct tdc_pcs_server_opts {
	const char *dir;        /* collateral files to serve */
	bool tls;               /* HTTPS; the test CA goes to ca_out */
	const char *ca_out;     /* PEM file for the client's --collateral-ca */
	unsigned slow_ms;       /* SRV_SLOW delay (default 3000) */
	bool control;           /* /_test/stats and /_test/fault (standalone binary) */
};

struct tdc_pcs_server;

int tdc_pcs_server_start(const struct tdc_pcs_server_opts *o, struct tdc_pcs_server **out);
void tdc_pcs_server_stop(struct tdc_pcs_server *s);
/* "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT" */
const char *tdc_pcs_server_url(const struct tdc_pcs_server *s);
unsigned long tdc_pcs_server_requests(struct tdc_pcs_server *s, enum tdc_srv_doc d);
unsigned long tdc_pcs_server_total(struct tdc_pcs_server *s);
/* Requests that asked for update=early. */
unsigned long tdc_pcs_server_early(struct tdc_pcs_server *s);
void tdc_pcs_server_fault(struct tdc_pcs_server *s, enum tdc_srv_doc d, enum tdc_srv_fault f);
/* Replace the served files with those of @dir (a newer collateral). */
int tdc_pcs_server_reload(struct tdc_pcs_server *s, const char *dir);
int tdc_srv_doc_parse(const char *s, enum tdc_srv_doc *d);
int tdc_srv_fault_parse(const char *s, enum tdc_srv_fault *f);

#endif
