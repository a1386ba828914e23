// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier inspect FILE: print an evidence envelope, a TDREPORT or a
 * DCAP quote, field by field, as text or JSON.
 *
 * Inspect *parses and decodes*; it checks only what needs no trust anchor
 * (TDREPORT hash links, REPORTDATA binding of evidence, QE report binding is
 * left to `verify`).  Everything is first built as one JSON tree, and the
 * text form is rendered from that tree, so both outputs always agree.
 * Layouts: TDREPORT_STRUCT (Intel TDX Module ABI spec), DCAP
 * sgx_quote_4.h/sgx_quote_5.h, ATTRIBUTES (Linux asm/shared/tdx.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pck_ext.h"
#include "verifier.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

#define INSPECT_MAX TDC_EVIDENCE_MAX

static bool is_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static void add_warning(json_t *root, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_warning(json_t *root, const char *fmt, ...)
{
	json_t *w = json_object_get(root, "warnings");
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!w) {
		w = json_array();
		json_object_set_new(root, "warnings", w);
	}
	json_array_append_new(w, json_string(msg));
}

/* ATTRIBUTES value, names, DEBUG flag; XFAM value and names (§8, §4.4). */
static void add_td_bits(json_t *o, json_t *root, uint64_t attrs, uint64_t xfam)
{
	char names[512];

	json_object_set_new(o, "attributes", tdc_json_hex64(attrs));
	json_object_set_new(o, "attributes_names",
			    json_string(tdx_attributes_str(attrs, names, sizeof(names))));
	json_object_set_new(o, "debug", json_boolean(attrs & TDX_ATTR_DEBUG));
	if (attrs & TDX_ATTR_DEBUG)
		add_warning(root, "%s", "DEBUG TD: the host can read and modify the TD; "
			    "its evidence is not trustworthy");
	json_object_set_new(o, "xfam", tdc_json_hex64(xfam));
	json_object_set_new(o, "xfam_names",
			    json_string(tdx_xfam_str(xfam, names, sizeof(names))));
}

static void add_measurements(json_t *o, const uint8_t *mrtd, const uint8_t *cfg,
			     const uint8_t *owner, const uint8_t *ownercfg,
			     const uint8_t rtmr[4][48])
{
	json_object_set_new(o, "mr_td", tdc_json_hexbytes(mrtd, 48));
	json_object_set_new(o, "mr_config_id", tdc_json_hexbytes(cfg, 48));
	json_object_set_new(o, "mr_owner", tdc_json_hexbytes(owner, 48));
	json_object_set_new(o, "mr_owner_config", tdc_json_hexbytes(ownercfg, 48));
	for (int i = 0; i < 4; i++) {
		char key[8];

		snprintf(key, sizeof(key), "rtmr%d", i);
		json_object_set_new(o, key, tdc_json_hexbytes(rtmr[i], 48));
	}
}

/* ---- TDREPORT ------------------------------------------------------------- */

static int report_json(const uint8_t *data, size_t len, json_t *root, json_t **out)
{
	struct tdx_report r;
	json_t *o, *tcb, *td;
	char w[128];
	int ret;

	if ((ret = tdx_report_parse(data, len, &r)) != 0)
		return ret;
	o = json_object();
	snprintf(w, sizeof(w), "0x%02x", r.report_type);
	json_object_set_new(o, "report_type", json_string(w));
	json_object_set_new(o, "report_subtype", json_integer(r.report_subtype));
	json_object_set_new(o, "report_version", json_integer(r.report_version));
	json_object_set_new(o, "cpu_svn", tdc_json_hexbytes(r.cpu_svn, 16));
	json_object_set_new(o, "tee_tcb_info_hash", tdc_json_hexbytes(r.tee_tcb_info_hash, 48));
	json_object_set_new(o, "tee_info_hash", tdc_json_hexbytes(r.tee_info_hash, 48));
	ret = tdx_report_check_hashes(&r);
	json_object_set_new(o, "hash_links", json_string(ret ? tdc_errdetail() : "ok"));
	if (ret)
		add_warning(root, "%s", "TDREPORT hash links do not verify");
	json_object_set_new(o, "report_data", tdc_json_hexbytes(r.report_data, 64));
	json_object_set_new(o, "mac", tdc_json_hexbytes(r.mac, 32));
	json_object_set_new(o, "mac_note", json_string(
		"checkable only by the CPU that made it (or with the simulator key)"));
	tcb = json_object();
	json_object_set_new(tcb, "valid", tdc_json_hex64(r.tcb.valid));
	json_object_set_new(tcb, "tee_tcb_svn", tdc_json_hexbytes(r.tcb.tee_tcb_svn, 16));
	json_object_set_new(tcb, "mr_seam", tdc_json_hexbytes(r.tcb.mr_seam, 48));
	json_object_set_new(tcb, "mr_signer_seam", tdc_json_hexbytes(r.tcb.mr_signer_seam, 48));
	json_object_set_new(tcb, "seam_attributes", tdc_json_hex64(r.tcb.attributes));
	json_object_set_new(tcb, "tee_tcb_svn2", tdc_json_hexbytes(r.tcb.tee_tcb_svn2, 16));
	json_object_set_new(o, "tee_tcb_info", tcb);
	td = json_object();
	add_td_bits(td, root, r.td.attributes, r.td.xfam);
	add_measurements(td, r.td.mr_td, r.td.mr_config_id, r.td.mr_owner,
			 r.td.mr_owner_config, r.td.rtmr);
	json_object_set_new(td, "servtd_hash", tdc_json_hexbytes(r.td.servtd_hash, 48));
	json_object_set_new(o, "td_info", td);
	json_object_set_new(o, "reserved_flags",
			    json_string(tdx_report_warnings_str(r.warnings, w, sizeof(w))));
	if (!memcmp(r.tcb.mr_signer_seam, TDC_SIM_SEAM_SIGNER, strlen(TDC_SIM_SEAM_SIGNER))) {
		json_object_set_new(o, "simulated", json_true());
		add_warning(root, "%s", "SIMULATED TDREPORT (tdcpuid simulator), not hardware");
	}
	*out = o;
	return 0;
}

/* ---- Quote ---------------------------------------------------------------- */

static json_t *cert_json(X509 *c)
{
	json_t *o = json_object();
	struct tdc_pck_ext ext;
	char buf[512];
	BIO *bio;
	char *p;
	long n;

	X509_NAME_oneline(X509_get_subject_name(c), buf, sizeof(buf));
	json_object_set_new(o, "subject", json_string(buf));
	X509_NAME_oneline(X509_get_issuer_name(c), buf, sizeof(buf));
	json_object_set_new(o, "issuer", json_string(buf));
	if ((bio = BIO_new(BIO_s_mem()))) {
		ASN1_TIME_print(bio, X509_get0_notBefore(c));
		BIO_puts(bio, " .. ");
		ASN1_TIME_print(bio, X509_get0_notAfter(c));
		n = BIO_get_mem_data(bio, &p);
		snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
		json_object_set_new(o, "validity", json_string(buf));
		BIO_free(bio);
	}
	if (tdc_pck_ext_from_cert(c, &ext) == 0) {
		json_object_set_new(o, "fmspc", tdc_json_hexbytes(ext.fmspc, 6));
		json_object_set_new(o, "pce_id", tdc_json_hexbytes(ext.pceid, 2));
		json_object_set_new(o, "pce_svn", json_integer(ext.pcesvn));
		json_object_set_new(o, "cpu_svn", tdc_json_hexbytes(ext.cpusvn, 16));
		json_object_set_new(o, "sgx_type", json_string(tdc_sgx_type_name(ext.sgx_type)));
	}
	return o;
}

static json_t *chain_json(const char *pem, size_t len)
{
	json_t *a = json_array();
	BIO *bio;
	X509 *c;

	if (len > INT32_MAX || !(bio = BIO_new_mem_buf(pem, (int)len)))
		return a;
	while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		json_array_append_new(a, cert_json(c));
		X509_free(c);
	}
	BIO_free(bio);
	return a;
}

