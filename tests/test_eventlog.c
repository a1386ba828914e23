// SPDX-License-Identifier: Apache-2.0
/*
 * TCG2 event log parser, replay and AAEL writer (lib/eventlog.c).
 *
 * Known answers come from Trustee's event log test data: the last two
 * events of deps/eventlog/test_data/CCEL_AAEL_alibabacloud_out.json
 * (confidential-containers/trustee), AAEL entries written by the
 * attestation agent into a real Alibaba Cloud TD's CCEL, with the SHA-384
 * digests Trustee reports as matching their event data.  Tampering: one
 * change per case, one named error each.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/serial.h"

/* Trustee CCEL_AAEL_alibabacloud_out.json, "event" (base64) and digest. */
static const char aael_event_b64[] =
	"TEVBQSQAAABjb2NvLmNvbSBzb21lLW9wZXJhdGlvbiBzb21lLWNvbnRlbnQ=";
static const char aael_digest_hex[] =
	"2330183d89750c6a374ac9827d33a33636e7876733544584c8ccc88df0df87ea"
	"da37e5d71d0773502234c2b5fbc7448e";

static void hex48(const char *hex, uint8_t out[48])
{
	size_t n;

	assert_int_equal(tdc_hex_decode(hex, out, 48, &n), 0);
	assert_int_equal(n, 48);
}

static void sha384_of(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[48])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha384(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, a, alen), 1);
	if (blen)
		assert_int_equal(EVP_DigestUpdate(ctx, b, blen), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, out, &n), 1);
	EVP_MD_CTX_free(ctx);
}

static void test_known_answer(void **state)
{
	struct tdc_buf rec, want;
	struct tdc_eventlog l;
	struct tdc_aael a;
	uint8_t digest[48], expect[48];

	(void)state;
	tdc_buf_init(&rec);
	tdc_buf_init(&want);
	assert_int_equal(tdc_base64_decode(aael_event_b64, strlen(aael_event_b64), &want), 0);
	hex48(aael_digest_hex, expect);
	assert_int_equal(tdc_eventlog_put_aael(&rec, TDC_CCMR_RTMR3, "coco.com", "some-operation",
					       "some-content", digest), 0);
	assert_memory_equal(digest, expect, 48);
	/* PCRIndex, EventType, count 1, alg, digest, EventSize, Event. */
	assert_int_equal(rec.len, 4 + 4 + 4 + 2 + 48 + 4 + want.len);
	assert_memory_equal(rec.data + rec.len - want.len, want.data, want.len);

	tdc_eventlog_init(&l);
	assert_int_equal(tdc_eventlog_parse(rec.data, rec.len, "aa log", &l), 0);
	assert_int_equal(l.n, 1);
	assert_false(l.spec_header);
	assert_int_equal(l.ev[0].mr_index, TDC_CCMR_RTMR3);
	assert_int_equal(l.ev[0].type, TDC_EV_EVENT_TAG);
	assert_true(tdc_event_digest_matches(&l.ev[0]));
	assert_int_equal(tdc_event_aael(&l.ev[0], &a), 0);
	assert_int_equal(a.len, 36);
	assert_true(tdc_aael_is(&a, "coco.com", "some-operation"));
	assert_false(tdc_aael_is(&a, "coco.co", "some-operation"));
	assert_false(tdc_aael_is(&a, "coco.com", "some-operatio"));
	assert_memory_equal(a.text + a.content_off, "some-content", 12);
	assert_string_equal(tdc_event_type_name(l.ev[0].type), "EV_EVENT_TAG");
	assert_null(tdc_event_type_name(0x7777));
	tdc_eventlog_free(&l);
	tdc_buf_free(&rec);
	tdc_buf_free(&want);
}

