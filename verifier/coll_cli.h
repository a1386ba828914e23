/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collateral options every subcommand that appraises a quote shares
 * (quote, check, collateral): one parser, one help text.
 */
#ifndef TDC_COLL_CLI_H
#define TDC_COLL_CLI_H

#include <getopt.h>

#include "coll_source.h"
#include "trust.h"

#define TDC_COLL_CLI_HELP                                                                    \
	"  --collateral SRC         Intel collateral: a directory (or file://DIR) of TCB info,\n" \
	"                           QE identity, CRLs and issuer chains, or the URL of Intel's\n"\
	"                           PCS (https://api.trustedservices.intel.com) or of a PCCS:\n" \
	"                           documents are fetched, verified and cached (see\n"          \
	"                           `collateral --help`)\n"                                       \
	"  --collateral-cache DIR   cache of a URL source (default\n"                            \
	"                           $XDG_CACHE_HOME/tdcpuid/collateral or ~/.cache/...)\n"        \
	"  --collateral-ca PEM      CA certificates for https to a PCCS with its own CA\n"        \
	"  --collateral-timeout S   per request, seconds (default 20)\n"                          \
	"  --tcb-update TYPE        standard (default) or early TCB evaluation data\n"

enum {
	TDC_COLL_OPT_SRC = 0x1000,
	TDC_COLL_OPT_CACHE,
	TDC_COLL_OPT_CA,
	TDC_COLL_OPT_TIMEOUT,
	TDC_COLL_OPT_UPDATE,
};

#define TDC_COLL_CLI_LONGOPTS                                                   \
	{ "collateral", required_argument, NULL, TDC_COLL_OPT_SRC },              \
	{ "collateral-cache", required_argument, NULL, TDC_COLL_OPT_CACHE },      \
	{ "collateral-ca", required_argument, NULL, TDC_COLL_OPT_CA },            \
	{ "collateral-timeout", required_argument, NULL, TDC_COLL_OPT_TIMEOUT },  \
	{ "tcb-update", required_argument, NULL, TDC_COLL_OPT_UPDATE }

/* 1: @opt is not a collateral option; 0: taken; negative: bad value. */
int tdc_coll_cli_opt(struct tdc_coll_source_opts *o, int opt, const char *arg);
/* Open the source named by --collateral (NULL if none was given). */
int tdc_coll_cli_open(const struct tdc_coll_source_opts *o, struct tdc_coll_source **out);

/*
 * The trust anchor of a subcommand, loaded once: --root @root_arg (made
 * absolute: the user named it), else @anchor (a policy's, already
 * absolute), else the data directory's Intel root; with its TD QE identity.
 */
int tdc_cli_trust_load(const char *root_arg, const char *anchor, struct tdc_trust **out);

#endif