static json_t *qe_json(const struct tdx_quote *q)
{
	const struct tdx_qe_report *r = &q->qe_report;
	json_t *o = json_object();

	json_object_set_new(o, "cpu_svn", tdc_json_hexbytes(r->cpu_svn, 16));
	json_object_set_new(o, "misc_select", json_integer(r->misc_select));
	json_object_set_new(o, "attributes", tdc_json_hexbytes(r->attributes, 16));
	json_object_set_new(o, "mr_enclave", tdc_json_hexbytes(r->mr_enclave, 32));
	json_object_set_new(o, "mr_signer", tdc_json_hexbytes(r->mr_signer, 32));
	json_object_set_new(o, "isv_prod_id", json_integer(r->isv_prod_id));
	json_object_set_new(o, "isv_svn", json_integer(r->isv_svn));
	json_object_set_new(o, "report_data", tdc_json_hexbytes(r->report_data, 64));
	return o;
}

static int quote_json(const uint8_t *data, size_t len, json_t *root, json_t **out)
{
	struct tdx_quote q;
	json_t *o, *h, *b, *s;
	int ret;

	if ((ret = tdx_quote_parse(data, len, true, &q)) != 0)
		return ret;
	o = json_object();
	h = json_object();
	json_object_set_new(h, "version", json_integer(q.header.version));
	json_object_set_new(h, "att_key_type", json_integer(q.header.att_key_type));
	json_object_set_new(h, "tee_type", json_integer(q.header.tee_type));
	json_object_set_new(h, "qe_svn", json_integer(q.header.qe_svn));
	json_object_set_new(h, "pce_svn", json_integer(q.header.pce_svn));
	json_object_set_new(h, "qe_vendor_id", tdc_json_hexbytes(q.header.qe_vendor_id, 16));
	json_object_set_new(h, "user_data", tdc_json_hexbytes(q.header.user_data, 20));
	json_object_set_new(o, "header", h);
	if (tdc_sim_quote_is_sim(&q)) {
		json_object_set_new(o, "simulated", json_true());
		add_warning(root, "%s", "SIMULATED quote (QE vendor ID TDCPUID-SIM-QE!!), "
			    "not from an Intel QE");
	}
	b = json_object();
	json_object_set_new(b, "body_type", json_integer(q.body.body_type));
	json_object_set_new(b, "tee_tcb_svn", tdc_json_hexbytes(q.body.tee_tcb_svn, 16));
	json_object_set_new(b, "mr_seam", tdc_json_hexbytes(q.body.mr_seam, 48));
	json_object_set_new(b, "mr_signer_seam", tdc_json_hexbytes(q.body.mr_signer_seam, 48));
	json_object_set_new(b, "seam_attributes", tdc_json_hex64(q.body.seam_attributes));
	add_td_bits(b, root, q.body.td_attributes, q.body.xfam);
	add_measurements(b, q.body.mr_td, q.body.mr_config_id, q.body.mr_owner,
			 q.body.mr_owner_config, q.body.rtmr);
	json_object_set_new(b, "report_data", tdc_json_hexbytes(q.body.report_data, 64));
	if (q.body.is_1_5) {
		json_object_set_new(b, "tee_tcb_svn2", tdc_json_hexbytes(q.body.tee_tcb_svn2, 16));
		json_object_set_new(b, "mr_servicetd", tdc_json_hexbytes(q.body.mr_servicetd, 48));
	}
	json_object_set_new(o, "body", b);
	s = json_object();
	json_object_set_new(s, "signed_bytes", json_integer((json_int_t)q.signed_len));
	json_object_set_new(s, "signature", tdc_json_hexbytes(q.signature, 64));
	json_object_set_new(s, "attest_key", tdc_json_hexbytes(q.attest_key, 64));
	json_object_set_new(s, "qe_report", qe_json(&q));
	json_object_set_new(s, "qe_report_signature", tdc_json_hexbytes(q.qe_report_sig, 64));
	json_object_set_new(s, "qe_auth_data", tdc_json_hexbytes(q.qe_auth_data, q.qe_auth_len));
	json_object_set_new(s, "pck_chain", chain_json(q.pck_chain_pem, q.pck_chain_len));
	json_object_set_new(o, "signature_data", s);
	json_object_set_new(o, "total_bytes", json_integer((json_int_t)q.total_len));
	json_object_set_new(o, "trailing_bytes", json_integer((json_int_t)q.trailing));
	json_object_set_new(o, "signatures", json_string(
		"not checked by inspect (use tdcpuid-verifier verify)"));
	*out = o;
	return 0;
}

