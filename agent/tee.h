/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEE backends behind one ops struct (wireguard-tools ipc-*.h style):
 * tee_tdx.c talks to the kernel (/dev/tdx_guest, configfs-tsm), tee_sim.c is
 * the labelled simulator.  cmd_evidence.c only sees this header.
 *
 * Every failure returns a TDC_ERR_* code with a one-line detail that names
 * the path and the errno text; environment failures map to exit 3.
 */
#ifndef TDC_AGENT_TEE_H
#define TDC_AGENT_TEE_H

#include <stdbool.h>
#include <stdint.h>

#include "tdcpuid/buf.h"
#include "tdcpuid/evidence.h"
#include "tdcpuid/sim.h"
#include "tdcpuid/tdx.h"

/* Environment overrides, so failure paths can be tested with fake files. */
#define TDC_ENV_TDX_GUEST_DEV "TDC_TDX_GUEST_DEV" /* default /dev/tdx_guest */
#define TDC_ENV_TSM_DIR "TDC_TSM_DIR"             /* default /sys/kernel/config/tsm/report */
#define TDC_ENV_SIM_DIR "TDC_SIM_DIR"             /* default ./tdcpuid-sim */
#define TDC_ENV_RTMR_DIR "TDC_RTMR_DIR"           /* default TDC_RTMR_DIR_DEFAULT */
#define TDC_ENV_CCEL "TDC_CCEL"                   /* default TDC_CCEL_DEFAULT */
#define TDC_ENV_EVENTLOG "TDC_EVENTLOG"           /* default TDC_EVENTLOG_DEFAULT */
#define TDC_TDX_GUEST_DEV_DEFAULT "/dev/tdx_guest"
#define TDC_CONFIGFS_DIR "/sys/kernel/config"
#define TDC_TSM_DIR_DEFAULT TDC_CONFIGFS_DIR "/tsm/report"
#define TDC_SIM_DIR_DEFAULT "./tdcpuid-sim"
/* Linux RTMR sysfs ABI (Documentation/ABI/testing/sysfs-devices-virtual-misc-tdx_guest,
 * Linux >= 6.16): rtmrN:sha384 reads the register, a 48-byte write extends it. */
#define TDC_RTMR_DIR_DEFAULT "/sys/devices/virtual/misc/tdx_guest/measurements"
/* The platform's CC event log (ACPI CCEL table's log area, Linux drivers/acpi). */
#define TDC_CCEL_DEFAULT "/sys/firmware/acpi/tables/data/CCEL"
/* The runtime event log the agent appends its RTMR events to (headerless
 * TCG_PCR_EVENT2 records, the shape of Trustee's attestation-agent log). */
#define TDC_EVENTLOG_DEFAULT "/run/tdcpuid/eventlog"
#define TDC_RTMR_LEN 48

struct tdc_tee_ctx;

struct tdc_tee_ops {
	const char *name;     /* "tdx", "sim" */
	enum tdc_tee kind;
	int (*open)(struct tdc_tee_ctx *ctx);
	void (*close)(struct tdc_tee_ctx *ctx);
	/* 0 if get_quote can work here; else an error saying why not. */
	int (*quote_available)(struct tdc_tee_ctx *ctx);
	int (*get_report)(struct tdc_tee_ctx *ctx, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			  uint8_t report[TDX_REPORT_LEN]);
	int (*get_quote)(struct tdc_tee_ctx *ctx, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			 struct tdc_buf *quote);
	/* RTMR @idx (0..3): read the current value; extend with a SHA-384 digest. */
	int (*rtmr_read)(struct tdc_tee_ctx *ctx, unsigned idx, uint8_t mr[TDC_RTMR_LEN]);
	int (*rtmr_extend)(struct tdc_tee_ctx *ctx, unsigned idx,
			   const uint8_t digest[TDC_RTMR_LEN]);
	/* The platform CCEL's log area (left empty when the platform has none). */
	int (*platform_eventlog)(struct tdc_tee_ctx *ctx, struct tdc_buf *out);
};

struct tdc_tee_ctx {
	const struct tdc_tee_ops *ops;
	/* tdx */
	const char *dev_path;
	const char *tsm_dir;
	const char *rtmr_dir;
	const char *ccel_path;
	char eventlog_path[4096];  /* runtime event log (sim: in the sim dir) */
	/* sim */
	const char *sim_dir;
	struct tdc_sim_params sim;
	struct tdc_sim_keys keys;
};

extern const struct tdc_tee_ops tdc_tee_tdx_ops;
extern const struct tdc_tee_ops tdc_tee_sim_ops;

/* Paths from the environment or the defaults. */
const char *tdc_tee_dev_path(void);
const char *tdc_tee_tsm_dir(void);
const char *tdc_tee_sim_dir(void);
const char *tdc_tee_rtmr_dir(void);
const char *tdc_tee_ccel_path(void);

/*
 * "tdx", "sim" or "auto": auto is tdx when the device exists and otherwise
 * an error that names `--tee sim` -- never a silent fallback to the
 * simulator.
 */
int tdc_tee_select(const char *name, const struct tdc_tee_ops **ops);

/* Initialise @ctx for @ops (paths from the environment) and open it. */
int tdc_tee_open(struct tdc_tee_ctx *ctx, const struct tdc_tee_ops *ops,
		 const char *sim_dir);
void tdc_tee_close(struct tdc_tee_ctx *ctx);

/*
 * The configfs-tsm exchange inside an existing entry directory: provider
 * must be "tdx_guest", generation must rise by exactly one across our
 * inblob write and not move while outblob is read (tdx-abi.md §2).
 * Exposed for tests, which drive it with a fake entry directory.
 */
int tdc_tee_tsm_exchange(const char *entry, const uint8_t reportdata[TDX_REPORTDATA_LEN],
			 struct tdc_buf *quote);

/*
 * The rtmr3 binding's measurement step (agent/rtmr.c): under an exclusive
 * lock on the runtime event log, check that the platform CCEL plus that log
 * replay to the current RTMR3 (else nobody could verify the result), append
 * the AAEL record "<domain> <operation> <content>", extend RTMR3 with its
 * digest and check the register moved as expected.  @eventlog gets the log
 * the verifier needs: the CCEL without its fill tail (or a Spec ID header)
 * followed by every runtime record (@eventlog may be NULL).  @log_path
 * NULL: ctx->eventlog_path.  With @lock_fd the lock is kept (the caller
 * closes the descriptor once its quote is made), so a second tdcpuid agent
 * cannot slip a newer claims event in before this one's quote.
 */
int tdc_tee_rtmr3_record(struct tdc_tee_ctx *ctx, const char *log_path, const char *domain,
			 const char *operation, const char *content, struct tdc_buf *eventlog,
			 int *lock_fd);

#endif
