// SPDX-License-Identifier: Apache-2.0
/*
 * Collateral sources: a directory, or a PCS/PCCS URL with the verified
 * on-disk cache (model in coll_source.h).
 *
 * Locking.  `lock` guards the tables (slots, views, queue, counters) and is
 * never held across I/O.  `fetch_lock` serializes everything that changes
 * a slot's document (disk loads, fetches, the background refresh), so a
 * holder of fetch_lock may read slot contents without `lock` and takes
 * `lock` only to publish a new copy.  Slots live in a fixed array and are
 * never removed, so pointers to them stay valid for the source's lifetime.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coll_source.h"
#include "coll_store.h"
#include "http.h"
#include "tdcpuid/error.h"

struct slot {
	char name[TDC_COLL_SLOT_MAX];    /* file name in the store */
	enum tdc_pcs_doc doc;
	uint8_t fmspc[6];
	enum tdc_pcs_ca ca;
	char url[TDC_PCS_URL_MAX];
	/* The current copy (fetch_lock to change, lock to publish). */
	bool have;                       /* verified against root_sha */
	struct tdc_buf body, chain;      /* as fetched; chain as decoded PEM */
	STACK_OF(X509) *certs;           /* the chain as verified (NULL: none) */
	struct tdc_doc_info info;
	uint8_t root_sha[32];
	enum tdc_coll_from from;
	time_t fetched_at;
	unsigned gen;                    /* bumped with every new copy */
	bool disk_tried;
	/* Refresh state (lock). */
	bool queued;
	time_t next_attempt;             /* wall clock; no fetch before (after a failure) */
	char last_error[400];
};

struct view {
	int refs;                        /* the table's reference + one per lease */
	bool current;                    /* still in the table */
	uint8_t fmspc[6];
	enum tdc_pcs_ca ca;
	bool crls;
	struct slot *slot[TDC_PCS__COUNT];
	unsigned gen[TDC_PCS__COUNT];
	struct tdc_coll_origin origin[TDC_PCS__COUNT]; /* of the copies it holds */
	struct tdc_collateral *c;
	time_t usable_until;             /* earliest nextUpdate: appraisal time */
	time_t refresh_at;               /* appraisal time from which a refresh is due */
	time_t refresh_wall;             /* wall clock from which a refresh is due */
	bool complete;                   /* every document present */
};

struct tdc_coll_source {
	bool url;
	char name[TDC_COLL_PATH_MAX];    /* base URL or directory */
	char host[256];
	struct tdc_coll_source_opts o;
	char ca_file[TDC_COLL_PATH_MAX];
	struct tdc_coll_store store;
	struct tdc_collateral *dir;      /* directory sources */
	pthread_mutex_t lock, fetch_lock;
	pthread_cond_t work, idle;
	struct slot *slots;
	size_t nslots;
	struct view *views[TDC_COLL_SOURCE_MAX_VIEWS];
	size_t nviews;
	X509 *root;                      /* the trust anchor slots were verified with */
	uint8_t root_sha[32];
	pthread_t thread;
	bool thread_started, busy;
	atomic_bool stop;
	struct tdc_coll_source_stats st;
	/* tdc_coll_source_get: holders and the key it is shared under. */
	int shared_refs;
	char shared_key[2 * TDC_COLL_PATH_MAX + 64];
	struct tdc_coll_source *shared_next;
};

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tdc_coll_source *shared_list;

static time_t wall(void)
{
	return time(NULL);
}

static void iso(time_t t, char buf[24])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *tdc_coll_from_name(enum tdc_coll_from f)
{
	static const char *const names[] = { "none", "directory", "cache", "network" };

	return (unsigned)f < 4 ? names[f] : "?";
}

void tdc_coll_source_opts_init(struct tdc_coll_source_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->update = TDC_TCB_UPDATE_STANDARD;
}

const char *tdc_coll_source_name(const struct tdc_coll_source *s)
{
	return s->name;
}

bool tdc_coll_source_is_url(const struct tdc_coll_source *s)
{
	return s->url;
}

const char *tdc_coll_source_cache_dir(const struct tdc_coll_source *s)
{
	return s->url ? s->store.dir : "";
}

static void *worker(void *arg);

