#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Integration: on this machine, `tdcpuid-agent probe --format raw` must agree
# with `cpuid -r` (Debian package cpuid) for every (CPU, leaf, subleaf) both
# print, and must cover every (leaf, subleaf) `cpuid -r` prints.
#
# Both tools pin themselves to each CPU in turn, so per-CPU fields (APIC IDs
# in CPUID.01H:EBX[31:24], 0BH/1FH EDX, 8000001EH) are compared CPU by CPU
# and need no mask.  Fields that genuinely vary between executions on the
# same CPU are found at run time: each tool runs twice, and any register that
# differs between two runs of the same tool is listed and excluded.  Fields
# masked by hand go in MASKS below, each with its reason; none are needed on
# the machines this was written on (AMD EPYC under PVM, Intel EMR dumps).
#
# Entries only `cpuid -r` prints are allowed only if all-zero (its blind
# probes: e.g. subleaf loops past a leaf's declared end, range bases of absent
# ranges); each is listed.  Entries only the probe prints (terminating
# subleaves such as 8000001DH.4, which KVM's KVM_GET_SUPPORTED_CPUID keeps
# too) are listed for information.
set -u -o pipefail
export LC_ALL=C # sort and join must agree on the order

agent=${TDC_AGENT:?TDC_AGENT not set}

case "$(uname -m)" in
x86_64 | i?86) ;;
*)
	echo "SKIP: not an x86 machine ($(uname -m))"
	exit 77
	;;
esac
if ! command -v cpuid >/dev/null 2>&1; then
	echo "SKIP: cpuid (Debian package 'cpuid') is not installed"
	exit 77
fi

# "leaf subleaf REG mask-of-bits-to-ignore reason" (hex); empty on purpose.
MASKS=()

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# raw lines -> "cpu leaf sub eax ebx ecx edx", one per entry, sorted.
normalize() {
	awk '
	/^CPU [0-9]+:$/ { cpu = $2; sub(":", "", cpu); next }
	/^CPU:$/ { cpu = "?"; next }
	# mawk has no {n} intervals: check the field shapes by length.
	NF == 6 && /^   0x/ && length($1) == 10 && $2 ~ /^0x[0-9a-f]+:$/ &&
	$3 ~ /^eax=0x[0-9a-f]+$/ && length($3) == 14 && $4 ~ /^ebx=0x[0-9a-f]+$/ && length($4) == 14 &&
	$5 ~ /^ecx=0x[0-9a-f]+$/ && length($5) == 14 && $6 ~ /^edx=0x[0-9a-f]+$/ && length($6) == 14 {
		leaf = $1; s = $2; sub(":", "", s)
		printf "%s %s %s %s %s %s %s\n", cpu, leaf, s,
			substr($3, 5), substr($4, 5), substr($5, 5), substr($6, 5)
		n++
		next
	}
	{ if (bad++ < 5) print "UNPARSED: " $0 > "/dev/stderr" }
	END { exit bad || n == 0 }' "$1" | sort
}

