/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence: the CBOR envelope and claims the agent sends and the verifier
 * checks.  Wire format: docs/evidence.cddl.  Design: docs/evidence.md,
 * docs/architecture.md.
 *
 *   envelope = { claims: bstr .cbor Claims, ? tdreport: bstr, ? quote: bstr,
 *                ? eventlog: bstr }
 *   binding reportdata (default):
 *     REPORTDATA = SHA-512("tdcpuid-claims-v1" || 0x00 || claims-bytes)
 *   binding rtmr3 (claims say so):
 *     RTMR3 extended with an AAEL event "urn:tdcpuid cpuid-claims sha384:<hex>",
 *     hex = SHA-384("tdcpuid-claims-v1" || 0x00 || claims-bytes); REPORTDATA
 *     is the caller's (a pipeline's nonce hash)
 *
 * The hardware report binds the exact claim bytes sent, so the verifier
 * hashes what it received and never re-encodes.
 */
#ifndef TDCPUID_EVIDENCE_H
#define TDCPUID_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"

#define TDC_EVIDENCE_MAX (1u << 20)      /* whole envelope */
#define TDC_CLAIMS_MAX_CPUS 8192
#define TDC_CLAIMS_MAX_SKIPPED 8192
#define TDC_CLAIMS_NONCE_MAX 64
#define TDC_CLAIMS_STR_MAX 256
#define TDC_CLAIMS_VERSION_MAJOR 1
#define TDC_CLAIMS_VERSION_MINOR 2  /* 1.1: optional td_controls, binding; 1.2: cpu_set */
#define TDC_REPORTDATA_TAG "tdcpuid-claims-v1"
#define TDC_REPORTDATA_LEN 64
#define TDC_CLAIMS_DIGEST384_LEN 48
/* The AAEL entry that records the claims in RTMR3 (docs/evidence.md). */
#define TDC_AAEL_DOMAIN "urn:tdcpuid"
#define TDC_AAEL_OP_CLAIMS "cpuid-claims"
#define TDC_AAEL_CONTENT_PREFIX "sha384:"

/* How the claims are bound to the TEE report (claims key 12). */
enum tdc_binding { TDC_BIND_REPORTDATA = 0, TDC_BIND_RTMR3 = 1 };
const char *tdc_binding_name(enum tdc_binding b);  /* "reportdata", "rtmr3" */
int tdc_binding_parse(const char *s, enum tdc_binding *b);

/*
 * Where the agent learned which CPUs exist (claims 1.2): sysfs (the default,
 * written by omission), /proc/cpuinfo, sysconf(_SC_NPROCESSORS_CONF), or
 * only its own affinity mask, which may be a subset: the set is then not
 * known to be complete.
 */
enum tdc_cpu_set {
	TDC_CPUSET_SYSFS = 0, TDC_CPUSET_CPUINFO = 1, TDC_CPUSET_SYSCONF = 2, TDC_CPUSET_AFFINITY = 3,
};
const char *tdc_cpu_set_name(enum tdc_cpu_set s); /* "sysfs", "cpuinfo", "sysconf", "affinity" */

enum tdc_tee { TDC_TEE_NONE = 0, TDC_TEE_TDX = 1, TDC_TEE_SIM = 2 };
const char *tdc_tee_name(enum tdc_tee t);  /* "none", "tdx", "sim" */
int tdc_tee_parse(const char *s, enum tdc_tee *t);

struct tdc_cpu_claim {
	uint32_t cpu;                   /* Linux CPU number */
	struct tdc_cpuid_table delta;   /* entries that differ from the common table */
	bool has_xcr0;
	uint64_t xcr0;
};

struct tdc_skipped_cpu {
	uint32_t cpu;
	char reason[TDC_CLAIMS_STR_MAX]; /* "offline", "not in affinity mask", ... */
};

/*
 * TDCS.TD_CTLS bits (Intel TDX Module ABI, TDCS fields; Linux
 * arch/x86/include/asm/shared/tdx.h TD_CTLS_*): guest-set controls that
 * change which CPUID leaves the TDX module virtualizes.
 */
#define TDC_TD_CTLS_PENDING_VE_DISABLE (1ull << 0)
#define TDC_TD_CTLS_ENUM_TOPOLOGY (1ull << 1)
#define TDC_TD_CTLS_VIRT_CPUID2 (1ull << 2)
#define TDC_TD_CTLS_REDUCE_VE (1ull << 3)
#define TDC_TD_CTLS_LOCK (1ull << 63)

/*
 * What the agent learned inside the TD about TD_CTLS, and how (claims key
 * 11, optional; absent = nothing known).  @known: the TD_CTLS bits whose
 * value the agent knows; @value: those bits (0 outside @known); @method:
 * how it knows ("cpuid": inferred from values only the TDX module
 * produces, docs/evidence.md; "operator": stated on the agent's command
 * line, not observed).
 */
struct tdc_td_controls {
	bool present;
	uint64_t known;
	uint64_t value;
	char method[TDC_CLAIMS_STR_MAX];
};

/*
 * TD_CTLS as a TD's CPUID table shows them (lib/td_controls.c): leaf 2 =
 * 0x00feff01 (VIRT_CPUID2), leaf 6 with ARAT (REDUCE_VE), a non-zero 0xB.0
 * (ENUM_TOPOLOGY) against the #VE handler's zeros.  Sets method "cpuid"
 * when anything is known; meaningful only for a TD's own CPUID.
 */
void tdc_td_controls_infer(const struct tdc_cpuid_table *t, struct tdc_td_controls *out);