int tdc_coll_source_open(const struct tdc_coll_source_opts *o, struct tdc_coll_source **out)
{
	struct tdc_coll_source *s = calloc(1, sizeof(*s));
	char root[TDC_COLL_PATH_MAX];
	const char *spec = o->spec;
	int ret;

	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "collateral source");
	s->o = *o;
	s->o.refresh_before_s = o->refresh_before_s ? o->refresh_before_s : TDC_COLL_REFRESH_BEFORE_S;
	s->o.max_age_s = o->max_age_s ? o->max_age_s : TDC_COLL_MAX_AGE_S;
	s->o.retry_s = o->retry_s ? o->retry_s : TDC_COLL_RETRY_S;
	s->o.spec = s->o.cache_root = NULL;
	if (o->ca_file) {
		snprintf(s->ca_file, sizeof(s->ca_file), "%s", o->ca_file);
		s->o.ca_file = s->ca_file;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->fetch_lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->idle, NULL);
	atomic_init(&s->stop, false);
	if (!strncmp(spec, "file://", 7) || (strncmp(spec, "http://", 7) &&
					     strncmp(spec, "https://", 8))) {
		if (!strncmp(spec, "file://", 7))
			spec += 7;
		snprintf(s->name, sizeof(s->name), "%s", spec);
		if ((ret = tdc_collateral_load_dir(spec, &s->dir)) != 0)
			goto fail;
		*out = s;
		return 0;
	}
	s->url = true;
	if ((ret = tdc_pcs_base_parse(spec, s->name, s->host)) != 0)
		goto fail;
	if (o->cache_root)
		snprintf(root, sizeof(root), "%s", o->cache_root);
	else if ((ret = tdc_coll_default_cache_root(root, sizeof(root))) != 0)
		goto fail;
	if ((ret = tdc_coll_store_open(root, s->name, s->host, true, &s->store)) != 0)
		goto fail;
	if (!(s->slots = calloc(TDC_COLL_SOURCE_MAX_SLOTS, sizeof(*s->slots)))) {
		ret = tdc_err(TDC_ERR_ALLOC, "collateral source");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	tdc_coll_source_free(s);
	return ret;
}

static void shared_key(const struct tdc_coll_source_opts *o, char *key, size_t cap)
{
	snprintf(key, cap, "%s|%s|%d|%s|%u|%u|%u|%u|%u|%d", o->spec, o->cache_root ? o->cache_root : "",
		 (int)o->update, o->ca_file ? o->ca_file : "", o->timeout_ms, o->connect_timeout_ms,
		 o->refresh_before_s, o->max_age_s, o->retry_s, o->background);
}

int tdc_coll_source_get(const struct tdc_coll_source_opts *o, struct tdc_coll_source **out)
{
	char key[sizeof(((struct tdc_coll_source *)0)->shared_key)];
	bool url = !strncmp(o->spec, "http://", 7) || !strncmp(o->spec, "https://", 8);
	struct tdc_coll_source *s;
	int ret;

	shared_key(o, key, sizeof(key));
	pthread_mutex_lock(&shared_lock);
	for (s = shared_list; url && s; s = s->shared_next)
		if (!strcmp(s->shared_key, key)) {
			s->shared_refs++;
			*out = s;
			pthread_mutex_unlock(&shared_lock);
			return 0;
		}
	if ((ret = tdc_coll_source_open(o, &s)) == 0) {
		s->shared_refs = 1;
		if (url) {
			snprintf(s->shared_key, sizeof(s->shared_key), "%s", key);
			s->shared_next = shared_list;
			shared_list = s;
		}
		*out = s;
	}
	pthread_mutex_unlock(&shared_lock);
	return ret;
}

void tdc_coll_source_put(struct tdc_coll_source *s)
{
	bool last;

	if (!s)
		return;
	pthread_mutex_lock(&shared_lock);
	last = --s->shared_refs == 0;
	if (last)
		for (struct tdc_coll_source **p = &shared_list; *p; p = &(*p)->shared_next)
			if (*p == s) {
				*p = s->shared_next;
				break;
			}
	pthread_mutex_unlock(&shared_lock);
	if (last)
		tdc_coll_source_free(s);
}

static void view_put(struct view *v)
{
	if (--v->refs == 0) {
		tdc_collateral_free(v->c);
		free(v);
	}
}