apply_masks() {
	local m
	if [ ${#MASKS[@]} -eq 0 ]; then
		cat
		return
	fi
	for m in "${MASKS[@]}"; do echo "$m"; done | awk '
	FNR == NR { mask[$1 " " $2 " " $3] = $4; next }
	{
		for (r = 0; r < 4; r++) {
			reg = substr("EAXEBXECXEDX", r * 3 + 1, 3)
			k = $2 " " $3 " " reg
			if (k in mask) $(4 + r) = sprintf("masked(%s)", mask[k])
		}
		print
	}' - /dev/stdin
}

run_tools() {
	if ! "$agent" probe --format raw -o "$tmp/probe$1.raw" 2>"$tmp/probe$1.err"; then
		echo "FAIL: tdcpuid-agent probe --format raw failed:"
		cat "$tmp/probe$1.err"
		exit 1
	fi
	cpuid -r >"$tmp/cpuid$1.raw" 2>"$tmp/cpuid$1.err" || {
		echo "FAIL: cpuid -r failed:"
		cat "$tmp/cpuid$1.err"
		exit 1
	}
	normalize "$tmp/probe$1.raw" | apply_masks >"$tmp/p$1" || fail=1
	normalize "$tmp/cpuid$1.raw" | apply_masks >"$tmp/c$1" || fail=1
}

run_tools 1
run_tools 2

# Registers that differ between two runs of the same tool vary by nature.
varying() { # file1 file2 -> "cpu leaf sub regindex"
	join -j1 <(awk '{ print $1 "/" $2 "/" $3, $4, $5, $6, $7 }' "$1") \
		<(awk '{ print $1 "/" $2 "/" $3, $4, $5, $6, $7 }' "$2") |
		awk '{ for (r = 0; r < 4; r++) if ($(2 + r) != $(6 + r)) print $1, r }'
}
{
	varying "$tmp/p1" "$tmp/p2"
	varying "$tmp/c1" "$tmp/c2"
} | sort -u >"$tmp/varying"
if [ -s "$tmp/varying" ]; then
	echo "Fields varying between executions (excluded from the comparison):"
	sed 's/^/  /' "$tmp/varying"
fi

# The CPU sets must agree: the probe must not skip a CPU cpuid -r could use.
awk '{ print $1 }' "$tmp/p1" | sort -u >"$tmp/pcpus"
awk '{ print $1 }' "$tmp/c1" | sort -u >"$tmp/ccpus"
if ! cmp -s "$tmp/pcpus" "$tmp/ccpus"; then
	echo "FAIL: CPU sets differ: probe [$(tr '\n' ' ' <"$tmp/pcpus")] cpuid -r [$(tr '\n' ' ' <"$tmp/ccpus")]"
	cat "$tmp/probe1.err"
	fail=1
fi

# Compare every (cpu, leaf, subleaf) both print.
join -j1 <(awk '{ print $1 "/" $2 "/" $3, $4, $5, $6, $7 }' "$tmp/p1") \
	<(awk '{ print $1 "/" $2 "/" $3, $4, $5, $6, $7 }' "$tmp/c1") |
	awk -v varfile="$tmp/varying" '
	BEGIN { while ((getline l < varfile) > 0) { split(l, a, " "); skip[a[1] " " a[2]] = 1 } }
	{
		n++
		for (r = 0; r < 4; r++) {
			if ((($1 " " r) in skip) || $(2 + r) == $(6 + r)) continue
			reg = substr("eaxebxecxedx", r * 3 + 1, 3)
			printf "DIFF cpu/leaf/subleaf %s %s: probe %s, cpuid -r %s\n", $1, reg, $(2 + r), $(6 + r)
			d++
		}
	}
	END { printf "compared %d entries present in both, %d register differences\n", n, d; exit d > 0 }' ||
	fail=1

# Coverage: what only one side prints.
join -v2 -j1 <(awk '{ print $1 "/" $2 "/" $3 }' "$tmp/p1") \
	<(awk '{ print $1 "/" $2 "/" $3, $4, $5, $6, $7 }' "$tmp/c1") >"$tmp/only_cpuid"
join -v1 -j1 <(awk '{ print $1 "/" $2 "/" $3 }' "$tmp/p1") \
	<(awk '{ print $1 "/" $2 "/" $3 }' "$tmp/c1") >"$tmp/only_probe"
if [ -s "$tmp/only_cpuid" ]; then
	echo "Entries only cpuid -r prints:"
	awk '{
		zero = ($2 == "0x00000000" && $3 == "0x00000000" && $4 == "0x00000000" && $5 == "0x00000000")
		if (zero) print "  " $1 ": all-zero (a blind probe past what the CPU declares; justified)"
		else { print "  " $1 ": NOT COVERED by the probe: " $0; bad = 1 }
	} END { exit bad }' "$tmp/only_cpuid" || fail=1
fi
if [ -s "$tmp/only_probe" ]; then
	echo "Entries only the probe prints (declared by the leaf rules, e.g. terminating subleaves):"
	sed 's/^/  /' "$tmp/only_probe"
fi
echo "probe: $(wc -l <"$tmp/p1") entries on $(wc -l <"$tmp/pcpus") CPUs; cpuid -r: $(wc -l <"$tmp/c1") entries"

if [ "$fail" -ne 0 ]; then
	echo "FAIL"
	exit 1
fi
echo "PASS"
