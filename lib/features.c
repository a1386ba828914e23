// SPDX-License-Identifier: Apache-2.0
/*
 * Feature-name database: one row per named CPUID bit, plus the project-wide
 * message form of a bit ("CPUID.01H:ECX.tsc-deadline [bit 24]", the form
 * QEMU's "host doesn't support requested feature" warnings use).
 *
 * Sources (names are facts; no code copied):
 *   Q  QEMU target/i386/cpu.c feature_word_info[].feat_names,
 *      qemu/qemu @ 0048035a870312f2fd0f3dd28115398d26e419bb (FEAT_1_EDX,
 *      FEAT_1_ECX, FEAT_6_EAX, FEAT_7_0_*, FEAT_7_1_*, FEAT_7_2_EDX,
 *      FEAT_XSAVE, FEAT_14_0_ECX[31], FEAT_24_0_EBX, FEAT_8000_0001_*,
 *      FEAT_8000_0007_*, FEAT_8000_0008_EBX, FEAT_8000_0021_EAX);
 *      qemu-devel patches "i386/cpu: Add Intel PT feature words" (FEAT_14_0_EBX,
 *      FEAT_14_0_ECX[0..3]) and "i386/cpu: Add AMX CPUID 0x1E.1" (FEAT_1E_1_EAX).
 *   L  Linux arch/x86/include/asm/cpufeatures.h: the /proc/cpuinfo name, given
 *      in the second column only where it differs from the QEMU name after
 *      folding '_' to '-' (tdc_feature_by_name accepts both).
 *   K  Linux tools/arch/x86/kcpuid/cpuid.csv (x86-cpuid-db v1.0),
 *      torvalds/linux @ 25768de50b1f: for bits QEMU has no name for
 *      (OSXSAVE, OSPKE, leaf 6, 0x19, 0xD.1 ECX, 0x8000001F, ...), the
 *      kcpuid short name in QEMU spelling ('-'), marked K.
 * Rows are sorted by (leaf, subleaf, reg, bit); tests/test_features.c checks
 * that and that no (leaf, subleaf, reg, bit) or name within a leaf repeats.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"

#define F(l, s, r, b, q, lx) { l, s, TDC_##r, b, q, lx }

static const struct tdc_feature features[] = {
	/* CPUID.01H:ECX (Q, L) */
	F(0x1, 0, ECX, 0, "pni", NULL),
	F(0x1, 0, ECX, 1, "pclmulqdq", NULL),
	F(0x1, 0, ECX, 2, "dtes64", NULL),
	F(0x1, 0, ECX, 3, "monitor", NULL),
	F(0x1, 0, ECX, 4, "ds-cpl", NULL),
	F(0x1, 0, ECX, 5, "vmx", NULL),
	F(0x1, 0, ECX, 6, "smx", NULL),
	F(0x1, 0, ECX, 7, "est", NULL),
	F(0x1, 0, ECX, 8, "tm2", NULL),
	F(0x1, 0, ECX, 9, "ssse3", NULL),
	F(0x1, 0, ECX, 10, "cid", NULL),
	F(0x1, 0, ECX, 11, "sdbg", NULL), /* K */
	F(0x1, 0, ECX, 12, "fma", NULL),
	F(0x1, 0, ECX, 13, "cx16", NULL),
	F(0x1, 0, ECX, 14, "xtpr", NULL),
	F(0x1, 0, ECX, 15, "pdcm", NULL),
	F(0x1, 0, ECX, 17, "pcid", NULL),
	F(0x1, 0, ECX, 18, "dca", NULL),
	F(0x1, 0, ECX, 19, "sse4.1", "sse4_1"),
	F(0x1, 0, ECX, 20, "sse4.2", "sse4_2"),
	F(0x1, 0, ECX, 21, "x2apic", NULL),
	F(0x1, 0, ECX, 22, "movbe", NULL),
	F(0x1, 0, ECX, 23, "popcnt", NULL),
	F(0x1, 0, ECX, 24, "tsc-deadline", "tsc_deadline_timer"),
	F(0x1, 0, ECX, 25, "aes", NULL),
	F(0x1, 0, ECX, 26, "xsave", NULL),
	F(0x1, 0, ECX, 27, "osxsave", NULL), /* K: QEMU treats it as dynamic, unnamed */
	F(0x1, 0, ECX, 28, "avx", NULL),
	F(0x1, 0, ECX, 29, "f16c", NULL),
	F(0x1, 0, ECX, 30, "rdrand", NULL),
	F(0x1, 0, ECX, 31, "hypervisor", NULL),
	/* CPUID.01H:EDX (Q, L) */
	F(0x1, 0, EDX, 0, "fpu", NULL),
	F(0x1, 0, EDX, 1, "vme", NULL),
	F(0x1, 0, EDX, 2, "de", NULL),
	F(0x1, 0, EDX, 3, "pse", NULL),
	F(0x1, 0, EDX, 4, "tsc", NULL),
	F(0x1, 0, EDX, 5, "msr", NULL),
	F(0x1, 0, EDX, 6, "pae", NULL),
	F(0x1, 0, EDX, 7, "mce", NULL),
	F(0x1, 0, EDX, 8, "cx8", NULL),
	F(0x1, 0, EDX, 9, "apic", NULL),
	F(0x1, 0, EDX, 11, "sep", NULL),
	F(0x1, 0, EDX, 12, "mtrr", NULL),
	F(0x1, 0, EDX, 13, "pge", NULL),
	F(0x1, 0, EDX, 14, "mca", NULL),
	F(0x1, 0, EDX, 15, "cmov", NULL),
	F(0x1, 0, EDX, 16, "pat", NULL),
	F(0x1, 0, EDX, 17, "pse36", NULL),
	F(0x1, 0, EDX, 18, "pn", NULL),
	F(0x1, 0, EDX, 19, "clflush", NULL),
	F(0x1, 0, EDX, 21, "ds", "dts"),
	F(0x1, 0, EDX, 22, "acpi", NULL),
	F(0x1, 0, EDX, 23, "mmx", NULL),
	F(0x1, 0, EDX, 24, "fxsr", NULL),
	F(0x1, 0, EDX, 25, "sse", NULL),
	F(0x1, 0, EDX, 26, "sse2", NULL),
	F(0x1, 0, EDX, 27, "ss", NULL),
	F(0x1, 0, EDX, 28, "ht", NULL),
	F(0x1, 0, EDX, 29, "tm", NULL),
	F(0x1, 0, EDX, 30, "ia64", NULL),
	F(0x1, 0, EDX, 31, "pbe", NULL),
	/* CPUID.06H: thermal and power (Q: arat only; rest K, L) */
	F(0x6, 0, EAX, 0, "dtherm", NULL),
	F(0x6, 0, EAX, 1, "ida", NULL),
	F(0x6, 0, EAX, 2, "arat", NULL),
	F(0x6, 0, EAX, 4, "pln", NULL),
	F(0x6, 0, EAX, 5, "ecmd", NULL),
	F(0x6, 0, EAX, 6, "pts", NULL),
	F(0x6, 0, EAX, 7, "hwp", NULL),
	F(0x6, 0, EAX, 8, "hwp-notify", NULL),
	F(0x6, 0, EAX, 9, "hwp-act-window", NULL),
	F(0x6, 0, EAX, 10, "hwp-epp", NULL),
	F(0x6, 0, EAX, 11, "hwp-pkg-req", NULL),
	F(0x6, 0, EAX, 13, "hdc", NULL),
	F(0x6, 0, EAX, 14, "turbo-boost-3-0", NULL),
	F(0x6, 0, EAX, 19, "hfi", NULL),
	F(0x6, 0, EAX, 23, "thread-director", NULL),
	F(0x6, 0, ECX, 0, "aperfmperf", NULL),
	F(0x6, 0, ECX, 3, "epb", NULL),
	/* CPUID.07H.0:EBX (Q, L) */
	F(0x7, 0, EBX, 0, "fsgsbase", NULL),
	F(0x7, 0, EBX, 1, "tsc-adjust", NULL),
	F(0x7, 0, EBX, 2, "sgx", NULL),
	F(0x7, 0, EBX, 3, "bmi1", NULL),
	F(0x7, 0, EBX, 4, "hle", NULL),
	F(0x7, 0, EBX, 5, "avx2", NULL),
	F(0x7, 0, EBX, 6, "fdp-excptn-only", NULL),
	F(0x7, 0, EBX, 7, "smep", NULL),
	F(0x7, 0, EBX, 8, "bmi2", NULL),
	F(0x7, 0, EBX, 9, "erms", NULL),
	F(0x7, 0, EBX, 10, "invpcid", NULL),
	F(0x7, 0, EBX, 11, "rtm", NULL),
	F(0x7, 0, EBX, 12, "cqm", NULL), /* K */
	F(0x7, 0, EBX, 13, "zero-fcs-fds", NULL),
	F(0x7, 0, EBX, 14, "mpx", NULL),
	F(0x7, 0, EBX, 15, "rdt-a", NULL), /* K */
	F(0x7, 0, EBX, 16, "avx512f", NULL),
	F(0x7, 0, EBX, 17, "avx512dq", NULL),
	F(0x7, 0, EBX, 18, "rdseed", NULL),
	F(0x7, 0, EBX, 19, "adx", NULL),
	F(0x7, 0, EBX, 20, "smap", NULL),
	F(0x7, 0, EBX, 21, "avx512ifma", NULL),
	F(0x7, 0, EBX, 22, "pcommit", NULL),
	F(0x7, 0, EBX, 23, "clflushopt", NULL),
	F(0x7, 0, EBX, 24, "clwb", NULL),
	F(0x7, 0, EBX, 25, "intel-pt", NULL),
	F(0x7, 0, EBX, 26, "avx512pf", NULL),
	F(0x7, 0, EBX, 27, "avx512er", NULL),
	F(0x7, 0, EBX, 28, "avx512cd", NULL),
	F(0x7, 0, EBX, 29, "sha-ni", NULL),
	F(0x7, 0, EBX, 30, "avx512bw", NULL),
	F(0x7, 0, EBX, 31, "avx512vl", NULL),
	/* CPUID.07H.0:ECX (Q, L) */
	F(0x7, 0, ECX, 0, "prefetchwt1", NULL), /* K */
	F(0x7, 0, ECX, 1, "avx512vbmi", NULL),
	F(0x7, 0, ECX, 2, "umip", NULL),
	F(0x7, 0, ECX, 3, "pku", NULL),
	F(0x7, 0, ECX, 4, "ospke", NULL), /* K: QEMU treats it as dynamic, unnamed */
	F(0x7, 0, ECX, 5, "waitpkg", NULL),
	F(0x7, 0, ECX, 6, "avx512vbmi2", "avx512_vbmi2"),
	F(0x7, 0, ECX, 7, "cet-ss", "shstk"),
	F(0x7, 0, ECX, 8, "gfni", NULL),
	F(0x7, 0, ECX, 9, "vaes", NULL),
	F(0x7, 0, ECX, 10, "vpclmulqdq", NULL),
	F(0x7, 0, ECX, 11, "avx512vnni", "avx512_vnni"),
	F(0x7, 0, ECX, 12, "avx512bitalg", "avx512_bitalg"),
	F(0x7, 0, ECX, 13, "tme", NULL), /* K */
	F(0x7, 0, ECX, 14, "avx512-vpopcntdq", NULL),
	F(0x7, 0, ECX, 16, "la57", NULL),
	F(0x7, 0, ECX, 22, "rdpid", NULL),
	F(0x7, 0, ECX, 23, "key-locker", NULL), /* K */
	F(0x7, 0, ECX, 24, "bus-lock-detect", NULL),
	F(0x7, 0, ECX, 25, "cldemote", NULL),
	F(0x7, 0, ECX, 27, "movdiri", NULL),
	F(0x7, 0, ECX, 28, "movdir64b", NULL),
	F(0x7, 0, ECX, 29, "enqcmd", NULL), /* K */
	F(0x7, 0, ECX, 30, "sgxlc", "sgx_lc"),
	F(0x7, 0, ECX, 31, "pks", NULL),
	/* CPUID.07H.0:EDX (Q, L) */
	F(0x7, 0, EDX, 2, "avx512-4vnniw", NULL),
	F(0x7, 0, EDX, 3, "avx512-4fmaps", NULL),
	F(0x7, 0, EDX, 4, "fsrm", NULL),
	F(0x7, 0, EDX, 5, "uintr", NULL), /* K */
	F(0x7, 0, EDX, 8, "avx512-vp2intersect", NULL),
	F(0x7, 0, EDX, 9, "srbds-ctrl", NULL), /* K */
	F(0x7, 0, EDX, 10, "md-clear", NULL),
	F(0x7, 0, EDX, 11, "rtm-always-abort", NULL), /* K */
	F(0x7, 0, EDX, 13, "tsx-force-abort", NULL), /* K */
	F(0x7, 0, EDX, 14, "serialize", NULL),
	F(0x7, 0, EDX, 15, "hybrid-cpu", NULL), /* K */
	F(0x7, 0, EDX, 16, "tsx-ldtrk", "tsxldtrk"),
	F(0x7, 0, EDX, 18, "pconfig", NULL), /* K: QEMU comments it out */
	F(0x7, 0, EDX, 19, "arch-lbr", NULL),
	F(0x7, 0, EDX, 20, "cet-ibt", "ibt"),
	F(0x7, 0, EDX, 22, "amx-bf16", NULL),
	F(0x7, 0, EDX, 23, "avx512-fp16", NULL),
	F(0x7, 0, EDX, 24, "amx-tile", NULL),
	F(0x7, 0, EDX, 25, "amx-int8", NULL),
	F(0x7, 0, EDX, 26, "spec-ctrl", NULL),
	F(0x7, 0, EDX, 27, "stibp", "intel_stibp"),
	F(0x7, 0, EDX, 28, "flush-l1d", NULL),
	F(0x7, 0, EDX, 29, "arch-capabilities", NULL),
	F(0x7, 0, EDX, 30, "core-capability", "core_capabilities"),
	F(0x7, 0, EDX, 31, "ssbd", "spec_ctrl_ssbd"),
	/* CPUID.07H.1:EAX (Q, L) */
	F(0x7, 1, EAX, 0, "sha512", NULL),
	F(0x7, 1, EAX, 1, "sm3", NULL),
	F(0x7, 1, EAX, 2, "sm4", NULL),
	F(0x7, 1, EAX, 4, "avx-vnni", NULL),
	F(0x7, 1, EAX, 5, "avx512-bf16", NULL),
	F(0x7, 1, EAX, 6, "lass", NULL), /* K */
	F(0x7, 1, EAX, 7, "cmpccxadd", NULL),
	F(0x7, 1, EAX, 8, "arch-perfmon-ext", NULL), /* K */
	F(0x7, 1, EAX, 10, "fzrm", NULL),
	F(0x7, 1, EAX, 11, "fsrs", NULL),
	F(0x7, 1, EAX, 12, "fsrc", NULL),
	F(0x7, 1, EAX, 17, "fred", NULL),
	F(0x7, 1, EAX, 18, "lkgs", NULL),
	F(0x7, 1, EAX, 19, "wrmsrns", NULL),
	F(0x7, 1, EAX, 21, "amx-fp16", NULL),
	F(0x7, 1, EAX, 22, "hreset", NULL), /* K */
	F(0x7, 1, EAX, 23, "avx-ifma", NULL),
	F(0x7, 1, EAX, 26, "lam", NULL),
	F(0x7, 1, EAX, 27, "msrlist", NULL), /* K rd_wr_msrlist */
	/* CPUID.07H.1:EDX (Q, L) */
	F(0x7, 1, EDX, 4, "avx-vnni-int8", NULL),
	F(0x7, 1, EDX, 5, "avx-ne-convert", NULL),
	F(0x7, 1, EDX, 8, "amx-complex", NULL),
	F(0x7, 1, EDX, 10, "avx-vnni-int16", NULL),
	F(0x7, 1, EDX, 14, "prefetchiti", NULL),
	F(0x7, 1, EDX, 18, "cet-sss", NULL), /* K */
	F(0x7, 1, EDX, 19, "avx10", NULL),
	/* CPUID.07H.2:EDX (Q, L) */
	F(0x7, 2, EDX, 0, "intel-psfd", NULL),
	F(0x7, 2, EDX, 1, "ipred-ctrl", NULL),
	F(0x7, 2, EDX, 2, "rrsba-ctrl", NULL),
	F(0x7, 2, EDX, 3, "ddpd-u", NULL),
	F(0x7, 2, EDX, 4, "bhi-ctrl", NULL),
	F(0x7, 2, EDX, 5, "mcdt-no", NULL),
	F(0x7, 2, EDX, 6, "uclock-disable", NULL), /* K */
	/* CPUID.0DH.1:EAX (Q), ECX = IA32_XSS components (K) */
	F(0xd, 1, EAX, 0, "xsaveopt", NULL),
	F(0xd, 1, EAX, 1, "xsavec", NULL),
	F(0xd, 1, EAX, 2, "xgetbv1", NULL),
	F(0xd, 1, EAX, 3, "xsaves", NULL),
	F(0xd, 1, EAX, 4, "xfd", NULL),
	F(0xd, 1, ECX, 8, "xss-pt", NULL),
	F(0xd, 1, ECX, 10, "xss-pasid", NULL),
	F(0xd, 1, ECX, 11, "xss-cet-u", NULL),
	F(0xd, 1, ECX, 12, "xss-cet-s", NULL),
	F(0xd, 1, ECX, 13, "xss-hdc", NULL),
	F(0xd, 1, ECX, 14, "xss-uintr", NULL),
	F(0xd, 1, ECX, 15, "xss-lbr", NULL),
	F(0xd, 1, ECX, 16, "xss-hwp", NULL),
	/* CPUID.14H.0: Intel PT (Q patch; EBX[0..4] K with QEMU's prefix) */
	F(0x14, 0, EBX, 0, "intel-pt-cr3-filter", NULL),
	F(0x14, 0, EBX, 1, "intel-pt-psb-cyc", NULL),
	F(0x14, 0, EBX, 2, "intel-pt-ip-filter", NULL),
	F(0x14, 0, EBX, 3, "intel-pt-mtc", NULL),
	F(0x14, 0, EBX, 4, "intel-pt-ptwrite", NULL),
	F(0x14, 0, EBX, 5, "intel-pt-power-event", NULL),
	F(0x14, 0, EBX, 6, "intel-pt-psb-pmi-preservation", NULL),
	F(0x14, 0, EBX, 7, "intel-pt-event-trace", NULL),
	F(0x14, 0, EBX, 8, "intel-pt-tnt-disable", NULL),
	F(0x14, 0, ECX, 0, "intel-pt-topa", NULL),
	F(0x14, 0, ECX, 1, "intel-pt-multi-topa-entries", NULL),
	F(0x14, 0, ECX, 2, "intel-pt-single-range", NULL),
	F(0x14, 0, ECX, 3, "intel-pt-trace-transport-subsystem", NULL),
	F(0x14, 0, ECX, 31, "intel-pt-lip", NULL),
	/* CPUID.19H: Key Locker (K) */
	F(0x19, 0, EAX, 0, "kl-cpl0-only", NULL),
	F(0x19, 0, EAX, 1, "kl-no-encrypt", NULL),
	F(0x19, 0, EAX, 2, "kl-no-decrypt", NULL),
	F(0x19, 0, EBX, 0, "aes-keylocker", NULL),
	F(0x19, 0, EBX, 2, "aes-keylocker-wide", NULL),
	F(0x19, 0, EBX, 4, "kl-msr-iwkey", NULL),
	F(0x19, 0, ECX, 0, "loadiwkey-no-backup", NULL),
	F(0x19, 0, ECX, 1, "iwkey-rand", NULL),
	/* CPUID.1EH.1:EAX: AMX feature flags (Q patch) */
	F(0x1e, 1, EAX, 0, "amx-int8-mirror", NULL),
	F(0x1e, 1, EAX, 1, "amx-bf16-mirror", NULL),
	F(0x1e, 1, EAX, 2, "amx-complex-mirror", NULL),
	F(0x1e, 1, EAX, 3, "amx-fp16-mirror", NULL),
	F(0x1e, 1, EAX, 4, "amx-fp8", NULL),
	F(0x1e, 1, EAX, 6, "amx-tf32", NULL),
	F(0x1e, 1, EAX, 7, "amx-avx512", NULL),
	F(0x1e, 1, EAX, 8, "amx-movrs", NULL),
	/* CPUID.24H.0:EBX: AVX10 vector lengths (Q) */
	F(0x24, 0, EBX, 16, "avx10-128", NULL),
	F(0x24, 0, EBX, 17, "avx10-256", NULL),
	F(0x24, 0, EBX, 18, "avx10-512", NULL),
	/* CPUID.80000001H:ECX (Q, L) */
	F(0x80000001, 0, ECX, 0, "lahf-lm", NULL),
	F(0x80000001, 0, ECX, 1, "cmp-legacy", NULL),
	F(0x80000001, 0, ECX, 2, "svm", NULL),
	F(0x80000001, 0, ECX, 3, "extapic", NULL),
	F(0x80000001, 0, ECX, 4, "cr8legacy", "cr8_legacy"),
	F(0x80000001, 0, ECX, 5, "abm", NULL),
	F(0x80000001, 0, ECX, 6, "sse4a", NULL),
	F(0x80000001, 0, ECX, 7, "misalignsse", NULL),
	F(0x80000001, 0, ECX, 8, "3dnowprefetch", NULL),
	F(0x80000001, 0, ECX, 9, "osvw", NULL),
	F(0x80000001, 0, ECX, 10, "ibs", NULL),
	F(0x80000001, 0, ECX, 11, "xop", NULL),
	F(0x80000001, 0, ECX, 12, "skinit", NULL),
	F(0x80000001, 0, ECX, 13, "wdt", NULL),
	F(0x80000001, 0, ECX, 15, "lwp", NULL),
	F(0x80000001, 0, ECX, 16, "fma4", NULL),
	F(0x80000001, 0, ECX, 17, "tce", NULL),
	F(0x80000001, 0, ECX, 19, "nodeid-msr", NULL),
	F(0x80000001, 0, ECX, 21, "tbm", NULL),
	F(0x80000001, 0, ECX, 22, "topoext", NULL),
	F(0x80000001, 0, ECX, 23, "perfctr-core", NULL),
	F(0x80000001, 0, ECX, 24, "perfctr-nb", NULL),
	F(0x80000001, 0, ECX, 26, "bpext", NULL), /* K */
	F(0x80000001, 0, ECX, 27, "ptsc", NULL), /* K */
	F(0x80000001, 0, ECX, 28, "perfctr-llc", NULL), /* K */
	F(0x80000001, 0, ECX, 29, "mwaitx", NULL), /* K */
	/*
	 * CPUID.80000001H:EDX (Q).  Bits that alias CPUID.01H:EDX on AMD (fpu,
	 * vme, ...) are unnamed in QEMU too, so a name means one bit.
	 */
	F(0x80000001, 0, EDX, 11, "syscall", NULL),
	F(0x80000001, 0, EDX, 19, "mp", NULL), /* K */
	F(0x80000001, 0, EDX, 20, "nx", NULL),
	F(0x80000001, 0, EDX, 22, "mmxext", NULL),
	F(0x80000001, 0, EDX, 25, "fxsr-opt", NULL),
	F(0x80000001, 0, EDX, 26, "pdpe1gb", NULL),
	F(0x80000001, 0, EDX, 27, "rdtscp", NULL),
	F(0x80000001, 0, EDX, 29, "lm", NULL),
	F(0x80000001, 0, EDX, 30, "3dnowext", NULL),
	F(0x80000001, 0, EDX, 31, "3dnow", NULL),
	/* CPUID.80000007H: RAS (Q: EBX 0-1), power management (K, L) */
	F(0x80000007, 0, EBX, 0, "overflow-recov", NULL),
	F(0x80000007, 0, EBX, 1, "succor", NULL),
	F(0x80000007, 0, EBX, 2, "hw-assert", NULL),
	F(0x80000007, 0, EBX, 3, "smca", NULL),
	F(0x80000007, 0, EDX, 0, "digital-temp", NULL),
	F(0x80000007, 0, EDX, 1, "powernow-freq-id", NULL),
	F(0x80000007, 0, EDX, 2, "powernow-volt-id", NULL),
	F(0x80000007, 0, EDX, 3, "thermal-trip", NULL),
	F(0x80000007, 0, EDX, 4, "hw-thermal-control", NULL),
	F(0x80000007, 0, EDX, 5, "sw-thermal-control", NULL),
	F(0x80000007, 0, EDX, 6, "100mhz-steps", NULL),
	F(0x80000007, 0, EDX, 7, "hw-pstate", NULL),
	/* Linux derives constant_tsc and nonstop_tsc from this one bit. */
	F(0x80000007, 0, EDX, 8, "invtsc", "constant_tsc"),
	F(0x80000007, 0, EDX, 9, "cpb", NULL),
	F(0x80000007, 0, EDX, 10, "eff-freq-ro", NULL),
	F(0x80000007, 0, EDX, 11, "proc-feedback", NULL),
	F(0x80000007, 0, EDX, 12, "acc-power", NULL),
	F(0x80000007, 0, EDX, 13, "connected-standby", NULL),
	F(0x80000007, 0, EDX, 14, "rapl", NULL),
	/* CPUID.80000008H:EBX (Q, K for unnamed bits) */
	F(0x80000008, 0, EBX, 0, "clzero", NULL),
	F(0x80000008, 0, EBX, 1, "irperf", NULL),
	F(0x80000008, 0, EBX, 2, "xsaveerptr", NULL),
	F(0x80000008, 0, EBX, 3, "invlpgb", NULL),
	F(0x80000008, 0, EBX, 4, "rdpru", NULL),
	F(0x80000008, 0, EBX, 6, "amd-mba", NULL),
	F(0x80000008, 0, EBX, 8, "mcommit", NULL),
	F(0x80000008, 0, EBX, 9, "wbnoinvd", NULL),
	F(0x80000008, 0, EBX, 12, "ibpb", "amd_ibpb"),
	F(0x80000008, 0, EBX, 13, "wbinvd-int", NULL),
	F(0x80000008, 0, EBX, 14, "ibrs", "amd_ibrs"),
	F(0x80000008, 0, EBX, 15, "amd-stibp", NULL),
	F(0x80000008, 0, EBX, 16, "ibrs-always-on", NULL),
	F(0x80000008, 0, EBX, 17, "stibp-always-on", "amd_stibp_always_on"),
	F(0x80000008, 0, EBX, 18, "ibrs-fast", NULL),
	F(0x80000008, 0, EBX, 19, "ibrs-same-mode", NULL),
	F(0x80000008, 0, EBX, 20, "no-efer-lmsle", NULL),
	F(0x80000008, 0, EBX, 21, "tlb-flush-nested", NULL),
	F(0x80000008, 0, EBX, 23, "amd-ppin", NULL),
	F(0x80000008, 0, EBX, 24, "amd-ssbd", NULL),
	F(0x80000008, 0, EBX, 25, "virt-ssbd", NULL),
	F(0x80000008, 0, EBX, 26, "amd-no-ssb", "amd_ssb_no"),
	F(0x80000008, 0, EBX, 27, "cppc", NULL),
	F(0x80000008, 0, EBX, 28, "amd-psfd", NULL),
	F(0x80000008, 0, EBX, 29, "btc-no", NULL),
	F(0x80000008, 0, EBX, 30, "ibpb-ret", NULL),
	F(0x80000008, 0, EBX, 31, "brs", NULL),
	/* CPUID.8000001FH:EAX: AMD memory encryption (K; QEMU has no feature word) */
	F(0x8000001f, 0, EAX, 0, "sme", NULL),
	F(0x8000001f, 0, EAX, 1, "sev", NULL),
	F(0x8000001f, 0, EAX, 2, "vm-page-flush", NULL),
	F(0x8000001f, 0, EAX, 3, "sev-es", NULL),
	F(0x8000001f, 0, EAX, 4, "sev-snp", "sev_nested_paging"),
	F(0x8000001f, 0, EAX, 5, "vmpl", NULL),
	F(0x8000001f, 0, EAX, 6, "rmpquery", NULL),
	F(0x8000001f, 0, EAX, 7, "vmpl-sss", NULL),
	F(0x8000001f, 0, EAX, 8, "secure-tsc", NULL),
	F(0x8000001f, 0, EAX, 9, "v-tsc-aux", NULL),
	F(0x8000001f, 0, EAX, 10, "sme-coherent", NULL),
	F(0x8000001f, 0, EAX, 11, "req-64bit-hypervisor", NULL),
	F(0x8000001f, 0, EAX, 12, "restricted-injection", NULL),
	F(0x8000001f, 0, EAX, 13, "alternate-injection", NULL),
	F(0x8000001f, 0, EAX, 14, "debug-swap", NULL),
	F(0x8000001f, 0, EAX, 15, "disallow-host-ibs", NULL),
	F(0x8000001f, 0, EAX, 16, "virt-transparent-enc", NULL),
	F(0x8000001f, 0, EAX, 17, "vmgexit-parameter", NULL),
	F(0x8000001f, 0, EAX, 18, "virt-tom-msr", NULL),
	F(0x8000001f, 0, EAX, 19, "virt-ibs", NULL),
	F(0x8000001f, 0, EAX, 24, "vmsa-reg-protection", NULL),
	F(0x8000001f, 0, EAX, 25, "smt-protection", NULL),
	F(0x8000001f, 0, EAX, 28, "svsm-page-msr", NULL),
	F(0x8000001f, 0, EAX, 29, "nested-virt-snp-msr", NULL),
	/* CPUID.80000021H:EAX (Q, K for unnamed bits) */
	F(0x80000021, 0, EAX, 0, "no-nested-data-bp", NULL),
	F(0x80000021, 0, EAX, 1, "fsgs-non-serializing", NULL),
	F(0x80000021, 0, EAX, 2, "lfence-always-serializing", "lfence_rdtsc"),
	F(0x80000021, 0, EAX, 3, "smm-page-cfg-lock", NULL),
	F(0x80000021, 0, EAX, 6, "null-sel-clr-base", NULL),
	F(0x80000021, 0, EAX, 7, "upper-addr-ignore", NULL),
	F(0x80000021, 0, EAX, 8, "auto-ibrs", "autoibrs"),
	F(0x80000021, 0, EAX, 9, "no-smm-ctl-msr", NULL),
	F(0x80000021, 0, EAX, 10, "fsrs-supported", NULL),
	F(0x80000021, 0, EAX, 11, "fsrc-supported", NULL),
	F(0x80000021, 0, EAX, 13, "prefetch-ctl-msr", NULL),
	F(0x80000021, 0, EAX, 17, "user-cpuid-disable", NULL),
	F(0x80000021, 0, EAX, 18, "epsf", NULL),
	F(0x80000021, 0, EAX, 24, "eraps", NULL),
	F(0x80000021, 0, EAX, 27, "sbpb", NULL),
	F(0x80000021, 0, EAX, 28, "ibpb-brtype", NULL),
	F(0x80000021, 0, EAX, 29, "srso-no", NULL),
	F(0x80000021, 0, EAX, 30, "srso-user-kernel-no", NULL),
};

