// SPDX-License-Identifier: Apache-2.0
/* Per-peer connection limits and rate (peers.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

/* Tokens in thousandths, so a rate of a few per second refills smoothly per ms. */
#define MILLI 1000u

struct slot {
	char key[TDC_PEER_KEY_MAX];   /* "" = empty */
	unsigned conns;
	uint64_t tokens;              /* milli-tokens */
	uint64_t last_ms;             /* of the last refill */
	bool drop;                    /* prune: not carried over */
};

struct tdc_peers {
	struct tdc_peer_limits l;
	struct slot *t;
	size_t cap, used;             /* open addressing, linear probing, no tombstones */
	size_t active;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

int tdc_peers_new(const struct tdc_peer_limits *l, struct tdc_peers **out)
{
	struct tdc_peers *p = calloc(1, sizeof(*p));

	if (!p)
		return tdc_err(TDC_ERR_ALLOC, "peers");
	p->l = *l;
	if (!p->l.burst)
		p->l.burst = 2 * p->l.rate;
	if (!p->l.reserve)
		p->l.reserve = p->l.max_conns / 4;
	if (p->l.reserve >= p->l.max_conns)
		p->l.reserve = p->l.max_conns ? p->l.max_conns - 1 : 0;
	/* Load factor <= 1/2 at TDC_PEERS_MAX peers. */
	for (p->cap = 64; p->cap < 2 * TDC_PEERS_MAX; p->cap *= 2)
		;
	if (!(p->t = calloc(p->cap, sizeof(*p->t)))) {
		free(p);
		return tdc_err(TDC_ERR_ALLOC, "peers");
	}
	*out = p;
	return 0;
}

void tdc_peers_free(struct tdc_peers *p)
{
	if (!p)
		return;
	free(p->t);
	free(p);
}

static struct slot *find(const struct tdc_peers *p, const char *key)
{
	for (size_t i = hash(key) & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
		if (!p->t[i].key[0])
			return NULL;
		if (!strcmp(p->t[i].key, key))
			return &p->t[i];
	}
}

static struct slot *insert(struct tdc_peers *p, const struct slot *s)
{
	size_t i = hash(s->key) & (p->cap - 1);

	while (p->t[i].key[0])
		i = (i + 1) & (p->cap - 1);
	p->t[i] = *s;
	p->used++;
	return &p->t[i];
}

static void refill(const struct tdc_peers *p, struct slot *s, uint64_t now)
{
	uint64_t full = (uint64_t)p->l.burst * MILLI;

	if (now > s->last_ms) {
		s->tokens += (now - s->last_ms) * p->l.rate;   /* rate/s = rate milli-tokens/ms */
		if (s->tokens > full)
			s->tokens = full;
		s->last_ms = now;
	}
}

static int rebuild(struct tdc_peers *p)
{
	struct slot *old = p->t;

	if (!(p->t = calloc(p->cap, sizeof(*p->t)))) {
		p->t = old;
		for (size_t i = 0; i < p->cap; i++)
			old[i].drop = false;
		return TDC_ERR_ALLOC;
	}
	p->used = 0;
	for (size_t i = 0; i < p->cap; i++)
		if (old[i].key[0] && !old[i].drop)
			insert(p, &old[i]);
	free(old);
	return 0;
}

/*
 * The table is full: forget peers holding no connection, those whose
 * bucket has refilled first (nothing is lost with them), then, if that was
 * not enough, every other peer without connections.
 */
static void prune(struct tdc_peers *p, uint64_t now)
{
	for (int pass = 0; pass < 2 && p->used >= TDC_PEERS_MAX * 3 / 4; pass++) {
		for (size_t i = 0; i < p->cap; i++) {
			struct slot *s = &p->t[i];

			if (!s->key[0] || s->conns)
				continue;
			refill(p, s, now);
			s->drop = pass || s->tokens >= (uint64_t)p->l.burst * MILLI;
		}
		if (rebuild(p) != 0)
			return;
	}
}

int tdc_peers_admit(struct tdc_peers *p, const char *key, uint64_t now_ms, const char **why)
{
	struct slot *s = find(p, key), fresh;

	if (p->active >= p->l.max_conns) {
		*why = "verifier busy: connection limit reached, retry later";
		return TDC_ERR_BUSY;
	}
	if (!s) {
		if (p->used >= TDC_PEERS_MAX)
			prune(p, now_ms);
		if (p->used >= TDC_PEERS_MAX) {
			*why = "verifier busy: too many peers at once, retry later";
			return TDC_ERR_BUSY;
		}
		memset(&fresh, 0, sizeof(fresh));
		snprintf(fresh.key, sizeof(fresh.key), "%s", key);
		fresh.tokens = (uint64_t)p->l.burst * MILLI;
		fresh.last_ms = now_ms;
		s = insert(p, &fresh);
	}
	refill(p, s, now_ms);
	if (s->conns >= p->l.per_peer) {
		*why = "verifier busy: too many connections from this peer, retry later";
		return TDC_ERR_BUSY;
	}
	/* The last slots are for peers that hold none: a few hoarders cannot fill the table. */
	if (s->conns && p->active >= p->l.max_conns - p->l.reserve) {
		*why = "verifier busy: remaining connection slots are kept for other peers, retry later";
		return TDC_ERR_BUSY;
	}
	if (s->tokens < MILLI) {
		*why = "verifier busy: too many new connections from this peer, retry later";
		return TDC_ERR_BUSY;
	}
	s->tokens -= MILLI;
	s->conns++;
	p->active++;
	return 0;
}

void tdc_peers_release(struct tdc_peers *p, const char *key)
{
	struct slot *s = find(p, key);

	if (s && s->conns) {
		s->conns--;
		p->active--;
	}
}

size_t tdc_peers_active(const struct tdc_peers *p)
{
	return p->active;
}

unsigned tdc_peers_held(const struct tdc_peers *p, const char *key)
{
	const struct slot *s = find(p, key);

	return s ? s->conns : 0;
}
