// SPDX-License-Identifier: Apache-2.0
/* The service's parts on their own: nonce store, registry entries, audit log. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "audit.h"
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

static int count_rows(void *ctx, const struct tdc_audit_record *r)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void test_audit(void **state)
{
	char dir[] = "/tmp/tdc-audit-XXXXXX", path[64], ic[32];
	struct tdc_audit_record r1, r2, r3, *batch[3] = { &r1, &r2, &r3 };
	struct tdc_audit_query q = { 0 };
	struct tdc_audit *a;
	sqlite3 *db;
	size_t n = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.db", dir);
	assert_int_equal(tdc_audit_open(path, &a), 0);
	memset(&r1, 0, sizeof(r1));
	snprintf(r1.vm, sizeof(r1.vm), "alpha");
	r1.has_nonce = true;
	memset(r1.nonce, 1, 32);
	r1.verdict = TDC_AUDIT_PASS;
	r2 = r1; /* same nonce: the second consumption is a replay */
	r3 = r1;
	snprintf(r3.vm, sizeof(r3.vm), "beta");
	r3.has_nonce = false;
	r3.verdict = TDC_AUDIT_REJECT;
	r3.time = 1000;
	assert_int_equal(tdc_audit_append(a, batch, 3), 0);
	assert_int_equal(r1.result, 0);
	assert_true(r1.id > 0);
	assert_int_equal(r2.result, TDC_ERR_NONCE);
	assert_int_equal(r3.result, 0);
	assert_int_equal(tdc_audit_select(a, &q, count_rows, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	q.vm = "beta";
	assert_int_equal(tdc_audit_select(a, &q, count_rows, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	q.since = 2000;
	assert_int_equal(tdc_audit_select(a, &q, count_rows, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(tdc_audit_integrity(a, ic, sizeof(ic)), 0);
	assert_string_equal(ic, "ok");
	tdc_audit_close(a);
	/* Another client of the same file cannot rewrite history either. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM verdicts", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE verdicts SET verdict='pass'", NULL, NULL,
					  NULL), SQLITE_OK);
	sqlite3_close(db);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce_memory),
		cmocka_unit_test(test_nonce_stateless),
		cmocka_unit_test(test_registry_entry),
		cmocka_unit_test(test_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
