// SPDX-License-Identifier: Apache-2.0
/*
 * What the agent makes of a verifier's refusal: the code it returns and the
 * exit status (0 pass, 1 fail, 2 bad input, 3 internal, 75 try later), the
 * same over both transports.  Two stand-in verifiers on loopback answer
 * with the next refusal of one table: framed, an error frame at accept,
 * before any hello, as `serve` does; REST (libmicrohttpd), a session, then
 * the evidence POST answered with the problem document serve's REST API
 * makes for that error (tdc_rest_failure_text: its HTTP status and
 * tdcpuid.code).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <microhttpd.h>

#include "testutil.h"
#include "remote.h"
#include "rest.h"
#include "tdcpuid/client.h"
#include "tdcpuid/error.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/rest.h"
#include "tdcpuid/transport.h"

static const struct refusal {
	int32_t code;
	const char *msg;
	int want;      /* what tdc_client_attest returns */
	int want_exit; /* tdc_exit_code of it: the agent's exit status */
} cases[] = {
	/* What serve sends while its audit log is down (verifier/service/serve.c). */
	{ TDC_ERR_IO, "audit log unavailable, not accepting exchanges; retry later (stalled)",
	  TDC_ERR_BUSY, TDC_EXIT_TEMPFAIL },
	{ TDC_ERR_IO, "audit log unavailable, verdict not recorded: commit failed",
	  TDC_ERR_BUSY, TDC_EXIT_TEMPFAIL },
	{ TDC_ERR_ALLOC, "out of memory", TDC_ERR_BUSY, TDC_EXIT_TEMPFAIL },
	{ TDC_ERR_BUSY, "verifier busy: connection limit reached, retry later", TDC_ERR_BUSY,
	  TDC_EXIT_TEMPFAIL },
	{ TDC_ERR_NOT_FOUND, "unknown VM 'x'", TDC_ERR_NOT_FOUND, TDC_EXIT_INPUT },
	{ TDC_ERR_NONCE, "nonce: expired (ttl 60 s)", TDC_ERR_NONCE, TDC_EXIT_INPUT },
	{ TDC_ERR_INTERNAL, "registry entry not prepared", TDC_ERR_INTERNAL, TDC_EXIT_INTERNAL },
	/* The engine's errors, "evidence not evaluated" (serve.c judge): one per class. */
	{ TDC_ERR_TIMEOUT, "evidence not evaluated: collateral: GET https://pcs/tcb: timed out",
	  TDC_ERR_TIMEOUT, TDC_EXIT_INTERNAL },
	{ TDC_ERR_UNSUPPORTED, "evidence not evaluated: quote: tee_type 0x0 is not TDX",
	  TDC_ERR_UNSUPPORTED, TDC_EXIT_INTERNAL },
	{ TDC_ERR_POLICY, "evidence not evaluated: policy: fails", TDC_ERR_POLICY, TDC_EXIT_FAIL },
	{ TDC_ERR_FORMAT, "evidence not evaluated: claims.cpus: expected an array", TDC_ERR_FORMAT,
	  TDC_EXIT_INPUT },
	{ TDC_ERR_SIGNATURE, "evidence not evaluated: quote: signature", TDC_ERR_SIGNATURE,
	  TDC_EXIT_INPUT },
	{ -999, "a code outside the error space", TDC_ERR_PROTOCOL, TDC_EXIT_INPUT },
};

static struct {
	int lfd;
	char addr[64];
	pthread_t thr;
	const struct refusal *next; /* set before each connection */
	pthread_mutex_t mu;
	struct MHD_Daemon *http;
	char url[64];
} fake = { .lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

/* A 32-byte nonce of zeros, base64 */
#define FAKE_NONCE "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* The REST stand-in's answer to one request once its body is read. */
static char *rest_text(const char *url, const char *method, unsigned *status,
		       const char **type)
{
	char *text;

	*type = TDC_REST_MT_PROBLEM;
	if (!strcmp(method, "DELETE")) {
		*status = MHD_HTTP_NO_CONTENT;
		return strdup("");
	}
	if (!strcmp(url, TDC_REST_NEW_SESSION)) {
		*status = MHD_HTTP_CREATED;
		*type = TDC_REST_MT_SESSION;
		return strdup("{\"nonce\":\"" FAKE_NONCE "\",\"expiry\":\"2099-01-01T00:00:00Z\","
			      "\"accept\":[\"" TDC_REST_MT_EVIDENCE "\"],\"status\":\"waiting\"}");
	}
	pthread_mutex_lock(&fake.mu);
	text = tdc_rest_failure_text(fake.next->code, fake.next->msg, status);
	pthread_mutex_unlock(&fake.mu);
	return text;
}

static enum MHD_Result rest_answer(void *cls, struct MHD_Connection *mc, const char *url,
				   const char *method, const char *version, const char *data,
				   size_t *size, void **req)
{
	static int started;
	struct MHD_Response *rsp;
	const char *type;
	unsigned status;
	enum MHD_Result ok;
	char *text;

	(void)cls, (void)version, (void)data;
	if (!*req) {
		*req = &started; /* the headers: the body (evidence, unread) comes next */
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	if (!(text = rest_text(url, method, &status, &type)))
		return MHD_NO;
	rsp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(rsp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_CREATED)
		MHD_add_response_header(rsp, MHD_HTTP_HEADER_LOCATION, TDC_REST_SESSION "ab12");
	ok = MHD_queue_response(mc, status, rsp);
	MHD_destroy_response(rsp);
	return ok;
}

static int rest_setup(void)
{
	const union MHD_DaemonInfo *info;

	fake.http = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				     NULL, rest_answer, NULL, MHD_OPTION_END);
	if (!fake.http || !(info = MHD_get_daemon_info(fake.http, MHD_DAEMON_INFO_BIND_PORT)))
		return -1;
	snprintf(fake.url, sizeof(fake.url), "http://127.0.0.1:%u", info->port);
	return 0;
}

static void *fake_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(fake.lfd, NULL, NULL);
		struct tdc_buf out;

		if (fd < 0)
			return NULL;
		tdc_buf_init(&out);
		pthread_mutex_lock(&fake.mu);
		if (fake.next && tdc_frame_encode_error(fake.next->code, fake.next->msg, &out) == 0)
			(void)tdc_io_write_all(fd, out.data, out.len, tdc_now_ms() + 5000);
		pthread_mutex_unlock(&fake.mu);
		tdc_buf_free(&out);
		close(fd);
	}
}

