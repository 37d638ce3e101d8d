#!/usr/bin/env bash
# t_oauth_restart: the OAuth authorization server's state lives in the shared store, not in one
# inkand's memory — on PostgreSQL (the cluster of tests/pg.sh, ctest fixture "pg"; SQLite when
# run alone). inkand is restarted between every two requests of a credential-scope flow: the
# pushed request, the consent page (its session cookie and CSRF token), the consent and the
# code are found by the next process, the code is redeemed once (its replay refused after one
# more restart), and the token signs exactly the pushed hashes (openssl verifies). The rows hold
# no code, cookie, CSRF token, request_uri or SAD in the clear, and expired rows (a flow's,
# a service token's, a jti's) are pruned at start.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PSQL=/usr/lib/postgresql/15/bin/psql
if [ -n "${INKAN_PG_STATE:-}" ] && [ -s "$INKAN_PG_STATE/dir" ]; then
	DB="t_oauth_restart_$$"
	"$INKAN_SRC/tests/pg.sh" newdb "$INKAN_PG_STATE" "$DB" || fail "cannot make the database $DB"
	PGURL=$("$INKAN_SRC/tests/pg.sh" url "$INKAN_PG_STATE" inkand "$DB")
	cat >"$T/inkan.conf" <<CONF
database = $PGURL
argon2_memory_kib = 8192
argon2_iterations = 1
CONF
	chmod 600 "$T/inkan.conf"
	init_data --config "$T/inkan.conf"
	START=(--config "$T/inkan.conf")
	sql() { "$PSQL" -X -qAt -v ON_ERROR_STOP=1 -d "$PGURL" -c "$1"; }
	dump() { "/usr/lib/postgresql/15/bin/pg_dump" -d "$PGURL" >"$T/db.dump"; }
	ENGINE=PostgreSQL
else
	init_data
	fast_argon2
	START=()
	sql() { db "$1"; }
	dump() { db .dump >"$T/db.dump"; }
	ENGINE=SQLite
fi
say "store: $ENGINE"
start_inkand "${START[@]}"
restart() { stop_inkand; start_inkand "${START[@]}"; write_cfg; }

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Quarry-5519
add_secret "$PIN"
cred=$(mkkey "$alice" P-256)
pubkey "$alice" "$cred"
CBPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api POST /api/v1/oauth/clients "$(jq -nc --arg u "http://127.0.0.1:$CBPORT/cb" '{name: "Contract Desk", redirect_uris: [$u]}')" "$so"
expect_status 201
add_secret "$(printf '%s' "$BODY" | jq -r .client_secret)"
CLIENT=$(printf '%s' "$BODY" | jq -c --arg u "http://127.0.0.1:$CBPORT/cb" '{id: .client.id, secret: .client_secret, cb: $u}')
write_cfg() {
	jq -n --arg tmp "$T" --arg url "$URL" --arg cacert "$CACERT" --argjson c "$CLIENT" \
		--arg user alice --arg pw "$(pw_of alice)" --arg cred "$cred" --arg pin "$PIN" \
		'{tmp: $tmp, url: $url, cacert: $cacert, client: $c, user: $user, password: $pw, cred: $cred, pin: $pin}' >"$T/cfg.json"
	chmod 600 "$T/cfg.json"
}
write_cfg
step() {
	"$PY" "$INKAN_SRC/tests/e2e/oauth_restart.py" "$T/cfg.json" "$@" >>"$T/steps.out" 2>&1 ||
		{ cat "$T/steps.out" >&2; fail "step $* failed"; }
	tail -n1 "$T/steps.out" | sed 's/^/  /' >&2
}

# ---- flow a: a restart between every two requests ----
step push a
restart
step page a
restart
step consent a
# the code's row: found by its hash only, sealed (the SAD nowhere in the clear)
[ "$(sql 'SELECT count(*) FROM oauth_flows WHERE kind = 3 AND state = 0')" = 1 ] ||
	fail "the live code is not in the store"
# (no restart between the consent and the signature: the SAD itself lives in the inkan-sam
# that minted it until SADs are spent across nodes — the sads work)
step token a
step sign a
for i in 0 1; do
	openssl pkeyutl -verify -pubin -inkey "$T/$cred.pub.pem" -in "$T/dg-a-$i.bin" -sigfile "$T/sig-a-$i.bin" \
		-pkeyopt digest:sha256 >/dev/null 2>&1 || fail "signature $i of flow a does not verify with openssl"
done
ok "flow a: pushed, shown and consented by three inkand processes in turn; openssl verifies both signatures"
restart
step replay a
ok "flow a: its code replayed after one more restart is refused"

# ---- flow b: the code outlives a restart of the process that issued it ----
step push b
step page b
step consent b
restart
step token b
ok "flow b: a code issued before a restart is redeemed after it"

# ---- no secret in the clear in the store ----
dump
while read -r s; do
	[ -n "$s" ] || continue
	# a request_uri is stored by its handle's hash; a SAD is the token
	case "$s" in urn:*) s=${s##*:} ;; esac
	if grep -qF -- "$s" "$T/db.dump"; then fail "a code, cookie, CSRF token, handle or token is in the $ENGINE store in the clear"; fi
done <"$T/oauth.secrets"
cat "$T/oauth.secrets" >>"$SECRETS"
grep -qF "$PIN" "$T/db.dump" && fail "the PIN is in the store"
ok "no code, page cookie, CSRF token, request_uri, access token (SAD) or PIN in the $ENGINE store"

# ---- pruning: rows past their time go at start (and every minute) ----
sql "INSERT INTO oauth_flows (kind, hash, expires_at, keep_until) VALUES (2, $( [ "$ENGINE" = SQLite ] && echo "zeroblob(32)" || echo "decode(repeat('00', 32), 'hex')"), 1, 1)"
sql "INSERT INTO oauth_jti (client_id, jti, expires_at) VALUES ('c', 'old', 1)"
sql "INSERT INTO oauth_tokens (hash, kind, family, client_id, user_id, created_at, expires_at)
     SELECT $( [ "$ENGINE" = SQLite ] && echo "randomblob(32)" || echo "decode(md5('x') || md5('y'), 'hex')"), 1,
            '0123456789abcdef0123456789abcdef', '$(printf '%s' "$CLIENT" | jq -r .id)', id, 1, 2 FROM users WHERE username = 'alice'"
live="SELECT count(*) FROM oauth_flows WHERE keep_until > $(( $(date +%s) + 60 ))"
before=$(sql "$live")
[ "$before" -gt 0 ] || fail "no live flow row to keep"
restart
[ "$(sql 'SELECT count(*) FROM oauth_flows WHERE keep_until <= 1')" = 0 ] || fail "an expired flow row survived the start"
[ "$(sql 'SELECT count(*) FROM oauth_jti WHERE expires_at = 1')" = 0 ] || fail "an expired jti survived the start"
[ "$(sql 'SELECT count(*) FROM oauth_tokens WHERE expires_at = 2')" = 0 ] || fail "an expired service token survived the start"
[ "$(sql "$live")" = "$before" ] || fail "the start pruned live rows too"
grep -q 'pruned [0-9]* expired OAuth rows' "$LOG" || fail "no pruning in the log"
ok "expired rows of oauth_flows, oauth_tokens and oauth_jti are pruned at start; live ones stay"

check_no_secrets_in_dbs_engine() { [ "$ENGINE" = SQLite ] && check_no_secrets_in_dbs; return 0; }
check_no_secrets_in_dbs_engine
finish
