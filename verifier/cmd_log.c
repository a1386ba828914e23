// SPDX-License-Identifier: Apache-2.0
/* tdcpuid-verifier log: query the audit log written by `serve` and `ingest`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/text.h"
#include "verifier.h"

#define DEFAULT_DB "/var/lib/tdcpuid/audit.db"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s log [--db FILE|URI] [--vm NAME] [--since T] [--limit N]\n"
		"              [--format text|json] [--check]\n"
		"\n"
		"Print verdicts from the audit log, oldest first.\n"
		"  --db FILE|URI  audit database: an SQLite file (default " DEFAULT_DB ")\n"
		"                 or PostgreSQL (postgresql://ROLE@HOST/DB, postgresql:KEY=VALUE...;\n"
		"                 password from PGPASSFILE or PGPASSWORD, never in the URI)\n"
		"  --vm NAME      only this VM\n"
		"  --since T      unix seconds, YYYY-MM-DD[THH:MM:SS] (UTC), or an age such\n"
		"                 as 90s, 15m, 2h, 7d\n"
		"  --format F     text (default) or json\n"
		"  --check        check the log first: the database's own check (SQLite:\n"
		"                 PRAGMA integrity_check), then the hash chain over every row\n"
		"                 and its head; exit 3 if either finds a problem\n",
		tdc_prog);
}

static int parse_since(const char *s, int64_t *out)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	unsigned long long v;
	size_t n = strlen(s);
	char num[32];
	time_t t;

	for (size_t i = 0; n > 1 && n < sizeof(num) && i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[n - 1] != units[i].unit)
			continue;
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (tdc_parse_u64(num, 1ull << 40, &v) != 0)
			break;
		*out = (int64_t)time(NULL) - (int64_t)v * units[i].secs;
		return 0;
	}
	if (tdc_parse_u64(s, 1ull << 40, &v) == 0) {
		*out = (int64_t)v;
		return 0;
	}
	if (tdc_time_parse(s, TDC_TIME_DATE | TDC_TIME_NO_Z, &t) != 0)
		return tdc_err(TDC_ERR_USAGE, "--since: cannot read '%s'", s);
	*out = (int64_t)t;
	return 0;
}

struct printer {
	bool json;
	json_t *rows;
	size_t n;
};

static void iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Rows hold what guests chose (names, quoted claims).  Text output escapes
 * every control character, so no row can print a line that looks like
 * another row; JSON carries the text as it is, made valid UTF-8 so that no
 * row can ever fail to encode.  Either way every row is printed.
 */
static int print_row(void *ctx, const struct tdc_audit_record *r)
{
	struct printer *p = ctx;
	char when[32], ev[65] = "", nonce[2 * TDC_AUDIT_NONCE_MAX + 1] = "";
	char vm[4 * TDC_AUDIT_STR_MAX], peer[4 * TDC_AUDIT_STR_MAX];
	char failing[4 * TDC_AUDIT_FAILING_MAX], detail[4 * TDC_AUDIT_STR_MAX];
	unsigned fl = p->json ? 0 : TDC_TEXT_ESCAPE_CTL;
	json_t *o;

	iso(r->time, when, sizeof(when));
	if (r->has_evidence)
		tdc_hex_encode(r->evidence_sha256, 32, ev);
	if (r->has_nonce)
		tdc_hex_encode(r->nonce, r->nonce_len ? r->nonce_len : 32, nonce);
	tdc_text_clean(r->vm, vm, sizeof(vm), fl);
	tdc_text_clean(r->peer, peer, sizeof(peer), fl);
	tdc_text_clean(r->failing, failing, sizeof(failing), fl);
	tdc_text_clean(r->detail, detail, sizeof(detail), fl);
	p->n++;
	if (!p->json) {
		char count[24] = "";

		if (r->count > 1)
			snprintf(count, sizeof(count), " x%u", r->count);
		printf("%-6lld %s %-16s %-6s%s %s%s%s%s%s\n", (long long)r->id, when,
		       vm[0] ? vm : "-", tdc_audit_verdict_name(r->verdict), count, peer,
		       failing[0] ? " failing=" : "", failing, detail[0] ? " -- " : "", detail);
		return 0;
	}
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:I}",
		      "id", (json_int_t)r->id, "time", (json_int_t)r->time, "time_utc", when,
		      "vm", vm, "peer", peer, "verdict", tdc_audit_verdict_name(r->verdict),
		      "failing", failing, "evidence_sha256", r->has_evidence ? ev : NULL,
		      "nonce", r->has_nonce ? nonce : NULL, "detail", detail,
		      "count", (json_int_t)(r->count ? r->count : 1));
	if (!o || json_array_append_new(p->rows, o) != 0)
		return tdc_err(TDC_ERR_ALLOC, "log: row %lld could not be encoded",
			       (long long)r->id);
	return 0;
}

