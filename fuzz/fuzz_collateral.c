// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness for Intel collateral JSON (verifier/quote/collateral.c): the
 * signed-document splitter (raw member span + signature), the TCB info and
 * QE identity parsers, document classification and tdc_collateral_doc_info
 * (a fetched document decoded once); and the FMSPC read from
 * a TCB info's text (tdc_tcbinfo_peek_fmspc), which on any text jansson
 * accepts must be the one jansson's parse holds.  The documents are read by
 * the project's own reader (jread.c, differential against jansson in
 * fuzz_json_reader.c); here every field a TCB info or QE identity parse
 * returns is checked against the same member read by jansson.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "collateral.h"

/* Whenever the text says an FMSPC, jansson reads the same 12 digits there. */
static void peek_agrees(const uint8_t *data, size_t size)
{
	json_t *doc, *f;
	uint8_t peeked[6], parsed[6];
	size_t got;

	if (!tdc_tcbinfo_peek_fmspc(data, size, peeked))
		return;
	if (!(doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)))
		return; /* not a document that can be used */
	f = json_object_get(json_object_get(doc, "tcbInfo"), "fmspc");
	if (!json_is_string(f) || json_string_length(f) != 12 ||
	    tdc_hex_decode(json_string_value(f), parsed, 6, &got) != 0 || got != 6 ||
	    memcmp(peeked, parsed, 6) != 0)
		__builtin_trap();
	json_decref(doc);
}

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* String member @key of @o is @want (both NULL: absent). */
static void str_is(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	check(json_is_string(v) && want && strcmp(json_string_value(v), want) == 0);
}

static void int_is(json_t *o, const char *key, long long want)
{
	check(json_integer_value(json_object_get(o, key)) == want);
}

static void hex_is(json_t *o, const char *key, const uint8_t *want, size_t n)
{
	uint8_t got[64];
	size_t len = 0;

	check(n <= sizeof(got) &&
	      tdc_hex_decode(json_string_value(json_object_get(o, key)), got, n, &len) == 0 &&
	      len == n && memcmp(got, want, n) == 0);
}

static void levels_are(json_t *arr, const struct tdc_tcb_level *lv, size_t n, bool isvsvn)
{
	check(json_array_size(arr) == n);
	for (size_t i = 0; i < n; i++) {
		json_t *l = json_array_get(arr, i), *tcb = json_object_get(l, "tcb");
		json_t *adv = json_object_get(l, "advisoryIDs");

		str_is(l, "tcbDate", lv[i].tcb_date_str);
		str_is(l, "tcbStatus", tdc_tcb_status_name(lv[i].status));
		check(json_array_size(adv) == lv[i].n_advisories);
		for (size_t k = 0; k < lv[i].n_advisories; k++)
			check(!strcmp(json_string_value(json_array_get(adv, k)), lv[i].advisories[k]));
		if (isvsvn) {
			int_is(tcb, "isvsvn", lv[i].isvsvn);
			continue;
		}
		int_is(tcb, "pcesvn", lv[i].pcesvn);
		for (size_t k = 0; k < TDC_TCB_COMPONENTS; k++) {
			int_is(json_array_get(json_object_get(tcb, "sgxtcbcomponents"), k), "svn",
			       lv[i].sgx[k]);
			int_is(json_array_get(json_object_get(tcb, "tdxtcbcomponents"), k), "svn",
			       lv[i].tdx[k]);
		}
	}
}

/* A body both readers accept: every field parsed is the one jansson holds. */
static void fields_agree(const uint8_t *data, size_t size)
{
	json_t *b = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	struct tdc_tcbinfo t;
	struct tdc_qe_identity q;

	if (tdc_tcbinfo_parse((const char *)data, size, &t) == 0) {
		json_t *mods = json_object_get(b, "tdxModuleIdentities");

		check(b != NULL);
		int_is(b, "version", t.version);
		str_is(b, "issueDate", t.issue_date_str);
		str_is(b, "nextUpdate", t.next_update_str);
		hex_is(b, "fmspc", t.fmspc, 6);
		hex_is(b, "pceId", t.pceid, 2);
		int_is(b, "tcbType", t.tcb_type);
		int_is(b, "tcbEvaluationDataNumber", t.eval_number);
		hex_is(json_object_get(b, "tdxModule"), "mrsigner", t.module_mrsigner, 48);
		hex_is(json_object_get(b, "tdxModule"), "attributesMask",
		       t.module_attributes_mask, 8);
		check(json_array_size(mods) == t.n_modules);
		for (size_t i = 0; i < t.n_modules; i++) {
			json_t *m = json_array_get(mods, i);

			str_is(m, "id", t.modules[i].id);
			hex_is(m, "attributes", t.modules[i].attributes, 8);
			levels_are(json_object_get(m, "tcbLevels"), t.modules[i].levels,
				   t.modules[i].n_levels, true);
		}
		levels_are(json_object_get(b, "tcbLevels"), t.levels, t.n_levels, false);
		tdc_tcbinfo_free(&t);
	}
	if (tdc_qe_identity_parse((const char *)data, size, &q) == 0) {
		check(b != NULL);
		int_is(b, "version", q.version);
		str_is(b, "issueDate", q.issue_date_str);
		str_is(b, "nextUpdate", q.next_update_str);
		int_is(b, "isvprodid", q.isvprodid);
		hex_is(b, "mrsigner", q.mrsigner, 32);
		hex_is(b, "attributes", q.attributes, 16);
		levels_are(json_object_get(b, "tcbLevels"), q.levels, q.n_levels, true);
		tdc_qe_identity_free(&q);
	}
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "tcbInfo", "enclaveIdentity" };
	struct tdc_collateral *c;
	const char *body;
	size_t body_len;
	uint8_t sig[64];

	for (int i = 0; i < 2; i++) {
		if (tdc_signed_json_split((const char *)data, size, keys[i], &body, &body_len,
					  sig) != 0)
			continue;
		/* The span must lie inside the input. */
		if (body < (const char *)data || body + body_len > (const char *)data + size)
			__builtin_trap();
		if (i == 0) {
			struct tdc_tcbinfo t;

			if (tdc_tcbinfo_parse(body, body_len, &t) == 0)
				tdc_tcbinfo_free(&t);
		} else {
			struct tdc_qe_identity q;

			if (tdc_qe_identity_parse(body, body_len, &q) == 0)
				tdc_qe_identity_free(&q);
		}
		fields_agree((const uint8_t *)body, body_len);
	}
	/* Bodies alone too, so the fuzzer reaches the field parsers directly. */
	fields_agree(data, size);
	peek_agrees(data, size);
	{
		struct tdc_doc_info info;

		/* One decode for kind, fields and (CRL) window: a fetched document. */
		tdc_collateral_doc_info(data, size, &info);
	}
	if (tdc_collateral_new(&c) == 0) {
		tdc_collateral_add(c, "fuzz", data, size);
		tdc_collateral_free(c);
	}
	return 0;
}
