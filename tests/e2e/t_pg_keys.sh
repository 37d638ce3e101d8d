#!/usr/bin/env bash
# t_pg_keys: inkan-sam with its key store in PostgreSQL (DATA/sam/keystore.url: the role
# inkan_sam, the schema inkan_keys, a passfile in the SAM's directory) beside inkand on
# PostgreSQL, in one database: inkan init makes the key store's tables there (no keystore.db),
# `inkan sign` makes CAdES signatures that openssl cms -verify accepts, the sealed key and the
# signer's record are rows of inkan_keys, a wrong PIN is counted there, inkand's role cannot
# read a single row of it (nor the SAM's role one of inkand's), and a restart finds it all.
. "$(dirname "$0")/lib.sh"

pg_newdb t_pg_keys

CONF="$T/inkan.conf"
cat >"$CONF" <<EOF2
database = $PGURL
argon2_memory_kib = 8192
argon2_iterations = 1
EOF2
chmod 600 "$CONF"
grep -q inkan_sam "$CONF" && fail "the SAM's URI is in inkan.conf"

# The SAM's files: its URI and its passfile, in its own directory, 0600.
pg_sam_files "$DATA"

init_data --config "$CONF"
[ ! -e "$DATA/sam/keystore.db" ] || fail "inkan init made an SQLite key store beside keystore.url"
[ "$(as_sam 'SELECT version FROM inkan_keys.keystore_meta')" = 7 ] || fail "no key store in PostgreSQL"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.ca WHERE name IN ('root', 'issuing', 'tsa')")" = 3 ] ||
	fail "the CA's keys are not in PostgreSQL"
[ "$(as_sam 'SELECT count(*) FROM inkan_keys.persons')" = 1 ] || fail "the security officer is not a person of the key store"
ok "inkan init made the key store in PostgreSQL's inkan_keys (CA, the officer), no SQLite file"

start_inkand --config "$CONF"
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Quarry-4417
add_secret "$PIN"
acred=$(mkkey "$alice" P-256)
bcred=$(mkkey "$bob" RSA-3072)
[ "$(as_sam "SELECT count(*) FROM inkan_keys.credentials WHERE id IN ('$acred', '$bcred') AND
	blob IS NOT NULL AND status = 1")" = 2 ] || fail "the new keys are not rows of inkan_keys"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.persons WHERE otp_step >= 0")" -ge 3 ] ||
	fail "the TOTP steps used are not kept in PostgreSQL"
ROOT="$DATA/ca/root.pem"

sign() {
	local user=$1 tok=$2
	shift 2
	RC=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$tok INKAN_PIN=$PIN \
		INKAN_OTP=$(otp_next "$user") timeout 600 "$INKAN_CLI" sign --yes "$@" \
		</dev/null >"$T/sign.out" 2>"$T/sign.err" || RC=$?
}
cms_ok() {
	openssl cms -verify -binary -content "$1" -inform DER -in "$2" -CAfile "$ROOT" -purpose any \
		-out /dev/null 2>"$T/cms.err" >/dev/null ||
		fail "openssl cms -verify refuses $2 over $1: $(cat "$T/cms.err")"
}
printf 'Contract kept in PostgreSQL.\nMARKER-%s\n' "$(openssl rand -hex 8)" >"$T/doc.txt"
sign alice "$alice" "$T/doc.txt" --level B-B --output "$T/doc.alice.p7s"
[ "$RC" = 0 ] || fail "inkan sign (alice) failed ($RC): $(cat "$T/sign.err")"
cms_ok "$T/doc.txt" "$T/doc.alice.p7s"
sign bob "$bob" "$T/doc.txt" --output "$T/doc.bob.p7s"
[ "$RC" = 0 ] || fail "inkan sign (bob, B-T) failed ($RC): $(cat "$T/sign.err")"
cms_ok "$T/doc.txt" "$T/doc.bob.p7s"
ok "CAdES B-B (P-256) and B-T (RSA-3072) made with keys in PostgreSQL; openssl cms -verify accepts both"
[ "$(as_sam 'SELECT count(*) FROM inkan_keys.sads')" = 0 ] || fail "a spent SAD left its record"

# A wrong PIN is counted in the key store's row.
mapfile -t H < <(digests sha256 1)
PIN=pin-Wrong-0000 authorize alice "$alice" "$acred" "${H[@]}"
[ -z "$SAD" ] || fail "a wrong PIN got a SAD"
[ "$(as_sam "SELECT pin_failures FROM inkan_keys.credentials WHERE id = '$acred'")" = 1 ] ||
	fail "the wrong PIN is not counted in PostgreSQL"
ok "a wrong PIN is refused and counted in inkan_keys.credentials"
# The right one: the SAD's spend record is the key store's (any node spends it), no kek in it.
authorize alice "$alice" "$acred" "${H[@]}"
[ -n "$SAD" ] || fail "the right PIN got no SAD"
[ "$(as_sam 'SELECT count(*) FROM inkan_keys.sads WHERE octet_length(sealed) = 48')" = 1 ] ||
	fail "the SAD has no spend record in inkan_keys.sads"
ok "a SAD's spend record is in inkan_keys.sads"

