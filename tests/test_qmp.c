// SPDX-License-Identifier: Apache-2.0
/*
 * The QMP client of `capture` against a scripted fake QMP server on a real
 * unix socket: the peer misbehaviours a real QEMU will not produce on
 * demand (not QMP, QMP errors, wrong ids, floods, oversized messages, hang-ups).
 * tests/test_capture.sh runs the same code against a real QEMU.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"
#include "tdcpuid/qmp.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
		 "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_OK "{\"return\": {}, \"id\": 1}\r\n"

/* One exchange: wait for a command containing @expect (NULL: send at once). */
struct step {
	const char *expect;
	const char *reply;
};

struct server {
	int lfd;
	const struct step *steps;
	size_t nsteps;
	size_t flood; /* bytes of 'x' sent after the last step (no newline) */
	char path[108];
	bool mismatch;
};

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		ssize_t k = read(fd, buf + n, 1);

		if (k <= 0)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	char line[4096];

	if (fd < 0)
		return NULL;
	for (size_t i = 0; i < s->nsteps; i++) {
		const struct step *st = &s->steps[i];

		if (!st->expect && !st->reply)
			break; /* {NULL, NULL}: hang up now */
		if (st->expect) {
			if (read_line(fd, line, sizeof(line)) != 0)
				break;
			if (!strstr(line, st->expect))
				s->mismatch = true;
		}
		if (st->reply && write(fd, st->reply, strlen(st->reply)) < 0)
			break;
		for (size_t left = i + 1 == s->nsteps ? s->flood : 0; left > 0;) {
			char junk[65536];
			size_t k = left < sizeof(junk) ? left : sizeof(junk);

			memset(junk, 'x', k);
			if (write(fd, junk, k) < 0)
				break;
			left -= k;
		}
	}
	/* Unless hanging up, keep the connection until the client is done. */
	if (s->nsteps && (s->steps[s->nsteps - 1].expect || s->steps[s->nsteps - 1].reply))
		while (read(fd, line, sizeof(line)) > 0)
			;
	close(fd);
	return NULL;
}

static void start(struct server *s, const struct step *steps, size_t n, size_t flood,
		  pthread_t *th)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	s->flood = flood;
	s->steps = steps;
	s->nsteps = n;
	snprintf(s->path, sizeof(s->path), "/tmp/tdc-qmp-test.%d.sock", (int)getpid());
	unlink(s->path);
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	assert_true((s->lfd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(th, NULL, serve, s), 0);
}

static void stop(struct server *s, pthread_t th)
{
	pthread_join(th, NULL);
	close(s->lfd);
	unlink(s->path);
	assert_false(s->mismatch);
}

/* Run a capture against @steps; expect @code and @needle in the detail. */
static void expect_capture(const struct step *steps, size_t n, size_t flood,
			   unsigned timeout_ms, int code, const char *needle)
{
	struct server s;
	struct tdc_buf out;
	size_t ncpus = 0;
	pthread_t th;
	int r;

	start(&s, steps, n, flood, &th);
	tdc_buf_init(&out);
	r = tdc_capture_qmp(s.path, timeout_ms, &out, &ncpus);
	if (r != code || (needle && !strstr(tdc_errdetail(), needle)))
		fail_msg("got %d '%s', want %d containing '%s'", r, tdc_errdetail(), code,
			 needle ? needle : "");
	tdc_buf_free(&out);
	/* The client closed its end; the server thread sees EOF and exits. */
	stop(&s, th);
}

static void test_not_qmp(void **state)
{
	static const struct step steps[] = { { NULL, "{\"hello\": \"world\"}\r\n" } };

	expect_capture(steps, 1, 0, 2000, TDC_ERR_PROTOCOL, "not a QMP server");
}

static void test_garbage_greeting(void **state)
{
	static const struct step steps[] = { { NULL, "SSH-2.0-OpenSSH_9.2\r\n" } };

	expect_capture(steps, 1, 0, 2000, TDC_ERR_PROTOCOL, "greeting: not a QMP message");
}

static void test_qmp_error(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING },
		{ "\"qmp_capabilities\"", CAPS_OK },
		{ "\"query-cpus-fast\"", "{\"error\": {\"class\": \"CommandNotFound\", "
					 "\"desc\": \"The command query-cpus-fast has not been found\"}, \"id\": 2}\r\n" },
	};

	expect_capture(steps, 3, 0, 2000, TDC_ERR_PROTOCOL,
		       "query-cpus-fast: QMP error CommandNotFound: The command");
}

static void test_capabilities_refused(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING },
		{ "\"qmp_capabilities\"", "{\"error\": {\"class\": \"GenericError\", "
					  "\"desc\": \"Capabilities negotiation is already complete\"}, \"id\": 1}\r\n" },
	};

	expect_capture(steps, 2, 0, 2000, TDC_ERR_PROTOCOL, "qmp_capabilities: QMP error GenericError");
}

static void test_wrong_id(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING },
		{ "\"qmp_capabilities\"", "{\"return\": {}, \"id\": 7}\r\n" },
	};

	expect_capture(steps, 2, 0, 2000, TDC_ERR_PROTOCOL, "wrong or missing id");
}

