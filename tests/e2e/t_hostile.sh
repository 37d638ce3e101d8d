#!/bin/bash
# t_hostile: a compromised inkand and the owner of inkan.db against the SAM (issue 13). First
# the owner of inkan.db edits names and roles under a live daemon: certificates still carry the
# SAM's record. Then, over a copy of the live data directory, sam_hostile.py starts an
# unmodified inkan-sam on a socketpair and speaks only protocol frames: forged subjects,
# registrations, trivial PINs, officers' acts without proof, OTP brute force, replay — each refused.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
op=$(mkactive "$so" op1 system_operator)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer '{"display_name": "Alice Example", "idv_document_number": "TK-ALICE-0001"}')
bob=$(mkactive "$ro" bob signer)
# registered, one-time password not yet delivered: nobody has activated carol
mkuser "$ro" carol signer >/dev/null
PIN_A=pin-Kestrel-4829; PIN_B=pin-Heron-3028
add_secret "$PIN_A"; add_secret "$PIN_B"

cert_of() { printf '%s' "$BODY" | jq -r .certificate | base64 -d | openssl x509 -inform DER -noout -subject -nameopt RFC2253; }
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"; expect_status 201
KA=$(printf '%s' "$BODY" | jq -r .id)
subj_a=$(cert_of)
PSEUDO_A=$(printf '%s' "$subj_a" | sed -n 's/.*serialNumber=\([^,]*\).*/\1/p')
ALICE_ID=$(db "SELECT id FROM users WHERE username = 'alice';")
case "$subj_a" in *"CN=Alice Example"*) ;; *) fail "alice's certificate does not name her: $subj_a" ;; esac
case "$PSEUDO_A" in INKAN-*) ;; *) fail "serialNumber is not a SAM pseudonym: $subj_a" ;; esac
printf '%s' "$subj_a" | grep -q "$ALICE_ID" && fail "the certificate carries the account id: $subj_a"
printf '%s' "$subj_a" | grep -q "TK-ALICE" && fail "the certificate carries the identity document: $subj_a"
api POST /api/v1/keys "{\"pin\": \"$PIN_B\"}" "$bob"; expect_status 201
KB=$(printf '%s' "$BODY" | jq -r .id)
# bob keeps his key for the OAuth consent page alone (issue 17: the SAM's record, his PIN and OTP)
tokfile bob "$bob"
icli bob key auth-mode "$KB" sideways
[ "$RC" != 0 ] || fail "inkan key auth-mode took an unknown mode"
INKAN_PIN="$PIN_B" INKAN_OTP="$(otp_next bob)" icli bob key auth-mode "$KB" oauth2code
[ "$RC" = 0 ] || fail "inkan key auth-mode oauth2code: rc $RC: $ERR"
api POST /csc/v2/credentials/info "$(jq -nc --arg c "$KB" '{credentialID: $c}')" "$bob"
expect_status 200
expect_jq '.auth.mode == "oauth2code"'
api POST /csc/v2/credentials/info "$(jq -nc --arg c "$KA" '{credentialID: $c}')" "$alice"
expect_status 200
expect_jq '.auth.mode == "explicit"'
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KB" --arg h "$(head -c 32 /dev/urandom | base64 -w0)" --arg p "$PIN_B" \
	--arg o "$(otp_next bob)" '{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$bob"
expect_refused 403 access_denied
db "SELECT result FROM audit_log WHERE action = 'csc.authorize' AND actor = 'bob' ORDER BY seq DESC LIMIT 1;" | grep -qv '^success$' ||
	fail "the refused explicit authorization of an OAuth-only key is not audited"
ok "bob's key set to oauth2code (PIN and OTP): credentials/info says so, credentials/authorize with his PIN and OTP refused (403, audited)"
ok "certificates name the SAM's record: display name and a pseudonymous serialNumber (no account id, no document number)"

# ---- the owner of inkan.db: names and roles edited under the live daemon ----
db "UPDATE users SET display_name = 'Bob Example' WHERE username = 'alice';
    INSERT INTO user_roles (user_id, role) SELECT id, 'security_officer' FROM users WHERE username = 'alice';"
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"; expect_status 201
subj_a2=$(cert_of)
[ "$subj_a2" = "$subj_a" ] || fail "an edit of inkan.db changed whom a new certificate names: $subj_a2 (was $subj_a)"
# alice's copy of her roles in inkan.db now says security officer: the SAM's record does not.
alice=$(login alice "$(pw_of alice)")
api POST "/api/v1/keys/$KB/revoke" '{"reason": "keyCompromise"}' "$alice"
expect_status 400 403 404
api GET "/api/v1/keys/$KB" "" "$bob"; expect_status 200
expect_jq '.status == "active"'
ok "inkan.db edited (alice's display name, a security officer role): new certificates still name her as registered; the role acts on no key"
# One signature, so that the SAM's records of the hot path are there too.
H=$(head -c 32 /dev/urandom | base64 -w0)
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KA" --arg h "$H" --arg p "$PIN_A" --arg o "$(otp_next alice)" \
	'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
