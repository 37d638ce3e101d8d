#!/usr/bin/env bash
# t_oauth_service: the OAuth service scope (CSC API v2 section 8, issue 17). A signer grants a
# client, in headless Chromium, the right to list and read their credentials (user name,
# password and one OTP; the page says what the client may not do: sign); the client gets an
# access token and a refresh token, kept in the store as SHA-256 only. The tokens serve
# credentials/list and credentials/info only; refresh tokens rotate; a reused one, one sent by
# another client, a replayed code, a revocation or a locked account ends the grant; a grant
# survives a restart of inkand (oauth_service.py plays the client and the browser).
. "$(dirname "$0")/lib.sh"

need_chromium

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Harbour-4482
add_secret "$PIN"
KA=$(mkkey "$alice" P-256)
KB=$(mkkey "$bob" P-256)

api GET /csc/v2/info
expect_status 200
expect_jq '(.oauth2Scopes | index("service")) and (.oauth2Scopes | index("credential"))
	and (.oauth2GrantTypes | index("refresh_token"))'
ok "info advertises the service and credential scopes and the refresh_token grant"

CBPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CB="http://127.0.0.1:$CBPORT/cb"
mkclient() { # NAME -> "ID SECRET"
	api POST /api/v1/oauth/clients "$(jq -nc --arg n "$1" --arg a "$CB" '{name: $n, redirect_uris: [$a]}')" "$so"
	expect_status 201
	add_secret "$(printf '%s' "$BODY" | jq -r .client_secret)"
	printf '%s' "$BODY" | jq -r '.client.id + " " + .client_secret'
}
read -r AID ASECRET <<<"$(mkclient "Contract Desk")"
read -r BID BSECRET <<<"$(mkclient "Other Desk")"

# a service request naming a credential or hashes is refused (back to the client, audited)
http GET "/oauth2/authorize?response_type=code&client_id=$AID&redirect_uri=$CB&scope=service&credentialID=$KA&code_challenge=$(printf '%043d' 0 | tr 0 A)&code_challenge_method=S256&state=s1"
expect_status 303
header Location | grep -q 'error=invalid_request' || fail "a service request naming a credential: $HDRS"
ok "a service-scope request that names a credential is refused"

ART="$INKAN_BUILD/artefacts"
mkdir -p "$ART"
: >"$T/oauth-secrets"
jq -n --arg tmp "$T" --arg url "$URL" --arg cacert "$CACERT" --arg cb "$CB" --argjson port "$CBPORT" \
	--arg art "$ART" --arg aid "$AID" --arg asec "$ASECRET" --arg bid "$BID" --arg bsec "$BSECRET" \
	--arg pw "$(pw_of alice)" --arg cred "$KA" --arg other "$KB" --arg pin "$PIN" --arg sess "$alice" \
	--arg secrets "$T/oauth-secrets" \
	'{tmp: $tmp, url: $url, cacert: $cacert, redirect_uri: $cb, cb_port: $port, artefacts: $art,
	  a: {id: $aid, secret: $asec}, b: {id: $bid, secret: $bsec}, client_name: "Contract Desk",
	  user: "alice", password: $pw, cred: $cred, other_cred: $other, pin: $pin, session: $sess,
	  secrets: $secrets}' >"$T/oauth.json"
chmod 600 "$T/oauth.json"
SESS_BEFORE=$(db "SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'alice');")
timeout 500 "$PY" "$INKAN_SRC/tests/e2e/oauth_service.py" "$T/oauth.json" >"$T/browser.out" 2>"$T/browser.err" ||
	{ cat "$T/browser.out" >&2; tail -n 20 "$T/browser.err" >&2; fail "the service-scope flows failed"; }
sed 's/^/  browser: /' "$T/browser.out"
while read -r s; do add_secret "$s"; done <"$T/oauth-secrets"
[ "$(db "SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'alice');")" = "$SESS_BEFORE" ] ||
	fail "a service consent opened a session"
for f in oauth-service-en oauth-service-ja; do
	[ "$(head -c 8 "$ART/$f.png" | xxd -p)" = 89504e470d0a1a0a ] || fail "no screenshot $ART/$f.png"
done
ok "the service consents opened no session; screenshots of the service consent page in $ART"

