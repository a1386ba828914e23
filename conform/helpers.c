// SPDX-License-Identifier: Apache-2.0
/* Where tdcpuid-conform finds its guest and helper programs (helpers.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "tdcpuid/error.h"

int tdc_conform_helper(char *out, size_t n, const char *name)
{
	const char *env = getenv(TDC_LIBEXECDIR_ENV), *dir = TDC_LIBEXECDIR,
		   *from = "configured default";

	if (env && *env)
		dir = env, from = TDC_LIBEXECDIR_ENV " environment variable";
	if (dir[0] != '/')
		return tdc_err(TDC_ERR_USAGE, "helper directory %s (%s): not an absolute path",
			       dir, from);
	if ((size_t)snprintf(out, n, "%s/%s", dir, name) >= n)
		return tdc_err(TDC_ERR_RANGE, "%s/%s: path too long", dir, name);
	if (access(out, R_OK) != 0)
		return tdc_err(TDC_ERR_NOT_FOUND, "%s: %s (helper directory %s, from the %s; "
			       "choose another with " TDC_LIBEXECDIR_ENV ")",
			       out, strerror(errno), dir, from);
	return 0;
}
