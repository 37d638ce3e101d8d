#!/usr/bin/env bash
# t_keys: signers' keys through the real daemon — creation under a PIN, certificates checked with
# openssl, ownership, PIN lockout, revocation on the CRL, renewal, backup -> wipe -> restore with
# master key shares and the CA's CRL as witness, restores that never revive a key revoked or
# destroyed after the backup, deregistration destroying keys.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf pin_max_failures 3
conf cert_policy_oid 1.2.392.200091.9.1
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
http GET /ca/crl
cp "$T/body" "$T/crl0.der"   # the first CRL: older than any backup below
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
op=$(mkactive "$so" op1 system_operator)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)

PIN_A=pin-Kestrel-4829; PIN_A2=pin-Osprey-5910; PIN_B=pin-Heron-3028
add_secret "$PIN_A"; add_secret "$PIN_A2"; add_secret "$PIN_B"

# --- creation and the certificate ---
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"
expect_status 201
expect_jq '.status == "active" and .algorithm == "P-256" and (.certificate | length > 100) and (.serial | length > 0)'
KA=$(printf '%s' "$BODY" | jq -r .id)
SA=$(printf '%s' "$BODY" | jq -r .serial)
printf '%s' "$BODY" | jq -r .certificate | base64 -d | openssl x509 -inform DER -out "$T/alice.pem"
http GET /ca/cert
expect_status 200
cp "$T/body" "$T/chain.pem"
cmp -s "$T/chain.pem" "$DATA/ca/chain.pem" || fail "/ca/cert differs from ca/chain.pem"
openssl verify -x509_strict -CAfile "$DATA/ca/root.pem" -untrusted "$T/chain.pem" "$T/alice.pem" >/dev/null ||
	fail "alice's certificate does not verify against our root"
openssl x509 -in "$T/alice.pem" -noout -text >"$T/alice.txt"
grep -A1 'X509v3 Key Usage: critical' "$T/alice.txt" | tail -n1 | grep -qx '[[:space:]]*Digital Signature, Non Repudiation' ||
	fail "key usage is not exactly digitalSignature+nonRepudiation, critical: $(grep -A1 'Key Usage' "$T/alice.txt")"
grep -q 'Extended Key Usage' "$T/alice.txt" && fail "signer certificate has an extended key usage"
grep -q "URI:https://127.0.0.1:8443/ca/crl" "$T/alice.txt" || fail "no CRL distribution point"
grep -q "1.2.392.200091.9.1" "$T/alice.txt" || fail "certificate policy OID missing"
grep -q "CN = Test alice" "$T/alice.txt" || fail "subject is not the registered display name"
ok "P-256 credential with a level-4 certificate that openssl verifies"

api POST /api/v1/keys "{\"pin\": \"$PIN_A\", \"algorithm\": \"RSA-3072\"}" "$alice"
expect_status 201
expect_jq '.algorithm == "RSA-3072" and .status == "active"'
KR=$(printf '%s' "$BODY" | jq -r .id)
api POST /api/v1/keys "{\"pin\": \"$PIN_B\", \"algorithm\": \"Ed25519\"}" "$bob"
expect_status 201
KB=$(printf '%s' "$BODY" | jq -r .id)

