// SPDX-License-Identifier: Apache-2.0
/*
 * Intel DCAP collateral: parsing (TCB Info v3 / TD_QE identity v2 JSON,
 * DER CRLs, PEM chains), signature and issuer-chain verification, and the
 * verified-collateral cache.  See collateral.h for the model.
 *
 * JSON comes in through the bounded reader of jread.h (strict, capped, a
 * flat token array, no allocation per value); the signature is checked over
 * the exact bytes of the signed object in the file (the member token's
 * span), since any re-serialization (key order, spacing, number formatting)
 * would break it.  The one place that looks at JSON text without reading it
 * is tdc_tcbinfo_peek_fmspc().
 */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "collateral.h"
#include "crl.h"
#include "chain.h"
#include "jread.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/error.h"

/* ---- JSON field helpers (jread.h tokens) --------------------------------- */

static int jget(const struct tdc_jr *j, int obj, const char *key, enum tdc_jr_type type,
		const char *where, int *out)
{
	int v = tdc_jr_get(j, obj, key);

	if (v < 0)
		return tdc_err(TDC_ERR_MISSING, "%s.%s missing", where, key);
	if (tdc_jr_type(j, v) != (int)type)
		return tdc_err(TDC_ERR_TYPE, "%s.%s has the wrong JSON type", where, key);
	*out = v;
	return 0;
}

static int jstr(const struct tdc_jr *j, int obj, const char *key, const char *where,
		const char **out)
{
	int v = -1, ret;

	if ((ret = jget(j, obj, key, TDC_JR_STRING, where, &v)) != 0)
		return ret;
	*out = tdc_jr_str(j, v);
	return 0;
}

static int juint(const struct tdc_jr *j, int obj, const char *key, const char *where,
		 int64_t max, uint32_t *out)
{
	int v = -1, ret;

	if ((ret = jget(j, obj, key, TDC_JR_INTEGER, where, &v)) != 0)
		return ret;
	if (tdc_jr_int(j, v) < 0 || tdc_jr_int(j, v) > max)
		return tdc_err(TDC_ERR_RANGE, "%s.%s = %lld outside 0..%lld", where, key,
			       (long long)tdc_jr_int(j, v), (long long)max);
	*out = (uint32_t)tdc_jr_int(j, v);
	return 0;
}

/* Hex string of exactly @n bytes. */
static int jhex(const struct tdc_jr *j, int obj, const char *key, const char *where,
		uint8_t *out, size_t n)
{
	const char *s = NULL;
	size_t got;
	int ret;

	if ((ret = jstr(j, obj, key, where, &s)) != 0)
		return ret;
	if (strlen(s) != 2 * n)
		return tdc_err(TDC_ERR_FORMAT, "%s.%s: %zu hex digits, expected %zu", where, key,
			       strlen(s), 2 * n);
	if ((ret = tdc_hex_decode(s, out, n, &got)) != 0)
		return tdc_err_wrap(ret, "%s.%s: ", where, key);
	/* tdc_hex_decode skips a leading 0x: "0x" and 2n-2 digits are n-1 bytes. */
	if (got != n)
		return tdc_err(TDC_ERR_FORMAT, "%s.%s: %zu bytes, expected %zu", where, key, got,
			       n);
	return 0;
}

static int jtime(const struct tdc_jr *j, int obj, const char *key, const char *where,
		 time_t *t, const char **str)
{
	int ret;

	if ((ret = jstr(j, obj, key, where, str)) != 0)
		return ret;
	if ((ret = tdc_time_parse(*str, 0, t)) != 0)
		return tdc_err_wrap(ret, "%s.%s: ", where, key);
	return 0;
}

/* {"svn": N} x 16 */
static int parse_components(const struct tdc_jr *j, int tcb, const char *key,
			    uint8_t out[16])
{
	int arr = -1, c, ret;
	uint32_t svn = 0;

	if ((ret = jget(j, tcb, key, TDC_JR_ARRAY, "tcbLevels[].tcb", &arr)) != 0)
		return ret;
	if (j->tok[arr].size != TDC_TCB_COMPONENTS)
		return tdc_err(TDC_ERR_FORMAT, "tcb.%s: %zu components, expected 16", key,
			       (size_t)j->tok[arr].size);
	c = tdc_jr_first(arr);
	for (size_t i = 0; i < TDC_TCB_COMPONENTS; i++, c = tdc_jr_next(j, c)) {
		if (tdc_jr_type(j, c) != TDC_JR_OBJECT)
			return tdc_err(TDC_ERR_TYPE, "tcb.%s[%zu]: expected object", key, i);
		if ((ret = juint(j, c, "svn", key, 255, &svn)) != 0)
			return ret;
		out[i] = (uint8_t)svn;
	}
	return 0;
}

/*
 * Every advisory ID of a document's levels in one array (the levels point
 * into it): sized before the levels are read, so that it never moves.
 */
struct adv_pool {
	const char **ids;
	size_t used, cap;
};

/* Advisory IDs that the levels of array @arr may hold, at most. */
static size_t count_advisories(const struct tdc_jr *j, int arr)
{
	size_t n = 0;
	int lv, adv;

	if (tdc_jr_type(j, arr) != TDC_JR_ARRAY)
		return 0;
	lv = tdc_jr_first(arr);
	for (uint32_t i = 0; i < j->tok[arr].size; i++, lv = tdc_jr_next(j, lv))
		if (tdc_jr_type(j, adv = tdc_jr_get(j, lv, "advisoryIDs")) == TDC_JR_ARRAY)
			n += j->tok[adv].size;
	return n;
}

static int adv_pool_init(struct adv_pool *p, size_t n)
{
	p->used = 0;
	p->cap = n;
	p->ids = NULL;
	if (n && !(p->ids = calloc(n, sizeof(*p->ids))))
		return tdc_err(TDC_ERR_ALLOC, "advisoryIDs");
	return 0;
}

enum level_kind { LEVEL_PLATFORM, LEVEL_ISVSVN };

static int parse_advisories(const struct tdc_jr *j, int lv, struct adv_pool *pool,
			    struct tdc_tcb_level *out)
{
	int adv = tdc_jr_get(j, lv, "advisoryIDs"), e;

	if (adv < 0)
		return 0;
	if (tdc_jr_type(j, adv) != TDC_JR_ARRAY)
		return tdc_err(TDC_ERR_TYPE, "tcbLevels[].advisoryIDs: expected array");
	e = tdc_jr_first(adv);
	for (size_t i = 0; i < j->tok[adv].size; i++, e = tdc_jr_next(j, e))
		if (tdc_jr_type(j, e) != TDC_JR_STRING)
			return tdc_err(TDC_ERR_TYPE, "advisoryIDs[%zu]: expected string", i);
	if (pool->cap - pool->used < j->tok[adv].size)
		return tdc_err(TDC_ERR_INTERNAL, "advisoryIDs: not counted");
	out->advisories = pool->ids + pool->used;
	out->n_advisories = j->tok[adv].size;
	e = tdc_jr_first(adv);
	for (size_t i = 0; i < out->n_advisories; i++, e = tdc_jr_next(j, e))
		pool->ids[pool->used++] = tdc_jr_str(j, e);
	return 0;
}

static int parse_level(const struct tdc_jr *j, int lv, enum level_kind kind,
		       struct adv_pool *pool, struct tdc_tcb_level *out)
{
	const char *status = NULL;
	uint32_t v = 0;
	int tcb = -1, ret;

	if (tdc_jr_type(j, lv) != TDC_JR_OBJECT)
		return tdc_err(TDC_ERR_TYPE, "tcbLevels[]: expected object");
	if ((ret = jget(j, lv, "tcb", TDC_JR_OBJECT, "tcbLevels[]", &tcb)) != 0 ||
	    (ret = jtime(j, lv, "tcbDate", "tcbLevels[]", &out->tcb_date,
			 &out->tcb_date_str)) != 0 ||
	    (ret = jstr(j, lv, "tcbStatus", "tcbLevels[]", &status)) != 0 ||
	    (ret = tdc_tcb_status_parse(status, &out->status)) != 0)
		return ret;
	if (!tdc_tcb_status_in_collateral(out->status))
		return tdc_err(TDC_ERR_RANGE, "tcbLevels[].tcbStatus \"%s\" is computed by a "
			       "verifier, never published in collateral", status);
	if (kind == LEVEL_ISVSVN) {
		if ((ret = juint(j, tcb, "isvsvn", "tcb", 65535, &v)) != 0)
			return ret;
		out->isvsvn = (uint16_t)v;
	} else {
		if ((ret = parse_components(j, tcb, "sgxtcbcomponents", out->sgx)) != 0 ||
		    (ret = parse_components(j, tcb, "tdxtcbcomponents", out->tdx)) != 0 ||
		    (ret = juint(j, tcb, "pcesvn", "tcb", 65535, &v)) != 0)
			return ret;
		out->pcesvn = (uint16_t)v;
	}
	return parse_advisories(j, lv, pool, out);
}

