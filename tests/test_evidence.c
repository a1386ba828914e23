// SPDX-License-Identifier: Apache-2.0
/*
 * Evidence codec: round trips, determinism, the strict decoder's rejections
 * (each with its error code and a detail naming the field) and the
 * REPORTDATA binding.  Malformed inputs are written with libcbor's encoders
 * directly so they do not depend on the encoder under test.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cbor.h>
#include <openssl/evp.h>

#include "testutil.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"

/* ---------------------------- realistic claims ---------------------------- */

static uint32_t rng_state = 0x12345678;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state ^ (rng_state >> 16);
}

static void add(struct tdc_cpuid_table *t, uint32_t leaf, uint32_t sub, uint32_t flags,
		uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	struct tdc_cpuid_entry e = { leaf, sub, flags, { a, b, c, d } };

	assert_int_equal(tdc_cpuid_table_set(t, &e), 0);
}

static void add_rand(struct tdc_cpuid_table *t, uint32_t leaf, uint32_t sub, uint32_t flags)
{
	add(t, leaf, sub, flags, rnd(), rnd(), rnd(), rnd());
}

/* Leaves in canonical order, indexed ones with their subleaf counts. */
static void make_common(struct tdc_cpuid_table *t)
{
	static const struct { uint32_t leaf, nsub; } leaves[] = {
		{ 0x0, 0 }, { 0x1, 0 }, { 0x2, 0 }, { 0x4, 5 }, { 0x5, 0 }, { 0x6, 0 },
		{ 0x7, 3 }, { 0xa, 0 }, { 0xb, 2 }, { 0xd, 20 }, { 0x10, 4 },
		{ 0x1f, 3 }, { 0x40000000, 0 }, { 0x40000001, 0 },
		{ 0x80000000, 0 }, { 0x80000001, 0 }, { 0x80000002, 0 },
		{ 0x80000007, 0 }, { 0x80000008, 0 },
	};

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		if (!leaves[i].nsub)
			add_rand(t, leaves[i].leaf, 0, 0);
		for (uint32_t s = 0; s < leaves[i].nsub; s++)
			add_rand(t, leaves[i].leaf, s, TDC_CPUID_F_INDEXED);
	}
}

/* CPU numbers 0..n-1; every 5th is skipped, the rest probed with deltas. */
static void make_claims(struct tdc_claims *c, uint32_t n)
{
	tdc_claims_init(c);
	rng_state = 0x12345678;
	c->nonce_len = 32;
	for (size_t i = 0; i < c->nonce_len; i++)
		c->nonce[i] = (uint8_t)(i * 7 + 1);
	c->tee = TDC_TEE_TDX;
	make_common(&c->common);
	assert_non_null(c->cpus = calloc(n, sizeof(*c->cpus)));
	assert_non_null(c->skipped = calloc(n, sizeof(*c->skipped)));
	for (uint32_t cpu = 0; cpu < n; cpu++) {
		struct tdc_cpu_claim *cc;

		if (cpu % 5 == 4) {
			struct tdc_skipped_cpu *s = &c->skipped[c->nskipped++];

			s->cpu = cpu;
			snprintf(s->reason, sizeof(s->reason), "%s",
				 cpu % 2 ? "offline" : "not in affinity mask");
			continue;
		}
		cc = &c->cpus[c->ncpus++];
		cc->cpu = cpu;
		tdc_cpuid_table_init(&cc->delta);
		/* APIC IDs differ per CPU: leaf 1 EBX[31:24], 0xB/0x1F EDX. */
		add(&cc->delta, 0x1, 0, 0, 0x806f8, cpu << 24 | 0x800, 0x7ffefbff, 0xbfebfbff);
		add(&cc->delta, 0xb, 0, TDC_CPUID_F_INDEXED, 1, 2, 0x100, cpu);
		add(&cc->delta, 0xb, 1, TDC_CPUID_F_INDEXED, 7, n, 0x201, cpu);
		if (cpu % 3 == 0)
			add(&cc->delta, 0x1f, 2, TDC_CPUID_F_INDEXED | TDC_CPUID_F_ABSENT, 0, 0, 0, 0);
		if (cpu % 7 == 1)
			add(&cc->delta, 0x14, 0, TDC_CPUID_F_INDEXED, 1, 2, 3, 4);
		if (cpu % 2) {
			cc->has_xcr0 = true;
			cc->xcr0 = 0x2e7;
		}
	}
	c->has_xcr0 = true;
	c->xcr0 = 0x602e7;
	snprintf(c->kernel_release, sizeof(c->kernel_release), "6.8.0-1004-intel-tdx");
	snprintf(c->agent_version, sizeof(c->agent_version), "tdcpuid 0.1.0");
	snprintf(c->vm_name, sizeof(c->vm_name), "td-guest-ünïcode-1");
	c->cpuid_count = 12345678901ull;
	c->td_controls.present = true;
	c->td_controls.known = TDC_TD_CTLS_REDUCE_VE | TDC_TD_CTLS_ENUM_TOPOLOGY |
			       TDC_TD_CTLS_VIRT_CPUID2;
	c->td_controls.value = TDC_TD_CTLS_REDUCE_VE | TDC_TD_CTLS_ENUM_TOPOLOGY;
	snprintf(c->td_controls.method, sizeof(c->td_controls.method), "cpuid");
}

static void assert_tables_equal(const struct tdc_cpuid_table *a, const struct tdc_cpuid_table *b)
{
	assert_int_equal(a->n, b->n);
	if (a->n)
		assert_memory_equal(a->e, b->e, a->n * sizeof(*a->e));
}

/* @a must be in canonical order (make_claims builds it so). */
static void assert_claims_equal(const struct tdc_claims *a, const struct tdc_claims *b)
{
	assert_int_equal(a->version_major, b->version_major);
	assert_int_equal(a->version_minor, b->version_minor);
	assert_int_equal(a->nonce_len, b->nonce_len);
	assert_memory_equal(a->nonce, b->nonce, a->nonce_len);
	assert_int_equal(a->tee, b->tee);
	assert_tables_equal(&a->common, &b->common);
	assert_int_equal(a->ncpus, b->ncpus);
	for (size_t i = 0; i < a->ncpus; i++) {
		struct tdc_cpuid_table sa;

		assert_int_equal(a->cpus[i].cpu, b->cpus[i].cpu);
		assert_int_equal(a->cpus[i].has_xcr0, b->cpus[i].has_xcr0);
		assert_int_equal(a->cpus[i].xcr0, b->cpus[i].xcr0);
		assert_int_equal(tdc_cpuid_table_copy(&sa, &a->cpus[i].delta), 0);
		tdc_cpuid_table_sort(&sa);
		assert_tables_equal(&sa, &b->cpus[i].delta);
		tdc_cpuid_table_free(&sa);
	}
	assert_int_equal(a->nskipped, b->nskipped);
	for (size_t i = 0; i < a->nskipped; i++) {
		assert_int_equal(a->skipped[i].cpu, b->skipped[i].cpu);
		assert_string_equal(a->skipped[i].reason, b->skipped[i].reason);
	}
	assert_int_equal(a->has_xcr0, b->has_xcr0);
	assert_int_equal(a->xcr0, b->xcr0);
	assert_string_equal(a->kernel_release, b->kernel_release);
	assert_string_equal(a->agent_version, b->agent_version);
	assert_string_equal(a->vm_name, b->vm_name);
	assert_int_equal(a->cpuid_count, b->cpuid_count);
	assert_int_equal(a->td_controls.present, b->td_controls.present);
	assert_int_equal(a->td_controls.known, b->td_controls.known);
	assert_int_equal(a->td_controls.value, b->td_controls.value);
	assert_string_equal(a->td_controls.method, b->td_controls.method);
}

static void encode_ok(const struct tdc_claims *c, struct tdc_buf *out)
{
	tdc_buf_init(out);
	if (tdc_claims_encode(c, out) != 0)
		fail_msg("encode: %s", tdc_errdetail());
}

