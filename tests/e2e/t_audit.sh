#!/usr/bin/env bash
# t_audit: the tamper-evident audit log through the real daemon — signed checkpoints, online
# and offline `inkan audit verify`, a signer's inclusion proof checked by a separate RFC 9162
# verifier (rfc9162_verify.py + openssl), consistency proofs, access rules, and the database
# file edited directly (one byte, a deleted, swapped, forged record, a cut tail, a replaced
# checkpoint): each detected and named.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf audit_checkpoint_interval 1
start_inkand

LOGKEY="$DATA/ca/audit-log.pem"
[ -s "$LOGKEY" ] || fail "inkan init published no audit log key at $LOGKEY"
openssl pkey -pubin -in "$LOGKEY" -noout -text | grep -q 'P-384' || fail "the log key is not ECDSA P-384"

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Lantern-7731
add_secret "$PIN"

# the CLI as each of them (icli, lib.sh)
tokfile aud "$aud"
tokfile alice "$alice"

# ---- a signature, so that the log holds a csc.signHash record ----
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
cred=$(printf '%s' "$BODY" | jq -r .id)
head -c 100 /dev/urandom | openssl dgst -sha256 -binary >"$T/dg.bin"
h64=$(base64 -w0 "$T/dg.bin")
hhex=$(xxd -p -c 256 "$T/dg.bin" 2>/dev/null || od -An -tx1 -v "$T/dg.bin" | tr -d ' \n')
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$cred" --arg h "$h64" --arg p "$PIN" \
	--arg o "$(otp_next alice)" '{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
expect_status 200
sad=$(printf '%s' "$BODY" | jq -r .SAD)
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$cred" --arg s "$sad" --arg h "$h64" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 200
ok "alice signed one hash"
sleep 2   # at least one interval checkpoint

# ---- online verification (auditor) ----
icli aud audit verify --key "$LOGKEY"
[ "$RC" = 0 ] || fail "inkan audit verify of an untouched log failed: $ERR"
grep -q 'audit log OK' <<<"$OUT" || fail "inkan audit verify: unexpected output: $OUT"
ok "inkan audit verify: $(head -n1 <<<"$OUT")"
icli aud --json audit verify --key "$LOGKEY"
[ "$RC" = 0 ] && jq -e '.ok == true and .records > 10 and .checkpoints >= 2' <<<"$OUT" >/dev/null ||
	fail "inkan --json audit verify --key: $OUT $ERR"

# only the auditor reads the log
icli alice audit verify --key "$LOGKEY"
[ "$RC" != 0 ] || fail "a signer could export the audit log"
# (icli also fails the call if the refusal's path leaked: lib.sh)
api GET "/api/v1/audit/export" "" "$so"
expect_status 403
api GET "/api/v1/audit/consistency?first=1" "" "$alice"
[ "$STATUS" = 403 ] || [ "$STATUS" = 404 ] || fail "a signer got a consistency proof: $STATUS"
ok "only the system auditor exports or verifies online"

# ---- a signer's own inclusion proof, checked by the separate verifier ----
api GET "/api/v1/audit?after=0&limit=1000" "" "$aud"
expect_status 200
seq=$(printf '%s' "$BODY" | jq -r '[.records[] | select(.action == "csc.signHash" and .actor == "alice" and .result == "success")][0].seq')
[ -n "$seq" ] && [ "$seq" != null ] || fail "no csc.signHash record of alice"
printf '%s' "$BODY" | jq -e --arg h "$hhex" --argjson s "$seq" '.records[] | select(.seq == $s) | .detail | contains($h)' >/dev/null ||
	fail "the signature record does not carry the hash signed"
icli alice audit proof "$seq" --out "$T/proof.json" --key "$LOGKEY"
[ "$RC" = 0 ] || fail "inkan audit proof (alice, own signature $seq): $ERR"
python3 "$INKAN_SRC/tests/e2e/rfc9162_verify.py" "$T/proof.json" "$LOGKEY" "$hhex" >"$T/pv.out" 2>&1 ||
	fail "the separate RFC 9162 verifier rejected the proof: $(cat "$T/pv.out")"
