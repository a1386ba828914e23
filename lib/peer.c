// SPDX-License-Identifier: Apache-2.0
/*
 * Who is on the other end of an accepted socket, and what an accept error
 * means: shared by every transport backend (transport_tcp.c,
 * transport_vsock.c) and the service.  It calls no backend, so the
 * backends and transport.c (which dispatches to them) never call in a circle.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

int tdc_accept_error(const char *what)
{
	int err = errno;

	switch (err) {
	case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO: case EPERM:
		return TDC_ERR_TIMEOUT;
	case EMFILE: case ENFILE: case ENOBUFS: case ENOMEM:
		return tdc_err(TDC_ERR_ALLOC, "%s: %s", what, strerror(err));
	default:
		return tdc_err(TDC_ERR_IO, "%s: %s", what, strerror(err));
	}
}

int tdc_peer_from_sockaddr(const struct sockaddr *sa, size_t len, struct tdc_peer *peer)
{
	char host[INET6_ADDRSTRLEN] = "?";
	uint8_t pfx[16];

	memset(peer, 0, sizeof(*peer));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		peer->kind = TDC_TRANSPORT_TCP;
		snprintf(peer->text, sizeof(peer->text), "tcp:%s:%u", host, ntohs(s4->sin_port));
		snprintf(peer->key, sizeof(peer->key), "ip:%s", host);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		peer->kind = TDC_TRANSPORT_TCP;
		snprintf(peer->text, sizeof(peer->text), "tcp:[%s]:%u", host, ntohs(s6->sin6_port));
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, host, sizeof(host));
			snprintf(peer->key, sizeof(peer->key), "ip:%s", host);
			return 0;
		}
		memset(pfx, 0, sizeof(pfx));
		memcpy(pfx, s6->sin6_addr.s6_addr, 8);
		inet_ntop(AF_INET6, pfx, host, sizeof(host));
		snprintf(peer->key, sizeof(peer->key), "ip:%s/64", host);
		return 0;
	}
	if (sa->sa_family == AF_VSOCK && len >= sizeof(struct sockaddr_vm)) {
		const struct sockaddr_vm *v = (const void *)sa;

		peer->kind = TDC_TRANSPORT_VSOCK;
		peer->cid = v->svm_cid;
		snprintf(peer->text, sizeof(peer->text), "vsock:%u:%u", v->svm_cid, v->svm_port);
		snprintf(peer->key, sizeof(peer->key), "vsock:%u", v->svm_cid);
		return 0;
	}
	return tdc_err(TDC_ERR_UNSUPPORTED, "peer: address family %d", sa->sa_family);
}