/* ---- evidence ------------------------------------------------------------- */

static json_t *claims_json(const struct tdc_claims *c, const struct tdc_buf *raw)
{
	json_t *o = json_object();
	char ver[32];

	snprintf(ver, sizeof(ver), "%u.%u", c->version_major, c->version_minor);
	json_object_set_new(o, "bytes", json_integer((json_int_t)raw->len));
	json_object_set_new(o, "version", json_string(ver));
	json_object_set_new(o, "nonce", tdc_json_hexbytes(c->nonce, c->nonce_len));
	json_object_set_new(o, "tee", json_string(tdc_tee_name(c->tee)));
	json_object_set_new(o, "common_entries", json_integer((json_int_t)c->common.n));
	json_object_set_new(o, "cpus", json_integer((json_int_t)c->ncpus));
	json_object_set_new(o, "skipped_cpus", json_integer((json_int_t)c->nskipped));
	if (c->has_xcr0)
		json_object_set_new(o, "xcr0", tdc_json_hex64(c->xcr0));
	json_object_set_new(o, "kernel_release", json_string(c->kernel_release));
	json_object_set_new(o, "agent_version", json_string(c->agent_version));
	if (c->vm_name[0])
		json_object_set_new(o, "vm_name", json_string(c->vm_name));
	json_object_set_new(o, "cpuid_count", json_integer((json_int_t)c->cpuid_count));
	json_object_set_new(o, "binding", json_string(tdc_binding_name(c->binding)));
	return o;
}

