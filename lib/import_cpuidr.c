// SPDX-License-Identifier: Apache-2.0
/*
 * `cpuid -r` dumps (Todd Allen's cpuid tool, Debian package "cpuid") as
 * CPUID tables: the host's native CPUID for `predict --platform`, and a
 * requested configuration in the "cpuid-r" format.
 *
 * The format, as printed by `cpuid -r` (all CPUs) and `cpuid -1 -r`:
 *
 *   CPU 0:
 *      0x00000000 0x00: eax=0x00000020 ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69
 *      0x00000007 0x00: eax=0x00000002 ebx=0xf3bfbfff ecx=0xfb417fee edx=0xffdd4432
 *   CPU 1:
 *      ...
 *
 * ("CPU:" for a single CPU; a dump without any header is one CPU.)  The tool
 * prints subleaf 0x00 for every leaf, indexed or not, so whether the subleaf
 * is significant comes from the leaf rules (tdc_leaf_is_indexed), or from the
 * dump itself when it shows a leaf with more than one subleaf.
 *
 * The input is untrusted: the whole file is capped (TDC_REQUESTED_FILE_MAX),
 * so is each line and the number of CPUs; numbers are strict hex; every
 * error names the input and the line.
 */
#include <stdlib.h>
#include <string.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/cpuid.h"
#include "tdcpuid/error.h"
#include "tdcpuid/requested.h"

/* The real lines are 80 bytes; anything much longer is not this format. */
#define CPUIDR_LINE_MAX 256

struct cpuidr_parser {
	const char *what;
	unsigned line;
	struct tdc_cpuid_table *cpus;
	size_t ncpus;
	unsigned long last_cpu;  /* number in the last "CPU N:" header */
	bool headers;            /* the dump has "CPU" headers */
	bool entries_seen;       /* an entry line has been read */
};

/* "0x" followed by 1..8 hex digits, nothing else. */
static int parse_hex32(struct cpuidr_parser *p, const char *s, size_t n,
		       const char *field, uint32_t *out)
{
	uint32_t v = 0;

	if (n < 3 || n > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		goto bad;
	for (size_t i = 2; i < n; i++) {
		int d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			goto bad;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
bad:
	return tdc_err(TDC_ERR_FORMAT, "%s: line %u: %s: '%.*s' is not 0x + 1..8 hex digits",
		       p->what, p->line, field, (int)(n > 24 ? 24 : n), s);
}

/* Split off the next blank-separated token of @s (NUL-terminated line). */
static const char *next_token(const char **s, size_t *n)
{
	const char *t = *s;

	while (*t == ' ' || *t == '\t')
		t++;
	if (!*t)
		return NULL;
	*n = strcspn(t, " \t");
	*s = t + *n;
	return t;
}

static int new_cpu(struct cpuidr_parser *p)
{
	struct tdc_cpuid_table *nc;

	if (p->ncpus >= TDC_REQUESTED_MAX_CPUS)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: line %u: more than %d CPUs",
			       p->what, p->line, TDC_REQUESTED_MAX_CPUS);
	nc = realloc(p->cpus, (p->ncpus + 1) * sizeof(*nc));
	if (!nc)
		return tdc_err(TDC_ERR_ALLOC, "%s: table for CPU %zu", p->what, p->ncpus);
	p->cpus = nc;
	tdc_cpuid_table_init(&p->cpus[p->ncpus++]);
	return 0;
}

/* "CPU:" or "CPU <decimal>:" */
static int parse_header(struct cpuidr_parser *p, const char *s)
{
	unsigned long n = 0;
	const char *q = s + 3;
	size_t digits = 0;

	if (p->entries_seen && !p->headers)
		return tdc_err(TDC_ERR_FORMAT, "%s: line %u: CPU header after entries without one",
			       p->what, p->line);
	if (*q == ' ') {
		q++;
		while (*q >= '0' && *q <= '9' && digits < 7) {
			n = n * 10 + (unsigned long)(*q++ - '0');
			digits++;
		}
		if (!digits)
			goto bad;
	}
	if (q[0] != ':' || q[1] != '\0')
		goto bad;
	/* cpuid numbers CPUs in increasing order; a repeat would merge two CPUs. */
	if (p->headers && n <= p->last_cpu)
		return tdc_err(TDC_ERR_DUPLICATE, "%s: line %u: CPU %lu after CPU %lu",
			       p->what, p->line, n, p->last_cpu);
	p->headers = true;
	p->last_cpu = n;
	return new_cpu(p);
bad:
	return tdc_err(TDC_ERR_FORMAT, "%s: line %u: malformed CPU header (expected \"CPU N:\")",
		       p->what, p->line);
}

static const struct tdc_cpuid_entry *find_exact(const struct tdc_cpuid_table *t,
						uint32_t leaf, uint32_t subleaf)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].leaf == leaf && t->e[i].subleaf == subleaf)
			return &t->e[i];
	return NULL;
}

