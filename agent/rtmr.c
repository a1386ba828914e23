// SPDX-License-Identifier: Apache-2.0
/*
 * The rtmr3 binding's measurement step (agent/tee.h: tdc_tee_rtmr3_record).
 *
 * Order, as Trustee's attestation agent does it (guest-components
 * attestation-agent/src/eventlog/mod.rs): first the record goes into the
 * log (fsync'd), then RTMR3 is extended, so a crash in between leaves a log
 * one event ahead of the register, which the next run reports, rather than a
 * register nobody can explain.  The lock serialises tdcpuid agents sharing a
 * log; writers that do not take it (or keep no log) show up as a replay
 * mismatch, here before extending and at the verifier afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tee.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"

/* mkdir -p for the log's directory (/run/tdcpuid on a fresh boot). */
static int make_parent(const char *path)
{
	char dir[4096];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return tdc_err(TDC_ERR_RANGE, "event log path too long: %s", path);
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return tdc_err(errno == EACCES ? TDC_ERR_PERM : TDC_ERR_IO,
				       "create %s: %s", dir, strerror(errno));
		*p = '/';
	}
	return 0;
}

static int read_fd(int fd, const char *path, struct tdc_buf *b)
{
	for (;;) {
		ssize_t n;
		int r;

		if ((r = tdc_buf_reserve(b, 65536)) != 0)
			return r;
		n = pread(fd, b->data + b->len, 65536, (off_t)b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tdc_err(TDC_ERR_IO, "read %s: %s", path, strerror(errno));
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		if (b->len > TDC_EVENTLOG_MAX)
			return tdc_err(TDC_ERR_TOO_LARGE, "%s: larger than the %u-byte event log limit",
				       path, TDC_EVENTLOG_MAX);
	}
}

static int append_fd(int fd, const char *path, const struct tdc_buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tdc_err(TDC_ERR_IO, "append to %s: %s", path, strerror(errno));
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		return tdc_err(TDC_ERR_IO, "fsync %s: %s", path, strerror(errno));
	return 0;
}

static void hex_short(const uint8_t mr[TDC_RTMR_LEN], char out[17])
{
	tdc_hex_encode(mr, 8, out);
}

/* CCEL (without its fill tail) or a Spec ID header, then the runtime log. */
static int assemble(const struct tdc_buf *ccel, size_t ccel_used, const struct tdc_buf *rt,
		    struct tdc_buf *out)
{
	int r;

	tdc_buf_reset(out);
	if (ccel_used)
		r = tdc_buf_put(out, ccel->data, ccel_used);
	else
		r = tdc_eventlog_put_header(out);
	if (!r)
		r = tdc_buf_put(out, rt->data, rt->len);
	if (!r && out->len > TDC_EVENTLOG_MAX)
		r = tdc_err(TDC_ERR_TOO_LARGE, "event log: %zu bytes exceed the limit of %u",
			    out->len, TDC_EVENTLOG_MAX);
	return r;
}

int tdc_tee_rtmr3_record(struct tdc_tee_ctx *ctx, const char *log_path, const char *domain,
			 const char *operation, const char *content, struct tdc_buf *eventlog,
			 int *lock_fd)
{
	const unsigned idx = TDC_CCMR_RTMR3 - TDC_CCMR_RTMR0;
	uint8_t now[TDC_RTMR_LEN], replay[TDC_RTMR_LEN], digest[TDC_RTMR_LEN];
	char a[17], b[17];
	struct tdc_buf ccel, rt, rec;
	struct tdc_eventlog l;
	size_t ccel_used = 0;
	int fd = -1, r;

	if (!ctx->ops->rtmr_read || !ctx->ops->rtmr_extend || !ctx->ops->platform_eventlog)
		return tdc_err(TDC_ERR_UNSUPPORTED, "--tee %s cannot extend RTMRs", ctx->ops->name);
	log_path = log_path ? log_path : ctx->eventlog_path;
	tdc_buf_init(&ccel);
	tdc_buf_init(&rt);
	tdc_buf_init(&rec);
	tdc_eventlog_init(&l);
	/* Before touching the log: a kernel without the ABI fails here, cleanly. */
	if ((r = ctx->ops->rtmr_read(ctx, idx, now)) != 0 ||
	    (r = ctx->ops->platform_eventlog(ctx, &ccel)) != 0)
		goto out;
	if (ccel.len && (r = tdc_eventlog_used_len(ccel.data, ccel.len, "platform CCEL",
						   &ccel_used)) != 0)
		goto out;
	if ((r = make_parent(log_path)) != 0)
		goto out;
	if ((fd = open(log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		r = tdc_err(errno == EACCES ? TDC_ERR_PERM : TDC_ERR_IO, "open %s: %s", log_path,
			    strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX) != 0) {
		r = tdc_err(TDC_ERR_IO, "lock %s: %s", log_path, strerror(errno));
		goto out;
	}
	/* Under the lock: the register as the log must explain it. */
	if ((r = ctx->ops->rtmr_read(ctx, idx, now)) != 0 || (r = read_fd(fd, log_path, &rt)) != 0)
		goto out;
	if ((ccel_used && (r = tdc_eventlog_parse(ccel.data, ccel_used, "platform CCEL", &l)) != 0) ||
	    (rt.len && (r = tdc_eventlog_parse(rt.data, rt.len, log_path, &l)) != 0) ||
	    (r = tdc_eventlog_replay(&l, TDC_CCMR_RTMR3, SIZE_MAX, replay)) != 0)
		goto out;
	if (memcmp(replay, now, sizeof(now)) != 0) {
		hex_short(now, a);
		hex_short(replay, b);
		r = tdc_err(TDC_ERR_TEE, "RTMR3 is %s... but the platform CCEL and %s replay to "
			    "%s...: something extended RTMR3 without recording it there, so no "
			    "verifier could replay it (point --event-log at that writer's TCG2 log)",
			    a, log_path, b);
		goto out;
	}
	if ((r = tdc_eventlog_put_aael(&rec, TDC_CCMR_RTMR3, domain, operation, content,
				       digest)) != 0 ||
	    (r = append_fd(fd, log_path, &rec)) != 0 ||
	    (r = ctx->ops->rtmr_extend(ctx, idx, digest)) != 0)
		goto out;
	if ((r = tdc_rtmr_extend(replay, digest)) != 0 || (r = ctx->ops->rtmr_read(ctx, idx, now)) != 0)
		goto out;
	if (memcmp(replay, now, sizeof(now)) != 0) {
		hex_short(now, a);
		hex_short(replay, b);
		r = tdc_err(TDC_ERR_TEE, "RTMR3 is %s... after the extension, expected %s...: "
			    "another writer extended it at the same time", a, b);
		goto out;
	}
	if ((r = tdc_buf_put(&rt, rec.data, rec.len)) != 0)
		goto out;
	if (eventlog)
		r = assemble(&ccel, ccel_used, &rt, eventlog);
	if (!r && lock_fd) {
		*lock_fd = fd;  /* the caller quotes, then closes it */
		fd = -1;
	}
out:
	if (fd >= 0)
		close(fd); /* releases the lock */
	tdc_eventlog_free(&l);
	tdc_buf_free(&ccel);
	tdc_buf_free(&rt);
	tdc_buf_free(&rec);
	return r;
}
