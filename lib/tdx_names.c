// SPDX-License-Identifier: Apache-2.0
/*
 * Names of TD ATTRIBUTES and XFAM bits, as data.
 *
 * ATTRIBUTES: Intel TDX Module ABI spec, TD_PARAMS.ATTRIBUTES (Linux
 * arch/x86/include/asm/shared/tdx.h).  XFAM uses the XCR0/IA32_XSS state
 * component numbering (Intel SDM vol. 1 ch. 13; QEMU target/i386/kvm/tdx.c).
 */
#include <stdio.h>
#include <string.h>

#include "tdcpuid/tdx.h"

static const struct tdx_bitname attribute_names[] = {
	{ 0, "DEBUG", "debug TD: host can read and write TD state (not trustworthy)" },
	{ 4, "HGS_PLUS_PROF", "HGS+ profiling" },
	{ 5, "PERF_PROF", "performance profiling" },
	{ 6, "PMT_PROF", "PMT profiling" },
	{ 16, "ICSSD", "in-TD CSSD" },
	{ 27, "LASS", "linear address space separation (CPUID.7.1:EAX[6])" },
	{ 28, "SEPT_VE_DISABLE", "no #VE on pending secure-EPT pages" },
	{ 29, "MIGRATABLE", "TD may be migrated" },
	{ 30, "PKS", "protection keys for supervisor pages (CPUID.7.0:ECX[31])" },
	{ 31, "KL", "Key Locker (CPUID.7.0:ECX[23])" },
	{ 62, "TPA", "TPA" },
	{ 63, "PERFMON", "PMU passthrough" },
};

static const struct tdx_bitname xfam_names[] = {
	{ 0, "FP", "x87 state" },
	{ 1, "SSE", "SSE state (XMM, MXCSR)" },
	{ 2, "YMM", "AVX upper halves of YMM" },
	{ 3, "BNDREGS", "MPX bound registers" },
	{ 4, "BNDCSR", "MPX BNDCFGU/BNDSTATUS" },
	{ 5, "OPMASK", "AVX-512 opmask k0-k7" },
	{ 6, "ZMM_Hi256", "AVX-512 upper halves of ZMM0-15" },
	{ 7, "Hi16_ZMM", "AVX-512 ZMM16-31" },
	{ 8, "PT", "Processor Trace (XSS)" },
	{ 9, "PKRU", "protection keys (PKU)" },
	{ 10, "PASID", "PASID (XSS)" },
	{ 11, "CET_U", "CET user state (XSS)" },
	{ 12, "CET_S", "CET supervisor state (XSS)" },
	{ 13, "HDC", "hardware duty cycling (XSS)" },
	{ 14, "UINTR", "user interrupts (XSS)" },
	{ 15, "LBR", "architectural LBR (XSS)" },
	{ 16, "HWP", "hardware P-states (XSS)" },
	{ 17, "XTILE_CFG", "AMX TILECFG" },
	{ 18, "XTILE_DATA", "AMX TILEDATA" },
	{ 19, "APX", "APX extended GPRs" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const struct tdx_bitname *tdx_attribute_names(size_t *n)
{
	*n = ARRAY_LEN(attribute_names);
	return attribute_names;
}

const struct tdx_bitname *tdx_xfam_names(size_t *n)
{
	*n = ARRAY_LEN(xfam_names);
	return xfam_names;
}

/* Append "|name" (or "name" first) to @buf without overflowing it. */
static void append(char *buf, size_t len, size_t *used, const char *s)
{
	int n = snprintf(buf + *used, len - *used, "%s%s", *used ? "|" : "", s);

	if (n > 0)
		*used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

static const char *bits_str(uint64_t v, const struct tdx_bitname *tab, size_t ntab,
			    char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!v) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = NULL;
		char tmp[8];

		if (!(v >> bit & 1))
			continue;
		for (size_t i = 0; i < ntab; i++)
			if (tab[i].bit == bit)
				name = tab[i].name;
		if (!name) {
			snprintf(tmp, sizeof(tmp), "bit%u", bit);
			name = tmp;
		}
		append(buf, len, &used, name);
	}
	return buf;
}

const char *tdx_attributes_str(uint64_t attrs, char *buf, size_t len)
{
	return bits_str(attrs, attribute_names, ARRAY_LEN(attribute_names), buf, len);
}

const char *tdx_xfam_str(uint64_t xfam, char *buf, size_t len)
{
	return bits_str(xfam, xfam_names, ARRAY_LEN(xfam_names), buf, len);
}

static const struct tdx_bitname report_warning_names[] = {
	{ 0, "subtype", "report subtype is not 0" },
	{ 1, "mac-reserved", "reserved bytes of REPORTMACSTRUCT are set" },
	{ 2, "tcb-reserved", "reserved bytes of TEE_TCB_INFO are set" },
	{ 3, "tdinfo-reserved", "reserved bytes of TDINFO are set" },
	{ 4, "seam-attributes", "SEAM attributes non-zero (MBZ in TDX 1.0)" },
};

const char *tdx_report_warnings_str(uint32_t warnings, char *buf, size_t len)
{
	return bits_str(warnings, report_warning_names, ARRAY_LEN(report_warning_names),
			buf, len);
}
