#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The tools find policies, models and trust anchors in one data directory:
# --datadir > $TDCPUID_DATADIR > the configured one, absolute only, never
# the working directory; a missing file names the directory searched.
set -u
V=${TDC_VERIFIER:?}
SRC=${TDC_SOURCE_DIR:?}
Q=${TDC_TESTDATA:?}/tdx/tdx_prod_quote_SPR_E4.dat
P=$TDC_TESTDATA/platforms/emr-gold-5520p.baremetal.cpuid-r.txt
T=$(mktemp -d /tmp/tdc-test-datadir.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# A working directory that looks like a data directory must not be used.
mkdir -p "$T/cwd" "$T/empty"
cp -r "$SRC/policies/." "$T/cwd/"
cd "$T/cwd" || exit 1

export TDCPUID_DATADIR=$T/empty
"$V" quote "$Q" --at 2023-07-01T01:00:00Z >"$T/out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "$T/empty/trust/Intel_SGX_Root_CA.pem" "$T/out" &&
	grep -q "TDCPUID_DATADIR environment variable" "$T/out" &&
	ok "quote: missing root names the path and its source" ||
	fail "quote with an empty data dir: exit $rc: $(cat "$T/out")"
"$V" predict --model kvm --platform "$P" >"$T/out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "$T/empty/models/kvm.json" "$T/out" &&
	ok "predict: missing model names the path" ||
	fail "predict with an empty data dir: exit $rc: $(cat "$T/out")"

# --datadir wins over the environment.
"$V" --datadir "$SRC/policies" quote "$Q" --at 2023-07-01T01:00:00Z --signature-only >"$T/out" 2>&1 &&
	ok "--datadir DIR" || fail "--datadir: $(cat "$T/out")"
"$V" --datadir="$T/empty" quote "$Q" --at 2023-07-01T01:00:00Z >"$T/out" 2>&1
grep -q -- "--datadir option" "$T/out" && ok "--datadir=DIR named in the error" ||
	fail "--datadir=DIR: $(cat "$T/out")"
TDCPUID_DATADIR=$SRC/policies "$V" quote "$Q" --at 2023-07-01T01:00:00Z --signature-only >"$T/out" 2>&1 &&
	ok "TDCPUID_DATADIR" || fail "TDCPUID_DATADIR: $(cat "$T/out")"

# Relative directories are refused, from either source.
"$V" --datadir . policy >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "not an absolute path" "$T/out" && ok "--datadir . refused" ||
	fail "--datadir .: exit $rc: $(cat "$T/out")"
TDCPUID_DATADIR=. "$V" quote "$Q" >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "not an absolute path" "$T/out" && ok "TDCPUID_DATADIR=. refused" ||
	fail "TDCPUID_DATADIR=.: exit $rc: $(cat "$T/out")"

# A refused data directory is bad input (exit 2) in every tool, never an
# internal error (3): a ".." component, from either source, and a "directory"
# that is a file (open says ENOTDIR).
A=${TDC_AGENT:?} C=${TDC_CONFORM:-}
mkdir -p "$T/ev"
"$A" sim-keygen "$T/ev/sim" >/dev/null 2>&1 || fail "sim-keygen"
"$A" probe --format raw -o "$T/ev/req.txt" || fail "probe"
"$A" evidence --tee sim --sim-dir "$T/ev/sim" --nonce 00 -o "$T/ev/ev.cbor" 2>/dev/null ||
	fail "evidence"
refused=("$SRC/policies/../policies" "$SRC/policies/.." "/etc/passwd")
cmds=("$V policy $SRC/policies/default.json"
	"$V check --evidence $T/ev/ev.cbor --requested $T/ev/req.txt --nonce 00 --sim-dir $T/ev/sim --policy $SRC/policies/default.json"
	"$V check --evidence $T/ev/ev.cbor --requested $T/ev/req.txt --nonce 00 --sim-dir $T/ev/sim"
	"$V quote $Q --at 2023-07-01T01:00:00Z"
	"$V predict --model kvm --platform $P")
[ -n "$C" ] && cmds+=("$C --backend kvm --smp 1")
for d in "${refused[@]}"; do
	for cmd in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # the commands are word lists
		TDCPUID_DATADIR=$d $cmd >"$T/out" 2>&1
		rc=$?
		# shellcheck disable=SC2086
		set -- $cmd
		[ $rc -eq 2 ] && grep -qF "$d" "$T/out" && ok "TDCPUID_DATADIR=$d: ${1##*/} $2: exit 2" ||
			fail "TDCPUID_DATADIR=$d ${cmd:0:80}: exit $rc: $(head -c 300 "$T/out")"
	done
done
for tool in "$V policy" "$A probe" ${C:+"$C --backend kvm"}; do
	# shellcheck disable=SC2086
	set -- $tool
	"$1" --datadir "$SRC/policies/../policies" "${@:2}" >"$T/out" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q 'contains ".."' "$T/out" && ok "${1##*/} --datadir with ..: exit 2" ||
		fail "${1##*/} --datadir with ..: exit $rc: $(cat "$T/out")"
done

"$V" --help | grep -q "TDCPUID_DATADIR" && ok "usage names the lookup" || fail "usage"
"$V" version | grep -qx "data directory: $T/empty (TDCPUID_DATADIR environment variable)" &&
	ok "version names the data directory in effect" || fail "version: $("$V" version)"
"$V" --datadir /opt/x version | grep -qx "data directory: /opt/x (--datadir option)" ||
	fail "version with --datadir: $("$V" --datadir /opt/x version)"
[ $fails -eq 0 ] || exit 1