ok "separate verifier: $(cat "$T/pv.out")"
# the verifier is not a rubber stamp: a wrong path, a wrong key, another entry
jq '.inclusion_path[0] = ("00" * 32)' "$T/proof.json" >"$T/bad1.json"
! python3 "$INKAN_SRC/tests/e2e/rfc9162_verify.py" "$T/bad1.json" "$LOGKEY" >/dev/null 2>&1 ||
	fail "the separate verifier accepted a changed path"
jq --arg e "$(printf 'forged' | base64)" '.entry = $e' "$T/proof.json" >"$T/bad2.json"
! python3 "$INKAN_SRC/tests/e2e/rfc9162_verify.py" "$T/bad2.json" "$LOGKEY" >/dev/null 2>&1 ||
	fail "the separate verifier accepted another entry"
openssl ecparam -name secp384r1 -genkey -noout 2>/dev/null | openssl ec -pubout >"$T/other.pem" 2>/dev/null
! python3 "$INKAN_SRC/tests/e2e/rfc9162_verify.py" "$T/proof.json" "$T/other.pem" >/dev/null 2>&1 ||
	fail "the separate verifier accepted another key"
ok "the separate verifier refuses a changed path, entry or key"
# a signer gets no proof of someone else's record
api GET "/api/v1/audit/proof?seq=1" "" "$alice"
expect_status 404
icli aud audit proof 1 --key "$LOGKEY"
[ "$RC" = 0 ] || fail "the auditor could not get the proof of record 1: $ERR"
# Without a trust anchor the proof holds only against the key inkand sent: unproven, exit 3.
icli aud audit proof 1
[ "$RC" = 3 ] && grep -q UNPROVEN <<<"$ERR" || fail "audit proof without an anchor: rc $RC: $OUT $ERR"

