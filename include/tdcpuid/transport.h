/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stream transports for the attestation protocol, one small ops struct per
 * backend (wireguard-tools ipc-*.h style): lib/transport_tcp.c,
 * lib/transport_vsock.c.  Both the agent (connect) and the verifier
 * (listen/accept) use them; the serial console is a one-way armor
 * (include/tdcpuid/serial.h), not a stream transport.
 *
 * Addresses:  tcp:HOST:PORT   (HOST may be [v6] or a name; PORT 0 = any)
 *             vsock:CID:PORT  (CID = ANY, LOCAL, HOST or a number)
 */
#ifndef TDCPUID_TRANSPORT_H
#define TDCPUID_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

#define TDC_ADDR_MAX 300

enum tdc_transport_kind { TDC_TRANSPORT_TCP = 1, TDC_TRANSPORT_VSOCK = 2 };

struct tdc_addr {
	enum tdc_transport_kind kind;
	char host[256];   /* tcp */
	uint16_t port;    /* tcp */
	uint32_t cid;     /* vsock */
	uint32_t vport;   /* vsock */
};

#define TDC_PEER_KEY_MAX 64

/* What the listener learns about a peer at accept time. */
struct tdc_peer {
	enum tdc_transport_kind kind;
	uint32_t cid;            /* vsock: assigned by the host, so trustworthy */
	char text[TDC_ADDR_MAX]; /* "tcp:1.2.3.4:5678" / "vsock:3:1234" */
	/*
	 * Who the peer is for per-peer limits, whatever the transport or
	 * protocol on top: "ip:1.2.3.4" (IPv4, also IPv4-mapped IPv6),
	 * "ip:2001:db8:1:2::/64" (IPv6 by /64: one host usually holds a whole
	 * /64), "vsock:17" (the CID the host assigned).
	 */
	char key[TDC_PEER_KEY_MAX];
};

/*
 * What accept() errno means to a listener: TDC_ERR_TIMEOUT nothing to take
 * now (EAGAIN, EINTR, a connection reset before it was taken),
 * TDC_ERR_ALLOC out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM: back off, the listener stays readable), else TDC_ERR_IO.
 */
int tdc_accept_error(const char *what);

struct sockaddr;
/* Fill @peer from an accepted socket's address (AF_INET, AF_INET6, AF_VSOCK):
 * what every listener (framed TCP/vsock, HTTP) uses to name its peers. */
int tdc_peer_from_sockaddr(const struct sockaddr *sa, size_t len, struct tdc_peer *peer);

struct tdc_transport_ops {
	const char *name;
	int (*listen)(const struct tdc_addr *a, int backlog, int *fd);
	int (*connect)(const struct tdc_addr *a, int timeout_ms, int *fd);
	int (*accept)(int lfd, int *fd, struct tdc_peer *peer);
	/* The address a listening socket is bound to (learn port 0's choice). */
	int (*local)(int fd, struct tdc_addr *out);
};

extern const struct tdc_transport_ops tdc_transport_tcp;
extern const struct tdc_transport_ops tdc_transport_vsock;

int tdc_addr_parse(const char *s, struct tdc_addr *a);
/* "tcp:127.0.0.1:4050"; returns @buf. */
const char *tdc_addr_str(const struct tdc_addr *a, char *buf, size_t len);
const struct tdc_transport_ops *tdc_transport_of(const struct tdc_addr *a);

/* Monotonic clock in milliseconds: deadlines are absolute values of it. */
uint64_t tdc_now_ms(void);

/*
 * Blocking helpers for clients (the agent, tests, benchmarks): each waits
 * with poll() until @deadline_ms and fails with TDC_ERR_TIMEOUT after it.
 */
int tdc_io_write_all(int fd, const void *p, size_t n, uint64_t deadline_ms);
/* Read one frame body (header checked against @cap) into @body. */
int tdc_io_read_frame(int fd, size_t cap, uint64_t deadline_ms, struct tdc_buf *body);
/* Connect to a "tcp:..."/"vsock:..." string. */
int tdc_transport_dial(const char *addr, int timeout_ms, int *fd);

#endif
