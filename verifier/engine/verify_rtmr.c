// SPDX-License-Identifier: Apache-2.0
/*
 * The rtmr3 binding (docs/evidence.md "RTMR3 binding"): the claims are bound
 * by an AAEL event in RTMR3, not by REPORTDATA.
 *
 *   eventlog_format      the envelope's event log parses (lib/eventlog.c)
 *   rtmr3_replay         replaying CC MR index 4 gives the attested RTMR3
 *   rtmr3_claims_event   the last tdcpuid RTMR3 event is "urn:tdcpuid
 *                        cpuid-claims sha384:<SHA-384(tag||0||claims)>" for
 *                        exactly these claim bytes, and its digest is the hash
 *                        of its own data (so the register was extended with
 *                        what it says); older claims are superseded
 *   rtmr3_events         every other RTMR3 event, reported, not judged
 *   rtmr0_2_replay       whether the log also explains RTMR0..2 (info only:
 *                        firmware measurements are the pipeline's business)
 * Only the replayed register is evidence: a log is just a claim about how
 * the register got its value, and an event counts only because its digest
 * is in the replay that matches the hardware.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "verify_rtmr.h"

static void hex8(const uint8_t *p, char out[17])
{
	tdc_hex_encode(p, 8, out);
}

/* Append "; text" to @b within @cap (truncated with "..." when full). */
static void list_add(char *b, size_t cap, const char *text, size_t len)
{
	size_t used = strlen(b);

	if (used + 4 >= cap)
		return;
	if (used + 2 + len + 4 >= cap) {
		snprintf(b + used, cap - used, "%s...", used ? "; " : "");
		return;
	}
	snprintf(b + used, cap - used, "%s%.*s", used ? "; " : "", (int)len, text);
}

static int other_events(const struct tdc_eventlog *l, size_t claims_ev,
			struct tdc_check_result *res)
{
	char list[TDC_CHECK_DETAIL_MAX - 48] = "";
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct tdc_event *e = &l->ev[i];
		struct tdc_aael a;
		char what[96];

		if (i == claims_ev || e->mr_index != TDC_CCMR_RTMR3 || e->type == TDC_EV_NO_ACTION)
			continue;
		n++;
		if (tdc_event_aael(e, &a) == 0) {
			list_add(list, sizeof(list), a.text, a.len);
			continue;
		}
		snprintf(what, sizeof(what), "%s at offset %zu",
			 tdc_event_type_name(e->type) ? tdc_event_type_name(e->type) : "event",
			 e->offset);
		list_add(list, sizeof(list), what, strlen(what));
	}
	if (!n)
		return tdc_check_add(&res->checks, "rtmr3_events", TDC_CHECK_INFO,
				     "no other event extended RTMR3");
	return tdc_check_add(&res->checks, "rtmr3_events", TDC_CHECK_INFO,
			     "%zu other RTMR3 event%s (reported, not judged): %s", n,
			     n == 1 ? "" : "s", list);
}

/* The claims event: the one AAEL entry whose content names these claims. */
static int claims_event(const struct tdc_eventlog *l, const struct tdc_buf *claims,
			size_t *found, struct tdc_check_result *res)
{
	char want[TDC_AAEL_CONTENT_LEN + 1];
	size_t ours = 0, bad_digest = 0;
	int r;

	size_t last = SIZE_MAX;

	*found = SIZE_MAX;
	if ((r = tdc_claims_aael_content(claims->data, claims->len, want)) != 0)
		return r;
	for (size_t i = 0; i < l->n; i++) {
		const struct tdc_event *e = &l->ev[i];
		struct tdc_aael a;

		if (e->mr_index != TDC_CCMR_RTMR3 || tdc_event_aael(e, &a) != 0 ||
		    !tdc_aael_is(&a, TDC_AAEL_DOMAIN, TDC_AAEL_OP_CLAIMS))
			continue;
		ours++;
		last = i;
		if (a.len - a.content_off != TDC_AAEL_CONTENT_LEN ||
		    memcmp(a.text + a.content_off, want, TDC_AAEL_CONTENT_LEN) != 0)
			continue;
		/* The text is only a claim unless the extended digest is its hash. */
		if (!tdc_event_digest_matches(e)) {
			bad_digest++;
			continue;
		}
		*found = i;  /* the same claims measured twice: the later one counts */
	}
	/*
	 * Only the TD's latest claims count: an older claims event is still in
	 * RTMR3, and without this rule its claims would verify against every
	 * later quote of the TD (the agent holds its lock until its quote).
	 */
	if (*found != SIZE_MAX && *found != last)
		return tdc_check_add(&res->checks, "rtmr3_claims_event", TDC_CHECK_FAIL,
				     "RTMR3 event %zu names these claims, but tdcpuid event %zu "
				     "recorded newer claims after it: these claims are superseded",
				     *found, last);
	if (*found != SIZE_MAX)
		return tdc_check_add(&res->checks, "rtmr3_claims_event", TDC_CHECK_PASS,
				     "RTMR3 event %zu (offset %zu) is \"%s %s %.23s...\": the "
				     "SHA-384 of these claims, extended into RTMR3, the TD's latest "
				     "tdcpuid claims%s", *found, l->ev[*found].offset, TDC_AAEL_DOMAIN,
				     TDC_AAEL_OP_CLAIMS, want,
				     ours > 1 ? " (earlier tdcpuid events name older claims)" : "");
	if (bad_digest)
		return tdc_check_add(&res->checks, "rtmr3_claims_event", TDC_CHECK_FAIL,
				     "an RTMR3 event names these claims but its digest is not the "
				     "hash of its data: RTMR3 was extended with something else");
	return tdc_check_add(&res->checks, "rtmr3_claims_event", TDC_CHECK_FAIL,
			     "no RTMR3 event records SHA-384 of these claims (%zu tdcpuid event%s "
			     "name other claims): the claims changed after the extension, or "
			     "belong to another TD", ours, ours == 1 ? "" : "s");
}