/* ------------------------------ round trips ------------------------------ */

static void test_roundtrip_realistic(void **state)
{
	struct tdc_claims c, d;
	struct tdc_buf b1, b2;

	(void)state;
	make_claims(&c, 96);
	encode_ok(&c, &b1);
	if (tdc_claims_decode(b1.data, b1.len, &d) != 0)
		fail_msg("decode: %s", tdc_errdetail());
	assert_claims_equal(&c, &d);
	/* An independent parser (libcbor's tree loader) reads it as one item. */
	{
		struct cbor_load_result lr;
		cbor_item_t *item = cbor_load(b1.data, b1.len, &lr);

		assert_non_null(item);
		assert_int_equal(lr.error.code, CBOR_ERR_NONE);
		assert_int_equal(lr.read, b1.len);
		assert_true(cbor_isa_map(item));
		assert_int_equal(cbor_map_size(item), 12);
		cbor_decref(&item);
	}
	/* encode(decode(x)) == x */
	encode_ok(&d, &b2);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);
	tdc_claims_free(&c);
	tdc_claims_free(&d);
	tdc_buf_free(&b1);
	tdc_buf_free(&b2);
}

static void test_roundtrip_minimal(void **state)
{
	/* Hand-written expected encoding: the key assignment is the contract. */
	static const uint8_t expect[] = {
		0xa9, 0x00, 0x82, 0x01, 0x02, 0x01, 0x40, 0x02, 0x64, 'n', 'o', 'n', 'e',
		0x03, 0x80, 0x04, 0x80, 0x05, 0x80, 0x07, 0x60, 0x08, 0x60, 0x0a, 0x00,
	};
	struct tdc_claims c, d;
	struct tdc_buf b;

	(void)state;
	tdc_claims_init(&c);
	encode_ok(&c, &b);
	assert_int_equal(b.len, sizeof(expect));
	assert_memory_equal(b.data, expect, sizeof(expect));
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), 0);
	assert_claims_equal(&c, &d);
	tdc_claims_free(&c);
	tdc_claims_free(&d);
	tdc_buf_free(&b);
}

static void shuffle_table(struct tdc_cpuid_table *t)
{
	for (size_t i = t->n; i > 1; i--) {
		size_t j = rnd() % i;
		struct tdc_cpuid_entry x = t->e[i - 1];

		t->e[i - 1] = t->e[j];
		t->e[j] = x;
	}
}

/* Same claims in a different in-memory order encode to the same bytes. */
static void test_deterministic(void **state)
{
	struct tdc_claims c;
	struct tdc_buf b1, b2, b3;

	(void)state;
	make_claims(&c, 40);
	encode_ok(&c, &b1);
	encode_ok(&c, &b2);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);

	shuffle_table(&c.common);
	for (size_t i = 0; i < c.ncpus; i++)
		shuffle_table(&c.cpus[i].delta);
	for (size_t i = 0; i < c.ncpus / 2; i++) {
		struct tdc_cpu_claim x = c.cpus[i];

		c.cpus[i] = c.cpus[c.ncpus - 1 - i];
		c.cpus[c.ncpus - 1 - i] = x;
	}
	for (size_t i = 0; i < c.nskipped / 2; i++) {
		struct tdc_skipped_cpu x = c.skipped[i];

		c.skipped[i] = c.skipped[c.nskipped - 1 - i];
		c.skipped[c.nskipped - 1 - i] = x;
	}
	encode_ok(&c, &b3);
	assert_int_equal(b1.len, b3.len);
	assert_memory_equal(b1.data, b3.data, b1.len);
	tdc_claims_free(&c);
	tdc_buf_free(&b1);
	tdc_buf_free(&b2);
	tdc_buf_free(&b3);
}

static void test_cpu_table(void **state)
{
	struct tdc_claims c;
	struct tdc_cpuid_table t;
	const struct tdc_cpuid_entry *e;

	(void)state;
	make_claims(&c, 16);
	/* CPU 3: delta on leaf 1 and 0xB, 0x1F.2 absent, no extra leaf. */
	assert_int_equal(tdc_claims_cpu_table(&c, 3, &t), 0);
	assert_int_equal(t.n, c.common.n - 1);
	assert_null(tdc_cpuid_table_find(&t, 0x1f, 2));
	assert_non_null(e = tdc_cpuid_table_find(&t, 0x1f, 1));
	assert_int_equal(e->regs[0], tdc_cpuid_table_find(&c.common, 0x1f, 1)->regs[0]);
	assert_non_null(e = tdc_cpuid_table_find(&t, 0x1, 0));
	assert_int_equal(e->regs[TDC_EBX] >> 24, 3);
	assert_non_null(e = tdc_cpuid_table_find(&t, 0xb, 1));
	assert_int_equal(e->regs[TDC_EDX], 3);
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.e[i - 1].leaf < t.e[i].leaf ||
			    (t.e[i - 1].leaf == t.e[i].leaf && t.e[i - 1].subleaf < t.e[i].subleaf));
	tdc_cpuid_table_free(&t);
	/* CPU 1: an extra leaf the common table lacks. */
	assert_int_equal(tdc_claims_cpu_table(&c, 1, &t), 0);
	assert_int_equal(t.n, c.common.n + 1);
	assert_non_null(e = tdc_cpuid_table_find(&t, 0x14, 0));
	assert_int_equal(e->regs[TDC_EDX], 4);
	tdc_cpuid_table_free(&t);
	/* CPU 4 was skipped, CPU 99 never existed. */
	assert_int_equal(tdc_claims_cpu_table(&c, 4, &t), TDC_ERR_NOT_FOUND);
	assert_int_equal(tdc_claims_cpu_table(&c, 99, &t), TDC_ERR_NOT_FOUND);
	tdc_claims_free(&c);
}

/* ------------------------- hand-written CBOR input ------------------------- */

static void w_head(struct tdc_buf *b, size_t n, const uint8_t *tmp)
{
	assert_true(n > 0);
	assert_int_equal(tdc_buf_put(b, tmp, n), 0);
}

static void w_u(struct tdc_buf *b, uint64_t v)
{
	uint8_t t[9];

	w_head(b, cbor_encode_uint(v, t, sizeof(t)), t);
}

static void w_arr(struct tdc_buf *b, size_t n)
{
	uint8_t t[9];

	w_head(b, cbor_encode_array_start(n, t, sizeof(t)), t);
}

static void w_map(struct tdc_buf *b, size_t n)
{
	uint8_t t[9];

	w_head(b, cbor_encode_map_start(n, t, sizeof(t)), t);
}

static void w_text(struct tdc_buf *b, const char *s)
{
	uint8_t t[9];

	w_head(b, cbor_encode_string_start(strlen(s), t, sizeof(t)), t);
	assert_int_equal(tdc_buf_put(b, s, strlen(s)), 0);
}

static void w_raw(struct tdc_buf *b, const void *p, size_t n)
{
	assert_int_equal(tdc_buf_put(b, p, n), 0);
}

/*
 * Filler after a deliberately incomplete document, so the decoder's
 * "count cannot fit the bytes left" pre-check does not fire before the
 * error under test.
 */
static void w_pad(struct tdc_buf *b)
{
	static const uint8_t zeros[128];

	w_raw(b, zeros, sizeof(zeros));
}

static void w_entry(struct tdc_buf *b, uint32_t leaf, uint32_t sub, uint32_t flags)
{
	w_arr(b, 7);
	w_u(b, leaf);
	w_u(b, sub);
	w_u(b, flags);
	for (int i = 0; i < 4; i++)
		w_u(b, flags & TDC_CPUID_F_ABSENT ? 0 : leaf + (uint32_t)i);
}

/* Keys 0..2: version 1.0, empty nonce, tee "sim". */
static void w_head3(struct tdc_buf *b, size_t nkeys)
{
	w_map(b, nkeys);
	w_u(b, 0);
	w_arr(b, 2);
	w_u(b, 1);
	w_u(b, 0);
	w_u(b, 1);
	w_raw(b, "\x40", 1);
	w_u(b, 2);
	w_text(b, "sim");
}