void tdc_coll_source_free(struct tdc_coll_source *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stop, true);
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	for (size_t i = 0; i < s->nviews; i++)
		view_put(s->views[i]);
	for (size_t i = 0; s->slots && i < s->nslots; i++) {
		tdc_buf_free(&s->slots[i].body);
		tdc_buf_free(&s->slots[i].chain);
		sk_X509_pop_free(s->slots[i].certs, X509_free);
	}
	free(s->slots);
	tdc_collateral_free(s->dir);
	X509_free(s->root);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->fetch_lock);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->idle);
	free(s);
}

/* ---- one document ------------------------------------------------------- */

static enum tdc_doc_kind kind_of(enum tdc_pcs_doc d)
{
	return d == TDC_PCS_TCB ? TDC_DOC_TCBINFO : d == TDC_PCS_QEID ? TDC_DOC_QEID : TDC_DOC_CRL;
}

/* Verify @body (+ its PEM @chain) as the document @sl stands for; with
 * @certs, the chain's certificates are handed back (the view shares them
 * rather than decoding the chain again). */
static int verify_copy(const struct slot *sl, const struct tdc_buf *body,
		       const struct tdc_buf *chain, X509 *root, struct tdc_doc_info *info,
		       STACK_OF(X509) **certs_out)
{
	const struct tdc_pcs_doc_desc *d = tdc_pcs_doc_desc(sl->doc);
	STACK_OF(X509) *certs = NULL;
	int ret;

	if (d->chain_header) {
		if (!chain->len)
			return tdc_err(TDC_ERR_CHAIN, "%s without its issuer chain", d->what);
		if ((ret = tdc_pcs_chain_parse(chain->data, chain->len, &certs)) != 0)
			return ret;
	}
	ret = tdc_collateral_verify_doc(body->data, body->len, certs, root, info);
	if (ret)
		ret = tdc_err_wrap(ret, "%s does not verify: ", d->what);
	else if (info->kind != kind_of(sl->doc))
		ret = tdc_err(TDC_ERR_COLLATERAL, "the response is not a %s", d->what);
	else if (sl->doc == TDC_PCS_TCB && memcmp(info->fmspc, sl->fmspc, 6) != 0)
		ret = tdc_err(TDC_ERR_COLLATERAL, "the response is the TCB info of FMSPC "
			      "%02x%02x%02x%02x%02x%02x, not of the FMSPC asked for",
			      info->fmspc[0], info->fmspc[1], info->fmspc[2], info->fmspc[3],
			      info->fmspc[4], info->fmspc[5]);
	if (ret == 0 && certs_out) {
		*certs_out = certs;
		certs = NULL;
	}
	sk_X509_pop_free(certs, X509_free);
	return ret;
}

struct fetched {
	struct tdc_buf body, chain;
	STACK_OF(X509) *certs;
	struct tdc_doc_info info;
	char request_id[64];
};

static int hdr_cb(void *ctx, const uint8_t *line, size_t len)
{
	return tdc_pcs_header_line(ctx, line, len);
}

/* GET one document and verify it; nothing is kept unless it verified. */
static int fetch_copy(struct tdc_coll_source *s, const struct slot *sl, X509 *root,
		      struct fetched *f)
{
	const struct tdc_pcs_doc_desc *d = tdc_pcs_doc_desc(sl->doc);
	struct tdc_pcs_headers h;
	struct tdc_http_resp r;
	struct tdc_http_opts ho = {
		.connect_timeout_ms = s->o.connect_timeout_ms, .timeout_ms = s->o.timeout_ms,
		.max_body = TDC_COLL_FILE_MAX, .ca_file = s->o.ca_file,
		.on_header = hdr_cb, .cancel = &s->stop,
	};
	int ret;

