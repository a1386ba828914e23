/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dynamic agent's crypto module.  Only `evidence`, `extend` and
 * `sim-keygen` use libcrypto (SHA-384/512 for the binding and RTMR3, RAND,
 * HMAC and ECDSA for simulated quotes, X509/PEM for the simulator's PKI,
 * JWS).  Linked into the agent, libcrypto.so.3 was mapped, relocated and
 * initialised at every start, `probe` included: the largest part of the
 * agent's start-up (docs/performance.md).  In the dynamic agent those three
 * subcommands are therefore built into a private shared module,
 * tdcpuid-agent-crypto.so, which the executable opens with dlopen only when
 * one of them runs; the executable itself is linked without libcrypto, so a
 * call into it from the probe path is a link error.  The fully static agent
 * (TDC_STATIC_AGENT, for the initramfs) links them directly.
 *
 * The module is looked for in two places, first match wins (agent/module_load.c):
 *   1. <directory of /proc/self/exe>/TDC_AGENT_MODULE_REL: the installed
 *      layout relative to the binary (e.g. ../lib/tdcpuid), which the build
 *      tree mirrors (<build>/agent/../lib/tdcpuid);
 *   2. TDC_AGENT_MODULE_DIR, the directory fixed at configure time
 *      (<libdir>/tdcpuid), for a binary copied elsewhere.
 * Never the working directory or the library search path: the module runs
 * with the agent's privileges.
 *
 * The interface is one exported object, the table below.  The executable
 * hands the module its own argv (before tdc_cli_dispatch shifted it), and
 * the module dispatches it again with the same global options (--datadir)
 * and program name, so both halves behave as one program.
 */
#ifndef TDC_AGENT_MODULE_H
#define TDC_AGENT_MODULE_H

#define TDC_AGENT_MODULE_FILE "tdcpuid-agent-crypto.so"
#define TDC_AGENT_MODULE_SYMBOL "tdc_agent_module"
/* Raise when struct tdc_agent_module or what main() expects changes. */
#define TDC_AGENT_MODULE_ABI 1u

struct tdc_agent_module {
	unsigned abi;        /* TDC_AGENT_MODULE_ABI it was built with */
	const char *version; /* TDC_VERSION it was built from: must equal the agent's */
	/* The agent's main() for the module's subcommands, on the original argv. */
	int (*main)(int argc, char *argv[]);
};

/*
 * Executable side (dynamic agent only).  tdc_agent_module_argv() keeps a
 * copy of main()'s argv; tdc_agent_module_main() is the subcommand function
 * of every module subcommand: it loads the module and runs it on that copy.
 * If the module cannot be loaded or is not this build's, it says why
 * (naming dlerror()) and returns TDC_EXIT_INTERNAL.
 */
int tdc_agent_module_argv(int argc, char *argv[]);
int tdc_agent_module_main(int argc, char *argv[]);

#endif
