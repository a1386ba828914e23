#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tdcpuid-agent probe: options, formats, exit codes, skipped-CPU reporting.
set -u -o pipefail

agent=${TDC_AGENT:?TDC_AGENT not set}
case "$(uname -m)" in
x86_64 | i?86) ;;
*)
	echo "SKIP: not an x86 machine"
	exit 77
	;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}
rc_is() { # expected-rc command...
	local want=$1
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" -eq "$want" ] || { echo "  rc $rc, expected $want; stderr: $(cat "$tmp/err")"; return 1; }
}
one_line_err() { [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "^tdcpuid-agent probe: " "$tmp/err"; }

check "--help exits 0 with usage" rc_is 0 "$agent" probe --help
check "--help text" grep -q "Usage: tdcpuid-agent probe" "$tmp/out"
check "unknown format exits 2" rc_is 2 "$agent" probe --format xml
check "unknown format: one line on stderr" one_line_err
check "stray argument exits 2" rc_is 2 "$agent" probe extra
check "bad --cpu exits 2" rc_is 2 "$agent" probe --cpu 1-x
check "bad --cpu: one line on stderr" one_line_err
check "--cpu naming no existing CPU exits 2" rc_is 2 "$agent" probe --cpu 8190-8191
check "  ... and says why" grep -q "no CPU could be probed" "$tmp/err"

ncpu=$(nproc)
check "text exits 0" rc_is 0 "$agent" probe
check "text counts the CPUs" grep -Eq "^$ncpu CPUs? probed" "$tmp/out"
check "text names features" grep -q "EDX:.* sse2" "$tmp/out"
if grep -qw hypervisor /proc/cpuinfo; then
	check "hypervisor range labelled untrusted" grep -q "hypervisor-provided (VMM, untrusted in a TD)" "$tmp/out"
fi

check "raw exits 0" rc_is 0 "$agent" probe --format raw
check "raw: one header per CPU" [ "$(grep -c '^CPU [0-9]*:$' "$tmp/out")" -eq "$ncpu" ]
check "raw: cpuid -r line shape" grep -Eq '^   0x00000000 0x00: eax=0x[0-9a-f]{8} ebx=0x[0-9a-f]{8} ecx=0x[0-9a-f]{8} edx=0x[0-9a-f]{8}$' "$tmp/out"
cp "$tmp/out" "$tmp/raw_stdout"
check "-o FILE writes the file" rc_is 0 "$agent" probe --format raw -o "$tmp/raw_file"
check "  ... with nothing on stdout" [ ! -s "$tmp/out" ]
check "  ... same entries as stdout" cmp -s <(grep -c . "$tmp/raw_file") <(grep -c . "$tmp/raw_stdout")

# A non-regular target (FIFO, /dev/null) is written in place, never replaced.
mkfifo "$tmp/fifo"
(cat "$tmp/fifo" >"$tmp/fifo_out") &
check "-o FIFO exits 0" rc_is 0 "$agent" probe --format raw -o "$tmp/fifo"
wait
check "  ... the FIFO is still a FIFO" [ -p "$tmp/fifo" ]
check "  ... and carried the output" [ -s "$tmp/fifo_out" ]

check "json exits 0" rc_is 0 "$agent" probe --format json
if command -v python3 >/dev/null 2>&1; then
	check "json parses, has the claims" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cpuid_count"] > 0 and len(d["common"]) > 10 and len(d["cpus"]) == int(sys.argv[2])
assert all(set(e) >= {"leaf", "subleaf", "eax", "ebx", "ecx", "edx"} for e in d["common"])
' "$tmp/out" "$ncpu"
else
	echo "skip json parse check: python3 not installed"
fi

check "cbor exits 0" rc_is 0 "$agent" probe --format cbor
is_cbor_map() { case "$(head -c1 "$tmp/out" | od -An -tx1 | tr -d ' ')" in a? | b?) return 0 ;; esac; return 1; }
check "cbor starts with a map" is_cbor_map

# A CPU outside the affinity mask is listed with the reason, never dropped.
if [ "$ncpu" -gt 1 ] && command -v taskset >/dev/null 2>&1; then
	first=$(awk '/^CPU [0-9]+:$/ { sub(":", "", $2); print $2; exit }' "$tmp/raw_stdout")
	check "restricted affinity exits 0" rc_is 0 taskset -c "$first" "$agent" probe
	check "  ... probes one CPU" grep -Eq "^1 CPU probed, $((ncpu - 1)) skipped" "$tmp/out"
	check "  ... names the affinity reason" grep -q "affinity mask" "$tmp/out"
	check "restricted raw lists skipped CPUs on stderr" rc_is 0 taskset -c "$first" "$agent" probe -f raw
	check "  ... one header" [ "$(grep -c '^CPU' "$tmp/out")" -eq 1 ]
	check "  ... stderr names the skipped CPUs" [ "$(grep -c 'skipped: not in this process' "$tmp/err")" -eq $((ncpu - 1)) ]
else
	echo "skip affinity checks: one CPU or no taskset"
fi

if [ "$fails" -ne 0 ]; then
	echo "FAIL: $fails check(s)"
	exit 1
fi
echo PASS
