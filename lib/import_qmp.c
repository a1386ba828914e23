// SPDX-License-Identifier: Apache-2.0
/*
 * Importer for QEMU QMP `qom-get` replies of the x86 CPU properties
 * "feature-words" and "filtered-features" (docs/requested-formats.md, "qmp").
 *
 * Reply shape, as QEMU 7.2 sends it (checked against a live
 * qemu-system-x86_64 7.2 on the test hosts, see tests/data/requested/):
 *
 *   {"return": [{"cpuid-register": "EDX", "cpuid-input-eax": 1,
 *                "features": 126614525},
 *               {"cpuid-register": "EBX", "cpuid-input-ecx": 0,
 *                "cpuid-input-eax": 7, "features": 0}, ...]}
 *
 * (QAPI type X86CPUFeatureWordInfo; "cpuid-input-ecx" is present only for
 * leaves whose subleaf is significant.)  A feature word is a whole register
 * as QEMU will program it into KVM, so each covered register is fully
 * known; registers QEMU has no feature word for are unknown (known = 0).
 * QEMU reports only CPUID-based words here (x86_cpu_get_feature_words skips
 * MSR words); an element without "cpuid-register" is skipped, so a future
 * MSR word cannot break the import.
 *
 * Accepted documents: a raw reply (feature-words only), an object pairing
 * the two raw replies, or a `tdcpuid-verifier capture` file with every vCPU.
 *
 * A capture may also carry what QEMU adds beyond the feature words
 * (target/i386/cpu.c, target/i386/kvm/kvm.c): each vCPU's "level", "xlevel"
 * and "vendor" (leaf 0 and 0x80000000 as QEMU builds them; QEMU gives KVM
 * only the leaves 0..level and 0x80000000..xlevel, so words above them are
 * no request), and the machine's "smp" topology, from which QEMU sets
 * 01H:EDX.ht (more than one thread per package) and, for a non-Intel
 * vendor, 80000001H:ECX.cmp-legacy.
 */
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/error.h"
#include "tdcpuid/json.h"
#include "import.h"

/* QEMU 7.2 has about 40 feature words; generous headroom for later ones. */
#define TDC_QMP_MAX_WORDS 256

static const char *const word_keys[] = {
	"cpuid-register", "cpuid-input-eax", "cpuid-input-ecx", "features", NULL,
};

struct word {
	uint32_t leaf, subleaf;
	bool indexed;
	enum tdc_reg reg;
	uint32_t features;
};

/* Returns 1 for a skipped (non-CPUID) word, 0 for a parsed one. */
static int parse_word(const json_t *v, const char *what, const char *path, struct word *w)
{
	char p[TDC_JSON_PATH_MAX];
	const char *rs;
	json_t *m;
	int r;

	memset(w, 0, sizeof(*w));
	if (!json_is_object(v))
		return tdc_err(TDC_ERR_TYPE, "%s: %s: expected object", what, path);
	if (!json_object_get(v, "cpuid-register"))
		return 1;
	if ((r = tdc_json_check_object(v, word_keys, what, path)) != 0)
		return r;
	tdc_json_path(p, sizeof(p), path, "cpuid-register");
	if ((r = tdc_json_string(json_object_get(v, "cpuid-register"), TDC_IMPORT_STR_MAX,
				 what, p, &rs)) != 0)
		return r;
	if (tdc_reg_parse(rs, &w->reg) != 0)
		return tdc_err(TDC_ERR_RANGE, "%s: %s: \"%s\" is not EAX, EBX, ECX or EDX",
			       what, p, rs);
	if ((r = tdc_json_member(v, "cpuid-input-eax", true, what, path, &m)) != 0 ||
	    (r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, "cpuid-input-eax"),
			      &w->leaf)) != 0)
		return r;
	if ((m = json_object_get(v, "cpuid-input-ecx"))) {
		w->indexed = true;
		if ((r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path,
							     "cpuid-input-ecx"), &w->subleaf)) != 0)
			return r;
	}
	if ((r = tdc_json_member(v, "features", true, what, path, &m)) != 0)
		return r;
	return tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, "features"),
			    &w->features);
}

static struct tdc_cpuid_entry *find_exact(struct tdc_cpuid_table *t, uint32_t leaf,
					  uint32_t subleaf)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf && t->e[i].subleaf == subleaf)
			return &t->e[i];
	return NULL;
}

