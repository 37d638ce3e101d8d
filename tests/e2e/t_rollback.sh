#!/bin/bash
# t_rollback: playing the DBA on a one-node (SQLite) installation — the key store file copied
# back over a newer one while inkand and inkan-sam are stopped, a revoked key `active` again in
# it with its sealed key. inkan-sam's roll-back witness (DIR/sam/store.witness, outside the key
# store) shows it: the SAM does not start, nothing signs, until the security officer runs
# inkan-sam --accept-rollback (docs/keys.md, "A database recovery cannot revive").
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Kestrel-4829; add_secret "$PIN"
KA=$(mkkey "$alice")
stop_inkand
W="$DATA/sam/store.witness"
[ -s "$W" ] || fail "no roll-back witness in DATA/sam"
[ "$(stat -c %a "$W")" = 600 ] || fail "the witness is not mode 0600"
cp "$DATA/sam/keystore.db" "$T/keystore.old"

# After the copy: alice's key revoked (its key destroyed, the CRL on)
start_inkand
alice=$(login alice "$(pw_of alice)")
api POST /api/v1/keys/"$KA"/revoke '{"reason": "keyCompromise"}' "$alice"; expect_status 204
stop_inkand
ok "a key revoked after the DBA's copy"

# The DBA puts the old file back.
cp "$T/keystore.old" "$DATA/sam/keystore.db"
rm -f "$DATA/sam/keystore.db-wal" "$DATA/sam/keystore.db-shm"
st=$(sqlite3 "file:$DATA/sam/keystore.db?mode=ro" \
	"SELECT status FROM credentials WHERE id = '$KA' AND blob IS NOT NULL;")
[ "$st" = 1 ] || fail "the copied-back key store does not hold the key active (status '$st')"
witness_before=$(cat "$W")
: >"$T/start.log"
"$INKAND" --data "$DATA" --listen 127.0.0.1:0 >>"$T/start.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"; wait "$pid" || true
	cat "$T/start.log" >>"$LOG"
	fail "inkand kept running on a key store behind the SAM's witness"
fi
rc=0; wait "$pid" || rc=$?
cat "$T/start.log" >>"$LOG"
[ "$rc" != 0 ] || fail "inkand started on a key store behind the SAM's witness"
grep -q 'the key store is older than this node has seen' "$T/start.log" ||
	fail "no alert naming the roll-back"
grep -q 'alert=inkan.audit.failure' "$T/start.log" || fail "the refusal raised no alert"
[ "$(cat "$W")" = "$witness_before" ] || fail "a refused start changed the witness"
ok "the key store file copied back: inkan-sam refuses to start (alert named), nothing signs"

# The officer's decision: the witness takes the key store as it is now.
"$INKAN_SAM" --accept-rollback --data "$DATA" || fail "--accept-rollback failed"
[ "$(cat "$W")" != "$witness_before" ] || fail "--accept-rollback left the witness as it was"
[ "$(stat -c %a "$W")" = 600 ] || fail "the witness is not mode 0600 after --accept-rollback"
ok "inkan-sam --accept-rollback sets the witness to the key store as it is"

finish
