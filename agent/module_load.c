// SPDX-License-Identifier: Apache-2.0
/* The dynamic agent's side of its crypto module (see module.h). */
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

/* The module's directory relative to the binary's, and the configured one. */
#ifndef TDC_AGENT_MODULE_REL
#error "TDC_AGENT_MODULE_REL must be set (agent/CMakeLists.txt)"
#endif
#ifndef TDC_AGENT_MODULE_DIR
#error "TDC_AGENT_MODULE_DIR must be set (agent/CMakeLists.txt)"
#endif

static int saved_argc;
static char **saved_argv;

int tdc_agent_module_argv(int argc, char *argv[])
{
	if (!(saved_argv = calloc((size_t)argc + 1, sizeof(*saved_argv))))
		return -1;
	memcpy(saved_argv, argv, (size_t)argc * sizeof(*saved_argv));
	saved_argc = argc;
	return 0;
}

/*
 * <directory of the running binary>/TDC_AGENT_MODULE_REL/<file>, the
 * directory made canonical where it exists (so that the build tree's
 * <build>/agent/../lib/tdcpuid reads as <build>/lib/tdcpuid); "" if /proc
 * is not mounted.
 */
static void beside_binary(char *out, size_t n)
{
	char self[PATH_MAX], dir[PATH_MAX + 64], canon[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	out[0] = '\0';
	if (len <= 0)
		return;
	self[len] = '\0';
	if (!(slash = strrchr(self, '/')))
		return;
	*slash = '\0';
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", self, TDC_AGENT_MODULE_REL) >= sizeof(dir))
		return;
	if ((size_t)snprintf(out, n, "%s/%s", realpath(dir, canon) ? canon : dir,
			     TDC_AGENT_MODULE_FILE) >= n)
		out[0] = '\0';
}

/*
 * The first of the two places that holds the module into @out; true if one
 * does.  Else @out is the first place (so that dlopen's error names a path)
 * and @other the second.  A module that is there but does not load is an
 * error, never a reason to try the next place.
 */
static bool module_path(char *out, size_t n, const char **other)
{
	static const char configured[] = TDC_AGENT_MODULE_DIR "/" TDC_AGENT_MODULE_FILE;

	beside_binary(out, n);
	*other = configured;
	if (out[0] && access(out, F_OK) == 0)
		return true;
	if (access(configured, F_OK) == 0) {
		snprintf(out, n, "%s", configured);
		return true;
	}
	if (!out[0])
		snprintf(out, n, "%s", configured);
	return false;
}

static const struct tdc_agent_module *load(const char *sub)
{
	char path[PATH_MAX + 64];
	const char *other, *e;
	bool found = module_path(path, sizeof(path), &other);
	const struct tdc_agent_module *m;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		e = dlerror();
		fprintf(stderr, "%s %s: cannot load the agent's crypto module: %s", tdc_prog, sub,
			e ? e : path);
		if (!found && strcmp(path, other))
			fprintf(stderr, " (nor found at %s)", other);
		fputc('\n', stderr);
		return NULL;
	}
	if (!(m = dlsym(h, TDC_AGENT_MODULE_SYMBOL))) {
		e = dlerror();
		fprintf(stderr, "%s %s: %s is not the agent's crypto module: %s\n", tdc_prog, sub,
			path, e ? e : "no " TDC_AGENT_MODULE_SYMBOL);
		return NULL;
	}
	/* The rest of the table is read only once its layout is known to be ours. */
	if (m->abi != TDC_AGENT_MODULE_ABI) {
		fprintf(stderr, "%s %s: %s is from another build (module ABI %u, the agent's %u)\n",
			tdc_prog, sub, path, m->abi, TDC_AGENT_MODULE_ABI);
		return NULL;
	}
	if (!m->version || strcmp(m->version, TDC_VERSION) || !m->main) {
		fprintf(stderr, "%s %s: %s is from another build (version %s, the agent's %s)\n",
			tdc_prog, sub, path, m->version ? m->version : "?", TDC_VERSION);
		return NULL;
	}
	return m; /* the handle stays open for the rest of the process */
}

int tdc_agent_module_main(int argc, char *argv[])
{
	const char *sub = argc > 0 ? argv[0] : "?";
	const struct tdc_agent_module *m;

	if (!saved_argv) { /* main() did not keep its argv: a bug, say so */
		fprintf(stderr, "%s %s: the agent's argv was not kept for its module\n",
			tdc_prog, sub);
		return TDC_EXIT_INTERNAL;
	}
	if (!(m = load(sub)))
		return TDC_EXIT_INTERNAL;
	return m->main(saved_argc, saved_argv);
}