static int parse_levels(const struct tdc_jr *j, int obj, enum level_kind kind,
			const char *where, struct adv_pool *pool, struct tdc_tcb_level **out,
			size_t *n)
{
	int arr = -1, lv, ret;

	if ((ret = jget(j, obj, "tcbLevels", TDC_JR_ARRAY, where, &arr)) != 0)
		return ret;
	if (j->tok[arr].size == 0 || j->tok[arr].size > TDC_TCB_MAX_LEVELS)
		return tdc_err(TDC_ERR_RANGE, "%s.tcbLevels: %zu levels (1..%d allowed)", where,
			       (size_t)j->tok[arr].size, TDC_TCB_MAX_LEVELS);
	if (!(*out = calloc(j->tok[arr].size, sizeof(**out))))
		return tdc_err(TDC_ERR_ALLOC, "%s.tcbLevels", where);
	*n = j->tok[arr].size;
	lv = tdc_jr_first(arr);
	for (size_t i = 0; i < *n; i++, lv = tdc_jr_next(j, lv))
		if ((ret = parse_level(j, lv, kind, pool, &(*out)[i])) != 0)
			return tdc_err_wrap(ret, "%s.tcbLevels[%zu]: ", where, i);
	return 0;
}

static int parse_module(const struct tdc_jr *j, int m, const char *where,
			uint8_t mrsigner[48], uint8_t attrs[8], uint8_t mask[8])
{
	int ret;

	if ((ret = jhex(j, m, "mrsigner", where, mrsigner, 48)) != 0 ||
	    (ret = jhex(j, m, "attributes", where, attrs, 8)) != 0 ||
	    (ret = jhex(j, m, "attributesMask", where, mask, 8)) != 0)
		return ret;
	return 0;
}

static int parse_module_identities(const struct tdc_jr *j, int body, struct adv_pool *pool,
				   struct tdc_tcbinfo *t)
{
	int arr = tdc_jr_get(j, body, "tdxModuleIdentities"), m, ret;
	size_t n;

	if (arr < 0)
		return 0;
	if (tdc_jr_type(j, arr) != TDC_JR_ARRAY || j->tok[arr].size > TDC_TCB_MAX_MODULES)
		return tdc_err(TDC_ERR_FORMAT, "tcbInfo.tdxModuleIdentities: expected an array "
			       "of at most %d", TDC_TCB_MAX_MODULES);
	n = j->tok[arr].size;
	if (n && !(t->modules = calloc(n, sizeof(*t->modules))))
		return tdc_err(TDC_ERR_ALLOC, "tdxModuleIdentities");
	m = tdc_jr_first(arr);
	for (size_t i = 0; i < n; i++, m = tdc_jr_next(j, m)) {
		struct tdc_tdx_module_identity *mi = &t->modules[i];

		t->n_modules = i + 1;
		if (tdc_jr_type(j, m) != TDC_JR_OBJECT)
			return tdc_err(TDC_ERR_TYPE, "tdxModuleIdentities[%zu]: expected object", i);
		if ((ret = jstr(j, m, "id", "tdxModuleIdentities[]", &mi->id)) != 0 ||
		    (ret = parse_module(j, m, "tdxModuleIdentities[]", mi->mrsigner,
					mi->attributes, mi->attributes_mask)) != 0 ||
		    (ret = parse_levels(j, m, LEVEL_ISVSVN, "tdxModuleIdentities[]", pool,
					&mi->levels, &mi->n_levels)) != 0)
			return ret;
	}
	return 0;
}

/* A collateral JSON text read whole: an object (@j freed on error). */
static int load_body(const char *json, size_t len, struct tdc_jr *j)
{
	int ret;

	if ((ret = tdc_jr_parse(j, json, len, &tdc_jr_collateral_limits,
				"collateral JSON")) != 0)
		return ret;
	if (tdc_jr_type(j, 0) != TDC_JR_OBJECT) {
		tdc_jr_free(j);
		return tdc_err(TDC_ERR_TYPE, "collateral JSON: expected an object");
	}
	return 0;
}

static int tcbinfo_fields(struct tdc_jr *j, int body, struct tdc_tcbinfo *t);

int tdc_tcbinfo_parse(const char *json, size_t len, struct tdc_tcbinfo *t)
{
	struct tdc_jr j;
	int ret;

	memset(t, 0, sizeof(*t));
	if ((ret = load_body(json, len, &j)) != 0)
		return ret;
	ret = tcbinfo_fields(&j, 0, t);
	tdc_jr_free(&j);
	return ret;
}

/* The signed member @body of an envelope already read (not read again); on
 * success @t keeps @j's text, which holds its strings. */
static int tcbinfo_fields(struct tdc_jr *j, int body, struct tdc_tcbinfo *t)
{
	const char *id = NULL;
	struct adv_pool pool = { 0 };
	uint32_t v = 0;
	int mod = -1, ret = 0;

	memset(t, 0, sizeof(*t));
	if (tdc_jr_type(j, body) != TDC_JR_OBJECT) {
		ret = tdc_err(TDC_ERR_TYPE, "collateral JSON: expected an object");
		goto out;
	}
	if ((ret = jstr(j, body, "id", "tcbInfo", &id)) != 0 ||
	    (ret = juint(j, body, "version", "tcbInfo", 1000, &v)) != 0)
		goto out;
	t->version = (int)v;
	if (strcmp(id, "TDX") != 0 || t->version != 3) {
		ret = tdc_err(TDC_ERR_VERSION, "tcbInfo: id \"%s\" version %d "
			      "(expected TDX TCB info version 3)", id, t->version);
		goto out;
	}
	if ((ret = jtime(j, body, "issueDate", "tcbInfo", &t->issue_date,
			 &t->issue_date_str)) != 0 ||
	    (ret = jtime(j, body, "nextUpdate", "tcbInfo", &t->next_update,
			 &t->next_update_str)) != 0 ||
	    (ret = jhex(j, body, "fmspc", "tcbInfo", t->fmspc, 6)) != 0 ||
	    (ret = jhex(j, body, "pceId", "tcbInfo", t->pceid, 2)) != 0 ||
	    (ret = juint(j, body, "tcbType", "tcbInfo", 255, &t->tcb_type)) != 0 ||
	    (ret = juint(j, body, "tcbEvaluationDataNumber", "tcbInfo", UINT32_MAX,
			 &t->eval_number)) != 0 ||
	    (ret = jget(j, body, "tdxModule", TDC_JR_OBJECT, "tcbInfo", &mod)) != 0 ||
	    (ret = parse_module(j, mod, "tcbInfo.tdxModule", t->module_mrsigner,
				t->module_attributes, t->module_attributes_mask)) != 0)
		goto out;
	{
		int ids = tdc_jr_get(j, body, "tdxModuleIdentities");
		size_t n = count_advisories(j, tdc_jr_get(j, body, "tcbLevels"));

		for (uint32_t i = 0; tdc_jr_type(j, ids) == TDC_JR_ARRAY && i < j->tok[ids].size;
		     i++)
			n += count_advisories(j, tdc_jr_get(j, tdc_jr_elem(j, ids, i), "tcbLevels"));
		if ((ret = adv_pool_init(&pool, n)) != 0)
			goto out;
		t->advisory_ids = pool.ids;
	}
	if ((ret = parse_module_identities(j, body, &pool, t)) != 0 ||
	    (ret = parse_levels(j, body, LEVEL_PLATFORM, "tcbInfo", &pool, &t->levels,
				&t->n_levels)) != 0)
		goto out;
	t->text = tdc_jr_take_text(j);
out:
	if (ret)
		tdc_tcbinfo_free(t);
	return ret;
}

