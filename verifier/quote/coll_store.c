// SPDX-License-Identifier: Apache-2.0
/* The on-disk collateral cache (layout in coll_store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "coll_store.h"
#include "collateral.h"
#include "crypto.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"

#define CHAIN_SUFFIX ".chain.pem"
#define SOURCE_FILE ".source"

int tdc_coll_default_cache_root(char *out, size_t cap)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (x && x[0] == '/')
		n = snprintf(out, cap, "%s/tdcpuid/collateral", x);
	else if (home && home[0] == '/')
		n = snprintf(out, cap, "%s/.cache/tdcpuid/collateral", home);
	else
		return tdc_err(TDC_ERR_NOT_FOUND, "no collateral cache directory: set "
			       "--collateral-cache, XDG_CACHE_HOME or HOME");
	if (n < 0 || (size_t)n >= cap)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral cache path too long");
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[TDC_COLL_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return tdc_err(TDC_ERR_TOO_LARGE, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return tdc_err(errno == EACCES ? TDC_ERR_PERM : TDC_ERR_IO,
				       "collateral cache: mkdir %s: %m", tmp);
		tmp[i] = i == n ? '\0' : '/';
	}
	return 0;
}

/* 12 hex digits (an FMSPC) at the start of @p. */
static int hex_prefix(const char *p, uint8_t fmspc[6])
{
	char hex[13];
	size_t n = 0;

	memcpy(hex, p, 12);
	hex[12] = '\0';
	return tdc_hex_decode(hex, fmspc, 6, &n) == 0 && n == 6 ? 0 : TDC_ERR_FORMAT;
}

static int path_of(const struct tdc_coll_store *s, const char *name, const char *suffix,
		   char out[TDC_COLL_PATH_MAX])
{
	int n = snprintf(out, TDC_COLL_PATH_MAX, "%s/%s%s", s->dir, name, suffix);

	if (n < 0 || n >= TDC_COLL_PATH_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral cache path too long");
	return 0;
}

/* Atomic replace with a dotfile temporary (never a document to a directory
 * reader): temp in the same directory, fsync, rename. */
static int write_atomic(const struct tdc_coll_store *s, const char *name, const void *data,
			size_t len)
{
	char tmp[TDC_COLL_PATH_MAX], dst[TDC_COLL_PATH_MAX];
	const uint8_t *p = data;
	int fd, ret;

	if ((ret = path_of(s, name, "", dst)) != 0)
		return ret;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", s->dir, name) >= (int)sizeof(tmp))
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral cache path too long");
	if ((fd = mkstemp(tmp)) < 0)
		return tdc_err(TDC_ERR_IO, "collateral cache: create %s: %m", tmp);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = tdc_err(TDC_ERR_IO, "collateral cache: write %s: %m", tmp);
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		ret = tdc_err(TDC_ERR_IO, "collateral cache: fsync %s: %m", tmp);
		goto fail;
	}
	fchmod(fd, 0644);
	close(fd);
	if (rename(tmp, dst) != 0) {
		ret = tdc_err(TDC_ERR_IO, "collateral cache: rename to %s: %m", dst);
		unlink(tmp);
		return ret;
	}
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return ret;
}