/* Keys 7, 8, 10. */
static void w_tail(struct tdc_buf *b)
{
	w_u(b, 7);
	w_text(b, "6.1.0");
	w_u(b, 8);
	w_text(b, "t");
	w_u(b, 10);
	w_u(b, 5);
}

/* Common table [1, 7.0, 7.1]; key 4 written by the caller; no skipped. */
static void w_common(struct tdc_buf *b)
{
	w_u(b, 3);
	w_arr(b, 3);
	w_entry(b, 1, 0, 0);
	w_entry(b, 7, 0, TDC_CPUID_F_INDEXED);
	w_entry(b, 7, 1, TDC_CPUID_F_INDEXED);
}

static void w_cpu(struct tdc_buf *b, uint32_t cpu, int delta_kind)
{
	w_map(b, 2);
	w_u(b, 0);
	w_u(b, cpu);
	w_u(b, 1);
	switch (delta_kind) {
	case 0:
		w_arr(b, 0);
		break;
	case 1: /* absent entry for something common lacks */
		w_arr(b, 1);
		w_entry(b, 7, 2, TDC_CPUID_F_INDEXED | TDC_CPUID_F_ABSENT);
		break;
	case 2: /* an entry of 6 integers */
		w_arr(b, 2);
		w_entry(b, 1, 0, 0);
		w_arr(b, 6);
		for (int i = 0; i < 6; i++)
			w_u(b, 1);
		break;
	case 3: /* valid absent entry */
		w_arr(b, 1);
		w_entry(b, 7, 1, TDC_CPUID_F_INDEXED | TDC_CPUID_F_ABSENT);
		break;
	}
}

/* A full document with the given CPUs (kinds) and skipped CPU numbers. */
static void w_doc(struct tdc_buf *b, const uint32_t *cpus, const int *kinds, size_t n,
		  const uint32_t *skipped, size_t ns)
{
	tdc_buf_init(b);
	w_head3(b, 9);
	w_common(b);
	w_u(b, 4);
	w_arr(b, n);
	for (size_t i = 0; i < n; i++)
		w_cpu(b, cpus[i], kinds[i]);
	w_u(b, 5);
	w_arr(b, ns);
	for (size_t i = 0; i < ns; i++) {
		w_arr(b, 2);
		w_u(b, skipped[i]);
		w_text(b, "offline");
	}
	w_tail(b);
}

static void expect_fail(const struct tdc_buf *b, int code, const char *needle)
{
	struct tdc_claims c;
	int r = tdc_claims_decode(b->data, b->len, &c);

	if (r != code || !strstr(tdc_errdetail(), needle))
		fail_msg("expected %s naming '%s', got %s: %s", tdc_strerror(code), needle,
			 tdc_strerror(r), tdc_errdetail());
	/* A failed decode leaves nothing to free. */
	assert_null(c.cpus);
	assert_null(c.common.e);
	assert_int_equal(c.ncpus, 0);
}

static void expect_ok(const struct tdc_buf *b)
{
	struct tdc_claims c;

	if (tdc_claims_decode(b->data, b->len, &c) != 0)
		fail_msg("valid document rejected: %s", tdc_errdetail());
	tdc_claims_free(&c);
}

static void test_hand_written_valid(void **state)
{
	const uint32_t cpus[] = { 0, 2, 9 };
	const int kinds[] = { 0, 3, 0 };
	const uint32_t sk[] = { 1, 3 };
	struct tdc_buf b;
	struct tdc_claims c;
	struct tdc_cpuid_table t;

	(void)state;
	w_doc(&b, cpus, kinds, 3, sk, 2);
	assert_int_equal(tdc_claims_decode(b.data, b.len, &c), 0);
	assert_int_equal(c.tee, TDC_TEE_SIM);
	assert_int_equal(c.ncpus, 3);
	assert_int_equal(c.nskipped, 2);
	assert_int_equal(tdc_claims_cpu_table(&c, 2, &t), 0);
	assert_int_equal(t.n, 2);
	assert_null(tdc_cpuid_table_find(&t, 7, 1));
	tdc_cpuid_table_free(&t);
	tdc_claims_free(&c);
	tdc_buf_free(&b);
}

static void test_reject_structure(void **state)
{
	const uint32_t c0[] = { 0 };
	const int k0[] = { 0 };
	struct tdc_buf b;

	(void)state;
	/* Duplicate map key. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 2);
	w_text(&b, "sim");
	w_pad(&b);
	expect_fail(&b, TDC_ERR_DUPLICATE, "claims: duplicate map key 2");
	tdc_buf_free(&b);

	/* Keys out of order: tee (2) before nonce (1). */
	tdc_buf_init(&b);
	w_map(&b, 3);
	w_u(&b, 0);
	w_arr(&b, 2);
	w_u(&b, 1);
	w_u(&b, 0);
	w_u(&b, 2);
	w_text(&b, "sim");
	w_u(&b, 1);
	w_raw(&b, "\x40", 1);
	expect_fail(&b, TDC_ERR_FORMAT, "ascending");
	tdc_buf_free(&b);

	/* An unknown key (and a map wider than the schema). */
	tdc_buf_init(&b);
	w_head3(&b, 4);
	w_u(&b, 99);
	w_u(&b, 0);
	expect_fail(&b, TDC_ERR_FORMAT, "claims: unknown map key 99");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	w_head3(&b, 15);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_FORMAT, "only 14 keys");
	tdc_buf_free(&b);

	/* Missing required field: cpuid_count. */
	tdc_buf_init(&b);
	w_head3(&b, 8);
	w_common(&b);
	w_u(&b, 4);
	w_arr(&b, 0);
	w_u(&b, 5);
	w_arr(&b, 0);
	w_u(&b, 7);
	w_text(&b, "k");
	w_u(&b, 8);
	w_text(&b, "a");
	expect_fail(&b, TDC_ERR_MISSING, "cpuid_count");
	tdc_buf_free(&b);

	/* Trailing byte after a valid document. */
	w_doc(&b, c0, k0, 1, NULL, 0);
	expect_ok(&b);
	w_raw(&b, "\x00", 1);
	expect_fail(&b, TDC_ERR_TRAILING, "1 trailing byte");
	tdc_buf_free(&b);

	/* Not a map at all; empty input. */
	tdc_buf_init(&b);
	w_arr(&b, 0);
	expect_fail(&b, TDC_ERR_TYPE, "claims: expected map, got array");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	expect_fail(&b, TDC_ERR_TRUNCATED, "offset 0");
}

static void test_reject_version(void **state)
{
	struct tdc_buf b;
	struct tdc_claims c;

	(void)state;
	tdc_buf_init(&b);
	w_map(&b, 1);
	w_u(&b, 0);
	w_arr(&b, 2);
	w_u(&b, 2);
	w_u(&b, 0);
	expect_fail(&b, TDC_ERR_VERSION, "claims.version: major version 2");
	tdc_buf_free(&b);

	tdc_buf_init(&b);
	w_map(&b, 1);
	w_u(&b, 0);
	w_u(&b, 1);
	expect_fail(&b, TDC_ERR_TYPE,
		    "claims.version: expected array [major, minor], got unsigned integer");
	tdc_buf_free(&b);

	/* A newer minor decodes (it may only add keys, which we would reject). */
	make_claims(&c, 3);
	c.version_minor = 7;
	encode_ok(&c, &b);
	tdc_claims_free(&c);
	assert_int_equal(tdc_claims_decode(b.data, b.len, &c), 0);
	assert_int_equal(c.version_minor, 7);
	tdc_claims_free(&c);
	tdc_buf_free(&b);

	/* The encoder writes what it is given; the decoder refuses it. */
	make_claims(&c, 3);
	c.version_major = 3;
	encode_ok(&c, &b);
	tdc_claims_free(&c);
	expect_fail(&b, TDC_ERR_VERSION, "claims.version");
	tdc_buf_free(&b);
}

