/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCG2 crypto-agile event logs, as a TD's Confidential Computing Event Log
 * (CCEL) carries them, and the AAEL entries that attestation agents record
 * in them (lib/eventlog.c; docs/evidence.md "RTMR3 binding").
 *
 * Formats, from public specifications:
 *   - TCG PC Client Platform Firmware Profile Specification (PFP) v1.06:
 *     §10.2.1 TCG_PCR_EVENT (the first, SHA-1-format record), §10.2.2
 *     TCG_PCR_EVENT2 (every later record: PCRIndex, EventType,
 *     TPML_DIGEST_VALUES, EventSize, Event), §10.4.5.1 TCG_EfiSpecIDEvent
 *     ("Spec ID Event03": the digest sizes of every algorithm in the log),
 *     §10.4.2 event types (EV_NO_ACTION = 3 is never extended; EV_EVENT_TAG
 *     = 6 carries a TCG_PCClientTaggedEvent {taggedEventID,
 *     taggedEventDataSize, taggedEventData}).
 *   - UEFI 2.10 §38.4 (EFI_CC_MEASUREMENT_PROTOCOL): in a CC event log the
 *     PCRIndex field holds the CC measurement register index; for TDX
 *     0 = MRTD, 1..4 = RTMR0..RTMR3.
 *   - ACPI 6.5 §5.2.34 CCEL table: the log area (LAML bytes at LASA) that
 *     Linux exposes as /sys/firmware/acpi/tables/data/CCEL; firmware fills
 *     the unused tail with 0xFF.
 *   - Confidential Containers guest-components, attestation-agent
 *     docs/AAEL.md and src/eventlog/tcg2.rs: an AAEL entry
 *     "<domain> <operation> <content>" travels as an EV_EVENT_TAG event
 *     whose taggedEventID is 0x4141454c ("AAEL"), and the event's digest
 *     is the hash of the whole TCG_PCClientTaggedEvent.
 *
 * Replaying an RTMR: start from 48 zero bytes and, for every event on that
 * index in log order (EV_NO_ACTION excepted), RTMR = SHA-384(RTMR || digest),
 * which is what TDG.MR.RTMR.EXTEND does (Intel TDX Module ABI spec).
 *
 * Parsed events *borrow* their data from the input: keep it alive.
 */
#ifndef TDCPUID_EVENTLOG_H
#define TDCPUID_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_EVENTLOG_MAX (512u * 1024)   /* one log as the evidence carries it */
#define TDC_CCEL_AREA_MAX (16u * 1024 * 1024) /* a CCEL log area with its fill tail */
#define TDC_EVENTLOG_MAX_EVENTS 16384
#define TDC_EVENTLOG_MAX_DIGESTS 8       /* per event; PFP logs have 1..5 banks */
#define TDC_EVENTLOG_MAX_ALGS 8          /* in the Spec ID header */
#define TDC_EVENTLOG_SHA384_LEN 48

/* PFP §10.4.2 event types used here. */
#define TDC_EV_NO_ACTION 0x3u
#define TDC_EV_SEPARATOR 0x4u
#define TDC_EV_EVENT_TAG 0x6u
/* TCG Algorithm Registry: TPM_ALG_ID. */
#define TDC_TPM_ALG_SHA1 0x0004u
#define TDC_TPM_ALG_SHA256 0x000bu
#define TDC_TPM_ALG_SHA384 0x000cu
#define TDC_TPM_ALG_SHA512 0x000du
#define TDC_TPM_ALG_SM3_256 0x0012u

/* CC measurement register indices of a TDX CCEL (UEFI 2.10 §38.4.1). */
#define TDC_CCMR_MRTD 0u
#define TDC_CCMR_RTMR0 1u
#define TDC_CCMR_RTMR3 4u
#define TDC_CCMR_COUNT 5u

/* taggedEventID of an AAEL entry (guest-components tcg2.rs). */
#define TDC_AAEL_TAGGED_EVENT_ID 0x4141454cu
#define TDC_AAEL_TEXT_MAX 4096           /* domain + operation + content */

struct tdc_event {
	uint32_t mr_index;         /* PCRIndex field: the CC MR index in a CCEL */
	uint32_t type;             /* EventType */
	bool has_sha384;
	uint8_t sha384[TDC_EVENTLOG_SHA384_LEN];
	uint32_t ndigests;
	const uint8_t *data;       /* Event[EventSize] (borrowed) */
	uint32_t data_len;
	size_t offset;             /* of the record, in its log */
	unsigned log;              /* which parsed log it came from (0, 1, ...) */
};