/* Find or create the entry of @w in @t; rejects a register given twice. */
static int merge_word(struct tdc_cpuid_table *t, struct tdc_cpuid_table *known,
		      const struct word *w, const char *what, const char *path)
{
	uint32_t flags = w->indexed ? TDC_CPUID_F_INDEXED : 0;
	struct tdc_cpuid_entry *ev, *ek;
	int r;

	for (size_t i = 0; i < known->n; i++)
		if (known->e[i].leaf == w->leaf &&
		    ((known->e[i].flags ^ flags) & TDC_CPUID_F_INDEXED))
			return tdc_err(TDC_ERR_DUPLICATE, "%s: %s: leaf 0x%x appears with and "
				       "without cpuid-input-ecx", what, path, w->leaf);
	if (!find_exact(known, w->leaf, w->subleaf)) {
		struct tdc_cpuid_entry e = { .leaf = w->leaf, .subleaf = w->subleaf,
					     .flags = flags };

		if ((r = tdc_cpuid_table_set(t, &e)) != 0 ||
		    (r = tdc_cpuid_table_set(known, &e)) != 0)
			return r;
	}
	ev = find_exact(t, w->leaf, w->subleaf);
	ek = find_exact(known, w->leaf, w->subleaf);
	if (!ev || !ek)
		return tdc_err(TDC_ERR_INTERNAL, "%s: %s: lost table entry", what, path);
	if (ek->regs[w->reg])
		return tdc_err(TDC_ERR_DUPLICATE, "%s: %s: second feature word for leaf 0x%x "
			       "subleaf %u %s", what, path, w->leaf, w->subleaf,
			       tdc_reg_name(w->reg));
	ev->regs[w->reg] = w->features;
	ek->regs[w->reg] = UINT32_MAX;
	return 0;
}

/* A feature-word list (the "return" of one qom-get) into @t / @known. */
static int parse_words(const json_t *arr, const char *what, const char *path,
		       struct tdc_cpuid_table *t, struct tdc_cpuid_table *known)
{
	char ep[TDC_JSON_PATH_MAX];
	size_t n;
	int r;

