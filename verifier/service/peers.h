/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-peer admission for every listener of the service (docs/protocol.md
 * "Limits").  A peer is what struct tdc_peer.key names: an IPv4 address,
 * an IPv6 /64, a vsock CID; whichever transport or protocol (framed
 * TCP/vsock today, HTTP later) accepted the connection asks here first.
 *
 *   per peer   at most per_peer connections at once, and new connections
 *              at most rate per second (token bucket, burst)
 *   global     at most max_conns; the last `reserve` of them go only to
 *              peers holding no connection, so one peer (or a few) filling
 *              the table still leaves room for everybody else
 *
 * Memory is bounded: the table holds at most TDC_PEERS_MAX peers; peers
 * without connections are forgotten first (an idle peer's bucket refills
 * anyway), so rate state survives for the peers that matter.
 * Single-threaded: the event loop owns it.
 */
#ifndef TDC_PEERS_H
#define TDC_PEERS_H

#include <stddef.h>
#include <stdint.h>

#define TDC_PEERS_MAX 16384

struct tdc_peer_limits {
	unsigned max_conns;   /* all peers together */
	unsigned per_peer;    /* connections one peer may hold */
	unsigned rate;        /* new connections per second per peer */
	unsigned burst;       /* bucket size (0: 2 * rate) */
	unsigned reserve;     /* slots kept for peers holding none (0: max_conns / 4) */
};

struct tdc_peers;

int tdc_peers_new(const struct tdc_peer_limits *l, struct tdc_peers **out);
void tdc_peers_free(struct tdc_peers *p);
/*
 * One new connection from @key at @now_ms: 0 (admitted and counted until
 * tdc_peers_release), or TDC_ERR_TOO_LARGE with *@why saying which limit
 * ("verifier busy: ..." text meant for the refused client).
 */
int tdc_peers_admit(struct tdc_peers *p, const char *key, uint64_t now_ms, const char **why);
void tdc_peers_release(struct tdc_peers *p, const char *key);
/* Connections currently admitted, all peers / one peer. */
size_t tdc_peers_active(const struct tdc_peers *p);
unsigned tdc_peers_held(const struct tdc_peers *p, const char *key);

#endif