/* "0xLLLLLLLL 0xSS: eax=0x... ebx=0x... ecx=0x... edx=0x..." */
static int parse_entry(struct cpuidr_parser *p, const char *s)
{
	static const char *const prefix[TDC_NREGS] = { "eax=", "ebx=", "ecx=", "edx=" };
	struct tdc_cpuid_entry e = { 0 };
	const char *t;
	size_t n;
	int r;

	if (!(t = next_token(&s, &n)) || (r = parse_hex32(p, t, n, "leaf", &e.leaf)) != 0)
		return t ? r : tdc_err(TDC_ERR_FORMAT, "%s: line %u: empty", p->what, p->line);
	if (!(t = next_token(&s, &n)) || n < 2 || t[n - 1] != ':')
		return tdc_err(TDC_ERR_FORMAT, "%s: line %u: expected \"0xSUBLEAF:\" after the leaf",
			       p->what, p->line);
	if ((r = parse_hex32(p, t, n - 1, "subleaf", &e.subleaf)) != 0)
		return r;
	for (int i = 0; i < TDC_NREGS; i++) {
		if (!(t = next_token(&s, &n)) || n < 4 || memcmp(t, prefix[i], 4) != 0)
			return tdc_err(TDC_ERR_FORMAT, "%s: line %u: expected \"%s0x...\"",
				       p->what, p->line, prefix[i]);
		if ((r = parse_hex32(p, t + 4, n - 4, prefix[i], &e.regs[i])) != 0)
			return r;
	}
	if (next_token(&s, &n))
		return tdc_err(TDC_ERR_FORMAT, "%s: line %u: trailing text after edx",
			       p->what, p->line);
	if (!p->ncpus && (r = new_cpu(p)) != 0)
		return r;
	p->entries_seen = true;
	if (find_exact(&p->cpus[p->ncpus - 1], e.leaf, e.subleaf))
		return tdc_err(TDC_ERR_DUPLICATE, "%s: line %u: CPUID 0x%08x.0x%x appears twice for CPU %zu",
			       p->what, p->line, e.leaf, e.subleaf, p->ncpus - 1);
	if ((r = tdc_cpuid_table_set(&p->cpus[p->ncpus - 1], &e)) != 0)
		return tdc_err_wrap(r, "%s: line %u: ", p->what, p->line);
	return 0;
}

static int parse_line(struct cpuidr_parser *p, const char *s)
{
	const char *t = s;

	while (*t == ' ' || *t == '\t')
		t++;
	if (!*t || *t == '#')
		return 0;
	if (!strncmp(t, "CPU", 3) && t == s)
		return parse_header(p, t);
	return parse_entry(p, t);
}

/*
 * Mark indexed leaves: per the leaf rules, or because this CPU's dump shows
 * a subleaf other than 0 (a leaf the rules do not know yet).
 */
static void mark_indexed(struct tdc_cpuid_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].subleaf != 0 || tdc_leaf_is_indexed(t->e[i].leaf))
			t->e[i].flags |= TDC_CPUID_F_INDEXED;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (!(t->e[i].flags & TDC_CPUID_F_INDEXED))
			continue;
		for (size_t j = 0; j < t->n; j++)
			if (t->e[j].leaf == t->e[i].leaf)
				t->e[j].flags |= TDC_CPUID_F_INDEXED;
	}
}

static void free_cpus(struct tdc_cpuid_table *cpus, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tdc_cpuid_table_free(&cpus[i]);
	free(cpus);
}

int tdc_import_cpuid_r(const uint8_t *data, size_t len, const char *what,
		       struct tdc_cpuid_table **cpus, size_t *ncpus)
{
	struct cpuidr_parser p = { .what = what ? what : "cpuid -r" };
	char line[CPUIDR_LINE_MAX + 1];
	size_t off = 0;
	int r = 0;

	*cpus = NULL;
	*ncpus = 0;
	if (len > TDC_REQUESTED_FILE_MAX)
		return tdc_err(TDC_ERR_TOO_LARGE, "%s: %zu bytes exceed the %u-byte limit",
			       p.what, len, TDC_REQUESTED_FILE_MAX);
	while (off < len) {
		const uint8_t *nl = memchr(data + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t n = end - off;

		p.line++;
		if (n && data[off + n - 1] == '\r')
			n--;
		if (n > CPUIDR_LINE_MAX) {
			r = tdc_err(TDC_ERR_TOO_LARGE, "%s: line %u: longer than %d bytes",
				    p.what, p.line, CPUIDR_LINE_MAX);
			goto out;
		}
		if (memchr(data + off, '\0', n)) {
			r = tdc_err(TDC_ERR_FORMAT, "%s: line %u: NUL byte", p.what, p.line);
			goto out;
		}
		memcpy(line, data + off, n);
		line[n] = '\0';
		if ((r = parse_line(&p, line)) != 0)
			goto out;
		off = nl ? end + 1 : len;
	}
	if (!p.ncpus || !p.entries_seen) {
		r = tdc_err(TDC_ERR_FORMAT, "%s: no CPUID lines (expected `cpuid -r` output)",
			    p.what);
		goto out;
	}
	for (size_t i = 0; i < p.ncpus; i++) {
		if (!p.cpus[i].n) {
			r = tdc_err(TDC_ERR_FORMAT, "%s: CPU %zu has no CPUID lines", p.what, i);
			goto out;
		}
		mark_indexed(&p.cpus[i]);
		tdc_cpuid_table_sort(&p.cpus[i]);
	}
	*cpus = p.cpus;
	*ncpus = p.ncpus;
	p.cpus = NULL;
	p.ncpus = 0;
out:
	free_cpus(p.cpus, p.ncpus);
	return r;
}

/* The one loader of a platform dump (check, predict and serve's --platform). */
int tdc_platform_load(const char *path, struct tdc_cpuid_table **cpus, size_t *ncpus)
{
	struct tdc_buf b;
	int r;

	*cpus = NULL;
	*ncpus = 0;
	tdc_buf_init(&b);
	if ((r = tdc_read_file(path, TDC_REQUESTED_FILE_MAX, &b)) == 0)
		r = tdc_import_cpuid_r(b.data, b.len, path, cpus, ncpus);
	tdc_buf_free(&b);
	if (!r && !*ncpus)
		r = tdc_err(TDC_ERR_FORMAT, "%s: no CPU in the platform dump", path);
	return r;
}