# --- refusals: policy, PIN rules, roles, ownership ---
n_before=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" 'SELECT count(*) FROM credentials;')
api POST /api/v1/keys "{\"pin\": \"$PIN_A\", \"algorithm\": \"RSA-1024\"}" "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys "{\"pin\": \"$PIN_A\", \"algorithm\": \"DSA\"}" "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys '{"pin": "123"}' "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys "$(jq -nc --arg p "$(pw_of alice)" '{pin: $p}')" "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys '{"pin": 123456}' "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$ro"
expect_refused 403 access_denied
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$so"
expect_refused 403 access_denied
n_after=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" 'SELECT count(*) FROM credentials;')
[ "$n_before" = "$n_after" ] || fail "a refused creation stored a credential ($n_before -> $n_after)"
ok "policy, PIN rules and roles refuse creation and store nothing"

api GET /api/v1/keys/"$KA" "" "$bob"
expect_refused 400 invalid_request
api POST /api/v1/keys/"$KA"/revoke '{"reason": "keyCompromise"}' "$bob"
expect_refused 400 invalid_request
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"$PIN_A\", \"new_pin\": \"$PIN_A2\", \"otp\": \"$(otp_next bob)\"}" "$bob"
expect_refused 400 invalid_request
api GET /api/v1/keys "" "$bob"
expect_status 200
expect_jq "[.keys[].id] == [\"$KB\"]"
api GET /api/v1/keys "" "$ro"
expect_refused 403 access_denied
api GET /api/v1/keys "" "$so"
expect_status 200
expect_jq '(.keys | length) == 3 and all(.keys[]; has("pin_failures"))'
# Field names, not values: base64 certificates may spell anything.
printf '%s' "$BODY" | jq -e '[.. | objects | keys[]] | any(test("blob|salt|private"; "i"))' >/dev/null &&
	fail "credential list exposes key material fields"
ok "a signer sees and touches only their own keys; the security officer sees all"

# --- no PIN is tried without a fresh OTP ---
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"$PIN_A\", \"new_pin\": \"$PIN_A2\"}" "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"999999\", \"new_pin\": \"$PIN_A2\", \"otp\": \"$(otp_wrong "$(user_secret alice)")\"}" "$alice"
expect_refused 400 invalid_request
printf '%s' "$BODY" | grep -q 'OTP' || fail "a wrong OTP is not reported as such: $BODY"
api GET /api/v1/keys/"$KA" "" "$alice"
expect_jq '.pin_failures == 0'
ok "the PIN is not even tried without a fresh OTP"

# --- wrong PINs lock; a registration officer unlocks ---
for i in 1 2 3; do
	api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"00000$i\", \"new_pin\": \"$PIN_A2\", \"otp\": \"$(otp_next alice)\"}" "$alice"
	expect_refused 400 invalid_request
done
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"$PIN_A\", \"new_pin\": \"$PIN_A2\", \"otp\": \"$(otp_next alice)\"}" "$alice"
expect_refused 403 access_denied
printf '%s' "$BODY" | grep -q 'Credential locked' || fail "locked credential not reported as such: $BODY"
api POST /api/v1/keys/"$KA"/unlock "" "$alice"
expect_refused 403 access_denied
api POST /api/v1/keys/"$KA"/unlock "" "$ro"
expect_status 204
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"$PIN_A\", \"new_pin\": \"$PIN_A2\", \"otp\": \"$(otp_next alice)\"}" "$alice"
expect_status 204
ok "three wrong PINs lock the credential; a registration officer unlocks; the PIN changes"

# --- renewal and revocation on the CRL ---
api POST /api/v1/keys/"$KR"/renew "{\"pin\": \"$PIN_A\", \"otp\": \"$(otp_next alice)\"}" "$alice"
expect_status 201
KR2=$(printf '%s' "$BODY" | jq -r .id)
SR=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT serial FROM credentials WHERE id = '$KR';")
# 32 bytes from the middle of the sealed key about to be destroyed, to look for afterwards
BLOB2=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT hex(substr(blob, 17, 32)) FROM credentials WHERE id = '$KR2';")
[ ${#BLOB2} = 64 ] || fail "no sealed key for $KR2 to look for"
api POST /api/v1/keys/"$KR2"/revoke '{"reason": "keyCompromise"}' "$alice"
expect_status 204
# neither the key store file nor its write-ahead log keeps a copy of the destroyed blob
for f in "$DATA/sam/keystore.db" "$DATA/sam/keystore.db-wal"; do
	[ -e "$f" ] || continue
	! od -An -v -tx1 "$f" | tr -d ' \n' | tr a-f A-F | grep -q "$BLOB2" ||
		fail "$(basename "$f") still holds bytes of the destroyed key's sealed blob"
done
SR2=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT serial FROM credentials WHERE id = '$KR2';")
http GET /ca/crl
expect_status 200
[ "$(header Content-Type)" = application/pkix-crl ] || fail "CRL content type: $(header Content-Type)"
cp "$T/body" "$T/crl.der"
openssl crl -inform DER -in "$T/crl.der" -CAfile "$T/chain.pem" -noout 2>&1 | grep -q 'verify OK' ||
	fail "the CRL does not verify against the issuing CA"
openssl crl -inform DER -in "$T/crl.der" -noout -text >"$T/crl.txt"
grep -q "$SR" "$T/crl.txt" || fail "renewed (superseded) serial $SR not on the CRL"
grep -q "$SR2" "$T/crl.txt" || fail "revoked serial $SR2 not on the CRL"
grep -q "Key Compromise" "$T/crl.txt" || fail "CRL reason missing"
[ "$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT count(*) FROM credentials WHERE id IN ('$KR', '$KR2') AND blob IS NULL;")" = 2 ] ||
	fail "revoked keys still have key material in the key store"
api POST /api/v1/keys/"$KR2"/pin "{\"old_pin\": \"$PIN_A\", \"new_pin\": \"$PIN_A2\", \"otp\": \"$(otp_next alice)\"}" "$alice"
expect_refused 400 invalid_request
ok "renewal supersedes, revocation reaches the CRL (openssl crl), revoked keys are destroyed"

# --- backup, wipe, restore with the master key rebuilt from two of three shares ---
api POST /api/v1/backup "" "$alice"
expect_refused 403 access_denied
api POST /api/v1/backup "" "$op"
expect_status 200
printf '%s' "$BODY" | jq -r .backup | base64 -d >"$T/backup.bin"
grep -q "$PIN_A2" "$T/backup.bin" && fail "the backup contains a PIN"
# After the backup: bob's key is revoked; the CRL the CA publishes then is the witness.
SB=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT serial FROM credentials WHERE id = '$KB';")
api POST /api/v1/keys/"$KB"/revoke '{"reason": "keyCompromise"}' "$so"
expect_status 204
http GET /ca/crl
cp "$T/body" "$T/last.der"
NL=$(openssl crl -inform DER -in "$T/last.der" -noout -crlnumber | sed 's/^crlNumber=//')
openssl crl -inform DER -in "$T/last.der" -noout -text | grep -q "$SB" || fail "bob's serial not on the CRL"
# A CRL in the issuing CA's name signed by another key (openssl ca -gencrl).
mkdir -p "$T/forge"
: >"$T/forge/index.txt"
echo 7FFF >"$T/forge/crlnumber"
printf '[ca]\ndefault_ca = f\n[f]\ndatabase = %s\ncrlnumber = %s\ndefault_md = sha384\ndefault_crl_days = 7\n' \
	"$T/forge/index.txt" "$T/forge/crlnumber" >"$T/forge/ca.cnf"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/forge/key.pem" \
	-subj "$(openssl x509 -in "$T/chain.pem" -noout -subject -nameopt compat | sed 's/^subject=//')" \
	-out "$T/forge/cert.pem" 2>/dev/null || fail "openssl: forged CA"
openssl ca -config "$T/forge/ca.cnf" -gencrl -keyfile "$T/forge/key.pem" -cert "$T/forge/cert.pem" \
	-out "$T/forge/crl.pem" 2>/dev/null || fail "openssl ca -gencrl failed"
openssl crl -in "$T/forge/crl.pem" -outform DER -out "$T/forged.der"
[ "$(openssl crl -inform DER -in "$T/forged.der" -noout -issuer)" = "$(openssl crl -inform DER -in "$T/last.der" -noout -issuer)" ] ||
	fail "the forged CRL does not carry the issuing CA's name"
"$INKAN_SAM" --master-split 2 3 --data "$DATA" >"$T/shares" || fail "master-split failed"
[ "$(wc -l <"$T/shares")" = 3 ] || fail "expected 3 shares"
stop_inkand
rm -rf "$DATA/sam" "$DATA/ca"
"$INKAN_SAM" --init --data "$DATA" || fail "re-init of the SAM failed"
head -n1 "$T/shares" | "$INKAN_SAM" --master-join --data "$DATA" 2>/dev/null &&
	fail "one share alone rebuilt the master key"
sed -n '1p;3p' "$T/shares" | "$INKAN_SAM" --master-join --data "$DATA" || fail "two shares did not rebuild the master key"
start_inkand
op=$(token op1)
# The SAM serves nobody now (its key store is new): the operator's and a security officer's
# codes are checked against the backup's own records of them (dual control). Every refusal
# below happens before or inside the restore's transaction, so these codes serve them all.
OPC=$(otp_next op1)
SOC=$(otp_next "$SO_USER")
cp "$T/backup.bin" "$T/bad.bin"
printf '\x01' | dd of="$T/bad.bin" bs=1 seek=200 conv=notrunc status=none
api POST /api/v1/restore "$(jq -nc --arg b "$(base64 -w0 "$T/bad.bin")" --arg o "$OPC" --arg so "$SO_USER" --arg t "$SOC" \
	'{backup: $b, otp: $o, second_officer: $so, second_otp: $t}')" "$op"
expect_refused 400 invalid_request
head -c 1000 "$T/backup.bin" >"$T/short.bin"
api POST /api/v1/restore "$(jq -nc --arg b "$(base64 -w0 "$T/short.bin")" --arg o "$OPC" --arg so "$SO_USER" --arg t "$SOC" \
	'{backup: $b, otp: $o, second_officer: $so, second_otp: $t}')" "$op"
expect_refused 400 invalid_request
# restore_req BACKUP [CRL]: the JSON body of POST /api/v1/restore (with the code $OPC, and the
# security officer's $SOC when SOC is set)
restore_req() {
	local x='{}'
	[ -z "${SOC:-}" ] || x=$(jq -nc --arg so "$SO_USER" --arg t "$SOC" '{second_officer: $so, second_otp: $t}')
	if [ -n "${2:-}" ]; then
		jq -nc --rawfile b <(base64 -w0 "$1") --rawfile c <(base64 -w0 "$2") --arg o "$OPC" --argjson x "$x" '{backup: $b, crl: $c, otp: $o} + $x'
	else
		jq -nc --rawfile b <(base64 -w0 "$1") --arg o "$OPC" --argjson x "$x" '{backup: $b, otp: $o} + $x'
	fi
}
# A bare key store: never the operator alone, even with the CA's CRL (a CRL cannot show it is
# the last one); with both officers, refused with a CRL older than the backup or one signed by
# another key.
api POST /api/v1/restore "$(SOC='' restore_req "$T/backup.bin" "$T/last.der")" "$op"
expect_refused 403 access_denied
api POST /api/v1/restore "$(restore_req "$T/backup.bin" "$T/crl0.der")" "$op"
expect_refused 409 invalid_request
grep -q 'is older than the backup' "$LOG" || fail "the stale CRL is not named in the log"
api POST /api/v1/restore "$(restore_req "$T/backup.bin" "$T/forged.der")" "$op"
expect_refused 400 invalid_request
printf '%s' "$BODY" | grep -q "Not issued by a trusted CA" || fail "forged CRL: $BODY"
[ "$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" 'SELECT count(*) FROM credentials;')" = 0 ] ||
	fail "a refused restore changed the key store"
grep -q 'CRL sent with it is not signed by the backup' "$LOG" || fail "the forged CRL is not named in the log"
ok "a bare key store: the operator alone, a stale CRL, a forged CRL — restore refused, nothing changed"
# The CLI sends the CA's last CRL with the backup.
printf '%s' "$op" >"$T/op.tok"
chmod 600 "$T/op.tok"
INKAN_OTP=$OPC INKAN_SECOND_OTP=$SOC "$INKAN_CLI" --server "$URL" --cacert "$CACERT" --token-file "$T/op.tok" \
	--json backup restore "$T/backup.bin" --crl "$T/last.der" --second-officer "$SO_USER" >"$T/restore.out" 2>"$T/restore.err" ||
	fail "inkan backup restore --crl failed: $(cat "$T/restore.err")"
jq -e '.restored == 4' "$T/restore.out" >/dev/null || fail "restore answer: $(cat "$T/restore.out")"
[ "$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT status || ':' || (blob IS NULL) FROM credentials WHERE id = '$KB';")" = "3:1" ] ||
	fail "bob's key, revoked after the backup, came back with the restore"
http GET /ca/crl
openssl crl -inform DER -in "$T/body" -noout -text >"$T/crl.txt"
grep -q "$SB" "$T/crl.txt" || fail "the restored CRL lost the revocation made after the backup"
NR=$(openssl crl -inform DER -in "$T/body" -noout -crlnumber | sed 's/^crlNumber=//')
[ $((NR)) -gt $((NL)) ] || fail "the restored CRL's number $NR is not above the published $NL"
grep -q 'replayed 1 revocation(s) and destruction(s) onto them and 1 revoked serial(s) onto the CRL (witnesses: CRL sent)' "$LOG" ||
	fail "the replay is not logged"
ok "backup -> revoke -> wipe -> restore with the CA's last CRL: the key stays revoked, the CRL goes forward ($NL -> $NR)"
# The key store is new: every session the SAM had opened is gone; logins open new ones.
alice=$(login alice "$(pw_of alice)")
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"$PIN_A\", \"new_pin\": \"$PIN_B\", \"otp\": \"$(otp_next alice)\"}" "$alice"
expect_refused 400 invalid_request
api POST /api/v1/keys/"$KA"/pin "{\"old_pin\": \"$PIN_A2\", \"new_pin\": \"$PIN_A\", \"otp\": \"$(otp_next alice)\"}" "$alice"
expect_status 204
grep -q "$SR2" "$T/crl.txt" || fail "restored CRL lost a revocation"
ok "backup -> wipe -> 2-of-3 master key shares -> restore: the key opens with its PIN only"

# --- a restore over the live key store: what it knows was revoked or destroyed stays so ---
bob=$(login bob "$(pw_of bob)")
ro=$(login ro1 "$(pw_of ro1)")
op=$(login op1 "$(pw_of op1)")
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"
expect_status 201
KX=$(printf '%s' "$BODY" | jq -r .id)
SX=$(printf '%s' "$BODY" | jq -r .serial)
api POST /api/v1/keys "{\"pin\": \"$PIN_B\"}" "$bob"
expect_status 201
KB2=$(printf '%s' "$BODY" | jq -r .id)
SB2=$(printf '%s' "$BODY" | jq -r .serial)
api POST /api/v1/keys "{\"pin\": \"$PIN_B\", \"external_ca\": true}" "$bob"
expect_status 201
KBP=$(printf '%s' "$BODY" | jq -r .id)
api POST /api/v1/backup "" "$op"
expect_status 200
printf '%s' "$BODY" | jq -r .backup | base64 -d >"$T/backup2.bin"
# After it: alice revokes KX, bob is deregistered (KB2 revoked, the pending KBP destroyed),
# alice makes KY.
api POST /api/v1/keys/"$KX"/revoke '{"reason": "keyCompromise"}' "$alice"
expect_status 204
api DELETE /api/v1/users/bob "$(otp_json ro1)" "$ro"
expect_status 204
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"
expect_status 201
KY=$(printf '%s' "$BODY" | jq -r .id)
SY=$(printf '%s' "$BODY" | jq -r .serial)
# state CRED: status and whether the sealed key is gone
state() { sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT status || ':' || (blob IS NULL) FROM credentials WHERE id = '$1';"; }
[ "$(state "$KB2")" = "3:1" ] && [ "$(state "$KBP")" = "4:1" ] || fail "deregistration left keys: $(state "$KB2") $(state "$KBP")"
# KY exists only here: restoring would lose it, so the restore is refused until it is revoked.
SOC=''
OPC=$(otp_next op1)
api POST /api/v1/restore "$(restore_req "$T/backup2.bin")" "$op"
expect_refused 409 invalid_request
[ "$(state "$KY")" = "1:0" ] || fail "a refused restore touched KY"
api POST /api/v1/keys/"$KY"/revoke '{"reason": "superseded"}' "$alice"
expect_status 204
http GET /ca/crl
N2=$(openssl crl -inform DER -in "$T/body" -noout -crlnumber | sed 's/^crlNumber=//')
OPC=$(otp_next op1)
api POST /api/v1/restore "$(restore_req "$T/backup2.bin")" "$op"
expect_status 200
[ "$(state "$KX")" = "3:1" ] || fail "KX, revoked after the backup, came back: $(state "$KX")"
[ "$(state "$KB2")" = "3:1" ] || fail "KB2, revoked at deregistration after the backup, came back: $(state "$KB2")"
[ "$(state "$KBP")" = "4:1" ] || fail "KBP, destroyed after the backup, came back: $(state "$KBP")"
[ -z "$(state "$KY")" ] || fail "KY is not in the backup but is in the store: $(state "$KY")"
H=$(head -c 32 /dev/urandom | base64 -w0)
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KX" --arg h "$H" --arg p "$PIN_A" --arg o "$(otp_next alice)" \
	'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
expect_refused 400 invalid_request
printf '%s' "$BODY" | grep -q 'revoked' || fail "authorize with the revoked key: $BODY"
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KA" --arg h "$H" --arg p "$PIN_A" --arg o "$(otp_next alice)" \
	'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
expect_status 200
http GET /ca/crl
openssl crl -inform DER -in "$T/body" -noout -text >"$T/crl.txt"
for s in "$SX" "$SB2" "$SY" "$SB" "$SR2"; do
	grep -q "$s" "$T/crl.txt" || fail "serial $s is no longer on the CRL after the restore"
done
N3=$(openssl crl -inform DER -in "$T/body" -noout -crlnumber | sed 's/^crlNumber=//')
[ $((N3)) -gt $((N2)) ] || fail "the CRL number went from $N2 to $N3"
grep -q 'replayed 3 revocation(s) and destruction(s) onto them and 3 revoked serial(s) onto the CRL (witnesses: live key store)' "$LOG" ||
	fail "the replay is not logged: $(grep 'restore:' "$LOG" | tail -n1)"
ok "backup -> revoke, deregister -> restore over the live store: nothing comes back, the CRL goes forward ($N2 -> $N3)"

# --- deregistration destroys every key and revokes its certificate ---
api DELETE /api/v1/users/alice "$(otp_json ro1)" "$ro"
expect_status 204
[ "$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT count(*) FROM credentials c WHERE owner = (SELECT owner FROM credentials WHERE id = '$KA') AND (blob IS NOT NULL OR status NOT IN (3, 4));")" = 0 ] ||
	fail "a deregistered signer still has live keys"
http GET /ca/crl
openssl crl -inform DER -in "$T/body" -noout -text | grep -q "$SA" || fail "deregistration did not revoke $SA"
ok "deregistration destroys the signer's keys and revokes their certificates"

# --- the audit trail names credential and serial ---
recs=$(audit_records "$aud")
printf '%s' "$recs" | jq -e --arg k "$KA" --arg s "$SA" \
	'any(.[]; .action == "key.create" and .subject == $k and (.detail | contains($s)) and .result == "success")' >/dev/null ||
	fail "no key.create record with the credential id and serial"
printf '%s' "$recs" | jq -e 'any(.[]; .action == "key.pin" and .result != "success")' >/dev/null ||
	fail "wrong PINs are not in the audit trail"
printf '%s' "$recs" | jq -e 'any(.[]; .action == "key.revoke") and any(.[]; .action == "backup.restore" and .result == "success")
	and any(.[]; .action == "key.destroy") and any(.[]; .action == "key.unlock")' >/dev/null ||
	fail "lifecycle events missing from the audit trail"
ok "every key operation is in the audit trail with credential id and serial"

# --- the audit log survives backup -> wipe -> restore: same log key, its tree extended ---
printf '%s' "$aud" >"$T/aud.tok"
chmod 600 "$T/aud.tok"
"$INKAN_CLI" --server "$URL" --cacert "$CACERT" --token-file "$T/aud.tok" audit verify \
	--fingerprint "$(jq -r .audit_log_key_sha256 "$T/init.json")" >"$T/av.out" 2>"$T/av.err" ||
	fail "the audit log does not verify after backup -> wipe -> restore: $(cat "$T/av.err")"
ok "audit log after the restore: $(head -n1 "$T/av.out")"

check_no_secrets_in_dbs
finish
