// SPDX-License-Identifier: MIT
#include "conform.h"
#include "tdcpuid/error.h"
int tdc_conform_linux(const struct tdc_conform_opts *o, struct tdc_conform_run *run)
{
	return tdc_err(TDC_ERR_UNSUPPORTED, "linux backend: not implemented yet");
}
