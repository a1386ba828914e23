// SPDX-License-Identifier: Apache-2.0
/* ES256 compact JWS (lib/jws.c): round trip and one named error per tamper. */
#include <stdlib.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"

static void test_round_trip_and_tamper(void **state)
{
	static const char payload[] = "{\"typ\":\"tdcpuid-verdict-v1\",\"pass\":true}";
	EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	struct tdc_buf tok, out, b;
	char *t;
	size_t n;

	assert_non_null(k);
	assert_non_null(other);
	tdc_buf_init(&tok);
	tdc_buf_init(&out);
	tdc_buf_init(&b);
	assert_int_equal(tdc_jws_es256_sign(k, payload, strlen(payload), &tok), 0);
	t = (char *)tok.data;
	n = tok.len;
	assert_int_equal(tdc_jws_es256_verify(k, t, n, &out), 0);
	assert_int_equal(out.len, strlen(payload));
	assert_memory_equal(out.data, payload, out.len);
	assert_int_equal(tdc_jws_es256_verify(other, t, n, &out), TDC_ERR_SIGNATURE);
	assert_int_equal(out.len, 0); /* nothing of a bad token is handed out */
	/* One byte of the payload, of the signature. */
	char *dot = strchr(t, '.'), was;

	was = dot[1];
	dot[1] = was == 'A' ? 'B' : 'A';
	assert_int_equal(tdc_jws_es256_verify(k, t, n, &out), TDC_ERR_SIGNATURE);
	dot[1] = was;
	was = t[n - 2];
	t[n - 2] = was == 'A' ? 'B' : 'A';
	assert_int_equal(tdc_jws_es256_verify(k, t, n, &out), TDC_ERR_SIGNATURE);
	t[n - 2] = was;
	assert_int_equal(tdc_jws_es256_verify(k, t, n, &out), 0);
	/* The token never chooses the algorithm: {"alg":"none"} and friends. */
	assert_int_equal(tdc_jws_es256_verify(k, "eyJhbGciOiJub25lIn0.e30.", 24, &out),
			 TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "header"));
	/* Shape: parts, alphabet, padding. */
	assert_int_equal(tdc_jws_es256_verify(k, "a.b", 3, &out), TDC_ERR_FORMAT);
	assert_int_equal(tdc_jws_es256_verify(k, "a.b.c.d", 7, &out), TDC_ERR_FORMAT);
	assert_int_equal(tdc_buf_put(&b, t, n), 0);
	assert_int_equal(tdc_buf_put(&b, "==", 2), 0);
	assert_int_equal(tdc_jws_es256_verify(k, (char *)b.data, b.len, &out), TDC_ERR_FORMAT);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	tdc_buf_free(&tok);
	tdc_buf_free(&out);
	tdc_buf_free(&b);
}

/* A signed full JSON verdict is far above 64 KiB: it must verify; one byte
 * beyond the cap is refused by size, before any decoding. */
static void test_large_verdict(void **state)
{
	size_t n = 400u * 1024;
	char *payload = malloc(n);
	EVP_PKEY *k = EVP_EC_gen("P-256");
	struct tdc_buf tok, out;

	assert_non_null(payload);
	assert_non_null(k);
	memset(payload, 'x', n);
	tdc_buf_init(&tok);
	tdc_buf_init(&out);
	assert_int_equal(tdc_jws_es256_sign(k, payload, n, &tok), 0);
	assert_true(tok.len > 64u * 1024);
	assert_int_equal(tdc_jws_es256_verify(k, (char *)tok.data, tok.len, &out), 0);
	assert_int_equal(out.len, n);
	assert_int_equal(tdc_jws_es256_verify(k, (char *)tok.data, (size_t)TDC_JWS_MAX + 1, &out),
			 TDC_ERR_TOO_LARGE);
	EVP_PKEY_free(k);
	tdc_buf_free(&tok);
	tdc_buf_free(&out);
	free(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_tamper),
		cmocka_unit_test(test_large_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