	tdc_pcs_headers_init(&h, d);
	tdc_http_resp_init(&r);
	ho.header_ctx = &h;
	if ((ret = tdc_http_get(sl->url, &ho, &r)) != 0)
		goto out;
	if (r.status != 200) {
		ret = tdc_err(TDC_ERR_COLLATERAL, "GET %s: HTTP status %ld%s%s%s%s", sl->url,
			      r.status, h.error_code[0] ? ", Error-Code " : "", h.error_code,
			      h.error_message[0] ? ": " : "", h.error_message);
		goto out;
	}
	if (!r.body.len) {
		ret = tdc_err(TDC_ERR_COLLATERAL, "GET %s: empty response body", sl->url);
		goto out;
	}
	if (d->chain_header && !h.has_chain) {
		ret = tdc_err(TDC_ERR_COLLATERAL, "GET %s: the response has no %s header",
			      sl->url, d->chain_header);
		goto out;
	}
	sk_X509_pop_free(f->certs, X509_free);
	f->certs = NULL;
	if ((ret = verify_copy(sl, &r.body, &h.chain, root, &f->info, &f->certs)) != 0) {
		ret = tdc_err_wrap(ret, "GET %s: ", sl->url);
		goto out;
	}
	tdc_buf_reset(&f->body);
	tdc_buf_reset(&f->chain);
	if ((ret = tdc_buf_put(&f->body, r.body.data, r.body.len)) != 0 ||
	    (ret = tdc_buf_put(&f->chain, h.chain.data, h.chain.len)) != 0)
		goto out;
	snprintf(f->request_id, sizeof(f->request_id), "%s", h.request_id);
out:
	tdc_pcs_headers_free(&h);
	tdc_http_resp_free(&r);
	return ret;
}

static void swap_buf(struct tdc_buf *a, struct tdc_buf *b)
{
	struct tdc_buf t = *a;

	*a = *b;
	*b = t;
}

/* Publish a verified copy (caller holds fetch_lock, not lock). */
static void publish(struct tdc_coll_source *s, struct slot *sl, struct fetched *f,
		    enum tdc_coll_from from, time_t fetched_at)
{
	STACK_OF(X509) *certs;

	pthread_mutex_lock(&s->lock);
	swap_buf(&sl->body, &f->body);
	swap_buf(&sl->chain, &f->chain);
	certs = sl->certs;
	sl->certs = f->certs;
	f->certs = certs;
	sl->info = f->info;
	memcpy(sl->root_sha, s->root_sha, 32);
	sl->from = from;
	sl->fetched_at = fetched_at;
	sl->have = true;
	sl->gen++;
	sl->last_error[0] = '\0';
	sl->next_attempt = 0;
	pthread_mutex_unlock(&s->lock);
}

static void fetched_init(struct fetched *f)
{
	memset(f, 0, sizeof(*f));
	tdc_buf_init(&f->body);
	tdc_buf_init(&f->chain);
}

static void fetched_free(struct fetched *f)
{
	tdc_buf_free(&f->body);
	tdc_buf_free(&f->chain);
	sk_X509_pop_free(f->certs, X509_free);
}

/* The cached copy of @sl, verified as if it had just been fetched. */
static void load_disk(struct tdc_coll_source *s, struct slot *sl, X509 *root)
{
	struct tdc_coll_meta m;
	struct fetched f;
	uint8_t sha[32];

	fetched_init(&f);
	sl->disk_tried = true;
	if (tdc_coll_store_get(&s->store, sl->name, &f.body, &f.chain, &m) != 0)
		goto out;
	if (m.has_sha) {
		tdc_sha256(f.body.data, f.body.len, sha);
		if (memcmp(sha, m.sha256, 32) != 0)
			goto out; /* changed after it was written: refetch */
	}
	if (verify_copy(sl, &f.body, &f.chain, root, &f.info, &f.certs) != 0)
		goto out;
	publish(s, sl, &f, TDC_COLL_FROM_CACHE, m.fetched_at);
out:
	fetched_free(&f);
}

/* Fetch @sl now; on success publish and store it.  Caller holds fetch_lock. */
static int refresh(struct tdc_coll_source *s, struct slot *sl, X509 *root)
{
	struct tdc_coll_meta m = { 0 };
	struct fetched f;
	time_t now = wall();
	int ret;

	fetched_init(&f);
	pthread_mutex_lock(&s->lock);
	s->st.fetches++;
	pthread_mutex_unlock(&s->lock);
	if ((ret = fetch_copy(s, sl, root, &f)) != 0) {
		pthread_mutex_lock(&s->lock);
		s->st.fetch_failures++;
		snprintf(sl->last_error, sizeof(sl->last_error), "%s", tdc_errdetail());
		sl->next_attempt = now + (time_t)s->o.retry_s;
		pthread_mutex_unlock(&s->lock);
		fetched_free(&f);
		return ret;
	}
	snprintf(m.url, sizeof(m.url), "%s", sl->url);
	snprintf(m.request_id, sizeof(m.request_id), "%s", f.request_id);
	m.fetched_at = now;
	/* Stored before it is published, so the swap below hands the old copy
	 * to @f; a cache write failure only costs a refetch after a restart. */
	if (tdc_coll_store_put(&s->store, sl->name, f.body.data, f.body.len, f.chain.data,
			       f.chain.len, &m) != 0)
		fprintf(stderr, "tdcpuid: collateral cache: %s\n", tdc_errdetail());
	publish(s, sl, &f, TDC_COLL_FROM_NETWORK, now);
	fetched_free(&f);
	return 0;
}