/* Each case replaces cpuid_count's value (last item) with raw bytes. */
static void expect_count_fail(const uint8_t *raw, size_t n, int code, const char *needle)
{
	const uint32_t c0[] = { 0 };
	const int k0[] = { 0 };
	struct tdc_buf b;

	w_doc(&b, c0, k0, 1, NULL, 0);
	b.len -= 1; /* drop the 1-byte value 5 */
	w_raw(&b, raw, n);
	expect_fail(&b, code, needle);
	tdc_buf_free(&b);
}

static void test_reject_encoding(void **state)
{
	(void)state;
	expect_count_fail((const uint8_t *)"\x18\x05", 2, TDC_ERR_FORMAT,
			  "claims.cpuid_count: non-shortest");
	expect_count_fail((const uint8_t *)"\x1a\x00\x00\x01\x00", 5, TDC_ERR_FORMAT,
			  "non-shortest");
	expect_count_fail((const uint8_t *)"\xc1\x05", 2, TDC_ERR_TYPE,
			  "claims.cpuid_count: expected unsigned integer, got tag");
	expect_count_fail((const uint8_t *)"\xf9\x3c\x00", 3, TDC_ERR_TYPE,
			  "got floating-point");
	expect_count_fail((const uint8_t *)"\xf5", 1, TDC_ERR_TYPE, "got boolean");
	expect_count_fail((const uint8_t *)"\xf6", 1, TDC_ERR_TYPE, "got null");
	expect_count_fail((const uint8_t *)"\x24", 1, TDC_ERR_TYPE, "got negative integer");
	expect_count_fail((const uint8_t *)"\x1c", 1, TDC_ERR_FORMAT, "malformed");
	expect_count_fail((const uint8_t *)"\xe0", 1, TDC_ERR_FORMAT, "malformed");
	expect_count_fail((const uint8_t *)"\xf8\x20", 2, TDC_ERR_FORMAT, "malformed");
	expect_count_fail((const uint8_t *)"\xff", 1, TDC_ERR_TYPE, "got break");
	expect_count_fail((const uint8_t *)"\x1b", 1, TDC_ERR_TRUNCATED, "past the end");
	expect_count_fail((const uint8_t *)"\x9f\xff", 2, TDC_ERR_FORMAT,
			  "claims.cpuid_count: indefinite-length array");
	expect_count_fail((const uint8_t *)"\x5f\x41\x00\xff", 4, TDC_ERR_FORMAT,
			  "indefinite-length byte string");
	expect_count_fail((const uint8_t *)"\xbf\xff", 2, TDC_ERR_FORMAT,
			  "indefinite-length map");
}

/* Shortest-form rule for lengths and counts, not just integer values. */
static void test_reject_long_heads(void **state)
{
	struct tdc_buf b;

	(void)state;
	tdc_buf_init(&b);
	w_map(&b, 3);
	w_u(&b, 0);
	w_arr(&b, 2);
	w_u(&b, 1);
	w_u(&b, 0);
	w_u(&b, 1);
	w_raw(&b, "\x40", 1);
	w_u(&b, 2);
	w_raw(&b, "\x78\x03sim", 5); /* text length in a 1-byte argument */
	expect_fail(&b, TDC_ERR_FORMAT, "claims.tee: non-shortest encoding of text string");
	tdc_buf_free(&b);

	tdc_buf_init(&b);
	w_raw(&b, "\xb8\x01\x00\x82\x01\x00", 6); /* map count 1 in 2 bytes */
	expect_fail(&b, TDC_ERR_FORMAT, "claims: non-shortest encoding of map");
	tdc_buf_free(&b);

	tdc_buf_init(&b);
	w_raw(&b, "\xa1\x00\x99\x00\x02\x01\x00", 7); /* array count 2 in 3 bytes */
	expect_fail(&b, TDC_ERR_FORMAT, "claims.version: non-shortest encoding of array");
	tdc_buf_free(&b);

	tdc_buf_init(&b);
	w_raw(&b, "\xa1\x18\x00", 3); /* map key 0 in 2 bytes */
	expect_fail(&b, TDC_ERR_FORMAT, "claims: non-shortest encoding of unsigned integer");
	tdc_buf_free(&b);
}

/*
 * Table entries are read straight from their bytes when spelled as every
 * encoder spells them (lib/evidence_claims.c dec_entry_fast): register
 * values at each head-size boundary decode to themselves, and each other
 * spelling of any of the seven integers (non-shortest, 8-byte, another
 * type) still fails as the item reader names it, at its index.
 */
