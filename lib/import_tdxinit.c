// SPDX-License-Identifier: Apache-2.0
/*
 * Importer for the TD parameters a VMM gives KVM: struct kvm_tdx_init_vm
 * (KVM_TDX_INIT_VM) and, optionally, the struct kvm_tdx_capabilities it was
 * built against (KVM_TDX_CAPABILITIES), written as JSON
 * (docs/requested-formats.md, "tdx-init-vm"):
 *
 *   {"format": "tdcpuid-tdx-init-vm", "version": 1,
 *    "init_vm": {"attributes": "0x10000000", "xfam": "0x602e7",
 *                "mrconfigid": "<96 hex digits>", "tsc_khz": 2000000,
 *                "cpuid": {"entries": [ kvm-json entries ]}},
 *    "capabilities": {"supported_attrs": ..., "supported_xfam": ...,
 *                     "cpuid": {"entries": [ configurable masks ]}}}
 *
 * Struct layouts: tdx-abi.md §3 (from QEMU linux-headers/asm-x86/kvm.h).
 * The CPUID array is a kvm_cpuid2, so entries use the kvm-json form and
 * every bit of an entry is known.  Whether the TDX module would accept the
 * values (configurable mask, supported attrs/xfam) is the model's question,
 * not the importer's: a rejected configuration must still be readable so
 * `predict` can say why it is rejected.
 */
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "tdcpuid/kvm_tdx.h"
#include "import.h"

#define TDX_MR_LEN 48

static int opt_u64(const json_t *obj, const char *key, const char *what,
		   const char *path, bool *has, uint64_t *out)
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;

	if (!(v = json_object_get(obj, key))) {
		if (has)
			*has = false;
		return 0;
	}
	if (has)
		*has = true;
	return tdc_json_u64(v, UINT64_MAX, what, tdc_json_path(p, sizeof(p), path, key), out);
}

static int req_u64(const json_t *obj, const char *key, const char *what,
		   const char *path, uint64_t *out)
{
	json_t *v;
	int r;

	if ((r = tdc_json_member(obj, key, true, what, path, &v)) != 0)
		return r;
	return opt_u64(obj, key, what, path, NULL, out);
}

static int opt_mr(const json_t *obj, const char *key, const char *what,
		  const char *path, bool *has, uint8_t out[TDX_MR_LEN])
{
	char p[TDC_JSON_PATH_MAX];
	json_t *v;

	if (!(v = json_object_get(obj, key)))
		return 0;
	*has = true;
	return tdc_json_hex(v, out, TDX_MR_LEN, what, tdc_json_path(p, sizeof(p), path, key));
}

/*
 * 0x80000008.EAX[23:16] of the INIT_VM CPUID is how userspace tells KVM the
 * GPAW (setup_tdparams_eptp_controls()); KVM zeroes it before the module
 * sees the CPUID.  Record it and take it out of the request.
 */
static int take_gpaw_knob(struct tdc_requested *out)
{
	const struct tdc_cpuid_entry *e = tdc_cpuid_table_find(&out->table, TDC_KVM_TDX_GPAW_LEAF, 0);
	struct tdc_cpuid_entry k;
	const struct tdc_cpuid_entry *ke;

	if (!e || !(ke = tdc_cpuid_table_find(&out->known, TDC_KVM_TDX_GPAW_LEAF, 0)))
		return 0;
	out->has_gpaw = true;
	out->gpaw = (e->regs[TDC_EAX] & TDC_KVM_TDX_GPAW_MASK) >> TDC_KVM_TDX_GPAW_SHIFT;
	k = *ke;
	k.regs[TDC_EAX] &= ~TDC_KVM_TDX_GPAW_MASK;
	return tdc_cpuid_table_set(&out->known, &k);
}