#undef F

const struct tdc_feature *tdc_feature_table(size_t *n)
{
	*n = sizeof(features) / sizeof(features[0]);
	return features;
}

static int key_cmp(const struct tdc_feature *f, uint32_t leaf, uint32_t sub, unsigned reg,
		   unsigned bit)
{
	if (f->leaf != leaf)
		return f->leaf < leaf ? -1 : 1;
	if (f->subleaf != sub)
		return f->subleaf < sub ? -1 : 1;
	if (f->reg != reg)
		return f->reg < reg ? -1 : 1;
	return f->bit < bit ? -1 : f->bit > bit;
}

/* Binary search: the table is sorted (checked by tests/test_features.c). */
const struct tdc_feature *tdc_feature_lookup(uint32_t leaf, uint32_t subleaf,
					     enum tdc_reg reg, unsigned bit)
{
	size_t lo = 0, hi = sizeof(features) / sizeof(features[0]);

	/* Only indexed leaves distinguish subleaves. */
	if (!tdc_leaf_is_indexed(leaf))
		subleaf = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(&features[mid], leaf, subleaf, reg, bit);

		if (c == 0)
			return &features[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Case-insensitive, '_' == '-': "tsc_deadline" matches "tsc-deadline". */
static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);

		if (x == '_')
			x = '-';
		if (y == '_')
			y = '-';
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static bool feature_named(const struct tdc_feature *f, const char *name)
{
	return name_eq(f->qemu_name, name) || (f->linux_name && name_eq(f->linux_name, name));
}

const struct tdc_feature *tdc_feature_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (feature_named(&features[i], name))
			return &features[i];
	return NULL;
}