struct tdc_claims {
	uint32_t version_major;
	uint32_t version_minor;
	uint8_t nonce[TDC_CLAIMS_NONCE_MAX];
	size_t nonce_len;
	enum tdc_tee tee;
	struct tdc_cpuid_table common;  /* canonical order */
	struct tdc_cpu_claim *cpus;     /* probed CPUs, ascending */
	size_t ncpus;
	struct tdc_skipped_cpu *skipped;
	size_t nskipped;
	bool has_xcr0;                  /* XCR0 of the CPU the common table came from */
	uint64_t xcr0;
	char kernel_release[TDC_CLAIMS_STR_MAX];
	char agent_version[TDC_CLAIMS_STR_MAX];
	char vm_name[TDC_CLAIMS_STR_MAX]; /* optional, "" if absent (service registry) */
	uint64_t cpuid_count;           /* CPUID instructions the probe executed */
	struct tdc_td_controls td_controls; /* optional (claims 1.1) */
	enum tdc_binding binding;       /* optional (1.1); absent = reportdata */
	enum tdc_cpu_set cpu_set;       /* optional (1.2); absent = sysfs */
};

void tdc_claims_init(struct tdc_claims *c);
void tdc_claims_free(struct tdc_claims *c);
/*
 * Deterministic: same claims → same bytes (canonical CBOR, sorted tables).
 * Appends to @out; on error @out is left as it was.
 */
int tdc_claims_encode(const struct tdc_claims *c, struct tdc_buf *out);
/*
 * Strict decoder for untrusted bytes; every error names the field.  @c is
 * initialised by the call (it must not hold allocations); on error it is
 * left empty, so tdc_claims_free() is always safe afterwards.
 */
int tdc_claims_decode(const uint8_t *data, size_t len, struct tdc_claims *c);
/*
 * The CPUID table CPU @cpu saw: common with that CPU's delta applied.
 * TDC_ERR_NOT_FOUND if @cpu was not probed.  @out is initialised by the
 * call, sorted, and owned by the caller (tdc_cpuid_table_free).
 */
int tdc_claims_cpu_table(const struct tdc_claims *c, uint32_t cpu,
			 struct tdc_cpuid_table *out);

struct tdc_envelope {
	struct tdc_buf claims;   /* raw claim bytes, exactly as bound */
	struct tdc_buf tdreport; /* len 0 if absent */
	struct tdc_buf quote;    /* len 0 if absent */
	struct tdc_buf eventlog; /* TCG2 event log (CCEL + runtime records), len 0 if absent */
};

void tdc_envelope_init(struct tdc_envelope *e);
void tdc_envelope_free(struct tdc_envelope *e);
/* Appends to @out.  Decode initialises @e (left empty on error). */
int tdc_envelope_encode(const struct tdc_envelope *e, struct tdc_buf *out);
int tdc_envelope_decode(const uint8_t *data, size_t len, struct tdc_envelope *e);

/*
 * Evidence in the shapes pipelines already produce, as one envelope
 * (lib/evidence_import.c, docs/evidence.md "Evidence from pipelines"):
 *   envelope  tdcpuid's own CBOR envelope (no extra parts allowed)
 *   quote     a raw TD quote v4/v5, plus the claims and event log(s)
 *   trustee   Trustee's TDX evidence JSON {"cc_eventlog": b64|null, "quote": b64}
 *             (guest-components attester/src/tdx), plus the claims
 * Extra event logs are appended in order (their Spec ID headers dropped),
 * after the evidence's own.  Every input is untrusted and capped.
 */
#define TDC_IMPORT_MAX (4u << 20)        /* Trustee JSON: base64 of a 1 MiB envelope */
#define TDC_IMPORT_MAX_LOGS 8
enum tdc_evidence_kind { TDC_EVK_ENVELOPE, TDC_EVK_QUOTE, TDC_EVK_TRUSTEE };
const char *tdc_evidence_kind_name(enum tdc_evidence_kind k);
struct tdc_evidence_parts {
	const uint8_t *claims;           /* NULL: none given */
	size_t claims_len;
	const uint8_t *eventlog[TDC_IMPORT_MAX_LOGS];
	size_t eventlog_len[TDC_IMPORT_MAX_LOGS];
	size_t neventlogs;
};
/* Detect, decode and assemble into @envelope (appended); @kind may be NULL. */
int tdc_evidence_import(const uint8_t *data, size_t len, const struct tdc_evidence_parts *parts,
			struct tdc_buf *envelope, enum tdc_evidence_kind *kind);

/* REPORTDATA = SHA-512(TDC_REPORTDATA_TAG || 0x00 || claims). */
int tdc_reportdata_compute(const uint8_t *claims, size_t len,
			   uint8_t out[TDC_REPORTDATA_LEN]);
/* The rtmr3 binding's claims digest: SHA-384(TDC_REPORTDATA_TAG || 0x00 || claims). */
int tdc_claims_digest384(const uint8_t *claims, size_t len,
			 uint8_t out[TDC_CLAIMS_DIGEST384_LEN]);
/* The AAEL content naming those claims: "sha384:<96 hex digits>" (NUL-terminated). */
#define TDC_AAEL_CONTENT_LEN (sizeof(TDC_AAEL_CONTENT_PREFIX) - 1 + 2 * TDC_CLAIMS_DIGEST384_LEN)
int tdc_claims_aael_content(const uint8_t *claims, size_t len,
			    char out[TDC_AAEL_CONTENT_LEN + 1]);

#endif
