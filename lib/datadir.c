// SPDX-License-Identifier: Apache-2.0
/* One lookup of the data directory for every tool (tdcpuid/datadir.h). */
#include "tdcpuid/datadir.h"
#include "tdcpuid/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TDC_DATADIR
#error "TDC_DATADIR (the installed data directory) is set by lib/CMakeLists.txt"
#endif

static char explicit_dir[4096];

/* A ".." path component: the path then means whatever its prefix links to. */
static bool has_dotdot(const char *path)
{
	for (const char *seg = path; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
		if (!strncmp(seg, "..", 2) && (seg[2] == '/' || seg[2] == '\0'))
			return true;
	return false;
}

int tdc_data_dir_set(const char *dir)
{
	if (!dir) {
		explicit_dir[0] = '\0';
		return 0;
	}
	if (dir[0] != '/')
		return tdc_err(TDC_ERR_USAGE, "--datadir %s: not an absolute path", dir);
	if (has_dotdot(dir))
		return tdc_err(TDC_ERR_USAGE, "--datadir %s: contains \"..\" (name the "
			       "directory itself)", dir);
	if (strlen(dir) >= sizeof(explicit_dir))
		return tdc_err(TDC_ERR_USAGE, "--datadir: path too long");
	snprintf(explicit_dir, sizeof(explicit_dir), "%s", dir);
	return 0;
}

int tdc_data_dir(char *out, size_t n, const char *flag_dir, const char **source)
{
	const char *env = getenv(TDC_DATADIR_ENV), *dir, *from;

	if (flag_dir)
		dir = flag_dir, from = "--datadir option";
	else if (explicit_dir[0])
		dir = explicit_dir, from = "--datadir option";
	else if (env && *env)
		dir = env, from = TDC_DATADIR_ENV " environment variable";
	else
		dir = TDC_DATADIR, from = "configured default";
	if (source)
		*source = from;
	if (dir[0] != '/')
		return tdc_err(TDC_ERR_USAGE, "data directory %s (%s): not an absolute path",
			       dir, from);
	if (has_dotdot(dir))
		return tdc_err(TDC_ERR_USAGE, "data directory %s (%s): contains \"..\" (name "
			       "the directory itself)", dir, from);
	if ((size_t)snprintf(out, n, "%s", dir) >= n)
		return tdc_err(TDC_ERR_RANGE, "data directory %s (%s): path too long", dir, from);
	return 0;
}

/*
 * A data file is named below the directory: no escaping it.  A name refused
 * here is refused input (exit 2), whoever composed it.
 */
static int check_relative(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/')
		return tdc_err(TDC_ERR_USAGE, "data path \"%s\": not relative", rel ? rel : "");
	if (has_dotdot(rel))
		return tdc_err(TDC_ERR_USAGE, "data path %s: contains ..", rel);
	return 0;
}

int tdc_data_path(char *out, size_t n, const char *relative, const char *flag_dir)
{
	char dir[4096];
	const char *from;
	int r;

	if ((r = check_relative(relative)) != 0 ||
	    (r = tdc_data_dir(dir, sizeof(dir), flag_dir, &from)) != 0)
		return r;
	if ((size_t)snprintf(out, n, "%s/%s", dir, relative) >= n)
		return tdc_err(TDC_ERR_RANGE, "%s/%s: path too long", dir, relative);
	if (access(out, R_OK) != 0)
		return tdc_err(errno == EACCES ? TDC_ERR_PERM : TDC_ERR_NOT_FOUND,
			       "%s: %s (data directory %s, from the %s; choose another with "
			       "--datadir or " TDC_DATADIR_ENV ")",
			       out, strerror(errno), dir, from);
	return 0;
}