static void test_silent_peer(void **state)
{
	static const struct step steps[] = { { NULL, GREETING }, { "\"qmp_capabilities\"", NULL } };
	struct server s;
	struct tdc_qmp q;
	pthread_t th;

	/* The server reads the command, then stops answering and the client
	 * closes first: the deadline must end the wait. */
	start(&s, steps, 2, 0, &th);
	assert_int_equal(tdc_qmp_open(&q, s.path, 500), TDC_ERR_TIMEOUT);
	assert_non_null(strstr(tdc_errdetail(), "qmp_capabilities: no answer before the timeout"));
	stop(&s, th);
}

static void test_hangup(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING }, { "\"qmp_capabilities\"", NULL }, { NULL, NULL },
	};

	expect_capture(steps, 3, 0, 2000, TDC_ERR_PROTOCOL,
		       "qmp_capabilities: connection closed by QEMU");
}

static void test_oversized(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING }, { "\"qmp_capabilities\"", "{\"return\": " },
	};

	expect_capture(steps, 2, TDC_QMP_MSG_MAX + 1, 5000, TDC_ERR_TOO_LARGE, "exceeds");
}

#define FW "[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1, \"features\": 1}]"
#define EVENT "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RESUME\"}\r\n"

/* Events in between replies are skipped; the capture imports as qmp. */
static void test_fake_capture(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING },
		{ "\"qmp_capabilities\"", EVENT CAPS_OK },
		{ "\"query-cpus-fast\"", "{\"return\": [{\"qom-path\": \"/machine/unattached/device[0]\", "
					 "\"cpu-index\": 0}, {\"qom-path\": \"/machine/unattached/device[2]\", "
					 "\"cpu-index\": 1}], \"id\": 2}\r\n" },
		{ "device[0]", EVENT "{\"return\": " FW ", \"id\": 3}\r\n" },
		{ "filtered-features", "{\"return\": [], \"id\": 4}\r\n" },
		{ "\"level\"", "{\"return\": 13, \"id\": 5}\r\n" },
		{ "\"xlevel\"", "{\"return\": 2147483656, \"id\": 6}\r\n" },
		{ "\"vendor\"", "{\"return\": \"GenuineIntel\", \"id\": 7}\r\n" },
		{ "device[2]", "{\"return\": " FW ", \"id\": 8}\r\n" },
		{ "filtered-features", "{\"return\": [], \"id\": 9}\r\n" },
		{ "\"level\"", "{\"return\": 13, \"id\": 10}\r\n" },
		{ "\"xlevel\"", "{\"return\": 2147483656, \"id\": 11}\r\n" },
		{ "\"vendor\"", "{\"return\": \"GenuineIntel\", \"id\": 12}\r\n" },
		{ "\"smp\"", "{\"return\": {\"cpus\": 2, \"sockets\": 1, \"dies\": 1, \"cores\": 2, "
			     "\"threads\": 1, \"maxcpus\": 2}, \"id\": 13}\r\n" },
	};
	struct tdc_requested req;
	struct server s;
	struct tdc_buf out;
	size_t ncpus = 0;
	pthread_t th;

	start(&s, steps, sizeof(steps) / sizeof(steps[0]), 0, &th);
	tdc_buf_init(&out);
	if (tdc_capture_qmp(s.path, 2000, &out, &ncpus) != 0)
		fail_msg("%s", tdc_errdetail());
	assert_int_equal(ncpus, 2);
	assert_int_equal(tdc_requested_parse(out.data, out.len, NULL, "cap", &req), 0);
	assert_string_equal(req.format, "qmp");
	assert_int_equal(req.ncpus, 2);
	/* The word as given, plus HT: QEMU's -smp has two cores in the package. */
	assert_int_equal(tdc_cpuid_table_find(&req.per_cpu[1], 1, 0)->regs[TDC_EDX], 1u | 1u << 28);
	assert_int_equal(tdc_cpuid_table_find(&req.table, 0, 0)->regs[TDC_EAX], 13);
	tdc_requested_free(&req);
	tdc_buf_free(&out);
	stop(&s, th);
}

/* QEMU's replies must themselves form a valid capture. */
static void test_invalid_words_not_written(void **state)
{
	static const struct step steps[] = {
		{ NULL, GREETING },
		{ "\"qmp_capabilities\"", CAPS_OK },
		{ "\"query-cpus-fast\"", "{\"return\": [{\"qom-path\": \"/d0\", \"cpu-index\": 0}], \"id\": 2}\r\n" },
		{ "feature-words", "{\"return\": [{\"cpuid-register\": \"EQX\", \"cpuid-input-eax\": 1, "
				   "\"features\": 1}], \"id\": 3}\r\n" },
		{ "filtered-features", "{\"return\": [], \"id\": 4}\r\n" },
		{ "\"level\"", "{\"return\": 13, \"id\": 5}\r\n" },
		{ "\"xlevel\"", "{\"return\": 2147483656, \"id\": 6}\r\n" },
		{ "\"vendor\"", "{\"return\": \"GenuineIntel\", \"id\": 7}\r\n" },
		{ "\"smp\"", "{\"return\": {\"cpus\": 1, \"cores\": 1, \"threads\": 1}, \"id\": 8}\r\n" },
	};

	expect_capture(steps, 9, 0, 2000, TDC_ERR_RANGE, "do not form a valid capture");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_qmp),
		cmocka_unit_test(test_garbage_greeting),
		cmocka_unit_test(test_qmp_error),
		cmocka_unit_test(test_capabilities_refused),
		cmocka_unit_test(test_wrong_id),
		cmocka_unit_test(test_silent_peer),
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_fake_capture),
		cmocka_unit_test(test_invalid_words_not_written),
	};

	/* The fake server may write into a connection the client already dropped. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
