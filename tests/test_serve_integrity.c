// SPDX-License-Identifier: Apache-2.0
/*
 * What the service decides and what its log shows (issue 13): a CID-bound
 * registry entry is reachable from that CID only, the policy's
 * nonce_max_age holds in `serve`, `--checks basic` never says pass, names
 * a guest chose cannot hide or forge rows of `log`, every error frame is
 * valid UTF-8, and verdicts are signed so the agent can tell they are the
 * verifier's.
 */
#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "testutil.h"
#include "serve_util.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/jws.h"
#include "tdcpuid/text.h"
#include "audit.h"

static struct su_env env;
static const char *verifier;
/* The server a test started (a copy: a failed test leaves its own behind). */
static struct su_server running;
static bool have_running;
static char key_pem[400], pub_pem[400], other_pub[400];

static void write_key(const char *priv, const char *pub)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	FILE *f;

	assert_non_null(k);
	if (priv) {
		assert_non_null(f = fopen(priv, "w"));
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
		fclose(f);
	}
	assert_non_null(f = fopen(pub, "w"));
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	EVP_PKEY_free(k);
}

static int group_setup(void **state)
{
	const char *agent = getenv("TDC_AGENT");
	char extra[600], path[400];

	verifier = getenv("TDC_VERIFIER");
	if (!verifier || !agent)
		tdc_test_skip("TDC_VERIFIER/TDC_AGENT not set (run through ctest)");
	if (su_env_setup(&env, agent) != 0) {
		fprintf(stderr, "setup: %s\n", tdc_errdetail());
		return -1;
	}
	/* gamma: bound to vsock CID 42.  young: a policy allowing 1 s of nonce age. */
	snprintf(extra, sizeof(extra), ",\"cid\":42,\"policy\":\"%s/sim-policy.json\"", env.dir);
	snprintf(path, sizeof(path), "%s/young-policy.json", env.dir);
	if (su_vm(&env, "gamma", extra) != 0 ||
	    su_write(path, "{\"version\":1,\"name\":\"young\",\"allow_simulated\":true,"
		     "\"require_quote\":false,\"fail_on\":[\"mismatch\"],\"nonce_max_age\":1}\n") != 0)
		return -1;
	snprintf(extra, sizeof(extra), ",\"policy\":\"%s\"", path);
	if (su_vm(&env, "young", extra) != 0)
		return -1;
	snprintf(key_pem, sizeof(key_pem), "%s/verdict-key.pem", env.dir);
	snprintf(pub_pem, sizeof(pub_pem), "%s/verdict-pub.pem", env.dir);
	snprintf(other_pub, sizeof(other_pub), "%s/other-pub.pem", env.dir);
	write_key(key_pem, pub_pem);
	write_key(NULL, other_pub);
	return 0;
}

static int group_teardown(void **state)
{
	if (have_running)
		su_server_stop(&running, SIGKILL);
	su_env_teardown(&env);
	return 0;
}

/* A fresh audit log per server. */
static void start(struct su_server *s, const char *const *extra)
{
	char p[400];

	if (have_running)
		su_server_stop(&running, SIGKILL);
	have_running = false;
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", env.db, (const char *[]){ "", "-wal", "-shm" }[i]);
		unlink(p);
	}
	if (su_server_start(&env, verifier, extra, s) != 0)
		fail_msg("server did not start; log in %s", env.log);
	running = *s;
	have_running = true;
}

static void stop_server(struct su_server *s)
{
	have_running = false;
	assert_int_equal(su_server_stop(s, SIGTERM), 0);
}

static int attest(const char *addr, const char *frame_vm, const char *claims_vm,
		  struct tdc_client_result *res)
{
	struct su_agent ag = { .env = &env, .claims_vm = claims_vm };
	int r;

	tdc_buf_init(&ag.last);
	r = su_attest_from("127.0.0.1", addr, frame_vm, 10000, su_agent_fn, &ag, res);
	tdc_buf_free(&ag.last);
	return r;
}

/* ---- registry binding and nonce age ------------------------------------------ */