static int setup(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fake.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fake.lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fake.lfd, 8) != 0 ||
	    getsockname(fake.lfd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	snprintf(fake.addr, sizeof(fake.addr), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
	if (rest_setup() != 0)
		return -1;
	return pthread_create(&fake.thr, NULL, fake_main, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	shutdown(fake.lfd, SHUT_RDWR);
	close(fake.lfd);
	pthread_join(fake.thr, NULL);
	MHD_stop_daemon(fake.http);
	return 0;
}

static void serve_next(const struct refusal *r)
{
	pthread_mutex_lock(&fake.mu);
	fake.next = r;
	pthread_mutex_unlock(&fake.mu);
}

static int no_evidence(void *ctx, const uint8_t *nonce, size_t len, struct tdc_buf *out)
{
	(void)ctx, (void)nonce, (void)len, (void)out;
	fail_msg("the refusal came before any hello: no evidence is asked for");
	return TDC_ERR_INTERNAL;
}

static int some_evidence(void *ctx, const uint8_t *nonce, size_t len, struct tdc_buf *out)
{
	(void)ctx;
	return tdc_buf_put(out, nonce, len); /* the stand-in reads none of it */
}

/* The library: each refusal's code over both transports, and the exit status from it. */
static void test_codes(void **state)
{
	struct tdc_client_result res;
	struct tdc_agent_http h = { .url = fake.url, .vm = "alpha", .timeout_s = 5 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct refusal *c = &cases[i];
		bool passed;
		int e;

		serve_next(c);
		tdc_client_result_init(&res);
		e = tdc_client_attest(fake.addr, "alpha", 5000, no_evidence, NULL, &res);
		tdc_client_result_free(&res);
		printf("  verifier code %d \"%s\": %d (%s), exit %d\n", c->code, c->msg, e,
		       tdc_errmsg(e), tdc_exit_code(e));
		assert_int_equal(e, c->want);
		assert_int_equal(tdc_exit_code(e), c->want_exit);
		assert_non_null(strstr(tdc_errdetail(), c->msg));

		e = tdc_agent_remote_http(&h, some_evidence, NULL, "/dev/null", &passed);
		if (e == TDC_ERR_UNSUPPORTED && strstr(tdc_errdetail(), "built without")) {
			printf("  this agent has no HTTP client: REST not compared\n");
			continue;
		}
		printf("    over REST: %s\n", tdc_errdetail());
		assert_int_equal(e, c->want);
		assert_non_null(strstr(tdc_errdetail(), c->msg));
	}
}

static int agent_exit(const char *agent, const char *dir, const char *to, const char *msg)
{
	char cmd[1200], err[400];
	struct tdc_buf text;
	int st;

	snprintf(err, sizeof(err), "%s/err", dir);
	snprintf(cmd, sizeof(cmd), "'%s' evidence --tee sim --sim-dir '%s/sim' --to %s "
		 "--vm-name alpha >/dev/null 2>'%s'", agent, dir, to, err);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	tdc_buf_init(&text);
	assert_int_equal(tdc_read_file(err, 4096, &text), 0);
	assert_int_equal(tdc_buf_put_u8(&text, 0), 0);
	printf("  agent exit %d: %s", WEXITSTATUS(st), (const char *)text.data);
	assert_non_null(strstr((const char *)text.data, msg));
	tdc_buf_free(&text);
	return WEXITSTATUS(st);
}

/*
 * The agent binary: the same exit status for the same refusal over tcp: and
 * http:// ("audit log unavailable, retry later" exits 75, a collateral
 * timeout 3, a policy failure 1), with the reason.
 */
static void test_agent_exit(void **state)
{
	const char *agent = getenv("TDC_AGENT");
	char dir[] = "/tmp/tdc-refusal-XXXXXX", cmd[1200];

	(void)state;
	if (!agent) {
		printf("  TDC_AGENT not set (run through ctest): agent binary not run\n");
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "'%s' sim-keygen '%s/sim' >/dev/null 2>&1", agent, dir);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		serve_next(&cases[i]);
		assert_int_equal(agent_exit(agent, dir, fake.addr, cases[i].msg),
				 cases[i].want_exit);
		assert_int_equal(agent_exit(agent, dir, fake.url, cases[i].msg),
				 cases[i].want_exit);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_agent_exit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
