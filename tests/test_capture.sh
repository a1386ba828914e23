#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `tdcpuid-verifier capture` against a real QEMU: QMP handshake, every vCPU's
# feature words, a -cpu edit that must show up in the capture, and the error
# paths (no socket, stale socket, a peer that is not QMP, timeout).
set -u

fail() { echo "FAIL: $*"; exit 1; }

QEMU=$(command -v qemu-system-x86_64) || { echo "SKIP: qemu-system-x86_64 not installed"; exit 77; }
V=${TDC_VERIFIER:?TDC_VERIFIER not set}
tmp=$(mktemp -d /tmp/tdc-capture.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# KVM when /dev/kvm is usable, else TCG: the capture must work with either.
accel=tcg
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	accel=kvm
fi

# start_qemu NAME CPU [extra args...]: QEMU paused (-S), QMP on $tmp/NAME.sock.
start_qemu() {
	local name=$1 cpu=$2
	shift 2
	"$QEMU" -S -display none -nodefaults -machine q35 -accel "$accel" -smp 2 \
		-cpu "$cpu" -qmp "unix:$tmp/$name.sock,server=on,wait=off" "$@" \
		>"$tmp/$name.log" 2>&1 &
	pids+=($!)
	last_pid=$!
	for _ in $(seq 100); do
		[ -S "$tmp/$name.sock" ] && return 0
		kill -0 "$last_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/$name.log"
	if [ "$accel" = kvm ]; then
		echo "note: QEMU with -accel kvm failed; retrying with tcg"
		accel=tcg
		start_qemu "$name" "$cpu" "$@"
		return
	fi
	fail "QEMU ($name) did not create its QMP socket"
}

# reg FILE SECTION LEAF REG: the register's value (hex) from `verifier import`.
reg() {
	"$V" import "$1" | awk -v s="$2" -v l="$3" -v r="$4" \
		'$1 == s && $2 == l && $3 == "0x00" { for (i = 4; i <= NF; i++) if (index($i, r "=") == 1) print substr($i, 5) }'
}

bit_set() { (( ($1 >> $2) & 1 )); }

# 1. Baseline: -cpu qemu64 (fpu, cx16 requested), two vCPUs.
start_qemu base qemu64
"$V" capture --qmp "$tmp/base.sock" -o "$tmp/base.json" --timeout 20 ||
	fail "capture of the baseline QEMU failed"
out=$("$V" import "$tmp/base.json") || fail "import of the capture failed"
grep -qx 'format qmp' <<<"$out" || fail "capture not imported as qmp"
grep -qx 'vcpus 2' <<<"$out" || fail "capture does not hold 2 vCPUs"
for cpu in cpu0 cpu1; do
	edx=$(awk -v c=$cpu '$1 == c && $2 == "0x00000001" { sub("edx=", "", $7); print $7 }' <<<"$out")
	[ -n "$edx" ] || fail "$cpu has no leaf 1 feature words"
	bit_set "$edx" 0 || fail "$cpu: CPUID.01H:EDX.fpu [bit 0] not requested ($edx)"
done
ecx=$(reg "$tmp/base.json" requested 0x00000001 ecx)
fecx=$(reg "$tmp/base.json" filtered 0x00000001 ecx)
[ -n "$ecx" ] && [ -n "$fecx" ] || fail "leaf 1 ECX missing from the capture"
# qemu64 asks for cx16; QEMU either sets it or files it as filtered.
bit_set $((ecx | fecx)) 13 || fail "baseline: cx16 neither requested nor filtered"

# 2. The same machine with -cpu qemu64,-cx16: the edit must be in the capture.
start_qemu edit qemu64,-cx16
"$V" capture --qmp "$tmp/edit.sock" -o "$tmp/edit.json" || fail "capture of the edited QEMU failed"
ecx=$(reg "$tmp/edit.json" requested 0x00000001 ecx)
fecx=$(reg "$tmp/edit.json" filtered 0x00000001 ecx)
bit_set $((ecx | fecx)) 13 && fail "-cx16: CPUID.01H:ECX.cx16 [bit 13] still present ($ecx/$fecx)"
edx=$(reg "$tmp/edit.json" requested 0x00000001 edx)
bit_set "$edx" 0 || fail "-cx16 capture lost fpu"

# Capture to stdout is the same document shape.
"$V" capture --qmp "$tmp/edit.sock" -o - | grep -q '"format": "tdcpuid-qmp-capture"' ||
	fail "capture to stdout"

# 3. Error paths, each with the exit code and a message naming the cause.
expect_fail() {
	local want=$1 needle=$2
	shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, want $want ($err)"
	grep -q -- "$needle" <<<"$err" || fail "'$*': message '$err' lacks '$needle'"
}
expect_fail 2 "no such socket" "$V" capture --qmp "$tmp/none.sock" -o "$tmp/x.json"
expect_fail 2 "Usage" "$V" capture -o "$tmp/x.json"
expect_fail 2 "timeout" "$V" capture --qmp "$tmp/edit.sock" -o "$tmp/x.json" --timeout 0

# A socket that is not QMP: a serial chardev says nothing, so the deadline hits.
start_qemu serial qemu64 -chardev "socket,id=s0,path=$tmp/serial.sock,server=on,wait=off" \
	-serial chardev:s0
expect_fail 3 "no answer before the timeout" "$V" capture --qmp "$tmp/serial.sock" \
	-o "$tmp/x.json" --timeout 1

# A stale socket left by a killed QEMU: connection refused.
kill -9 "$last_pid"
wait "$last_pid" 2>/dev/null
[ -S "$tmp/serial.sock" ] || fail "QEMU removed its socket on SIGKILL?"
expect_fail 3 "connection refused" "$V" capture --qmp "$tmp/serial.sock" -o "$tmp/x.json"
[ -e "$tmp/x.json" ] && fail "a failed capture left an output file"

echo "PASS: capture ($accel): 2 vCPUs, fpu requested, -cx16 reflected, error paths"
exit 0