int tdc_coll_cached_verify(const struct tdc_coll_store *st, const char *slot, X509 *root,
			   struct tdc_doc_info *info, struct tdc_coll_meta *meta)
{
	struct slot sl = { 0 };
	struct fetched f;
	enum tdc_tcb_update u;
	uint8_t sha[32];
	int ret;

	memset(info, 0, sizeof(*info));
	fetched_init(&f);
	if ((ret = tdc_coll_slot_parse(slot, &sl.doc, sl.fmspc, &sl.ca, &u)) != 0 ||
	    (ret = tdc_coll_store_get(st, slot, &f.body, &f.chain, meta)) != 0)
		goto out;
	tdc_collateral_doc_info(f.body.data, f.body.len, info);
	if (meta->has_sha) {
		tdc_sha256(f.body.data, f.body.len, sha);
		if (memcmp(sha, meta->sha256, 32) != 0) {
			ret = tdc_err(TDC_ERR_COLLATERAL, "the file changed after it was stored "
				      "(SHA-256 differs from its metadata)");
			goto out;
		}
	}
	ret = verify_copy(&sl, &f.body, &f.chain, root, info, NULL);
out:
	fetched_free(&f);
	return ret;
}

/* ---- slots and views ------------------------------------------------------ */

static bool slot_is(const struct slot *sl, enum tdc_pcs_doc d, const uint8_t *fmspc,
		    enum tdc_pcs_ca ca)
{
	if (sl->doc != d)
		return false;
	if (d == TDC_PCS_TCB)
		return memcmp(sl->fmspc, fmspc, 6) == 0;
	if (d == TDC_PCS_PCKCRL)
		return sl->ca == ca;
	return true;
}

/* Find or add (lock held). */
static int slot_get(struct tdc_coll_source *s, enum tdc_pcs_doc d, const uint8_t *fmspc,
		    enum tdc_pcs_ca ca, struct slot **out)
{
	struct slot *sl;
	int ret;

	for (size_t i = 0; i < s->nslots; i++)
		if (slot_is(&s->slots[i], d, fmspc, ca)) {
			*out = &s->slots[i];
			return 0;
		}
	if (s->nslots == TDC_COLL_SOURCE_MAX_SLOTS)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral source %s: more than %d documents",
			       s->name, TDC_COLL_SOURCE_MAX_SLOTS);
	sl = &s->slots[s->nslots];
	memset(sl, 0, sizeof(*sl));
	sl->doc = d;
	if (d == TDC_PCS_TCB)
		memcpy(sl->fmspc, fmspc, 6);
	sl->ca = ca;
	tdc_buf_init(&sl->body);
	tdc_buf_init(&sl->chain);
	if ((ret = tdc_coll_slot_name(d, sl->fmspc, ca, s->o.update, sl->name)) != 0 ||
	    (ret = tdc_pcs_url(s->name, d, sl->fmspc, ca, s->o.update, sl->url)) != 0)
		return ret;
	s->nslots++;
	*out = sl;
	return 0;
}

static int ndocs(bool crls)
{
	return crls ? TDC_PCS__COUNT : 2;
}

static bool view_is(const struct view *v, const struct tdc_coll_request *rq)
{
	return v->crls == rq->crls && memcmp(v->fmspc, rq->fmspc, 6) == 0 &&
	       (!rq->crls || v->ca == rq->ca);
}

static struct view *view_find(struct tdc_coll_source *s, const struct tdc_coll_request *rq)
{
	for (size_t i = 0; i < s->nviews; i++)
		if (view_is(s->views[i], rq))
			return s->views[i];
	return NULL;
}

/* Due for a refresh: nextUpdate near at the appraisal time, or old. */
static bool slot_due(const struct tdc_coll_source *s, const struct slot *sl, time_t at,
		     time_t now)
{
	return sl->have && (at >= sl->info.next - (time_t)s->o.refresh_before_s ||
			    now >= sl->fetched_at + (time_t)s->o.max_age_s);
}

