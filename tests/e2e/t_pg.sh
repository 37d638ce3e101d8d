#!/usr/bin/env bash
# t_pg: inkand with its database on PostgreSQL (the cluster of tests/pg.sh, ctest fixture
# "pg"): inkan init, login, key creation, authorize, signHash checked with openssl, a replayed
# SAD refused, the rows really in PostgreSQL (and no SQLite file), `inkan audit verify` of the
# log written there, the engine named in the compliance report, 503 and recovery when the
# database ends inkand's connection, no secret in a pg_dump, a restart of inkand that finds
# everything again, and (as root) inkand under privilege separation reaching the database with
# a passfile of its own user's. A password in the URI, or a second init, is refused.
. "$(dirname "$0")/lib.sh"

pg_newdb t_pg
# psql as inkand's own role: what inkand itself can see
pq() { as_inkand "$1"; }

CONF="$T/inkan.conf"
cat >"$CONF" <<EOF
database = $PGURL
argon2_memory_kib = 8192
argon2_iterations = 1
audit_checkpoint_interval = 1
EOF
chmod 600 "$CONF"

# a password written into the URI is refused before anything is made
sed 's|^database = postgresql://|database = postgresql://inkand:guess@|' "$CONF" >"$T/bad.conf"
if "$INKAN_CLI" init --data "$T/bad" --config "$T/bad.conf" --json >"$T/bad.out" 2>&1; then
	fail "inkan init accepted a PostgreSQL URI with a password"
fi
grep -q 'password' "$T/bad.out" || fail "the refusal does not say why: $(cat "$T/bad.out")"
grep -q 'guess' "$T/bad.out" && fail "the refusal repeats the password"
[ ! -e "$T/bad" ] || fail "the refused inkan init made $T/bad"
ok "a password in the URI is refused (and not repeated)"

init_data --config "$CONF"
[ ! -e "$DATA/inkand/inkan.db" ] || fail "inkan init made an SQLite file although database is PostgreSQL"
[ "$(pq 'SELECT count(*) FROM users')" = 1 ] || fail "the security officer is not in PostgreSQL"
ok "inkan init put the security officer into PostgreSQL"

# a second inkan init on the same database is refused before it makes anything
if "$INKAN_CLI" init --data "$T/again" --config "$CONF" --json >"$T/again.out" 2>&1; then
	fail "inkan init initialised a database that has accounts"
fi
grep -q 'accounts already' "$T/again.out" || fail "the refusal does not say why: $(cat "$T/again.out")"
[ ! -e "$T/again" ] || fail "the refused inkan init made $T/again"
[ "$(pq 'SELECT count(*) FROM users')" = 1 ] || fail "the refused inkan init changed the users"
ok "a second inkan init on the same database is refused and makes nothing"

start_inkand --config "$CONF"
LOGKEY="$DATA/ca/audit-log.pem"
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
tokfile aud "$aud"
PIN=pin-Lantern-7731
add_secret "$PIN"
[ "$(pq 'SELECT count(*) FROM users')" = 4 ] || fail "users are not in PostgreSQL"
[ "$(pq 'SELECT count(*) FROM sessions WHERE NOT revoked')" -ge 4 ] || fail "sessions are not in PostgreSQL"

# ---- the CSC path ----
cred=$(mkkey "$alice" P-256)
pubkey "$alice" "$cred"
mapfile -t H < <(digests sha256 2)
authorize alice "$alice" "$cred" "${H[@]}"
expect_status 200
[ -n "$SAD" ] || fail "no SAD"
add_secret "$SAD"
sign_hashes() {
	api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$cred" --arg s "$SAD" \
		--argjson h "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" \
		'{credentialID: $c, SAD: $s, hashes: $h, signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
}
sign_hashes "${H[@]}"
expect_status 200
for i in 1 2; do
	printf '%s' "$BODY" | jq -r ".signatures[$((i - 1))]" | base64 -d >"$T/sig.$i"
	openssl pkeyutl -verify -pubin -inkey "$T/$cred.pub.pem" -in "$T/dg.sha256.$i.bin" \
		-sigfile "$T/sig.$i" -pkeyopt digest:sha256 >/dev/null 2>&1 ||
		fail "signature $i does not verify with openssl"
done
ok "alice signed 2 hashes; openssl verifies both"
sign_hashes "${H[0]}"
expect_refused 400 invalid_request
ok "the spent SAD is refused"

# ---- the audit log lives in PostgreSQL, numbered 1..N without a gap ----
# one statement, one snapshot: inkand may be appending meanwhile
read -r n gap < <(pq "SELECT count(*) || ' ' || (max(seq) - count(*)) FROM audit_log")
[ "$gap" = 0 ] || fail "audit sequence numbers have a gap ($gap among $n records)"
[ "$(pq "SELECT count(*) FROM audit_log WHERE action = 'csc.signHash' AND result = 'success'")" = 1 ] ||
	fail "no csc.signHash record in PostgreSQL's audit_log"
pq 'DELETE FROM audit_log WHERE seq = 1' 2>/dev/null && fail "inkand's role could delete an audit row"
# a record's detail (a signHash's names its hashes: KBs of them) is stored without a pglz attempt
[ "$(pq "SELECT attstorage FROM pg_attribute WHERE attrelid = 'audit_log'::regclass AND attname = 'detail'")" = e ] ||
	fail "audit_log.detail is not STORAGE EXTERNAL (schema version 6)"
