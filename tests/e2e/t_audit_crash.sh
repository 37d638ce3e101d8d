#!/usr/bin/env bash
# t_audit_crash: kill -9 of inkand under signing load, then a restart: the audit log still
# verifies, the records written after the last checkpoint are recovered and signed, and every
# signature a client received has its audit record (durable before the reply).
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf audit_checkpoint_interval 3600   # no interval checkpoint: the crash leaves records unsigned
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Lantern-7731
add_secret "$PIN"
printf '%s' "$aud" >"$T/aud.tok"
chmod 600 "$T/aud.tok"

api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
cred=$(printf '%s' "$BODY" | jq -r .id)
N=100
mkdir -p "$T/h" "$T/r"
for i in $(seq 1 $N); do
	head -c 64 /dev/urandom | openssl dgst -sha256 -binary >"$T/h/$i.bin"
	base64 -w0 "$T/h/$i.bin" >"$T/h/$i.b64"
done
hashes=$(for i in $(seq 1 $N); do cat "$T/h/$i.b64"; echo; done | jq -R . | jq -sc .)
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$cred" --argjson h "$hashes" --arg p "$PIN" \
	--arg o "$(otp_next alice)" '{credentialID: $c, numSignatures: ($h | length), hashes: $h, PIN: $p, OTP: $o}')" "$alice"
expect_status 200
sad=$(printf '%s' "$BODY" | jq -r .SAD)

# four clients sign one hash per request until the server dies
signer() {
	local k=$1 i code
	for ((i = k; i <= N; i += 4)); do
		jq -nc --arg c "$cred" --arg s "$sad" --arg h "$(cat "$T/h/$i.b64")" \
			'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}' >"$T/r/$i.req"
		code=$(curl -s --max-time 20 --cacert "$CACERT" -H "Authorization: Bearer $alice" \
			-H 'Content-Type: application/json' --data-binary @"$T/r/$i.req" -o "$T/r/$i.out" \
			-w '%{http_code}' "$URL/csc/v2/signatures/signHash" || true)
		[ "$code" = 200 ] && mv "$T/r/$i.out" "$T/r/$i.ok"
	done
	return 0
}
for k in 1 2 3 4; do signer "$k" & echo $! >>"$T/extra_pids"; done
# let some signatures through, then kill -9 in the middle of the load
for _ in $(seq 1 100); do
	[ "$(ls "$T/r" | grep -c '\.ok$' || true)" -ge 10 ] && break
	sleep 0.05
done
sampid=$(sam_pid)
kill -KILL "$INKAND_PID"
wait "$INKAND_PID" 2>/dev/null || true
INKAND_PID=""
for p in $(cat "$T/extra_pids"); do wait "$p" 2>/dev/null || true; done
: >"$T/extra_pids"
for _ in $(seq 1 50); do [ -n "$sampid" ] && alive "$sampid" || break; sleep 0.1; done
[ -z "$sampid" ] || ! alive "$sampid" || fail "inkan-sam outlived its inkand"
got=$(ls "$T/r" | grep -c '\.ok$' || true)
[ "$got" -ge 10 ] || fail "only $got signatures before the kill"
[ "$got" -lt "$N" ] || fail "the kill came after every signature: nothing was tested"
ok "killed inkand with -9 after $got of $N signatures had been returned"

start_inkand
api GET "/api/v1/audit?after=0&limit=1000" "" "$aud"
expect_status 200
# (the first start also recovers the record `inkan init` wrote before any checkpoint)
printf '%s' "$BODY" | jq -e '[.records[] | select(.action == "audit.recovered")] | length == 2' >/dev/null ||
	fail "no audit.recovered record after the crash"
ok "$(printf '%s' "$BODY" | jq -r '[.records[] | select(.action == "audit.recovered")][1].detail')"
signed=$(printf '%s' "$BODY" | jq -r '.records[] | select(.action == "csc.signHash" and .result == "success") | .detail')
for f in "$T"/r/*.ok; do
	i=$(basename "$f" .ok)
	jq -e '.signatures | length == 1' "$f" >/dev/null || fail "signature answer $i malformed"
	hex=$(od -An -tx1 -v "$T/h/$i.bin" | tr -d ' \n')
	grep -q "$hex" <<<"$signed" || fail "signature $i was returned to the client but has no audit record"
done
ok "every one of the $got signatures returned has its csc.signHash record"

"$INKAN_CLI" --server "$URL" --cacert "$CACERT" --token-file "$T/aud.tok" audit verify --key "$DATA/ca/audit-log.pem" >"$T/v.out" 2>"$T/v.err" ||
	fail "the log does not verify after the crash: $(cat "$T/v.err")"
ok "$(head -n1 "$T/v.out")"
stop_inkand
finish
