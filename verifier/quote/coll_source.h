/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where an appraisal's Intel collateral comes from: a directory
 * (`file://DIR`, today's hand-filled form) or a service URL (Intel PCS v4
 * or a PCCS), with the verified on-disk cache of coll_store.h.
 *
 * A URL source keeps, per document, the newest copy that verified (its
 * signature and issuer chain to the trusted root, and for a TCB info its
 * FMSPC): loaded from the cache directory, or fetched when there is none.
 * A copy is used until its nextUpdate (at the appraisal time).  It is
 * refreshed when nextUpdate comes within refresh_before_s of the appraisal
 * time or the copy is older than max_age_s: in a background thread for
 * the service, in line for one-shot CLI runs.  A failed refresh with a
 * usable copy keeps that copy and says so (lease note); with no usable
 * copy the lease fails closed with the URL and the error.  Nothing that
 * failed to verify is ever cached, on disk or in memory; after a failure a
 * document is not fetched again for retry_s (no storm against the service).
 *
 * An appraisal holds a lease on one immutable snapshot (a tdc_collateral
 * with the documents of its FMSPC and PCK CA); refreshes build new
 * snapshots, old ones are freed when their last lease is released.  A
 * warm lease costs one mutex round trip.
 */
#ifndef TDC_COLL_SOURCE_H
#define TDC_COLL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "coll_store.h"
#include "collateral.h"
#include "pcs.h"

#define TDC_COLL_REFRESH_BEFORE_S (3 * 86400)  /* Intel's documents live 30 days */
#define TDC_COLL_MAX_AGE_S 86400                /* pick up new TCB info daily */
#define TDC_COLL_RETRY_S 300
#define TDC_COLL_SOURCE_MAX_SLOTS 256          /* documents per source */
#define TDC_COLL_SOURCE_MAX_VIEWS 256          /* (FMSPC, PCK CA) snapshots */

struct tdc_coll_source;

enum tdc_coll_from { TDC_COLL_FROM_NONE, TDC_COLL_FROM_DIR, TDC_COLL_FROM_CACHE,
		     TDC_COLL_FROM_NETWORK };
const char *tdc_coll_from_name(enum tdc_coll_from f);

struct tdc_coll_source_opts {
	const char *spec;            /* https://…, http://…, file://DIR or a directory */
	const char *cache_root;      /* URL sources; NULL: tdc_coll_default_cache_root() */
	enum tdc_tcb_update update;
	const char *ca_file;         /* PEM CA for https to a private PCCS (tests) */
	unsigned timeout_ms, connect_timeout_ms;      /* 0: http.h defaults */
	unsigned refresh_before_s, max_age_s, retry_s; /* 0: the defaults above */
	bool background;             /* refresh in a thread (service) */
};

void tdc_coll_source_opts_init(struct tdc_coll_source_opts *o);
int tdc_coll_source_open(const struct tdc_coll_source_opts *o, struct tdc_coll_source **out);
/* Every lease must have been released; a background refresh in flight is
 * cancelled. */
void tdc_coll_source_free(struct tdc_coll_source *s);
/*
 * The same, shared: URL sources opened with the same options are one object
 * (one memory snapshot, one refresh thread, however many VM entries name
 * the service), kept while any holder remains, so a registry reload does
 * not start over.  Directory sources are never shared (a reload rereads
 * them).  Release with tdc_coll_source_put.
 */
int tdc_coll_source_get(const struct tdc_coll_source_opts *o, struct tdc_coll_source **out);
void tdc_coll_source_put(struct tdc_coll_source *s);
/* The base URL, or the directory. */
const char *tdc_coll_source_name(const struct tdc_coll_source *s);
bool tdc_coll_source_is_url(const struct tdc_coll_source *s);
/* The cache directory of a URL source ("" for a directory source). */
const char *tdc_coll_source_cache_dir(const struct tdc_coll_source *s);

struct tdc_coll_request {
	const uint8_t *fmspc;        /* from the PCK certificate */
	enum tdc_pcs_ca ca;          /* the PCK chain's intermediate */
	X509 *root;                  /* trusted root: what every document must chain to */
	time_t at;                   /* appraisal time */
	bool crls;                   /* PCK CRL and root CA CRL too */
	bool force;                  /* fetch every document now (`collateral fetch`) */
};

/* One document of a lease. */
struct tdc_coll_origin {
	bool have;                   /* a verified copy is in the snapshot */
	enum tdc_coll_from from;
	time_t fetched_at;           /* 0: directory */
	time_t next_update;
};

struct tdc_coll_lease {
	struct tdc_collateral *c;    /* the snapshot (NULL: nothing usable) */
	struct tdc_coll_origin doc[TDC_PCS__COUNT];
	int err;                     /* 0, or why a document is missing or expired */
	char error[512];             /* with err: the URL and the error */
	char note[512];              /* "" or e.g. a failed refresh over a usable copy */
	unsigned fetched;            /* documents this acquire fetched */
	unsigned failed;             /* fetches of this acquire that failed */
	void *view;                  /* private */
	struct tdc_coll_source *src; /* private */
};

/*
 * Collateral for one appraisal.  Returns 0 with a lease (release it when
 * the appraisal is done) even when some document is unusable: then
 * lease->err and lease->error say which and why, and the appraisal's
 * collateral checks fail.  Negative only on internal errors (no lease).
 */
int tdc_coll_source_acquire(struct tdc_coll_source *s, const struct tdc_coll_request *rq,
			    struct tdc_coll_lease *l);
void tdc_coll_source_release(struct tdc_coll_lease *l);

/*
 * A document of the on-disk cache verified the way a source verifies it
 * when it loads it (signature and issuer chain to @root, FMSPC): 0, or why
 * not.  @info is filled as far as the document parses (`collateral show`).
 */
int tdc_coll_cached_verify(const struct tdc_coll_store *st, const char *slot, X509 *root,
			   struct tdc_doc_info *info, struct tdc_coll_meta *meta);

struct tdc_coll_source_stats {
	unsigned long fetches, fetch_failures, background_refreshes, warm_leases;
};
void tdc_coll_source_stats(struct tdc_coll_source *s, struct tdc_coll_source_stats *st);
/* Wait until no background refresh is queued or running (tests). */
int tdc_coll_source_wait_idle(struct tdc_coll_source *s, unsigned timeout_ms);

#endif
