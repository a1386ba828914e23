/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one data directory (policies, models, trust anchors) of every tdcpuid
 * tool.  It is, first match wins:
 *   1. an explicit directory: the @flag_dir argument, else the tool's
 *      global `--datadir DIR` option (tdc_data_dir_set);
 *   2. the environment variable TDCPUID_DATADIR;
 *   3. the directory fixed when the project was configured
 *      (${CMAKE_INSTALL_FULL_DATADIR}/tdcpuid, e.g. /usr/share/tdcpuid).
 * Only absolute directories without ".." components are accepted (refused:
 * TDC_ERR_USAGE, exit 2), and nothing is ever looked up
 * relative to the working directory: a verifier started from an attacker's
 * directory must not pick up that directory's trust anchor.  A build-tree
 * run is no exception: the test suite sets TDCPUID_DATADIR to the source
 * tree's policies/ (tests/CMakeLists.txt).
 */
#ifndef TDCPUID_DATADIR_H
#define TDCPUID_DATADIR_H

#include <stddef.h>

#define TDC_DATADIR_ENV "TDCPUID_DATADIR"

/*
 * Set the process-wide explicit data directory (the `--datadir` option);
 * NULL clears it.  TDC_ERR_USAGE unless @dir is absolute without "..".
 */
int tdc_data_dir_set(const char *dir);

/*
 * The data directory in effect (see above) into @out.  @flag_dir, if not
 * NULL, overrides everything.  @source, if not NULL, receives where the
 * directory came from ("--datadir option", "TDCPUID_DATADIR environment
 * variable", "configured default") for messages.  TDC_ERR_USAGE if the chosen
 * value is not absolute or has a ".." component.
 */
int tdc_data_dir(char *out, size_t n, const char *flag_dir, const char **source);

/*
 * <data directory>/<relative> into @out, for a file or directory that must
 * exist and be readable.  @relative is a plain relative path without ".."
 * (else TDC_ERR_USAGE).
 * On failure the error detail names the path searched and where the data
 * directory came from, so "trust anchor not found" says where it looked.
 */
int tdc_data_path(char *out, size_t n, const char *relative, const char *flag_dir);

#endif
