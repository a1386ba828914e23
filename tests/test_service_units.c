// SPDX-License-Identifier: Apache-2.0
/*
 * The service's parts on their own: nonce store, registry entries, per-peer
 * admission (audit log: test_store.c; the limits under a real attack:
 * test_serve_attack.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "nonce.h"
#include "peers.h"
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

static void admit_ok(struct tdc_peers *p, const char *key, uint64_t now)
{
	const char *why = NULL;

	if (tdc_peers_admit(p, key, now, &why) != 0)
		fail_msg("%s at %llu ms: refused: %s", key, (unsigned long long)now, why);
}

static void admit_refused(struct tdc_peers *p, const char *key, uint64_t now, const char *needle)
{
	const char *why = "";

	assert_int_equal(tdc_peers_admit(p, key, now, &why), TDC_ERR_BUSY);
	if (!strstr(why, needle))
		fail_msg("%s: refused with '%s', expected '%s'", key, why, needle);
}

/* Connections one peer may hold at once; a released one is free again. */
static void test_peers_per_peer(void **state)
{
	struct tdc_peer_limits l = { .max_conns = 100, .per_peer = 4, .rate = 1000 };
	struct tdc_peers *p;

	assert_int_equal(tdc_peers_new(&l, &p), 0);
	for (int i = 0; i < 4; i++)
		admit_ok(p, "ip:127.0.0.2", 0);
	admit_refused(p, "ip:127.0.0.2", 0, "too many connections from this peer");
	admit_ok(p, "ip:127.0.0.3", 0);
	assert_int_equal(tdc_peers_held(p, "ip:127.0.0.2"), 4);
	tdc_peers_release(p, "ip:127.0.0.2");
	admit_ok(p, "ip:127.0.0.2", 0);
	assert_int_equal(tdc_peers_active(p), 5);
	tdc_peers_free(p);
}

/* New connections per second per peer: a bucket of @burst refilling at @rate. */
static void test_peers_rate(void **state)
{
	struct tdc_peer_limits l = { .max_conns = 100, .per_peer = 100, .rate = 10, .burst = 20 };
	struct tdc_peers *p;

	assert_int_equal(tdc_peers_new(&l, &p), 0);
	for (int i = 0; i < 20; i++) {
		admit_ok(p, "ip:127.0.0.2", 1000);
		tdc_peers_release(p, "ip:127.0.0.2");
	}
	admit_refused(p, "ip:127.0.0.2", 1000, "too many new connections");
	admit_ok(p, "ip:127.0.0.3", 1000);               /* another peer's own bucket */
	admit_refused(p, "ip:127.0.0.2", 1099, "too many new connections");
	admit_ok(p, "ip:127.0.0.2", 1100);               /* 100 ms at 10/s: one token */
	admit_refused(p, "ip:127.0.0.2", 1100, "too many new connections");
	tdc_peers_free(p);
}

/* The last slots go only to peers that hold none: hoarders never fill the table. */
static void test_peers_reserve(void **state)
{
	struct tdc_peer_limits l = { .max_conns = 8, .per_peer = 8, .rate = 1000, .reserve = 2 };
	struct tdc_peers *p;

	assert_int_equal(tdc_peers_new(&l, &p), 0);
	for (int i = 0; i < 6; i++)
		admit_ok(p, "ip:127.0.0.2", 0);
	admit_refused(p, "ip:127.0.0.2", 0, "kept for other peers");
	admit_ok(p, "ip:127.0.0.3", 0);
	admit_refused(p, "ip:127.0.0.3", 0, "kept for other peers");
	admit_ok(p, "ip:127.0.0.4", 0);
	admit_refused(p, "ip:127.0.0.5", 0, "connection limit reached");
	/* Default reserve: a quarter of the table. */
	tdc_peers_free(p);
	l = (struct tdc_peer_limits){ .max_conns = 8, .per_peer = 8, .rate = 1000 };
	assert_int_equal(tdc_peers_new(&l, &p), 0);
	for (int i = 0; i < 6; i++)
		admit_ok(p, "ip:127.0.0.2", 0);
	admit_refused(p, "ip:127.0.0.2", 0, "kept for other peers");
	tdc_peers_free(p);
}

/*
 * More distinct peers than the table holds, each gone again: idle peers are
 * forgotten, so new ones are still admitted, while a peer holding a
 * connection keeps its count through every prune.
 */
static void test_peers_table_bound(void **state)
{
	struct tdc_peer_limits l = { .max_conns = 100, .per_peer = 2, .rate = 1, .burst = 1 };
	struct tdc_peers *p;
	char key[TDC_PEER_KEY_MAX];

	assert_int_equal(tdc_peers_new(&l, &p), 0);
	admit_ok(p, "ip:127.0.0.2", 0);
	admit_ok(p, "ip:127.0.0.2", 1000);
	for (unsigned i = 0; i < 3 * TDC_PEERS_MAX; i++) {
		snprintf(key, sizeof(key), "ip:10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
		admit_ok(p, key, 2000 + i);
		tdc_peers_release(p, key);
	}
	assert_int_equal(tdc_peers_held(p, "ip:127.0.0.2"), 2);
	admit_refused(p, "ip:127.0.0.2", 3 * TDC_PEERS_MAX + 5000, "too many connections from this");
	assert_int_equal(tdc_peers_active(p), 2);
	tdc_peers_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nonce_memory),
		cmocka_unit_test(test_nonce_stateless),
		cmocka_unit_test(test_registry_entry),
		cmocka_unit_test(test_peers_per_peer),
		cmocka_unit_test(test_peers_rate),
		cmocka_unit_test(test_peers_reserve),
		cmocka_unit_test(test_peers_table_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