void tdc_tcbinfo_free(struct tdc_tcbinfo *t)
{
	for (size_t i = 0; i < t->n_modules; i++)
		free(t->modules[i].levels);
	free(t->modules);
	free(t->levels);
	free(t->advisory_ids);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

static int qe_identity_fields(struct tdc_jr *j, int body, struct tdc_qe_identity *q);

int tdc_qe_identity_parse(const char *json, size_t len, struct tdc_qe_identity *q)
{
	struct tdc_jr j;
	int ret;

	memset(q, 0, sizeof(*q));
	if ((ret = load_body(json, len, &j)) != 0)
		return ret;
	ret = qe_identity_fields(&j, 0, q);
	tdc_jr_free(&j);
	return ret;
}

static int qe_identity_fields(struct tdc_jr *j, int body, struct tdc_qe_identity *q)
{
	const char *id = NULL;
	uint8_t misc[4], misc_mask[4];
	struct adv_pool pool = { 0 };
	uint32_t v = 0;
	int ret = 0;

	memset(q, 0, sizeof(*q));
	if (tdc_jr_type(j, body) != TDC_JR_OBJECT) {
		ret = tdc_err(TDC_ERR_TYPE, "collateral JSON: expected an object");
		goto out;
	}
	if ((ret = jstr(j, body, "id", "enclaveIdentity", &id)) != 0 ||
	    (ret = juint(j, body, "version", "enclaveIdentity", 1000, &v)) != 0)
		goto out;
	q->version = (int)v;
	if (strcmp(id, "TD_QE") != 0 || q->version != 2) {
		ret = tdc_err(TDC_ERR_VERSION, "enclaveIdentity: id \"%s\" version %d "
			      "(expected TD_QE identity version 2)", id, q->version);
		goto out;
	}
	if ((ret = jtime(j, body, "issueDate", "enclaveIdentity", &q->issue_date,
			 &q->issue_date_str)) != 0 ||
	    (ret = jtime(j, body, "nextUpdate", "enclaveIdentity", &q->next_update,
			 &q->next_update_str)) != 0 ||
	    (ret = juint(j, body, "tcbEvaluationDataNumber", "enclaveIdentity", UINT32_MAX,
			 &q->eval_number)) != 0 ||
	    (ret = jhex(j, body, "miscselect", "enclaveIdentity", misc, 4)) != 0 ||
	    (ret = jhex(j, body, "miscselectMask", "enclaveIdentity", misc_mask, 4)) != 0 ||
	    (ret = jhex(j, body, "attributes", "enclaveIdentity", q->attributes, 16)) != 0 ||
	    (ret = jhex(j, body, "attributesMask", "enclaveIdentity", q->attributes_mask,
			16)) != 0 ||
	    (ret = jhex(j, body, "mrsigner", "enclaveIdentity", q->mrsigner, 32)) != 0 ||
	    (ret = juint(j, body, "isvprodid", "enclaveIdentity", 65535, &v)) != 0)
		goto out;
	q->isvprodid = (uint16_t)v;
	/* Intel writes these as big-endian hex of the 32-bit value. */
	q->miscselect = (uint32_t)misc[0] << 24 | misc[1] << 16 | misc[2] << 8 | misc[3];
	q->miscselect_mask = (uint32_t)misc_mask[0] << 24 | misc_mask[1] << 16 |
			     misc_mask[2] << 8 | misc_mask[3];
	if ((ret = adv_pool_init(&pool, count_advisories(j, tdc_jr_get(j, body,
								      "tcbLevels")))) != 0)
		goto out;
	q->advisory_ids = pool.ids;
	if ((ret = parse_levels(j, body, LEVEL_ISVSVN, "enclaveIdentity", &pool, &q->levels,
				&q->n_levels)) != 0)
		goto out;
	q->text = tdc_jr_take_text(j);
out:
	if (ret)
		tdc_qe_identity_free(q);
	return ret;
}

void tdc_qe_identity_free(struct tdc_qe_identity *q)
{
	free(q->levels);
	free(q->advisory_ids);
	free(q->text);
	memset(q, 0, sizeof(*q));
}

/* ---- the raw text of a signed member ------------------------------------ */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[i] == '"': index just past the closing quote, or n on malformed input. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* One JSON value starting at s[i]; returns the index just past it. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	if (i >= n)
		return n;
	if (s[i] == '"')
		return skip_string(s, n, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' &&
		       !isspace((unsigned char)s[i]))
			i++;
		return i;
	}
	while (i < n) {
		if (s[i] == '"') {
			i = skip_string(s, n, i);
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return n;
}

/*
 * Unparsed text: the start of the value of the first member of the object
 * at s[i] whose key is spelled exactly @key (a key with escapes is not
 * decoded, so "fm\u0073pc" is not "fmspc").  On text the reader (jread.h)
 * accepts there are no duplicate members, so this is the member it would
 * return (or none, when the key is escaped); on anything else it may find
 * anything.
 * Stops at the member: what follows is not read.  Never reads past @n.
 */
static bool json_peek_member(const char *s, size_t n, size_t i, const char *key,
			     size_t *value)
{
	size_t klen = strlen(key);

	i = skip_ws(s, n, i);
	if (i >= n || s[i] != '{')
		return false;
	for (i++;;) {
		size_t k0, k1, v0;

		i = skip_ws(s, n, i);
		if (i >= n || s[i] != '"')
			return false;
		k0 = i + 1;
		if ((k1 = skip_string(s, n, i)) >= n)
			return false;
		i = skip_ws(s, n, k1);
		if (i >= n || s[i] != ':')
			return false;
		v0 = skip_ws(s, n, i + 1);
		if (v0 >= n)
			return false;
		if (k1 - 1 - k0 == klen && memcmp(s + k0, key, klen) == 0) {
			*value = v0;
			return true;
		}
		i = skip_ws(s, n, skip_value(s, n, v0));
		if (i >= n || s[i] != ',')
			return false;
		i++;
	}
}

/* collateral.h: the first "fmspc" of the first "tcbInfo", as written. */
bool tdc_tcbinfo_peek_fmspc(const uint8_t *data, size_t len, uint8_t fmspc[6])
{
	const char *s = (const char *)data;
	size_t v = 0, got;
	char hex[13];

	if (len > TDC_COLL_FILE_MAX || !json_peek_member(s, len, 0, "tcbInfo", &v) ||
	    !json_peek_member(s, len, v, "fmspc", &v) || len - v < 14 || s[v] != '"' ||
	    s[v + 13] != '"')
		return false;
	for (int k = 0; k < 12; k++)
		if (!isxdigit((unsigned char)s[v + 1 + k]))
			return false;
	memcpy(hex, s + v + 1, 12);
	hex[12] = 0;
	return tdc_hex_decode(hex, fmspc, 6, &got) == 0 && got == 6;
}

/*
 * The signed member of an envelope already read (@j: well-formed, no
 * duplicate members): its token, its raw text's place in the document, the
 * signature read.  A key spelled with escapes is not taken as the member:
 * the member is located by its text as Intel writes it.
 */
static int signed_member(const struct tdc_jr *j, const char *key, int *member,
			 size_t *start, size_t *end, uint8_t sig[64])
{
	int m = tdc_jr_get(j, 0, key), ret;

	if (tdc_jr_type(j, m) != TDC_JR_OBJECT)
		return tdc_err(TDC_ERR_MISSING, "signed JSON: \"%s\" object missing", key);
	if ((ret = jhex(j, 0, "signature", "signed JSON", sig, 64)) != 0)
		return ret;
	if (j->tok[tdc_jr_key_of(m)].escaped)
		return tdc_err(TDC_ERR_MISSING, "signed JSON: member \"%s\" not found", key);
	*member = m;
	*start = j->tok[m].start;
	*end = j->tok[m].end;
	return 0;
}

/*
 * The envelope read once (well-formed, no duplicate members), the signed
 * member's raw text located, and the envelope's tokens handed back (@j, to
 * free) so that the member need not be read a second time.
 */
static int signed_split(const char *doc, size_t len, const char *key, struct tdc_jr *j,
			int *member, size_t *start, size_t *end, uint8_t sig[64])
{
	int ret;

	if ((ret = load_body(doc, len, j)) != 0)
		return ret;
	if ((ret = signed_member(j, key, member, start, end, sig)) != 0)
		tdc_jr_free(j);
	return ret;
}

int tdc_signed_json_split(const char *doc, size_t len, const char *key,
			  const char **body, size_t *body_len, uint8_t sig[64])
{
	struct tdc_jr j;
	size_t start = 0, end = 0;
	int member, ret;

	if ((ret = signed_split(doc, len, key, &j, &member, &start, &end, sig)) != 0)
		return ret;
	tdc_jr_free(&j);
	*body = doc + start;
	*body_len = end - start;
	return 0;
}

/*
 * @x issued by @root as X509_verify_cert sees it (chain.h tdc_chain_verify:
 * strict, unknown critical extensions refused; its validity window is
 * checked by the caller at every use).  The error gives OpenSSL's reason.
 */
static int issued_by_root(X509_STORE *store, X509 *root, X509 *x, time_t at, const char *what)
{
	struct tdc_chain_errors e;
	int ret, err;

	if ((ret = tdc_chain_verify(store, root, x, NULL, at, &e)) == TDC_ERR_ALLOC)
		return tdc_err(ret, "verifying the %s", what);
	err = e.err[0] ? e.err[0] : e.err[1] ? e.err[1] : e.err[2];
	if (ret == 0 || err == X509_V_ERR_CERT_SIGNATURE_FAILURE)
		tdc_ecdsa_count_one();
	if (ret == 0 && e.path)
		return 0;
	return tdc_err(TDC_ERR_CHAIN, "%s is not issued by the trusted root (OpenSSL: %s)", what,
		       err ? X509_verify_cert_error_string(err) : "verified on another path");
}

/* ---- documents ---------------------------------------------------------- */

int tdc_collateral_new(struct tdc_collateral **out)
{
	struct tdc_collateral *c = calloc(1, sizeof(*c));

	if (!c || !(c->certs = sk_X509_new_null())) {
		free(c);
		return tdc_err(TDC_ERR_ALLOC, "collateral");
	}
	*out = c;
	return 0;
}

void tdc_collateral_free(struct tdc_collateral *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_docs; i++)
		free(c->docs[i].data);
	sk_X509_pop_free(c->certs, X509_free);
	free(c->cert_sha);
	free(c);
}