/* ---- event log ------------------------------------------------------------ */

/* Every event (index, MR, type, digest check, AAEL text) and the replays. */
static int eventlog_json(const uint8_t *data, size_t len, json_t **out)
{
	struct tdc_eventlog l;
	uint8_t mr[TDC_EVENTLOG_SHA384_LEN];
	json_t *o, *evs, *rep;
	int ret;

	tdc_eventlog_init(&l);
	if ((ret = tdc_eventlog_parse(data, len, "eventlog", &l)) != 0)
		return ret;
	o = json_object();
	evs = json_array();
	rep = json_object();
	json_object_set_new(o, "bytes", json_integer((json_int_t)len));
	json_object_set_new(o, "spec_id_header", json_boolean(l.spec_header));
	json_object_set_new(o, "fill_bytes", json_integer((json_int_t)l.padding));
	for (size_t i = 0; i < l.n; i++) {
		const struct tdc_event *e = &l.ev[i];
		const char *tn = tdc_event_type_name(e->type);
		json_t *j = json_object();
		struct tdc_aael a;
		char t[16];

		json_object_set_new(j, "offset", json_integer((json_int_t)e->offset));
		json_object_set_new(j, "mr_index", json_integer(e->mr_index));
		snprintf(t, sizeof(t), "0x%x", e->type);
		json_object_set_new(j, "type", json_string(tn ? tn : t));
		if (e->has_sha384) {
			json_object_set_new(j, "sha384", tdc_json_hexbytes(e->sha384, 48));
			json_object_set_new(j, "digest_matches_data",
					    json_boolean(tdc_event_digest_matches(e)));
		}
		json_object_set_new(j, "data_bytes", json_integer(e->data_len));
		if (tdc_event_aael(e, &a) == 0)
			json_object_set_new(j, "aael", json_stringn(a.text, a.len));
		json_array_append_new(evs, j);
	}
	/* The CC MR indices of a TDX CCEL: 1..4 = RTMR0..3 (UEFI 2.10 §38.4.1). */
	for (unsigned i = 0; i < 4; i++) {
		char key[8];

		snprintf(key, sizeof(key), "rtmr%u", i);
		if (tdc_eventlog_replay(&l, TDC_CCMR_RTMR0 + i, SIZE_MAX, mr) == 0)
			json_object_set_new(rep, key, tdc_json_hexbytes(mr, sizeof(mr)));
		else
			json_object_set_new(rep, key, json_string(tdc_errdetail()));
	}
	json_object_set_new(o, "events", evs);
	json_object_set_new(o, "replay", rep);
	tdc_eventlog_free(&l);
	*out = o;
	return 0;
}