/* "01H", "07H", "80000001H": QEMU's CPUID.%02XH. */
static const char *leaf_str(char *buf, size_t len, uint32_t leaf)
{
	snprintf(buf, len, "%02XH", leaf);
	return buf;
}

const char *tdc_format_reg(char *buf, size_t len, uint32_t leaf, uint32_t subleaf,
			   bool indexed, enum tdc_reg reg)
{
	char l[16];

	if (indexed)
		snprintf(buf, len, "CPUID.%s.%u:%s", leaf_str(l, sizeof(l), leaf), subleaf,
			 tdc_reg_name(reg));
	else
		snprintf(buf, len, "CPUID.%s:%s", leaf_str(l, sizeof(l), leaf),
			 tdc_reg_name(reg));
	return buf;
}

const char *tdc_format_bit(char *buf, size_t len, uint32_t leaf, uint32_t subleaf,
			   bool indexed, enum tdc_reg reg, unsigned bit)
{
	const struct tdc_feature *f = tdc_feature_lookup(leaf, subleaf, reg, bit);
	char r[48];

	tdc_format_reg(r, sizeof(r), leaf, subleaf, indexed, reg);
	if (f)
		snprintf(buf, len, "%s.%s [bit %u]", r, f->qemu_name, bit);
	else
		snprintf(buf, len, "%s [bit %u]", r, bit);
	return buf;
}

