/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QMP client: line-delimited JSON over a unix stream socket; the server
 * greets with {"QMP": {"version": ...}}, the client must send
 * qmp_capabilities before any other command; asynchronous {"event": ...}
 * lines may arrive at any time and are skipped (QEMU docs/interop/qmp-spec).
 * Everything the peer sends is untrusted: one message is capped at
 * TDC_QMP_MSG_MAX, every read has a deadline.
 */
#ifndef TDC_QMP_H
#define TDC_QMP_H

#include <jansson.h>
#include <stdint.h>

#include "tdcpuid/buf.h"

/* A feature-words reply is about 2 KB per vCPU; nothing legitimate is near this. */
#define TDC_QMP_MSG_MAX (1024u * 1024)
/* Skipped asynchronous events while waiting for one reply. */
#define TDC_QMP_MAX_EVENTS 1000

struct tdc_qmp {
	int fd;
	int64_t deadline_ms;   /* CLOCK_MONOTONIC; every read and write must end before it */
	struct tdc_buf in;     /* bytes received but not yet consumed */
	unsigned next_id;
	char version[32];      /* "7.2.22" from the greeting */
	const char *path;
};

/* Connect and complete the handshake (greeting + qmp_capabilities). */
int tdc_qmp_open(struct tdc_qmp *q, const char *path, unsigned timeout_ms);
/*
 * Execute @cmd with @args (may be NULL; reference stolen) and return the
 * "return" member (new reference).  QMP errors become TDC_ERR_PROTOCOL
 * naming the command, class and description.
 */
int tdc_qmp_execute(struct tdc_qmp *q, const char *cmd, json_t *args, json_t **ret);
void tdc_qmp_close(struct tdc_qmp *q);

/*
 * Record feature-words and filtered-features of every vCPU into a capture
 * document (docs/requested-formats.md, "tdcpuid-qmp-capture"), serialized
 * into @out.  The document is re-read with the qmp importer before it is
 * returned, so a capture that cannot be imported is never written.
 */
/* (`tdcpuid-verifier capture`, the conformance tool's qemu backend) */
int tdc_capture_qmp(const char *socket_path, unsigned timeout_ms, struct tdc_buf *out,
		    size_t *ncpus);

#endif
