// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-verifier ingest: evidence from a serial console log (initramfs
 * runs without a network).  The nonce travelled the other way on the kernel
 * command line (tdcpuid.nonce=HEX), so freshness is as good as the care
 * taken to use a new nonce per boot (docs/protocol.md "Serial").
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "service.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/serial.h"
#include "tdcpuid/text.h"
#include "verifier.h"

#define CMDLINE_MAX (64u * 1024)
#define NONCE_PARAM "tdcpuid.nonce="

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s ingest --serial-log FILE (--nonce HEX | --cmdline FILE | --no-nonce)\n"
		"                 [--nonce-issued TIME] --registry DIR --vm NAME\n"
		"                 (--db FILE|URI | --no-replay-check) [--checks engine|basic]\n"
		"\n"
		"Find the last armored evidence block (-----BEGIN TDCPUID EVIDENCE v1-----)\n"
		"in a console log, decode it and check it against the VM's registry entry.\n"
		"  --nonce HEX      the nonce given to this boot\n"
		"  --cmdline FILE   read it from a kernel command line (tdcpuid.nonce=HEX)\n"
		"  --nonce-issued TIME  when the nonce was issued, for the policy's\n"
		"                   nonce_max_age (default with --cmdline: the file's mtime)\n"
		"  --no-nonce       do not check freshness (the verdict says so; lab use only)\n"
		"  --db FILE|URI    also append the verdict to this audit log (SQLite file, or\n"
		"                   PostgreSQL as for serve --db); its nonce column makes every\n"
		"                   nonce single-use, whatever its length, fleet-wide on\n"
		"                   PostgreSQL (needed with a nonce: without a log a replay\n"
		"                   cannot be told)\n"
		"  --no-replay-check  judge without an audit log: the same evidence would pass\n"
		"                   again (said on stderr; lab use only)\n"
		"Prints the verdict document; exit 0 pass, 1 fail, 2 bad input.\n",
		tdc_prog);
}

static int nonce_from_cmdline(const char *path, uint8_t *nonce, size_t *len)
{
	struct tdc_buf b;
	const char *s, *p;
	char hex[2 * TDC_CLAIMS_NONCE_MAX + 1];
	size_t n;
	int e;

	tdc_buf_init(&b);
	if ((e = tdc_read_file(path, CMDLINE_MAX, &b)) != 0)
		goto out;
	s = tdc_buf_cstr(&b);
	/* A parameter starts the line or follows whitespace; "xtdcpuid.nonce=" is not ours. */
	for (p = strstr(s, NONCE_PARAM); p && p != s && p[-1] != ' ' && p[-1] != '\t' &&
	     p[-1] != '\n'; p = strstr(p + 1, NONCE_PARAM))
		;
	if (!p) {
		e = tdc_err(TDC_ERR_MISSING, "%s: no %sHEX parameter", path, NONCE_PARAM);
		goto out;
	}
	p += strlen(NONCE_PARAM);
	n = strcspn(p, " \t\r\n");
	if (n == 0 || n >= sizeof(hex)) {
		e = tdc_err(TDC_ERR_FORMAT, "%s: %s value of %zu characters", path, NONCE_PARAM, n);
		goto out;
	}
	memcpy(hex, p, n);
	hex[n] = '\0';
	if ((e = tdc_hex_decode(hex, nonce, TDC_CLAIMS_NONCE_MAX, len)) != 0)
		e = tdc_err_wrap(e, "%s: %s", path, NONCE_PARAM);
out:
	tdc_buf_free(&b);
	return e;
}

