// SPDX-License-Identifier: Apache-2.0
/* tdcpuid-verifier serve: the attestation service (docs/protocol.md). */
#include <getopt.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "nonce.h"
#include "service.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/jws.h"
#include "verifier.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s serve --listen ADDR [--listen ADDR]... --registry DIR --db FILE|URI\n"
		"                [--db-timeout S] [--workers N] [--max-conns N] [--timeout S] [--handshake-timeout S]\n"
		"                [--nonce-ttl S] [--peer-conns N] [--peer-rate N] [--peer-burst N]\n"
		"                [--reject-interval S] [--sign-key PEM]\n"
		"                [--tls-cert PEM --tls-key PEM] [--sessions N] [--peer-sessions N]\n"
		"                [--stateless-nonce-key FILE] [--checks engine|basic]\n"
		"                [--collateral-cache DIR] [--ready-file FILE] [--quiet]\n"
		"\n"
		"Serve challenge-response attestation: send each connecting agent a fresh\n"
		"nonce, check the evidence it returns against its registry entry, record the\n"
		"verdict durably in the audit log, then answer with the verdict.\n"
		"\n"
		"  --listen ADDR     tcp:HOST:PORT or vsock:CID:PORT (CID ANY, LOCAL or a number):\n"
		"                    the framed protocol; http://HOST:PORT or https://HOST:PORT:\n"
		"                    the REST API (Veraison challenge-response, docs/rest.md);\n"
		"                    port 0 picks a free port (see --ready-file)\n"
		"  --tls-cert PEM    https: the server certificate (chain), TLS 1.3 only\n"
		"  --tls-key PEM     https: its private key\n"
		"  --sessions N      REST sessions open at once (default 4096)\n"
		"  --peer-sessions N ... held by one peer (default 64)\n"
		"  --registry DIR    one JSON file per VM (docs/protocol.md \"Registry\")\n"
		"  --db FILE|URI     audit log: an SQLite file (created if missing), or the\n"
		"                    PostgreSQL database a fleet of verifiers shares:\n"
		"                    postgresql://ROLE@HOST[:PORT]/DB or postgresql:KEY=VALUE...\n"
		"                    (any libpq connection string; password from PGPASSFILE or\n"
		"                    PGPASSWORD, never in the string; docs/deploy.md)\n"
		"  --db-timeout S    bound on each audit database round trip and connect\n"
		"                    (default 5); when it fails, new exchanges are refused\n"
		"                    until the database answers again\n"
		"  --workers N       verification threads (default 2); with PostgreSQL also\n"
		"                    the number of connections (one committing thread each)\n"
		"  --max-conns N     open connections at most; more are refused (default 256;\n"
		"                    lowered to fit RLIMIT_NOFILE); the last quarter goes only\n"
		"                    to peers that hold no connection\n"
		"  --timeout S       per-connection deadline from accept (default 10)\n"
		"  --handshake-timeout S  deadline from accept until the evidence frame has\n"
		"                    begun (default 5, at most --timeout)\n"
		"  --nonce-ttl S     nonce lifetime (default 60; a policy's nonce_max_age can\n"
		"                    only shorten it)\n"
		"  --peer-conns N    connections one peer (IPv4 address, IPv6 /64, vsock CID)\n"
		"                    may hold at once (default 16)\n"
		"  --peer-rate N     new connections per second one peer may open (default 20)\n"
		"  --peer-burst N    ... in a burst (default 2 x --peer-rate)\n"
		"  --reject-interval S  refusals (unknown VM, wrong nonce, unevaluable evidence)\n"
		"                    go into the audit log as one row per peer per interval,\n"
		"                    with their count (default 60)\n"
		"  --sign-key PEM    sign every verdict (ES256, P-256 key); agents check it with\n"
		"                    `tdcpuid-agent evidence --verifier-key`; REST results are\n"
		"                    then JWTs (EAR: application/eat+jwt), the public key at\n"
		"                    GET /.well-known/veraison/verification\n"
		"  --stateless-nonce-key FILE  HMAC nonces any instance with this key accepts\n"
		"  --checks MODE     engine: full CPUID/policy check (default);\n"
		"                    basic: binding, nonce, MRCONFIGID only; never a pass\n"
		"  --collateral-cache DIR  cache of registry entries' collateral URLs (default\n"
		"                    $STATE_DIRECTORY/collateral, else collateral/ beside --db)\n"
		"  --ready-file FILE write the bound addresses here once listening\n"
		"\n"
		"SIGTERM/SIGINT: stop accepting, finish open exchanges, exit 0.\n"
		"SIGHUP: reload the registry (the old one stays if the new one is broken).\n",
		tdc_prog);
}

