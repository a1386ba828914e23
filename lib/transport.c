// SPDX-License-Identifier: Apache-2.0
/*
 * Transport addresses and blocking frame I/O shared by the agent, tests and
 * benchmarks.  The verifier's event loop does its own non-blocking I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/frame.h"
#include "tdcpuid/transport.h"

/* linux/vm_sockets.h values, so the parser does not need the header. */
#define CID_ANY 0xffffffffu
#define CID_HOST 2u
#define CID_LOCAL 1u

uint64_t tdc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_num(const char *s, unsigned long long max, const char *what,
		     const char *addr, unsigned long long *v)
{
	if (tdc_parse_u64(s, max, v) != 0)
		return tdc_err(TDC_ERR_USAGE, "address %s: bad %s '%s'", addr, what, s);
	return 0;
}

static int parse_vsock(const char *s, const char *full, struct tdc_addr *a)
{
	static const struct { const char *name; uint32_t cid; } names[] = {
		{ "ANY", CID_ANY }, { "LOCAL", CID_LOCAL }, { "HOST", CID_HOST },
	};
	const char *colon = strrchr(s, ':');
	char cid[32];
	unsigned long long v;
	int e;

	if (!colon || (size_t)(colon - s) >= sizeof(cid) || colon == s)
		return tdc_err(TDC_ERR_USAGE, "address %s: expected vsock:CID:PORT", full);
	memcpy(cid, s, (size_t)(colon - s));
	cid[colon - s] = '\0';
	a->kind = TDC_TRANSPORT_VSOCK;
	if ((e = parse_num(colon + 1, UINT32_MAX, "port", full, &v)) != 0)
		return e;
	a->vport = (uint32_t)v;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(cid, names[i].name)) {
			a->cid = names[i].cid;
			return 0;
		}
	}
	if ((e = parse_num(cid, UINT32_MAX, "CID", full, &v)) != 0)
		return e;
	a->cid = (uint32_t)v;
	return 0;
}

static int parse_tcp(const char *s, const char *full, struct tdc_addr *a)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;
	unsigned long long v;
	int e;

	if (!colon || colon == s)
		return tdc_err(TDC_ERR_USAGE, "address %s: expected tcp:HOST:PORT", full);
	hl = (size_t)(colon - s);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') { /* [v6]:port */
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(a->host))
		return tdc_err(TDC_ERR_USAGE, "address %s: bad host", full);
	memcpy(a->host, h, hl);
	a->host[hl] = '\0';
	a->kind = TDC_TRANSPORT_TCP;
	if ((e = parse_num(colon + 1, 65535, "port", full, &v)) != 0)
		return e;
	a->port = (uint16_t)v;
	return 0;
}

int tdc_addr_parse(const char *s, struct tdc_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!strncmp(s, "tcp:", 4))
		return parse_tcp(s + 4, s, a);
	if (!strncmp(s, "vsock:", 6))
		return parse_vsock(s + 6, s, a);
	return tdc_err(TDC_ERR_USAGE, "address %s: expected tcp:HOST:PORT or vsock:CID:PORT", s);
}

const char *tdc_addr_str(const struct tdc_addr *a, char *buf, size_t len)
{
	if (a->kind == TDC_TRANSPORT_VSOCK && a->cid == CID_ANY)
		snprintf(buf, len, "vsock:ANY:%u", a->vport);
	else if (a->kind == TDC_TRANSPORT_VSOCK)
		snprintf(buf, len, "vsock:%u:%u", a->cid, a->vport);
	else
		snprintf(buf, len, strchr(a->host, ':') ? "tcp:[%s]:%u" : "tcp:%s:%u",
			 a->host, a->port);
	return buf;
}

const struct tdc_transport_ops *tdc_transport_of(const struct tdc_addr *a)
{
	return a->kind == TDC_TRANSPORT_VSOCK ? &tdc_transport_vsock : &tdc_transport_tcp;
}

static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;
	int n;

	for (;;) {
		now = tdc_now_ms();
		if (now >= deadline_ms)
			return tdc_err(TDC_ERR_TIMEOUT, "transport: deadline expired");
		n = poll(&p, 1, (int)(deadline_ms - now > 60000 ? 60000 : deadline_ms - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return tdc_err(TDC_ERR_IO, "transport: poll: %s", strerror(errno));
	}
}

int tdc_io_write_all(int fd, const void *p, size_t n, uint64_t deadline_ms)
{
	const uint8_t *c = p;
	ssize_t w;
	int e;

	while (n) {
		if ((e = wait_fd(fd, POLLOUT, deadline_ms)) != 0)
			return e;
		w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return tdc_err(TDC_ERR_IO, "transport: send: %s", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_exact(int fd, uint8_t *p, size_t n, uint64_t deadline_ms)
{
	ssize_t r;
	int e;

	while (n) {
		if ((e = wait_fd(fd, POLLIN, deadline_ms)) != 0)
			return e;
		r = recv(fd, p, n, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return tdc_err(TDC_ERR_IO, "transport: recv: %s", strerror(errno));
		if (r == 0)
			return tdc_err(TDC_ERR_PROTOCOL, "transport: peer closed the connection");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int tdc_io_read_frame(int fd, size_t cap, uint64_t deadline_ms, struct tdc_buf *body)
{
	uint8_t hdr[TDC_FRAME_HDR_LEN];
	uint32_t len;
	int e;

	if ((e = read_exact(fd, hdr, sizeof(hdr), deadline_ms)) != 0 ||
	    (e = tdc_frame_header(hdr, cap, &len)) != 0)
		return e;
	tdc_buf_reset(body);
	if ((e = tdc_buf_reserve(body, len)) != 0)
		return e;
	if ((e = read_exact(fd, body->data, len, deadline_ms)) != 0)
		return e;
	body->len = len;
	return 0;
}

int tdc_transport_dial(const char *addr, int timeout_ms, int *fd)
{
	struct tdc_addr a;
	int e;

	if ((e = tdc_addr_parse(addr, &a)) != 0)
		return e;
	return tdc_transport_of(&a)->connect(&a, timeout_ms, fd);
}