static int firmware_replay(const struct tdc_eventlog *l, const uint8_t (*rtmr)[48],
			   struct tdc_check_result *res)
{
	char bad[64] = "";
	uint8_t mr[TDC_EVENTLOG_SHA384_LEN];

	for (unsigned i = 0; i < 3; i++) {
		if (tdc_eventlog_replay(l, TDC_CCMR_RTMR0 + i, SIZE_MAX, mr) != 0 ||
		    CRYPTO_memcmp(mr, rtmr[i], sizeof(mr)) != 0)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%sRTMR%u",
				 bad[0] ? ", " : "", i);
	}
	if (!bad[0])
		return tdc_check_add(&res->checks, "rtmr0_2_replay", TDC_CHECK_INFO,
				     "the event log also replays RTMR0..2 (%s)",
				     l->spec_header ? "platform CCEL" : "no Spec ID header");
	return tdc_check_add(&res->checks, "rtmr0_2_replay", TDC_CHECK_INFO,
			     "the event log does not explain %s (firmware measurements are not "
			     "judged here)", bad);
}

int tdc_engine_rtmr3(const struct tdc_envelope *env, bool bound_rtmr3,
		     const uint8_t (*rtmr)[48], struct tdc_check_result *res)
{
	uint8_t mr[TDC_EVENTLOG_SHA384_LEN];
	char a[17], b[17];
	struct tdc_eventlog l;
	size_t found;
	int r;

	if (!env->eventlog.len) {
		if (!bound_rtmr3)
			return 0;
		return tdc_check_add(&res->checks, "rtmr3_claims_event", TDC_CHECK_FAIL,
				     "the claims say binding rtmr3 but the evidence carries no "
				     "event log: nothing ties the claims to the report");
	}
	tdc_eventlog_init(&l);
	if ((r = tdc_eventlog_parse(env->eventlog.data, env->eventlog.len, "evidence.eventlog",
				    &l)) != 0) {
		res->malformed = true;
		r = tdc_check_add(&res->checks, "eventlog_format", TDC_CHECK_FAIL, "%s", tdc_errmsg(r));
		goto out;
	}
	if ((r = tdc_check_add(&res->checks, "eventlog_format", TDC_CHECK_PASS,
			       "%zu events in %zu bytes%s", l.n, env->eventlog.len,
			       l.spec_header ? ", Spec ID header" : "")) != 0)
		goto out;
	if (!rtmr) /* no report: hardware_report already failed */
		goto out;
	if ((r = tdc_eventlog_replay(&l, TDC_CCMR_RTMR3, SIZE_MAX, mr)) != 0) {
		r = tdc_check_add(&res->checks, "rtmr3_replay", TDC_CHECK_FAIL, "%s", tdc_errmsg(r));
		goto out;
	}
	hex8(mr, a);
	hex8(rtmr[3], b);
	if (CRYPTO_memcmp(mr, rtmr[3], sizeof(mr)) != 0)
		r = tdc_check_add(&res->checks, "rtmr3_replay", bound_rtmr3 ? TDC_CHECK_FAIL : TDC_CHECK_INFO,
				  "the event log replays RTMR3 to %s..., the report says %s...: the "
				  "log does not describe this TD", a, b);
	else
		r = tdc_check_add(&res->checks, "rtmr3_replay", bound_rtmr3 ? TDC_CHECK_PASS : TDC_CHECK_INFO,
				  "the event log replays to the attested RTMR3 (%s...)", b);
	if (r || !bound_rtmr3)
		goto out;
	if ((r = claims_event(&l, &env->claims, &found, res)) != 0 ||
	    (r = other_events(&l, found, res)) != 0)
		goto out;
	r = firmware_replay(&l, rtmr, res);
out:
	tdc_eventlog_free(&l);
	return r;
}