/* An entry bound to vsock CID 42 is no way in over TCP, by name or otherwise. */
static void test_cid_bound(void **state)
{
	struct tdc_client_result res;
	struct su_server s;

	start(&s, NULL);
	tdc_client_result_init(&res);
	assert_int_equal(attest(s.addr, "gamma", "gamma", &res), TDC_ERR_NOT_FOUND);
	assert_non_null(strstr(tdc_errdetail(), "bound to vsock CID 42"));
	assert_int_equal(attest(s.addr, "alpha", "alpha", &res), 0);
	assert_true(res.passed);
	tdc_client_result_free(&res);
	stop_server(&s);
}

/* nonce_max_age 1 in the policy, --nonce-ttl 30: the stricter one holds. */
static void test_nonce_max_age(void **state)
{
	static const char *const extra[] = { "--nonce-ttl", "30", "--timeout", "20",
					     "--handshake-timeout", "20", NULL };
	struct tdc_client_result res;
	struct su_server s;
	uint8_t nonce[TDC_NONCE_LEN];
	struct tdc_buf ev;
	time_t t0;
	int fd = -1;

	start(&s, extra);
	tdc_client_result_init(&res);
	tdc_buf_init(&ev);
	assert_int_equal(attest(s.addr, "young", "young", &res), 0);
	assert_true(res.passed); /* answered at once: within a second */
	assert_int_equal(su_dial_from(s.addr, "127.0.0.1", &fd), 0);
	assert_int_equal(tdc_client_hello(fd, tdc_now_ms() + 5000, nonce, NULL), 0);
	t0 = time(NULL); /* the service issued it at this second or before */
	assert_int_equal(su_evidence(&env, nonce, sizeof(nonce), "young", false, &ev), 0);
	/* The event waited for is the clock: two whole seconds past the hello. */
	while (time(NULL) < t0 + 2)
		usleep(20000);
	assert_int_equal(tdc_client_send_evidence(fd, tdc_now_ms() + 5000, nonce, "young",
						  ev.data, ev.len), 0);
	assert_int_equal(tdc_client_verdict(fd, tdc_now_ms() + 10000, &res), 0);
	close(fd);
	assert_false(res.passed);
	assert_non_null(strstr(tdc_buf_cstr(&res.doc), "policy allows 1 s"));
	tdc_buf_free(&ev);
	tdc_client_result_free(&res);
	stop_server(&s);
}

/* ---- basic mode ------------------------------------------------------------------ */

static int find_basic(void *ctx, const struct tdc_audit_record *r)
{
	int *n = ctx;

	assert_int_not_equal(r->verdict, TDC_AUDIT_PASS);
	*n += strstr(r->failing, "checks_basic") != NULL;
	return 0;
}

/* `--checks basic` authenticates no hardware: never a pass, and the log says why. */
static void test_basic_never_pass(void **state)
{
	static const char *const extra[] = { "--checks", "basic", NULL };
	struct tdc_client_result res;
	struct tdc_audit_query q = { 0 };
	struct tdc_audit *db;
	struct su_server s;
	EVP_PKEY *pub = NULL;
	int n = 0;

	start(&s, extra);
	tdc_client_result_init(&res);
	assert_int_equal(attest(s.addr, "alpha", "alpha", &res), 0);
	assert_false(res.passed);
	assert_non_null(strstr(tdc_buf_cstr(&res.doc), "\"mode\":\"basic\""));
	/* Unsigned (no --sign-key): an agent holding a verifier key refuses it. */
	assert_int_equal(tdc_es256_load_public(pub_pem, &pub), 0);
	assert_int_equal(tdc_client_verify_verdict(&res, pub), TDC_ERR_SIGNATURE);
	EVP_PKEY_free(pub);
	tdc_client_result_free(&res);
	stop_server(&s);
	assert_int_equal(tdc_audit_open(env.db, &db), 0);
	assert_int_equal(tdc_audit_select(db, &q, find_basic, &n), 0);
	tdc_audit_close(db);
	assert_int_equal(n, 1);
}

/* ---- signed verdicts ---------------------------------------------------------- */