static bool slot_usable(const struct slot *sl, time_t at)
{
	return sl->have && at <= sl->info.next;
}

static bool same_root(struct tdc_coll_source *s, X509 *root)
{
	return s->root && (s->root == root || X509_cmp(s->root, root) == 0);
}

/* The view holds the slots' current copies, verified with the current root
 * (lock held). */
static bool view_same(struct tdc_coll_source *s, const struct view *v, X509 *root)
{
	if (!same_root(s, root))
		return false;
	for (int d = 0; d < ndocs(v->crls); d++)
		if (v->slot[d]->gen != v->gen[d] || memcmp(v->slot[d]->root_sha, s->root_sha, 32))
			return false;
	return true;
}

/* ... and can serve @rq as it is. */
static bool view_ok(struct tdc_coll_source *s, const struct view *v,
		    const struct tdc_coll_request *rq)
{
	return v->complete && rq->at <= v->usable_until && view_same(s, v, rq->root);
}

static void start_worker(struct tdc_coll_source *s)
{
	if (s->thread_started || atomic_load(&s->stop))
		return;
	if (pthread_create(&s->thread, NULL, worker, s) == 0)
		s->thread_started = true;
}

/* Queue the due documents of @v for the background thread (lock held). */
static void queue_due(struct tdc_coll_source *s, struct view *v, time_t at, time_t now)
{
	bool any = false;

	for (int d = 0; d < ndocs(v->crls); d++) {
		struct slot *sl = v->slot[d];

		if (!sl->queued && now >= sl->next_attempt && slot_due(s, sl, at, now)) {
			sl->queued = true;
			any = true;
		}
	}
	if (any) {
		start_worker(s);
		pthread_cond_signal(&s->work);
	}
}

static void lease_fill(struct tdc_coll_lease *l, struct view *v)
{
	l->c = v->c;
	l->view = v;
	memcpy(l->doc, v->origin, sizeof(l->doc));
}

/*
 * One slot's copy into a view: it verified as its kind with its chain, so it
 * is not classified again, and the chain's certificates are the ones it
 * verified with, not decoded again.  The appraisal parses and verifies
 * every document it uses all the same.
 */
static int view_add(struct view *v, const struct slot *sl)
{
	char chain_name[TDC_COLL_SLOT_MAX + 16];
	int ret;

	if ((ret = tdc_collateral_add_verified(v->c, sl->name, &sl->info, sl->body.data,
					       sl->body.len)) != 0)
		return ret;
	if (sl->certs)
		return tdc_collateral_add_certs(v->c, sl->certs);
	snprintf(chain_name, sizeof(chain_name), "%s.chain.pem", sl->name);
	return sl->chain.len ? tdc_collateral_add(v->c, chain_name, sl->chain.data,
						  sl->chain.len) : 0;
}

/* A snapshot of the slots' current copies (lock held). */
static int view_build(struct tdc_coll_source *s, const struct tdc_coll_request *rq,
		      struct slot *const slots[TDC_PCS__COUNT], struct view **out)
{
	struct view *v = calloc(1, sizeof(*v)), *old;
	int ret;

	if (!v)
		return tdc_err(TDC_ERR_ALLOC, "collateral snapshot");
	if ((ret = tdc_collateral_new(&v->c)) != 0) {
		free(v);
		return ret;
	}
	v->refs = 1;
	v->current = true;
	memcpy(v->fmspc, rq->fmspc, 6);
	v->ca = rq->ca;
	v->crls = rq->crls;
	v->complete = true;
	v->usable_until = v->refresh_at = v->refresh_wall = (time_t)INT64_MAX;
	for (int d = 0; d < ndocs(rq->crls); d++) {
		struct slot *sl = slots[d];

		v->slot[d] = sl;
		v->gen[d] = sl->gen;
		v->origin[d].have = sl->have;
		v->origin[d].from = sl->from;
		v->origin[d].fetched_at = sl->fetched_at;
		v->origin[d].next_update = sl->info.next;
		if (!sl->have) {
			v->complete = false;
			continue;
		}
		if ((ret = view_add(v, sl)) != 0) {
			view_put(v);
			return ret;
		}
		if (sl->info.next < v->usable_until)
			v->usable_until = sl->info.next;
		if (sl->info.next - (time_t)s->o.refresh_before_s < v->refresh_at)
			v->refresh_at = sl->info.next - (time_t)s->o.refresh_before_s;
		if (sl->fetched_at + (time_t)s->o.max_age_s < v->refresh_wall)
			v->refresh_wall = sl->fetched_at + (time_t)s->o.max_age_s;
	}
	if ((old = view_find(s, rq))) {
		for (size_t i = 0; i < s->nviews; i++)
			if (s->views[i] == old)
				s->views[i] = v;
		old->current = false;
		view_put(old);
	} else if (s->nviews < TDC_COLL_SOURCE_MAX_VIEWS) {
		s->views[s->nviews++] = v;
	} else {
		v->current = false; /* served once, never cached */
		v->refs = 0;
	}
	v->refs++;
	*out = v;
	return 0;
}

