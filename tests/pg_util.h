/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A throwaway PostgreSQL cluster for the tests and the benchmark: initdb
 * into a scratch directory, pg_ctl start on a Unix socket in it and a free
 * loopback port, as an unprivileged user (PostgreSQL refuses to run as
 * root: under root the server runs as "postgres", else "nobody", through
 * runuser).  A watchdog process stops the cluster and removes the
 * directory when the test process dies, however it dies.
 *
 * Roles, as docs/deploy.md sets them up: tdc_admin (superuser, the Unix
 * socket, trust), tdc_owner (owns the database and the schema), tdc_service
 * (sql/postgresql/roles.sql: INSERT only) and tdc_reader (SELECT), the last
 * three with passwords over TCP, read from a PGPASSFILE the harness writes
 * and exports: no password ever appears in a --db string.
 *
 * Header-only, like serve_util.h, so bench/ can include it.
 */
#ifndef TDC_PG_UTIL_H
#define TDC_PG_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"

struct pgu {
	char dir[128];          /* scratch: data/, the socket, logs, passfile */
	char bindir[256];
	char user[32];          /* OS user the server runs as ("": ourselves) */
	int port;
	char sqldir[300];       /* verifier/service/sql */
	pid_t watchdog;
	int watch_fd;           /* its pipe: closing it (or dying) stops the cluster */
	unsigned ndb;
};

static inline int pgu_sh(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The directory with initdb and pg_ctl; 0 if found. */
static inline int pgu_find_bindir(char *out, size_t len)
{
	const char *env = getenv("TDC_PG_BINDIR");
	glob_t g;
	int r = -1;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	/* Debian keeps the server outside PATH, one directory per major version. */
	if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) == 0 && g.gl_pathc) {
		snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
		*strrchr(out, '/') = '\0';
		r = 0;
	}
	globfree(&g);
	if (r && access("/usr/bin/pg_ctl", X_OK) == 0) {
		snprintf(out, len, "/usr/bin");
		r = 0;
	}
	return r;
}

static inline int pgu_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

/* "runuser -u USER -- " when we are root, "" otherwise. */
static inline const char *pgu_as(const struct pgu *p, char *buf, size_t len)
{
	if (!p->user[0])
		return "";
	snprintf(buf, len, "runuser -u %s -- ", p->user);
	return buf;
}

static inline int pgu_ctl(const struct pgu *p, const char *action)
{
	char cmd[1400], as[64];

	snprintf(cmd, sizeof(cmd), "%s'%s/pg_ctl' -D '%s/data' -l '%s/server.log' -w -t 30 -s "
		 "-o \"-k %s -p %d -c listen_addresses=127.0.0.1 -c max_connections=60\" %s",
		 pgu_as(p, as, sizeof(as)), p->bindir, p->dir, p->dir, p->dir, p->port, action);
	return pgu_sh(cmd);
}

/* Stop (fast: sessions are cut, the server says so) or start the server again. */
static inline int pgu_stop(const struct pgu *p)
{
	return pgu_ctl(p, "-m fast stop");
}

static inline int pgu_start_again(const struct pgu *p)
{
	return pgu_ctl(p, "start");
}

/*
 * Run @sql on the connection string @ci: 0 if the database accepted it.
 * With @say, a failed connection is reported (and, with TDC_PGU_VERBOSE,
 * a refused statement).
 */