static void test_entry_spellings(void **state)
{
	static const uint32_t edge[] = { 0, 1, 23, 24, 255, 256, 65535, 65536, 0x7fffffff,
					 UINT32_MAX };
	struct tdc_claims c, d;
	struct tdc_buf b;
	char want[64];

	(void)state;
	make_claims(&c, 2);
	for (size_t i = 0; i < c.common.n; i++)
		for (int k = 0; k < TDC_NREGS; k++)
			c.common.e[i].regs[k] = edge[(i * TDC_NREGS + (size_t)k) % 10];
	encode_ok(&c, &b);
	if (tdc_claims_decode(b.data, b.len, &d) != 0)
		fail_msg("decode: %s", tdc_errdetail());
	assert_claims_equal(&c, &d);
	tdc_claims_free(&c);
	tdc_claims_free(&d);
	tdc_buf_free(&b);

	for (int k = 0; k < 7; k++) {
		static const struct {
			const char *bytes;
			size_t n;
			int code;
			const char *what;
		} bad[] = {
			{ "\x18\x05", 2, TDC_ERR_FORMAT, "non-shortest" },
			{ "\x19\x00\x05", 3, TDC_ERR_FORMAT, "non-shortest" },
			{ "\x1a\x00\x00\x00\x05", 5, TDC_ERR_FORMAT, "non-shortest" },
			{ "\x1b\x00\x00\x00\x00\x00\x00\x00\x05", 9, TDC_ERR_FORMAT,
			  "non-shortest" },
			{ "\x1b\x00\x00\x00\x01\x00\x00\x00\x00", 9, TDC_ERR_RANGE, "exceeds" },
			{ "\x25", 1, TDC_ERR_TYPE, "got negative integer" },
			{ "\x41\x05", 2, TDC_ERR_TYPE, "got byte string" },
			{ "\x1c", 1, TDC_ERR_FORMAT, "malformed" },
		};

		for (size_t j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			tdc_buf_init(&b);
			w_head3(&b, 9);
			w_u(&b, 3);
			w_arr(&b, 1);
			w_arr(&b, 7);
			for (int i = 0; i < 7; i++)
				if (i == k)
					w_raw(&b, bad[j].bytes, bad[j].n);
				else
					w_u(&b, 0);
			w_pad(&b);
			snprintf(want, sizeof(want), "claims.common[0][%d]: ", k);
			expect_fail(&b, bad[j].code, want);
			expect_fail(&b, bad[j].code, bad[j].what);
			tdc_buf_free(&b);
		}
	}
	/* The entry's own head in 2 bytes: the array, not its elements, is named. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 1);
	w_raw(&b, "\x98\x07", 2);
	for (int i = 0; i < 7; i++)
		w_u(&b, 0);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.common[0]: non-shortest encoding of array");
	tdc_buf_free(&b);
}

/* Thousands of CPUs: still well under the cap, and fast. */
static void test_scale(void **state)
{
	struct tdc_claims c, d;
	struct tdc_buf b;
	struct tdc_cpuid_table t;

	(void)state;
	make_claims(&c, TDC_CLAIMS_MAX_CPUS);
	encode_ok(&c, &b);
	assert_true(b.len < TDC_EVIDENCE_MAX);
	if (tdc_claims_decode(b.data, b.len, &d) != 0)
		fail_msg("decode: %s", tdc_errdetail());
	assert_claims_equal(&c, &d);
	for (size_t i = 0; i < d.ncpus; i += 97) {
		assert_int_equal(tdc_claims_cpu_table(&d, d.cpus[i].cpu, &t), 0);
		tdc_cpuid_table_free(&t);
	}
	print_message("%zu CPUs (%zu skipped): %zu bytes\n", c.ncpus, c.nskipped, b.len);
	tdc_claims_free(&c);
	tdc_claims_free(&d);
	tdc_buf_free(&b);
}

static void test_reject_indefinite_top(void **state)
{
	struct tdc_buf b;

	(void)state;
	tdc_buf_init(&b);
	w_raw(&b, "\xbf\x00\x82\x01\x00\xff", 6);
	expect_fail(&b, TDC_ERR_FORMAT, "claims: indefinite-length map");
	tdc_buf_free(&b);
}

static void test_reject_fields(void **state)
{
	struct tdc_buf b;
	uint8_t big[TDC_CLAIMS_NONCE_MAX + 1] = { 0 };
	uint8_t hdr[9];
	char s[TDC_CLAIMS_STR_MAX + 1];

	(void)state;
	/* Unknown TEE. */
	tdc_buf_init(&b);
	w_map(&b, 3);
	w_u(&b, 0);
	w_arr(&b, 2);
	w_u(&b, 1);
	w_u(&b, 0);
	w_u(&b, 1);
	w_raw(&b, "\x40", 1);
	w_u(&b, 2);
	w_text(&b, "sev");
	expect_fail(&b, TDC_ERR_RANGE, "claims.tee: unknown TEE kind 'sev'");
	tdc_buf_free(&b);

	/* Nonce of 65 bytes. */
	tdc_buf_init(&b);
	w_map(&b, 2);
	w_u(&b, 0);
	w_arr(&b, 2);
	w_u(&b, 1);
	w_u(&b, 0);
	w_u(&b, 1);
	w_head(&b, cbor_encode_bytestring_start(sizeof(big), hdr, sizeof(hdr)), hdr);
	w_raw(&b, big, sizeof(big));
	expect_fail(&b, TDC_ERR_TOO_LARGE, "claims.nonce: byte string of 65 bytes");
	tdc_buf_free(&b);

	/* Nonce as text. */
	tdc_buf_init(&b);
	w_map(&b, 2);
	w_u(&b, 0);
	w_arr(&b, 2);
	w_u(&b, 1);
	w_u(&b, 0);
	w_u(&b, 1);
	w_text(&b, "abc");
	expect_fail(&b, TDC_ERR_TYPE, "claims.nonce: expected byte string, got text string");
	tdc_buf_free(&b);

	/* Strings: too long, NUL inside, bad UTF-8, empty vm_name. */
	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_common(&b);
	w_u(&b, 4);
	w_arr(&b, 0);
	w_u(&b, 5);
	w_arr(&b, 0);
	w_u(&b, 7);
	w_text(&b, s);
	expect_fail(&b, TDC_ERR_TOO_LARGE, "claims.kernel_release: text of 256 bytes");
	b.len -= sizeof(s) - 1 + 3;
	w_raw(&b, "\x62" "a\0", 3);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.kernel_release: text contains a NUL");
	b.len -= 3;
	w_raw(&b, "\x62\xc3\x28", 3);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.kernel_release: text is not valid UTF-8");
	b.len -= 3;
	w_raw(&b, "\x63\xed\xa0\x80", 4); /* UTF-16 surrogate */
	expect_fail(&b, TDC_ERR_FORMAT, "not valid UTF-8");
	b.len -= 4;
	w_text(&b, "ok");
	w_u(&b, 8);
	w_text(&b, "a");
	w_u(&b, 9);
	w_text(&b, "");
	expect_fail(&b, TDC_ERR_FORMAT, "claims.vm_name: present but empty");
	tdc_buf_free(&b);
}

/*
 * td_controls (claims 1.1, key 11) is optional: a 1.0 document without it
 * decodes as "nothing known"; with it, value bits outside known, an empty
 * method or an unknown inner key are rejected.
 */
static void w_tdctl(struct tdc_buf *b, uint64_t known, uint64_t value, const char *method,
		    bool extra_key)
{
	w_u(b, 11);
	w_map(b, extra_key ? 4 : 3);
	w_u(b, 0);
	w_u(b, known);
	w_u(b, 1);
	w_u(b, value);
	w_u(b, 2);
	w_text(b, method);
	if (extra_key) {
		w_u(b, 3);
		w_u(b, 0);
	}
}

static void w_doc_tdctl(struct tdc_buf *b, uint64_t known, uint64_t value, const char *method,
			bool extra_key)
{
	tdc_buf_init(b);
	w_head3(b, 10);
	w_common(b);
	w_u(b, 4);
	w_arr(b, 0);
	w_u(b, 5);
	w_arr(b, 0);
	w_tail(b);
	w_tdctl(b, known, value, method, extra_key);
}

static void test_td_controls(void **state)
{
	struct tdc_claims c;
	struct tdc_buf b, again;
	const uint32_t cpu0 = 0;
	const int kind0 = 0;

	(void)state;
	/* A 1.0 document (no key 11) still decodes: controls unknown. */
	w_doc(&b, &cpu0, &kind0, 1, NULL, 0);
	assert_int_equal(tdc_claims_decode(b.data, b.len, &c), 0);
	assert_false(c.td_controls.present);
	assert_int_equal(c.td_controls.known, 0);
	tdc_claims_free(&c);
	tdc_buf_free(&b);

	w_doc_tdctl(&b, 0xe, 0xa, "cpuid", false);
	if (tdc_claims_decode(b.data, b.len, &c) != 0)
		fail_msg("td_controls rejected: %s", tdc_errdetail());
	assert_true(c.td_controls.present);
	assert_int_equal(c.td_controls.known, 0xe);
	assert_int_equal(c.td_controls.value, 0xa);
	assert_string_equal(c.td_controls.method, "cpuid");
	/* One spelling: it re-encodes to the same bytes. */
	tdc_buf_init(&again);
	assert_int_equal(tdc_claims_encode(&c, &again), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	tdc_buf_free(&again);
	/* The encoder refuses what the decoder would. */
	c.td_controls.value |= 1;
	tdc_buf_init(&again);
	assert_int_equal(tdc_claims_encode(&c, &again), TDC_ERR_RANGE);
	assert_non_null(strstr(tdc_errdetail(), "claims.td_controls: value"));
	tdc_buf_free(&again);
	tdc_claims_free(&c);
	tdc_buf_free(&b);

	w_doc_tdctl(&b, 0x8, 0xc, "cpuid", false);
	expect_fail(&b, TDC_ERR_RANGE, "claims.td_controls: value 0xc has bits outside known 0x8");
	tdc_buf_free(&b);
	w_doc_tdctl(&b, 0x8, 0x8, "", false);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.td_controls: must not be empty");
	tdc_buf_free(&b);
	w_doc_tdctl(&b, 0x8, 0x8, "cpuid", true);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.td_controls");
	tdc_buf_free(&b);
}

/* lib/td_controls.c: what a TD's own CPUID says about TD_CTLS. */
static void test_td_controls_infer(void **state)
{
	struct tdc_cpuid_table t;
	struct tdc_td_controls c;
	struct tdc_cpuid_entry l0 = { .leaf = 0, .regs = { 0x23 } };
	struct tdc_cpuid_entry l2 = { .leaf = 2, .regs = { 0x00feff01 } };
	struct tdc_cpuid_entry l6 = { .leaf = 6, .regs = { 0x4 } };
	struct tdc_cpuid_entry lb = { .leaf = 0xb, .flags = TDC_CPUID_F_INDEXED,
				      .regs = { 1, 2, 0x100, 3 } };

	(void)state;
	tdc_cpuid_table_init(&t);
	assert_int_equal(tdc_cpuid_table_set(&t, &l0), 0);
	assert_int_equal(tdc_cpuid_table_set(&t, &l2), 0);
	assert_int_equal(tdc_cpuid_table_set(&t, &l6), 0);
	assert_int_equal(tdc_cpuid_table_set(&t, &lb), 0);
	tdc_td_controls_infer(&t, &c);
	assert_true(c.present);
	assert_int_equal(c.known, 0xe);
	assert_int_equal(c.value, 0xe);
	assert_string_equal(c.method, "cpuid");
	/* The #VE handler's zeros: off. */
	memset(l2.regs, 0, sizeof(l2.regs));
	memset(l6.regs, 0, sizeof(l6.regs));
	memset(lb.regs, 0, sizeof(lb.regs));
	assert_int_equal(tdc_cpuid_table_set(&t, &l2), 0);
	assert_int_equal(tdc_cpuid_table_set(&t, &l6), 0);
	assert_int_equal(tdc_cpuid_table_set(&t, &lb), 0);
	tdc_td_controls_infer(&t, &c);
	assert_int_equal(c.known, 0xe);
	assert_int_equal(c.value, 0);
	/* A native-looking leaf 6 (not the module's ARAT-only value): REDUCE_VE unknown. */
	l6.regs[0] = 0x77;
	assert_int_equal(tdc_cpuid_table_set(&t, &l6), 0);
	tdc_td_controls_infer(&t, &c);
	assert_int_equal(c.known, 0x6);
	/* Leaves above the maximum basic leaf say nothing. */
	l0.regs[0] = 1;
	assert_int_equal(tdc_cpuid_table_set(&t, &l0), 0);
	tdc_td_controls_infer(&t, &c);
	assert_false(c.present);
	assert_int_equal(c.known, 0);
	tdc_cpuid_table_free(&t);
}

static void test_reject_tables(void **state)
{
	struct tdc_buf b;

	(void)state;
	/* Entry of 3 integers in the common table. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 2);
	w_entry(&b, 0, 0, 0);
	w_arr(&b, 3);
	w_u(&b, 1);
	w_u(&b, 2);
	w_u(&b, 3);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_TYPE,
		    "claims.common[1]: expected array of 7 unsigned integers, got array of 3");
	tdc_buf_free(&b);

	/* A register above 32 bits. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 1);
	w_arr(&b, 7);
	for (int i = 0; i < 5; i++)
		w_u(&b, 0);
	w_u(&b, 1ull << 32);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_RANGE, "claims.common[0][5]: value 4294967296 exceeds");
	tdc_buf_free(&b);

	/* Duplicate and out-of-order (leaf, subleaf). */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 3);
	w_entry(&b, 1, 0, 0);
	w_entry(&b, 7, 0, TDC_CPUID_F_INDEXED);
	w_entry(&b, 7, 0, TDC_CPUID_F_INDEXED);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_DUPLICATE, "claims.common[2]: duplicate entry for leaf 0x7 subleaf 0");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 2);
	w_entry(&b, 7, 0, TDC_CPUID_F_INDEXED);
	w_entry(&b, 1, 0, 0);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.common[1]: leaf 0x1 subleaf 0 out of");
	tdc_buf_free(&b);

	/* Flags: ABSENT in the common table, unknown bits, subleaf without INDEXED. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 1);
	w_entry(&b, 1, 0, TDC_CPUID_F_ABSENT);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_RANGE, "claims.common[0]: flags 0x80000000");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 1);
	w_entry(&b, 1, 0, 0x4);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_RANGE, "claims.common[0]: flags 0x4");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 1);
	w_entry(&b, 1, 3, 0);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_RANGE, "claims.common[0]: leaf 0x1 is not indexed");
	tdc_buf_free(&b);

	/* More entries than the cap; more than the bytes left. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, TDC_CPUID_MAX_ENTRIES + 1);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_TOO_LARGE, "claims.common: array of 4097 elements");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_u(&b, 3);
	w_arr(&b, 100);
	w_entry(&b, 1, 0, 0);
	expect_fail(&b, TDC_ERR_TRUNCATED, "claims.common: array declares 100 elements");
	tdc_buf_free(&b);
}

static void test_reject_cpus(void **state)
{
	const uint32_t asc[] = { 0, 1 }, desc[] = { 3, 1 }, dup[] = { 2, 2 };
	const int k00[] = { 0, 0 }, k01[] = { 0, 1 }, k02[] = { 0, 2 };
	const uint32_t sk_dup[] = { 1 }, sk_desc[] = { 9, 5 };
	struct tdc_buf b;

	(void)state;
	w_doc(&b, desc, k00, 2, NULL, 0);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.cpus[1]: CPU 1 after CPU 3");
	tdc_buf_free(&b);
	w_doc(&b, dup, k00, 2, NULL, 0);
	expect_fail(&b, TDC_ERR_DUPLICATE, "claims.cpus[1]: CPU 2 listed twice");
	tdc_buf_free(&b);
	w_doc(&b, asc, k01, 2, NULL, 0);
	expect_fail(&b, TDC_ERR_FORMAT,
		    "claims.cpus[1].delta[0]: absent entry (leaf 0x7, subleaf 2) is not in the common");
	tdc_buf_free(&b);
	w_doc(&b, asc, k02, 2, NULL, 0);
	expect_fail(&b, TDC_ERR_TYPE,
		    "claims.cpus[1].delta[1]: expected array of 7 unsigned integers, got array of 6");
	tdc_buf_free(&b);
	w_doc(&b, asc, k00, 2, sk_dup, 1);
	expect_fail(&b, TDC_ERR_DUPLICATE, "claims.skipped[0]: CPU 1 is also listed in claims.cpus[1]");
	tdc_buf_free(&b);
	w_doc(&b, asc, k00, 2, sk_desc, 2);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.skipped[1]: CPU 5 after CPU 9");
	tdc_buf_free(&b);

	/* Too many CPUs (checked before any allocation). */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_common(&b);
	w_u(&b, 4);
	w_arr(&b, TDC_CLAIMS_MAX_CPUS + 1);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_TOO_LARGE, "claims.cpus: array of 8193 elements exceeds");
	tdc_buf_free(&b);

	/* A CPU map missing its delta, and one with an unknown key. */
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_common(&b);
	w_u(&b, 4);
	w_arr(&b, 1);
	w_map(&b, 1);
	w_u(&b, 0);
	w_u(&b, 0);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_MISSING, "claims.cpus[0]: required field 'delta'");
	tdc_buf_free(&b);
	tdc_buf_init(&b);
	w_head3(&b, 9);
	w_common(&b);
	w_u(&b, 4);
	w_arr(&b, 1);
	w_map(&b, 2);
	w_u(&b, 0);
	w_u(&b, 0);
	w_u(&b, 3);
	w_pad(&b);
	expect_fail(&b, TDC_ERR_FORMAT, "claims.cpus[0]: unknown map key 3");
	tdc_buf_free(&b);
}