static void test_signed_verdicts(void **state)
{
	const char *extra[] = { "--sign-key", key_pem, NULL };
	struct tdc_client_result res;
	struct su_server s;
	EVP_PKEY *pub = NULL, *other = NULL;

	start(&s, extra);
	tdc_client_result_init(&res);
	assert_int_equal(tdc_es256_load_public(pub_pem, &pub), 0);
	assert_int_equal(tdc_es256_load_public(other_pub, &other), 0);
	assert_int_equal(attest(s.addr, "alpha", "alpha", &res), 0);
	assert_true(res.passed);
	assert_true(res.sig[0] != '\0');
	assert_int_equal(tdc_client_verify_verdict(&res, pub), 0);
	/* Another verifier's key, a flipped verdict, another document, another nonce. */
	assert_int_equal(tdc_client_verify_verdict(&res, other), TDC_ERR_SIGNATURE);
	res.passed = false;
	assert_int_equal(tdc_client_verify_verdict(&res, pub), TDC_ERR_SIGNATURE);
	res.passed = true;
	res.doc.data[1] ^= 1;
	assert_int_equal(tdc_client_verify_verdict(&res, pub), TDC_ERR_SIGNATURE);
	res.doc.data[1] ^= 1;
	res.nonce[0] ^= 1;
	assert_int_equal(tdc_client_verify_verdict(&res, pub), TDC_ERR_SIGNATURE);
	res.nonce[0] ^= 1;
	assert_int_equal(tdc_client_verify_verdict(&res, pub), 0);
	/* A failing verdict is signed too: an agent can trust a "fail" as much. */
	assert_int_equal(attest(s.addr, "beta", "beta", &res), 0);
	assert_false(res.passed);
	assert_int_equal(tdc_client_verify_verdict(&res, pub), 0);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(other);
	tdc_client_result_free(&res);
	stop_server(&s);
}

/* ---- names in the log, UTF-8 on the wire ------------------------------------- */

static int collect(void *ctx, const struct tdc_audit_record *r)
{
	(*(size_t *)ctx)++;
	return 0;
}

static void run_capture(const char *cmd, struct tdc_buf *out)
{
	char buf[4096];
	size_t n;
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	tdc_buf_reset(out);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		assert_int_equal(tdc_buf_put(out, buf, n), 0);
	assert_int_equal(pclose(p), 0);
}

