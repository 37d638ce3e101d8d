#!/usr/bin/env bash
# t_network: a hostile network against the real daemon (issue "A hostile network", findings 1
# and 2). Attacks come from their own loopback addresses (127.0.0.2, ...), the real signer
# from 127.0.0.1: 1,000 logins for unknown users at once (Argon2id, 64 MiB each: inkand's
# memory stays under slots x 64 MiB + 100 MiB, measured on the optimised build), 1,000
# slowloris connections (the signer still logs in and signs within 30 s), the per-source
# connection limit, the login rate per source, a trusted proxy's X-Forwarded-For.
. "$(dirname "$0")/lib.sh"

ATTACK="$INKAN_SRC/tests/e2e/net_attack.py"
# Memory is measured on the optimised build of `make run` (ASan's shadow memory would hide
# what the program itself takes); the rest runs on the build under test.
OPT_BUILD=${INKAN_OPT_BUILD:-$INKAN_SRC/build}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

sources() { # FIRST COUNT: 127.0.0.FIRST .. 127.0.0.(FIRST+COUNT-1), comma separated
	seq "$1" $(($1 + $2 - 1)) | sed 's/^/127.0.0./' | paste -sd, -
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

PIN=pin-Harbour-5820
add_secret "$PIN"

# signer_round TOKEN OTP CRED: authorize one hash with PIN + OTP and sign it; 0 when signed.
signer_round() {
	local tok=$1 otp=$2 cred=$3 h
	h=$(head -c 64 /dev/urandom | openssl dgst -sha256 -binary | base64 -w0)
	api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$cred" --arg h "$h" --arg p "$PIN" \
		--arg o "$otp" '{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$tok"
	[ "$STATUS" = 200 ] || { say "authorize: $STATUS $BODY"; return 1; }
	api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$cred" --arg s "$(printf '%s' "$BODY" | jq -r .SAD)" \
		--arg h "$h" '{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$tok"
	[ "$STATUS" = 200 ] || { say "signHash: $STATUS $BODY"; return 1; }
}

# ---- 1. 1,000 logins for unknown users at once: bounded Argon2id work --------------------

init_data
if [ -x "$OPT_BUILD/inkand" ] && [ -x "$OPT_BUILD/inkan-sam" ]; then
	INKAND="$OPT_BUILD/inkand"
else
	say "no optimised build in $OPT_BUILD: memory measured on $INKAN_BUILD"
fi
conf argon2_slots 2
conf argon2_queue 64
conf login_rate 100000   # the Argon2id bound alone (the login rate has its own test below)
start_inkand
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
CRED=$(printf '%s' "$BODY" | jq -r .id)
base=$(rss_kib "$INKAND_PID")
argon_kib=$(grep -E '^argon2_memory_kib' "$DATA/inkan.conf" | awk '{print $3}')
argon_kib=${argon_kib:-65536}
bound=$((2 * argon_kib + 100 * 1024))
say "inkand RSS before: $base KiB; bound: $bound KiB (2 slots x $argon_kib KiB + 100 MiB)"

python3 "$ATTACK" logins --port "$PORT" --cafile "$CACERT" --n 1000 \
	--sources "$(sources 2 20)" >"$T/logins.json" &
apid=$!
peak=0 signed=none t0=$(date +%s)
while kill -0 "$apid" 2>/dev/null; do
	r=$(rss_kib "$INKAND_PID")
	[ "$r" -gt "$peak" ] && peak=$r
	if [ "$signed" = none ] && [ $(($(date +%s) - t0)) -ge 2 ]; then
		# the real signer, from its own address, while the attack runs
		# (both codes first: waiting for the clock is not the server's time)
		o1=$(otp_next alice) o2=$(otp_next alice) t1=$(date +%s)
		try_login alice "$(pw_of alice)" "$o1"
		if [ "$STATUS" = 200 ] && signer_round "$(printf '%s' "$BODY" | jq -r .access_token)" "$o2" "$CRED"; then
			signed=$(($(date +%s) - t1))
		else
			signed=-1
		fi
	fi
	sleep 0.1
done
wait "$apid" || fail "the login attacker failed"
say "attack: $(cat "$T/logins.json"); peak RSS $peak KiB"
[ "$peak" -le "$bound" ] || fail "inkand took $peak KiB under 1,000 logins (bound $bound KiB)"
ok "1,000 concurrent logins for unknown users: inkand peaked at $((peak / 1024)) MiB (bound $((bound / 1024)) MiB)"
[ "$signed" != none ] && [ "$signed" -ge 0 ] || fail "the real signer could not log in and sign during the attack"
[ "$signed" -le 30 ] || fail "the real signer needed ${signed}s to log in and sign during the attack"
ok "the real signer logged in and signed during the attack in ${signed}s"
busy=$(jq '."503" // 0' "$T/logins.json")
[ "$busy" -gt 0 ] || fail "no login was answered 503 (Argon2id queue never full?)"
[ "$(jq '."retry_after_503" // 0' "$T/logins.json")" = "$busy" ] || fail "a 503 came without Retry-After"
ok "$busy logins beyond the Argon2id slots and queue were answered 503 with Retry-After"

# 1b. From 200 addresses, five logins each: more sources than slots and queue places, so
# nobody holds two places more than another. A signer who is logged in still authorizes and
# signs (an authenticated caller goes before anonymous logins).
o1=$(otp_next alice) o2=$(otp_next alice)
try_login alice "$(pw_of alice)" "$o1"
expect_status 200
tok=$(printf '%s' "$BODY" | jq -r .access_token)
python3 "$ATTACK" logins --port "$PORT" --cafile "$CACERT" --n 1000 --seconds 20 \
	--sources "$(sources 10 200)" >"$T/logins2.json" &
apid=$!
sleep 1.5
t1=$(date +%s)
signer_round "$tok" "$o2" "$CRED" || fail "a logged-in signer could not sign during a login flood from 200 addresses"
signed=$(($(date +%s) - t1))
kill -0 "$apid" 2>/dev/null || fail "the flood was over before the signer signed: the test proves nothing"
wait "$apid" || fail "the login attacker failed"
say "attack from 200 addresses: $(cat "$T/logins2.json")"
[ "$(jq '."503" // 0' "$T/logins2.json")" -gt 0 ] || fail "no login was answered 503 (queue never full?)"
ok "during 1,000 logins from 200 addresses a logged-in signer authorized and signed in ${signed}s"
stop_inkand

# ---- 2. slowloris: 1,000 connections trickling a header -----------------------------------

INKAND="$INKAN_BUILD/inkand"
conf header_timeout 5
start_inkand
python3 "$ATTACK" slowloris --port "$PORT" --cafile "$CACERT" --n 1000 --seconds 45 --interval 2 \
	--sources "$(sources 2 40)" >"$T/slow.json" &
apid=$!
sleep 15
o1=$(otp_next alice) o2=$(otp_next alice) t0=$(date +%s)
try_login alice "$(pw_of alice)" "$o1"
[ "$STATUS" = 200 ] || fail "the real signer cannot log in under slowloris: $STATUS"
signer_round "$(printf '%s' "$BODY" | jq -r .access_token)" "$o2" "$CRED" ||
	fail "the real signer cannot sign under slowloris"
took=$(($(date +%s) - t0))
[ "$took" -le 30 ] || fail "the real signer needed ${took}s under slowloris (at most 30 s)"
ok "under 1,000 slowloris connections the real signer logged in and signed in ${took}s"
wait "$apid" || fail "the slowloris attacker failed"
say "slowloris: $(cat "$T/slow.json")"
held=$(jq '.longest_held' "$T/slow.json")
awk -v h="$held" 'BEGIN { exit !(h <= 5 + 2 + 2) }' || fail "a slow connection was held ${held}s (header_timeout 5)"
[ "$(jq '.cut' "$T/slow.json")" -gt 0 ] || fail "no slow connection was cut"
ok "slow connections are cut after header_timeout (longest held ${held}s)"
stop_inkand

# ---- 3. per-source connections, login attempts per minute, a trusted proxy ------------------

conf max_connections_per_source 8
conf login_rate 5
conf trusted_proxies 127.0.0.5
start_inkand
python3 "$ATTACK" hold --port "$PORT" --cafile "$CACERT" --n 20 --sources 127.0.0.2,127.0.0.3 >"$T/hold.json"
for src in 127.0.0.2 127.0.0.3; do
	kept=$(jq --arg s "$src" '.kept[$s] // 0' "$T/hold.json")
	[ "$kept" -le 8 ] || fail "$src kept $kept connections (max_connections_per_source 8)"
	[ "$kept" -ge 6 ] || fail "$src kept only $kept connections: the limit cut more than it should"
done
ok "20 connections from each of two sources: each kept at most 8 ($(jq -c .kept "$T/hold.json"))"

# anon_login SOURCE [XFF]: one login for an unknown user; sets STATUS
anon_login() {
	local xff=()
	[ -n "${2:-}" ] && xff=(-H "X-Forwarded-For: $2")
	http POST /csc/v2/auth/login --interface "$1" "${xff[@]}" -H "Authorization: Basic $(basic nobody wrong-password-1)" \
		-H 'Content-Type: application/json' --data-binary '{"otp": "123456"}'
}
for i in $(seq 1 5); do anon_login 127.0.0.6; expect_status 401; done
anon_login 127.0.0.6
expect_status 429
expect_error too_many_requests
grep -qi '^retry-after: [1-9]' <<<"$HDRS" || fail "429 without Retry-After: $HDRS"
anon_login 127.0.0.7
expect_status 401
ok "login_rate 5: the sixth login from one source is 429 with Retry-After; another source is not affected"

# behind the trusted proxy each client has its own allowance; the audit names the client
for i in $(seq 1 5); do anon_login 127.0.0.5 "198.51.100.9, 192.0.2.44"; expect_status 401; done
anon_login 127.0.0.5 "198.51.100.9, 192.0.2.44"
expect_status 429
anon_login 127.0.0.5 "192.0.2.45"
expect_status 401
# a forwarded address from a source that is no proxy counts for that source, not the address
anon_login 127.0.0.8 "192.0.2.46"
expect_status 401
for i in $(seq 1 4); do anon_login 127.0.0.8 "192.0.2.$((50 + i))"; done
anon_login 127.0.0.8 "192.0.2.60"
expect_status 429
# a proxy that adds its own line: the client's forged first line does not name the source
for i in $(seq 1 5); do
	http POST /csc/v2/auth/login --interface 127.0.0.5 -H "X-Forwarded-For: 10.66.0.$i" -H "X-Forwarded-For: 192.0.2.77" \
		-H "Authorization: Basic $(basic nobody wrong-password-1)" -H 'Content-Type: application/json' --data-binary '{"otp": "123456"}'
	expect_status 401
done
anon_login 127.0.0.5 "192.0.2.77"
expect_status 429
# a malformed forwarded header leaves the proxy as the source
anon_login 127.0.0.5 "not-an-address"
expect_status 401
ok "trusted_proxies: X-Forwarded-For names the source behind 127.0.0.5 only; forged elsewhere it is ignored"
aud=$(mkactive "$so" aud1 system_auditor)
audit_records "$aud" >"$T/recs.json"
jq -e 'map(select(.source == "192.0.2.44")) | length > 0' "$T/recs.json" >/dev/null ||
	fail "no audit record names the proxied client 192.0.2.44"
jq -e 'map(select(.source == "192.0.2.46" or .source == "192.0.2.60" or (.source // "" | startswith("10.66.")))) | length == 0' "$T/recs.json" >/dev/null ||
	fail "an audit record believed X-Forwarded-For from a source that is no proxy"
ok "the audit trail names the client behind the proxy, never a forged one"
stop_inkand

finish