static bool safe_name(const char *s)
{
	if (!s[0] || s[0] == '.' || strlen(s) >= TDC_COLL_SLOT_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			return false;
	return true;
}

int tdc_coll_store_open(const char *root, const char *base, const char *host, bool create,
			struct tdc_coll_store *s)
{
	char id[300], line[TDC_PCS_URL_MAX + 2], hex[17], path[TDC_COLL_PATH_MAX];
	uint8_t sha[32];
	struct tdc_buf b;
	size_t j = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	/* A readable name plus a hash: two services on one host never share. */
	for (const char *p = host; *p && j + 1 < 200; p++)
		id[j++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ? *p : '_';
	id[j] = '\0';
	tdc_sha256(base, strlen(base), sha);
	tdc_hex_encode(sha, 4, hex);
	if (snprintf(s->dir, sizeof(s->dir), "%s/%s-%s", root, id, hex) >= (int)sizeof(s->dir))
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral cache path too long");
	snprintf(s->base, sizeof(s->base), "%s", base);
	if (!create)
		return 0;
	if ((ret = mkdir_p(s->dir)) != 0)
		return ret;
	/* .source names the URL for `collateral show`; rewrite only if it differs. */
	snprintf(line, sizeof(line), "%s\n", base);
	tdc_buf_init(&b);
	if (path_of(s, SOURCE_FILE, "", path) == 0 && tdc_read_file(path, sizeof(line), &b) == 0 &&
	    b.len == strlen(line) && !memcmp(b.data, line, b.len)) {
		tdc_buf_free(&b);
		return 0;
	}
	tdc_buf_free(&b);
	return write_atomic(s, SOURCE_FILE, line, strlen(line));
}

int tdc_coll_store_open_dir(const char *dir, struct tdc_coll_store *s)
{
	char path[TDC_COLL_PATH_MAX];
	struct tdc_buf b;
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir))
		return tdc_err(TDC_ERR_TOO_LARGE, "collateral cache path too long");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return tdc_err(TDC_ERR_NOT_FOUND, "collateral cache directory %s: %m", dir);
	tdc_buf_init(&b);
	if (path_of(s, SOURCE_FILE, "", path) == 0 &&
	    tdc_read_file(path, TDC_PCS_URL_MAX, &b) == 0) {
		size_t n = b.len;

		while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r'))
			n--;
		if (n < sizeof(s->base)) {
			memcpy(s->base, b.data, n);
			s->base[n] = '\0';
		}
	}
	tdc_buf_free(&b);
	return 0;
}

int tdc_coll_slot_name(enum tdc_pcs_doc d, const uint8_t fmspc[6], enum tdc_pcs_ca ca,
		       enum tdc_tcb_update u, char out[TDC_COLL_SLOT_MAX])
{
	const char *stem = tdc_pcs_doc_desc(d)->name;

	switch (d) {
	case TDC_PCS_TCB:
		snprintf(out, TDC_COLL_SLOT_MAX, "%s-%02x%02x%02x%02x%02x%02x-%s.json", stem,
			 fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4], fmspc[5],
			 tdc_tcb_update_name(u));
		break;
	case TDC_PCS_QEID:
		snprintf(out, TDC_COLL_SLOT_MAX, "%s-%s.json", stem, tdc_tcb_update_name(u));
		break;
	case TDC_PCS_PCKCRL:
		snprintf(out, TDC_COLL_SLOT_MAX, "%s-%s.crl", stem, tdc_pcs_ca_name(ca));
		break;
	default:
		snprintf(out, TDC_COLL_SLOT_MAX, "%s.crl", stem);
		break;
	}
	return 0;
}

int tdc_coll_slot_parse(const char *name, enum tdc_pcs_doc *d, uint8_t fmspc[6],
			enum tdc_pcs_ca *ca, enum tdc_tcb_update *u)
{
	char want[TDC_COLL_SLOT_MAX];

	memset(fmspc, 0, 6);
	*ca = TDC_PCS_CA_PROCESSOR;
	*u = TDC_TCB_UPDATE_STANDARD;
	/* Every name this store writes, rebuilt and compared: nothing else counts. */
	for (int doc = 0; doc < TDC_PCS__COUNT; doc++)
		for (int upd = 0; upd < 2; upd++)
			for (int c = 0; c < TDC_PCS_CA__COUNT; c++) {
				size_t n = 0;

				if (doc == TDC_PCS_TCB) {
					const char *p = name + strlen("tcb-");

					if (strncmp(name, "tcb-", 4) || strlen(p) < 13 ||
					    hex_prefix(p, fmspc) != 0)
						continue;
				}
				tdc_coll_slot_name((enum tdc_pcs_doc)doc, fmspc, (enum tdc_pcs_ca)c,
						   (enum tdc_tcb_update)upd, want);
				n = strlen(want);
				if (strlen(name) == n && !strcmp(name, want)) {
					*d = (enum tdc_pcs_doc)doc;
					*ca = (enum tdc_pcs_ca)c;
					*u = (enum tdc_tcb_update)upd;
					return 0;
				}
			}
	return tdc_err(TDC_ERR_FORMAT, "collateral cache: '%s' is not a document name", name);
}

