#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The real binaries end to end: `tdcpuid-agent evidence --to` against
# `tdcpuid-verifier serve` over loopback TCP (vsock: test_serve_vsock.sh),
# the serial armor through a noisy console log into
# `tdcpuid-verifier ingest`, and `log` over the resulting audit database.
set -uo pipefail
A=${TDC_AGENT:?} V=${TDC_VERIFIER:?}
T=$(mktemp -d)
SP=
cleanup() { [ -n "$SP" ] && kill "$SP" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/server.log" ] && tail -20 "$T/server.log"; exit 1; }

"$A" sim-keygen "$T/sim" >/dev/null 2>&1 || fail "sim-keygen"
"$A" probe --format raw -o "$T/req.cpuid-r" || fail "probe"
cat >"$T/sim-policy.json" <<EOF
{"version":1,"name":"test-sim","allow_simulated":true,"require_tcb":false,"fail_on":["mismatch"]}
EOF
mkdir "$T/reg"
entry() { # name, extra JSON members
	cat >"$T/reg/$1.json" <<EOF
{"name":"$1","requested":"$T/req.cpuid-r","requested_format":"cpuid-r","model":"kvm",
 "sim_dir":"$T/sim","trust_root":"$T/sim/root-ca.pem"$2}
EOF
}
entry alpha ",\"policy\":\"$T/sim-policy.json\""
entry beta ""

start() { # listen address, more serve options
	rm -f "$T/ready"
	"$V" serve --listen "$1" --registry "$T/reg" --db "$T/audit.db" --ready-file "$T/ready" \
		--timeout 5 --reject-interval 1 --quiet "${@:2}" 2>>"$T/server.log" &
	SP=$!
	for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.05; done
	[ -s "$T/ready" ] || return 1
	ADDR=$(head -1 "$T/ready")
}
stop() { kill -TERM "$SP"; wait "$SP"; local rc=$?; SP=; [ $rc -eq 0 ] || fail "serve exited $rc on SIGTERM"; }

# --- TCP: pass and policy failure, with the exit codes the agent documents.
start tcp:127.0.0.1:0 || fail "serve did not start"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name alpha -o "$T/v1.json" 2>/dev/null
[ $? -eq 0 ] || fail "agent --to alpha: expected exit 0"
grep -q '"passed": true' "$T/v1.json" || fail "verdict for alpha does not pass"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name beta -o "$T/v2.json" 2>/dev/null
[ $? -eq 1 ] || fail "agent --to beta (default policy, sim refused): expected exit 1"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name nosuch 2>"$T/err" >/dev/null
rc=$?
[ $rc -ge 2 ] && grep -q "unknown VM" "$T/err" || fail "unknown VM: rc $rc, $(cat "$T/err")"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --nonce 00 2>/dev/null
[ $? -eq 2 ] || fail "--to with --nonce must be a usage error"
# An unsigned verdict is no verdict to an agent holding a verifier key.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/vk.pem" 2>/dev/null &&
	openssl ec -in "$T/vk.pem" -pubout -out "$T/vk.pub" 2>/dev/null || fail "openssl: verdict key"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other.pem" 2>/dev/null &&
	openssl ec -in "$T/other.pem" -pubout -out "$T/other.pub" 2>/dev/null || fail "openssl: other key"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name alpha --verifier-key "$T/vk.pub" \
	-o "$T/v3.json" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "not signed" "$T/err" || fail "unsigned verdict with --verifier-key: rc $rc, $(cat "$T/err")"
[ -s "$T/v3.json" ] && fail "an unverified verdict was written"
stop

# --- signed verdicts: the right key passes (and fails: a fail is signed too), another key is refused.
start tcp:127.0.0.1:0 --sign-key "$T/vk.pem" || fail "serve --sign-key did not start"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name alpha --verifier-key "$T/vk.pub" \
	-o "$T/v4.json" 2>"$T/err"
[ $? -eq 0 ] && grep -q "signature verified" "$T/err" || fail "signed verdict: $(cat "$T/err")"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name beta --verifier-key "$T/vk.pub" \
	-o /dev/null 2>/dev/null
[ $? -eq 1 ] || fail "signed failing verdict: expected exit 1"
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name alpha --verifier-key "$T/other.pub" \
	-o "$T/v5.json" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] && grep -q "does not verify" "$T/err" || fail "another verifier's key: rc $rc, $(cat "$T/err")"