	if ((r = tdc_json_array(arr, TDC_QMP_MAX_WORDS, what, path, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct word w;

		tdc_json_path_idx(ep, sizeof(ep), path, i);
		r = parse_word(json_array_get(arr, i), what, ep, &w);
		if (r == 1)
			continue;
		if (r != 0 || (r = merge_word(t, known, &w, what, ep)) != 0)
			return r;
	}
	tdc_cpuid_table_sort(t);
	tdc_cpuid_table_sort(known);
	return 0;
}

/* {"return": [...], "id"?: any}: the raw QMP success reply. */
static int parse_reply(const json_t *v, const char *what, const char *path,
		       struct tdc_cpuid_table *t, struct tdc_cpuid_table *known)
{
	static const char *const keys[] = { "return", "id", NULL };
	char p[TDC_JSON_PATH_MAX];
	json_t *ret;
	int r;

	if (json_is_object(v) && json_object_get(v, "error"))
		return tdc_err(TDC_ERR_FORMAT, "%s: %s: QMP error reply, not feature words",
			       what, path && *path ? path : "(top level)");
	if ((r = tdc_json_check_object(v, keys, what, path)) != 0 ||
	    (r = tdc_json_member(v, "return", true, what, path, &ret)) != 0)
		return r;
	return parse_words(ret, what, tdc_json_path(p, sizeof(p), path, "return"), t, known);
}

static int parse_pair(const json_t *root, const char *what, struct tdc_requested *out)
{
	static const char *const keys[] = { "feature-words", "filtered-features", NULL };
	struct tdc_cpuid_table fknown;
	json_t *m;
	int r;

	if ((r = tdc_json_check_object(root, keys, what, "")) != 0)
		return r;
	if ((r = tdc_json_member(root, "feature-words", true, what, "", &m)) != 0 ||
	    (r = parse_reply(m, what, "feature-words", &out->table, &out->known)) != 0)
		return r;
	if (!(m = json_object_get(root, "filtered-features")))
		return 0;
	tdc_cpuid_table_init(&fknown);
	r = parse_reply(m, what, "filtered-features", &out->filtered, &fknown);
	tdc_cpuid_table_free(&fknown);
	return r;
}

struct cpu_tables {
	struct tdc_cpuid_table t, known, filtered;
	uint32_t index;
	bool has_props;
	uint32_t level, xlevel;
	char vendor[13];
};

/* -smp as QEMU resolved it ("smp" of the capture). */
struct qemu_smp {
	bool has;
	uint32_t threads_per_pkg;   /* dies * cores * threads */
};

/* Bits QEMU's cpu_x86_cpuid() adds from the topology, not from a feature word. */
static const struct {
	uint32_t leaf;
	uint8_t reg;
	uint32_t mask;
	bool non_intel_only;
} qemu_smp_bits[] = {
	{ 0x1, TDC_EDX, 1u << 28, false },        /* HT: threads per package > 1 */
	{ 0x80000001, TDC_ECX, 1u << 1, true },   /* CmpLegacy, "so Linux keeps SMT info" on AMD */
};

static void cpu_tables_free(struct cpu_tables *c)
{
	tdc_cpuid_table_free(&c->t);
	tdc_cpuid_table_free(&c->known);
	tdc_cpuid_table_free(&c->filtered);
}

/* {"level": 13, "xlevel": 2147483658, "vendor": "AuthenticAMD"} */
static int parse_props(const json_t *v, const char *what, const char *path,
		       struct cpu_tables *c)
{
	static const char *const keys[] = { "level", "xlevel", "vendor", NULL };
	char p[TDC_JSON_PATH_MAX];
	const char *vendor;
	json_t *m;
	int r;

	if ((r = tdc_json_check_object(v, keys, what, path)) != 0 ||
	    (r = tdc_json_member(v, "level", true, what, path, &m)) != 0 ||
	    (r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, "level"), &c->level)) != 0 ||
	    (r = tdc_json_member(v, "xlevel", true, what, path, &m)) != 0 ||
	    (r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, "xlevel"), &c->xlevel)) != 0 ||
	    (r = tdc_json_member(v, "vendor", true, what, path, &m)) != 0 ||
	    (r = tdc_json_string(m, 12, what, tdc_json_path(p, sizeof(p), path, "vendor"),
				 &vendor)) != 0)
		return r;
	if (strlen(vendor) != 12)
		return tdc_err(TDC_ERR_FORMAT, "%s: %s.vendor: \"%s\" is not 12 characters", what,
			       path, vendor);
	if (c->xlevel && c->xlevel < 0x80000000u)
		return tdc_err(TDC_ERR_RANGE, "%s: %s.xlevel: 0x%x is below 0x80000000", what,
			       path, c->xlevel);
	memcpy(c->vendor, vendor, 13);
	c->has_props = true;
	return 0;
}

static int parse_smp(const json_t *root, const char *what, struct qemu_smp *smp)
{
	static const char *const keys[] = {
		"cpus", "maxcpus", "sockets", "dies", "clusters", "books", "drawers", "cores",
		"threads", NULL,
	};
	uint32_t dies = 1, cores = 1, threads = 1;
	const json_t *v = json_object_get(root, "smp");
	json_t *m;
	int r;

	memset(smp, 0, sizeof(*smp));
	if (!v)
		return 0;
	if ((r = tdc_json_check_object(v, keys, what, "smp")) != 0)
		return r;
	if (((m = json_object_get(v, "dies")) && (r = tdc_json_u32(m, what, "smp.dies", &dies)) != 0) ||
	    ((m = json_object_get(v, "cores")) && (r = tdc_json_u32(m, what, "smp.cores", &cores)) != 0) ||
	    ((m = json_object_get(v, "threads")) &&
	     (r = tdc_json_u32(m, what, "smp.threads", &threads)) != 0))
		return r;
	if (!dies || !cores || !threads || (uint64_t)dies * cores * threads > TDC_REQUESTED_MAX_CPUS)
		return tdc_err(TDC_ERR_RANGE, "%s: smp: %u dies x %u cores x %u threads", what, dies,
			       cores, threads);
	smp->has = true;
	smp->threads_per_pkg = dies * cores * threads;
	return 0;
}

static void set_known(struct tdc_cpuid_table *t, struct tdc_cpuid_table *known, uint32_t leaf,
		      const uint32_t regs[TDC_NREGS], uint32_t kmask, int *r)
{
	struct tdc_cpuid_entry e = { .leaf = leaf }, k = { .leaf = leaf };

	memcpy(e.regs, regs, sizeof(e.regs));
	for (int i = 0; i < TDC_NREGS; i++)
		k.regs[i] = kmask;
	if (!*r)
		*r = tdc_cpuid_table_set(t, &e);
	if (!*r)
		*r = tdc_cpuid_table_set(known, &k);
}