static void test_reject_oversized(void **state)
{
	struct tdc_claims c;
	struct tdc_envelope e;
	uint8_t *big = calloc(1, TDC_EVIDENCE_MAX + 1);

	(void)state;
	assert_non_null(big);
	assert_int_equal(tdc_claims_decode(big, TDC_EVIDENCE_MAX + 1, &c), TDC_ERR_TOO_LARGE);
	assert_non_null(strstr(tdc_errdetail(), "claims: 1048577 bytes exceed"));
	assert_int_equal(tdc_envelope_decode(big, TDC_EVIDENCE_MAX + 1, &e), TDC_ERR_TOO_LARGE);
	assert_non_null(strstr(tdc_errdetail(), "envelope"));
	free(big);
}

/* Every proper prefix of a valid encoding fails cleanly as truncated. */
static void test_truncation_every_offset(void **state)
{
	struct tdc_claims c, d;
	struct tdc_buf b;

	(void)state;
	make_claims(&c, 12);
	encode_ok(&c, &b);
	for (size_t n = 0; n < b.len; n++) {
		/* A heap copy of exactly n bytes lets ASan catch any overread. */
		uint8_t *p = malloc(n ? n : 1);
		int r;

		assert_non_null(p);
		memcpy(p, b.data, n);
		r = tdc_claims_decode(p, n, &d);
		if (r != TDC_ERR_TRUNCATED)
			fail_msg("prefix of %zu/%zu bytes: %s: %s", n, b.len, tdc_strerror(r),
				 tdc_errdetail());
		assert_int_equal(d.ncpus, 0);
		free(p);
	}
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), 0);
	tdc_claims_free(&d);
	tdc_claims_free(&c);
	tdc_buf_free(&b);
}