/*
 * tdc_parse_bit grammar (whitespace around tokens allowed):
 *   bit   := name | word [ "." ( name | n ) ] [ "[" [ "bit" ] n "]" ]
 *   word  := [ "CPUID." ] leaf [ "." sub | "_" hexsub ] ":" reg
 *          | "CPUID[eax=" leaf [ ",ecx=" hexsub ] "]." reg
 *   leaf  := hex, with optional "0x" prefix or "H" suffix ("07H", "0x7", "7")
 *   sub   := decimal, or hex with "0x" prefix or "H" suffix
 *   hexsub := hex ("00h", "1")
 * The second word form is current QEMU's (feature_word_description() in
 * target/i386/cpu.c since QEMU 10.1: "CPUID[eax=07h,ecx=00h].EBX"); the
 * "_" subleaf is older QEMU's ("CPUID.14H_01H:EAX").  A whole QEMU warning
 * line may be given: the text up to the last ": " before "CPUID" is its
 * message ("warning: host doesn't support requested feature: ").
 * A name after the register must be a bit of that register; if both a name
 * and "[bit n]" are given they must agree.
 */
struct bit_spec {
	uint32_t leaf, subleaf;
	enum tdc_reg reg;
	long bit; /* -1 until known */
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A number with the 0x-prefix / H-suffix conventions; @hex_default for leaves. */
static int parse_num(const char **pp, bool hex_default, uint32_t *v, const char *what,
		     const char *all)
{
	const char *p = *pp;
	char tok[24];
	size_t n = 0;
	int base = hex_default ? 16 : 10;
	bool prefixed = false;
	unsigned long long x;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		base = 16;
		prefixed = true;
	}
	while (isxdigit((unsigned char)p[n]) && n < sizeof(tok) - 1) {
		tok[n] = p[n];
		n++;
	}
	tok[n] = '\0';
	p += n;
	if (!prefixed && (*p == 'h' || *p == 'H')) {
		base = 16;
		p++;
	}
	if (!n)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected %s number", all, what);
	if (strspn(tok, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != n)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': bad %s number '%s'", all,
			       what, tok);
	errno = 0;
	x = strtoull(tok, NULL, base);
	if (errno || x > UINT32_MAX)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': %s number '%s' out of range",
			       all, what, tok);
	*v = (uint32_t)x;
	*pp = p;
	return 0;
}