# ---- consistency between checkpoints ----
icli aud audit export "$T/all.json"
[ "$RC" = 0 ] || fail "inkan audit export: $ERR"
first=$(jq '[.checkpoints[] | select(.id > 0) | .size] | min' "$T/all.json")
LOGFPR=$(openssl pkey -pubin -in "$LOGKEY" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
icli aud audit consistency "$first" --fingerprint "$LOGFPR"
[ "$RC" = 0 ] && grep -q consistent <<<"$OUT" || fail "inkan audit consistency $first: $OUT $ERR"
icli aud audit consistency "$first" --fingerprint "$(printf '%064d' 0)"
[ "$RC" = 1 ] && grep -q 'not the trusted one' <<<"$ERR" || fail "consistency with another fingerprint: rc $RC: $ERR"
icli aud audit consistency "$first"
[ "$RC" = 3 ] || fail "consistency without an anchor: rc $RC: $OUT $ERR"
ok "consistency: $OUT"

# ---- offline verification of export bundles ----
icli aud audit verify "$T/all.json" --key "$LOGKEY"
[ "$RC" = 0 ] || fail "offline verify of a full export: $ERR"
# A part ending between checkpoints: 25, or the first seq after it no checkpoint ends at
# (where they fall depends on timing).
to=25
while jq -e --argjson to "$to" 'any(.checkpoints[]; .size == $to)' "$T/all.json" >/dev/null; do
	to=$((to + 1))
done
icli aud audit export --from 5 --to "$to" "$T/part.json"
[ "$RC" = 0 ] || fail "inkan audit export --from 5 --to $to: $ERR"
jq -e --argjson n "$((to - 4))" '(.records | length) == $n and .records[0].seq == 5 and .prefix.size == 4' "$T/part.json" >/dev/null ||
	fail "partial export: unexpected content"
# the records after the last checkpoint the part holds are unproven
icli aud audit verify "$T/part.json" --key "$LOGKEY"
last=$(jq '[.checkpoints[] | .size] | max' "$T/part.json")
[ "$RC" = 3 ] && grep -q "UNPROVEN for records $((last + 1))..$to" <<<"$OUT" ||
	fail "offline verify of a partial export past its last checkpoint ($last): rc $RC: $OUT $ERR"
icli aud audit export --from 5 --to "$last" "$T/part2.json"
icli aud audit verify "$T/part2.json" --key "$LOGKEY"
[ "$RC" = 0 ] || fail "offline verify of a partial export ending at checkpoint $last: $OUT $ERR"
# No checkpoint at all: records anyone with the public key could have written.
jq '.checkpoints = []' "$T/all.json" >"$T/no-cp.json"
icli aud --json audit verify "$T/no-cp.json" --key "$LOGKEY"
[ "$RC" = 3 ] && jq -e '.ok == false and .anchored and (.all_signed | not)' <<<"$OUT" >/dev/null ||
	fail "a bundle without checkpoints passed: rc $RC: $OUT $ERR"
# offline, with nothing else: a changed record inside the bundle
jq '.records[3].detail = "tampered"' "$T/all.json" >"$T/all-bad.json"
icli aud audit verify "$T/all-bad.json" --key "$LOGKEY"
[ "$RC" != 0 ] && grep -q 'does not match' <<<"$ERR" || fail "offline verify missed a changed record: $OUT $ERR"
icli aud audit verify "$T/all.json" --key "$T/other.pem"
[ "$RC" != 0 ] || fail "offline verify accepted a bundle under another pinned key"
ok "offline bundles verify; a changed one and a foreign key are refused"

# ---- the marks of the SAM's records refused for a while: checkpoints go on afterwards ----
# The key store refuses the marks for a while (a trigger of ours in keystore.db, as a lost
# connection would fail them): a checkpoint's head and its marks are one transaction, so no
# checkpoint over the SAM's new record is stored meanwhile; once it takes them again, the
# checkpoints go on over every record (before 685951a a head was stored without its marks and
# every later checkpoint was refused: the logged records read as pending, out of order).
KSDB="$DATA/sam/keystore.db"
sqlite3 -cmd '.timeout 5000' "$KSDB" "CREATE TRIGGER t_no_marks BEFORE INSERT ON sam_audit_logged
	BEGIN SELECT RAISE(ABORT, 'no marks now'); END;" || fail "cannot add the trigger to keystore.db"
# a key made: a record of the SAM's own, named by the next checkpoint
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
sleep 3
sqlite3 -cmd '.timeout 5000' "$KSDB" "DROP TRIGGER t_no_marks" || fail "cannot drop the trigger"
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
covered=0
for _ in $(seq 1 50); do
	n_all=$(sqlite3 -cmd '.timeout 5000' "file:$DATA/inkand/inkan.db?mode=ro" 'SELECT max(seq) FROM audit_log')
	n_ck=$(sqlite3 -cmd '.timeout 5000' "file:$DATA/inkand/inkan.db?mode=ro" 'SELECT coalesce(max(size), 0) FROM audit_checkpoints')
	if [ "$n_ck" -ge "$n_all" ]; then covered=1; break; fi
	sleep 0.2
done
[ "$covered" = 1 ] || fail "checkpoints stopped after the marks were refused: $n_ck of $n_all records"
ok "marks refused for a while: checkpoints then cover all $n_all records"

# ---- the database file edited directly ----
stop_inkand
[ "$INKAND_RC" = 0 ] || fail "inkand exited with $INKAND_RC"
DB="$DATA/inkand/inkan.db"
KS="$DATA/sam/keystore.db"
cp -p "$DB" "$T/pristine.db"
cp -p "$KS" "$T/pristine-ks.db"
# the node as a whole goes back each time: its roll-back witness too (a key store copied back
# alone is a roll-back the SAM refuses to start on: docs/keys.md, t_rollback)
WIT="$DATA/sam/store.witness"
cp -p "$WIT" "$T/pristine.witness"
last=$(sqlite3 "$DB" 'SELECT max(seq) FROM audit_log')
unlock_sql='DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_reuse;
DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;'

# tamper NAME SQL EXPECTED_REGEX
tamper() {
	local name=$1 sql=$2 want=$3
	cp -p "$T/pristine.db" "$DB"
	cp -p "$T/pristine-ks.db" "$KS"
	cp -p "$T/pristine.witness" "$WIT"
	rm -f "$DB-wal" "$DB-shm" "$KS-wal" "$KS-shm"
	sqlite3 "$DB" "$unlock_sql $sql" || fail "tamper $name: sqlite3 failed"
	start_inkand
	icli aud audit verify --key "$LOGKEY"
	[ "$RC" != 0 ] || fail "tamper $name: inkan audit verify did not notice"
	grep -Eq "$want" <<<"$ERR" || fail "tamper $name: the report does not name the place ($want): $ERR"
	ok "tamper $name detected: ${ERR#inkan: }"
	stop_inkand
}

mid=$((last / 2))
# one byte of one record (the middle one's actor: one letter changed)
tamper one-byte "UPDATE audit_log SET detail = detail || 'x' WHERE seq = $mid;" \
	"a record in seq [0-9]+\\.\\.[0-9]+ was changed"
# a record deleted
tamper delete "DELETE FROM audit_log WHERE seq = $mid;" "record seq $mid is missing"
# two records swapped (contents exchanged under their seqs)
tamper swap "CREATE TEMP TABLE a AS SELECT * FROM audit_log WHERE seq = $((mid + 1));
UPDATE audit_log SET time = (SELECT time FROM audit_log WHERE seq = $mid), actor = (SELECT actor FROM audit_log WHERE seq = $mid),
  action = (SELECT action FROM audit_log WHERE seq = $mid), result = (SELECT result FROM audit_log WHERE seq = $mid),
  detail = (SELECT detail FROM audit_log WHERE seq = $mid), subject = (SELECT subject FROM audit_log WHERE seq = $mid),
  role = (SELECT role FROM audit_log WHERE seq = $mid), request_id = (SELECT request_id FROM audit_log WHERE seq = $mid),
  source = (SELECT source FROM audit_log WHERE seq = $mid) WHERE seq = $((mid + 1));
UPDATE audit_log SET time = (SELECT time FROM a), actor = (SELECT actor FROM a), action = (SELECT action FROM a),
  result = (SELECT result FROM a), detail = (SELECT detail FROM a), subject = (SELECT subject FROM a), role = (SELECT role FROM a),
  request_id = (SELECT request_id FROM a), source = (SELECT source FROM a) WHERE seq = $mid;" \
	"a record in seq [0-9]+\\.\\.[0-9]+ was changed"
# the tail cut off
tamper truncate "DELETE FROM audit_log WHERE seq > $((last - 3));" "record seq $((last - 2)) is missing"
# a forged record appended while inkand was down: never signed
tamper forged "INSERT INTO audit_log (time, actor, role, action, subject, result, request_id, source, detail)
VALUES (strftime('%s','now'), 'mallory', 'system_auditor', 'user.create', 'mallory', 'success', '-', '-', 'forged');" \
	"a record in seq $((last + 1))\\.\\.[0-9]+ was changed"
# a checkpoint replaced (another root under the old signature)
cid=$(sqlite3 "$T/pristine.db" 'SELECT max(id) FROM audit_checkpoints')
tamper checkpoint "UPDATE audit_checkpoints SET root = randomblob(32) WHERE id = $((cid - 1));" \
	"checkpoint $((cid - 1)) .*signature does not verify"

# the untouched log still verifies, and the forged-record start was itself an event
cp -p "$T/pristine.db" "$DB"
cp -p "$T/pristine-ks.db" "$KS"
cp -p "$T/pristine.witness" "$WIT"
rm -f "$DB-wal" "$DB-shm"
start_inkand
icli aud audit verify --key "$LOGKEY"
[ "$RC" = 0 ] || fail "the untouched log does not verify after the tamper runs: $ERR"
ok "untouched log: $(head -n1 <<<"$OUT")"
stop_inkand
finish