stop

# --- serial: armor into a noisy CRLF console log, ingest with the cmdline nonce.
nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce "$nonce" --vm-name alpha \
	--serial "$T/armor.txt" 2>/dev/null || fail "agent --serial"
[ ! -s "$T/armor.txt" ] && fail "--serial wrote nothing"
{
	printf '[    0.000000] Linux version 6.8.0 (builder@host)\r\n'
	n=0
	while IFS= read -r line; do
		printf '%s\r\n' "$line"
		n=$((n + 1))
		[ $((n % 5)) -eq 0 ] && printf '[    2.%06d] virtio_net virtio0: link up\r\nOK\r\n' $n
	done <"$T/armor.txt"
	printf '[    3.000000] reboot: Power down\r\n'
} >"$T/console.log"
echo "BOOT_IMAGE=/vmlinuz console=ttyS0 tdcpuid.nonce=$nonce quiet" >"$T/cmdline"
"$V" ingest --serial-log "$T/console.log" --cmdline "$T/cmdline" --registry "$T/reg" \
	--vm alpha --db "$T/audit.db" >"$T/ing.json" || fail "ingest: expected pass"
grep -q '"passed": true' "$T/ing.json" || fail "ingest verdict"
other=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$V" ingest --serial-log "$T/console.log" --nonce "$other" --registry "$T/reg" --vm alpha \
	--no-replay-check >/dev/null 2>&1
[ $? -eq 1 ] || fail "ingest with another boot's nonce must fail (exit 1)"
# Without an audit log nothing could refuse a replay: not judged unless waived by name.
"$V" ingest --serial-log "$T/console.log" --cmdline "$T/cmdline" --registry "$T/reg" \
	--vm alpha >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--no-replay-check" "$T/err" ||
	fail "ingest with a nonce and no --db must be refused naming the waiver: $(cat "$T/err")"
for i in 1 2; do
	"$V" ingest --serial-log "$T/console.log" --cmdline "$T/cmdline" --registry "$T/reg" \
		--vm alpha --no-replay-check >/dev/null 2>"$T/err" ||
		fail "ingest --no-replay-check ($i): expected pass"
	grep -q "single use not checked (--no-replay-check)" "$T/err" ||
		fail "ingest --no-replay-check must say what it waived: $(cat "$T/err")"
done
# The same boot's evidence twice into one log: the nonce column refuses the replay.
"$V" ingest --serial-log "$T/console.log" --cmdline "$T/cmdline" --registry "$T/reg" \
	--vm alpha --db "$T/audit.db" >/dev/null 2>&1
[ $? -ge 2 ] || fail "second ingest of the same nonce into the log must be refused"
# Single use whatever the nonce's length: a 16-byte nonce, ingested twice.
short=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce "$short" --vm-name alpha \
	--serial "$T/armor16.txt" 2>/dev/null || fail "agent --serial (16-byte nonce)"
"$V" ingest --serial-log "$T/armor16.txt" --nonce "$short" --registry "$T/reg" --vm alpha \
	--db "$T/audit.db" >/dev/null 2>&1 || fail "ingest (16-byte nonce): expected pass"
"$V" ingest --serial-log "$T/armor16.txt" --nonce "$short" --registry "$T/reg" --vm alpha \
	--db "$T/audit.db" >/dev/null 2>&1
[ $? -ge 2 ] || fail "second ingest of a 16-byte nonce must be refused"
# ... and a 64-byte one (the longest the claims carry).
long=$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce "$long" --vm-name alpha \
	--serial "$T/armor64.txt" 2>/dev/null || fail "agent --serial (64-byte nonce)"
"$V" ingest --serial-log "$T/armor64.txt" --nonce "$long" --registry "$T/reg" --vm alpha \
	--db "$T/audit.db" >/dev/null 2>&1 || fail "ingest (64-byte nonce): expected pass"
"$V" ingest --serial-log "$T/armor64.txt" --nonce "$long" --registry "$T/reg" --vm alpha \
	--db "$T/audit.db" >/dev/null 2>&1