/* header + RTMR0 event + separator(NO_ACTION ignored) + two RTMR3 events. */
static void build_log(struct tdc_buf *b, uint8_t rtmr3[48], uint8_t rtmr0[48])
{
	uint8_t d[48], zero[48] = { 0 };
	static const uint8_t sep[4] = { 0 };

	tdc_buf_init(b);
	assert_int_equal(tdc_eventlog_put_header(b), 0);
	/* A firmware-style event on RTMR0: digest of something else. */
	sha384_of("firmware", 8, NULL, 0, d);
	assert_int_equal(tdc_buf_put_u32le(b, TDC_CCMR_RTMR0), 0);
	assert_int_equal(tdc_buf_put_u32le(b, 0x80000008), 0);
	assert_int_equal(tdc_buf_put_u32le(b, 1), 0);
	assert_int_equal(tdc_buf_put_u16le(b, TDC_TPM_ALG_SHA384), 0);
	assert_int_equal(tdc_buf_put(b, d, 48), 0);
	assert_int_equal(tdc_buf_put_u32le(b, 4), 0);
	assert_int_equal(tdc_buf_put(b, "blob", 4), 0);
	memcpy(rtmr0, zero, 48);
	assert_int_equal(tdc_rtmr_extend(rtmr0, d), 0);
	/* EV_NO_ACTION on RTMR3 with a digest: must not be extended. */
	assert_int_equal(tdc_buf_put_u32le(b, TDC_CCMR_RTMR3), 0);
	assert_int_equal(tdc_buf_put_u32le(b, TDC_EV_NO_ACTION), 0);
	assert_int_equal(tdc_buf_put_u32le(b, 1), 0);
	assert_int_equal(tdc_buf_put_u16le(b, TDC_TPM_ALG_SHA384), 0);
	assert_int_equal(tdc_buf_put(b, d, 48), 0);
	assert_int_equal(tdc_buf_put_u32le(b, sizeof(sep)), 0);
	assert_int_equal(tdc_buf_put(b, sep, sizeof(sep)), 0);
	memcpy(rtmr3, zero, 48);
	assert_int_equal(tdc_eventlog_put_aael(b, TDC_CCMR_RTMR3, "a.example", "one", "x y z", d), 0);
	assert_int_equal(tdc_rtmr_extend(rtmr3, d), 0);
	assert_int_equal(tdc_eventlog_put_aael(b, TDC_CCMR_RTMR3, TDC_AAEL_DOMAIN,
					       TDC_AAEL_OP_CLAIMS, "sha384:00", d), 0);
	assert_int_equal(tdc_rtmr_extend(rtmr3, d), 0);
}

static void test_replay(void **state)
{
	struct tdc_buf b, runtime;
	struct tdc_eventlog l;
	uint8_t r3[48], r0[48], got[48], manual[48], d[48];
	size_t used;

	(void)state;
	build_log(&b, r3, r0);
	tdc_eventlog_init(&l);
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "ccel", &l), 0);
	assert_true(l.spec_header);
	assert_int_equal(l.n, 4);
	assert_int_equal(tdc_eventlog_replay(&l, TDC_CCMR_RTMR3, SIZE_MAX, got), 0);
	assert_memory_equal(got, r3, 48);
	assert_int_equal(tdc_eventlog_replay(&l, TDC_CCMR_RTMR0, SIZE_MAX, got), 0);
	assert_memory_equal(got, r0, 48);
	/* An index without events replays to zeros; a prefix replays its part. */
	assert_int_equal(tdc_eventlog_replay(&l, 2, SIZE_MAX, got), 0);
	memset(manual, 0, 48);
	assert_memory_equal(got, manual, 48);
	assert_int_equal(tdc_eventlog_replay(&l, TDC_CCMR_RTMR3, 3, got), 0);
	memcpy(manual, l.ev[2].sha384, 48);
	sha384_of((uint8_t[48]){ 0 }, 48, manual, 48, d);
	assert_memory_equal(got, d, 48);

	/* A second (headerless runtime) log continues the same replay. */
	tdc_buf_init(&runtime);
	assert_int_equal(tdc_eventlog_put_aael(&runtime, TDC_CCMR_RTMR3, "b", "two", "c", d), 0);
	assert_int_equal(tdc_rtmr_extend(r3, d), 0);
	assert_int_equal(tdc_eventlog_parse(runtime.data, runtime.len, "runtime", &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.nlogs, 2);
	assert_int_equal(l.ev[4].log, 1);
	assert_int_equal(tdc_eventlog_replay(&l, TDC_CCMR_RTMR3, SIZE_MAX, got), 0);
	assert_memory_equal(got, r3, 48);
	tdc_eventlog_free(&l);

	/* The CCEL log area's 0xFF tail is padding; junk after it is not. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(tdc_buf_put_u8(&b, 0xff), 0);
	tdc_eventlog_init(&l);
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "ccel", &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.padding, 100);
	tdc_eventlog_free(&l);
	assert_int_equal(tdc_eventlog_used_len(b.data, b.len, "ccel", &used), 0);
	assert_int_equal(used, b.len - 100);
	b.data[b.len - 1] = 0x00;
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "ccel", &l), TDC_ERR_TOO_LARGE);
	assert_int_equal(l.n, 0); /* nothing kept from a failed parse */
	tdc_eventlog_free(&l);

	tdc_buf_free(&b);
	tdc_buf_free(&runtime);
}

