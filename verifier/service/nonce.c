// SPDX-License-Identifier: Apache-2.0
/* Verifier nonces: memory and stateless (HMAC) modes; see nonce.h. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nonce.h"
#include "tdcpuid/error.h"
#include "tdcpuid/transport.h"

#define NBUCKETS 4096
#define STATELESS_TAG "tdcpuid-nonce-v1"
#define STATELESS_MAC_LEN 16

struct entry {
	uint8_t nonce[TDC_NONCE_LEN];
	uint64_t expiry_ms;   /* memory: monotonic; stateless: realtime */
	bool used;
	struct entry *next;
};

struct tdc_nonce_store {
	pthread_mutex_t lock;
	uint32_t ttl_s;
	bool stateless;
	uint8_t key[TDC_NONCE_KEY_LEN];
	struct entry *buckets[NBUCKETS];
	size_t count;
};

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_ms(const struct tdc_nonce_store *s)
{
	/* Stateless nonces carry wall-clock time so other instances can judge them. */
	return s->stateless ? realtime_ms() : tdc_now_ms();
}

int tdc_nonce_store_new(uint32_t ttl_s, const uint8_t *key, struct tdc_nonce_store **out)
{
	struct tdc_nonce_store *s = calloc(1, sizeof(*s));

	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "nonce store");
	pthread_mutex_init(&s->lock, NULL);
	s->ttl_s = ttl_s;
	if (key) {
		s->stateless = true;
		memcpy(s->key, key, TDC_NONCE_KEY_LEN);
	}
	*out = s;
	return 0;
}

