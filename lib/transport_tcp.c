// SPDX-License-Identifier: Apache-2.0
/* TCP backend of the transport ops (include/tdcpuid/transport.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

static int resolve(const struct tdc_addr *a, bool passive, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	char port[8];
	int g;

	snprintf(port, sizeof(port), "%u", a->port);
	/*
	 * Numeric first: the static initramfs agent has no NSS modules, and a
	 * literal address must not depend on them.
	 */
	hints.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
	g = getaddrinfo(a->host, port, &hints, res);
	hints.ai_flags &= ~AI_NUMERICHOST;
	if (g == EAI_NONAME)
		g = getaddrinfo(a->host, port, &hints, res);
	if (g != 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "tcp:%s:%u: %s", a->host, a->port, gai_strerror(g));
	return 0;
}

static int tcp_listen(const struct tdc_addr *a, int backlog, int *fd)
{
	struct addrinfo *res, *ai;
	int s = -1, one = 1, e, err = 0;

	if ((e = resolve(a, true, &res)) != 0)
		return e;
	for (ai = res; ai; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s < 0) {
			err = errno;
			continue;
		}
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, backlog) == 0)
			break;
		err = errno;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s < 0)
		return tdc_err(TDC_ERR_IO, "listen tcp:%s:%u: %s", a->host, a->port, strerror(err));
	*fd = s;
	return 0;
}

/* Non-blocking connect so the agent's deadline covers a black-holed host. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *fd)
{
	struct pollfd p;
	socklen_t sl = sizeof(int);
	int s, err = 0, one = 1;

	s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	if (connect(s, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			close(s);
			return -err;
		}
		p = (struct pollfd){ .fd = s, .events = POLLOUT };
		if (poll(&p, 1, timeout_ms) <= 0) {
			close(s);
			return -ETIMEDOUT;
		}
		getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			close(s);
			return -err;
		}
	}
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return 0;
}

static int tcp_connect(const struct tdc_addr *a, int timeout_ms, int *fd)
{
	struct addrinfo *res, *ai;
	int e, err = ENOENT;

	if ((e = resolve(a, false, &res)) != 0)
		return e;
	for (ai = res; ai; ai = ai->ai_next)
		if ((err = -connect_one(ai, timeout_ms, fd)) == 0)
			break;
	freeaddrinfo(res);
	if (err == ETIMEDOUT)
		return tdc_err(TDC_ERR_TIMEOUT, "connect tcp:%s:%u: timed out", a->host, a->port);
	if (err)
		return tdc_err(TDC_ERR_IO, "connect tcp:%s:%u: %s", a->host, a->port, strerror(err));
	return 0;
}

static void sa_text(const struct sockaddr_storage *ss, char *host, size_t hl, uint16_t *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, (socklen_t)hl);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, (socklen_t)hl);
		*port = ntohs(s4->sin_port);
	}
}

static int tcp_accept(int lfd, int *fd, struct tdc_peer *peer)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int s, one = 1;

	s = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return tdc_accept_error("accept");
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tdc_peer_from_sockaddr((struct sockaddr *)&ss, sl, peer) != 0) {
		memset(peer, 0, sizeof(*peer));
		peer->kind = TDC_TRANSPORT_TCP;
		snprintf(peer->text, sizeof(peer->text), "tcp:?");
		snprintf(peer->key, sizeof(peer->key), "ip:?");
	}
	*fd = s;
	return 0;
}

static int tcp_local(int fd, struct tdc_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return tdc_err(TDC_ERR_IO, "getsockname: %s", strerror(errno));
	memset(out, 0, sizeof(*out));
	out->kind = TDC_TRANSPORT_TCP;
	sa_text(&ss, out->host, sizeof(out->host), &out->port);
	return 0;
}

const struct tdc_transport_ops tdc_transport_tcp = {
	.name = "tcp",
	.listen = tcp_listen,
	.connect = tcp_connect,
	.accept = tcp_accept,
	.local = tcp_local,
};