static int meta_json(const struct tdc_coll_meta *m, const uint8_t *body, size_t len,
		     struct tdc_buf *out)
{
	char when[32], hex[65];
	uint8_t sha[32];
	struct tm tm;
	json_t *o;
	char *s;
	int ret;

	gmtime_r(&m->fetched_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	tdc_sha256(body, len, sha);
	tdc_hex_encode(sha, 32, hex);
	o = json_pack("{s:s, s:s, s:s, s:s}", "url", m->url, "fetched_at", when,
		      "request_id", m->request_id, "sha256", hex);
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!s)
		return tdc_err(TDC_ERR_ALLOC, "collateral cache metadata");
	ret = tdc_buf_printf(out, "%s\n", s);
	free(s);
	return ret;
}

int tdc_coll_store_put(const struct tdc_coll_store *s, const char *slot,
		       const uint8_t *body, size_t body_len, const uint8_t *chain,
		       size_t chain_len, const struct tdc_coll_meta *m)
{
	char name[TDC_COLL_SLOT_MAX + 16];
	struct tdc_buf meta;
	int ret;

	if (!safe_name(slot))
		return tdc_err(TDC_ERR_RANGE, "collateral cache: bad document name '%s'", slot);
	snprintf(name, sizeof(name), "%s" CHAIN_SUFFIX, slot);
	if (chain_len && (ret = write_atomic(s, name, chain, chain_len)) != 0)
		return ret;
	if ((ret = write_atomic(s, slot, body, body_len)) != 0)
		return ret;
	tdc_buf_init(&meta);
	snprintf(name, sizeof(name), ".%s.meta", slot);
	if ((ret = meta_json(m, body, body_len, &meta)) == 0)
		ret = write_atomic(s, name, meta.data, meta.len);
	tdc_buf_free(&meta);
	return ret;
}

static void meta_parse(const struct tdc_buf *b, struct tdc_coll_meta *m)
{
	json_t *o = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, NULL);
	const char *v;
	size_t n = 0;

	if (!json_is_object(o))
		goto out;
	if ((v = json_string_value(json_object_get(o, "url"))))
		snprintf(m->url, sizeof(m->url), "%s", v);
	if ((v = json_string_value(json_object_get(o, "request_id"))))
		snprintf(m->request_id, sizeof(m->request_id), "%s", v);
	if ((v = json_string_value(json_object_get(o, "fetched_at"))))
		tdc_time_parse(v, 0, &m->fetched_at);
	if ((v = json_string_value(json_object_get(o, "sha256"))) &&
	    tdc_hex_decode(v, m->sha256, 32, &n) == 0 && n == 32)
		m->has_sha = true;
out:
	json_decref(o);
}

int tdc_coll_store_get(const struct tdc_coll_store *s, const char *slot, struct tdc_buf *body,
		       struct tdc_buf *chain, struct tdc_coll_meta *m)
{
	char path[TDC_COLL_PATH_MAX], name[TDC_COLL_SLOT_MAX + 16];
	struct tdc_buf mb;
	struct stat st;
	int ret;