static int parse_init_vm(const json_t *v, const char *what, struct tdc_requested *out)
{
	static const char *const keys[] = {
		"attributes", "xfam", "mrconfigid", "mrowner", "mrownerconfig",
		"tsc_khz", "cpuid", NULL,
	};
	const char *path = "init_vm";
	json_t *m;
	int r;

	if ((r = tdc_json_check_object(v, keys, what, path)) != 0 ||
	    (r = req_u64(v, "attributes", what, path, &out->attributes)) != 0 ||
	    (r = req_u64(v, "xfam", what, path, &out->xfam)) != 0 ||
	    (r = opt_mr(v, "mrconfigid", what, path, &out->has_mrconfigid,
			out->mrconfigid)) != 0 ||
	    (r = opt_mr(v, "mrowner", what, path, &out->has_mrowner, out->mrowner)) != 0 ||
	    (r = opt_mr(v, "mrownerconfig", what, path, &out->has_mrownerconfig,
			out->mrownerconfig)) != 0 ||
	    (r = opt_u64(v, "tsc_khz", what, path, &out->has_tsc_khz, &out->tsc_khz)) != 0)
		return r;
	/* KVM_SET_TSC_KHZ takes a u32; zero would mean "no frequency". */
	if (out->has_tsc_khz && (out->tsc_khz == 0 || out->tsc_khz > UINT32_MAX))
		return tdc_err(TDC_ERR_RANGE, "%s: init_vm.tsc_khz: %llu outside 1..4294967295",
			       what, (unsigned long long)out->tsc_khz);
	out->has_td_params = true;
	if ((r = tdc_json_member(v, "cpuid", true, what, path, &m)) != 0 ||
	    (r = tdc_import_kvm_cpuid2(m, what, "init_vm.cpuid", &out->table, &out->known)) != 0)
		return r;
	return take_gpaw_knob(out);
}

static int parse_caps(const json_t *v, const char *what, struct tdc_requested *out)
{
	static const char *const keys[] = {
		"supported_attrs", "supported_xfam", "kernel_tdvmcallinfo_1_r11",
		"user_tdvmcallinfo_1_r11", "kernel_tdvmcallinfo_1_r12",
		"user_tdvmcallinfo_1_r12", "cpuid", NULL,
	};
	static const char *const tdvmcall_keys[] = {
		"kernel_tdvmcallinfo_1_r11", "user_tdvmcallinfo_1_r11",
		"kernel_tdvmcallinfo_1_r12", "user_tdvmcallinfo_1_r12",
	};
	const char *path = "capabilities";
	struct tdc_cpuid_table cknown;
	uint64_t ignored;
	json_t *m;
	int r;

	if ((r = tdc_json_check_object(v, keys, what, path)) != 0 ||
	    (r = req_u64(v, "supported_attrs", what, path, &out->supported_attrs)) != 0 ||
	    (r = req_u64(v, "supported_xfam", what, path, &out->supported_xfam)) != 0)
		return r;
	/* Recorded for completeness of the capture, type-checked, not used. */
	for (size_t i = 0; i < sizeof(tdvmcall_keys) / sizeof(tdvmcall_keys[0]); i++)
		if ((r = opt_u64(v, tdvmcall_keys[i], what, path, NULL, &ignored)) != 0)
			return r;
	if ((r = tdc_json_member(v, "cpuid", true, what, path, &m)) != 0)
		return r;
	tdc_cpuid_table_init(&cknown);
	r = tdc_import_kvm_cpuid2(m, what, "capabilities.cpuid", &out->configurable, &cknown);
	tdc_cpuid_table_free(&cknown);
	if (r == 0)
		out->has_caps = true;
	return r;
}

int tdc_import_tdxinit(const json_t *root, const char *what, struct tdc_requested *out)
{
	static const char *const keys[] = {
		"format", "version", "init_vm", "capabilities", NULL,
	};
	const char *fmt;
	uint32_t ver;
	json_t *m;
	int r;

	snprintf(out->format, sizeof(out->format), "tdx-init-vm");
	if ((r = tdc_json_check_object(root, keys, what, "")) != 0 ||
	    (r = tdc_json_member(root, "format", true, what, "", &m)) != 0 ||
	    (r = tdc_json_string(m, TDC_IMPORT_STR_MAX, what, "format", &fmt)) != 0)
		return r;
	if (strcmp(fmt, TDC_TDXINIT_FORMAT))
		return tdc_err(TDC_ERR_FORMAT, "%s: format: \"%s\" is not \"%s\"", what, fmt,
			       TDC_TDXINIT_FORMAT);
	if ((r = tdc_json_member(root, "version", true, what, "", &m)) != 0 ||
	    (r = tdc_json_u32(m, what, "version", &ver)) != 0)
		return r;
	if (ver != 1)
		return tdc_err(TDC_ERR_VERSION, "%s: version: %u is not supported (expected 1)",
			       what, ver);
	if ((r = tdc_json_member(root, "init_vm", true, what, "", &m)) != 0 ||
	    (r = parse_init_vm(m, what, out)) != 0)
		return r;
	if ((m = json_object_get(root, "capabilities")))
		return parse_caps(m, what, out);
	return 0;
}