static inline int pgu_exec(const char *ci, const char *sql, bool say)
{
	PGconn *c = PQconnectdb(ci);
	PGresult *r;
	int ok;

	if (PQstatus(c) != CONNECTION_OK) {
		if (say)
			fprintf(stderr, "pgu: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok && say && getenv("TDC_PGU_VERBOSE"))
		fprintf(stderr, "pgu: %s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* Admin SQL over the Unix socket into database @db. */
static inline int pgu_admin(const struct pgu *p, const char *db, const char *sql)
{
	char ci[400];

	snprintf(ci, sizeof(ci), "host=%s port=%d user=tdc_admin dbname=%s", p->dir, p->port, db);
	return pgu_exec(ci, sql, true);
}

/* A --db string for @role on database @db (TCP, password from the PGPASSFILE). */
static inline void pgu_uri(const struct pgu *p, const char *role, const char *db, char *out,
			   size_t len)
{
	snprintf(out, len, "postgresql://%s@127.0.0.1:%d/%s?connect_timeout=5", role, p->port, db);
}

/* Run @sql as @role on @db over TCP: 0 if the database accepted it. */
static inline int pgu_exec_as(const struct pgu *p, const char *role, const char *db,
			      const char *sql)
{
	char uri[300];

	pgu_uri(p, role, db, uri, sizeof(uri));
	return pgu_exec(uri, sql, false);
}

/*
 * A fresh database @name owned by tdc_owner, the schema applied by the
 * verifier's own migrations (as the owner), and roles.sql's grants: the
 * deployment docs/deploy.md describes, in miniature.
 */
static inline int pgu_new_db(struct pgu *p, char *name, size_t len)
{
	char sql[200], uri[300], cmd[1200];
	struct tdc_audit *a;

	snprintf(name, len, "tdcpuid_%u", p->ndb++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER tdc_owner", name);
	if (pgu_admin(p, "postgres", sql) != 0)
		return -1;
	pgu_uri(p, "tdc_owner", name, uri, sizeof(uri));
	if (tdc_audit_open(uri, &a) != 0)
		return -1;
	tdc_audit_close(a);
	snprintf(cmd, sizeof(cmd), "psql -X -q -v ON_ERROR_STOP=1 -v service=tdc_service "
		 "-v reader=tdc_reader -f '%s/postgresql/roles.sql' '%s' >/dev/null", p->sqldir, uri);
	return pgu_sh(cmd) == 0 ? 0 : -1;
}

/* Blocks on the pipe; when the test process is gone, stops the cluster. */
static inline void pgu_watch(struct pgu *p, int fd)
{
	char b, cmd[600];

	/* Signals aimed at the test (ctest's timeout) must not stop the cleanup. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	while (read(fd, &b, 1) > 0)
		;
	pgu_ctl(p, "-m immediate stop >/dev/null 2>&1");
	if (!getenv("TDC_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
		pgu_sh(cmd);
	}
	_exit(0);
}

/*
 * Start a cluster.  Returns 0, 77 with @why set if PostgreSQL is not
 * installed (the only reason to skip), or -1 with @why set.
 */
static inline int pgu_start(struct pgu *p, char *why, size_t wl)
{
	static const char roles[] =
		"CREATE ROLE tdc_owner LOGIN PASSWORD 'owner-pw';"
		"CREATE ROLE tdc_service LOGIN PASSWORD 'service-pw';"
		"CREATE ROLE tdc_reader LOGIN PASSWORD 'reader-pw';";
	char cmd[1600], as[64], pw[200], pass[256];
	struct passwd *pwd = NULL;
	int fds[2];
	FILE *f;

	memset(p, 0, sizeof(*p));
	p->watch_fd = -1;
	if (getenv("TDC_SOURCE_DIR"))
		snprintf(p->sqldir, sizeof(p->sqldir), "%s/verifier/service/sql",
			 getenv("TDC_SOURCE_DIR"));
	else
		snprintf(p->sqldir, sizeof(p->sqldir), "%s", TDC_SQL_DIR);
	if (pgu_find_bindir(p->bindir, sizeof(p->bindir)) != 0) {
		snprintf(why, wl, "PostgreSQL server binaries (initdb, pg_ctl) not installed: "
			 "apt-get install postgresql (scripts/setup does)");
		return 77;
	}
	if (access("/usr/bin/psql", X_OK) != 0 && pgu_sh("command -v psql >/dev/null") != 0) {
		snprintf(why, wl, "psql not installed: apt-get install postgresql-client");
		return 77;
	}
	if (geteuid() == 0) {
		if (!(pwd = getpwnam("postgres")))
			pwd = getpwnam("nobody");
		if (!pwd) {
			snprintf(why, wl, "running as root and neither user postgres nor nobody exists");
			return -1;
		}
		snprintf(p->user, sizeof(p->user), "%s", pwd->pw_name);
	}
	/* Short: the socket path inside must stay under 108 bytes. */
	snprintf(p->dir, sizeof(p->dir), "/tmp/tdc-pg-XXXXXX");
	if (!mkdtemp(p->dir) || (pwd && chown(p->dir, pwd->pw_uid, pwd->pw_gid) != 0)) {
		snprintf(why, wl, "scratch directory: %s", strerror(errno));
		return -1;
	}
	snprintf(pw, sizeof(pw), "%s/admin.pw", p->dir);
	if (!(f = fopen(pw, "w")) || fputs("admin-pw\n", f) < 0 || fclose(f) != 0 ||
	    (pwd && chown(pw, pwd->pw_uid, pwd->pw_gid) != 0)) {
		snprintf(why, wl, "%s: %s", pw, strerror(errno));
		return -1;
	}
	if (pipe(fds) != 0 || (p->watchdog = fork()) < 0) {
		snprintf(why, wl, "watchdog: %s", strerror(errno));
		return -1;
	}
	if (p->watchdog == 0) {
		close(fds[1]);
		pgu_watch(p, fds[0]);
	}
	close(fds[0]);
	p->watch_fd = fds[1];
	fcntl(p->watch_fd, F_SETFD, FD_CLOEXEC);
	snprintf(cmd, sizeof(cmd), "%s'%s/initdb' -D '%s/data' -U tdc_admin --auth-local=trust "
		 "--auth-host=scram-sha-256 --pwfile='%s' -E UTF8 --locale=C --no-sync "
		 "--no-instructions >'%s/initdb.log' 2>&1", pgu_as(p, as, sizeof(as)), p->bindir,
		 p->dir, pw, p->dir);
	if (pgu_sh(cmd) != 0) {
		snprintf(why, wl, "initdb failed (see %s/initdb.log)", p->dir);
		return -1;
	}
	for (int tries = 0; tries < 5; tries++) {
		if ((p->port = pgu_free_port()) > 0 && pgu_ctl(p, "start") == 0)
			break;
		p->port = -1;
	}
	if (p->port < 0) {
		snprintf(why, wl, "pg_ctl start failed (see %s/server.log)", p->dir);
		return -1;
	}
	snprintf(pass, sizeof(pass), "%s/pgpass", p->dir);
	if (!(f = fopen(pass, "w")) ||
	    fprintf(f, "127.0.0.1:*:*:tdc_owner:owner-pw\n127.0.0.1:*:*:tdc_service:service-pw\n"
		    "127.0.0.1:*:*:tdc_reader:reader-pw\n") < 0 ||
	    fclose(f) != 0 || chmod(pass, 0600) != 0) {
		snprintf(why, wl, "%s: %s", pass, strerror(errno));
		return -1;
	}
	setenv("PGPASSFILE", pass, 1);
	if (pgu_admin(p, "postgres", roles) != 0) {
		snprintf(why, wl, "creating the roles failed");
		return -1;
	}
	return 0;
}

/* Stop the cluster and remove everything (the watchdog does the work). */
static inline void pgu_destroy(struct pgu *p)
{
	if (p->watch_fd >= 0) {
		close(p->watch_fd);
		p->watch_fd = -1;
		waitpid(p->watchdog, NULL, 0);
	}
}

#endif