/* ---- acquire ------------------------------------------------------------- */

static void set_root(struct tdc_coll_source *s, X509 *root)
{
	if (same_root(s, root) || !X509_up_ref(root))
		return;
	X509_free(s->root);
	s->root = root;
	tdc_cert_sha256(root, s->root_sha);
}

static void append(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 3 >= cap)
		return;
	if (n)
		n += (size_t)snprintf(buf + n, cap - n, "; ");
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* Bring one document up to what @rq needs (caller holds fetch_lock). */
static void ensure(struct tdc_coll_source *s, struct slot *sl, const struct tdc_coll_request *rq,
		   struct tdc_coll_lease *l)
{
	const struct tdc_pcs_doc_desc *d = tdc_pcs_doc_desc(sl->doc);
	time_t now = wall();
	char when[24];
	bool usable, due;
	int ret;

	if (!sl->have && !sl->disk_tried)
		load_disk(s, sl, s->root);
	if (sl->have && memcmp(sl->root_sha, s->root_sha, 32)) {
		/* Verified against another anchor: verify again or drop it. */
		struct fetched f;

		fetched_init(&f);
		if (tdc_buf_put(&f.body, sl->body.data, sl->body.len) == 0 &&
		    tdc_buf_put(&f.chain, sl->chain.data, sl->chain.len) == 0 &&
		    verify_copy(sl, &f.body, &f.chain, s->root, &f.info, &f.certs) == 0) {
			publish(s, sl, &f, sl->from, sl->fetched_at);
		} else {
			pthread_mutex_lock(&s->lock);
			sl->have = false;
			sl->gen++;
			pthread_mutex_unlock(&s->lock);
		}
		fetched_free(&f);
	}
	usable = slot_usable(sl, rq->at);
	due = slot_due(s, sl, rq->at, now);
	if (!rq->force && usable && (!due || s->o.background)) {
		if (due) {
			pthread_mutex_lock(&s->lock);
			if (!sl->queued && now >= sl->next_attempt) {
				sl->queued = true;
				start_worker(s);
				pthread_cond_signal(&s->work);
			}
			pthread_mutex_unlock(&s->lock);
		}
		return;
	}
	if (!rq->force && now < sl->next_attempt) {
		/* Failed a moment ago: do not hammer the service. */
		ret = TDC_ERR_COLLATERAL;
		tdc_err(ret, "%s (last attempt failed; next one after %lds)", sl->last_error,
			(long)(sl->next_attempt - now));
	} else {
		ret = refresh(s, sl, s->root);
		if (!ret)
			l->fetched++;
		else
			l->failed++;
	}
	if (ret == 0) {
		if (!slot_usable(sl, rq->at)) {
			iso(sl->info.next, when);
			l->err = l->err ? l->err : TDC_ERR_COLLATERAL;
			append(l->error, sizeof(l->error), "%s from %s has expired at the appraisal "
			       "time (nextUpdate %s)", d->what, sl->url, when);
		}
		return;
	}
	if (usable) {
		iso(sl->info.next, when);
		append(l->note, sizeof(l->note), "refresh failed: %s; using the %s copy, valid "
		       "until %s", tdc_errdetail(), tdc_coll_from_name(sl->from), when);
		return;
	}
	l->err = l->err ? l->err : ret;
	if (sl->have) {
		iso(sl->info.next, when);
		append(l->error, sizeof(l->error), "%s; the cached %s expired at its nextUpdate "
		       "%s", tdc_errdetail(), d->what, when);
	} else {
		append(l->error, sizeof(l->error), "%s; no cached copy", tdc_errdetail());
	}
}

