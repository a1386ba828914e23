// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tdcpuid/cli.h"
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"

const char *tdc_prog = "tdcpuid";

static void show_usage(FILE *f, const char *tool, const struct tdc_subcommand *cmds,
		       size_t n, const char *exit_help)
{
	fprintf(f, "Usage: %s [--datadir DIR] <cmd> [<args>]\n\nAvailable subcommands:\n",
		tool);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].description);
	fprintf(f, "\nYou may pass `--help' to any of these subcommands to view usage.\n%s\n",
		exit_help);
	fprintf(f, "Data (policies, models, trust anchors): --datadir DIR, else $%s, else %s.\n",
		TDC_DATADIR_ENV, TDC_DATADIR);
}

/* The global options before the subcommand; returns how many argv slots they use. */
static int global_options(int argc, char *argv[])
{
	int used = 0, r;

	while (used + 1 < argc) {
		const char *a = argv[used + 1], *dir;

		if (!strncmp(a, "--datadir=", 10))
			dir = a + 10, used += 1;
		else if (!strcmp(a, "--datadir") && used + 2 < argc)
			dir = argv[used + 2], used += 2;
		else
			break;
		if ((r = tdc_data_dir_set(dir)) != 0)
			return r;
	}
	return used;
}

int tdc_cli_dispatch(const char *tool, const struct tdc_subcommand *cmds, size_t n,
		     const char *exit_help, int argc, char *argv[])
{
	const char *slash = strrchr(argv[0], '/');
	int used;

	tdc_prog = slash ? slash + 1 : argv[0];
	if ((used = global_options(argc, argv)) < 0) {
		fprintf(stderr, "%s: %s\n", tdc_prog, tdc_errmsg(used));
		return TDC_EXIT_INPUT;
	}
	argv[used] = argv[0];
	argc -= used;
	argv += used;
	if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
		printf("%s %s\n", tool, TDC_VERSION);
		return TDC_EXIT_OK;
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "help"))) {
		show_usage(stdout, tool, cmds, n, exit_help);
		return TDC_EXIT_OK;
	}
	if (argc < 2) {
		show_usage(stderr, tool, cmds, n, exit_help);
		return TDC_EXIT_INPUT;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].function(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: invalid subcommand '%s'\n", tdc_prog, argv[1]);
	show_usage(stderr, tool, cmds, n, exit_help);
	return TDC_EXIT_INPUT;
}

int tdc_cli_fail(const char *subcommand, int code)
{
	fprintf(stderr, "%s %s: %s\n", tdc_prog, subcommand, tdc_errmsg(code));
	return tdc_exit_code(code);
}

int tdc_parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return tdc_err(TDC_ERR_FORMAT, "'%s' is not an unsigned number", s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return tdc_err(TDC_ERR_FORMAT, "'%s' is not an unsigned number", s);
	if (v > max)
		return tdc_err(TDC_ERR_RANGE, "%s exceeds the maximum %llu", s, max);
	*out = v;
	return 0;
}

int tdc_time_parse(const char *s, unsigned accept, time_t *out)
{
	struct tm tm = { 0 };
	unsigned long long epoch;
	int n = 0, m = 0;

	if (s && s[0] == '@' && (accept & TDC_TIME_EPOCH)) {
		if (tdc_parse_u64(s + 1, 1ull << 40, &epoch) != 0)
			return tdc_err(TDC_ERR_FORMAT, "time \"%.40s\": @EPOCH needs seconds", s);
		*out = (time_t)epoch;
		return 0;
	}
	/* sscanf returns 3 whether or not a literal after the last %d matched:
	 * the %n counts are what prove every character was read. */
	if (!s || sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
		goto bad;
	if (s[n] == 'T' &&
	    sscanf(s + n, "T%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) == 3 && m == 9) {
		n += m;
		if (s[n] == 'Z')
			n++;
		else if (!(accept & TDC_TIME_NO_Z))
			goto bad;
	} else if (!(accept & TDC_TIME_DATE)) {
		goto bad;
	}
	if (s[n] || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		goto bad;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return 0;
bad:
	return tdc_err(TDC_ERR_FORMAT, "time \"%.40s\": expected YYYY-MM-DDThh:mm:ssZ%s", s ? s : "",
		       (accept & TDC_TIME_EPOCH) ? ", YYYY-MM-DD or @EPOCH" :
		       (accept & TDC_TIME_DATE) ? " or YYYY-MM-DD" : "");
}