/*
 * What QEMU builds beyond the feature words (see the top of this file):
 * leaf 0 and 0x80000000 from level/xlevel/vendor, no words above them, and
 * the topology bits.
 */
static int apply_qemu(struct cpu_tables *c, const struct qemu_smp *smp)
{
	uint32_t v[TDC_NREGS];
	bool intel = !strcmp(c->vendor, "GenuineIntel");
	int r = 0;

	if (!c->has_props)
		return 0;
	for (size_t i = c->t.n; i-- > 0;) {
		const struct tdc_cpuid_entry *e = &c->t.e[i];
		bool basic = e->leaf < 0x40000000u, ext = (e->leaf >> 28) == 0x8;

		/* The hypervisor (0x4000xxxx) and Centaur ranges have their own limits. */
		if ((basic && e->leaf > c->level) || (ext && e->leaf > c->xlevel)) {
			uint32_t leaf = e->leaf, sub = e->subleaf;

			tdc_cpuid_table_remove(&c->t, leaf, sub);
			tdc_cpuid_table_remove(&c->known, leaf, sub);
		}
	}
	memcpy(&v[TDC_EBX], c->vendor, 4);
	memcpy(&v[TDC_EDX], c->vendor + 4, 4);
	memcpy(&v[TDC_ECX], c->vendor + 8, 4);
	v[TDC_EAX] = c->level;
	set_known(&c->t, &c->known, 0, v, UINT32_MAX, &r);
	if (c->xlevel) {
		v[TDC_EAX] = c->xlevel;
		set_known(&c->t, &c->known, 0x80000000u, v, UINT32_MAX, &r);
	}
	for (size_t i = 0; i < sizeof(qemu_smp_bits) / sizeof(qemu_smp_bits[0]) && !r && smp->has; i++) {
		struct tdc_cpuid_entry *e = find_exact(&c->t, qemu_smp_bits[i].leaf, 0);
		struct tdc_cpuid_entry *k = find_exact(&c->known, qemu_smp_bits[i].leaf, 0);
		bool on = smp->threads_per_pkg > 1 && (!qemu_smp_bits[i].non_intel_only || !intel);

		if (!e || !k)
			continue;
		e->regs[qemu_smp_bits[i].reg] = (e->regs[qemu_smp_bits[i].reg] & ~qemu_smp_bits[i].mask) |
						(on ? qemu_smp_bits[i].mask : 0);
		k->regs[qemu_smp_bits[i].reg] |= qemu_smp_bits[i].mask;
	}
	tdc_cpuid_table_sort(&c->t);
	tdc_cpuid_table_sort(&c->known);
	return r;
}

static int parse_capture_cpu(const json_t *v, const char *what, const char *path,
			     struct cpu_tables *c)
{
	static const char *const keys[] = {
		"cpu-index", "qom-path", "feature-words", "filtered-features", "cpuid-props", NULL,
	};
	char p[TDC_JSON_PATH_MAX];
	struct tdc_cpuid_table fknown;
	const char *qp;
	json_t *m;
	int r;

	if ((r = tdc_json_check_object(v, keys, what, path)) != 0)
		return r;
	if ((r = tdc_json_member(v, "cpu-index", true, what, path, &m)) != 0 ||
	    (r = tdc_json_u32(m, what, tdc_json_path(p, sizeof(p), path, "cpu-index"),
			      &c->index)) != 0)
		return r;
	if ((r = tdc_json_member(v, "qom-path", true, what, path, &m)) != 0 ||
	    (r = tdc_json_string(m, 256, what, tdc_json_path(p, sizeof(p), path, "qom-path"),
				 &qp)) != 0)
		return r;
	if ((r = tdc_json_member(v, "feature-words", true, what, path, &m)) != 0 ||
	    (r = parse_words(m, what, tdc_json_path(p, sizeof(p), path, "feature-words"),
			     &c->t, &c->known)) != 0)
		return r;
	if ((m = json_object_get(v, "cpuid-props")) &&
	    (r = parse_props(m, what, tdc_json_path(p, sizeof(p), path, "cpuid-props"), c)) != 0)
		return r;
	if (!(m = json_object_get(v, "filtered-features")))
		return 0;
	tdc_cpuid_table_init(&fknown);
	r = parse_words(m, what, tdc_json_path(p, sizeof(p), path, "filtered-features"),
			&c->filtered, &fknown);
	tdc_cpuid_table_free(&fknown);
	return r;
}

