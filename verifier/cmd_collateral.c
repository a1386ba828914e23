// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier collateral fetch|show|prune: the on-disk collateral
 * cache for operators (what is cached, for which FMSPCs, until when).
 * The cache itself is verifier/quote/coll_store.c; fetching and verifying
 * is the same code the appraisals use (verifier/quote/coll_source.c).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "coll_cli.h"
#include "quote_verify.h"
#include "tdcpuid/buf.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "verifier.h"

#define MAX_FMSPCS 64

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s collateral fetch --collateral URL (--fmspc HEX[,HEX...] | --quote FILE)\n"
		"                  [--ca processor|platform] [--no-crl] [--root PEM] [options]\n"
		"       %s collateral show  [--collateral URL] [--at TIME] [--format text|json]\n"
		"       %s collateral prune [--collateral URL] [--at TIME] [--all] [--dry-run]\n"
		"\n"
		"The verified on-disk cache of Intel collateral that `quote`, `check` and\n"
		"`serve` keep for a --collateral URL (Intel PCS or a PCCS).\n"
		"  fetch   fetch and verify now the TCB info for each FMSPC (or the one of\n"
		"          the quote's PCK certificate), the QE identity, the PCK CRL and\n"
		"          the root CA CRL, and store them in the cache\n"
		"  show    every cached document: FMSPC, issueDate, nextUpdate, when it was\n"
		"          fetched, and whether it verifies and is current at --at\n"
		"  prune   remove documents that expired before --at (or fail to verify)\n"
		"          and files left by interrupted writes; --all empties the cache\n"
		"Without --collateral, show and prune cover every service in the cache.\n"
		"\n"
		"  --fmspc HEX[,HEX]        FMSPCs to fetch TCB info for (12 hex digits each)\n"
		"  --quote FILE             ... or take the FMSPC and PCK CA from this quote\n"
		"  --ca processor|platform  PCK CA whose CRL to fetch (default platform, or the\n"
		"                           quote's)\n"
		"  --no-crl                 fetch no CRLs\n"
		"  --root PEM               trust anchor every document must chain to\n"
		"                           (default: %s)\n"
		TDC_COLL_CLI_HELP
		"  --at TIME                time that decides current/expired (default now)\n"
		"  --all                    prune: remove every document\n"
		"  --dry-run                prune: say what would be removed\n"
		"  --format text|json       show: output format (default text)\n"
		"\n"
		"Exit status: 0 done, 1 a document could not be fetched or verified, 2 usage,\n"
		"3 internal error.\n",
		tdc_prog, tdc_prog, tdc_prog, tdc_default_root_path());
}

struct coll_args {
	const char *root, *quote, *format;
	struct tdc_coll_source_opts coll;
	uint8_t fmspc[MAX_FMSPCS][6];
	size_t nfmspc;
	enum tdc_pcs_ca ca;
	bool ca_given, no_crl, all, dry_run;
	time_t at;
};

enum { O_FMSPC = 256, O_QUOTE, O_CA, O_NOCRL, O_ROOT, O_AT, O_ALL, O_DRY, O_FORMAT };

static int parse_fmspcs(const char *s, struct coll_args *a)
{
	char buf[1024], *save = NULL, *tok;
	size_t n;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return tdc_err(TDC_ERR_USAGE, "--fmspc: list too long");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->nfmspc == MAX_FMSPCS)
			return tdc_err(TDC_ERR_USAGE, "--fmspc: at most %d", MAX_FMSPCS);
		if (tdc_hex_decode(tok, a->fmspc[a->nfmspc], 6, &n) != 0 || n != 6)
			return tdc_err(TDC_ERR_USAGE, "--fmspc %s: 12 hex digits expected", tok);
		a->nfmspc++;
	}
	return 0;
}