/* Append @x (a reference the pool takes over) with the SHA-256 of its DER. */
static int pool_push(struct tdc_collateral *c, X509 *x)
{
	size_t n = (size_t)sk_X509_num(c->certs);

	if (n == c->cert_sha_cap) {
		size_t cap = c->cert_sha_cap ? 2 * c->cert_sha_cap : 8;
		uint8_t (*ns)[32] = realloc(c->cert_sha, cap * sizeof(*ns));

		if (!ns)
			return -1;
		c->cert_sha = ns;
		c->cert_sha_cap = cap;
	}
	if (!sk_X509_push(c->certs, x))
		return -1;
	tdc_cert_sha256(x, c->cert_sha[n]);
	return 0;
}

X509 *tdc_collateral_cert_by_sha(const struct tdc_collateral *c, const uint8_t sha[32])
{
	static const uint8_t zero[32];

	/* tdc_cert_sha256 leaves zeros when it cannot encode: never a match. */
	if (!c || !memcmp(sha, zero, 32))
		return NULL;
	for (int i = 0; i < sk_X509_num(c->certs); i++)
		if (!memcmp(c->cert_sha[i], sha, 32)) {
			X509 *x = sk_X509_value(c->certs, i);

			return X509_up_ref(x) ? x : NULL;
		}
	return NULL;
}

static int add_pem_certs(struct tdc_collateral *c, const char *name, const uint8_t *data,
			 size_t len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	int n = 0, ret = 0;
	X509 *x;

	if (!bio)
		return tdc_err(TDC_ERR_ALLOC, "collateral %s", name);
	while ((x = tdc_pem_read_cert(bio))) {
		if (pool_push(c, x) != 0) {
			X509_free(x);
			ret = tdc_err(TDC_ERR_ALLOC, "collateral %s", name);
			break;
		}
		n++;
	}
	BIO_free(bio);
	if (!ret && n == 0)
		ret = tdc_err(TDC_ERR_FORMAT, "collateral %s: no PEM certificate", name);
	return ret;
}

static bool is_der_crl(const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	bool ok = crl && p == data + len;

	X509_CRL_free(crl);
	return ok;
}

/*
 * A CRL as DER, whichever of the encodings Intel's services use it came
 * in: DER (PCS with encoding=der, the root CA CRL file), PEM "X509 CRL"
 * (pckcrl without encoding=der) or hex text of the DER (some PCCS
 * versions' rootcacrl).  Appends to @der; TDC_ERR_FORMAT when it is none.
 */
int tdc_crl_to_der(const uint8_t *data, size_t len, struct tdc_buf *der)
{
	static const char pem[] = "-----BEGIN X509 CRL-----";
	size_t i = skip_ws((const char *)data, len, 0), end = len;
	int ret;

	if (is_der_crl(data, len))
		return tdc_buf_put(der, data, len);
	while (end > i && isspace(data[end - 1]))
		end--;
	if (end - i >= sizeof(pem) - 1 && !memcmp(data + i, pem, sizeof(pem) - 1)) {
		BIO *bio = BIO_new_mem_buf(data, (int)len);
		X509_CRL *crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
		uint8_t *out = NULL;
		int n = crl ? i2d_X509_CRL(crl, &out) : -1;

		BIO_free(bio);
		X509_CRL_free(crl);
		if (n <= 0)
			return tdc_err(TDC_ERR_FORMAT, "PEM X509 CRL does not parse");
		ret = tdc_buf_put(der, out, (size_t)n);
		OPENSSL_free(out);
		return ret;
	}
	if (end > i && (end - i) % 2 == 0) {
		size_t n0 = der->len, k;

		for (k = i; k < end && isxdigit(data[k]); k++)
			;
		if (k == end) {
			for (k = i; k < end; k += 2) {
				char h[3] = { (char)data[k], (char)data[k + 1], 0 };

				if ((ret = tdc_buf_put_u8(der, (uint8_t)strtoul(h, NULL, 16))) != 0)
					return ret;
			}
			if (is_der_crl(der->data + n0, der->len - n0))
				return 0;
			der->len = n0;
		}
	}
	return tdc_err(TDC_ERR_FORMAT, "not a CRL (DER, PEM or hex)");
}

/*
 * What a document decoded to while it was classified, for callers that go
 * on with it (each document is decoded once): the parsed JSON envelope, or
 * the CRL's DER and the CRL, decoded in the certificate context.
 */
struct doc_read {
	struct tdc_jr json;
	struct tdc_buf der;
	struct tdc_crl *crl;        /* read as the appraisal reads it (crl.h) */
	bool was_der;               /* the CRL came as DER */
};

static void doc_read_free(struct doc_read *r)
{
	tdc_jr_free(&r->json);
	tdc_buf_free(&r->der);
	tdc_crl_free(r->crl);
}

/*
 * A CRL in any of tdc_crl_to_der's encodings, DER first, read by the walk
 * the appraisal uses: a CRL it would refuse (BER, an entry it does not
 * read as OpenSSL does) is refused here already, when it is added or
 * fetched, not taken and then refused at every appraisal.  TDC_ERR_FORMAT
 * with no detail when it is no CRL at all.
 */
static int crl_read(const uint8_t *data, size_t len, struct doc_read *r)
{
	int ret;

	if (tdc_crl_read(data, len, &r->crl) == 0) {
		r->was_der = true;
		return tdc_buf_put(&r->der, data, len);
	}
	if (tdc_crl_to_der(data, len, &r->der) != 0)
		return TDC_ERR_FORMAT;
	if ((ret = tdc_crl_read(r->der.data, r->der.len, &r->crl)) != 0)
		return tdc_err_wrap(ret == TDC_ERR_FORMAT ? TDC_ERR_UNSUPPORTED : ret,
				    "OpenSSL reads it as a CRL, the appraisal does not: ");
	return 0;
}

/*
 * The kind of one document, and in @r what it decoded to (initialized by
 * the caller; doc_read_free it whatever the result).
 */
static int classify_read(const char *name, const uint8_t *data, size_t len,
			 enum tdc_doc_kind *k, struct doc_read *r)
{
	size_t i = skip_ws((const char *)data, len, 0);
	int ret;

	if (i < len && data[i] == '{') {
		if ((ret = load_body((const char *)data, len, &r->json)) != 0)
			return tdc_err_wrap(ret, "collateral %s: ", name);
		if (tdc_jr_get(&r->json, 0, "tcbInfo") >= 0)
			*k = TDC_DOC_TCBINFO;
		else if (tdc_jr_get(&r->json, 0, "enclaveIdentity") >= 0)
			*k = TDC_DOC_QEID;
		else
			return tdc_err(TDC_ERR_FORMAT, "collateral %s: JSON is neither a "
				       "tcbInfo nor an enclaveIdentity document", name);
		return 0;
	}
	if (len - i >= 27 && memcmp(data + i, "-----BEGIN CERTIFICATE-----", 27) == 0) {
		*k = TDC_DOC_CERTS;
		return 0;
	}
	*k = TDC_DOC_CRL;
	if ((ret = crl_read(data, len, r)) == TDC_ERR_FORMAT)
		return tdc_err(TDC_ERR_FORMAT, "collateral %s: not a TCB info, QE identity, CRL "
			       "(DER, PEM or hex) or PEM certificate file", name);
	return ret ? tdc_err_wrap(ret, "collateral %s: ", name) : 0;
}

static void doc_read_init(struct doc_read *r)
{
	memset(r, 0, sizeof(*r));
	tdc_buf_init(&r->der);
}

/* One document of a known @kind, DER for a CRL: kept as it is. */
static int add_doc(struct tdc_collateral *c, const char *name, enum tdc_doc_kind kind,
		   const uint8_t *data, size_t len)
{
	struct tdc_coll_doc *d = &c->docs[c->n_docs];

	if (!(d->data = malloc(len ? len : 1)))
		return tdc_err(TDC_ERR_ALLOC, "collateral %s", name);
	memcpy(d->data, data, len);
	d->len = len;
	d->kind = kind;
	snprintf(d->name, sizeof(d->name), "%s", name);
	tdc_sha256(data, len, d->sha256);
	c->n_docs++;
	return 0;
}

static int add_check_room(struct tdc_collateral *c, const char *name, size_t len)
{
	if (c->n_docs >= TDC_COLL_MAX_FILES)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral: more than %d documents",
			       TDC_COLL_MAX_FILES);
	if (len > TDC_COLL_FILE_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral %s: %zu bytes exceeds %u",
			       name, len, TDC_COLL_FILE_MAX);
	return 0;
}