expect_status 200
SAD=$(printf '%s' "$BODY" | jq -r .SAD); add_secret "$SAD"
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$KA" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 200
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$KA" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 400
# The SAM's own records of these acts are in the audit log (copied at the export's checkpoint),
# under the SAM's name, and the whole log verifies.
api GET /api/v1/audit/export "" "$aud"; expect_status 200
printf '%s' "$BODY" >"$T/bundle.json"
jq -e --arg a "$ALICE_ID" --arg k "$KA" '[.records[] | select(.source == "inkan-sam")] as $r
	| ($r | any(.action == "sam.person.register" and .subject == $a and .actor == "ro1" and .result == "success"))
	and ($r | any(.action == "sam.key.create" and .actor == "alice" and .result == "success"))
	and ($r | any(.action == "sam.key.revoke" and .actor == "alice" and .result != "success"))
	and ($r | any(.action == "sam.start"))
	and ($r | any(.action == "sam.authorize" and .actor == "alice" and .result == "success"))
	and ($r | any(.action == "sam.sign" and .subject == $k and .result == "success"))
	and ($r | any(.action == "sam.sign" and .subject == $k and .result != "success"))
	and ($r | all(.request_id | test("^sam-[0-9a-f]{16}-[0-9]+$")))' "$T/bundle.json" >/dev/null ||
	fail "the SAM's own records are not in the audit log: $(jq -c '[.records[] | select(.source == "inkan-sam") | .action]' "$T/bundle.json")"
"$INKAN_CLI" audit verify "$T/bundle.json" --key "$DATA/ca/audit-log.pem" >"$T/verify.out" 2>&1 ||
	fail "the audit log with the SAM's records does not verify: $(cat "$T/verify.out")"
ok "the SAM's own records (registration, key creation, the refused revocation, authorization, signatures and a refused SAD, its start) are in the verified audit log"
db "UPDATE users SET display_name = 'Alice Example' WHERE username = 'alice';
    DELETE FROM user_roles WHERE role = 'security_officer' AND user_id = (SELECT id FROM users WHERE username = 'alice');"

# ---- a compromised inkand, over a copy of the live data directory ----
session_of() { db "SELECT hex(token_hash) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = '$1')
	AND revoked = 0 AND password_change_only = 0 ORDER BY created_at DESC LIMIT 1;"; }
jq -n --arg a "$ALICE_ID" --arg b "$(db "SELECT id FROM users WHERE username = 'bob';")" \
	--arg so "$(db "SELECT id FROM users WHERE username = '$SO_USER';")" \
	--arg ro "$(db "SELECT id FROM users WHERE username = 'ro1';")" \
	--arg op "$(db "SELECT id FROM users WHERE username = 'op1';")" \
	--arg carol "$(db "SELECT id FROM users WHERE username = 'carol';")" \
	--arg asec "$(user_secret alice)" --arg bsec "$(user_secret bob)" --arg ros "$(user_secret ro1)" \
	--arg ka "$KA" --arg pa "$PSEUDO_A" --arg pin "$PIN_A" --arg kb "$KB" --arg pinb "$PIN_B" \
	--arg sa "$(session_of alice)" --arg sb "$(session_of bob)" --arg sso "$(session_of "$SO_USER")" \
	--arg sro "$(session_of ro1)" --arg sop "$(session_of op1)" \
	'{alice: {id: $a, secret: $asec, cred: $ka, pseudonym: $pa, display_name: "Alice Example"},
	  bob: {id: $b, secret: $bsec, cred: $kb}, so: {id: $so}, ro: {id: $ro, secret: $ros}, op: {id: $op},
	  carol: {id: $carol},
	  sessions: {alice: $sa, bob: $sb, so: $sso, ro: $sro, op: $sop},
	  alice_pin: $pin, bob_pin: $pinb, alice_doc: "TK-ALICE-0001", max_login_failures: 5}' >"$T/facts.json"
jq -e '[.sessions[]] | all(length == 64)' "$T/facts.json" >/dev/null || fail "a live session is missing: $(jq -c .sessions "$T/facts.json")"
stop_inkand
cp -a "$DATA" "$T/copy"
python3 "$INKAN_SRC/tests/e2e/sam_hostile.py" "$INKAN_SAM" "$T/copy" "$T/facts.json" "$LOG" >"$T/hostile.out" 2>&1 ||
	{ cat "$T/hostile.out" >&2; fail "a hostile inkand got through: $(tail -n1 "$T/hostile.out")"; }
while read -r line; do say "${line#sam_hostile: }"; done <"$T/hostile.out"
grep -c '^sam_hostile: ok' "$T/hostile.out" | grep -qx 9 || fail "sam_hostile did not run every attack: $(cat "$T/hostile.out")"
ok "a hostile inkand speaking the SAM protocol: every attack refused"
# The SAM's records are append-only in the key store itself: neither a record nor its place in
# the log is ever changed or removed.
for sql in "UPDATE sam_audit SET result = 'success'" "DELETE FROM sam_audit" \
	"UPDATE sam_audit_logged SET log_seq = log_seq + 1" "DELETE FROM sam_audit_logged"; do
	! sqlite3 "$T/copy/sam/keystore.db" "$sql" 2>/dev/null || fail "the key store allowed: $sql"
done
[ "$(sqlite3 "$T/copy/sam/keystore.db" 'SELECT count(*) FROM sam_audit_logged;')" -gt 0 ] ||
	fail "no SAM record is marked as logged"
ok "sam_audit and sam_audit_logged refuse every UPDATE and DELETE"

finish