/* The attested RTMR3 against the log's replay (rtmr3 binding). */
static void add_rtmr3_match(json_t *part, json_t *ev, json_t *root, const char *what,
			    const uint8_t rtmr3[48])
{
	json_t *rep = ev ? json_object_get(json_object_get(ev, "replay"), "rtmr3") : NULL;
	char hex[97];
	bool ok;

	tdc_hex_encode(rtmr3, 48, hex);
	ok = rep && json_is_string(rep) && !strcmp(json_string_value(rep), hex);
	json_object_set_new(part, "rtmr3_replay", json_string(ok ? "ok" : "MISMATCH"));
	if (!ok)
		add_warning(root, "%s RTMR3 is not the event log's replay", what);
}

static void add_binding(json_t *part, json_t *root, const char *what,
			const uint8_t *got, const uint8_t *want)
{
	if (!want) {
		json_object_set_new(part, "reportdata_binding",
				    json_string("not used (binding rtmr3: REPORTDATA is the caller's)"));
		return;
	}
	bool ok = memcmp(got, want, TDC_REPORTDATA_LEN) == 0;

	json_object_set_new(part, "reportdata_binding", json_string(ok ? "ok" : "MISMATCH"));
	if (!ok)
		add_warning(root, "%s REPORTDATA does not bind the claims", what);
}

static int evidence_json(const uint8_t *data, size_t len, json_t *root, json_t **out)
{
	struct tdc_envelope e;
	struct tdc_claims c;
	uint8_t want[TDC_REPORTDATA_LEN];
	const uint8_t *bind;
	json_t *o, *part, *evlog = NULL;
	int ret;

	tdc_claims_init(&c);
	if ((ret = tdc_envelope_decode(data, len, &e)) != 0)
		return ret;
	o = json_object();
	if ((ret = tdc_claims_decode(e.claims.data, e.claims.len, &c)) != 0)
		goto out;
	json_object_set_new(o, "claims", claims_json(&c, &e.claims));
	if (c.tee == TDC_TEE_SIM)
		add_warning(root, "%s", "claims say tee = sim: SIMULATED evidence");
	if (c.binding == TDC_BIND_RTMR3) {
		char content[TDC_AAEL_CONTENT_LEN + 1];

		if ((ret = tdc_claims_aael_content(e.claims.data, e.claims.len, content)) != 0)
			goto out;
		json_object_set_new(o, "expected_rtmr3_event",
				    json_pack("{s:s, s:s, s:s}", "domain", TDC_AAEL_DOMAIN,
					      "operation", TDC_AAEL_OP_CLAIMS, "content", content));
		bind = NULL;
		if (!e.eventlog.len)
			add_warning(root, "%s", "binding rtmr3 but no event log: nothing binds the claims");
	} else {
		if ((ret = tdc_reportdata_compute(e.claims.data, e.claims.len, want)) != 0)
			goto out;
		json_object_set_new(o, "expected_report_data",
				    tdc_json_hexbytes(want, sizeof(want)));
		bind = want;
	}
	if (e.eventlog.len) {
		if ((ret = eventlog_json(e.eventlog.data, e.eventlog.len, &evlog)) != 0) {
			tdc_err_wrap(ret, "evidence.eventlog: ");
			goto out;
		}
		json_object_set_new(o, "eventlog", evlog);
	}
	if (e.tdreport.len) {
		if ((ret = report_json(e.tdreport.data, e.tdreport.len, root, &part)) != 0) {
			tdc_err_wrap(ret, "evidence.tdreport: ");
			goto out;
		}
		add_binding(part, root, "TDREPORT", e.tdreport.data + TDX_OFF_REPORTDATA, bind);
		if (c.binding == TDC_BIND_RTMR3)
			add_rtmr3_match(part, evlog, root, "TDREPORT",
					e.tdreport.data + TDX_OFF_RTMR0 + 3 * 48);
		json_object_set_new(o, "tdreport", part);
	}
	if (e.quote.len) {
		struct tdx_quote q;

		if ((ret = quote_json(e.quote.data, e.quote.len, root, &part)) != 0 ||
		    (ret = tdx_quote_parse(e.quote.data, e.quote.len, true, &q)) != 0) {
			tdc_err_wrap(ret, "evidence.quote: ");
			goto out;
		}
		add_binding(part, root, "quote", q.body.report_data, bind);
		if (c.binding == TDC_BIND_RTMR3)
			add_rtmr3_match(part, evlog, root, "quote", q.body.rtmr[3]);
		json_object_set_new(o, "quote", part);
	}
	*out = o;
	o = NULL;
out:
	json_decref(o);
	tdc_claims_free(&c);
	tdc_envelope_free(&e);
	return ret;
}