int tdc_collateral_add(struct tdc_collateral *c, const char *name, const uint8_t *data,
		       size_t len)
{
	enum tdc_doc_kind kind = TDC_DOC_CRL;
	struct doc_read r;
	int ret;

	if ((ret = add_check_room(c, name, len)) != 0)
		return ret;
	doc_read_init(&r);
	if ((ret = classify_read(name, data, len, &kind, &r)) == 0) {
		if (kind == TDC_DOC_CERTS)
			ret = add_pem_certs(c, name, data, len);
		else if (kind == TDC_DOC_CRL) /* kept as DER whatever it came in */
			ret = add_doc(c, name, kind, r.der.data, r.der.len);
		else
			ret = add_doc(c, name, kind, data, len);
	}
	doc_read_free(&r);
	return ret;
}

int tdc_collateral_add_verified(struct tdc_collateral *c, const char *name,
				const struct tdc_doc_info *info, const uint8_t *data, size_t len)
{
	struct tdc_buf der;
	int ret;

	if ((ret = add_check_room(c, name, len)) != 0)
		return ret;
	if (info->kind == TDC_DOC_CERTS)
		return add_pem_certs(c, name, data, len);
	if (info->kind != TDC_DOC_CRL || info->der)
		return add_doc(c, name, info->kind, data, len);
	tdc_buf_init(&der);
	if ((ret = tdc_crl_to_der(data, len, &der)) == 0)
		ret = add_doc(c, name, TDC_DOC_CRL, der.data, der.len);
	else
		ret = tdc_err_wrap(ret, "collateral %s: ", name);
	tdc_buf_free(&der);
	return ret;
}

int tdc_collateral_add_certs(struct tdc_collateral *c, STACK_OF(X509) *certs)
{
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (!X509_up_ref(x))
			return tdc_err(TDC_ERR_ALLOC, "collateral certificates");
		if (pool_push(c, x) != 0) {
			X509_free(x);
			return tdc_err(TDC_ERR_ALLOC, "collateral certificates");
		}
	}
	return 0;
}

static int load_one(struct tdc_collateral *c, const char *dir, const char *name)
{
	char path[4096];
	struct tdc_buf b;
	struct stat st;
	int ret;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return tdc_err(TDC_ERR_RANGE, "collateral: path too long: %s/%s", dir, name);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	tdc_buf_init(&b);
	if ((ret = tdc_read_file(path, TDC_COLL_FILE_MAX, &b)) == 0)
		ret = tdc_collateral_add(c, name, b.data, b.len);
	tdc_buf_free(&b);
	return ret;
}

int tdc_collateral_load_dir(const char *dir, struct tdc_collateral **out)
{
	struct dirent **names = NULL;
	struct tdc_collateral *c = NULL;
	int n, ret;

	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "collateral directory %s: %m", dir);
	if ((ret = tdc_collateral_new(&c)) != 0)
		goto out;
	for (int i = 0; i < n && ret == 0; i++)
		if (names[i]->d_name[0] != '.')
			ret = load_one(c, dir, names[i]->d_name);
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (ret) {
		tdc_collateral_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* ---- cache --------------------------------------------------------------- */

int tdc_collateral_cache_new(struct tdc_collateral_cache **out)
{
	struct tdc_collateral_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return tdc_err(TDC_ERR_ALLOC, "collateral cache");
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

bool tdc_collateral_cache_has_room(struct tdc_collateral_cache *c)
{
	bool room;

	pthread_mutex_lock(&c->lock);
	/* One appraisal adds at most one entry per document plus a chain and a
	 * key; keep that much headroom below the cap. */
	room = c->n - c->nkeys + 2 * TDC_COLL_MAX_FILES + 2 < TDC_CACHE_MAX_ENTRIES;
	pthread_mutex_unlock(&c->lock);
	return room;
}

static void entry_free(struct tdc_cache_entry *e)
{
	if (e->kind == TDC_DOC_TCBINFO && e->obj)
		tdc_tcbinfo_free(e->obj);
	else if (e->kind == TDC_DOC_QEID && e->obj)
		tdc_qe_identity_free(e->obj);
	else if (e->kind == TDC_DOC_CRL)
		tdc_crl_free(e->obj);
	else if (e->kind == TDC_DOC_CERTS && e->obj)
		tdc_verified_chain_free(e->obj);
	else if (e->kind == TDC_DOC_ATTKEY)
		EVP_PKEY_free(e->obj);
	if (e->kind != TDC_DOC_CRL && e->kind != TDC_DOC_ATTKEY)
		free(e->obj);
	X509_free(e->signer);
}

void tdc_collateral_cache_free(struct tdc_collateral_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		entry_free(c->e[i]);
		free(c->e[i]);
	}
	free(c->e);
	X509_free(c->root);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void tdc_cache_root_sha256(struct tdc_collateral_cache *c, X509 *root, uint8_t out[32])
{
	bool hit;

	if (!c) {
		tdc_cert_sha256(root, out);
		return;
	}
	pthread_mutex_lock(&c->lock);
	/* X509_cmp compares the full encoding, not just a hash. */
	hit = c->root && X509_cmp(c->root, root) == 0;
	if (hit)
		memcpy(out, c->root_sha, 32);
	pthread_mutex_unlock(&c->lock);
	if (hit)
		return;
	tdc_cert_sha256(root, out);
	pthread_mutex_lock(&c->lock);
	if (X509_up_ref(root)) {
		X509_free(c->root);
		c->root = root;
		memcpy(c->root_sha, out, 32);
	}
	pthread_mutex_unlock(&c->lock);
}

void tdc_verified_chain_free(struct tdc_verified_chain *v)
{
	X509_free(v->leaf);
	X509_free(v->inter);
	X509_free(v->root);
}

/* Key: SHA-256(document hash || hash of what it was verified against). */
void tdc_cache_key(const uint8_t doc_sha[32], const uint8_t anchor_sha[32], uint8_t key[32])
{
	uint8_t buf[64];

	memcpy(buf, doc_sha, 32);
	memcpy(buf + 32, anchor_sha, 32);
	tdc_sha256(buf, sizeof(buf), key);
}

/* Entries are never removed or changed once visible except verified 0 -> 1
 * (attestation keys aside: tdc_cache_attkey_*, never returned from here). */
struct tdc_cache_entry *tdc_cache_find(struct tdc_collateral_cache *c,
				       const uint8_t key[32], enum tdc_doc_kind kind)
{
	struct tdc_cache_entry *hit = NULL;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i]->kind == kind && memcmp(c->e[i]->key, key, 32) == 0) {
			hit = c->e[i];
			break;
		}
	/* A remembered "not this document" is a hit too: no work redone. */
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

int tdc_cache_put(struct tdc_collateral_cache *c, const struct tdc_cache_entry *in,
		  struct tdc_cache_entry **out)
{
	struct tdc_cache_entry *e = malloc(sizeof(*e));
	int ret = 0;

	if (!e)
		return tdc_err(TDC_ERR_ALLOC, "collateral cache");
	*e = *in;
	pthread_mutex_lock(&c->lock);
	if (c->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 16;
		struct tdc_cache_entry **ne;

		/* Entries are separate allocations, so growing the index never
		 * moves an entry another appraisal is using. */
		if (!(ne = realloc(c->e, ncap * sizeof(*ne)))) {
			ret = tdc_err(TDC_ERR_ALLOC, "collateral cache");
			free(e);
			goto out;
		}
		c->e = ne;
		c->cap = ncap;
	}
	c->e[c->n++] = e;
	*out = e;
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

EVP_PKEY *tdc_cache_attkey_get(struct tdc_collateral_cache *c, const uint8_t key[32])
{
	EVP_PKEY *k = NULL;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++) {
		struct tdc_cache_entry *e = c->e[i];

		if (e->kind == TDC_DOC_ATTKEY && memcmp(e->key, key, 32) == 0) {
			if (EVP_PKEY_up_ref(e->obj) == 1) {
				k = e->obj;
				e->used = ++c->tick;
			}
			break;
		}
	}
	if (k)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	return k;
}

void tdc_cache_attkey_put(struct tdc_collateral_cache *c, const uint8_t key[32], EVP_PKEY *k)
{
	struct tdc_cache_entry *e = NULL, *old = NULL;
	size_t lru = SIZE_MAX;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i]->kind != TDC_DOC_ATTKEY)
			continue;
		if (memcmp(c->e[i]->key, key, 32) == 0)
			goto out; /* another appraisal was first */
		if (lru == SIZE_MAX || c->e[i]->used < c->e[lru]->used)
			lru = i;
	}
	if (c->nkeys >= TDC_CACHE_MAX_KEYS && lru != SIZE_MAX) {
		/* Appraisals using it hold their own reference: dropping ours is safe. */
		old = c->e[lru];
		c->e[lru] = c->e[--c->n];
		c->nkeys--;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 16;
		struct tdc_cache_entry **ne = realloc(c->e, ncap * sizeof(*ne));

		if (!ne)
			goto out;
		c->e = ne;
		c->cap = ncap;
	}
	if (!(e = calloc(1, sizeof(*e))) || EVP_PKEY_up_ref(k) != 1) {
		free(e);
		goto out;
	}
	memcpy(e->key, key, 32);
	e->kind = TDC_DOC_ATTKEY;
	e->obj = k;
	e->verified = true;
	e->used = ++c->tick;
	c->e[c->n++] = e;
	c->nkeys++;