/* Register name: three letters, any case. */
static int parse_reg(const char **pp, enum tdc_reg *reg, const char *all)
{
	char tok[4];

	if (strlen(*pp) < 3)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected a register", all);
	memcpy(tok, *pp, 3);
	tok[3] = '\0';
	if (tdc_reg_parse(tok, reg) != 0)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': unknown register '%s'", all, tok);
	*pp += 3;
	return 0;
}

/* After "REG.": a bit number or a feature name of that register. */
static int parse_bit_or_name(const char **pp, struct bit_spec *bs, const char *all)
{
	const char *p = *pp;
	size_t n = strcspn(p, " \t[");
	char name[64];
	const struct tdc_feature *f;

	if (n == 0 || n >= sizeof(name))
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected a bit or name after '.'", all);
	memcpy(name, p, n);
	name[n] = '\0';
	*pp = p + n;
	if (strspn(name, "0123456789") == n) {
		bs->bit = strtol(name, NULL, 10);
		return 0;
	}
	for (unsigned b = 0; b < 32; b++) {
		f = tdc_feature_lookup(bs->leaf, bs->subleaf, bs->reg, b);
		if (f && feature_named(f, name)) {
			bs->bit = b;
			return 0;
		}
	}
	return tdc_err(TDC_ERR_NOT_FOUND, "CPUID bit '%s': no feature '%s' in that register",
		       all, name);
}