/* ---- detection and output ------------------------------------------------- */

static int detect_and_build(const uint8_t *d, size_t len, json_t *root)
{
	json_t *part = NULL;
	const char *kind;
	size_t hdr = 0;
	int ret;

	/* 1024 bytes that are not a CBOR map (0xa0..0xbf) can only be a report. */
	if (len == TDX_REPORT_LEN && (d[0] & 0xe0) != 0xa0) {
		kind = "tdreport";
		ret = report_json(d, len, root, &part);
	} else if (len >= TDX_QUOTE_HEADER_LEN && (d[0] == 4 || d[0] == 5) && d[1] == 0 &&
		   d[4] == TDX_TEE_TYPE_TDX && is_zero(d + 5, 3)) {
		kind = "quote";
		ret = quote_json(d, len, root, &part);
	} else if (tdc_eventlog_header_len(d, len, &hdr) == 0 && hdr) {
		kind = "eventlog";
		ret = eventlog_json(d, len, &part);
	} else {
		kind = "evidence";
		ret = evidence_json(d, len, root, &part);
		if (ret == TDC_ERR_TYPE || ret == TDC_ERR_FORMAT)
			tdc_err_wrap(ret, "not a TDREPORT (1024 bytes, type 0x81), a TD quote "
				     "(v4/v5, tee_type 0x81), a TCG2 event log or an evidence "
				     "envelope: ");
	}
	if (ret)
		return ret;
	json_object_set_new(root, "kind", json_string(kind));
	json_object_set_new(root, kind, part);
	return 0;
}

static void print_text(FILE *f, const char *key, json_t *v, int depth);

static void print_scalar(FILE *f, json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), f);
	else if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		fputs(json_is_true(v) ? "yes" : "no", f);
}

static void print_text(FILE *f, const char *key, json_t *v, int depth)
{
	const char *k;
	json_t *x;
	size_t i;

	fprintf(f, "%*s", 2 * depth, "");
	if (json_is_object(v)) {
		fprintf(f, "%s:\n", key);
		json_object_foreach(v, k, x)
			print_text(f, k, x, depth + 1);
	} else if (json_is_array(v)) {
		fprintf(f, "%s: [%zu]\n", key, json_array_size(v));
		json_array_foreach(v, i, x) {
			char idx[32];

			snprintf(idx, sizeof(idx), "%s[%zu]", key, i);
			if (json_is_object(x)) {
				print_text(f, idx, x, depth + 1);
			} else {
				fprintf(f, "%*s- ", 2 * depth + 2, "");
				print_scalar(f, x);
				fputc('\n', f);
			}
		}
	} else {
		fprintf(f, "%-20s ", key);
		print_scalar(f, v);
		fputc('\n', f);
	}
}

