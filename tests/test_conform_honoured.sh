#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Issue 8, test 3: bits this host honours round-trip as `confirmed`.
# Which bits are honoured is found here, at test time: clear one requested
# feature bit (--cpu host,-BIT), read what the guest saw (--dump-observed);
# 0 means honoured, and then the tool must call that bit confirmed; 1 means
# ignored, and the tool must call it a mismatch.  The tool's own --scan must
# have seen the same guest value for every probed bit.
set -u
CONFORM=${TDC_CONFORM:?}
SRC=${TDC_SOURCE_DIR:?}
if [ ! -c /dev/kvm ] || ! [ -r /dev/kvm -a -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm absent or not accessible"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
T=$(mktemp -d /tmp/tdc-test-conform-hon.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$CONFORM" --backend kvm --dump-requested "$T/req.json" >/dev/null 2>"$T/err"
rc=$?
[ $rc -le 1 ] || { echo "FAIL: baseline run exit $rc: $(cat "$T/err")"; exit 1; }
"$CONFORM" --backend kvm --scan --format json >"$T/scan.json" 2>"$T/err" ||
	{ echo "FAIL: --scan: $(cat "$T/err")"; exit 1; }

python3 - "$CONFORM" "$T" "$SRC/policies/models/kvm.json" <<'PY'
import json, subprocess, sys
conform, T, model = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
req = json.load(open(T + "/req.json"))
scan = {(b["leaf"], b["subleaf"], b["reg"], b["bit"]): b
        for b in json.load(open(T + "/scan.json"))["bits"]}
dyn = {}
for l in model["leaves"]:
    for f in l.get("fields", []):
        if f["class"] == "dynamic":
            dyn[(int(l["leaf"], 16), f["reg"].upper())] = dyn.get((int(l["leaf"], 16), f["reg"].upper()), 0) | int(f["mask"], 16)
cands = []
for e in req["entries"]:
    leaf, sub = e["function"], e["index"]
    if (leaf, sub) not in ((1, 0), (7, 0), (0x80000001, 0)):
        continue
    for reg in ("ECX", "EDX") if leaf != 7 else ("EBX", "ECX", "EDX"):
        v = e[reg.lower()] & ~dyn.get((leaf, reg), 0)
        cands += [(leaf, sub, reg, b) for b in range(32) if v >> b & 1]
fails, honoured, ignored = 0, [], []
for leaf, sub, reg, b in cands:
    spec = "0x%x%s:%s[%d]" % (leaf, ".%d" % sub if leaf == 7 else "", reg.lower(), b)
    p = subprocess.run([conform, "--backend", "kvm", "--cpu", "host,-" + spec,
                        "--dump-observed", T + "/o.json", "--json-out", T + "/v.json"],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        print("FAIL: %s: exit %d: %s" % (spec, p.returncode, p.stderr.strip())); fails += 1; continue
    obs = json.load(open(T + "/o.json"))["vcpus"][0]["entries"]
    seen = [x for x in obs if x["function"] == leaf and x["index"] == sub][0][reg.lower()] >> b & 1
    rec = [r for r in json.load(open(T + "/v.json"))["registers"]
           if int(r["leaf"], 16) == leaf and r["subleaf"] == sub and r["reg"] == reg and r["cpu"] is None][0]
    verdict = [k for k, m in rec["verdict"].items() if int(m, 16) >> b & 1]
    want = "confirmed" if seen == 0 else "mismatch"
    (honoured if seen == 0 else ignored).append(spec)
    if verdict != [want]:
        print("FAIL: %s cleared, guest sees %d, verdict %s (expected %s)" % (spec, seen, verdict, want)); fails += 1
    sb = scan.get((leaf, sub, reg, b))
    if not sb or sb["seen_flipped"] != seen:
        print("FAIL: %s: --scan saw %s with the bit cleared, this run saw %d" % (
              spec, sb and sb["seen_flipped"], seen)); fails += 1
    elif seen == 1 and sb["result"] != "ignored":
        print("FAIL: %s: guest ignores the cleared bit, --scan says %s" % (spec, sb["result"])); fails += 1
print("%d bits probed: %d honoured (all confirmed), %d ignored (all mismatch)" % (len(cands), len(honoured), len(ignored)))
print("honoured: " + " ".join(honoured))
if fails:
    print("%d failure(s)" % fails); sys.exit(1)
if not honoured:
    print("SKIP: this host honours none of the %d probed bits: nothing to round-trip" % len(cands)); sys.exit(77)
PY