static void test_names_in_log(void **state)
{
	static const char *const extra[] = { "--reject-interval", "1", NULL };
	struct tdc_client_result res;
	struct tdc_audit_query q = { 0 };
	struct tdc_audit *db;
	struct su_server s;
	struct tdc_buf out;
	char claims[TDC_CLAIMS_STR_MAX], frame_vm[TDC_FRAME_STR_MAX], cmd[1200];
	size_t rows = 0, lines = 0, n;
	json_t *doc;

	start(&s, extra);
	tdc_client_result_init(&res);
	tdc_buf_init(&out);
	/*
	 * The claims name a newline, a fake row, a terminal escape and then
	 * two-byte characters, long enough that any bounded copy of a detail
	 * quoting it cuts a character in half.
	 */
	n = (size_t)snprintf(claims, sizeof(claims), "alpha\n999999 2026-01-01T00:00:00Z alpha"
			     "            pass   tcp:10.0.0.1:1\x1b[2J");
	while (n + 2 < sizeof(claims) - 1) {
		memcpy(claims + n, "\xc3\xa9", 2);
		n += 2;
	}
	claims[n] = '\0';
	assert_int_equal(attest(s.addr, "alpha", claims, &res), 0);
	assert_false(res.passed); /* the claims name another VM */
	/* One verdict everywhere: the document says so too, naming the check. */
	assert_non_null(doc = json_loadb((const char *)res.doc.data, res.doc.len, 0, NULL));
	assert_true(json_is_false(json_object_get(doc, "passed")));
	assert_non_null(strstr(tdc_buf_cstr(&res.doc), "registry entry is 'alpha'"));
	json_decref(doc);
	/* A frame name with a newline: refused at the boundary. */
	assert_int_equal(attest(s.addr, "alpha\n1 2026-01-01 alpha pass", "alpha", &res),
			 TDC_ERR_NOT_FOUND);
	assert_non_null(strstr(tdc_errdetail(), "invalid VM name"));
	/* A long name of two-byte characters: the error frame quoting it is cut, and
	 * still valid UTF-8 (the agent's strict decoder would refuse it otherwise). */
	n = (size_t)snprintf(frame_vm, sizeof(frame_vm), "x");
	while (n + 2 < sizeof(frame_vm) - 4) {
		memcpy(frame_vm + n, "\xc3\xa9", 2);
		n += 2;
	}
	frame_vm[n] = '\0';
	int r = attest(s.addr, frame_vm, "alpha", &res);

	if (r != TDC_ERR_NOT_FOUND)
		fail_msg("long name: %s", tdc_errmsg(r));
	assert_non_null(strstr(tdc_errdetail(), "VM name"));
	assert_int_equal(attest(s.addr, "alpha", "alpha", &res), 0);
	assert_true(res.passed);
	tdc_client_result_free(&res);
	stop_server(&s); /* writes the aggregated refusals */

	assert_int_equal(tdc_audit_open(env.db, &db), 0);
	assert_int_equal(tdc_audit_select(db, &q, collect, &rows), 0);
	tdc_audit_close(db);
	assert_true(rows >= 3); /* fail, pass, refusals */
	/* JSON: every row, as valid JSON. */
	snprintf(cmd, sizeof(cmd), "'%s' log --db '%s' --format json", verifier, env.db);
	run_capture(cmd, &out);
	assert_non_null(doc = json_loadb((const char *)out.data, out.len, 0, NULL));
	assert_int_equal(json_array_size(doc), rows);
	json_decref(doc);
	/* Text: one line per row, nothing a terminal acts on, no planted row. */
	snprintf(cmd, sizeof(cmd), "'%s' log --db '%s'", verifier, env.db);
	run_capture(cmd, &out);
	for (size_t i = 0; i < out.len; i++) {
		assert_true(out.data[i] >= 0x20 || out.data[i] == '\n');
		assert_true(out.data[i] != 0x7f);
		if (out.data[i] == '\n') {
			lines++;
			assert_false(i + 6 < out.len && !memcmp(out.data + i + 1, "999999", 6));
		}
	}
	assert_int_equal(lines, rows);
	assert_true(tdc_text_utf8_valid(out.data, out.len));
	tdc_buf_free(&out);
}

/* ---- frames --------------------------------------------------------------------- */

/* Whatever a bounded copy did to it, a text field goes out as valid UTF-8. */
static void test_frame_text_utf8(void **state)
{
	struct tdc_frame f;
	struct tdc_buf b;
	uint32_t len;
	char msg[TDC_FRAME_STR_MAX];

	tdc_frame_init(&f);
	tdc_buf_init(&b);
	snprintf(msg, sizeof(msg), "unknown VM 'x\xc3");  /* a character cut in half */
	assert_int_equal(tdc_frame_encode_error(TDC_ERR_NOT_FOUND, msg, &b), 0);
	assert_int_equal(tdc_frame_header(b.data, TDC_FRAME_MAX, &len), 0);
	assert_int_equal(tdc_frame_decode(b.data + 4, len, &f), 0);
	assert_string_equal(f.message, "unknown VM 'x\\xC3");
	tdc_frame_free(&f);
	/* A verdict document that is not UTF-8 is not sent at all. */
	tdc_buf_reset(&b);
	f.type = TDC_FRAME_VERDICT;
	snprintf(f.format, sizeof(f.format), "json");
	assert_int_equal(tdc_buf_put(&f.payload, "{\"x\":\"\xff\"}", 9), 0);
	assert_int_equal(tdc_frame_encode(&f, &b), TDC_ERR_FORMAT);
	tdc_frame_free(&f);
	tdc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cid_bound),
		cmocka_unit_test(test_nonce_max_age),
		cmocka_unit_test(test_basic_never_pass),
		cmocka_unit_test(test_signed_verdicts),
		cmocka_unit_test(test_names_in_log),
		cmocka_unit_test(test_frame_text_utf8),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
