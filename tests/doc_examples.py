#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run every command example of README.md and of the man pages (docs/*.1).

Which text is an example:
  README.md   fenced blocks whose info string is exactly "sh".  Others are not
              run here: "sh setup" (./scripts/setup and ./scripts/test: the
              suite is what they run), "sh demo" (./scripts/demo:
              tests/test_demo.sh runs it), "sh install" (into /usr/local:
              tests/test_install.sh installs into a temporary prefix
              instead; scripts/build-deb is opt-in), "sh bench"
              (benchmarks, minutes each), "text" (output, not commands).
  docs/*.1    .EX ... .EE blocks (roff escapes \\- \\e \\(aq undone).

Where they run: a scratch directory laid out like the source tree after
./scripts/demo: tests/, policies/ and build/ (symlinks to this tree and
build) and tdcpuid-demo/ (a fresh demo run: sim/, ev.cbor, requested.txt,
sim-policy.json, nonce.txt).  README blocks run from its top; man page
blocks inside tdcpuid-demo/ with the tools on PATH.  The placeholders are
plain shell variables the examples set themselves or the runner exports:
  NONCE            the demo's nonce (tdcpuid-demo/nonce.txt)
  TDCPUID_DATADIR  policies/ of the tree (build-tree binaries)
  TDCPUID_LIBEXECDIR  libexec/tdcpuid of the build (conform's guests)
  HOME             the scratch directory (caches stay in it)
and one textual substitution, so parallel test runs never share a port:
  127.0.0.1:4050, 127.0.0.1:8443 -> 127.0.0.1:<a free port>

Per command (a line and its "\\" continuations), in a trailing comment:
  "# exit status N"  the exit status it must have (default 0); "0|1" where
                     it depends on the host (a conformance finding)
  "# needs: WHAT"    run only where WHAT exists, else reported "not run":
                     tdx (/dev/tdx_guest), kvm (/dev/kvm), qemu (a QEMU
                     binary), network (TDC_TEST_NETWORK=1), qemu-vm (the QMP
                     socket of a running VM), fleet-db (the example's
                     PostgreSQL server): the last two never in the suite
  a final "&"        runs in the background; killed when its block ends
Each block is one bash script, so variables carry from line to line.

usage: doc_examples.py SOURCE_DIR BUILD_DIR   (exit 0 all ran as documented)
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

NEEDS = re.compile(r"#\s*needs:\s*([\w-]+)")
EXIT = re.compile(r"#\s*exit status\s+(\d+(?:\|\d+)*)")


def have(what):
    if what == "tdx":
        return os.path.exists("/dev/tdx_guest")
    if what == "kvm":
        return os.access("/dev/kvm", os.R_OK | os.W_OK)
    if what == "qemu":
        return shutil.which("qemu-system-x86_64") is not None
    if what == "network":
        return os.environ.get("TDC_TEST_NETWORK") == "1"
    return False  # qemu-vm, or a need nobody taught this script


def readme_blocks(path):
    blocks, cur, start = [], None, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("```"):
                if cur is None:
                    cur, start = ([] if line.strip() == "```sh" else False), n
                else:
                    if cur is not False:
                        blocks.append((f"{os.path.basename(path)}:{start}", start + 1, cur))
                    cur = None
            elif cur:
                cur.append(line.rstrip("\n"))
            elif cur == []:
                cur.append(line.rstrip("\n"))
    if cur is not None:
        raise SystemExit(f"{path}:{start}: unterminated fenced block")
    return blocks


def unroff(line):
    return line.replace("\\-", "-").replace("\\(aq", "'").replace("\\e", "\\").replace("\\&", "")


def man_blocks(path):
    blocks, cur, start = [], None, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line == ".EX":
                cur, start = [], n
            elif line == ".EE" and cur is not None:
                blocks.append((f"{os.path.basename(path)}:{start}", start + 1, cur))
                cur = None
            elif cur is not None:
                cur.append(unroff(line))
    return blocks


def commands(lines, first):
    """(line number, text) of each command, continuations joined."""
    out, buf, at = [], [], 0
    for i, line in enumerate(lines):
        if not buf:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            at = first + i
        buf.append(line)
        if not line.endswith("\\"):
            out.append((at, "\n".join(buf)))
            buf = []
    if buf:
        out.append((at, "\n".join(buf)))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(name, cmds, cwd, log):
    subst = {"127.0.0.1:4050": f"127.0.0.1:{free_port()}",
             "127.0.0.1:8443": f"127.0.0.1:{free_port()}"}
    s = [f"cd {sh(cwd)} || exit 3", "__f=0", "__n=0"]
    for at, cmd in cmds:
        where = f"{name.split(':')[0]}:{at}"
        need = NEEDS.search(cmd)
        if need and not have(need.group(1)):
            s.append(f"echo 'not run: {where} (needs {need.group(1)})'")
            continue
        want = EXIT.search(cmd).group(1) if EXIT.search(cmd) else "0"
        body = re.sub(r"\s+#[^\n'\"]*$", "", cmd)
        for k, v in subst.items():
            body = body.replace(k, v)
        s.append(f"echo {sh('+ ' + where + ': ' + cmd.splitlines()[0])} >>{sh(log)}")
        if body.rstrip().endswith("&"):
            # No braces: $! and the final kill name the program, not a subshell.
            s.append(f"{body.rstrip()[:-1]} >>{sh(log)} 2>&1 &")
            s.append(f"echo 'ok: {where} (started in the background)'")
            continue
        s.append(f"{{ {body}\n}} >{sh(log)}.1 2>&1 </dev/null")
        s.append(f"__rc=$?; __n=$((__n + 1)); cat {sh(log)}.1 >>{sh(log)}; case $__rc in {want}) "
                 f"echo \"ok: {where} (exit $__rc)\";; *) echo \"FAIL: {where}: exit $__rc, "
                 f"expected {want}\"; tail -n 15 {sh(log)}.1; __f=$((__f + 1));; esac")
    s.append("for __j in $(jobs -p); do kill $__j 2>/dev/null; done; wait 2>/dev/null")
    s.append("echo \"block: $__n run, $__f failed\"; exit $((__f > 0))")
    return "\n".join(s) + "\n"


def run_block(text, env):
    """One block in a session of its own: whatever it leaves running dies with it."""
    p = subprocess.Popen(["bash", "-c", text], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        timed_out = True
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if timed_out:
        out, err = p.communicate()
        return subprocess.CompletedProcess(p.args, 1, out + "FAIL: block timed out after 600 s\n", err)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def sh(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    src, build = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="tdc-doc-examples.")
    try:
        for d, target in (("tests", f"{src}/tests"), ("policies", f"{src}/policies"),
                          ("build", build)):
            os.symlink(target, os.path.join(work, d))
        env = dict(os.environ, TDC_BUILD_DIR=build, HOME=work,
                   TDCPUID_DATADIR=f"{src}/policies",
                   TDCPUID_LIBEXECDIR=f"{build}/libexec/tdcpuid",
                   PATH=f"{build}/agent:{build}/verifier:{build}/conform:" + os.environ["PATH"])
        demo = subprocess.run([f"{src}/scripts/demo"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)
        if demo.returncode != 0:
            print("FAIL: scripts/demo (the examples' fixture):\n" + demo.stdout + demo.stderr)
            return 1
        with open(os.path.join(work, "tdcpuid-demo", "nonce.txt")) as f:
            env["NONCE"] = f.read().strip()
        blocks = [(b, work) for b in readme_blocks(f"{src}/README.md")]
        for page in sorted(os.listdir(f"{src}/docs")):
            if page.endswith(".1"):
                blocks += [(b, os.path.join(work, "tdcpuid-demo"))
                           for b in man_blocks(f"{src}/docs/{page}")]
        fails = ran = 0
        for (name, first, lines), cwd in blocks:
            cmds = commands(lines, first)
            log = os.path.join(work, "log.txt")
            print(f"== {name}: {len(cmds)} commands")
            r = run_block(script(name, cmds, cwd, log), env)
            print(r.stdout, end="")
            m = re.search(r"block: (\d+) run", r.stdout)
            ran += int(m.group(1)) if m else 0
            if r.returncode != 0:
                fails += 1
                print(r.stderr[-2000:], end="")
            for f in (log, log + ".1"):
                if os.path.exists(f):
                    os.unlink(f)
        print(f"examples: {len(blocks)} blocks, {ran} commands run, {fails} blocks failed")
        if not ran:
            print("FAIL: no example ran")
            return 1
        return 1 if fails else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
