#!/bin/bash
# t_restore_bare: disaster recovery onto a bare machine (new key store, master key rebuilt from
# shares). The SAM serves nobody there, so it checks the officers against the backup's own
# records of them: a system operator's fresh code is never enough — a security officer's is
# needed too (dual control); neither can be stood in for by inkand, and the restored signer's
# key works with her PIN and a fresh OTP only.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
op=$(mkactive "$so" op1 system_operator)
alice=$(mkactive "$ro" alice signer)
PIN_A=pin-Kestrel-4829; add_secret "$PIN_A"
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"; expect_status 201
KA=$(printf '%s' "$BODY" | jq -r .id)
api POST /api/v1/backup "" "$op"; expect_status 200
printf '%s' "$BODY" | jq -r .backup | base64 -d >"$T/backup.bin"
"$INKAN_SAM" --master-split 2 3 --data "$DATA" >"$T/shares" || fail "master-split failed"
stop_inkand
rm -rf "$DATA/sam" "$DATA/ca"
"$INKAN_SAM" --init --data "$DATA" || fail "re-init of the SAM failed"
sed -n '1p;2p' "$T/shares" | "$INKAN_SAM" --master-join --data "$DATA" || fail "two shares did not rebuild the master key"
start_inkand
op=$(token op1)
creds() { sqlite3 "file:$DATA/sam/keystore.db?mode=ro" 'SELECT count(*) FROM credentials;'; }
body() { # [SECOND_OFFICER SECOND_OTP]
	jq -nc --rawfile b <(base64 -w0 "$T/backup.bin") --arg o "$OPC" --arg s "${1:-}" --arg t "${2:-}" \
		'{backup: $b, otp: $o} + (if $s != "" then {second_officer: $s, second_otp: $t} else {} end)'
}
OPC=$(otp_next op1)
api POST /api/v1/restore "$(body)" "$op"; expect_refused 403 access_denied
api POST /api/v1/restore "$(body ro1 "$(otp_next ro1)")" "$op"; expect_status 403
api POST /api/v1/restore "$(body "$SO_USER" "$(otp_wrong "$(user_secret "$SO_USER")")")" "$op"
expect_refused 400 invalid_request
printf '%s' "$BODY" | grep -q 'Invalid OTP' || fail "a wrong second code: $BODY"
api POST /api/v1/restore "$(body "$SO_USER" "$(otp_next "$SO_USER")")" "$alice"
expect_refused 403 access_denied
[ "$(creds)" = 0 ] || fail "a refused restore changed the key store"
ok "bare machine, no witness: the operator alone, a registration officer as second, a wrong code — refused, nothing changed"
api POST /api/v1/restore "$(body "$SO_USER" "$(otp_next "$SO_USER")")" "$op"; expect_status 200
expect_jq '.restored == 1'
# Now the SAM serves persons again: the bare form is refused, whoever asks.
OPC=$(otp_next op1)
api POST /api/v1/restore "$(body "$SO_USER" "$(otp_next "$SO_USER")")" "$op"; expect_refused 409 invalid_request
ok "bare machine: operator and security officer, both checked against the backup's records — restored once"

# The restored key: alice's PIN and a fresh OTP of her own seed, in a session the SAM opened.
alice=$(login alice "$(pw_of alice)")
H=$(head -c 32 /dev/urandom | base64 -w0)
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KA" --arg h "$H" --arg p "$PIN_A" --arg o "$(otp_next alice)" \
	'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
expect_status 200
SAD=$(printf '%s' "$BODY" | jq -r .SAD); add_secret "$SAD"
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$KA" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 200
ok "the restored key signs with alice's PIN and a fresh OTP"

finish