/* The last block that decodes wins: an agent run twice leaves two. */
static int find_evidence(const char *path, struct tdc_buf *ev)
{
	struct tdc_buf log, cur;
	size_t pos = 0;
	int e, found = 0, nbad = 0;

	tdc_buf_init(&log);
	tdc_buf_init(&cur);
	if ((e = tdc_read_file(path, TDC_SERIAL_LOG_MAX, &log)) != 0)
		goto out;
	while (pos < log.len) {
		e = tdc_armor_next(log.data, log.len, &pos, &cur);
		if (e == TDC_ERR_NOT_FOUND)
			break;
		if (e) {
			fprintf(stderr, "%s ingest: %s: skipping a broken block: %s\n", tdc_prog, path,
				tdc_errmsg(e));
			nbad++;
			continue;
		}
		tdc_buf_reset(ev);
		if ((e = tdc_buf_put(ev, cur.data, cur.len)) != 0)
			goto out;
		found++;
	}
	e = found ? 0 : tdc_err(nbad ? TDC_ERR_FORMAT : TDC_ERR_NOT_FOUND,
				"%s: no intact %s block", path, TDC_ARMOR_BEGIN);
out:
	tdc_buf_free(&log);
	tdc_buf_free(&cur);
	return e;
}

struct ingest_args {
	const char *log, *cmdline, *registry, *vm, *db;
	uint8_t nonce[TDC_CLAIMS_NONCE_MAX];
	size_t nonce_len;
	bool have_nonce, no_nonce, no_replay_check;
	time_t nonce_issued;         /* 0: unknown */
	const struct tdc_verifier_ops *ops;
};