static int parse_args(int argc, char *argv[], struct coll_args *a)
{
	static const struct option longopts[] = {
		{ "fmspc", required_argument, NULL, O_FMSPC },
		{ "quote", required_argument, NULL, O_QUOTE },
		{ "ca", required_argument, NULL, O_CA },
		{ "no-crl", no_argument, NULL, O_NOCRL },
		{ "root", required_argument, NULL, O_ROOT },
		{ "at", required_argument, NULL, O_AT },
		{ "all", no_argument, NULL, O_ALL },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "format", required_argument, NULL, O_FORMAT },
		TDC_COLL_CLI_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r;

	a->at = time(NULL);
	a->format = "text";
	a->ca = TDC_PCS_CA_PLATFORM;
	tdc_coll_source_opts_init(&a->coll);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if ((r = tdc_coll_cli_opt(&a->coll, c, optarg)) <= 0) {
			if (r)
				return r;
			continue;
		}
		switch (c) {
		case O_FMSPC:
			if ((r = parse_fmspcs(optarg, a)) != 0)
				return r;
			break;
		case O_QUOTE: a->quote = optarg; break;
		case O_CA:
			a->ca_given = true;
			if (!strcmp(optarg, "processor"))
				a->ca = TDC_PCS_CA_PROCESSOR;
			else if (!strcmp(optarg, "platform"))
				a->ca = TDC_PCS_CA_PLATFORM;
			else
				return tdc_err(TDC_ERR_USAGE, "--ca: processor or platform");
			break;
		case O_NOCRL: a->no_crl = true; break;
		case O_ROOT: a->root = optarg; break;
		case O_AT:
			if (tdc_time_parse(optarg, TDC_TIME_CLI, &a->at) != 0)
				return tdc_err(TDC_ERR_USAGE, "--at %s: expected YYYY-MM-DDThh:mm:ssZ, "
					       "YYYY-MM-DD or @EPOCH", optarg);
			break;
		case O_ALL: a->all = true; break;
		case O_DRY: a->dry_run = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return tdc_err(TDC_ERR_USAGE, "--format: text or json");
			a->format = optarg;
			break;
		case 'h': usage(stdout); return 1;
		default: return tdc_err(TDC_ERR_USAGE, "see '%s collateral --help'", tdc_prog);
		}
	}
	if (optind != argc)
		return tdc_err(TDC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
	if (a->coll.spec && strncmp(a->coll.spec, "http://", 7) && strncmp(a->coll.spec, "https://", 8))
		return tdc_err(TDC_ERR_USAGE, "--collateral: the cache belongs to a URL source "
			       "(http:// or https://), not a directory");
	return 0;
}

static void iso(time_t t, char buf[24])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cache_root(const struct coll_args *a, char *out, size_t cap)
{
	if (a->coll.cache_root) {
		snprintf(out, cap, "%s", a->coll.cache_root);
		return 0;
	}
	return tdc_coll_default_cache_root(out, cap);
}

/* ---- fetch --------------------------------------------------------------- */

/* FMSPC and PCK CA of a quote's PCK chain (not verified here: the cache
 * only stores what verifies against the root). */
static int from_quote(struct coll_args *a)
{
	struct tdc_pck_ext pck;
	struct tdx_quote q;
	struct tdc_buf b;
	X509 *leaf = NULL, *inter = NULL;
	BIO *bio = NULL;
	int r;

	tdc_buf_init(&b);
	if ((r = tdc_read_file(a->quote, TDX_QUOTE_MAX, &b)) != 0 ||
	    (r = tdx_quote_parse(b.data, b.len, true, &q)) != 0)
		goto out;
	bio = BIO_new_mem_buf(q.pck_chain_pem, (int)q.pck_chain_len);
	if (!bio || !(leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL)) ||
	    !(inter = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		r = tdc_err(TDC_ERR_CHAIN, "%s: PCK chain does not parse", a->quote);
		goto out;
	}
	if ((r = tdc_pck_ext_from_cert(leaf, &pck)) != 0)
		goto out;
	if (a->nfmspc < MAX_FMSPCS)
		memcpy(a->fmspc[a->nfmspc++], pck.fmspc, 6);
	if (!a->ca_given)
		r = tdc_pcs_ca_of(inter, &a->ca);
out:
	BIO_free(bio);
	X509_free(leaf);
	X509_free(inter);
	tdc_buf_free(&b);
	return r;
}