static int acquire_slow(struct tdc_coll_source *s, const struct tdc_coll_request *rq,
			struct tdc_coll_lease *l)
{
	struct slot *slots[TDC_PCS__COUNT] = { NULL };
	struct view *v = NULL;
	int ret = 0;

	pthread_mutex_lock(&s->fetch_lock);
	pthread_mutex_lock(&s->lock);
	set_root(s, rq->root);
	for (int d = 0; d < ndocs(rq->crls) && !ret; d++)
		ret = slot_get(s, (enum tdc_pcs_doc)d, rq->fmspc, rq->ca, &slots[d]);
	pthread_mutex_unlock(&s->lock);
	if (ret)
		goto out;
	for (int d = 0; d < ndocs(rq->crls); d++)
		ensure(s, slots[d], rq, l);
	pthread_mutex_lock(&s->lock);
	if ((v = view_find(s, rq)) && view_same(s, v, rq->root))
		v->refs++;
	else
		ret = view_build(s, rq, slots, &v);
	if (!ret)
		lease_fill(l, v);
	pthread_mutex_unlock(&s->lock);
out:
	pthread_mutex_unlock(&s->fetch_lock);
	return ret;
}

int tdc_coll_source_acquire(struct tdc_coll_source *s, const struct tdc_coll_request *rq,
			    struct tdc_coll_lease *l)
{
	struct view *v;
	time_t now;

	l->c = NULL;
	l->view = NULL;
	l->src = s;
	l->err = 0;
	l->error[0] = l->note[0] = '\0';
	l->fetched = l->failed = 0;
	memset(l->doc, 0, sizeof(l->doc));
	if (!s->url) {
		l->c = s->dir;
		for (int d = 0; d < TDC_PCS__COUNT; d++)
			l->doc[d].from = TDC_COLL_FROM_DIR;
		return 0;
	}
	if (!rq->force) {
		now = wall();
		pthread_mutex_lock(&s->lock);
		if ((v = view_find(s, rq)) && view_ok(s, v, rq)) {
			bool due = rq->at >= v->refresh_at || now >= v->refresh_wall;

			if (!due || s->o.background) {
				if (due)
					queue_due(s, v, rq->at, now);
				v->refs++;
				s->st.warm_leases++;
				lease_fill(l, v);
				pthread_mutex_unlock(&s->lock);
				return 0;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return acquire_slow(s, rq, l);
}

void tdc_coll_source_release(struct tdc_coll_lease *l)
{
	struct tdc_coll_source *s = l->src;

	if (!s || !l->view)
		return;
	pthread_mutex_lock(&s->lock);
	view_put(l->view);
	pthread_mutex_unlock(&s->lock);
	l->view = NULL;
	l->c = NULL;
}

/* ---- background refresh ---------------------------------------------------- */

static void *worker(void *arg)
{
	struct tdc_coll_source *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!atomic_load(&s->stop)) {
		struct slot *sl = NULL;

		for (size_t i = 0; i < s->nslots && !sl; i++)
			if (s->slots[i].queued)
				sl = &s->slots[i];
		if (!sl) {
			s->busy = false;
			pthread_cond_broadcast(&s->idle);
			pthread_cond_wait(&s->work, &s->lock);
			continue;
		}
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_lock(&s->fetch_lock);
		/* Still wanted?  A foreground fetch may have done it meanwhile. */
		if (slot_due(s, sl, wall(), wall()) || !sl->have) {
			if (refresh(s, sl, s->root) == 0) {
				pthread_mutex_lock(&s->lock);
				s->st.background_refreshes++;
				pthread_mutex_unlock(&s->lock);
			}
		}
		pthread_mutex_unlock(&s->fetch_lock);
		pthread_mutex_lock(&s->lock);
		sl->queued = false;
	}
	s->busy = false;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void tdc_coll_source_stats(struct tdc_coll_source *s, struct tdc_coll_source_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

int tdc_coll_source_wait_idle(struct tdc_coll_source *s, unsigned timeout_ms)
{
	struct timespec dl;
	bool pending;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		pending = s->busy;
		for (size_t i = 0; i < s->nslots && !pending; i++)
			pending = s->slots[i].queued;
		if (!pending)
			break;
		if (pthread_cond_timedwait(&s->idle, &s->lock, &dl) == ETIMEDOUT) {
			ret = tdc_err(TDC_ERR_TIMEOUT, "collateral refresh still running");
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}