struct tamper {
	const char *name;
	size_t off;        /* from the start of the log */
	int len;           /* bytes to write (1, 2 or 4), or -N: cut N bytes off the end */
	uint32_t value;
	int code;
	const char *detail;
};

/*
 * Layout of build_log(): header 0..65 (TCG_PCR_EVENT, 32 bytes of Spec ID
 * fields + 1 algorithm), then event 1 at 65.
 */
#define HDR 65
#define EV1 HDR
#define EV1_COUNT (EV1 + 8)
#define EV1_ALG (EV1 + 12)
#define EV1_SIZE (EV1 + 14 + 48)

static const struct tamper tampers[] = {
	{ "spec id version", 32 + 16 + 5, 1, 1, TDC_ERR_VERSION, "version 1.0" },
	{ "spec id algorithms 0", 32 + 24, 4, 0, TDC_ERR_FORMAT, "lists 0 algorithms" },
	{ "spec id algorithms 9", 32 + 24, 4, 9, TDC_ERR_TOO_LARGE, "lists 9 algorithms" },
	{ "spec id sha384 size", 32 + 30, 2, 32, TDC_ERR_FORMAT, "0x000c has 32-byte digests" },
	{ "spec id event size", 28, 4, 34, TDC_ERR_TRAILING, "unexpected bytes" },
	{ "spec id digest", 8, 1, 1, TDC_ERR_FORMAT, "non-zero digest" },
	{ "spec id index", 0, 4, 1, TDC_ERR_FORMAT, "Spec ID record on index 1" },
	{ "digest count", EV1_COUNT, 4, 9, TDC_ERR_TOO_LARGE, "has 9 digests" },
	{ "digest count 2", EV1_COUNT, 4, 2, TDC_ERR_FORMAT, "which the log's Spec ID" },
	{ "unlisted algorithm", EV1_ALG, 2, TDC_TPM_ALG_SHA256, TDC_ERR_FORMAT,
	  "uses algorithm 0x000b" },
	{ "event size", EV1_SIZE, 4, 0x7fffffff, TDC_ERR_TRUNCATED, "need 2147483647 bytes" },
	{ "truncated", 0, -1, 0, TDC_ERR_TRUNCATED, "only" },
};

static void test_tamper(void **state)
{
	uint8_t r3[48], r0[48];
	struct tdc_eventlog l;
	struct tdc_buf b;

	(void)state;
	build_log(&b, r3, r0);
	for (size_t i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		const struct tamper *t = &tampers[i];
		uint8_t *copy = malloc(b.len);
		size_t len = b.len;
		int r;

		assert_non_null(copy);
		memcpy(copy, b.data, b.len);
		if (t->len < 0)
			len -= (size_t)-t->len;
		for (int k = 0; k < t->len; k++)
			copy[t->off + (size_t)k] = (uint8_t)(t->value >> (8 * k));
		tdc_eventlog_init(&l);
		r = tdc_eventlog_parse(copy, len, "ccel", &l);
		if (r != t->code || !strstr(tdc_errdetail(), t->detail))
			fail_msg("%s: got %d '%s', want %d '%s'", t->name, r, tdc_errdetail(),
				 t->code, t->detail);
		tdc_eventlog_free(&l);
		free(copy);
	}
	tdc_buf_free(&b);
}