[ "$(pq 'SELECT max(version) FROM schema_version')" = 7 ] || fail "inkand's schema is not at version 7"
sleep 2	# an interval checkpoint past the signature
icli aud audit verify --key "$LOGKEY"
[ "$RC" = 0 ] && grep -q 'audit log OK' <<<"$OUT" || fail "inkan audit verify: $OUT $ERR"
ok "audit log in PostgreSQL ($n records): $(head -n1 <<<"$OUT")"

# ---- the compliance report names the engine in use ----
api GET /api/v1/compliance "" "$aud"
expect_status 200
expect_jq '.evidence.versions.database | startswith("PostgreSQL 15.")'
ok "the compliance report names $(printf '%s' "$BODY" | jq -r .evidence.versions.database)"

# ---- the database drops inkand's connection (as in a restart or failover): 503, then back
# by itself, inkand not restarted ----
ADMIN=$("$PGSH" url "$INKAN_PG_STATE" inkan_admin "$DB")
# Ends every connection of inkand's to the database and waits until they are gone
# (pg_terminate_backend only signals).
end_inkand_connections() {
	local pids left=1
	pids=$("$PSQL" -X -qAt -d "$ADMIN" -c "SELECT string_agg(pid::text, ',') FROM pg_stat_activity
		WHERE datname = '$DB' AND usename = 'inkand'")
	[ -n "$pids" ] || fail "no connection of inkand's to end"
	"$PSQL" -X -qAt -d "$ADMIN" -c "SELECT pg_terminate_backend(pid) FROM unnest('{$pids}'::int[]) AS pid" \
		>/dev/null || fail "pg_terminate_backend failed"
	for _ in $(seq 50); do
		left=$("$PSQL" -X -qAt -d "$ADMIN" -c "SELECT count(*) FROM pg_stat_activity
			WHERE pid = ANY('{$pids}'::int[])")
		[ "$left" = 0 ] && return 0
		sleep 0.1
	done
	fail "inkand's connection outlived pg_terminate_backend"
}
end_inkand_connections
api GET /api/v1/me "" "$alice"
[ "$STATUS" = 503 ] || [ "$STATUS" = 200 ] || fail "with the connection gone: HTTP $STATUS, not 503 $BODY"
first=$STATUS
[ "$first" != 503 ] || [ -n "$(header Retry-After)" ] || fail "503 without Retry-After"
api GET /api/v1/me "" "$alice"
expect_status 200
ok "connection ended by the database: HTTP $first, then 200 without a restart"

# ---- no secret in the database, as its superuser dumps it ----
"/usr/lib/postgresql/15/bin/pg_dump" -d "$ADMIN" >"$T/pg.dump" || fail "pg_dump failed"
grep -q 'csc.signHash' "$T/pg.dump" || fail "the dump is not of inkand's data"
check_no_secrets_in "$T/pg.dump" "the PostgreSQL dump"
ok "no password, TOTP seed, token, PIN or SAD in the PostgreSQL dump"

# ---- a restart finds everyone again ----
# the connection ended again just before the stop: the stop's records and last checkpoint
# are written on a new connection (once the stop's first statement failed, and inkand exited 1)
stops=$(pq "SELECT count(*) FROM audit_log WHERE action = 'service.stop'")
end_inkand_connections
stop_inkand
[ "$INKAND_RC" = 0 ] || fail "inkand exited with $INKAND_RC on SIGTERM"
[ "$(pq "SELECT count(*) FROM audit_log WHERE action = 'service.stop'")" = $((stops + 1)) ] ||
	fail "the stop's record was lost with the connection"
ok "a stop right after the database ended the connection exits 0, its records written"
start_inkand --config "$CONF"
alice=$(login alice "$(pw_of alice)")
api POST /csc/v2/credentials/list '{}' "$alice"
expect_status 200
expect_jq "(.credentialIDs | index(\"$cred\")) != null"
tokfile aud "$(login aud1 "$(pw_of aud1)")"
icli aud audit verify --key "$LOGKEY"
[ "$RC" = 0 ] || fail "inkan audit verify after the restart: $OUT $ERR"
ok "after a restart: login, the key, and the log verify"

# ---- under privilege separation: inkand, no longer root, reaches the database with a passfile
# of its own user's; inkan.conf holds no secret and is readable by both daemons ----
if [ "$(id -u)" = 0 ]; then
	stop_inkand
	privsep_users
	chmod 711 "$T"
	PASSF="$T/inkand.pgpass"
	cp "$INKAN_PG_STATE/inkand.pass" "$PASSF"
	chown "$DUSER" "$PASSF"
	chmod 600 "$PASSF"
	grep -v '^database = ' "$CONF" >"$CONF.new"
	printf 'database = %s&passfile=%s\nuser = %s\nsam_user = %s\n' "${PGURL%%&passfile=*}" \
		"$PASSF" "$DUSER" "$SUSER" >>"$CONF.new"
	mv "$CONF.new" "$CONF"
	chmod 644 "$CONF"
	start_inkand --config "$CONF"
	[ "$(ps -o uid= -p "$INKAND_PID" | tr -d ' ')" = "$DUID" ] || fail "inkand does not run as $DUSER"
	alice=$(login alice "$(pw_of alice)")
	mapfile -t H < <(digests sha256 1)
	authorize alice "$alice" "$cred" "${H[@]}"
	expect_status 200
	add_secret "$SAD"
	sign_hashes "${H[@]}"
	expect_status 200
	[ "$(pq "SELECT count(*) FROM audit_log WHERE action = 'csc.signHash' AND result = 'success'")" = 2 ] ||
		fail "the signature under privilege separation has no record in PostgreSQL"
	ok "inkand as $DUSER (passfile of its own): login, authorize, signHash, its record in PostgreSQL"
else
	say "privilege separation part skipped: not root"
fi

finish
