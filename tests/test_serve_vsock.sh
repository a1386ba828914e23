#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `serve --listen vsock:...` and `evidence --to vsock:...` over vsock loopback
# (VMADDR_CID_LOCAL, the vsock_loopback module).  Without it (no module, or no
# /dev/vhost-vsock guest to talk to) the test is skipped with the reason.
set -uo pipefail
A=${TDC_AGENT:?} V=${TDC_VERIFIER:?}
T=$(mktemp -d)
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -20 "$T/server.log" 2>/dev/null; exit 1; }

"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || fail "sim-keygen"
"$A" probe --format raw -o "$T/req.cpuid-r" || fail "probe"
echo '{"version":1,"name":"test-sim","allow_simulated":true,"require_tcb":false,"fail_on":["mismatch"]}' \
	>"$T/pol.json"
mkdir "$T/reg"
printf '{"name":"alpha","requested":"%s","requested_format":"cpuid-r","model":"kvm",
 "policy":"%s","sim_dir":"%s","trust_root":"%s"}\n' "$T/req.cpuid-r" "$T/pol.json" \
	"$T/sim" "$T/sim/root-ca.pem" >"$T/reg/alpha.json"
port=$((20000 + RANDOM % 20000))
"$V" serve --listen "vsock:LOCAL:$port" --registry "$T/reg" --db "$T/audit.db" \
	--ready-file "$T/ready" --quiet 2>"$T/server.log" &
SP=$!
for _ in $(seq 400); do
	[ -s "$T/ready" ] && break
	kill -0 "$SP" 2>/dev/null || break
	sleep 0.05
done
if [ ! -s "$T/ready" ]; then
	# Only a refused vsock listen is "no vsock here"; anything else is a failure.
	grep -qE 'listen vsock:.*(Cannot assign requested address|Address family not supported|No such device|not supported)' \
		"$T/server.log" || fail "server did not start: $(tail -3 "$T/server.log")"
	SP=
	echo "SKIP: no vsock loopback on this host: $(tail -1 "$T/server.log")" \
		"(needs the vsock_loopback module; /dev/vhost-vsock is" \
		"$([ -e /dev/vhost-vsock ] && echo present || echo absent))"
	exit 77
fi
"$A" evidence --tee sim --sim-dir "$T/sim" --to "vsock:1:$port" --vm-name alpha \
	-o "$T/v.json" 2>"$T/agent.err" || fail "agent --to vsock: $(cat "$T/agent.err")"
grep -q '"passed": true' "$T/v.json" || fail "verdict over vsock does not pass"
"$V" log --db "$T/audit.db" | grep -q "alpha .*pass .*vsock:1:" || fail "log lacks the vsock peer"
kill -TERM "$SP"
wait "$SP" || fail "serve exit status on SIGTERM"
SP=
echo PASS
