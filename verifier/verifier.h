/* SPDX-License-Identifier: Apache-2.0 */
/* tdcpuid-verifier subcommands: one file each, one row each in tdcpuid_verifier.c. */
#ifndef TDC_VERIFIER_H
#define TDC_VERIFIER_H

int version_main(int argc, char *argv[]);
int serve_main(int argc, char *argv[]);
int log_main(int argc, char *argv[]);
int ingest_main(int argc, char *argv[]);
int capture_main(int argc, char *argv[]);
int import_main(int argc, char *argv[]);
int policy_main(int argc, char *argv[]);
int inspect_main(int argc, char *argv[]);
int quote_main(int argc, char *argv[]);
int collateral_main(int argc, char *argv[]);
int predict_main(int argc, char *argv[]);
int explain_main(int argc, char *argv[]);

int check_main(int argc, char *argv[]);

#endif
