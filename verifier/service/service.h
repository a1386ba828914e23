/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tdcpuid-verifier serve`: the attestation service (docs/protocol.md).
 *
 *   main thread   poll() event loop: accept, hello (nonce), read the
 *                 evidence frame, nonce + registry checks, write replies,
 *                 per-connection deadlines, signals (self-pipe)
 *   workers (N)   verification through struct tdc_verifier_ops; a worker
 *                 commits its verdict's audit row itself when no commit runs
 *                 and none is queued (low load: no hand-off)
 *   auditors      group commit of the rows queued meanwhile (one thread for
 *                 SQLite, one per pooled connection for PostgreSQL); a reply
 *                 is queued for writing only after its record is committed;
 *                 while the database is down new connections are refused
 *
 * The registry (one JSON file per VM) is immutable once built; SIGHUP
 * builds a new one and swaps the pointer, in-flight jobs keep a reference
 * to the one they started with.
 */
#ifndef TDC_SERVICE_H
#define TDC_SERVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/types.h>

#include "audit.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/transport.h"

#define TDC_REGISTRY_FILE_MAX (64u * 1024)
#define TDC_REGISTRY_MAX_VMS 4096
#define TDC_REGISTRY_PATH_MAX 1024
#define TDC_SERVE_MAX_LISTEN 8

/* One VM of the registry (docs/protocol.md "Registry"). */
struct tdc_vm_entry {
	char name[TDC_FRAME_STR_MAX];
	bool has_cid;
	uint32_t cid;                 /* vsock peer CID mapped to this VM */
	char requested[TDC_REGISTRY_PATH_MAX];  /* resolved against the registry dir */
	char requested_format[16];
	char model[TDC_REGISTRY_PATH_MAX];      /* model name or path */
	char policy[TDC_REGISTRY_PATH_MAX];     /* "" = built-in default */
	char platform[TDC_REGISTRY_PATH_MAX];   /* optional `cpuid -r` of the host */
	char trust_root[TDC_REGISTRY_PATH_MAX]; /* optional PEM */
	char collateral[TDC_REGISTRY_PATH_MAX]; /* optional Intel collateral: dir or PCS/PCCS URL */
	char collateral_ca[TDC_REGISTRY_PATH_MAX]; /* optional CA PEM for https to a PCCS */
	char tcb_update[16];                    /* "standard" (default) or "early" */
	char sim_dir[TDC_REGISTRY_PATH_MAX];    /* optional: sim keys (tests only) */
	bool has_mrconfigid;
	uint8_t mrconfigid[48];
	char format[16];              /* verdict document: "json" or "ear" */
	void *prepared;               /* owned by the verifier ops (parsed config) */
};

struct tdc_verify_out {
	bool passed;
	char format[16];
	struct tdc_buf doc;                   /* verdict document */
	char failing[TDC_AUDIT_FAILING_MAX];  /* short list for the audit log */
	char detail[TDC_AUDIT_STR_MAX];
	char claims_vm[TDC_FRAME_STR_MAX];    /* VM name inside the bound claims ("" if none) */
	/* In: the VM the claims must name (NULL: not checked), judged inside the
	 * verdict so the document says what the frame and the log say;
	 * @expect_vm_optional: claims without a name are accepted. */
	const char *expect_vm;
	bool expect_vm_optional;
};

/*
 * How evidence is checked; the service knows nothing else about it.
 * verify returns 0 when a verdict was reached (pass or fail), negative when
 * the evidence could not be evaluated (it is then logged as "error").
 */
struct tdc_verifier_ops {
	const char *name;
	int (*prepare)(void *ctx, struct tdc_vm_entry *vm);   /* at registry load */
	void (*release)(void *ctx, struct tdc_vm_entry *vm);
	/* @nonce_issued: wall-clock time the nonce was issued (0: unknown), for
	 * the policy's nonce_max_age. */
	int (*verify)(void *ctx, const struct tdc_vm_entry *vm, const uint8_t *ev, size_t len,
		      const uint8_t *nonce, size_t nonce_len, time_t nonce_issued,
		      struct tdc_verify_out *out);
};

/* What tdc_verifier_engine's ops_ctx may point at (NULL: defaults). */
struct tdc_engine_ctx {
	const char *collateral_cache;  /* cache root of URL collateral sources */
};

/* Decodes, checks binding, nonce, VM name and MRCONFIGID; verifier/service/service_basic.c. */
extern const struct tdc_verifier_ops tdc_verifier_basic;
/* The full engine (verifier/engine/verify.c); verifier/service/service_engine.c. */
extern const struct tdc_verifier_ops tdc_verifier_engine;

struct tdc_registry {
	atomic_int refs;
	struct tdc_vm_entry *vms;
	size_t n;
	const struct tdc_verifier_ops *ops;
	void *ops_ctx;
	uint64_t generation;
};

int tdc_registry_load(const char *dir, const struct tdc_verifier_ops *ops, void *ctx,
		      struct tdc_registry **out);
void tdc_registry_get(struct tdc_registry *r);
void tdc_registry_put(struct tdc_registry *r);
const struct tdc_vm_entry *tdc_registry_by_name(const struct tdc_registry *r, const char *name);
const struct tdc_vm_entry *tdc_registry_by_cid(const struct tdc_registry *r, uint32_t cid);
/*
 * A VM name as the service accepts it anywhere (registry, frames): 1 to
 * TDC_VM_NAME_MAX characters of [A-Za-z0-9._:@/+-], starting with a letter
 * or digit.  Names are printed in logs and compared byte for byte, so no
 * controls, no escapes, no look-alike Unicode.
 */
#define TDC_VM_NAME_MAX 128
bool tdc_vm_name_valid(const char *name);
/* Parse one entry file (exposed for tests). */
int tdc_registry_parse_entry(const uint8_t *data, size_t len, const char *what,
			     const char *dir, struct tdc_vm_entry *vm);

/* An http:// or https:// listener: the REST API (rest.h, docs/rest.md). */
struct tdc_serve_http {
	struct tdc_addr addr;        /* tcp */
	bool tls;
};

/* "http://HOST:PORT" or "https://HOST:PORT" (HOST a name, IPv4 or [IPv6]). */
int tdc_serve_http_parse(const char *s, struct tdc_serve_http *out);

struct tdc_serve_config {
	struct tdc_addr listen[TDC_SERVE_MAX_LISTEN];
	size_t nlisten;
	struct tdc_serve_http http[TDC_SERVE_MAX_LISTEN];
	size_t nhttp;
	const char *tls_cert, *tls_key; /* PEM files for https:// */
	unsigned rest_sessions;      /* REST sessions open at once */
	unsigned peer_sessions;      /* ... held by one peer */
	const char *registry_dir;
	const char *db_path;         /* SQLite file or PostgreSQL connection string */
	unsigned db_timeout_ms;      /* bound on each audit database round trip (0: 5000) */
	unsigned workers;
	unsigned max_conns;
	unsigned timeout_s;          /* per connection, from accept */
	unsigned handshake_s;        /* from accept until the evidence frame has begun */
	unsigned nonce_ttl_s;
	unsigned peer_conns;         /* per-peer limits (peers.h) */
	unsigned peer_rate;          /* new connections per second per peer */
	unsigned peer_burst;         /* 0: 2 * peer_rate */
	unsigned reject_interval_s;  /* refusals: one audit row per peer per interval */
	EVP_PKEY *sign_key;          /* sign each verdict (ES256), NULL: unsigned */
	bool stateless;
	uint8_t nonce_key[32];
	const char *ready_file;      /* written with the bound addresses once listening */
	const struct tdc_verifier_ops *ops;
	void *ops_ctx;
	bool quiet;
};

void tdc_serve_config_init(struct tdc_serve_config *c);
/* Runs until SIGTERM/SIGINT (drains, returns 0) or a fatal error. */
int tdc_serve_run(const struct tdc_serve_config *c);

/* Common helpers for the ops: claims VM name, REPORTDATA binding. */
int tdc_service_sha256(const uint8_t *p, size_t n, uint8_t out[32]);

#endif