/* "[bit 5]" or "[5]". */
static int parse_bracket(const char **pp, struct bit_spec *bs, const char *all)
{
	const char *p = skip_ws(*pp + 1);
	uint32_t b;
	int r;

	if (strncasecmp(p, "bit", 3) == 0)
		p = skip_ws(p + 3);
	if ((r = parse_num(&p, false, &b, "bit", all)) != 0)
		return r;
	p = skip_ws(p);
	if (*p != ']')
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected ']'", all);
	if (bs->bit >= 0 && bs->bit != (long)b)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': name is bit %ld, brackets say %u",
			       all, bs->bit, b);
	bs->bit = b;
	*pp = p + 1;
	return 0;
}

/* "CPUID[eax=07h,ecx=00h]." (current QEMU), up to the register. */
static int parse_qemu_word(const char **pp, struct bit_spec *bs, const char *all)
{
	const char *p = skip_ws(*pp + 6);
	int r;

	if (strncasecmp(p, "eax=", 4) != 0)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected 'eax=' after 'CPUID['", all);
	p += 4;
	if ((r = parse_num(&p, true, &bs->leaf, "leaf", all)) != 0)
		return r;
	p = skip_ws(p);
	if (*p == ',') {
		p = skip_ws(p + 1);
		if (strncasecmp(p, "ecx=", 4) != 0)
			return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected 'ecx=' after ','", all);
		p += 4;
		if ((r = parse_num(&p, true, &bs->subleaf, "subleaf", all)) != 0)
			return r;
		p = skip_ws(p);
	}
	if (p[0] != ']' || p[1] != '.')
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected '].' before the register", all);
	*pp = p + 2;
	return 0;
}