out:
	pthread_mutex_unlock(&c->lock);
	if (old) {
		entry_free(old);
		free(old);
	}
}

/* ---- selection and verification ------------------------------------------ */

struct sel_ctx {
	struct tdc_collateral *c;
	struct tdc_collateral_cache *cache;
	const struct tdc_coll_inputs *in;
	struct tdc_check_list *checks;
	const struct tdc_crl *root_crl;
	X509 *signer_ok;            /* verified by the root in this appraisal */
	struct tdc_crl *parsed[TDC_COLL_MAX_FILES]; /* CRL documents read in this appraisal */
	bool given[TDC_COLL_MAX_FILES]; /* parsed[i] now owned by a cache entry */
};

static void report(struct sel_ctx *s, const char *name, bool pass, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A record that cannot be stored poisons the list: the return is not needed. */
static void report(struct sel_ctx *s, const char *name, bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tdc_check_vadd(s->checks, name, pass ? TDC_CHECK_PASS : TDC_CHECK_FAIL, NULL, fmt, ap);
	va_end(ap);
}

static bool revoked_by(const struct tdc_crl *crl, X509 *cert)
{
	return crl && tdc_crl_revokes(crl, cert);
}

static int crl_valid_at(const struct tdc_window *w, time_t at)
{
	if (w->not_after < w->not_before)
		return tdc_err(TDC_ERR_COLLATERAL, "CRL has no usable thisUpdate/nextUpdate");
	if (at < w->not_before)
		return tdc_err(TDC_ERR_COLLATERAL, "not yet valid at the appraisal time");
	if (at > w->not_after)
		return tdc_err(TDC_ERR_COLLATERAL, "expired (nextUpdate passed) at the "
			       "appraisal time");
	return 0;
}

/*
 * RFC 5280 5.2, 5.3: a CRL with a critical extension that is not processed
 * here (a scope, a delta, an indirect entry) must not be used — OpenSSL's
 * own CRL check refuses it too; Intel's CRLs carry none.  Its issuer must
 * be allowed to sign CRLs.
 */
static int crl_usable(const struct tdc_crl *crl, X509 *issuer, const char *name)
{
	if (crl->critical)
		return tdc_err(TDC_ERR_FORMAT, "CRL %s: has a critical extension that is not "
			       "processed (scope, delta or indirect CRLs are not supported)", name);
	if (!(X509_get_key_usage(issuer) & KU_CRL_SIGN))
		return tdc_err(TDC_ERR_CHAIN, "CRL %s: its issuer's keyUsage does not allow "
			       "cRLSign", name);
	return 0;
}

/* The CRL of document @i, read once per appraisal: both issuers look at
 * every CRL. */
static int parsed_crl(struct sel_ctx *s, struct tdc_coll_doc *d, struct tdc_crl **out)
{
	size_t i = (size_t)(d - s->c->docs);
	int ret;

	if (!s->parsed[i] && (ret = tdc_crl_read(d->data, d->len, &s->parsed[i])) != 0)
		return tdc_err_wrap(ret, "%s: ", d->name);
	*out = s->parsed[i];
	return 0;
}

/* One CRL document checked against @issuer: a verified entry, a remembered
 * "other issuer" entry, or an error (never cached). */
static int crl_entry(struct sel_ctx *s, struct tdc_coll_doc *d, X509 *issuer,
		     const uint8_t *issuer_sha, struct tdc_cache_entry **out)
{
	struct tdc_cache_entry e = { 0 };
	size_t i = (size_t)(d - s->c->docs);
	struct tdc_crl *crl;
	int ret;

	tdc_cache_key(d->sha256, issuer_sha, e.key);
	if ((*out = tdc_cache_find(s->cache, e.key, TDC_DOC_CRL)))
		return 0;
	if ((ret = parsed_crl(s, d, &crl)) != 0)
		return ret;
	e.kind = TDC_DOC_CRL;
	if (X509_NAME_cmp(crl->issuer, X509_get_subject_name(issuer)) != 0)
		/* Not a failure of this CRL, just not the one wanted. */
		return tdc_cache_put(s->cache, &e, out);
	if ((ret = crl_usable(crl, issuer, d->name)) != 0)
		return ret;
	/* The issuer's link to the root was verified by X509_verify_cert
	 * (the quote's chain, or the root itself); the signature is over the
	 * exact TBS bytes. */
	if ((ret = tdc_crl_verify(crl, X509_get0_pubkey(issuer))) != 0)
		return tdc_err(TDC_ERR_SIGNATURE, "CRL %s: signature does not verify with its "
			       "issuer's key", d->name);
	/* The entry takes the CRL over; one that another entry already has
	 * (one issuer name for two keys) is read again for this one. */
	if (s->given[i] && (ret = tdc_crl_read(d->data, d->len, &crl)) != 0)
		return tdc_err_wrap(ret, "%s: ", d->name);
	e.obj = crl;
	e.verified = true;
	e.signer_window = crl->window;
	if ((ret = tdc_cache_put(s->cache, &e, out)) != 0) {
		if (s->given[i])
			tdc_crl_free(crl);
		return ret;
	}
	s->given[i] = true;
	return 0;
}

/* The newest CRL (latest thisUpdate) issued by @issuer. */
static int find_crl(struct sel_ctx *s, X509 *issuer, const uint8_t *issuer_sha,
		    const struct tdc_crl **out, const char **name, const struct tdc_window **win)
{
	struct tdc_cache_entry *best = NULL;
	int ret, first_err = 0;

	for (size_t i = 0; i < s->c->n_docs; i++) {
		struct tdc_coll_doc *d = &s->c->docs[i];
		struct tdc_cache_entry *e;

		if (d->kind != TDC_DOC_CRL)
			continue;
		if ((ret = crl_entry(s, d, issuer, issuer_sha, &e)) != 0) {
			if (!first_err)
				first_err = ret;
			continue;
		}
		if (!e->verified)
			continue;
		if (!best || e->signer_window.not_before > best->signer_window.not_before) {
			best = e;
			*name = d->name;
		}
	}
	if (!best)
		return first_err ? first_err :
		       tdc_err(TDC_ERR_MISSING, "no CRL issued by this CA in the collateral");
	*out = best->obj;
	*win = &best->signer_window;
	return 0;
}

static void issuer_cn(X509 *x, char *buf, size_t len)
{
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf,
				      (int)len) < 0)
		snprintf(buf, len, "?");
}

static int check_crls(struct sel_ctx *s, struct tdc_coll_selected *sel)
{
	const struct tdc_window *win = NULL;
	char cn[128];
	int ret, fail = 0;

	if ((ret = find_crl(s, s->in->root, s->in->root_sha, &sel->root_crl,
			    &sel->root_crl_name, &win)) == 0) {
		sel->root_crl_window = *win;
		ret = crl_valid_at(win, s->in->at);
	}
	report(s, "collateral.root_crl", ret == 0, "%s%s%s",
		  sel->root_crl_name ? sel->root_crl_name : "root CA CRL",
		  ret ? ": " : " verified with the root CA key, current",
		  ret ? tdc_errdetail() : "");
	fail |= ret != 0;
	s->root_crl = ret == 0 ? sel->root_crl : NULL;

	issuer_cn(s->in->pck_issuer, cn, sizeof(cn));
	if ((ret = find_crl(s, s->in->pck_issuer, s->in->issuer_sha, &sel->pck_crl,
			    &sel->pck_crl_name, &win)) == 0) {
		sel->pck_crl_window = *win;
		ret = crl_valid_at(win, s->in->at);
	}
	report(s, "collateral.pck_crl", ret == 0, "%s (issuer %s)%s%s",
		  sel->pck_crl_name ? sel->pck_crl_name : "PCK CRL", cn,
		  ret ? ": " : " verified, current", ret ? tdc_errdetail() : "");
	fail |= ret != 0;
	if (!fail && revoked_by(sel->root_crl, s->in->pck_issuer)) {
		report(s, "pck_chain.intermediate_revoked", false,
			  "intermediate CA %s is revoked by the root CA CRL", cn);
		fail = 1;
	}
	return fail ? TDC_ERR_COLLATERAL : 0;
}

/* Find the pool certificate whose key verifies @sig over @body; it must be
 * issued by the trusted root. */