static int do_fetch(struct coll_args *a)
{
	static const char *const what[TDC_PCS__COUNT] = {
		"TCB info", "QE identity", "PCK CRL", "root CA CRL",
	};
	struct tdc_coll_source *src = NULL;
	X509 *root = NULL;
	int r, failed = 0;

	if (!a->coll.spec)
		return tdc_err(TDC_ERR_USAGE, "fetch: --collateral URL is required");
	if (a->quote && (r = from_quote(a)) != 0)
		return r;
	if (!a->nfmspc)
		return tdc_err(TDC_ERR_USAGE, "fetch: --fmspc or --quote is required");
	if ((r = tdc_load_root(a->root, &root)) != 0 ||
	    (r = tdc_coll_source_open(&a->coll, &src)) != 0)
		goto out;
	printf("collateral: %s (cache %s)\n", tdc_coll_source_name(src),
	       tdc_coll_source_cache_dir(src));
	for (size_t i = 0; i < a->nfmspc; i++) {
		struct tdc_coll_request rq = { a->fmspc[i], a->ca, root, a->at, !a->no_crl, true };
		struct tdc_coll_lease l;
		char when[24];

		if ((r = tdc_coll_source_acquire(src, &rq, &l)) != 0)
			goto out;
		printf("FMSPC %02x%02x%02x%02x%02x%02x:\n", a->fmspc[i][0], a->fmspc[i][1],
		       a->fmspc[i][2], a->fmspc[i][3], a->fmspc[i][4], a->fmspc[i][5]);
		/* Shared documents (QE identity, CRLs) once, with the first FMSPC. */
		for (int d = 0; d < (rq.crls ? TDC_PCS__COUNT : 2); d++) {
			if (d != TDC_PCS_TCB && i)
				continue;
			if (l.doc[d].have) {
				iso(l.doc[d].next_update, when);
				printf("  %-12s verified, nextUpdate %s%s\n", what[d], when,
				       l.doc[d].next_update < a->at ? " (EXPIRED)" : "");
			} else {
				printf("  %-12s NOT fetched\n", what[d]);
			}
		}
		if (l.failed || l.err) {
			failed = 1;
			printf("  error: %s%s%s\n", l.error, l.error[0] && l.note[0] ? "; " : "",
			       l.note);
		}
		tdc_coll_source_release(&l);
	}
	r = 0;
out:
	tdc_coll_source_free(src);
	X509_free(root);
	return r ? r : failed;
}

/* ---- show / prune --------------------------------------------------------- */

struct listed {
	char name[TDC_COLL_SLOT_MAX];
	enum tdc_pcs_doc doc;
	uint8_t fmspc[6];
	enum tdc_pcs_ca ca;
	enum tdc_tcb_update update;
	struct tdc_doc_info info;
	struct tdc_coll_meta meta;
	int verify;                  /* 0 or the error */
	char error[320];
	const char *state;           /* "current", "expired", "not yet valid", "invalid" */
};

static void inspect(const struct tdc_coll_store *st, const char *name, X509 *root,
		    time_t at, struct listed *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	tdc_coll_slot_parse(name, &e->doc, e->fmspc, &e->ca, &e->update);
	e->verify = tdc_coll_cached_verify(st, name, root, &e->info, &e->meta);
	if (e->verify)
		snprintf(e->error, sizeof(e->error), "%s", tdc_errdetail());
	e->state = e->verify ? "invalid" : at > e->info.next ? "expired" :
		   at < e->info.issue ? "not yet valid" : "current";
}