/* "[CPUID.]07H[.0|_00H]:" (this project, older QEMU), up to the register. */
static int parse_dot_word(const char **pp, struct bit_spec *bs, const char *all)
{
	const char *p = *pp;
	int r;

	if (strncasecmp(p, "CPUID.", 6) == 0)
		p += 6;
	if ((r = parse_num(&p, true, &bs->leaf, "leaf", all)) != 0)
		return r;
	if (*p == '.' || *p == '_') {
		bool hex = *p++ == '_';

		if ((r = parse_num(&p, hex, &bs->subleaf, "subleaf", all)) != 0)
			return r;
	}
	if (*p != ':')
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': expected ':' before the register", all);
	*pp = p + 1;
	return 0;
}

static int parse_spec(const char *s, struct bit_spec *bs)
{
	const char *p = skip_ws(s);
	int r;

	if ((r = strncasecmp(p, "CPUID[", 6) == 0 ? parse_qemu_word(&p, bs, s)
						  : parse_dot_word(&p, bs, s)) != 0)
		return r;
	if ((r = parse_reg(&p, &bs->reg, s)) != 0)
		return r;
	if (*p == '.') {
		p++;
		if ((r = parse_bit_or_name(&p, bs, s)) != 0)
			return r;
	}
	p = skip_ws(p);
	if (*p == '[' && (r = parse_bracket(&p, bs, s)) != 0)
		return r;
	p = skip_ws(p);
	if (*p)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': unexpected '%s'", s, p);
	if (bs->bit < 0 || bs->bit > 31)
		return tdc_err(TDC_ERR_FORMAT, "CPUID bit '%s': missing or out-of-range bit number", s);
	return 0;
}