static int check_capture_header(const json_t *root, const char *what)
{
	static const char *const keys[] = { "format", "version", "qemu", "smp", "cpus", NULL };
	const char *s;
	uint32_t ver;
	json_t *m;
	int r;

	if ((r = tdc_json_check_object(root, keys, what, "")) != 0)
		return r;
	if ((r = tdc_json_member(root, "version", true, what, "", &m)) != 0 ||
	    (r = tdc_json_u32(m, what, "version", &ver)) != 0)
		return r;
	if (ver != 1)
		return tdc_err(TDC_ERR_VERSION, "%s: version: %u is not supported (expected 1)",
			       what, ver);
	if ((m = json_object_get(root, "qemu")) &&
	    (r = tdc_json_string(m, TDC_IMPORT_STR_MAX, what, "qemu", &s)) != 0)
		return r;
	return 0;
}

/* Move the parsed vCPUs into @out: vCPU tables per CPU, the first one common. */
static int adopt_cpus(struct cpu_tables *cpus, size_t n, struct tdc_requested *out)
{
	int r;

	if (!(out->per_cpu = calloc(n, sizeof(*out->per_cpu))))
		return tdc_err(TDC_ERR_ALLOC, "%zu per-vCPU tables", n);
	out->ncpus = n;
	for (size_t i = 0; i < n; i++) {
		out->per_cpu[i] = cpus[i].t;
		tdc_cpuid_table_init(&cpus[i].t);
	}
	if ((r = tdc_cpuid_table_copy(&out->table, &out->per_cpu[0])) != 0)
		return r;
	out->known = cpus[0].known;
	out->filtered = cpus[0].filtered;
	tdc_cpuid_table_init(&cpus[0].known);
	tdc_cpuid_table_init(&cpus[0].filtered);
	return 0;
}

static int parse_capture(const json_t *root, const char *what, struct tdc_requested *out)
{
	char ep[TDC_JSON_PATH_MAX];
	struct cpu_tables *cpus = NULL;
	struct qemu_smp smp = { 0 };
	json_t *arr;
	size_t n = 0;
	int r;

	if ((r = check_capture_header(root, what)) != 0 ||
	    (r = parse_smp(root, what, &smp)) != 0 ||
	    (r = tdc_json_member(root, "cpus", true, what, "", &arr)) != 0 ||
	    (r = tdc_json_array(arr, TDC_REQUESTED_MAX_CPUS, what, "cpus", &n)) != 0)
		return r;
	if (n == 0)
		return tdc_err(TDC_ERR_MISSING, "%s: cpus: no vCPUs", what);
	if (!(cpus = calloc(n, sizeof(*cpus))))
		return tdc_err(TDC_ERR_ALLOC, "%s: %zu vCPUs", what, n);
	for (size_t i = 0; i < n; i++) {
		tdc_json_path_idx(ep, sizeof(ep), "cpus", i);
		if ((r = parse_capture_cpu(json_array_get(arr, i), what, ep, &cpus[i])) != 0 ||
		    (r = apply_qemu(&cpus[i], &smp)) != 0)
			goto out;
		for (size_t j = 0; j < i; j++)
			if (cpus[j].index == cpus[i].index) {
				r = tdc_err(TDC_ERR_DUPLICATE, "%s: %s.cpu-index: %u appears twice",
					    what, ep, cpus[i].index);
				goto out;
			}
	}
	r = adopt_cpus(cpus, n, out);
out:
	for (size_t i = 0; i < n; i++)
		cpu_tables_free(&cpus[i]);
	free(cpus);
	return r;
}

int tdc_import_qmp(const json_t *root, const char *what, struct tdc_requested *out)
{
	json_t *fmt;

	snprintf(out->format, sizeof(out->format), "qmp");
	out->partial = true;
	if (!json_is_object(root))
		return tdc_err(TDC_ERR_TYPE, "%s: (top level): expected object", what);
	if ((fmt = json_object_get(root, "format"))) {
		if (!json_is_string(fmt) || strcmp(json_string_value(fmt), TDC_QMP_CAPTURE_FORMAT))
			return tdc_err(TDC_ERR_FORMAT, "%s: format: expected \"%s\"", what,
				       TDC_QMP_CAPTURE_FORMAT);
		return parse_capture(root, what, out);
	}
	if (json_object_get(root, "feature-words"))
		return parse_pair(root, what, out);
	return parse_reply(root, what, "", &out->table, &out->known);
}