/* The encoder refuses what the decoder would reject. */
static void test_encoder_validates(void **state)
{
	struct tdc_claims c;
	struct tdc_buf b;

	(void)state;
	tdc_buf_init(&b);
	make_claims(&c, 8);
	c.cpus[1].cpu = c.cpus[0].cpu;
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_DUPLICATE);
	assert_int_equal(b.len, 0);
	tdc_claims_free(&c);

	make_claims(&c, 8);
	c.skipped[0].cpu = c.cpus[2].cpu;
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_DUPLICATE);
	tdc_claims_free(&c);

	make_claims(&c, 8);
	add(&c.cpus[0].delta, 0x99, 0, TDC_CPUID_F_ABSENT, 0, 0, 0, 0);
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "claims.cpus[cpu 0].delta"));
	tdc_claims_free(&c);

	make_claims(&c, 8);
	c.common.e[3].flags |= TDC_CPUID_F_ABSENT;
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_RANGE);
	tdc_claims_free(&c);

	make_claims(&c, 8);
	c.nonce_len = TDC_CLAIMS_NONCE_MAX + 1;
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_RANGE);
	tdc_claims_free(&c);

	make_claims(&c, 8);
	c.skipped[0].reason[0] = '\0';
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_FORMAT);
	tdc_claims_free(&c);

	make_claims(&c, 8);
	memcpy(c.agent_version, "\xff\xfe", 3);
	assert_int_equal(tdc_claims_encode(&c, &b), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "claims.agent_version"));
	tdc_claims_free(&c);
	assert_int_equal(b.len, 0);
	tdc_buf_free(&b);
}

/* ------------------------------- envelope ------------------------------- */

static void test_envelope(void **state)
{
	struct tdc_envelope e, d;
	struct tdc_buf b, b2;
	struct tdc_claims c;
	uint8_t report[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(report); i++)
		report[i] = (uint8_t)i;
	tdc_envelope_init(&e);
	make_claims(&c, 8);
	assert_int_equal(tdc_claims_encode(&c, &e.claims), 0);
	assert_int_equal(tdc_buf_put(&e.tdreport, report, sizeof(report)), 0);
	tdc_buf_init(&b);
	assert_int_equal(tdc_envelope_encode(&e, &b), 0);
	assert_int_equal(b.data[0], 0xa2);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.claims.len, e.claims.len);
	assert_memory_equal(d.claims.data, e.claims.data, e.claims.len);
	assert_int_equal(d.tdreport.len, sizeof(report));
	assert_memory_equal(d.tdreport.data, report, sizeof(report));
	assert_int_equal(d.quote.len, 0);
	tdc_buf_init(&b2);
	assert_int_equal(tdc_envelope_encode(&d, &b2), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	tdc_envelope_free(&d);

	/* Every prefix is truncated; a trailing byte is rejected. */
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(tdc_envelope_decode(b.data, n, &d), TDC_ERR_TRUNCATED);
	assert_int_equal(tdc_buf_put_u8(&b, 0), 0);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &d), TDC_ERR_TRAILING);

	/* Claims missing; empty claims; text instead of bytes. */
	tdc_buf_reset(&b);
	assert_int_equal(tdc_buf_put(&b, "\xa1\x01\x41\x00", 4), 0);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &d), TDC_ERR_MISSING);
	assert_non_null(strstr(tdc_errdetail(), "envelope: required field 'claims'"));
	tdc_buf_reset(&b);
	assert_int_equal(tdc_buf_put(&b, "\xa1\x00\x40", 3), 0);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &d), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "envelope.claims: present but empty"));
	tdc_buf_reset(&b);
	assert_int_equal(tdc_buf_put(&b, "\xa2\x00\x41\x00\x02\x61\x00", 7), 0);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &d), TDC_ERR_TYPE);
	assert_non_null(strstr(tdc_errdetail(), "envelope.quote: expected byte string"));
	tdc_buf_reset(&b);
	assert_int_equal(tdc_buf_put(&b, "\xa2\x00\x41\x00\x00\x41\x00", 7), 0);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &d), TDC_ERR_DUPLICATE);

	/* Encoder refuses an envelope without claims. */
	tdc_buf_reset(&b);
	tdc_buf_reset(&e.claims);
	assert_int_equal(tdc_envelope_encode(&e, &b), TDC_ERR_MISSING);

	tdc_claims_free(&c);
	tdc_envelope_free(&e);
	tdc_buf_free(&b);
	tdc_buf_free(&b2);
}

/* claims.cpu_set (1.2): optional, absent = sysfs, one spelling each; 1.1 documents decode. */
static void test_cpu_set(void **state)
{
	struct tdc_claims c, d;
	struct tdc_buf b, b0;
	size_t at;

	(void)state;
	make_claims(&c, 2);
	tdc_buf_init(&b0);
	tdc_buf_init(&b);
	c.version_minor = 1;                 /* what a 1.1 agent wrote */
	assert_int_equal(tdc_claims_encode(&c, &b0), 0);
	assert_int_equal(tdc_claims_decode(b0.data, b0.len, &d), 0);
	assert_int_equal(d.cpu_set, TDC_CPUSET_SYSFS);
	tdc_claims_free(&d);
	c.version_minor = TDC_CLAIMS_VERSION_MINOR;
	c.cpu_set = TDC_CPUSET_CPUINFO;
	assert_int_equal(tdc_claims_encode(&c, &b), 0);
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.cpu_set, TDC_CPUSET_CPUINFO);
	tdc_claims_free(&d);
	at = b.len - 8;
	assert_memory_equal(b.data + at, "g" "cpuinfo", 8);
	b.len = at;
	w_text(&b, "sysfs");
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "claims.cpu_set: \"sysfs\" is the default"));
	b.len = at;
	w_text(&b, "guess");
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), TDC_ERR_RANGE);
	assert_non_null(strstr(tdc_errdetail(), "unknown CPU set source 'guess'"));
	assert_string_equal(tdc_cpu_set_name(TDC_CPUSET_AFFINITY), "affinity");
	tdc_buf_free(&b);
	tdc_buf_free(&b0);
	tdc_claims_free(&c);
}