[ $? -ge 2 ] || fail "second ingest of a 64-byte nonce must be refused"
# The policy's nonce_max_age holds for ingest too: a nonce issued (--nonce-issued, or
# the command line file's mtime) longer ago than the policy allows fails.
cat >"$T/aged-policy.json" <<EOF
{"version":1,"name":"test-aged","allow_simulated":true,"require_tcb":false,"fail_on":["mismatch"],"nonce_max_age":60}
EOF
entry aged ",\"policy\":\"$T/aged-policy.json\""
aged=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$A" evidence --tee sim --sim-dir "$T/sim" --nonce "$aged" --vm-name aged \
	--serial "$T/armor-aged.txt" 2>/dev/null || fail "agent --serial (aged)"
"$V" ingest --serial-log "$T/armor-aged.txt" --nonce "$aged" --nonce-issued "@$(($(date +%s) - 10))" \
	--registry "$T/reg" --vm aged --no-replay-check >/dev/null 2>&1 || fail "ingest of a 10 s old nonce (max age 60): expected pass"
"$V" ingest --serial-log "$T/armor-aged.txt" --nonce "$aged" --nonce-issued "@$(($(date +%s) - 7200))" \
	--registry "$T/reg" --vm aged --no-replay-check >"$T/aged.json" 2>&1
[ $? -eq 1 ] && grep -q "policy allows 60 s" "$T/aged.json" ||
	fail "ingest of a 2 h old nonce (max age 60) must fail naming the age: $(head -c 400 "$T/aged.json")"
echo "BOOT_IMAGE=/vmlinuz tdcpuid.nonce=$aged" >"$T/cmdline-aged"
touch -d '2 hours ago' "$T/cmdline-aged"
"$V" ingest --serial-log "$T/armor-aged.txt" --cmdline "$T/cmdline-aged" --registry "$T/reg" \
	--vm aged --no-replay-check >/dev/null 2>&1
[ $? -eq 1 ] || fail "ingest with a 2 h old command line (max age 60) must fail"
rm -f "$T/reg/aged.json"
sed -i 's/[A-Za-z]\(\r\?\)$/@\1/' "$T/console.log" # damage every data line's last char
"$V" ingest --serial-log "$T/console.log" --no-nonce --registry "$T/reg" --vm alpha \
	>/dev/null 2>&1
[ $? -eq 2 ] || fail "ingest of a damaged block must be bad input (exit 2)"

# --- a busy verifier is "try later" (exit 75), not bad input: one connection
# slot, held open by this shell, so the agent's connection is refused at once.
start tcp:127.0.0.1:0 --max-conns 1 || fail "serve --max-conns 1 did not start"
exec 3<>"/dev/tcp/127.0.0.1/${ADDR##*:}" || fail "holding the only connection slot"
sleep 0.2
"$A" evidence --tee sim --sim-dir "$T/sim" --to "$ADDR" --vm-name alpha >/dev/null 2>"$T/err"
rc=$?
exec 3>&-
[ $rc -eq 75 ] || fail "busy verifier: expected exit 75 (try later), got $rc: $(cat "$T/err")"
grep -q "verifier busy" "$T/err" || fail "busy verifier: stderr lacks the reason: $(cat "$T/err")"
grep -q "input exceeds size limit" "$T/err" && fail "busy verifier: reported as oversized input"
stop

# --- the audit log: exchanges over TCP and one ingest.
"$V" log --db "$T/audit.db" --format json >"$T/log.json" || fail "log"
[ "$(grep -c '"verdict": "pass"' "$T/log.json")" -ge 2 ] || fail "log: passes missing"
[ "$(grep -c '"verdict": "fail"' "$T/log.json")" -ge 1 ] || fail "log: failure missing"
grep -q '"reject"' "$T/log.json" || fail "log: unknown-VM rejection missing"
"$V" log --db "$T/audit.db" --vm beta | grep -q ' fail ' || fail "log --vm beta"
out=$("$V" log --db "$T/audit.db" --since 2000-01-01 --vm never-seen 2>&1)
[ -z "$out" ] || fail "log --vm never-seen: $out"
"$V" log --db "$T/audit.db" --check >"$T/check.txt" || fail "log --check: exit $?"
head -1 "$T/check.txt" | grep -qx "integrity_check: ok" || fail "log --check: integrity"
grep -q "^chain: ok: " "$T/check.txt" || fail "log --check: chain"
"$V" log --db "$T/nonexistent.db" >/dev/null 2>&1
[ $? -eq 2 ] || fail "log on a missing database must be exit 2"
echo "PASS"
