// SPDX-License-Identifier: Apache-2.0
/* Protocol frames, transport addresses and the serial armor. */
#include <stdio.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/serial.h"
#include "tdcpuid/transport.h"

static void encode_ok(struct tdc_frame *f, struct tdc_buf *out)
{
	tdc_buf_reset(out);
	assert_int_equal(tdc_frame_encode(f, out), 0);
}

static int decode_body(const struct tdc_buf *b, struct tdc_frame *f)
{
	uint32_t len;

	assert_int_equal(tdc_frame_header(b->data, TDC_FRAME_MAX, &len), 0);
	assert_int_equal(len, b->len - 4);
	return tdc_frame_decode(b->data + 4, len, f);
}

static void test_roundtrip(void **state)
{
	struct tdc_frame f, g;
	struct tdc_buf b;

	tdc_frame_init(&f);
	tdc_frame_init(&g);
	tdc_buf_init(&b);
	f.type = TDC_FRAME_EVIDENCE;
	memset(f.nonce, 0xab, sizeof(f.nonce));
	assert_int_equal(tdc_buf_put(&f.payload, "\xa1\x01\x02", 3), 0);
	snprintf(f.vm, sizeof(f.vm), "vm-one");
	encode_ok(&f, &b);
	assert_int_equal(decode_body(&b, &g), 0);
	assert_int_equal(g.type, TDC_FRAME_EVIDENCE);
	assert_memory_equal(g.nonce, f.nonce, TDC_NONCE_LEN);
	assert_int_equal(g.payload.len, 3);
	assert_string_equal(g.vm, "vm-one");

	tdc_frame_free(&f);
	f.type = TDC_FRAME_ERROR;
	f.code = TDC_ERR_NONCE;
	snprintf(f.message, sizeof(f.message), "nonce reused");
	encode_ok(&f, &b);
	assert_int_equal(decode_body(&b, &g), 0);
	assert_int_equal(g.code, TDC_ERR_NONCE);
	assert_string_equal(g.message, "nonce reused");

	tdc_frame_free(&f);
	f.type = TDC_FRAME_VERDICT;
	f.passed = true;
	f.record = 1u << 20;
	snprintf(f.format, sizeof(f.format), "json");
	assert_int_equal(tdc_buf_printf(&f.payload, "{\"pass\":true}"), 0);
	encode_ok(&f, &b);
	assert_int_equal(decode_body(&b, &g), 0);
	assert_true(g.passed);
	assert_int_equal(g.record, 1u << 20);
	assert_string_equal(tdc_buf_cstr(&g.payload), "{\"pass\":true}");
	tdc_frame_free(&f);
	tdc_frame_free(&g);
	tdc_buf_free(&b);
}

/* Hand-built CBOR bodies: each must fail with one named error. */
static void test_strict(void **state)
{
	static const struct {
		const char *name;
		const char *hex;
		int err;
	} cases[] = {
		{ "not a map", "01", TDC_ERR_TYPE },
		{ "no version", "a1617465" "68656c6c6f", TDC_ERR_MISSING },
		/* {"v":2,"t":"hello"} */
		{ "future version", "a2617602617465" "68656c6c6f", TDC_ERR_VERSION },
		/* {"v":1,"v":1} */
		{ "duplicate key", "a2617601617601", TDC_ERR_DUPLICATE },
		/* {"v":1,"t":"hello"} no nonce */
		{ "missing nonce", "a2617601617465" "68656c6c6f", TDC_ERR_MISSING },
		/* indefinite map */
		{ "indefinite", "bf617601ff", TDC_ERR_FORMAT },
		/* tag 24 */
		{ "tag", "d81801", TDC_ERR_TYPE },
		/* map declaring 2^32 pairs in 9 bytes: more keys than frames define */
		{ "huge count", "bb0000000100000000", TDC_ERR_FORMAT },
		/* map declaring 16 pairs with 2 bytes left: cannot fit */
		{ "count lies", "b00102", TDC_ERR_TRUNCATED },
		/* 5 nested arrays: frame values are scalars */
		{ "deep", "a1617681818181818101", TDC_ERR_TYPE },
		/* {"v":1} then a trailing byte */
		{ "trailing", "a161760100", TDC_ERR_TRAILING },
		/* float */
		{ "float", "a16176f93c00", TDC_ERR_TYPE },
		/* {"v":1,"t":"hello","x":1}: unknown key */
		{ "unknown key", "a3617601617465" "68656c6c6f" "617801", TDC_ERR_FORMAT },
		/* {"v":"1"} */
		{ "version type", "a161766131", TDC_ERR_TYPE },
	};
	struct tdc_frame f;
	uint8_t body[64];
	size_t n;

	tdc_frame_init(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tdc_hex_decode(cases[i].hex, body, sizeof(body), &n), 0);
		int e = tdc_frame_decode(body, n, &f);
		if (e != cases[i].err)
			fail_msg("%s: got %d (%s), want %d", cases[i].name, e, tdc_errdetail(),
				 cases[i].err);
	}
	tdc_frame_free(&f);
}