static json_t *listed_json(const struct listed *e)
{
	static const char *const docs[TDC_PCS__COUNT] = {
		"tcb_info", "qe_identity", "pck_crl", "root_crl",
	};
	char d1[24], d2[24], d3[24];
	json_t *o = json_object();

	json_object_set_new(o, "file", json_string(e->name));
	json_object_set_new(o, "document", json_string(docs[e->doc]));
	if (e->doc == TDC_PCS_TCB)
		json_object_set_new(o, "fmspc", tdc_json_hexbytes(e->fmspc, 6));
	if (e->doc == TDC_PCS_PCKCRL)
		json_object_set_new(o, "ca", json_string(tdc_pcs_ca_name(e->ca)));
	if (e->doc <= TDC_PCS_QEID)
		json_object_set_new(o, "tcb_update", json_string(tdc_tcb_update_name(e->update)));
	json_object_set_new(o, "state", json_string(e->state));
	if (e->info.next) {
		iso(e->info.issue, d1);
		iso(e->info.next, d2);
		json_object_set_new(o, "issued", json_string(d1));
		json_object_set_new(o, "next_update", json_string(d2));
	}
	if (e->info.eval_number)
		json_object_set_new(o, "tcb_evaluation_data_number",
				    json_integer(e->info.eval_number));
	iso(e->meta.fetched_at, d3);
	json_object_set_new(o, "fetched_at", json_string(d3));
	if (e->meta.url[0])
		json_object_set_new(o, "url", json_string(e->meta.url));
	if (e->meta.request_id[0])
		json_object_set_new(o, "request_id", json_string(e->meta.request_id));
	if (e->verify)
		json_object_set_new(o, "error", json_string(e->error));
	return o;
}

static void listed_text(const struct listed *e)
{
	char d1[24] = "-", d2[24] = "-", d3[24];
	char key[32] = "";

	if (e->doc == TDC_PCS_TCB)
		snprintf(key, sizeof(key), "FMSPC %02x%02x%02x%02x%02x%02x", e->fmspc[0],
			 e->fmspc[1], e->fmspc[2], e->fmspc[3], e->fmspc[4], e->fmspc[5]);
	else if (e->doc == TDC_PCS_PCKCRL)
		snprintf(key, sizeof(key), "%s CA", tdc_pcs_ca_name(e->ca));
	if (e->info.next) {
		iso(e->info.issue, d1);
		iso(e->info.next, d2);
	}
	iso(e->meta.fetched_at, d3);
	printf("  %-34s %-18s %-13s issued %s  nextUpdate %s  fetched %s\n", e->name, key,
	       e->state, d1, d2, d3);
	if (e->verify)
		printf("    %s\n", e->error);
}