void tdc_nonce_store_free(struct tdc_nonce_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < NBUCKETS; i++) {
		for (struct entry *e = s->buckets[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	}
	OPENSSL_cleanse(s->key, sizeof(s->key));
	pthread_mutex_destroy(&s->lock);
	free(s);
}

bool tdc_nonce_stateless(const struct tdc_nonce_store *s)
{
	return s->stateless;
}

static size_t bucket_of(const uint8_t *n)
{
	/* Nonce bytes 8..16 are random in both modes: a fine hash. */
	uint32_t h;

	memcpy(&h, n + 8, sizeof(h));
	return h % NBUCKETS;
}

static struct entry *find(struct tdc_nonce_store *s, const uint8_t *n)
{
	for (struct entry *e = s->buckets[bucket_of(n)]; e; e = e->next)
		if (!CRYPTO_memcmp(e->nonce, n, TDC_NONCE_LEN))
			return e;
	return NULL;
}

static void purge(struct tdc_nonce_store *s, uint64_t now)
{
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct entry **pp = &s->buckets[i];

		while (*pp) {
			struct entry *e = *pp;

			if (e->expiry_ms <= now) {
				*pp = e->next;
				free(e);
				s->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* Caller holds the lock. */
static int insert(struct tdc_nonce_store *s, const uint8_t *n, uint64_t expiry, bool used)
{
	struct entry *e;
	uint64_t now = now_ms(s);

	if (s->count >= TDC_NONCE_MAX_OUTSTANDING)
		purge(s, now);
	if (s->count >= TDC_NONCE_MAX_OUTSTANDING)
		return tdc_err(TDC_ERR_BUSY, "nonce: %d outstanding nonces, try later",
			       TDC_NONCE_MAX_OUTSTANDING);
	if (!(e = calloc(1, sizeof(*e))))
		return tdc_err(TDC_ERR_ALLOC, "nonce: alloc");
	memcpy(e->nonce, n, TDC_NONCE_LEN);
	e->expiry_ms = expiry;
	e->used = used;
	e->next = s->buckets[bucket_of(n)];
	s->buckets[bucket_of(n)] = e;
	s->count++;
	return 0;
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int stateless_mac(const struct tdc_nonce_store *s, const uint8_t *head16,
			 uint8_t mac[STATELESS_MAC_LEN])
{
	uint8_t msg[sizeof(STATELESS_TAG) - 1 + 16], full[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	memcpy(msg, STATELESS_TAG, sizeof(STATELESS_TAG) - 1);
	memcpy(msg + sizeof(STATELESS_TAG) - 1, head16, 16);
	if (!HMAC(EVP_sha256(), s->key, sizeof(s->key), msg, sizeof(msg), full, &len))
		return tdc_err(TDC_ERR_INTERNAL, "nonce: HMAC failed");
	memcpy(mac, full, STATELESS_MAC_LEN);
	return 0;
}

int tdc_nonce_issue(struct tdc_nonce_store *s, uint8_t nonce[TDC_NONCE_LEN])
{
	int e;

	if (s->stateless) {
		be64(nonce, (uint64_t)time(NULL));
		if (RAND_bytes(nonce + 8, 8) != 1)
			return tdc_err(TDC_ERR_INTERNAL, "nonce: RAND_bytes failed");
		return stateless_mac(s, nonce, nonce + 16);
	}
	if (RAND_bytes(nonce, TDC_NONCE_LEN) != 1)
		return tdc_err(TDC_ERR_INTERNAL, "nonce: RAND_bytes failed");
	pthread_mutex_lock(&s->lock);
	e = insert(s, nonce, tdc_now_ms() + (uint64_t)s->ttl_s * 1000, false);
	pthread_mutex_unlock(&s->lock);
	return e;
}

int tdc_nonce_generate(struct tdc_nonce_store *s, uint8_t nonce[TDC_NONCE_LEN])
{
	if (s->stateless)
		return tdc_nonce_issue(s, nonce); /* stores nothing either */
	if (RAND_bytes(nonce, TDC_NONCE_LEN) != 1)
		return tdc_err(TDC_ERR_INTERNAL, "nonce: RAND_bytes failed");
	return 0;
}

static int consume_stateless(struct tdc_nonce_store *s, const uint8_t *n)
{
	uint8_t mac[STATELESS_MAC_LEN];
	uint64_t t = 0, now = realtime_ms();
	int e;

	if ((e = stateless_mac(s, n, mac)) != 0)
		return e;
	if (CRYPTO_memcmp(mac, n + 16, sizeof(mac)))
		return tdc_err(TDC_ERR_NONCE, "nonce: not issued by a verifier holding this key");
	for (int i = 0; i < 8; i++)
		t = t << 8 | n[i];
	if (t * 1000 > now + 5000) /* small allowance for clock skew between instances */
		return tdc_err(TDC_ERR_NONCE, "nonce: issued in the future");
	/* The nonce carries whole seconds: count from the end of that second,
	 * so a nonce never lives shorter than its TTL (at most 1 s longer). */
	if ((t + 1) * 1000 + (uint64_t)s->ttl_s * 1000 <= now)
		return tdc_err(TDC_ERR_NONCE, "nonce: expired (issued %llu s ago, ttl %u s)",
			       (unsigned long long)(now / 1000 - t), s->ttl_s);
	pthread_mutex_lock(&s->lock);
	e = find(s, n) ? tdc_err(TDC_ERR_NONCE, "nonce: already used")
		       : insert(s, n, (t + 1) * 1000 + (uint64_t)s->ttl_s * 1000, true);
	pthread_mutex_unlock(&s->lock);
	return e;
}

int tdc_nonce_consume(struct tdc_nonce_store *s, const uint8_t nonce[TDC_NONCE_LEN])
{
	struct entry *en;
	int e = 0;

	if (s->stateless)
		return consume_stateless(s, nonce);
	pthread_mutex_lock(&s->lock);
	en = find(s, nonce);
	if (!en)
		e = tdc_err(TDC_ERR_NONCE, "nonce: unknown (not issued by this verifier, or long expired)");
	else if (en->used)
		e = tdc_err(TDC_ERR_NONCE, "nonce: already used");
	else if (en->expiry_ms <= tdc_now_ms())
		e = tdc_err(TDC_ERR_NONCE, "nonce: expired (ttl %u s)", s->ttl_s);
	else
		en->used = true;
	pthread_mutex_unlock(&s->lock);
	return e;
}

int tdc_nonce_key_load(const char *path, uint8_t key[TDC_NONCE_KEY_LEN])
{
	struct tdc_buf b;
	size_t n;
	int e;

	tdc_buf_init(&b);
	if ((e = tdc_read_file(path, 256, &b)) != 0)
		goto out;
	if (b.len == TDC_NONCE_KEY_LEN) {
		memcpy(key, b.data, TDC_NONCE_KEY_LEN);
		goto out;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.len--;
	if (tdc_hex_decode(tdc_buf_cstr(&b), key, TDC_NONCE_KEY_LEN, &n) != 0 ||
	    n != TDC_NONCE_KEY_LEN)
		e = tdc_err(TDC_ERR_FORMAT, "%s: nonce key must be 32 raw bytes or 64 hex characters",
			    path);
out:
	tdc_buf_free(&b);
	return e;
}