static int find_signer(struct sel_ctx *s, const char *body, size_t len,
		       const uint8_t sig[64], X509 **out)
{
	int ret;

	for (int i = 0; i < sk_X509_num(s->c->certs); i++) {
		X509 *x = sk_X509_value(s->c->certs, i);

		if (X509_check_ca(x) != 0)
			continue; /* signing keys are end-entity certificates */
		if (tdc_ecdsa_verify_rs(X509_get0_pubkey(x), (const uint8_t *)body, len, sig))
			continue;
		/* TCB info and QE identity share their signer: its link to the
		 * root is verified once per appraisal. */
		if (x != s->signer_ok && (ret = issued_by_root(s->in->store, s->in->root, x,
							       s->in->at, "signing certificate")) != 0)
			return ret;
		s->signer_ok = x;
		X509_up_ref(x);
		*out = x;
		return 0;
	}
	return tdc_err(TDC_ERR_SIGNATURE, "signature does not verify with any "
		       "signing certificate in the collateral (wrong signer?)");
}

typedef int (*parse_fn)(struct tdc_jr *, int, void *);
typedef void (*free_fn)(void *);

struct doc_type {
	enum tdc_doc_kind kind;
	const char *key;            /* member holding the signed object */
	const char *what;
	size_t size;
	parse_fn parse;             /* the member, read with its envelope */
	free_fn free;
};

static const struct doc_type tcbinfo_type = {
	TDC_DOC_TCBINFO, "tcbInfo", "TCB info", sizeof(struct tdc_tcbinfo),
	(parse_fn)tcbinfo_fields, (free_fn)tdc_tcbinfo_free,
};
static const struct doc_type qeid_type = {
	TDC_DOC_QEID, "enclaveIdentity", "QE identity", sizeof(struct tdc_qe_identity),
	(parse_fn)qe_identity_fields, (free_fn)tdc_qe_identity_free,
};

/*
 * Parse (once) and return the cache entry of one signed JSON document.  The
 * signature and the signed member's place are kept in the entry, so that
 * verifying it later needs no second parse.
 */
static int doc_entry(struct sel_ctx *s, const struct doc_type *t, struct tdc_coll_doc *d,
		     struct tdc_cache_entry **out)
{
	struct tdc_cache_entry e = { 0 };
	struct tdc_jr j;
	size_t start = 0, end = 0;
	int member = -1, ret;

	tdc_cache_key(d->sha256, s->in->root_sha, e.key);
	if ((*out = tdc_cache_find(s->cache, e.key, t->kind)))
		return 0;
	if ((ret = signed_split((const char *)d->data, d->len, t->key, &j, &member, &start,
				&end, e.sig)) != 0)
		return ret;
	e.body_off = start;
	e.body_len = end - start;
	if (!(e.obj = calloc(1, t->size))) {
		tdc_jr_free(&j);
		return tdc_err(TDC_ERR_ALLOC, "%s", t->what);
	}
	ret = t->parse(&j, member, e.obj);
	tdc_jr_free(&j);
	if (ret != 0) {
		free(e.obj);
		return ret;
	}
	e.kind = t->kind;
	if ((ret = tdc_cache_put(s->cache, &e, out)) != 0) {
		t->free(e.obj);
		free(e.obj);
	}
	return ret;
}

/* Verify the signature of a parsed-but-unverified entry (@d holds the bytes
 * the entry was keyed by, so its recorded span is valid there). */
static int doc_verify(struct sel_ctx *s, const struct doc_type *t, struct tdc_coll_doc *d,
		      struct tdc_cache_entry *e)
{
	X509 *signer = NULL;
	bool done;
	int ret;

	pthread_mutex_lock(&s->cache->lock);
	done = e->verified;
	pthread_mutex_unlock(&s->cache->lock);
	if (done)
		return 0;
	if (e->body_off + e->body_len > d->len)
		return tdc_err(TDC_ERR_INTERNAL, "%s: signed span outside the document", t->what);
	if ((ret = find_signer(s, (const char *)d->data + e->body_off, e->body_len, e->sig,
			       &signer)) != 0)
		return ret;
	pthread_mutex_lock(&s->cache->lock);
	if (!e->verified) {
		tdc_cert_window(signer, &e->signer_window);
		e->signer = signer;
		e->verified = true;
		signer = NULL;
	}
	pthread_mutex_unlock(&s->cache->lock);
	X509_free(signer);
	return 0;
}

static bool tcbinfo_matches(const struct sel_ctx *s, const void *obj)
{
	return memcmp(((const struct tdc_tcbinfo *)obj)->fmspc, s->in->fmspc, 6) == 0;
}

static bool qeid_matches(const struct sel_ctx *s, const void *obj)
{
	return true; /* the parser accepts only TD_QE version 2 */
}

static time_t doc_issue(const struct doc_type *t, const void *obj)
{
	return t->kind == TDC_DOC_TCBINFO ? ((const struct tdc_tcbinfo *)obj)->issue_date :
					    ((const struct tdc_qe_identity *)obj)->issue_date;
}

static int doc_time_check(const struct sel_ctx *s, const struct doc_type *t,
			  const void *obj, const struct tdc_cache_entry *e)
{
	time_t issue = doc_issue(t, obj), next;
	const char *next_str;
	int ret;

	if (t->kind == TDC_DOC_TCBINFO) {
		next = ((const struct tdc_tcbinfo *)obj)->next_update;
		next_str = ((const struct tdc_tcbinfo *)obj)->next_update_str;
	} else {
		next = ((const struct tdc_qe_identity *)obj)->next_update;
		next_str = ((const struct tdc_qe_identity *)obj)->next_update_str;
	}
	if (s->in->at < issue)
		return tdc_err(TDC_ERR_COLLATERAL, "%s is not yet valid (issueDate after the "
			       "appraisal time)", t->what);
	if (s->in->at > next)
		return tdc_err(TDC_ERR_COLLATERAL, "%s has expired (nextUpdate %s)", t->what,
			       next_str);
	if ((ret = tdc_window_valid_at(&e->signer_window, s->in->at,
				       "its signing certificate")) != 0)
		return tdc_err_wrap(ret, "%s: ", t->what);
	if (s->root_crl && revoked_by(s->root_crl, e->signer))
		return tdc_err(TDC_ERR_CHAIN, "%s: signing certificate revoked by the root "
			       "CA CRL", t->what);
	return 0;
}

/* A TCB info whose text names another platform: passed over unparsed. */
static bool tcbinfo_other(const struct sel_ctx *s, const struct tdc_coll_doc *d)
{
	uint8_t fmspc[6];

	return tdc_tcbinfo_peek_fmspc(d->data, d->len, fmspc) && memcmp(fmspc, s->in->fmspc, 6);
}

struct pick {
	struct tdc_cache_entry *best;
	struct tdc_coll_doc *doc;
	int first_err, n_other;
	char err[512];
};

/*
 * The newest verified document of type @t that applies to this quote.  With
 * @other, documents it names as not applying are passed over without being
 * parsed or verified: they could not have been chosen (tcbinfo_other).
 */
static void pick_doc(struct sel_ctx *s, const struct doc_type *t,
		     bool (*matches)(const struct sel_ctx *, const void *),
		     bool (*other)(const struct sel_ctx *, const struct tdc_coll_doc *),
		     struct pick *p)
{
	int ret;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < s->c->n_docs; i++) {
		struct tdc_coll_doc *d = &s->c->docs[i];
		struct tdc_cache_entry *e;

		if (d->kind != t->kind)
			continue;
		if (other && other(s, d)) {
			p->n_other++;
			continue;
		}
		if ((ret = doc_entry(s, t, d, &e)) != 0 ||
		    (matches(s, e->obj) && (ret = doc_verify(s, t, d, e)) != 0)) {
			if (!p->first_err) {
				p->first_err = ret;
				snprintf(p->err, sizeof(p->err), "%s: %s", d->name, tdc_errdetail());
			}
			continue;
		}
		if (!matches(s, e->obj)) {
			p->n_other++;
			continue;
		}
		if (!p->best || doc_issue(t, e->obj) > doc_issue(t, p->best->obj)) {
			p->best = e;
			p->doc = d;
		}
	}
}

/*
 * Choose the newest verified document of type @t that applies to this quote
 * and report its signature and validity checks.  When nothing applies, the
 * documents passed over are looked at in full as well, so that the failure
 * names the first error in any of them, as it would without passing over.
 */
