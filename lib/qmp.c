// SPDX-License-Identifier: Apache-2.0
/*
 * QMP client (QEMU's machine protocol), used by `capture` and by the
 * conformance tool's qemu backend.
 * Protocol: QEMU docs/interop/qmp-spec (greeting, capabilities negotiation,
 * "return"/"error" replies, asynchronous events); reply shapes checked
 * against QEMU 7.2 on the test hosts (see lib/import_qmp.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tdcpuid/qmp.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"

#define QMP_WHAT "qmp"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events on the socket until the deadline. */
static int wait_fd(struct tdc_qmp *q, short events, const char *doing)
{
	for (;;) {
		struct pollfd pfd = { .fd = q->fd, .events = events };
		int64_t left = q->deadline_ms - now_ms();
		int n;

		if (left <= 0)
			return tdc_err(TDC_ERR_TIMEOUT, "qmp: %s: %s: no answer before the timeout",
				       q->path, doing);
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tdc_err(TDC_ERR_IO, "qmp: poll: %s", strerror(errno));
		if (n > 0)
			return 0;
	}
}

static int send_all(struct tdc_qmp *q, const char *s, size_t len, const char *doing)
{
	while (len) {
		ssize_t n;
		int r;

		if ((r = wait_fd(q, POLLOUT, doing)) != 0)
			return r;
		n = send(q->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return tdc_err(TDC_ERR_IO, "qmp: %s: %s: send: %s", q->path, doing,
				       strerror(errno));
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Drop the first @n bytes of the input buffer. */
static void consume(struct tdc_buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* One complete '\n'-terminated message, parsed; bounded by TDC_QMP_MSG_MAX. */
static int read_message(struct tdc_qmp *q, const char *doing, json_t **msg)
{
	for (;;) {
		uint8_t *nl = q->in.len ? memchr(q->in.data, '\n', q->in.len) : NULL;
		ssize_t n;
		int r;

		if (nl) {
			size_t len = (size_t)(nl - q->in.data) + 1;

			r = tdc_json_parse(q->in.data, len, TDC_QMP_MSG_MAX, QMP_WHAT, msg);
			consume(&q->in, len);
			return r ? tdc_err_wrap(TDC_ERR_PROTOCOL, "qmp: %s: %s: not a QMP "
						"message: ", q->path, doing) : 0;
		}
		if (q->in.len >= TDC_QMP_MSG_MAX)
			return tdc_err(TDC_ERR_TOO_LARGE, "qmp: %s: %s: message exceeds %u bytes",
				       q->path, doing, TDC_QMP_MSG_MAX);
		if ((r = wait_fd(q, POLLIN, doing)) != 0 ||
		    (r = tdc_buf_reserve(&q->in, 65536)) != 0)
			return r;
		n = recv(q->fd, q->in.data + q->in.len, 65536, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return tdc_err(TDC_ERR_IO, "qmp: %s: %s: recv: %s", q->path, doing,
				       strerror(errno));
		if (n == 0)
			return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: %s: connection closed by QEMU",
				       q->path, doing);
		q->in.len += (size_t)n;
	}
}

static int connect_unix(struct tdc_qmp *q, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return tdc_err(TDC_ERR_RANGE, "qmp: socket path longer than %zu bytes: %s",
			       sizeof(sa.sun_path) - 1, path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return tdc_err(TDC_ERR_IO, "qmp: socket: %s", strerror(errno));
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	switch (errno) {
	case ENOENT:
		return tdc_err(TDC_ERR_NOT_FOUND, "qmp: %s: no such socket", path);
	case ECONNREFUSED:
		return tdc_err(TDC_ERR_IO, "qmp: %s: connection refused (is QEMU running "
			       "with -qmp unix:%s,server=on,wait=off?)", path, path);
	case EACCES:
		return tdc_err(TDC_ERR_PERM, "qmp: %s: permission denied", path);
	default:
		return tdc_err(TDC_ERR_IO, "qmp: %s: connect: %s", path, strerror(errno));
	}
}

/* {"QMP": {"version": {"qemu": {"major", "minor", "micro"}}, "capabilities"}} */
static int check_greeting(struct tdc_qmp *q, const json_t *g)
{
	const json_t *v = json_object_get(json_object_get(g, "QMP"), "version");
	const json_t *qv = json_object_get(v, "qemu");
	const json_t *ma = json_object_get(qv, "major"), *mi = json_object_get(qv, "minor"),
		     *mc = json_object_get(qv, "micro");

	if (!json_is_integer(ma) || !json_is_integer(mi) || !json_is_integer(mc))
		return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: the peer is not a QMP server "
			       "(no {\"QMP\": {\"version\": ...}} greeting)", q->path);
	snprintf(q->version, sizeof(q->version), "%lld.%lld.%lld",
		 (long long)json_integer_value(ma), (long long)json_integer_value(mi),
		 (long long)json_integer_value(mc));
	return 0;
}

int tdc_qmp_open(struct tdc_qmp *q, const char *path, unsigned timeout_ms)
{
	json_t *greeting = NULL, *ret = NULL;
	int r;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->path = path;
	q->next_id = 1;
	tdc_buf_init(&q->in);
	q->deadline_ms = now_ms() + timeout_ms;
	if ((r = connect_unix(q, path)) != 0 ||
	    (r = read_message(q, "greeting", &greeting)) != 0 ||
	    (r = check_greeting(q, greeting)) != 0 ||
	    (r = tdc_qmp_execute(q, "qmp_capabilities", NULL, &ret)) != 0)
		goto out;
	if (!json_is_object(ret) || json_object_size(ret) != 0)
		r = tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: qmp_capabilities: unexpected return value",
			    path);
out:
	json_decref(greeting);
	json_decref(ret);
	if (r)
		tdc_qmp_close(q);
	return r;
}

static int error_reply(struct tdc_qmp *q, const char *cmd, const json_t *err)
{
	const json_t *cls = json_object_get(err, "class"), *desc = json_object_get(err, "desc");

	return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: %s: QMP error %.64s: %.200s", q->path, cmd,
		       json_is_string(cls) ? json_string_value(cls) : "(no class)",
		       json_is_string(desc) ? json_string_value(desc) : "(no description)");
}

/* Wait for the reply carrying @id, skipping events. */
static int await_reply(struct tdc_qmp *q, const char *cmd, unsigned id, json_t **ret)
{
	for (unsigned skipped = 0; skipped <= TDC_QMP_MAX_EVENTS; skipped++) {
		json_t *msg, *rid, *v;
		int r;

		if ((r = read_message(q, cmd, &msg)) != 0)
			return r;
		if (json_is_object(msg) && json_object_get(msg, "event")) {
			json_decref(msg);
			continue;
		}
		rid = json_object_get(msg, "id");
		if (!json_is_integer(rid) || json_integer_value(rid) != (json_int_t)id) {
			json_decref(msg);
			return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: %s: reply with a wrong or "
				       "missing id", q->path, cmd);
		}
		if ((v = json_object_get(msg, "error")))
			r = error_reply(q, cmd, v);
		else if (!(v = json_object_get(msg, "return")))
			r = tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: %s: reply has neither \"return\" "
				    "nor \"error\"", q->path, cmd);
		else
			*ret = json_incref(v);
		json_decref(msg);
		return r;
	}
	return tdc_err(TDC_ERR_PROTOCOL, "qmp: %s: %s: more than %d events without a reply",
		       q->path, cmd, TDC_QMP_MAX_EVENTS);
}

int tdc_qmp_execute(struct tdc_qmp *q, const char *cmd, json_t *args, json_t **ret)
{
	unsigned id = q->next_id++;
	json_t *msg = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	char *text = NULL;
	int r;

	*ret = NULL;
	if (!msg || (args && json_object_set_new(msg, "arguments", args) != 0)) {
		if (!msg)
			json_decref(args);
		r = tdc_err(TDC_ERR_ALLOC, "qmp: %s command", cmd);
		goto out;
	}
	if (!(text = json_dumps(msg, JSON_COMPACT))) {
		r = tdc_err(TDC_ERR_ALLOC, "qmp: %s command", cmd);
		goto out;
	}
	if ((r = send_all(q, text, strlen(text), cmd)) != 0 ||
	    (r = send_all(q, "\n", 1, cmd)) != 0)
		goto out;
	r = await_reply(q, cmd, id, ret);
out:
	free(text);
	json_decref(msg);
	return r;
}

void tdc_qmp_close(struct tdc_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	tdc_buf_free(&q->in);
}