	memset(m, 0, sizeof(*m));
	tdc_buf_reset(body);
	tdc_buf_reset(chain);
	if (!safe_name(slot))
		return tdc_err(TDC_ERR_RANGE, "collateral cache: bad document name '%s'", slot);
	if ((ret = path_of(s, slot, "", path)) != 0)
		return ret;
	if (stat(path, &st) != 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "collateral cache: %s not stored", path);
	if (!S_ISREG(st.st_mode))
		return tdc_err(TDC_ERR_FORMAT, "collateral cache: %s is not a regular file", path);
	if ((ret = tdc_read_file(path, TDC_COLL_FILE_MAX, body)) != 0)
		return ret;
	m->fetched_at = st.st_mtime;
	if ((ret = path_of(s, slot, CHAIN_SUFFIX, path)) != 0)
		return ret;
	if (access(path, F_OK) == 0 && (ret = tdc_read_file(path, TDC_PCS_CHAIN_MAX, chain)) != 0)
		return ret;
	snprintf(name, sizeof(name), ".%s.meta", slot);
	tdc_buf_init(&mb);
	if (path_of(s, name, "", path) == 0 && tdc_read_file(path, TDC_COLL_META_MAX, &mb) == 0)
		meta_parse(&mb, m);
	tdc_buf_free(&mb);
	return 0;
}

int tdc_coll_store_remove(const struct tdc_coll_store *s, const char *slot)
{
	char path[TDC_COLL_PATH_MAX], name[TDC_COLL_SLOT_MAX + 16];
	int ret = 0;

	if (!safe_name(slot))
		return tdc_err(TDC_ERR_RANGE, "collateral cache: bad document name '%s'", slot);
	/* Metadata first, body last: a half-removed slot is just "not stored". */
	snprintf(name, sizeof(name), ".%s.meta", slot);
	if (path_of(s, name, "", path) == 0 && unlink(path) != 0 && errno != ENOENT)
		ret = tdc_err(TDC_ERR_IO, "collateral cache: remove %s: %m", path);
	if (path_of(s, slot, CHAIN_SUFFIX, path) == 0 && unlink(path) != 0 && errno != ENOENT)
		ret = tdc_err(TDC_ERR_IO, "collateral cache: remove %s: %m", path);
	if (path_of(s, slot, "", path) == 0 && unlink(path) != 0 && errno != ENOENT)
		ret = tdc_err(TDC_ERR_IO, "collateral cache: remove %s: %m", path);
	return ret;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int is_slot(const struct dirent *d)
{
	return safe_name(d->d_name) && !ends_with(d->d_name, CHAIN_SUFFIX);
}

int tdc_coll_store_list(const struct tdc_coll_store *s, char (**names)[TDC_COLL_SLOT_MAX],
			size_t *n)
{
	struct dirent **list = NULL;
	int k, ret = 0;

	*names = NULL;
	*n = 0;
	if ((k = scandir(s->dir, &list, is_slot, alphasort)) < 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "collateral cache directory %s: %m", s->dir);
	if (k > TDC_COLL_STORE_MAX_FILES) {
		ret = tdc_err(TDC_ERR_TOO_LARGE, "collateral cache %s: %d documents, cap %d",
			      s->dir, k, TDC_COLL_STORE_MAX_FILES);
		goto out;
	}
	if (k && !(*names = calloc((size_t)k, sizeof(**names)))) {
		ret = tdc_err(TDC_ERR_ALLOC, "collateral cache listing");
		goto out;
	}
	for (int i = 0; i < k; i++)
		snprintf((*names)[i], TDC_COLL_SLOT_MAX, "%s", list[i]->d_name);
	*n = (size_t)k;
out:
	for (int i = 0; i < k; i++)
		free(list[i]);
	free(list);
	return ret;
}

static int is_temp(const struct dirent *d)
{
	return d->d_name[0] == '.' && strstr(d->d_name, ".tmp.") != NULL;
}

int tdc_coll_store_clean_temp(const struct tdc_coll_store *s, size_t *removed)
{
	char path[TDC_COLL_PATH_MAX];
	struct dirent **list = NULL;
	int k, ret = 0;

	*removed = 0;
	if ((k = scandir(s->dir, &list, is_temp, alphasort)) < 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "collateral cache directory %s: %m", s->dir);
	for (int i = 0; i < k; i++) {
		if (path_of(s, list[i]->d_name, "", path) == 0 && unlink(path) == 0)
			(*removed)++;
		else if (!ret)
			ret = tdc_err(TDC_ERR_IO, "collateral cache: remove %s: %m", path);
		free(list[i]);
	}
	free(list);
	return ret;
}