static int parse_args(int argc, char *argv[], struct ingest_args *a)
{
	static const struct option opts[] = {
		{ "serial-log", required_argument, NULL, 'l' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "no-nonce", no_argument, NULL, 'N' },
		{ "nonce-issued", required_argument, NULL, 'I' },
		{ "registry", required_argument, NULL, 'r' },
		{ "vm", required_argument, NULL, 'v' },
		{ "db", required_argument, NULL, 'd' },
		{ "no-replay-check", no_argument, NULL, 'R' },
		{ "checks", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o, e = 0;

	while (!e && (o = getopt_long(argc, argv, "l:n:c:NI:r:v:d:C:h", opts, NULL)) != -1) {
		switch (o) {
		case 'l': a->log = optarg; break;
		case 'n':
			e = tdc_hex_decode(optarg, a->nonce, sizeof(a->nonce), &a->nonce_len);
			a->have_nonce = true;
			break;
		case 'c': a->cmdline = optarg; break;
		case 'N': a->no_nonce = true; break;
		case 'I': e = tdc_time_parse(optarg, TDC_TIME_CLI, &a->nonce_issued); break;
		case 'r': a->registry = optarg; break;
		case 'v': a->vm = optarg; break;
		case 'd': a->db = optarg; break;
		case 'R': a->no_replay_check = true; break;
		case 'C':
			if (!strcmp(optarg, "basic"))
				a->ops = &tdc_verifier_basic;
			else if (!strcmp(optarg, "engine"))
				a->ops = &tdc_verifier_engine;
			else
				e = tdc_err(TDC_ERR_USAGE, "--checks: '%s' (engine or basic)", optarg);
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return tdc_err(TDC_ERR_USAGE, "bad option");
		}
	}
	if (e)
		return e;
	if (optind != argc || !a->log || !a->registry || !a->vm)
		return tdc_err(TDC_ERR_USAGE, "--serial-log, --registry and --vm are required");
	if ((a->have_nonce + !!a->cmdline + a->no_nonce) != 1)
		return tdc_err(TDC_ERR_USAGE, "give exactly one of --nonce, --cmdline, --no-nonce");
	if (a->cmdline) {
		struct stat st;
		int e2 = nonce_from_cmdline(a->cmdline, a->nonce, &a->nonce_len);

		if (e2)
			return e2;
		/* The host writes the command line when it picks the boot's nonce. */
		if (!a->nonce_issued && stat(a->cmdline, &st) == 0)
			a->nonce_issued = st.st_mtime;
	}
	if (!a->no_nonce && a->nonce_len == 0)
		return tdc_err(TDC_ERR_USAGE, "the nonce is empty");
	/*
	 * Single use is the audit log's UNIQUE nonce column: with no log, nothing
	 * could refuse this boot's evidence a second time, so the check could not
	 * run, and only an explicit waiver lets the verdict go ahead.
	 */
	if (!a->no_nonce && !a->db && !a->no_replay_check)
		return tdc_err(TDC_ERR_USAGE, "a nonce is single-use only through an audit log: give "
			       "--db FILE, or waive the replay check with --no-replay-check");
	if (a->db && a->no_replay_check)
		return tdc_err(TDC_ERR_USAGE, "--db and --no-replay-check exclude each other");
	return 0;
}

static int record(const char *db, const struct tdc_vm_entry *vm, const char *log,
		  const struct tdc_buf *ev, const struct ingest_args *a,
		  const struct tdc_verify_out *out, int verr)
{
	struct tdc_audit_record r, *rp = &r;
	struct tdc_audit *au;
	int e;

	memset(&r, 0, sizeof(r));
	snprintf(r.vm, sizeof(r.vm), "%s", vm->name);
	snprintf(r.peer, sizeof(r.peer), "serial:%s", log);
	tdc_service_sha256(ev->data, ev->len, r.evidence_sha256);
	r.has_evidence = true;
	r.verdict = verr ? TDC_AUDIT_ERROR : out->passed ? TDC_AUDIT_PASS : TDC_AUDIT_FAIL;
	/* The claims name (quoted in the detail) is the guest's: logged escaped. */
	tdc_text_clean(out->failing, r.failing, sizeof(r.failing), TDC_TEXT_ESCAPE_CTL);
	tdc_text_clean(out->detail, r.detail, sizeof(r.detail), TDC_TEXT_ESCAPE_CTL);
	/* The UNIQUE nonce column makes a second ingest of the same boot a replay,
	 * whatever the nonce's length (hex of different lengths never collide). */
	if (!a->no_nonce && a->nonce_len && a->nonce_len <= sizeof(r.nonce)) {
		r.has_nonce = true;
		memcpy(r.nonce, a->nonce, a->nonce_len);
		r.nonce_len = a->nonce_len;
	}
	if ((e = tdc_audit_open(db, &au)) != 0)
		return e;
	e = tdc_audit_append(au, &rp, 1);
	tdc_audit_close(au);
	return e ? e : r.result;
}

int ingest_main(int argc, char *argv[])
{
	struct ingest_args a = { .ops = &tdc_verifier_engine };
	struct tdc_registry *reg = NULL;
	const struct tdc_vm_entry *vm;
	struct tdc_verify_out out;
	struct tdc_buf ev;
	int e, verr = 0;

	memset(&out, 0, sizeof(out));
	tdc_buf_init(&out.doc);
	tdc_buf_init(&ev);
	if ((e = parse_args(argc, argv, &a)) == 1)
		return TDC_EXIT_OK;
	if (e || (e = find_evidence(a.log, &ev)) != 0 ||
	    (e = tdc_registry_load(a.registry, a.ops, NULL, &reg)) != 0)
		goto out;
	if (!(vm = tdc_registry_by_name(reg, a.vm))) {
		e = tdc_err(TDC_ERR_NOT_FOUND, "registry %s: no VM '%s'", a.registry, a.vm);
		goto out;
	}
	out.expect_vm = vm->name;       /* judged inside the verdict document */
	out.expect_vm_optional = true;
	verr = a.ops->verify(NULL, vm, ev.data, ev.len, a.no_nonce ? NULL : a.nonce,
			     a.nonce_len, a.nonce_issued, &out);
	if (!verr && strcmp(out.claims_vm, vm->name) && out.claims_vm[0]) {
		out.passed = false;
		snprintf(out.detail, sizeof(out.detail), "claims name VM '%s', not '%s'",
			 out.claims_vm, vm->name);
	}
	if (a.db && (e = record(a.db, vm, a.log, &ev, &a, &out, verr)) != 0)
		goto out;
	if (a.no_replay_check && !a.no_nonce)
		fprintf(stderr, "%s ingest: note: nonce single use not checked (--no-replay-check): "
			"this evidence would pass again\n", tdc_prog);
	if ((e = verr) != 0)
		goto out;
	fwrite(out.doc.data, 1, out.doc.len, stdout);
	printf("\n");
out:
	tdc_registry_put(reg);
	tdc_buf_free(&ev);
	tdc_buf_free(&out.doc);
	if (e)
		return tdc_cli_fail("ingest", e);
	return out.passed ? TDC_EXIT_OK : TDC_EXIT_FAIL;
}
