// SPDX-License-Identifier: Apache-2.0
/*
 * AF_VSOCK backend of the transport ops.  The verifier listens on the host
 * (or VMADDR_CID_LOCAL for loopback tests); the agent in the guest connects
 * to CID 2 (the host).  The peer CID an accept() reports is assigned by the
 * hypervisor, not claimed by the guest, which is why the registry may map a
 * CID to a VM (docs/protocol.md "Naming a VM").
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

static void fill(const struct tdc_addr *a, struct sockaddr_vm *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->svm_family = AF_VSOCK;
	sa->svm_cid = a->cid;
	sa->svm_port = a->vport;
}

static int vsock_socket(const char *op, int flags, int *s)
{
	*s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (*s < 0)
		return tdc_err(errno == EAFNOSUPPORT ? TDC_ERR_UNSUPPORTED : TDC_ERR_IO,
			       "%s vsock: socket: %s", op, strerror(errno));
	return 0;
}

static int vsock_listen(const struct tdc_addr *a, int backlog, int *fd)
{
	struct sockaddr_vm sa;
	int s, e, err;

	if ((e = vsock_socket("listen", SOCK_NONBLOCK, &s)) != 0)
		return e;
	fill(a, &sa);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, backlog) < 0) {
		err = errno;
		close(s);
		return tdc_err(err == EADDRNOTAVAIL ? TDC_ERR_UNSUPPORTED : TDC_ERR_IO,
			       "listen vsock:%u:%u: %s", a->cid, a->vport, strerror(err));
	}
	*fd = s;
	return 0;
}

static int vsock_connect(const struct tdc_addr *a, int timeout_ms, int *fd)
{
	struct sockaddr_vm sa;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int s, e, err;

	if ((e = vsock_socket("connect", 0, &s)) != 0)
		return e;
	/* vsock honours SO_VM_SOCKETS_CONNECT_TIMEOUT rather than non-blocking connect. */
	setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT_OLD, &tv, sizeof(tv));
	fill(a, &sa);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(s);
		return tdc_err(err == ETIMEDOUT ? TDC_ERR_TIMEOUT : TDC_ERR_IO,
			       "connect vsock:%u:%u: %s", a->cid, a->vport, strerror(err));
	}
	*fd = s;
	return 0;
}

static int vsock_accept(int lfd, int *fd, struct tdc_peer *peer)
{
	struct sockaddr_vm sa;
	socklen_t sl = sizeof(sa);
	int s;

	s = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return tdc_accept_error("accept vsock");
	tdc_peer_from_sockaddr((struct sockaddr *)&sa, sl, peer);
	*fd = s;
	return 0;
}

static int vsock_local(int fd, struct tdc_addr *out)
{
	struct sockaddr_vm sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		return tdc_err(TDC_ERR_IO, "getsockname vsock: %s", strerror(errno));
	memset(out, 0, sizeof(*out));
	out->kind = TDC_TRANSPORT_VSOCK;
	out->cid = sa.svm_cid;
	out->vport = sa.svm_port;
	return 0;
}

const struct tdc_transport_ops tdc_transport_vsock = {
	.name = "vsock",
	.listen = vsock_listen,
	.connect = vsock_connect,
	.accept = vsock_accept,
	.local = vsock_local,
};
