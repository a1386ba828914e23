// SPDX-License-Identifier: Apache-2.0
/* Collateral options shared by quote, check and collateral (coll_cli.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "coll_cli.h"
#include "http.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"

int tdc_coll_cli_opt(struct tdc_coll_source_opts *o, int opt, const char *arg)
{
	unsigned long long v;

	switch (opt) {
	case TDC_COLL_OPT_SRC:
		o->spec = arg;
		return 0;
	case TDC_COLL_OPT_CACHE:
		o->cache_root = arg;
		return 0;
	case TDC_COLL_OPT_CA:
		o->ca_file = arg;
		return 0;
	case TDC_COLL_OPT_TIMEOUT:
		if (tdc_parse_u64(arg, 3600, &v) != 0 || v == 0)
			return tdc_err(TDC_ERR_USAGE, "--collateral-timeout: 1..3600 seconds, "
				       "got '%s'", arg);
		o->timeout_ms = (unsigned)v * 1000;
		o->connect_timeout_ms = o->timeout_ms < TDC_HTTP_CONNECT_TIMEOUT_MS ?
					o->timeout_ms : TDC_HTTP_CONNECT_TIMEOUT_MS;
		return 0;
	case TDC_COLL_OPT_UPDATE:
		if (tdc_tcb_update_parse(arg, &o->update) != 0)
			return tdc_err_wrap(TDC_ERR_USAGE, "--tcb-update: ");
		return 0;
	default:
		return 1;
	}
}

int tdc_coll_cli_open(const struct tdc_coll_source_opts *o, struct tdc_coll_source **out)
{
	*out = NULL;
	if (!o->spec)
		return 0;
	return tdc_coll_source_open(o, out);
}

int tdc_cli_trust_load(const char *root_arg, const char *anchor, struct tdc_trust **out)
{
	char abs[PATH_MAX];

	if (root_arg && root_arg[0] != '/') {
		if (!realpath(root_arg, abs))
			return tdc_err(TDC_ERR_NOT_FOUND, "--root %s: trust anchor not found", root_arg);
		root_arg = abs;
	}
	return tdc_trust_load(root_arg ? root_arg : anchor, out);
}