static int parse_uint(const char *opt, const char *s, unsigned max, unsigned *out)
{
	unsigned long long v;

	if (tdc_parse_u64(s, max, &v) != 0 || v == 0)
		return tdc_err(TDC_ERR_USAGE, "%s: expected 1..%u, got '%s'", opt, max, s);
	*out = (unsigned)v;
	return 0;
}

static char cache_dir[4096];
static struct tdc_engine_ctx engine_ctx = { cache_dir };

/* The collateral cache belongs to the service's state: systemd's
 * StateDirectory, else the directory of the audit database. */
static int default_cache(const char *db)
{
	const char *st = getenv("STATE_DIRECTORY");
	char tmp[4096], db_copy[4096];

	if (cache_dir[0])
		return 0;
	if (tdc_audit_is_postgresql(db) && !(st && st[0] == '/')) {
		/* No directory beside a database on another host: the packaged state dir. */
		snprintf(cache_dir, sizeof(cache_dir), "/var/lib/tdcpuid/collateral");
		return 0;
	}
	if (st && st[0] == '/') {
		/* StateDirectory= may list several, separated by ':'. */
		snprintf(tmp, sizeof(tmp), "%s", st);
		tmp[strcspn(tmp, ":")] = '\0';
	} else {
		snprintf(db_copy, sizeof(db_copy), "%s", db);
		snprintf(tmp, sizeof(tmp), "%s", dirname(db_copy));
	}
	if ((size_t)snprintf(cache_dir, sizeof(cache_dir), "%s/collateral", tmp) >= sizeof(cache_dir))
		return tdc_err(TDC_ERR_USAGE, "collateral cache path too long");
	return 0;
}

