/* SPDX-License-Identifier: Apache-2.0 */
/*
 * /dev/tdx_guest uapi: the system's <linux/tdx-guest.h> when it exists,
 * else a copy of the public constants and struct (Linux
 * include/uapi/linux/tdx-guest.h).
 * Build machines often carry kernel headers older than the TDX guest driver.
 *
 * Define TDC_FORCE_TDX_GUEST_COMPAT to use the copy even when the system
 * header exists (the test does, so the copy is checked everywhere).
 */
#ifndef TDCPUID_TDX_GUEST_COMPAT_H
#define TDCPUID_TDX_GUEST_COMPAT_H

#if !defined(TDC_FORCE_TDX_GUEST_COMPAT) && defined(__has_include)
#if __has_include(<linux/tdx-guest.h>)
#include <linux/tdx-guest.h>
#define TDC_HAVE_SYSTEM_TDX_GUEST_H 1
#endif
#endif

#ifndef TDC_HAVE_SYSTEM_TDX_GUEST_H
#include <linux/ioctl.h>
#include <linux/types.h>

/* Same replacement lists as the uapi header and tdcpuid/tdx.h. */
#define TDX_REPORTDATA_LEN 64
#define TDX_REPORT_LEN 1024

/* Input: REPORTDATA (TD-chosen); output: TDREPORT_STRUCT (tdx-abi.md §5). */
struct tdx_report_req {
	__u8 reportdata[TDX_REPORTDATA_LEN];
	__u8 tdreport[TDX_REPORT_LEN];
};

/* Returns 0 on success, -EIO on TDCALL failure, other errnos (§1). */
#define TDX_CMD_GET_REPORT0 _IOWR('T', 1, struct tdx_report_req)
#endif

_Static_assert(sizeof(struct tdx_report_req) == 1088,
	       "struct tdx_report_req is 64 + 1024 bytes (tdx-abi.md §1)");
#if defined(__x86_64__)
_Static_assert(TDX_CMD_GET_REPORT0 == 0xC4405401u,
	       "TDX_CMD_GET_REPORT0 is 0xC4405401 on x86-64 (tdx-abi.md §1)");
#endif

#endif
