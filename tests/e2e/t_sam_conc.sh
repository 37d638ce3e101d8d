#!/bin/bash
# t_sam_conc: a compromised inkand on several SAM channels at
# once. sam_conc.py starts an unmodified inkan-sam with 8 channels over a copy of a live data
# directory and (1) locks a signer while her authorization waits for its Argon2id run: the SAM
# must not mint a SAD for a person it has locked, nor sign with one; (2) runs a concurrent mix of
# acts and checks that every act is recorded once with its actor, and nothing deadlocks.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Kestrel-4829; add_secret "$PIN"
KA=$(mkkey "$alice")
ALICE_ID=$(db "SELECT id FROM users WHERE username = 'alice';")
BOB_ID=$(db "SELECT id FROM users WHERE username = 'bob';")
session_of() { db "SELECT hex(token_hash) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = '$1')
	AND revoked = 0 AND password_change_only = 0 ORDER BY created_at DESC LIMIT 1;"; }
jq -n --arg a "$ALICE_ID" --arg b "$BOB_ID" --arg asec "$(user_secret alice)" \
	--arg alast "$(cat "$T/otp/alice" 2>/dev/null || echo 0)" --arg blast "$(cat "$T/otp/bob" 2>/dev/null || echo 0)" --arg bsec "$(user_secret bob)" --arg ka "$KA" --arg pin "$PIN" \
	--arg sa "$(session_of alice)" --arg sb "$(session_of bob)" \
	'{alice: {id: $a, secret: $asec, last: ($alast | tonumber), cred: $ka}, bob: {id: $b, secret: $bsec, last: ($blast | tonumber)},
	  sessions: {alice: $sa, bob: $sb}, pin: $pin, max_login_failures: 5}' >"$T/facts.json"
stop_inkand
cp -a "$DATA" "$T/copy"
# one Argon2id run at a time in the SAM, a slow one for new keys, and authorizations of 1000
# hashes (the SAM itself holds them to multisign)
printf 'argon2_slots = 1\nargon2_memory_kib = 262144\nargon2_iterations = 4\nmultisign = 1000\n' >>"$T/copy/inkan.conf"
python3 "$INKAN_SRC/tests/e2e/sam_conc.py" "$INKAN_SAM" "$T/copy" "$T/facts.json" "$LOG" >"$T/conc.out" 2>&1 ||
	{ cat "$T/conc.out" >&2; fail "$(tail -n1 "$T/conc.out")"; }
while read -r line; do say "${line#sam_conc: }"; done <"$T/conc.out"
finish