# The wall: inkand's role reads no row of the key store, the SAM's none of inkand's.
for t in credentials ca persons sam_audit log_key sads; do
	if as_inkand "SELECT count(*) FROM inkan_keys.$t" >"$T/w.out" 2>"$T/w.err"; then
		fail "inkand's role read inkan_keys.$t: $(cat "$T/w.out")"
	fi
	grep -q 'permission denied' "$T/w.err" || fail "inkan_keys.$t: $(cat "$T/w.err")"
done
for t in users sessions audit_log; do
	if as_sam "SELECT count(*) FROM inkand.$t" >"$T/w.out" 2>"$T/w.err"; then
		fail "the SAM's role read inkand.$t: $(cat "$T/w.out")"
	fi
	grep -q 'permission denied' "$T/w.err" || fail "inkand.$t: $(cat "$T/w.err")"
done
ok "inkand's role: permission denied on inkan_keys; the SAM's role: permission denied on inkand"

# inkand's code holds none of the key store's (it is linked into inkan-sam only).
if nm "$INKAND" | grep -qE ' [TtDdBb] (ksdb_|keys_open$|keys_db_connect$)'; then
	fail "inkand links the key store's code"
fi
ok "inkand holds no symbol of the key store's code"

# A restart (inkand and its SAM) finds the key store again.
stop_inkand
start_inkand --config "$CONF"
sign alice "$alice" "$T/doc.txt" --level B-B --output "$T/doc.again.p7s"
[ "$RC" = 0 ] || fail "inkan sign after the restart failed ($RC): $(cat "$T/sign.err")"
cms_ok "$T/doc.txt" "$T/doc.again.p7s"
[ "$(as_sam "SELECT pin_failures FROM inkan_keys.credentials WHERE id = '$acred'")" = 0 ] ||
	fail "the right PIN did not reset the failure count"
ok "after a restart the key in PostgreSQL signs again (openssl cms -verify)"

# Playing the DBA: a copy of the key store's rows, bob's key revoked after it, the tables rolled
# back to the copy and the SAM's connections ended, as a point-in-time recovery does. bob's key
# is active in the database again, with its sealed key; the SAM refuses it and every other
# signature (503) and does not start again until the security officer accepts (docs/keys.md).
ADMINURL=$("$PGSH" url "$INKAN_PG_STATE" inkan_admin "$DB")
as_admin() { "$PSQL" -X -qAt -v ON_ERROR_STOP=1 -d "$ADMINURL" -c "$1"; }
as_admin "CREATE TABLE public.pitr_cred AS SELECT * FROM inkan_keys.credentials;
	CREATE TABLE public.pitr_revoked AS SELECT * FROM inkan_keys.revoked;
	CREATE TABLE public.pitr_crl AS SELECT * FROM inkan_keys.crl;
	CREATE TABLE public.pitr_head AS SELECT * FROM inkan_keys.log_head" >/dev/null
api POST /api/v1/keys/"$bcred"/revoke '{"reason": "keyCompromise"}' "$bob"; expect_status 204
as_admin "BEGIN;
	ALTER TABLE inkan_keys.log_head DISABLE TRIGGER USER;
	DELETE FROM inkan_keys.log_head;
	INSERT INTO inkan_keys.log_head SELECT * FROM public.pitr_head;
	ALTER TABLE inkan_keys.log_head ENABLE TRIGGER USER;
	DELETE FROM inkan_keys.revoked; INSERT INTO inkan_keys.revoked SELECT * FROM public.pitr_revoked;
	DELETE FROM inkan_keys.crl; INSERT INTO inkan_keys.crl SELECT * FROM public.pitr_crl;
	UPDATE inkan_keys.credentials AS c SET status = b.status, blob = b.blob,
		revoked_at = b.revoked_at, reason = b.reason FROM public.pitr_cred AS b WHERE c.id = b.id;
	COMMIT" >/dev/null
as_admin "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
	WHERE datname = current_database() AND usename = 'inkan_sam'" >/dev/null
[ "$(as_sam "SELECT status FROM inkan_keys.credentials WHERE id = '$bcred' AND blob IS NOT NULL")" = 1 ] ||
	fail "the rolled-back key store does not hold bob's key active"
mapfile -t H < <(digests sha256 1)
authorize bob "$bob" "$bcred" "${H[@]}"
[ "$STATUS" = 503 ] || fail "bob's revived key: authorize answered $STATUS, not 503"
authorize alice "$alice" "$acred" "${H[@]}"
[ "$STATUS" = 503 ] || fail "alice's key on the rolled-back store: authorize answered $STATUS, not 503"
grep -q 'the key store is older than this node has seen' "$LOG" || fail "no alert naming the roll-back"
ok "the key store's tables rolled back under the SAM: bob's revoked key is active in them again; refused, and so is alice's (503), the alert named"
stop_inkand
"$INKAND" --data "$DATA" --config "$CONF" --listen 127.0.0.1:0 >>"$LOG" 2>&1 &
pid=$!
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"; wait "$pid" || true
	fail "inkand started again on a key store behind the SAM's witness"
fi
wait "$pid" && fail "inkand started again on a key store behind the SAM's witness"
"$INKAN_SAM" --accept-rollback --data "$DATA" --config "$CONF" || fail "--accept-rollback failed"
ok "restarted: refused to start until the security officer's inkan-sam --accept-rollback"
finish
