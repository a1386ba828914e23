#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The house rules of docs/architecture.md, checked on the tree and the build.

1. Folders are layers: a file includes only headers of its own folder or of
   the folders below it (ALLOWED).  The build's per-folder include paths
   already refuse most upward includes; this also catches "../" paths and
   headers reached through another folder's include directory.
2. No include circle between files: a private header named after its .c
   file (kvm.h for kvm.c) belongs to that file, so "a.c includes b.h" is an
   edge a -> b; the edges must not form a cycle.  A private header that no
   .c file owns is a folder's shared interface and must be listed in
   FOLDER_HEADERS with what it is (a "verify_internal.h" declaring what
   three files define hid the verify.c <-> verify_bits.c pair).
3. No call circle between files: from the compiled objects (nm), "a.o uses
   a symbol b.o defines" is an edge a -> b; no cycle of two or more files
   (kvm.c -> pipeline.c -> kvm.c was one).  Within one file anything goes.

usage: layers.py SOURCE_DIR BUILD_DIR  (exit 0 ok, 1 a rule is broken)
"""
import os
import re
import subprocess
import sys

# Folder -> folders it may include (its own is always allowed).
BELOW = {
    "include": set(),
    "lib": {"include"},
    "verifier/quote": {"lib", "include"},
    "verifier/engine": {"verifier/quote", "lib", "include"},
    "verifier/service": {"verifier/engine", "verifier/quote", "lib", "include"},
    "verifier": {"verifier/service", "verifier/engine", "verifier/quote", "lib", "include"},
    "agent": {"lib", "include"},
    "conform": {"verifier/engine", "verifier/quote", "lib", "include"},
}
# Private headers that belong to a folder, not to one .c file.
FOLDER_HEADERS = {
    "lib/import.h": "the requested-configuration importers' shared helpers",
    "agent/agent.h": "the agent's subcommand entry points (dispatch table)",
    "agent/probe.h": "the probe, shared by cpuid_probe.c and the subcommands",
    "agent/module.h": "the crypto module's one table: module_entry.c fills it, module_load.c opens it",
    "verifier/verifier.h": "the verifier's subcommand entry points (dispatch table)",
    "verifier/engine/engine.h": "the engine's interface to the layers above",
    "verifier/engine/model_int.h": "model internals shared by model*.c",
    "verifier/service/audit_store.h": "the audit store ops struct every backend fills",
    "verifier/service/service.h": "the service's interface to the CLI",
    "conform/conform.h": "the conformance pipeline every backend feeds",
}
# Where a quoted include is looked up, in the build's order.
SEARCH = ["include", "lib", "verifier/engine", "verifier/quote", "verifier/service",
          "verifier", "conform", "agent"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder_of(rel):
    d = os.path.dirname(rel)
    while d and d not in BELOW:
        d = os.path.dirname(d)
    return d or None


def sources(src):
    for top in BELOW:
        base = os.path.join(src, top)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if name.endswith((".c", ".h")):
                yield os.path.join(top, name)
    for root, _, files in os.walk(os.path.join(src, "include")):
        for name in sorted(files):
            if name.endswith(".h"):
                yield os.path.relpath(os.path.join(root, name), src)


def resolve(src, rel, inc):
    here = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
    if os.path.isfile(os.path.join(src, here)):
        return here
    for d in SEARCH:
        cand = os.path.normpath(os.path.join(d, inc))
        if os.path.isfile(os.path.join(src, cand)):
            return cand
    return None


def cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check_includes(src):
    errors, edges = [], {}
    files = sorted(set(sources(src)))
    for rel in files:
        mine = folder_of(rel)
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            target = resolve(src, rel, inc)
            if target is None:
                continue  # generated or system-provided (e.g. a compat header)
            theirs = folder_of(target)
            if theirs is None:
                errors.append(f"{rel}: includes \"{inc}\" from outside the layers ({target})")
            elif theirs != mine and theirs not in BELOW[mine]:
                errors.append(f"{rel}: includes \"{inc}\" ({theirs}/), a layer above "
                              f"{mine}/ (allowed: {', '.join(sorted(BELOW[mine])) or 'none'})")
            # A header named after a .c file of the same folder is that file's.
            owner = os.path.splitext(target)[0] + ".c"
            me = os.path.splitext(rel)[0] + ".c"
            if rel.endswith(".c") and target.endswith(".h") and owner != rel and \
                    os.path.isfile(os.path.join(src, owner)):
                edges.setdefault(me, set()).add(owner)
    for rel in files:
        if rel.endswith(".h") and not rel.startswith("include/") and \
                not os.path.isfile(os.path.join(src, rel[:-2] + ".c")) and rel not in FOLDER_HEADERS:
            errors.append(f"{rel}: a private header no .c file owns: name it after the file "
                          "that defines what it declares, or list it in FOLDER_HEADERS")
    for comp in cycles(edges):
        errors.append("include circle: " + " <-> ".join(comp) + " (each includes the "
                      "other's header; move the shared part to a header of its own)")
    return errors, len(files)


def nm(paths, *flags):
    """{object: [(symbol, kind)]} with one nm run for all of @paths."""
    out = subprocess.run(["nm", "-P", "-A", *flags, *paths], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"nm: {out.stderr.strip()}")
    res = {p: [] for p in paths}
    for line in out.stdout.splitlines():
        obj, _, rest = line.rpartition(": ")
        f = rest.split()
        if obj in res and len(f) >= 2:
            res[obj].append((f[0], f[1]))
    return res


def check_calls(src, build):
    """One node per source file of the product (lib, agent, verifier, conform)."""
    defs, uses, objects = {}, {}, {}
    for top in ("lib", "agent", "verifier", "conform"):
        for root, _, files in os.walk(os.path.join(build, top)):
            for name in files:
                if not name.endswith(".c.o"):
                    continue
                obj = os.path.join(root, name)
                tdir = root.split("CMakeFiles" + os.sep, 1)
                if len(tdir) != 2:
                    continue
                # build/<folder>/CMakeFiles/<target>.dir/<file>.c.o -> <folder>/<file>.c
                folder = os.path.relpath(tdir[0], build)
                rest = tdir[1].split(os.sep, 1)
                srcfile = os.path.normpath(os.path.join(folder, rest[1][:-2] if len(rest) > 1 else name[:-2]))
                if not os.path.isfile(os.path.join(src, srcfile)):
                    continue
                objects[obj] = srcfile
    objs = len(objects)
    if objects:
        for obj, syms in nm(sorted(objects), "--defined-only", "-g").items():
            for sym, kind in syms:
                if kind != "U":
                    defs.setdefault(sym, set()).add(objects[obj])
        for obj, syms in nm(sorted(objects), "-u").items():
            for sym, _ in syms:
                uses.setdefault(objects[obj], set()).add(sym)
    edges, why = {}, {}
    for f, syms in uses.items():
        for s in syms:
            owners = defs.get(s, set())
            if len(owners) != 1:
                continue  # not ours (libc, OpenSSL) or defined twice (main)
            (g,) = owners
            if g != f:
                edges.setdefault(f, set()).add(g)
                why.setdefault((f, g), set()).add(s)
    errors = []
    for comp in cycles(edges):
        links = []
        for a in comp:
            for b in comp:
                if (a, b) in why:
                    links.append(f"{a} -> {b} ({', '.join(sorted(why[(a, b)])[:3])})")
        errors.append("call circle: " + "; ".join(links))
    return errors, objs, sum(len(v) for v in edges.values())


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    src, build = sys.argv[1], sys.argv[2]
    errors, nfiles = check_includes(src)
    print(f"includes: {nfiles} files in {len(BELOW)} layers")
    call_errors, objs, nedges = check_calls(src, build)
    if objs == 0:
        errors.append(f"no object files under {build}: build the tree first")
    print(f"calls: {objs} objects, {nedges} file-to-file edges")
    errors += call_errors
    for e in errors:
        print("FAIL: " + e)
    if not errors:
        print("ok: no upward include, no include circle, no call circle")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
