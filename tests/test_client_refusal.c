// SPDX-License-Identifier: Apache-2.0
/*
 * What the agent makes of a verifier's error frame: the code it returns and
 * the exit status (0 pass, 1 fail, 2 bad input, 3 internal, 75 try later).
 * A stand-in verifier on loopback TCP answers every connection with the
 * next refusal of a table, before any hello, as `serve` does at accept.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "tdcpuid/client.h"
#include "tdcpuid/error.h"
#include "tdcpuid/frame.h"
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
	{ -999, "a code outside the error space", TDC_ERR_PROTOCOL, TDC_EXIT_INPUT },
};

static struct {
	int lfd;
	char addr[64];
	pthread_t thr;
	const struct refusal *next; /* set before each connection */
	pthread_mutex_t mu;
} fake = { .lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER };

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
	return pthread_create(&fake.thr, NULL, fake_main, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	shutdown(fake.lfd, SHUT_RDWR);
	close(fake.lfd);
	pthread_join(fake.thr, NULL);
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

/* The library: each refusal's code, and the exit status the agent derives from it. */
static void test_codes(void **state)
{
	struct tdc_client_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct refusal *c = &cases[i];
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
	}
}

/* The agent binary: "audit log unavailable, retry later" exits 75, with the reason. */
static void test_agent_exit(void **state)
{
	const char *agent = getenv("TDC_AGENT");
	char dir[] = "/tmp/tdc-refusal-XXXXXX", cmd[1200], err[400];
	struct tdc_buf text;
	int st;

	(void)state;
	if (!agent) {
		printf("  TDC_AGENT not set (run through ctest): agent binary not run\n");
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "'%s' sim-keygen '%s/sim' >/dev/null 2>&1", agent, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(err, sizeof(err), "%s/err", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		serve_next(&cases[i]);
		snprintf(cmd, sizeof(cmd), "'%s' evidence --tee sim --sim-dir '%s/sim' --to %s "
			 "--vm-name alpha >/dev/null 2>'%s'", agent, dir, fake.addr, err);
		st = system(cmd);
		assert_true(WIFEXITED(st));
		tdc_buf_init(&text);
		assert_int_equal(tdc_read_file(err, 4096, &text), 0);
		assert_int_equal(tdc_buf_put_u8(&text, 0), 0);
		printf("  agent exit %d: %s", WEXITSTATUS(st), (const char *)text.data);
		assert_int_equal(WEXITSTATUS(st), cases[i].want_exit);
		assert_non_null(strstr((const char *)text.data, cases[i].msg));
		tdc_buf_free(&text);
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