static int parse_args(int argc, char *argv[], struct tdc_serve_config *c)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "registry", required_argument, NULL, 'r' },
		{ "db", required_argument, NULL, 'd' },
		{ "db-timeout", required_argument, NULL, 'D' },
		{ "workers", required_argument, NULL, 'w' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "nonce-ttl", required_argument, NULL, 'n' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "peer-conns", required_argument, NULL, 'P' },
		{ "peer-rate", required_argument, NULL, 'a' },
		{ "peer-burst", required_argument, NULL, 'b' },
		{ "reject-interval", required_argument, NULL, 'i' },
		{ "sign-key", required_argument, NULL, 's' },
		{ "stateless-nonce-key", required_argument, NULL, 'k' },
		{ "checks", required_argument, NULL, 'c' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "collateral-cache", required_argument, NULL, 'C' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "sessions", required_argument, NULL, 'S' },
		{ "peer-sessions", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o, e = 0;

	while (!e && (o = getopt_long(argc, argv, "l:r:d:D:w:m:t:n:H:P:a:b:i:s:k:c:R:C:T:K:S:p:qh", opts,
				      NULL)) != -1) {
		switch (o) {
		case 'l':
			if (!strncmp(optarg, "http", 4) && strstr(optarg, "://")) {
				if (c->nhttp >= TDC_SERVE_MAX_LISTEN)
					return tdc_err(TDC_ERR_USAGE, "at most %d http(s) --listen",
						       TDC_SERVE_MAX_LISTEN);
				e = tdc_serve_http_parse(optarg, &c->http[c->nhttp++]);
				break;
			}
			if (c->nlisten >= TDC_SERVE_MAX_LISTEN)
				return tdc_err(TDC_ERR_USAGE, "at most %d --listen", TDC_SERVE_MAX_LISTEN);
			e = tdc_addr_parse(optarg, &c->listen[c->nlisten++]);
			break;
		case 'T': c->tls_cert = optarg; break;
		case 'K': c->tls_key = optarg; break;
		case 'S': e = parse_uint("--sessions", optarg, 65535, &c->rest_sessions); break;
		case 'p': e = parse_uint("--peer-sessions", optarg, 65535, &c->peer_sessions); break;
		case 'r': c->registry_dir = optarg; break;
		case 'd': c->db_path = optarg; break;
		case 'D':
			e = parse_uint("--db-timeout", optarg, 3600, &c->db_timeout_ms);
			c->db_timeout_ms *= 1000;
			break;
		case 'w': e = parse_uint("--workers", optarg, 256, &c->workers); break;
		case 'm': e = parse_uint("--max-conns", optarg, 65536, &c->max_conns); break;
		case 't': e = parse_uint("--timeout", optarg, 3600, &c->timeout_s); break;
		case 'n': e = parse_uint("--nonce-ttl", optarg, 86400, &c->nonce_ttl_s); break;
		case 'H': e = parse_uint("--handshake-timeout", optarg, 3600, &c->handshake_s); break;
		case 'P': e = parse_uint("--peer-conns", optarg, 65536, &c->peer_conns); break;
		case 'a': e = parse_uint("--peer-rate", optarg, 1000000, &c->peer_rate); break;
		case 'b': e = parse_uint("--peer-burst", optarg, 1000000, &c->peer_burst); break;
		case 'i': e = parse_uint("--reject-interval", optarg, 86400, &c->reject_interval_s);
			break;
		case 's':
			EVP_PKEY_free(c->sign_key);
			e = tdc_es256_load_private(optarg, &c->sign_key);
			break;
		case 'k':
			c->stateless = true;
			e = tdc_nonce_key_load(optarg, c->nonce_key);
			break;
		case 'c':
			if (!strcmp(optarg, "basic"))
				c->ops = &tdc_verifier_basic;
			else if (!strcmp(optarg, "engine"))
				c->ops = &tdc_verifier_engine;
			else
				e = tdc_err(TDC_ERR_USAGE, "--checks: '%s' (engine or basic)", optarg);
			break;
		case 'R': c->ready_file = optarg; break;
		case 'C':
			if ((size_t)snprintf(cache_dir, sizeof(cache_dir), "%s", optarg) >= sizeof(cache_dir))
				return tdc_err(TDC_ERR_USAGE, "--collateral-cache: path too long");
			break;
		case 'q': c->quiet = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return tdc_err(TDC_ERR_USAGE, "bad option");
		}
	}
	if (e)
		return e;
	if (optind != argc)
		return tdc_err(TDC_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!(c->nlisten + c->nhttp) || !c->registry_dir || !c->db_path)
		return tdc_err(TDC_ERR_USAGE, "--listen, --registry and --db are required");
	return default_cache(c->db_path);
}

int serve_main(int argc, char *argv[])
{
	struct tdc_serve_config c;
	int e;

	tdc_serve_config_init(&c);
	c.ops = &tdc_verifier_engine;
	c.ops_ctx = &engine_ctx;
	if ((e = parse_args(argc, argv, &c)) == 1) {
		EVP_PKEY_free(c.sign_key);
		return TDC_EXIT_OK;
	}
	if (e || (e = tdc_serve_run(&c)) != 0) {
		EVP_PKEY_free(c.sign_key);
		return tdc_cli_fail("serve", e);
	}
	EVP_PKEY_free(c.sign_key);
	return TDC_EXIT_OK;
}