int tdc_parse_bit(const char *s, uint32_t *leaf, uint32_t *subleaf,
		  enum tdc_reg *reg, unsigned *bit)
{
	struct bit_spec bs = { .bit = -1 };
	const struct tdc_feature *f;
	const char *msg;
	int r;

	/* A pasted QEMU warning: skip its message, up to the last ": CPUID". */
	for (msg = strstr(s, ": CPUID"); msg; msg = strstr(msg + 2, ": CPUID"))
		s = msg + 2;
	if (strstr(s, ": MSR(") || strncmp(skip_ws(s), "MSR(", 4) == 0)
		return tdc_err(TDC_ERR_FORMAT, "'%s' is an MSR feature word, not a CPUID bit", s);
	if (!strchr(s, ':') && !strchr(s, '[')) {
		if (!(f = tdc_feature_by_name(skip_ws(s))))
			return tdc_err(TDC_ERR_NOT_FOUND, "CPUID bit '%s': unknown feature name", s);
		*leaf = f->leaf;
		*subleaf = f->subleaf;
		*reg = f->reg;
		*bit = f->bit;
		return 0;
	}
	if ((r = parse_spec(s, &bs)) != 0)
		return r;
	*leaf = bs.leaf;
	*subleaf = tdc_leaf_is_indexed(bs.leaf) ? bs.subleaf : 0;
	*reg = bs.reg;
	*bit = (unsigned)bs.bit;
	return 0;
}