struct tdc_eventlog {
	struct tdc_event *ev;
	size_t n, cap;
	unsigned nlogs;            /* logs parsed into this one */
	bool spec_header;          /* the first log began with a Spec ID event */
	size_t padding;            /* fill bytes after the last event (all logs) */
};

void tdc_eventlog_init(struct tdc_eventlog *l);
void tdc_eventlog_free(struct tdc_eventlog *l);

/*
 * Parse one log (at most TDC_EVENTLOG_MAX bytes) and append its events to
 * @l, so a platform CCEL and a runtime log can be replayed as one.  The log
 * may begin with the Spec ID event (a CCEL, or what tdc_eventlog_put_header
 * writes) or hold only TCG_PCR_EVENT2 records (an attestation agent's runtime
 * log); without a header, digest sizes come from the TPM_ALG_ID table.  A tail
 * of 0xFF (or 0x00) fill bytes ends the log; anything else after the last
 * record is an error.  Errors name @what and the offset; on error @l keeps
 * only what it had before.
 */
int tdc_eventlog_parse(const uint8_t *data, size_t len, const char *what,
		       struct tdc_eventlog *l);

/*
 * Replay CC MR @mr_index over the SHA-384 bank into @out.  @upto limits the
 * replay to the first @upto events of @l (SIZE_MAX: all).  TDC_ERR_FORMAT if
 * an event on that index has no SHA-384 digest (the replay would be a guess).
 */
int tdc_eventlog_replay(const struct tdc_eventlog *l, uint32_t mr_index, size_t upto,
			uint8_t out[TDC_EVENTLOG_SHA384_LEN]);

/* SHA-384(event data) == the event's SHA-384 digest. */
bool tdc_event_digest_matches(const struct tdc_event *e);

/*
 * The AAEL text of an EV_EVENT_TAG event with taggedEventID "AAEL":
 * TDC_ERR_NOT_FOUND if the event is something else, TDC_ERR_FORMAT if it is
 * tagged AAEL but malformed (size field, non-printable bytes, no fields).
 */
struct tdc_aael {
	const char *text;          /* not NUL-terminated (borrowed) */
	size_t len;
	size_t domain_len;         /* text[0 .. domain_len) */
	size_t op_off, op_len;     /* operation */
	size_t content_off;        /* content: text[content_off .. len) */
};
int tdc_event_aael(const struct tdc_event *e, struct tdc_aael *out);
/* true if the AAEL entry has exactly this domain and operation. */
bool tdc_aael_is(const struct tdc_aael *a, const char *domain, const char *op);

/* ---- writers -------------------------------------------------------- */

/*
 * The first record of a log that has no platform CCEL: TCG_PCR_EVENT with
 * EV_NO_ACTION and a Spec ID event listing SHA-384 only (PFP §10.4.5.1).
 */
int tdc_eventlog_put_header(struct tdc_buf *out);

/*
 * One TCG_PCR_EVENT2 EV_EVENT_TAG record holding the AAEL entry
 * "<domain> <operation> <content>" on CC MR @mr_index, with its SHA-384
 * digest (the value to extend the RTMR with) also returned in @digest.
 * The fields follow the AAEL rules: domain and operation without white
 * space, all three printable ASCII.
 */
int tdc_eventlog_put_aael(struct tdc_buf *out, uint32_t mr_index, const char *domain,
			  const char *operation, const char *content,
			  uint8_t digest[TDC_EVENTLOG_SHA384_LEN]);

/* RTMR extension: @mr = SHA-384(@mr || @digest). */
int tdc_rtmr_extend(uint8_t mr[TDC_EVENTLOG_SHA384_LEN],
		    const uint8_t digest[TDC_EVENTLOG_SHA384_LEN]);

/*
 * Length of @data (a log area of at most TDC_CCEL_AREA_MAX bytes) without
 * its fill tail (trailing 0xFF or 0x00 bytes after the last record): the
 * part of a CCEL worth carrying, which must itself fit TDC_EVENTLOG_MAX.
 * Parses the log; errors as tdc_eventlog_parse.
 */
int tdc_eventlog_used_len(const uint8_t *data, size_t len, const char *what, size_t *used);

/* Length of a leading Spec ID record (0 if the log has none). */
int tdc_eventlog_header_len(const uint8_t *data, size_t len, size_t *hlen);

/* "EV_EVENT_TAG", "EV_SEPARATOR", ... or NULL for types not in the table. */
const char *tdc_event_type_name(uint32_t type);

#endif
