// SPDX-License-Identifier: Apache-2.0
/* The service's parts on their own: nonce store, registry entries (audit log: test_store.c). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "nonce.h"
#include "service.h"
#include "tdcpuid/error.h"

static void test_nonce_memory(void **state)
{
	struct tdc_nonce_store *s;
	uint8_t a[TDC_NONCE_LEN], b[TDC_NONCE_LEN], never[TDC_NONCE_LEN] = { 0 };

	assert_int_equal(tdc_nonce_store_new(1, NULL, &s), 0);
	assert_false(tdc_nonce_stateless(s));
	assert_int_equal(tdc_nonce_issue(s, a), 0);
	assert_int_equal(tdc_nonce_issue(s, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(tdc_nonce_consume(s, a), 0);
	assert_int_equal(tdc_nonce_consume(s, a), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "already used"));
	assert_int_equal(tdc_nonce_consume(s, never), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "unknown"));
	usleep(1100 * 1000);
	assert_int_equal(tdc_nonce_consume(s, b), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "expired"));
	tdc_nonce_store_free(s);
}

static void test_nonce_stateless(void **state)
{
	uint8_t key[TDC_NONCE_KEY_LEN], other[TDC_NONCE_KEY_LEN], n[TDC_NONCE_LEN], m[TDC_NONCE_LEN];
	struct tdc_nonce_store *a, *b, *c;

	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	assert_int_equal(tdc_nonce_store_new(1, key, &a), 0);
	assert_int_equal(tdc_nonce_store_new(1, key, &b), 0);
	assert_int_equal(tdc_nonce_store_new(1, other, &c), 0);
	assert_int_equal(tdc_nonce_issue(a, n), 0);
	memcpy(m, n, sizeof(m));
	assert_int_equal(tdc_nonce_consume(c, n), TDC_ERR_NONCE); /* other key */
	assert_int_equal(tdc_nonce_consume(b, n), 0);             /* same key, other instance */
	assert_int_equal(tdc_nonce_consume(b, n), TDC_ERR_NONCE); /* once per instance */
	/* Per-instance memory only: A has not seen it (docs: share the audit log). */
	assert_int_equal(tdc_nonce_consume(a, n), 0);
	m[9] ^= 0x40; /* the random part: the MAC no longer matches */
	assert_int_equal(tdc_nonce_consume(b, m), TDC_ERR_NONCE);
	assert_int_equal(tdc_nonce_issue(a, n), 0);
	sleep(2);
	assert_int_equal(tdc_nonce_consume(b, n), TDC_ERR_NONCE);
	assert_non_null(strstr(tdc_errdetail(), "expired"));
	tdc_nonce_store_free(a);
	tdc_nonce_store_free(b);
	tdc_nonce_store_free(c);
}

static void test_registry_entry(void **state)
{
	static const struct {
		const char *json;
		int err;
	} bad[] = {
		{ "{\"requested\":\"r\"}", TDC_ERR_MISSING },
		{ "{\"name\":\"a\"}", TDC_ERR_MISSING },
		{ "{\"name\":\"a\",\"requested\":\"r\",\"cid\":2}", TDC_ERR_RANGE },
		{ "{\"name\":\"a\",\"requested\":\"r\",\"format\":\"xml\"}", TDC_ERR_FORMAT },
		{ "{\"name\":\"a\",\"requested\":\"r\",\"colour\":1}", TDC_ERR_FORMAT },
		{ "{\"name\":\"a\",\"requested\":\"r\",\"mrconfigid\":\"00\"}", TDC_ERR_FORMAT },
		{ "{\"name\":\"a\",\"name\":\"b\",\"requested\":\"r\"}", TDC_ERR_DUPLICATE },
		{ "{\"name\":\"a\",\"requested\":\"r\",\"tcb_update_type\":\"late\"}", TDC_ERR_FORMAT },
		{ "{\"name\":\"a\",\"requested\":\"r\",\"collateral\":\"dir\","
		  "\"collateral_ca\":\"ca.pem\"}", TDC_ERR_FORMAT },
	};
	const char *url = "{\"name\":\"u\",\"requested\":\"r\",\"collateral\":"
			  "\"https://pccs.example:8081\",\"collateral_ca\":\"ca.pem\","
			  "\"tcb_update_type\":\"early\"}";
	const char *good = "{\"name\":\"web-1\",\"cid\":17,\"requested\":\"web.json\","
			   "\"policy\":\"/etc/p.json\",\"model\":\"models/x.json\",\"format\":\"ear\","
			   "\"collateral\":\"intel\"}";
	struct tdc_vm_entry vm;
	int e;

	assert_int_equal(tdc_registry_parse_entry((const uint8_t *)good, strlen(good), "good",
						  "/reg", &vm), 0);
	assert_string_equal(vm.name, "web-1");
	assert_true(vm.has_cid);
	assert_int_equal(vm.cid, 17);
	assert_string_equal(vm.requested, "/reg/web.json");
	assert_string_equal(vm.policy, "/etc/p.json");
	assert_string_equal(vm.model, "/reg/models/x.json");
	assert_string_equal(vm.collateral, "/reg/intel");
	assert_string_equal(vm.format, "ear");
	assert_string_equal(vm.requested_format, "auto");
	assert_string_equal(vm.tcb_update, "standard");
	/* A collateral URL stays a URL; its CA file is a path like any other. */
	assert_int_equal(tdc_registry_parse_entry((const uint8_t *)url, strlen(url), "url", "/reg",
						  &vm), 0);
	assert_string_equal(vm.collateral, "https://pccs.example:8081");
	assert_string_equal(vm.collateral_ca, "/reg/ca.pem");
	assert_string_equal(vm.tcb_update, "early");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = tdc_registry_parse_entry((const uint8_t *)bad[i].json, strlen(bad[i].json), "bad",
					     "/reg", &vm);
		if (e != bad[i].err)
			fail_msg("%s: got %d (%s), want %d", bad[i].json, e, tdc_errdetail(),
				 bad[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce_memory),
		cmocka_unit_test(test_nonce_stateless),
		cmocka_unit_test(test_registry_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