static void test_aael_rules(void **state)
{
	struct tdc_buf b;
	struct tdc_eventlog l;
	struct tdc_aael a;
	uint8_t d[48];
	size_t text;

	(void)state;
	tdc_buf_init(&b);
	/* Writer: no spaces in domain/operation, printable only, nothing empty. */
	assert_int_equal(tdc_eventlog_put_aael(&b, 4, "a b", "op", "c", d), TDC_ERR_USAGE);
	assert_int_equal(tdc_eventlog_put_aael(&b, 4, "a", "o p", "c", d), TDC_ERR_USAGE);
	assert_int_equal(tdc_eventlog_put_aael(&b, 4, "a", "op", "c\n", d), TDC_ERR_USAGE);
	assert_non_null(strstr(tdc_errdetail(), "AAEL content: character 0x0a"));
	assert_int_equal(tdc_eventlog_put_aael(&b, 4, "", "op", "c", d), TDC_ERR_USAGE);
	assert_int_equal(b.len, 0);

	assert_int_equal(tdc_eventlog_put_aael(&b, 4, "dom", "op", "content", d), 0);
	text = b.len - 14;  /* "dom op content" */
	tdc_eventlog_init(&l);

	/* taggedEventDataSize that disagrees with EventSize. */
	b.data[text - 4] = 13;
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "log", &l), 0);
	assert_int_equal(tdc_event_aael(&l.ev[0], &a), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "taggedEventDataSize 13, but 14 bytes"));
	tdc_eventlog_free(&l);
	b.data[text - 4] = 14;
	/* A non-printable byte; a missing field. */
	b.data[text + 1] = 0x01;
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "log", &l), 0);
	assert_int_equal(tdc_event_aael(&l.ev[0], &a), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "byte 0x01 at text position 1"));
	assert_false(tdc_event_digest_matches(&l.ev[0]));
	tdc_eventlog_free(&l);
	b.data[text + 1] = 'o';
	b.data[text + 6] = 'X'; /* "dom opXcontent": two fields */
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "log", &l), 0);
	assert_int_equal(tdc_event_aael(&l.ev[0], &a), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "not \"<domain> <operation> <content>\""));
	tdc_eventlog_free(&l);
	/* Another tag is simply not AAEL. */
	b.data[text - 8] ^= 1;
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "log", &l), 0);
	assert_int_equal(tdc_event_aael(&l.ev[0], &a), TDC_ERR_NOT_FOUND);
	tdc_eventlog_free(&l);

	/* An event without a SHA-384 digest cannot be replayed. */
	tdc_buf_reset(&b);
	assert_int_equal(tdc_buf_put_u32le(&b, 4), 0);
	assert_int_equal(tdc_buf_put_u32le(&b, TDC_EV_EVENT_TAG), 0);
	assert_int_equal(tdc_buf_put_u32le(&b, 1), 0);
	assert_int_equal(tdc_buf_put_u16le(&b, TDC_TPM_ALG_SHA256), 0);
	assert_int_equal(tdc_buf_put(&b, d, 32), 0);
	assert_int_equal(tdc_buf_put_u32le(&b, 0), 0);
	assert_int_equal(tdc_eventlog_parse(b.data, b.len, "log", &l), 0);
	assert_int_equal(tdc_eventlog_replay(&l, 4, SIZE_MAX, d), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "has no SHA-384 digest"));
	tdc_eventlog_free(&l);
	tdc_buf_free(&b);
}

/* The claims digest and AAEL content of the rtmr3 binding. */
static void test_claims_content(void **state)
{
	static const uint8_t claims[] = { 0xa0, 1, 2, 3 };
	static const char tag[] = "tdcpuid-claims-v1"; /* with its NUL = the separator */
	char content[TDC_AAEL_CONTENT_LEN + 1], hex[97];
	uint8_t d[48], want[48];

	(void)state;
	assert_int_equal(tdc_claims_digest384(claims, sizeof(claims), d), 0);
	sha384_of(tag, sizeof(tag), claims, sizeof(claims), want);
	assert_memory_equal(d, want, 48);
	assert_int_equal(tdc_claims_aael_content(claims, sizeof(claims), content), 0);
	tdc_hex_encode(want, 48, hex);
	assert_int_equal(strlen(content), TDC_AAEL_CONTENT_LEN);
	assert_memory_equal(content, "sha384:", 7);
	assert_string_equal(content + 7, hex);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_aael_rules),
		cmocka_unit_test(test_claims_content),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
