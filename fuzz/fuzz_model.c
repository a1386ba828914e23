// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer harness: platform model files (verifier/engine/model.c).  A model the
 * loader accepts must also run: predict with and without a platform,
 * lookups and per-bit classification must not crash or leak.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "model.h"

static void exercise(const struct tdc_model *m, const struct tdc_cpuid_table *plat,
		     uint64_t ctls_known, bool kvm)
{
	struct tdc_predict_in in = { .platform = plat, .requested = plat, .xfam = 0x602e7,
				     .attributes = 1ull << 30, .has_tsc_khz = true,
				     .tsc_khz = 2000000, .td_ctls = 0x8, .td_ctls_known = ctls_known,
				     .kvm_layer = kvm, .strict_config = kvm };
	struct tdc_prediction p;
	struct tdc_pred_leaf tmp;
	enum tdc_bitclass cls;

	tdc_prediction_init(&p);
	(void)tdc_model_predict(m, &in, &p);
	for (uint32_t leaf = 0; leaf < 0x30; leaf++)
		(void)tdc_prediction_lookup(&p, leaf, leaf & 3, &tmp);
	(void)tdc_prediction_lookup(&p, 0x40000001, 0, &tmp);
	(void)tdc_prediction_lookup(&p, 0x80000008, 0, &tmp);
	tdc_prediction_free(&p);
	for (uint32_t leaf = 0; leaf < 0x24; leaf++)
		(void)tdc_model_classify(m, leaf, 0, leaf & 3, leaf, &cls, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tdc_cpuid_entry e[] = {
		{ 0x0, 0, 0, { 0x20, 0x756e6547, 0x6c65746e, 0x49656e69 } },
		{ 0x1, 0, 0, { 0xc06f2, 0x800800, 0x7ffefbff, 0xbfebfbff } },
		{ 0x7, 0, 1, { 2, 0xf3bfbfff, 0xfb417fee, 0xffdd4432 } },
		{ 0xd, 0, 1, { 0x602e7, 0x2b00, 0x2b00, 0 } },
		{ 0xd, 2, 1, { 0x100, 0x240, 0, 0 } },
		{ 0x80000000, 0, 0, { 0x80000008, 0, 0, 0 } },
	};
	struct tdc_cpuid_table plat = { (struct tdc_cpuid_entry *)e, sizeof(e) / sizeof(e[0]),
					sizeof(e) / sizeof(e[0]), true /* ascending above */ };
	struct tdc_model *m;

	if (tdc_model_parse(data, size, "fuzz", &m) != 0)
		return 0;
	exercise(m, NULL, 0, false);
	exercise(m, &plat, 0, false);
	exercise(m, &plat, 0xe, true);
	tdc_model_free(m);
	return 0;
}
