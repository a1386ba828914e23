// SPDX-License-Identifier: Apache-2.0
/*
 * Evidence in the shapes pipelines produce, assembled into one tdcpuid
 * envelope so the engine has one entry point (include/tdcpuid/evidence.h).
 *
 * Trustee's TDX evidence: guest-components attestation-agent
 * attester/src/tdx/mod.rs `struct TdxEvidence { cc_eventlog: Option<String>,
 * quote: String }`, both standard padded base64 (RFC 4648 §4), verified by
 * trustee deps/verifier/src/tdx/mod.rs.  Unknown members are rejected: a
 * field we would ignore is a field someone could hide a different claim in.
 */
#include <string.h>

#include <jansson.h>

#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/serial.h"
#include "tdcpuid/tdx.h"

const char *tdc_evidence_kind_name(enum tdc_evidence_kind k)
{
	static const char *const names[] = { "envelope", "quote", "trustee" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static bool looks_like_quote(const uint8_t *d, size_t len)
{
	/* version 4/5 (LE u16), tee_type 0x81 (LE u32 at offset 4). */
	return len >= TDX_QUOTE_HEADER_LEN && (d[0] == 4 || d[0] == 5) && d[1] == 0 &&
	       d[4] == TDX_TEE_TYPE_TDX && d[5] == 0 && d[6] == 0 && d[7] == 0;
}

static bool looks_like_json(const uint8_t *d, size_t len)
{
	size_t i = 0;

	while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i < len && d[i] == '{';
}

/* Append one log; a later log's Spec ID header is dropped (one per log). */
static int add_log(struct tdc_buf *out, const uint8_t *p, size_t n, const char *what)
{
	size_t used, hdr = 0;
	int r;

	if ((r = tdc_eventlog_used_len(p, n, what, &used)) != 0)
		return r;
	if (out->len && (r = tdc_eventlog_header_len(p, used, &hdr)) != 0)
		return r;
	if (out->len + used - hdr > TDC_EVENTLOG_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "event logs: %zu bytes together exceed the limit "
			       "of %u", out->len + used - hdr, TDC_EVENTLOG_MAX);
	return tdc_buf_put(out, p + hdr, used - hdr);
}

static int b64_member(json_t *o, const char *key, bool required, struct tdc_buf *out,
		      bool *present)
{
	json_t *v = json_object_get(o, key);
	int r;

	*present = false;
	if (!v || json_is_null(v)) {
		if (required)
			return tdc_err(TDC_ERR_MISSING, "trustee evidence: no \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return tdc_err(TDC_ERR_TYPE, "trustee evidence: \"%s\" is not a string", key);
	if (json_string_length(v) == 0 && !required)
		return 0;  /* the agent writes "" when there is no CCEL */
	if ((r = tdc_base64_decode(json_string_value(v), json_string_length(v), out)) != 0)
		return tdc_err_wrap(r, "trustee evidence: \"%s\": ", key);
	*present = true;
	return 0;
}

static int parse_trustee(const uint8_t *data, size_t len, struct tdc_envelope *e,
			 struct tdc_buf *ccel, bool *have_ccel)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	bool have_quote;
	int r = 0;

	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return tdc_err(TDC_ERR_FORMAT, "trustee evidence: JSON error at line %d column %d: %s",
			       jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		r = tdc_err(TDC_ERR_TYPE, "trustee evidence: not a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "quote") && strcmp(k, "cc_eventlog")) {
			r = tdc_err(TDC_ERR_FORMAT, "trustee evidence: unknown member \"%s\" (only "
				    "\"quote\" and \"cc_eventlog\")", k);
			goto out;
		}
	}
	if ((r = b64_member(root, "quote", true, &e->quote, &have_quote)) != 0 ||
	    (r = b64_member(root, "cc_eventlog", false, ccel, have_ccel)) != 0)
		goto out;
	if (!looks_like_quote(e->quote.data, e->quote.len))
		r = tdc_err(TDC_ERR_FORMAT, "trustee evidence: \"quote\" is not a TD quote v4/v5");
out:
	json_decref(root);
	return r;
}

int tdc_evidence_import(const uint8_t *data, size_t len, const struct tdc_evidence_parts *parts,
			struct tdc_buf *envelope, enum tdc_evidence_kind *kind)
{
	struct tdc_envelope e;
	struct tdc_buf ccel;
	enum tdc_evidence_kind k;
	bool have_ccel = false;
	int r = 0;

	tdc_envelope_init(&e);
	tdc_buf_init(&ccel);
	if (len > TDC_IMPORT_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "evidence: %zu bytes exceed the limit of %u", len,
			       TDC_IMPORT_MAX);
	if (parts && parts->neventlogs > TDC_IMPORT_MAX_LOGS)
		return tdc_err(TDC_ERR_USAGE, "at most %d event logs", TDC_IMPORT_MAX_LOGS);
	k = looks_like_quote(data, len) ? TDC_EVK_QUOTE :
	    looks_like_json(data, len) ? TDC_EVK_TRUSTEE : TDC_EVK_ENVELOPE;
	if (kind)
		*kind = k;
	if (k == TDC_EVK_ENVELOPE) {
		if (parts && (parts->claims || parts->neventlogs))
			return tdc_err(TDC_ERR_USAGE, "the evidence is a tdcpuid envelope, which "
				       "carries its own claims and event log");
		return tdc_buf_put(envelope, data, len);
	}
	if (!parts || !parts->claims || !parts->claims_len) {
		r = tdc_err(TDC_ERR_MISSING, "%s evidence carries no tdcpuid claims: give them "
			    "(e.g. `tdcpuid-verifier inspect --extract claims`)",
			    k == TDC_EVK_QUOTE ? "a raw quote as" : "Trustee's");
		goto out;
	}
	if (k == TDC_EVK_QUOTE)
		r = tdc_buf_put(&e.quote, data, len);
	else
		r = parse_trustee(data, len, &e, &ccel, &have_ccel);
	if (r || (r = tdc_buf_put(&e.claims, parts->claims, parts->claims_len)) != 0)
		goto out;
	if (have_ccel && (r = add_log(&e.eventlog, ccel.data, ccel.len, "cc_eventlog")) != 0)
		goto out;
	for (size_t i = 0; i < parts->neventlogs; i++)
		if ((r = add_log(&e.eventlog, parts->eventlog[i], parts->eventlog_len[i],
				 "event log")) != 0)
			goto out;
	r = tdc_envelope_encode(&e, envelope);
out:
	tdc_envelope_free(&e);
	tdc_buf_free(&ccel);
	return r;
}
