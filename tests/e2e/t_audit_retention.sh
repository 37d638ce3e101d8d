#!/usr/bin/env bash
# t_audit_retention: records past audit_retention are moved to an archive file that verifies
# on its own (offline, with the log key); the records kept still verify from the archive's
# end; no record leaves the database unless an archive holds it.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf audit_checkpoint_interval 1
conf audit_retention 3
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
aud=$(mkactive "$so" aud1 system_auditor)
tokfile aud "$aud"
LOGKEY="$DATA/ca/audit-log.pem"

# wait for an archive
for _ in $(seq 1 100); do
	ls "$DATA/inkand/audit-archive/"audit-*.json >/dev/null 2>&1 && break
	sleep 0.2
done
arch=$(ls "$DATA/inkand/audit-archive/"audit-*.json 2>/dev/null | head -n1)
[ -n "$arch" ] || fail "no archive file after the retention period"
[ "$(stat -c %a "$arch")" = 600 ] || fail "archive file mode $(stat -c %a "$arch"), want 600"
last=$(basename "$arch" .json | cut -d- -f3)
ok "archive $(basename "$arch") made"

api GET "/api/v1/audit?after=0&limit=1000" "" "$aud"
expect_status 200
printf '%s' "$BODY" | jq -e --arg f "$(basename "$arch")" '[.records[] | select(.action == "audit.archive" and .result == "success" and (.detail | contains($f)))] | length == 1' >/dev/null ||
	fail "no audit.archive record naming $(basename "$arch")"
# The archive is a copy: audit rows are never deleted.
[ "$(printf '%s' "$BODY" | jq '.records[0].seq')" = 1 ] || fail "record 1 left the database"
[ "$(sqlite3 "$DATA/inkand/inkan.db" "SELECT count(*) FROM audit_log WHERE seq <= $last")" = "$last" ] ||
	fail "archived records are missing from the database"

# the archive verifies on its own, offline, with the published log key
icli aud audit verify "$arch" --key "$LOGKEY"
[ "$RC" = 0 ] || fail "the archive does not verify: $ERR"
grep -q "seq 1\.\.$last" <<<"$OUT" || fail "the archive does not hold records 1..$last: $OUT"
ok "archive: $(head -n1 <<<"$OUT")"
jq -c '.records[1].actor = "mallory"' "$arch" >"$T/arch-bad.json"
icli aud audit verify "$T/arch-bad.json" --key "$LOGKEY"
[ "$RC" != 0 ] || fail "a changed archive still verifies"

# the records kept verify from the archive's end, online
icli aud audit verify --key "$LOGKEY"
[ "$RC" = 0 ] || fail "the log after archiving does not verify: $ERR"
grep -q "seq 1\.\." <<<"$OUT" || fail "online verify does not cover the archived records too: $OUT"
ok "online: $(grep 'audit log OK' <<<"$OUT")"
# an inclusion proof still works for a record kept (its path runs through the archived part;
# the newest record, as archiving goes on every second here)
api GET "/api/v1/audit?after=0&limit=1000" "" "$aud"
expect_status 200
newest=$(printf '%s' "$BODY" | jq '.records[-1].seq')
icli aud audit proof "$newest" --key "$LOGKEY"
[ "$RC" = 0 ] || fail "no inclusion proof for record $newest after archiving: $ERR"
icli aud audit proof 1 --key "$LOGKEY"
[ "$RC" = 0 ] || fail "no inclusion proof for archived record 1: $ERR"

# the database still refuses to drop a record no archive holds
stop_inkand
for seq in 1 "$last" "$((last + 1))"; do
	sqlite3 "$DATA/inkand/inkan.db" "DELETE FROM audit_log WHERE seq = $seq" 2>"$T/del.err" &&
		fail "the database let record $seq be deleted"
	grep -q "append-only" "$T/del.err" || fail "unexpected refusal: $(cat "$T/del.err")"
done
ok "no record can be deleted, archived or not"
finish