# the tokens are in the store as SHA-256 only, and a grant outlives a restart of inkand
[ "$(db "SELECT count(*) FROM oauth_tokens WHERE length(hash) = 32;")" -ge 8 ] || fail "no service tokens in the store"
ACCESS=$(jq -r .access "$T/live.json")
REFRESH=$(jq -r .refresh "$T/live.json")
[ "$(db "SELECT count(*) FROM oauth_tokens WHERE hash = X'$(printf '%s' "$ACCESS" | sha256sum | cut -c1-64)';")" = 1 ] ||
	fail "the access token is not kept as its SHA-256"
stop_inkand
start_inkand
api POST /csc/v2/credentials/list '{}' "$ACCESS"
expect_status 200
expect_jq --arg k "$KA" '.credentialIDs | index($k)'
http POST /oauth2/token -u "$AID:$ASECRET" -d grant_type=refresh_token -d "refresh_token=$REFRESH"
expect_status 200
NEWREFRESH=$(printf '%s' "$BODY" | jq -r .refresh_token)
NEWACCESS=$(printf '%s' "$BODY" | jq -r .access_token)
add_secret "$NEWREFRESH"; add_secret "$NEWACCESS"
ok "a service grant survives a restart of inkand (its access token lists, its refresh token rotates)"
# RFC 7009: the client revokes its refresh token: the whole grant ends
http POST /oauth2/revoke -u "$AID:$ASECRET" -d "token=$NEWREFRESH"
expect_status 200
api POST /csc/v2/credentials/list '{}' "$NEWACCESS"
expect_status 401
http POST /oauth2/token -u "$AID:$ASECRET" -d grant_type=refresh_token -d "refresh_token=$NEWREFRESH"
expect_refused 400 invalid_grant
ok "a revoked refresh token ends its grant (access token refused, refresh refused)"

# a locked account: its service token lists nothing, and its grant ends at the next refresh
ACCESS2=$(jq -r .access2 "$T/live.json")
REFRESH2=$(jq -r .refresh2 "$T/live.json")
api POST /csc/v2/credentials/list '{}' "$ACCESS2"
expect_status 200
for _ in 1 2 3 4 5; do try_login alice "not-$(pw_of alice)" 000000; done
[ "$(db "SELECT status FROM users WHERE username = 'alice';")" != 0 ] || fail "alice is not locked"
api POST /csc/v2/credentials/list '{}' "$ACCESS2"
expect_status 401
http POST /oauth2/token -u "$AID:$ASECRET" -d grant_type=refresh_token -d "refresh_token=$REFRESH2"
expect_refused 400 invalid_grant
ok "a locked signer's service token is refused, and the next refresh ends the grant"

api GET /api/v1/audit/export "" "$aud"
expect_status 200
audit_records "$aud" >"$T/audit.json"
has() { jq -e "$1" "$T/audit.json" >/dev/null || fail "no audit record of $2"; }
has 'map(select(.action == "oauth.service" and .result == "success" and .actor == "alice" and (.detail | contains("'"$AID"'")))) | length >= 4' "the service consents"
has 'map(select(.action == "oauth.service" and .result != "success" and .actor == "alice")) | length >= 1' "the wrong OTP on the service page"
has 'map(select(.action == "sam.oauth.service" and .result == "success" and (.detail | contains("OAuth client '"$AID"'")))) | length >= 4' "the SAM's own records of the service grants"
has 'map(select(.action == "oauth.consent" and .result == "success" and (.detail | contains("service scope")))) | length >= 4' "the consents with their codes"
has 'map(select(.action == "oauth.token" and .result == "success" and (.detail | contains("refresh_token")))) | length >= 3' "the rotations"
has 'map(select(.action == "oauth.token" and (.result | test("reused")))) | length == 1' "the reused refresh token"
has 'map(select(.action == "oauth.token" and (.result | test("another client")))) | length == 1' "the refresh token of another client"
has 'map(select(.action == "oauth.token" and (.result | test("replayed")))) | length == 1' "the replayed service code"
has 'map(select(.action == "oauth.revoke" and .result == "success" and .subject == "'"$AID"'")) | length == 2' "the revocations"
has 'map(select(.action == "oauth.token" and (.result | test("no longer active")))) | length == 1' "the grant of a locked account"
has 'map(select(.action == "oauth.authorize" and (.result | test("service scope names no credential")))) | length == 1' "the service request naming a credential"
ok "the audit trail holds the service consents (inkand's and the SAM's), rotations, each refusal and the revocations"

check_no_secrets_in_dbs
finish