int log_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "vm", required_argument, NULL, 'v' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct tdc_audit_query q = { 0 };
	struct printer p = { 0 };
	struct tdc_audit *a = NULL;
	const char *db = DEFAULT_DB;
	unsigned long long lim;
	bool check = false, chain_ok = true;
	struct tdc_audit_report rep;
	char ic[256] = "", head[65];
	char *s;
	int o, e = 0;

	while (!e && (o = getopt_long(argc, argv, "d:v:s:n:f:ch", opts, NULL)) != -1) {
		switch (o) {
		case 'd': db = optarg; break;
		case 'v': q.vm = optarg; break;
		case 's': e = parse_since(optarg, &q.since); break;
		case 'n':
			if (tdc_parse_u64(optarg, 1u << 30, &lim) != 0)
				e = tdc_err(TDC_ERR_USAGE, "--limit: bad number '%s'", optarg);
			q.limit = (size_t)lim;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				e = tdc_err(TDC_ERR_USAGE, "--format: text or json, not '%s'", optarg);
			p.json = !strcmp(optarg, "json");
			break;
		case 'c': check = true; break;
		case 'h': usage(stdout); return TDC_EXIT_OK;
		default: usage(stderr); return TDC_EXIT_INPUT;
		}
	}
	if (!e && optind != argc)
		e = tdc_err(TDC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
	/* Opening creates a database; a typo in --db should not. */
	if (!e && !tdc_audit_is_postgresql(db) && access(db, R_OK) != 0)
		e = tdc_err(TDC_ERR_NOT_FOUND, "%s: %m", db);
	if (e || (e = tdc_audit_open(db, &a)) != 0)
		goto out;
	if (check) {
		if ((e = tdc_audit_integrity(a, ic, sizeof(ic))) != 0)
			goto out;
		printf("integrity_check: %s\n", ic);
		if ((e = tdc_audit_verify(a, &rep)) != 0)
			goto out;
		chain_ok = rep.ok;
		tdc_hex_encode(rep.head, 32, head);
		if (rep.ok)
			printf("chain: ok: %llu rows, head row %lld %s%s\n", (unsigned long long)rep.rows,
			       (long long)rep.head_id, rep.head_id ? head : "-",
			       rep.unchained ? " (the first rows predate the chain)" : "");
		else
			printf("chain: BROKEN: %s\n", rep.problem);
		if (rep.unchained)
			printf("chain: %llu rows written before the chain began are not covered\n",
			       (unsigned long long)rep.unchained);
	}
	p.rows = json_array();
	if ((e = tdc_audit_select(a, &q, print_row, &p)) != 0)
		goto out;
	if (p.json) {
		if (!(s = json_dumps(p.rows, JSON_INDENT(2)))) {
			e = tdc_err(TDC_ERR_ALLOC, "log: JSON output");
			goto out;
		}
		printf("%s\n", s);
		free(s);
	}
out:
	json_decref(p.rows);
	tdc_audit_close(a);
	return e ? tdc_cli_fail("log", e) : (check && (strcmp(ic, "ok") || !chain_ok)
					     ? TDC_EXIT_INTERNAL : TDC_EXIT_OK);
}