/* The exact bytes of one envelope member: nothing re-encoded. */
static int extract_part(const uint8_t *data, size_t len, const char *path, const char *part,
			const char *output)
{
	static const char *const parts[] = { "quote", "tdreport", "claims", "eventlog" };
	const struct tdc_buf *b = NULL;
	struct tdc_envelope e;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (!strcmp(part, parts[i]))
			break;
	if (i == sizeof(parts) / sizeof(parts[0]))
		return tdc_err(TDC_ERR_USAGE, "--extract %s: expected quote, tdreport, claims or "
			       "eventlog", part);
	if ((ret = tdc_envelope_decode(data, len, &e)) != 0)
		return tdc_err_wrap(ret, "%s: not an evidence envelope: ", path);
	b = i == 0 ? &e.quote : i == 1 ? &e.tdreport : i == 2 ? &e.claims : &e.eventlog;
	if (!b->len)
		ret = tdc_err(TDC_ERR_NOT_FOUND, "%s: the evidence carries no %s", path, part);
	else
		ret = tdc_write_file(output, b->data, b->len);
	tdc_envelope_free(&e);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s inspect [--format text|json] FILE\n"
		"       %s inspect --extract quote|tdreport|claims|eventlog EVIDENCE [-o FILE]\n"
		"\n"
		"Print every field of FILE (\"-\" = stdin), detected as one of:\n"
		"  a TDREPORT (1024 bytes, report type 0x81): hash links checked,\n"
		"  a DCAP TD quote v4/v5: signatures NOT checked (use verify),\n"
		"  a TCG2 event log (CCEL, Spec ID header): events, AAEL entries, replays,\n"
		"  a tdcpuid evidence envelope: claims summary, REPORTDATA or RTMR3 binding.\n"
		"ATTRIBUTES and XFAM are decoded by name; a DEBUG TD and simulated\n"
		"evidence are flagged.\n"
		"\n"
		"  --extract PART   write that part of an evidence envelope, byte for byte, to\n"
		"                   -o FILE (default stdout): the quote for Intel's QVL,\n"
		"                   go-tdx-guest or Trustee, the claims and event log for\n"
		"                   `check --claims/--event-log`\n"
		"  -o, --output FILE  with --extract: where to write\n"
		"\n"
		"Exit status: 0 ok, 2 bad input (or the part is absent), 3 internal error.\n",
		tdc_prog, tdc_prog);
}

int inspect_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "extract", required_argument, NULL, 'x' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *extract = NULL, *output = NULL;
	struct tdc_buf in;
	bool as_json = false;
	json_t *root = NULL, *w;
	int c, ret;

	while ((c = getopt_long(argc, argv, "f:x:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'x': extract = optarg; break;
		case 'o': output = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return tdc_cli_fail("inspect", tdc_err(TDC_ERR_USAGE,
					"--format %s: expected text or json", optarg));
			as_json = !strcmp(optarg, "json");
			break;
		case 'h':
			usage(stdout);
			return TDC_EXIT_OK;
		default:
			usage(stderr);
			return TDC_EXIT_INPUT;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return TDC_EXIT_INPUT;
	}
	if (output && !extract)
		return tdc_cli_fail("inspect", tdc_err(TDC_ERR_USAGE, "-o needs --extract"));
	tdc_buf_init(&in);
	if ((ret = tdc_read_file(argv[optind], INSPECT_MAX, &in)) != 0)
		goto out;
	if (extract) {
		ret = extract_part(in.data, in.len, argv[optind], extract, output ? output : "-");
		goto out;
	}
	root = json_object();
	json_object_set_new(root, "file", json_string(argv[optind]));
	if ((ret = detect_and_build(in.data, in.len, root)) != 0) {
		tdc_err_wrap(ret, "%s: ", argv[optind]);
		goto out;
	}
	if (as_json) {
		json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		const char *k;
		json_t *x;

		json_object_foreach(root, k, x)
			if (strcmp(k, "warnings"))
				print_text(stdout, k, x, 0);
		if ((w = json_object_get(root, "warnings"))) {
			size_t i;

			json_array_foreach(w, i, x)
				printf("WARNING: %s\n", json_string_value(x));
		}
	}
out:
	json_decref(root);
	tdc_buf_free(&in);
	return ret ? tdc_cli_fail("inspect", ret) : TDC_EXIT_OK;
}
