// SPDX-License-Identifier: Apache-2.0
/*
 * The TDX backend: TDREPORT through /dev/tdx_guest (TDX_CMD_GET_REPORT0,
 * Linux include/uapi/linux/tdx-guest.h) and a DCAP quote through configfs-tsm
 * (/sys/kernel/config/tsm/report/$name, Linux
 * Documentation/ABI/testing/configfs-tsm-report).
 *
 * Each failure is one line naming the path and the errno text.  The paths
 * come from TDC_TDX_GUEST_DEV / TDC_TSM_DIR when set (tests use fakes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "tee.h"
#include "tdcpuid/cli.h"
#include "tdcpuid/error.h"
#include "tdcpuid/eventlog.h"
#include "tdcpuid/tdx_guest_compat.h"

#define CONFIGFS_MAGIC 0x62656570 /* linux/magic.h */
#define TSM_ATTR_MAX 4096         /* provider, generation: a line of text */

static int errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return TDC_ERR_UNSUPPORTED;
	case EACCES:
	case EPERM:
		return TDC_ERR_PERM;
	default:
		return TDC_ERR_TEE;
	}
}

/* ---- TDREPORT via ioctl --------------------------------------------------- */

static int tdx_get_report(struct tdc_tee_ctx *ctx, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			  uint8_t report[TDX_REPORT_LEN])
{
	struct tdx_report_req req;
	struct tdx_report parsed;
	int fd, ret = 0;

	memset(&req, 0, sizeof(req));
	memcpy(req.reportdata, reportdata, TDX_REPORTDATA_LEN);
	fd = open(ctx->dev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return tdc_err(TDC_ERR_UNSUPPORTED,
				       "open %s: %s (not a TDX guest, or the tdx_guest "
				       "driver is not loaded; `--tee sim` simulates)",
				       ctx->dev_path, strerror(e));
		return tdc_err(errno_code(e), "open %s: %s%s", ctx->dev_path, strerror(e),
			       e == EACCES ? " (needs root or access to the device)" : "");
	}
	if (ioctl(fd, TDX_CMD_GET_REPORT0, &req) != 0) {
		int e = errno;

		/* -EIO: the TDCALL failed; -EBUSY: module busy (tdx-abi.md §1). */
		ret = tdc_err(e == EACCES || e == EPERM ? TDC_ERR_PERM : TDC_ERR_TEE,
			      "ioctl TDX_CMD_GET_REPORT0 on %s: %s", ctx->dev_path, strerror(e));
	}
	close(fd);
	if (ret)
		return ret;
	memcpy(report, req.tdreport, TDX_REPORT_LEN);
	/* Never ship what we would reject: a wrong type means a broken device. */
	if ((ret = tdx_report_parse(report, TDX_REPORT_LEN, &parsed)) != 0)
		return tdc_err_wrap(TDC_ERR_TEE, "%s returned an invalid TDREPORT: ",
				    ctx->dev_path);
	return 0;
}

/* ---- configfs-tsm --------------------------------------------------------- */

/* The default path may need configfs mounted first (initramfs, minimal VMs). */
static int mount_configfs(void)
{
	struct statfs sfs;

	if (statfs(TDC_CONFIGFS_DIR, &sfs) == 0 && sfs.f_type == CONFIGFS_MAGIC)
		return 0;
	fprintf(stderr, "%s: configfs is not mounted; mounting it at %s\n", tdc_prog,
		TDC_CONFIGFS_DIR);
	if (mount("configfs", TDC_CONFIGFS_DIR, "configfs", 0, NULL) != 0)
		return tdc_err(errno_code(errno) == TDC_ERR_PERM ? TDC_ERR_PERM :
			       TDC_ERR_UNSUPPORTED,
			       "mount configfs at %s: %s (configfs-tsm quotes unavailable)",
			       TDC_CONFIGFS_DIR, strerror(errno));
	return 0;
}

