#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bash completion (completion/tdcpuid.bash): sourced in bash, it completes
# the subcommands, options and fixed choices the tools' --help names, model
# names from the data directory, and paths for FILE arguments.
set -u
SRC=${TDC_SOURCE_DIR:?}
COMPLETION=${TDC_COMPLETION:-$SRC/completion/tdcpuid.bash}
PATH=$(dirname "${TDC_AGENT:?}"):$(dirname "${TDC_VERIFIER:?}"):$(dirname "${TDC_CONFORM:?}"):$PATH
export TDCPUID_DATADIR=${TDCPUID_DATADIR:-$SRC/policies}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# shellcheck source=/dev/null
. "$COMPLETION" || { echo "FAIL: sourcing $COMPLETION"; exit 1; }
complete -p tdcpuid-verifier >/dev/null || fail "no completion registered for tdcpuid-verifier"

# complete WORDS... : COMPREPLY for the last word, one per line.
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_tdcpuid "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}
expect() { # expect WANT WORDS...: WANT among the completions
	local want=$1
	shift
	if complete_line "$@" | grep -qx -- "$want"; then
		echo "ok: '$*' -> $want"
	else
		fail "'$*' does not offer '$want' (got: $(complete_line "$@" | tr '\n' ' '))"
	fi
}
expect_not() {
	local bad=$1
	shift
	! complete_line "$@" | grep -qx -- "$bad" || fail "'$*' offers '$bad'"
}

expect check tdcpuid-verifier ch
expect quote tdcpuid-verifier ""
expect predict tdcpuid-verifier pre
expect --datadir tdcpuid-verifier --da
expect evidence tdcpuid-agent ev
expect sim-keygen tdcpuid-agent ""
expect --model tdcpuid-verifier check --mo
expect --evidence tdcpuid-verifier check --ev
expect --backend tdcpuid-conform --ba
expect kvm tdcpuid-verifier check --model k
expect tdx-1.5.01 tdcpuid-verifier predict --model tdx-1.5.0
expect_not tdx-releases tdcpuid-verifier predict --model tdx-r
expect kvm tdcpuid-conform --model ""
expect linux tdcpuid-conform --backend ""
expect qemu tdcpuid-conform --backend q
expect raw tdcpuid-agent probe --format ""
expect cbor tdcpuid-agent probe --format c
expect_not --model tdcpuid-agent probe --
# The subcommand is found after the global --datadir DIR.
T=$(mktemp -d /tmp/tdc-test-completion.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/data/models" && echo '{}' >"$T/data/models/mine.json"
expect mine tdcpuid-verifier --datadir "$T/data" check --model m
expect_not kvm tdcpuid-verifier --datadir "$T/data" check --model k
expect check tdcpuid-verifier --datadir "$T/data" c
# FILE arguments complete paths.
touch "$T/ev.cbor"
expect "$T/ev.cbor" tdcpuid-verifier check --evidence "$T/ev"
# Every subcommand of both dispatchers completes some option.
for tool in tdcpuid-agent tdcpuid-verifier; do
	for sub in $(complete_line "$tool" ""); do
		case $sub in -*) continue ;; esac
		[ -n "$(complete_line "$tool" "$sub" --)" ] || fail "$tool $sub: no options completed"
	done
done
[ $fails -eq 0 ] || exit 1
echo "PASS"