/* claims.binding (1.1) and envelope.eventlog: optional, one spelling each. */
static void test_binding_and_eventlog(void **state)
{
	struct tdc_claims c, d;
	struct tdc_envelope e, de;
	struct tdc_buf b, b0;
	size_t at;

	(void)state;
	make_claims(&c, 4);
	tdc_buf_init(&b0);
	tdc_buf_init(&b);
	assert_int_equal(tdc_claims_encode(&c, &b0), 0);
	c.binding = TDC_BIND_RTMR3;
	assert_int_equal(tdc_claims_encode(&c, &b), 0);
	/* Exactly the key/value pair 12: "rtmr3" more than the default form. */
	assert_int_equal(b.len, b0.len + 1 + 6);
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.binding, TDC_BIND_RTMR3);
	tdc_claims_free(&d);
	assert_int_equal(tdc_claims_decode(b0.data, b0.len, &d), 0);
	assert_int_equal(d.binding, TDC_BIND_REPORTDATA);
	tdc_claims_free(&d);

	/* "reportdata" spelled out, or an unknown value: rejected by name. */
	at = b.len - 6;
	assert_memory_equal(b.data + at, "\x65rtmr3", 6);
	b.len = at;
	w_text(&b, "reportdata");
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "claims.binding: \"reportdata\" is the default"));
	b.len = at;
	w_text(&b, "tpm");
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), TDC_ERR_RANGE);
	assert_non_null(strstr(tdc_errdetail(), "claims.binding: unknown binding 'tpm'"));
	b.len = at;
	w_u(&b, 1);
	assert_int_equal(tdc_claims_decode(b.data, b.len, &d), TDC_ERR_TYPE);
	assert_int_equal(tdc_binding_parse("rtmr3", &c.binding), 0);
	assert_string_equal(tdc_binding_name(TDC_BIND_REPORTDATA), "reportdata");

	/* An envelope with an event log round-trips; an empty one is refused. */
	tdc_envelope_init(&e);
	assert_int_equal(tdc_buf_put(&e.claims, b0.data, b0.len), 0);
	assert_int_equal(tdc_buf_put(&e.eventlog, "\x01\x02\x03", 3), 0);
	tdc_buf_reset(&b);
	assert_int_equal(tdc_envelope_encode(&e, &b), 0);
	assert_int_equal(b.data[0], 0xa2);
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &de), 0);
	assert_int_equal(de.eventlog.len, 3);
	assert_memory_equal(de.eventlog.data, "\x01\x02\x03", 3);
	tdc_envelope_free(&de);
	b.data[b.len - 4] = 0x40; /* key 3 => empty byte string, then junk */
	b.len -= 3;
	assert_int_equal(tdc_envelope_decode(b.data, b.len, &de), TDC_ERR_FORMAT);
	assert_non_null(strstr(tdc_errdetail(), "envelope.eventlog: present but empty"));

	tdc_envelope_free(&e);
	tdc_claims_free(&c);
	tdc_buf_free(&b);
	tdc_buf_free(&b0);
}

/* ------------------------------ REPORTDATA ------------------------------ */

static void openssl_reportdata(const uint8_t *p, size_t n, uint8_t out[64])
{
	static const char tag[] = "tdcpuid-claims-v1";
	uint8_t *msg = malloc(sizeof(tag) + n);
	unsigned int len = 0;

	assert_non_null(msg);
	memcpy(msg, tag, sizeof(tag)); /* includes the 0x00 separator */
	if (n)
		memcpy(msg + sizeof(tag), p, n);
	assert_int_equal(EVP_Digest(msg, sizeof(tag) + n, out, &len, EVP_sha512(), NULL), 1);
	assert_int_equal(len, 64);
	free(msg);
}

static void test_reportdata(void **state)
{
	/* Minimal claims from test_roundtrip_minimal; digest computed offline
	 * with Python hashlib.sha512(b"tdcpuid-claims-v1\0" + claims). */
	static const uint8_t minimal[] = {
		0xa9, 0x00, 0x82, 0x01, 0x00, 0x01, 0x40, 0x02, 0x64, 'n', 'o', 'n', 'e',
		0x03, 0x80, 0x04, 0x80, 0x05, 0x80, 0x07, 0x60, 0x08, 0x60, 0x0a, 0x00,
	};
	static const char *fixed =
		"8ce89595d376a2f67fba6a92dec220d0802ce1a43bc2583fe315296b27b3dca5"
		"9289aae03f27cfb667b566537d5aa68b7be3d259ba04e30c99725b1191472a19";
	uint8_t rd[64], want[64], flipped[64];
	char hex[129];
	struct tdc_claims c;
	struct tdc_buf b;

	(void)state;
	assert_int_equal(tdc_reportdata_compute(minimal, sizeof(minimal), rd), 0);
	tdc_hex_encode(rd, sizeof(rd), hex);
	assert_string_equal(hex, fixed);

	make_claims(&c, 10);
	encode_ok(&c, &b);
	assert_int_equal(tdc_reportdata_compute(b.data, b.len, rd), 0);
	openssl_reportdata(b.data, b.len, want);
	assert_memory_equal(rd, want, sizeof(rd));

	/* Flipping any single byte changes the binding. */
	for (size_t i = 0; i < b.len; i++) {
		b.data[i] ^= 0x01;
		assert_int_equal(tdc_reportdata_compute(b.data, b.len, flipped), 0);
		assert_memory_not_equal(rd, flipped, sizeof(rd));
		b.data[i] ^= 0x01;
	}
	/* The tag and separator are part of it: SHA-512(claims) alone differs. */
	assert_int_equal(EVP_Digest(b.data, b.len, want, NULL, EVP_sha512(), NULL), 1);
	assert_memory_not_equal(rd, want, sizeof(rd));
	tdc_claims_free(&c);
	tdc_buf_free(&b);
}

static void test_tee_names(void **state)
{
	enum tdc_tee t;

	(void)state;
	assert_string_equal(tdc_tee_name(TDC_TEE_TDX), "tdx");
	assert_string_equal(tdc_tee_name(TDC_TEE_SIM), "sim");
	assert_string_equal(tdc_tee_name(TDC_TEE_NONE), "none");
	assert_int_equal(tdc_tee_parse("sim", &t), 0);
	assert_int_equal(t, TDC_TEE_SIM);
	assert_int_equal(tdc_tee_parse("TDX", &t), TDC_ERR_RANGE);
}

/*
 * With TDC_WRITE_SEEDS=<dir>, write the fuzz seed corpora (small valid
 * encodings) to <dir>/claims/ and <dir>/evidence/.
 */
static void write_seeds(void)
{
	const char *dir = getenv("TDC_WRITE_SEEDS");
	static const uint32_t sizes[] = { 0, 1, 3, 6 };
	char path[512];

	if (!dir)
		return;
	{
		struct tdc_claims c;
		struct tdc_buf b;

		tdc_claims_init(&c);
		encode_ok(&c, &b);
		snprintf(path, sizeof(path), "%s/claims/seed-minimal.cbor", dir);
		assert_int_equal(tdc_write_file(path, b.data, b.len), 0);
		tdc_buf_free(&b);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct tdc_claims c;
		struct tdc_envelope e;
		struct tdc_buf b;

		make_claims(&c, sizes[i]);
		if (sizes[i] == 0)
			make_common(&c.common); /* tables without CPUs */
		tdc_envelope_init(&e);
		encode_ok(&c, &e.claims);
		snprintf(path, sizeof(path), "%s/claims/seed-%u.cbor", dir, sizes[i]);
		assert_int_equal(tdc_write_file(path, e.claims.data, e.claims.len), 0);
		if (i % 2)
			assert_int_equal(tdc_buf_put(&e.tdreport, "TDREPORT", 8), 0);
		else
			assert_int_equal(tdc_buf_put(&e.quote, "QUOTE", 5), 0);
		tdc_buf_init(&b);
		assert_int_equal(tdc_envelope_encode(&e, &b), 0);
		snprintf(path, sizeof(path), "%s/evidence/seed-%u.cbor", dir, sizes[i]);
		assert_int_equal(tdc_write_file(path, b.data, b.len), 0);
		tdc_buf_free(&b);
		tdc_envelope_free(&e);
		tdc_claims_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_realistic),
		cmocka_unit_test(test_roundtrip_minimal),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_cpu_table),
		cmocka_unit_test(test_hand_written_valid),
		cmocka_unit_test(test_reject_structure),
		cmocka_unit_test(test_reject_version),
		cmocka_unit_test(test_reject_encoding),
		cmocka_unit_test(test_reject_indefinite_top),
		cmocka_unit_test(test_reject_long_heads),
		cmocka_unit_test(test_entry_spellings),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_reject_fields),
		cmocka_unit_test(test_reject_tables),
		cmocka_unit_test(test_td_controls),
		cmocka_unit_test(test_td_controls_infer),
		cmocka_unit_test(test_reject_cpus),
		cmocka_unit_test(test_reject_oversized),
		cmocka_unit_test(test_truncation_every_offset),
		cmocka_unit_test(test_encoder_validates),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_binding_and_eventlog),
		cmocka_unit_test(test_cpu_set),
		cmocka_unit_test(test_reportdata),
		cmocka_unit_test(test_tee_names),
	};

	write_seeds();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