static int is_dir_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Each source directory under the cache root (or only the one of --collateral). */
static int each_source(const struct coll_args *a,
		       int (*fn)(const struct coll_args *, const struct tdc_coll_store *, void *),
		       void *ctx)
{
	char root[TDC_COLL_PATH_MAX], path[TDC_COLL_PATH_MAX + 256], host[256];
	char base[TDC_PCS_URL_MAX];
	struct dirent **names = NULL;
	struct tdc_coll_store st;
	struct stat sb;
	int n, r = 0;

	if ((r = cache_root(a, root, sizeof(root))) != 0)
		return r;
	if (a->coll.spec) {
		if ((r = tdc_pcs_base_parse(a->coll.spec, base, host)) != 0 ||
		    (r = tdc_coll_store_open(root, base, host, false, &st)) != 0)
			return r;
		if (stat(st.dir, &sb) != 0)
			return tdc_err(TDC_ERR_NOT_FOUND, "nothing cached for %s (no %s)", base, st.dir);
		return fn(a, &st, ctx);
	}
	if ((n = scandir(root, &names, is_dir_entry, alphasort)) < 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "collateral cache %s: %m", root);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/.source", root, names[i]->d_name);
		if (!r && stat(path, &sb) == 0) {
			snprintf(path, sizeof(path), "%s/%s", root, names[i]->d_name);
			if ((r = tdc_coll_store_open_dir(path, &st)) == 0)
				r = fn(a, &st, ctx);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

struct show_ctx {
	X509 *root;
	json_t *sources;
};

static int show_one(const struct coll_args *a, const struct tdc_coll_store *st, void *vctx)
{
	struct show_ctx *c = vctx;
	char (*names)[TDC_COLL_SLOT_MAX] = NULL;
	json_t *docs = json_array();
	size_t n = 0;
	int r;

	if ((r = tdc_coll_store_list(st, &names, &n)) != 0) {
		json_decref(docs);
		return r;
	}
	if (!c->sources)
		printf("%s (%s): %zu document%s\n", st->base[0] ? st->base : "?", st->dir, n,
		       n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		struct listed e;

		inspect(st, names[i], c->root, a->at, &e);
		if (c->sources)
			json_array_append_new(docs, listed_json(&e));
		else
			listed_text(&e);
	}
	if (c->sources)
		json_array_append_new(c->sources, json_pack("{s:s, s:s, s:o}", "url", st->base,
							     "dir", st->dir, "documents", docs));
	else
		json_decref(docs);
	free(names);
	return 0;
}

static int do_show(struct coll_args *a)
{
	struct show_ctx c = { NULL, NULL };
	int r;

	if ((r = tdc_load_root(a->root, &c.root)) != 0)
		return r;
	if (!strcmp(a->format, "json"))
		c.sources = json_array();
	if ((r = each_source(a, show_one, &c)) == 0 && c.sources) {
		json_t *o = json_pack("{s:O}", "sources", c.sources);
		char at[24];

		iso(a->at, at);
		json_object_set_new(o, "at", json_string(at));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	}
	json_decref(c.sources);
	X509_free(c.root);
	return r;
}

static int prune_one(const struct coll_args *a, const struct tdc_coll_store *st, void *vctx)
{
	X509 *root = vctx;
	char (*names)[TDC_COLL_SLOT_MAX] = NULL;
	size_t n = 0, removed = 0, temp = 0;
	int r;

	if ((r = tdc_coll_store_list(st, &names, &n)) != 0)
		return r;
	for (size_t i = 0; i < n && !r; i++) {
		struct listed e;

		inspect(st, names[i], root, a->at, &e);
		if (!a->all && strcmp(e.state, "expired") && strcmp(e.state, "invalid"))
			continue;
		printf("%s %s/%s (%s)\n", a->dry_run ? "would remove" : "removed", st->dir,
		       e.name, a->all ? "--all" : e.state);
		if (!a->dry_run && (r = tdc_coll_store_remove(st, e.name)) != 0)
			break;
		removed++;
	}
	free(names);
	if (!r && !a->dry_run)
		r = tdc_coll_store_clean_temp(st, &temp);
	if (!r)
		printf("%s: %zu document%s %s, %zu temporary file%s\n", st->base[0] ? st->base :
		       st->dir, removed, removed == 1 ? "" : "s", a->dry_run ? "to remove" :
		       "removed", temp, temp == 1 ? "" : "s");
	return r;
}

static int do_prune(struct coll_args *a)
{
	X509 *root = NULL;
	int r;

	if ((r = tdc_load_root(a->root, &root)) != 0)
		return r;
	r = each_source(a, prune_one, root);
	X509_free(root);
	return r;
}

static const struct {
	const char *name;
	int (*fn)(struct coll_args *a);
} actions[] = {
	{ "fetch", do_fetch },
	{ "show", do_show },
	{ "prune", do_prune },
};

int collateral_main(int argc, char *argv[])
{
	struct coll_args a;
	int r;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? TDC_EXIT_INPUT : TDC_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(argv[1], actions[i].name))
			continue;
		if ((r = parse_args(argc - 1, argv + 1, &a)) != 0)
			return r > 0 ? TDC_EXIT_OK : tdc_cli_fail("collateral", r);
		r = actions[i].fn(&a);
		if (r < 0)
			return tdc_cli_fail("collateral", r);
		return r ? TDC_EXIT_FAIL : TDC_EXIT_OK;
	}
	tdc_err(TDC_ERR_USAGE, "unknown action '%s' (fetch, show or prune)", argv[1]);
	return tdc_cli_fail("collateral", TDC_ERR_USAGE);
}
