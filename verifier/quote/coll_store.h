/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-disk collateral cache: every document stored as it was fetched,
 * with its issuer chain and a little metadata, one directory per service.
 *
 *   <root>/<host>-<8 hex of SHA-256(base URL)>/
 *       .source                        the base URL (one line)
 *       tcb-<fmspc>-<update>.json      TCB info response body
 *       tcb-<fmspc>-<update>.json.chain.pem   its TCB-Info-Issuer-Chain
 *       qe-identity-<update>.json (+ .chain.pem)
 *       pckcrl-<ca>.crl (+ .chain.pem) rootcrl.crl
 *       .<document>.meta               JSON: url, fetched_at, request_id, sha256
 *
 * Metadata and temporary files are dotfiles, so a source directory is also
 * a valid `--collateral file://DIR`.  Files are replaced atomically (temp
 * file, fsync, rename); the body is written after its chain and before its
 * metadata, and nothing read back is trusted: every document is verified
 * again when it is loaded (coll_source.c).
 */
#ifndef TDC_COLL_STORE_H
#define TDC_COLL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pcs.h"
#include "tdcpuid/buf.h"

#define TDC_COLL_PATH_MAX 1024
#define TDC_COLL_SLOT_MAX 64
#define TDC_COLL_META_MAX (16u * 1024)
#define TDC_COLL_STORE_MAX_FILES 1024   /* listing cap per source directory */

struct tdc_coll_store {
	char dir[TDC_COLL_PATH_MAX];
	char base[TDC_PCS_URL_MAX];         /* "" when opened by directory only */
};

struct tdc_coll_meta {
	char url[TDC_PCS_URL_MAX];
	time_t fetched_at;
	char request_id[64];
	bool has_sha;
	uint8_t sha256[32];                 /* of the body as stored */
};

/* $XDG_CACHE_HOME/tdcpuid/collateral, else $HOME/.cache/tdcpuid/collateral. */
int tdc_coll_default_cache_root(char *out, size_t cap);
/* The directory of the service at @base under @root (created with @create). */
int tdc_coll_store_open(const char *root, const char *base, const char *host, bool create,
			struct tdc_coll_store *s);
/* An existing source directory (for `collateral show|prune`). */
int tdc_coll_store_open_dir(const char *dir, struct tdc_coll_store *s);

/* The file name of one document (the slot). */
int tdc_coll_slot_name(enum tdc_pcs_doc d, const uint8_t fmspc[6], enum tdc_pcs_ca ca,
		       enum tdc_tcb_update u, char out[TDC_COLL_SLOT_MAX]);

/* The other way: what a slot name stands for (TDC_ERR_FORMAT if none). */
int tdc_coll_slot_parse(const char *name, enum tdc_pcs_doc *d, uint8_t fmspc[6],
			enum tdc_pcs_ca *ca, enum tdc_tcb_update *u);

int tdc_coll_store_put(const struct tdc_coll_store *s, const char *slot,
		       const uint8_t *body, size_t body_len, const uint8_t *chain,
		       size_t chain_len, const struct tdc_coll_meta *m);
/* TDC_ERR_NOT_FOUND when the slot is not stored; @chain empty if none. */
int tdc_coll_store_get(const struct tdc_coll_store *s, const char *slot, struct tdc_buf *body,
		       struct tdc_buf *chain, struct tdc_coll_meta *m);
int tdc_coll_store_remove(const struct tdc_coll_store *s, const char *slot);
/* Stored slots, sorted by name; free with free(). */
int tdc_coll_store_list(const struct tdc_coll_store *s, char (**names)[TDC_COLL_SLOT_MAX],
			size_t *n);
/* Temporary files left by an interrupted write, removed; returns how many. */
int tdc_coll_store_clean_temp(const struct tdc_coll_store *s, size_t *removed);

#endif