static int tdx_quote_available(struct tdc_tee_ctx *ctx)
{
	struct stat st;
	int ret;

	if (!strcmp(ctx->tsm_dir, TDC_TSM_DIR_DEFAULT) && (ret = mount_configfs()) != 0)
		return ret;
	errno = 0;
	if (stat(ctx->tsm_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return tdc_err(TDC_ERR_UNSUPPORTED,
			       "configfs-tsm: %s: %s (kernel without CONFIG_TSM_REPORTS "
			       "or TDX quote support)", ctx->tsm_dir,
			       errno ? strerror(errno) : "not a directory");
	return 0;
}

static int attr_path(char *path, size_t len, const char *entry, const char *attr)
{
	if (snprintf(path, len, "%s/%s", entry, attr) >= (int)len)
		return tdc_err(TDC_ERR_RANGE, "configfs-tsm: path too long: %s/%s", entry, attr);
	return 0;
}

/* Read a one-line attribute into @out (NUL-terminated, newline stripped). */
static int read_attr(const char *entry, const char *attr, char *out, size_t len)
{
	char path[4096];
	struct tdc_buf b;
	int ret;

	tdc_buf_init(&b);
	if ((ret = attr_path(path, sizeof(path), entry, attr)) != 0)
		return ret;
	if ((ret = tdc_read_file(path, TSM_ATTR_MAX, &b)) != 0) {
		ret = tdc_err_wrap(ret == TDC_ERR_NOT_FOUND || ret == TDC_ERR_IO ?
				   TDC_ERR_TEE : ret, "configfs-tsm: ");
		goto out;
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\0'))
		b.len--;
	snprintf(out, len, "%s", tdc_buf_cstr(&b));
out:
	tdc_buf_free(&b);
	return ret;
}

static int read_generation(const char *entry, unsigned long long *gen)
{
	char s[64];
	int ret;

	if ((ret = read_attr(entry, "generation", s, sizeof(s))) != 0)
		return ret;
	if (tdc_parse_u64(s, ~0ull, gen) != 0)
		return tdc_err(TDC_ERR_TEE, "configfs-tsm: %s/generation: '%s' is not a number",
			       entry, s);
	return 0;
}

static int write_inblob(const char *entry, const uint8_t reportdata[TDX_REPORTDATA_LEN])
{
	char path[4096];
	ssize_t n;
	int fd, ret;

	if ((ret = attr_path(path, sizeof(path), entry, "inblob")) != 0)
		return ret;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return tdc_err(errno_code(errno) == TDC_ERR_PERM ? TDC_ERR_PERM : TDC_ERR_TEE,
			       "configfs-tsm: open %s: %s", path, strerror(errno));
	do
		n = write(fd, reportdata, TDX_REPORTDATA_LEN);
	while (n < 0 && errno == EINTR);
	if (n != TDX_REPORTDATA_LEN)
		ret = tdc_err(TDC_ERR_TEE, "configfs-tsm: write %s: %s", path,
			      n < 0 ? strerror(errno) : "short write");
	close(fd);
	return ret;
}

/* Reading outblob is what makes the kernel ask the host for a quote. */
static int read_outblob(const char *entry, struct tdc_buf *quote)
{
	char path[4096];
	int ret;

	if ((ret = attr_path(path, sizeof(path), entry, "outblob")) != 0)
		return ret;
	if ((ret = tdc_read_file(path, TDX_QUOTE_MAX, quote)) != 0)
		return tdc_err_wrap(ret == TDC_ERR_TOO_LARGE ? ret : TDC_ERR_TEE,
				    "configfs-tsm: quote generation failed: ");
	if (quote->len == 0)
		return tdc_err(TDC_ERR_TEE, "configfs-tsm: %s is empty: the host's quote "
			       "service (QGS) returned no quote", path);
	return 0;
}

/* The configfs-tsm flow of tdx-abi.md §2, inside an entry we created. */
int tdc_tee_tsm_exchange(const char *entry, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			struct tdc_buf *quote)
{
	unsigned long long g0, g1, g2;
	char provider[64];
	int ret;

	if ((ret = read_attr(entry, "provider", provider, sizeof(provider))) != 0)
		return ret;
	if (strcmp(provider, "tdx_guest") != 0)
		return tdc_err(TDC_ERR_TEE, "configfs-tsm: %s/provider is '%s', expected "
			       "'tdx_guest'", entry, provider);
	if ((ret = read_generation(entry, &g0)) != 0 ||
	    (ret = write_inblob(entry, reportdata)) != 0 ||
	    (ret = read_generation(entry, &g1)) != 0)
		return ret;
	/* Our write bumps generation by exactly one; more means another writer. */
	if (g1 != g0 + 1)
		return tdc_err(TDC_ERR_TEE, "configfs-tsm: %s/generation went %llu -> %llu "
			       "across our inblob write: a concurrent writer", entry, g0, g1);
	if ((ret = read_outblob(entry, quote)) != 0 ||
	    (ret = read_generation(entry, &g2)) != 0)
		return ret;
	if (g2 != g1)
		return tdc_err(TDC_ERR_TEE, "configfs-tsm: %s/generation changed %llu -> %llu "
			       "while reading outblob: a concurrent writer; the quote may "
			       "not carry our REPORTDATA", entry, g1, g2);
	return 0;
}

static int tdx_get_quote(struct tdc_tee_ctx *ctx, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			 struct tdc_buf *quote)
{
	char entry[4096];
	uint8_t rnd[8];
	char hex[17];
	int ret, rm;

	if ((ret = tdx_quote_available(ctx)) != 0)
		return ret;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return tdc_err(TDC_ERR_INTERNAL, "configfs-tsm: no randomness for an entry name");
	tdc_hex_encode(rnd, sizeof(rnd), hex);
	/* Each entry is its own request context: unique per process and call. */
	if (snprintf(entry, sizeof(entry), "%s/tdcpuid-%ld-%s", ctx->tsm_dir,
		     (long)getpid(), hex) >= (int)sizeof(entry))
		return tdc_err(TDC_ERR_RANGE, "configfs-tsm: path too long: %s", ctx->tsm_dir);
	if (mkdir(entry, 0700) != 0)
		return tdc_err(errno_code(errno) == TDC_ERR_PERM ? TDC_ERR_PERM : TDC_ERR_TEE,
			       "configfs-tsm: mkdir %s: %s", entry, strerror(errno));
	tdc_buf_reset(quote);
	ret = tdc_tee_tsm_exchange(entry, reportdata, quote);
	rm = rmdir(entry);
	if (rm != 0 && !ret)
		ret = tdc_err(TDC_ERR_TEE, "configfs-tsm: rmdir %s: %s", entry, strerror(errno));
	else if (rm != 0)
		fprintf(stderr, "%s: warning: configfs-tsm: rmdir %s: %s\n", tdc_prog, entry,
			strerror(errno));
	return ret;
}

/* ---- RTMR sysfs ABI (Linux >= 6.16) and the CCEL ---------------------------- */

static int rtmr_path(struct tdc_tee_ctx *ctx, unsigned idx, char *path, size_t len)
{
	if (idx > 3)
		return tdc_err(TDC_ERR_RANGE, "RTMR%u does not exist", idx);
	if (snprintf(path, len, "%s/rtmr%u:sha384", ctx->rtmr_dir, idx) >= (int)len)
		return tdc_err(TDC_ERR_RANGE, "RTMR path too long: %s", ctx->rtmr_dir);
	return 0;
}

/* Missing ABI: name the kernel requirement, never fall back to REPORTDATA. */
static int rtmr_open_err(const char *path, int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return tdc_err(TDC_ERR_UNSUPPORTED,
			       "%s: %s: the RTMR sysfs ABI needs Linux >= 6.16 with the tdx_guest "
			       "driver (TSM measurement registers); on older kernels use "
			       "--bind reportdata", path, strerror(e));
	return tdc_err(errno_code(e), "open %s: %s%s", path, strerror(e),
		       e == EACCES ? " (extending RTMRs needs root)" : "");
}

static int tdx_rtmr_read(struct tdc_tee_ctx *ctx, unsigned idx, uint8_t mr[TDC_RTMR_LEN])
{
	char path[4096];
	ssize_t n;
	int fd, r;

	if ((r = rtmr_path(ctx, idx, path, sizeof(path))) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rtmr_open_err(path, errno);
	do
		n = pread(fd, mr, TDC_RTMR_LEN, 0);
	while (n < 0 && errno == EINTR);
	if (n != TDC_RTMR_LEN)
		r = tdc_err(TDC_ERR_TEE, "read %s: %s", path,
			    n < 0 ? strerror(errno) : "not 48 bytes");
	close(fd);
	return r;
}

/* The ABI: one write of exactly 48 bytes at offset 0 extends the register. */
static int tdx_rtmr_extend(struct tdc_tee_ctx *ctx, unsigned idx,
			   const uint8_t digest[TDC_RTMR_LEN])
{
	char path[4096];
	ssize_t n;
	int fd, r;

	if ((r = rtmr_path(ctx, idx, path, sizeof(path))) != 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return rtmr_open_err(path, errno);
	do
		n = pwrite(fd, digest, TDC_RTMR_LEN, 0);
	while (n < 0 && errno == EINTR);
	if (n != TDC_RTMR_LEN)
		r = tdc_err(TDC_ERR_TEE, "extend %s: %s", path,
			    n < 0 ? strerror(errno) : "short write");
	close(fd);
	return r;
}

static int tdx_platform_eventlog(struct tdc_tee_ctx *ctx, struct tdc_buf *out)
{
	int r = tdc_read_file(ctx->ccel_path, TDC_CCEL_AREA_MAX, out);

	/* A TD without firmware measurements (or an ACPI-less guest) has none. */
	if (r == TDC_ERR_NOT_FOUND) {
		tdc_buf_reset(out);
		return 0;
	}
	return r ? tdc_err_wrap(r, "platform event log: ") : 0;
}

/* Fail before probing (and before touching configfs) if the device is unusable. */
static int tdx_open(struct tdc_tee_ctx *ctx)
{
	int fd = open(ctx->dev_path, O_RDWR | O_CLOEXEC);
	int e = errno;

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (e == ENOENT)
		return tdc_err(TDC_ERR_UNSUPPORTED,
			       "open %s: %s (not a TDX guest, or the tdx_guest driver is "
			       "not loaded; `--tee sim` simulates)", ctx->dev_path, strerror(e));
	return tdc_err(errno_code(e), "open %s: %s%s", ctx->dev_path, strerror(e),
		       e == EACCES ? " (needs root or access to the device)" : "");
}

const struct tdc_tee_ops tdc_tee_tdx_ops = {
	.name = "tdx",
	.kind = TDC_TEE_TDX,
	.open = tdx_open,
	.close = NULL,
	.quote_available = tdx_quote_available,
	.get_report = tdx_get_report,
	.get_quote = tdx_get_quote,
	.rtmr_read = tdx_rtmr_read,
	.rtmr_extend = tdx_rtmr_extend,
	.platform_eventlog = tdx_platform_eventlog,
};
