#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent check of a tdcpuid-conform verdict (issue 8, test 1).

Usage: conform_check.py REQUESTED OBSERVED VERDICT_JSON VERDICT_TEXT MODEL_JSON

Redoes the comparison the simple way, without the project's C code:
requested (kvm-json, or a QMP capture: one feature word = one whole
register) against what every vCPU saw (--dump-observed), with the kvm
model's dynamic fields masked.  Then it asserts, for every vCPU, register
and bit the request specifies:
  - bits that differ are `mismatch` in the tool's JSON verdict, listed by
    name in its "bits", and printed as a MISMATCH line in its text output;
  - bits that are equal are `confirmed`.
Prints one line per finding; exit 0 if the tool agrees, 1 otherwise.
"""
import json
import re
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


REGS = ["EAX", "EBX", "ECX", "EDX"]


def requested_tables(doc, ncpus):
    """Per vCPU: {(leaf, subleaf, reg): (value, known_mask)}."""
    if "entries" in doc:  # kvm-json: whole registers, same for every vCPU
        t = {}
        for e in doc["entries"]:
            leaf, sub = num(e["function"]), num(e.get("index", 0))
            for r in REGS:
                t[(leaf, sub, r)] = (num(e[r.lower()]), 0xFFFFFFFF)
        return [t] * ncpus
    out = []  # tdcpuid-qmp-capture: one feature word = one whole register
    smp = doc.get("smp")
    threads = smp["dies"] * smp["cores"] * smp["threads"] if smp else 1
    for cpu in doc["cpus"]:
        t = {}
        props = cpu.get("cpuid-props")
        for w in cpu["feature-words"]:
            if "cpuid-register" not in w:
                continue
            key = (num(w["cpuid-input-eax"]), num(w.get("cpuid-input-ecx", 0)),
                   w["cpuid-register"])
            t[key] = (num(w["features"]), 0xFFFFFFFF)
        if props:
            # QEMU (target/i386/cpu.c, kvm.c): leaves above level/xlevel are not
            # given to the guest; leaf 0 / 0x80000000 carry level/xlevel and the
            # vendor; -smp sets 01H:EDX.ht and, not Intel, 80000001H:ECX.cmp-legacy.
            for k in [k for k in t if (k[0] < 0x40000000 and k[0] > props["level"]) or
                      (k[0] >> 28 == 8 and k[0] > props["xlevel"])]:
                del t[k]
            v = props["vendor"].encode()
            ebx, edx, ecx = (int.from_bytes(v[i:i + 4], "little") for i in (0, 4, 8))
            for leaf, eax in ((0, props["level"]), (0x80000000, props["xlevel"])):
                for r, val in zip(REGS, (eax, ebx, ecx, edx)):
                    t[(leaf, 0, r)] = (val, 0xFFFFFFFF)
            for leaf, reg, bit, amd_only in ((1, "EDX", 28, False), (0x80000001, "ECX", 1, True)):
                if (leaf, 0, reg) in t:
                    val, known = t[(leaf, 0, reg)]
                    on = threads > 1 and (not amd_only or props["vendor"] != "GenuineIntel")
                    t[(leaf, 0, reg)] = ((val & ~(1 << bit)) | (on << bit), known)
        out.append(t)
    return out


def dynamic_masks(model):
    """(leaf, subleaf or None, reg) -> mask of the model's dynamic fields."""
    dyn = {}
    for leaf in model.get("leaves", []):
        sub = leaf.get("subleaf")
        for f in leaf.get("fields", []):
            if f.get("class") == "dynamic":
                key = (num(leaf["leaf"]), None if sub is None else num(sub), f["reg"].upper())
                dyn[key] = dyn.get(key, 0) | num(f["mask"])
    return dyn


def dyn_mask(dyn, leaf, sub, reg):
    return dyn.get((leaf, None, reg), 0) | dyn.get((leaf, sub, reg), 0)


def verdict_view(verdict, ncpus):
    """Per vCPU: {(leaf, subleaf, reg): register record}; deltas override common."""
    common, per = {}, [dict() for _ in range(ncpus)]
    for r in verdict["registers"]:
        key = (num(r["leaf"]), num(r["subleaf"]), r["reg"])
        if r["cpu"] is None:
            common[key] = r
        else:
            per[r["cpu"]][key] = r
    views = []
    for p in per:
        v = dict(common)
        v.update(p)
        views.append(v)
    return views


def main():
    req_doc, obs_doc, verdict = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
    text = open(sys.argv[4]).read()
    dyn = dynamic_masks(load(sys.argv[5]))
    ncpus = len(obs_doc["vcpus"])
    reqs = requested_tables(req_doc, ncpus)
    views = verdict_view(verdict, ncpus)
    errors, differing, equal = 0, 0, 0
    named = set(re.findall(r"MISMATCH: (CPUID\S+(?: \[bit \d+\])?)", text))

    for c, vcpu in enumerate(obs_doc["vcpus"]):
        for e in vcpu["entries"]:
            leaf, sub = num(e["function"]), num(e["index"])
            for reg in REGS:
                if (leaf, sub, reg) not in reqs[c]:
                    continue
                want, known = reqs[c][(leaf, sub, reg)]
                seen = num(e[reg.lower()])
                mask = known & ~dyn_mask(dyn, leaf, sub, reg) & 0xFFFFFFFF
                diff, same = (want ^ seen) & mask, ~(want ^ seen) & mask
                rec = views[c].get((leaf, sub, reg))
                where = "vCPU %d CPUID.%08XH.%d:%s" % (c, leaf, sub, reg)
                if rec is None:
                    print("FAIL: %s: no register in the verdict" % where)
                    errors += 1
                    continue
                v = {k: num(m) for k, m in rec["verdict"].items()}
                bits = {b["bit"]: b for b in rec["bits"]}
                for b in range(32):
                    if diff >> b & 1:
                        differing += 1
                        if not v.get("mismatch", 0) >> b & 1:
                            print("FAIL: %s bit %d: requested %d, seen %d, verdict is not mismatch"
                                  % (where, b, want >> b & 1, seen >> b & 1))
                            errors += 1
                        elif b not in bits or bits[b]["name"] not in named:
                            print("FAIL: %s bit %d: mismatch not named in the text output" % (where, b))
                            errors += 1
                    elif same >> b & 1:
                        equal += 1
                        if not v.get("confirmed", 0) >> b & 1:
                            print("FAIL: %s bit %d: equal (%d) but not confirmed" % (where, b, seen >> b & 1))
                            errors += 1
    if differing + equal == 0:
        print("FAIL: nothing compared")
        errors += 1
    print("%d vCPU(s): %d differing bits all mismatch+named, %d equal bits all confirmed%s"
          % (ncpus, differing, equal, "" if not errors else " -- %d DISAGREEMENTS" % errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