static void test_header(void **state)
{
	uint8_t big[4] = { 0x00, 0x11, 0x00, 0x01 }, zero[4] = { 0 };
	uint32_t len;

	assert_int_equal(tdc_frame_header(big, TDC_FRAME_MAX, &len), TDC_ERR_TOO_LARGE);
	assert_int_equal(tdc_frame_header(zero, TDC_FRAME_MAX, &len), TDC_ERR_FORMAT);
}

static void test_addr(void **state)
{
	struct tdc_addr a;
	char s[TDC_ADDR_MAX];

	assert_int_equal(tdc_addr_parse("tcp:127.0.0.1:4050", &a), 0);
	assert_int_equal(a.kind, TDC_TRANSPORT_TCP);
	assert_int_equal(a.port, 4050);
	assert_string_equal(tdc_addr_str(&a, s, sizeof(s)), "tcp:127.0.0.1:4050");
	assert_int_equal(tdc_addr_parse("tcp:[::1]:0", &a), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(tdc_addr_parse("vsock:ANY:4050", &a), 0);
	assert_int_equal(a.cid, 0xffffffffu);
	assert_int_equal(tdc_addr_parse("vsock:local:7", &a), 0);
	assert_int_equal(a.cid, 1);
	assert_int_equal(tdc_addr_parse("vsock:42:7", &a), 0);
	assert_int_equal(a.cid, 42);
	assert_int_equal(tdc_addr_parse("tcp:host:70000", &a), TDC_ERR_USAGE);
	assert_int_equal(tdc_addr_parse("udp:host:1", &a), TDC_ERR_USAGE);
	assert_int_equal(tdc_addr_parse("vsock:x:1", &a), TDC_ERR_USAGE);
}

static void test_base64(void **state)
{
	const char *v[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
			       { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" } };
	struct tdc_buf b;

	tdc_buf_init(&b);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tdc_buf_reset(&b);
		assert_int_equal(tdc_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), &b), 0);
		assert_int_equal(b.len, strlen(v[i][1]));
		assert_memory_equal(b.data, v[i][1], b.len);
		tdc_buf_reset(&b);
		assert_int_equal(tdc_base64_decode(v[i][1], strlen(v[i][1]), &b), 0);
		assert_int_equal(b.len, strlen(v[i][0]));
	}
	assert_int_equal(tdc_base64_decode("Zh==", 4, &b), TDC_ERR_FORMAT);
	assert_int_equal(tdc_base64_decode("Z=9v", 4, &b), TDC_ERR_FORMAT);
	assert_int_equal(tdc_base64_decode("Zm9", 3, &b), TDC_ERR_FORMAT);
	tdc_buf_free(&b);
}

/* An armored block survives CRLF, prefixes and kernel lines in between. */
static void test_armor_noisy(void **state)
{
	uint8_t data[1000];
	struct tdc_buf arm, log, out;
	const char *p, *nl;
	size_t pos = 0, line = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	tdc_buf_init(&arm);
	tdc_buf_init(&log);
	tdc_buf_init(&out);
	assert_int_equal(tdc_armor_encode(data, sizeof(data), &arm), 0);
	assert_int_equal(tdc_buf_printf(&log, "[    0.000000] Linux version 6.8\r\nboot: "), 0);
	for (p = tdc_buf_cstr(&arm); (nl = strchr(p, '\n')); p = nl + 1, line++) {
		assert_int_equal(tdc_buf_put(&log, p, (size_t)(nl - p)), 0);
		assert_int_equal(tdc_buf_printf(&log, "\r\n"), 0);
		if (line % 3 == 2) /* noise, including a pure-base64-alphabet word */
			assert_int_equal(tdc_buf_printf(&log, "[    1.%06zu] random: crng init done\r\nOK\r\n",
							line), 0);
	}
	assert_int_equal(tdc_armor_next(log.data, log.len, &pos, &out), 0);
	assert_int_equal(out.len, sizeof(data));
	assert_memory_equal(out.data, data, sizeof(data));
	assert_int_equal(tdc_armor_next(log.data, log.len, &pos, &out), TDC_ERR_NOT_FOUND);

	/* One flipped base64 character: the SHA-256 line catches it. */
	char *c = strstr((char *)tdc_buf_cstr(&log), "SHA-256: ");
	c = strstr(c, "OK\r\n") + 4; /* skip the noise after the header */
	c[5] = c[5] == 'A' ? 'B' : 'A';
	pos = 0;
	assert_int_equal(tdc_armor_next(log.data, log.len, &pos, &out), TDC_ERR_BINDING);

	/* A block cut short by a reboot does not swallow the next one. */
	tdc_buf_reset(&log);
	assert_int_equal(tdc_buf_put(&log, arm.data, arm.len / 2), 0);
	assert_int_equal(tdc_buf_printf(&log, "\n"), 0);
	assert_int_equal(tdc_buf_put(&log, arm.data, arm.len), 0);
	pos = 0;
	assert_int_equal(tdc_armor_next(log.data, log.len, &pos, &out), TDC_ERR_TRUNCATED);
	assert_int_equal(tdc_armor_next(log.data, log.len, &pos, &out), 0);
	assert_int_equal(out.len, sizeof(data));
	tdc_buf_free(&arm);
	tdc_buf_free(&log);
	tdc_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_armor_noisy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
