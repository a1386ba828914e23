/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tdcpuid-conform's helpers: the multiboot guest (qemu backend), the kernel
 * fetcher and the initramfs builder (linux backend).  They live in one
 * directory, like the data directory (tdcpuid/datadir.h) chosen once:
 * $TDCPUID_LIBEXECDIR, else the directory fixed at configure time
 * (<libexecdir>/tdcpuid), absolute only.  A build tree has the same layout
 * in <build>/libexec/tdcpuid (links to the scripts and the built guest);
 * the tests name it through the variable.
 */
#ifndef TDC_CONFORM_HELPERS_H
#define TDC_CONFORM_HELPERS_H

#include <stddef.h>

#define TDC_LIBEXECDIR_ENV "TDCPUID_LIBEXECDIR"
#define TDC_HELPER_GUEST "tdcpuid-conform-guest.elf"
#define TDC_HELPER_FETCH_KERNEL "fetch-kernel"
#define TDC_HELPER_BUILD_INITRAMFS "build-initramfs"

/*
 * <helper directory>/<name> into @out.  Fails unless it exists; the error
 * names the path and where the directory came from.
 */
int tdc_conform_helper(char *out, size_t n, const char *name);

#endif