static int select_doc(struct sel_ctx *s, const struct doc_type *t,
		      bool (*matches)(const struct sel_ctx *, const void *),
		      bool (*other)(const struct sel_ctx *, const struct tdc_coll_doc *),
		      const void **obj, const char **name)
{
	struct pick p;
	char sig_check[64], time_check[64];
	int ret;

	snprintf(sig_check, sizeof(sig_check), "collateral.%s",
		 t->kind == TDC_DOC_TCBINFO ? "tcb_info" : "qe_identity");
	snprintf(time_check, sizeof(time_check), "%s.validity", sig_check);
	pick_doc(s, t, matches, other, &p);
	if (!p.best && other)
		pick_doc(s, t, matches, NULL, &p);
	if (!p.best) {
		if (p.first_err)
			report(s, sig_check, false, "%s", p.err);
		else if (t->kind == TDC_DOC_TCBINFO)
			report(s, sig_check, false, "no TCB info for FMSPC "
				  "%02x%02x%02x%02x%02x%02x in the collateral (%d for other "
				  "FMSPCs)", s->in->fmspc[0], s->in->fmspc[1], s->in->fmspc[2],
				  s->in->fmspc[3], s->in->fmspc[4], s->in->fmspc[5], p.n_other);
		else
			report(s, sig_check, false, "no TD_QE identity in the collateral");
		return p.first_err ? p.first_err : TDC_ERR_COLLATERAL;
	}
	report(s, sig_check, true, "%s: signature and issuer chain verified", p.doc->name);
	ret = doc_time_check(s, t, p.best->obj, p.best);
	report(s, time_check, ret == 0, "%s%s", ret ? "" : "current at the appraisal "
		  "time", ret ? tdc_errdetail() : "");
	*obj = p.best->obj;
	*name = p.doc->name;
	return ret;
}

int tdc_collateral_select(struct tdc_collateral *c, struct tdc_collateral_cache *cache,
			  const struct tdc_coll_inputs *in, struct tdc_check_list *checks,
			  struct tdc_coll_selected *sel)
{
	struct sel_ctx s = { .c = c, .cache = cache, .in = in, .checks = checks };
	const void *obj = NULL;
	int ret, fail = 0;

	memset(sel, 0, sizeof(*sel));
	if (in->use_crl && check_crls(&s, sel) != 0)
		fail = 1;
	ret = select_doc(&s, &tcbinfo_type, tcbinfo_matches, tcbinfo_other, &obj,
			 &sel->tcbinfo_name);
	sel->tcbinfo = obj;
	fail |= ret != 0;
	obj = NULL;
	ret = select_doc(&s, &qeid_type, qeid_matches, NULL, &obj, &sel->qeid_name);
	sel->qeid = obj;
	fail |= ret != 0;
	for (size_t i = 0; i < c->n_docs; i++)
		if (!s.given[i])
			tdc_crl_free(s.parsed[i]);
	return fail ? TDC_ERR_COLLATERAL : 0;
}

/* ---- one document on its own (fetching, the on-disk cache, `collateral`) -- */

static void cn_of(const X509_NAME *n, char *buf, size_t len)
{
	if (X509_NAME_get_text_by_NID((X509_NAME *)n, NID_commonName, buf, (int)len) < 0)
		snprintf(buf, len, "?");
}

/*
 * A signed JSON document already read (@j, from classify_read) into @info;
 * @body/@sig for verification.  The signed member is taken from the
 * envelope's tokens, not read again.
 */
static int json_doc_info(struct tdc_jr *j, const uint8_t *data, enum tdc_doc_kind kind,
			 struct tdc_doc_info *info, const char **body, size_t *body_len,
			 uint8_t sig[64])
{
	const char *key = kind == TDC_DOC_TCBINFO ? "tcbInfo" : "enclaveIdentity";
	struct tdc_doc_info tmp = { .kind = kind };
	size_t start = 0, end = 0;
	int member = -1, ret;

	if ((ret = signed_member(j, key, &member, &start, &end, sig)) != 0)
		return ret;
	*body = (const char *)data + start;
	*body_len = end - start;
	if (kind == TDC_DOC_TCBINFO) {
		struct tdc_tcbinfo t;

		if ((ret = tcbinfo_fields(j, member, &t)) != 0)
			return ret;
		tmp.issue = t.issue_date;
		tmp.next = t.next_update;
		tmp.has_fmspc = true;
		memcpy(tmp.fmspc, t.fmspc, 6);
		tmp.eval_number = t.eval_number;
		snprintf(tmp.id, sizeof(tmp.id), "TDX");
		tdc_tcbinfo_free(&t);
	} else {
		struct tdc_qe_identity q;

		if ((ret = qe_identity_fields(j, member, &q)) != 0)
			return ret;
		tmp.issue = q.issue_date;
		tmp.next = q.next_update;
		tmp.eval_number = q.eval_number;
		snprintf(tmp.id, sizeof(tmp.id), "TD_QE");
		tdc_qe_identity_free(&q);
	}
	*info = tmp;
	return 0;
}

/* A CRL already read (classify_read) into @info. */
static void crl_doc_info(const struct tdc_crl *crl, struct tdc_doc_info *info)
{
	memset(info, 0, sizeof(*info));
	info->kind = TDC_DOC_CRL;
	info->issue = crl->window.not_before;
	info->next = crl->window.not_after;
	cn_of(crl->issuer, info->signer, sizeof(info->signer));
}

/* Classified and decoded once; a certificate file is not collateral. */
static int doc_read(const uint8_t *data, size_t len, enum tdc_doc_kind *kind,
		    struct doc_read *r)
{
	int ret;

	doc_read_init(r);
	if ((ret = classify_read("document", data, len, kind, r)) != 0)
		return ret;
	if (*kind == TDC_DOC_CERTS)
		return tdc_err(TDC_ERR_FORMAT, "document is a certificate file, not collateral");
	return 0;
}

/* A signed JSON document: signed by an end-entity certificate of @chain
 * that @root issued. */
static int verify_json(const char *body, size_t body_len, const uint8_t sig[64],
		       STACK_OF(X509) *chain, X509 *root, struct tdc_doc_info *info)
{
	int n = chain ? sk_X509_num(chain) : 0;
	char what[192];

	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_check_ca(x) != 0 ||
		    tdc_ecdsa_verify_rs(X509_get0_pubkey(x), (const uint8_t *)body, body_len,
					sig) != 0)
			continue;
		cn_of(X509_get_subject_name(x), info->signer, sizeof(info->signer));
		snprintf(what, sizeof(what), "signing certificate \"%s\" of the issuer chain",
			 info->signer);
		return issued_by_root(NULL, root, x, time(NULL), what);
	}
	return tdc_err(TDC_ERR_SIGNATURE, "signature does not verify with any end-entity "
		       "certificate of the issuer chain (%d certificates)", n);
}

/* A CRL: issued by @root itself or by a CA of @chain that @root issued. */
static int verify_crl(const struct tdc_crl *crl, STACK_OF(X509) *chain, X509 *root,
		      const struct tdc_doc_info *info)
{
	int ret, n = chain ? sk_X509_num(chain) : 0;
	char what[192];

	if (!X509_NAME_cmp(crl->issuer, X509_get_subject_name(root))) {
		if ((ret = crl_usable(crl, root, "document")) != 0)
			return ret;
		return tdc_crl_verify(crl, X509_get0_pubkey(root)) == 0 ? 0 :
		       tdc_err(TDC_ERR_SIGNATURE, "CRL signature does not verify with the root key");
	}
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_NAME_cmp(crl->issuer, X509_get_subject_name(x)) != 0)
			continue;
		if (!X509_check_ca(x))
			return tdc_err(TDC_ERR_CHAIN, "CRL issuer \"%s\" is not a CA", info->signer);
		snprintf(what, sizeof(what), "CRL issuer \"%s\"", info->signer);
		if ((ret = issued_by_root(NULL, root, x, time(NULL), what)) != 0 ||
		    (ret = crl_usable(crl, x, "document")) != 0)
			return ret;
		return tdc_crl_verify(crl, X509_get0_pubkey(x)) == 0 ? 0 :
		       tdc_err(TDC_ERR_SIGNATURE, "CRL signature does not verify with its "
			       "issuer's key");
	}
	return tdc_err(TDC_ERR_CHAIN, "CRL issuer \"%s\" is neither the trusted root nor a "
		       "CA of the issuer chain", info->signer);
}

/* What a document is (and, with @verify, whether @chain and @root sign it). */
static int doc_info(const uint8_t *data, size_t len, bool verify, STACK_OF(X509) *chain,
		    X509 *root, struct tdc_doc_info *info)
{
	enum tdc_doc_kind kind = TDC_DOC_CRL;
	const char *body = NULL;
	size_t body_len = 0;
	uint8_t sig[64];
	struct doc_read r;
	int ret;

	if ((ret = doc_read(data, len, &kind, &r)) == 0) {
		if (kind != TDC_DOC_CRL) {
			if ((ret = json_doc_info(&r.json, data, kind, info, &body, &body_len,
						 sig)) == 0 && verify)
				ret = verify_json(body, body_len, sig, chain, root, info);
		} else {
			crl_doc_info(r.crl, info);
			info->der = r.was_der;
			if (verify)
				ret = verify_crl(r.crl, chain, root, info);
		}
	}
	doc_read_free(&r);
	return ret;
}

int tdc_collateral_doc_info(const uint8_t *data, size_t len, struct tdc_doc_info *info)
{
	return doc_info(data, len, false, NULL, NULL, info);
}

int tdc_collateral_verify_doc(const uint8_t *data, size_t len, STACK_OF(X509) *chain,
			      X509 *root, struct tdc_doc_info *info)
{
	return doc_info(data, len, true, chain, root, info);
}
