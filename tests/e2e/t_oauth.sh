#!/usr/bin/env bash
# t_oauth: the CSC v2 OAuth 2.0 authorization code flow with the signer's own page, driven in
# headless Chromium (oauth_browser.py): client registration by a security officer, the one
# consent form (user name, password, PIN, one OTP; Japanese and English screenshots), the
# code, the token as bearer and SAD, signatures checked by openssl, and every refusal the
# SCAL2 rules ask for, each audited.
. "$(dirname "$0")/lib.sh"

need_chromium

init_data
fast_argon2
CODE_TTL=5
conf oauth_code_ttl "$CODE_TTL"
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
pubkey "$alice" "$KA"

# ---- info advertises the authorization server ----
api GET /csc/v2/info
expect_status 200
expect_jq --arg u "$URL" '.oauth2 == $u and (.authType | index("oauth2code")) and (.authType | index("basic"))
	and (.methods | index("oauth2/authorize")) and (.methods | index("oauth2/token"))'
api POST /csc/v2/credentials/info "{\"credentialID\": \"$KA\"}" "$alice"
expect_jq '.auth.mode == "explicit"'
ok "info advertises oauth2 ($URL) and authType oauth2code; authMode explicit while allow_explicit_authorize"

# ---- clients: a security officer's decision, audited; secrets shown once, stored hashed ----
CBPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CB="http://127.0.0.1:$CBPORT/cb"
CB2="http://127.0.0.1:$CBPORT/cb2"
creq=$(jq -nc --arg a "$CB" --arg b "$CB2" '{name: "Contract Desk", redirect_uris: [$a, $b]}')
api POST /api/v1/oauth/clients "$creq" "$ro"
expect_refused 403 access_denied
api POST /api/v1/oauth/clients '{"name": "x", "redirect_uris": ["http://evil.example/cb"]}' "$so"
expect_refused 400 invalid_request
api POST /api/v1/oauth/clients '{"name": "x", "redirect_uris": ["https://a.example/cb#frag"]}' "$so"
expect_refused 400 invalid_request
api POST /api/v1/oauth/clients "$creq" "$so"
expect_status 201
expect_jq '(.client.id | test("^[0-9a-f]{32}$")) and .client.public == false and (.client_secret | length == 43)'
CID=$(printf '%s' "$BODY" | jq -r .client.id)
CSECRET=$(printf '%s' "$BODY" | jq -r .client_secret)
add_secret "$CSECRET"
api GET /api/v1/oauth/clients "" "$so"
expect_status 200
# no secret and no field of one (token_endpoint_auth_method names the method only)
expect_jq --arg id "$CID" --arg s "$CSECRET" '(.clients | map(.id) | index($id)) and (tostring | contains($s) | not)
	and ([.. | objects | keys[]] | any(test("secret")) | not)'
expect_jq --arg id "$CID" '.clients[] | select(.id == $id) | .token_endpoint_auth_method == "client_secret_basic"'
db "SELECT hex(secret_hash) FROM oauth_clients WHERE id = '$CID';" | grep -qE '^[0-9A-F]{64}$' ||
	fail "the client's secret is not stored as a SHA-256"
[ "$(db "SELECT hex(secret_hash) FROM oauth_clients WHERE id = '$CID';")" = \
  "$(printf '%s' "$CSECRET" | sha256sum | cut -c1-64 | tr a-f A-F)" ] || fail "stored hash is not SHA-256(secret)"
ok "a security officer registers a client (a registration officer may not; http to a non-loopback host and fragments refused); the secret is shown once and stored as its SHA-256"

# the CLI: a public client (no secret), listed, removed; a removed client is unknown at once
tokfile so "$so"
icli so client add "Desk CLI" --redirect-uri "http://127.0.0.1:$CBPORT/cli" --public
[ "$RC" = 0 ] || fail "inkan client add: rc $RC: $ERR"
PUBID=$(printf '%s\n' "$OUT" | awk 'NR == 1 {print $1}')
printf '%s' "$OUT" | grep -q 'public' && ! printf '%s' "$OUT" | grep -qi 'secret' ||
	fail "inkan client add --public: $OUT"
icli so client list
[ "$RC" = 0 ] && printf '%s' "$OUT" | grep -q "$PUBID" && printf '%s' "$OUT" | grep -q "$CID" ||
	fail "inkan client list: rc $RC: $OUT $ERR"
icli so client remove "$PUBID"
[ "$RC" = 0 ] || fail "inkan client remove: rc $RC: $ERR"
icli so client list
printf '%s' "$OUT" | grep -q "$PUBID" && fail "a removed client is still listed"
http GET "/oauth2/authorize?client_id=$PUBID&redirect_uri=http://127.0.0.1:$CBPORT/cli"
expect_status 400
ok "inkan client add (public: no secret), list and remove; a removed client gets the error page"

# ---- the page's headers, and pages instead of redirects to unknown places ----
http GET "/oauth2/authorize?client_id=0123456789abcdef0123456789abcdef&redirect_uri=$CB"
expect_status 400
header Content-Type | grep -q '^text/html' || fail "the error page is not HTML"
csp=$(header Content-Security-Policy)
for want in "default-src 'none'" "frame-ancestors 'none'" "form-action 'self'" "style-src 'nonce-"; do
	case "$csp" in *"$want"*) ;; *) fail "CSP lacks $want: $csp" ;; esac
done
[ "$(header X-Frame-Options)" = DENY ] && [ "$(header Referrer-Policy)" = no-referrer ] &&
	[ "$(header Cache-Control)" = no-store ] && [ -z "$(header Location)" ] ||
	fail "the page's headers are not as required: $HDRS"
grep -qiE '<script|<link|<img|https?://' "$T/body" && fail "the page loads or names something: $(head -c 300 "$T/body")"
ok "an unknown client gets an HTML error page (no redirect) with CSP default-src 'none', frame-ancestors 'none', X-Frame-Options DENY, no-referrer, no-store"

# ---- the token endpoint's client authentication ----
http POST /oauth2/token -u "$CID:wrong-secret-wrong-secret-wrong-secret-0000" \
	-d grant_type=authorization_code -d code=x -d code_verifier=x -d "redirect_uri=$CB"
expect_refused 401 invalid_client
http POST /oauth2/token -d "client_id=$CID" -d grant_type=authorization_code -d code=x
expect_refused 401 invalid_client
http POST /oauth2/token -H 'Content-Type: application/json' --data '{}'
expect_refused 415 invalid_request
ok "the token endpoint refuses a wrong or missing client secret (invalid_client) and non-form bodies"

# ---- inkan sign --browser: the CLI as a public client on a loopback port of the moment ----
icli so client add "inkan CLI" --redirect-uri http://127.0.0.1/callback --public
[ "$RC" = 0 ] || fail "inkan client add (CLI client): rc $RC: $ERR"
CLIID=$(printf '%s\n' "$OUT" | awk 'NR == 1 {print $1}')
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\ntrailer << /Root 1 0 R /Size 4 >>\n%%%%EOF\n' >"$T/contract.src.pdf"
qpdf --warning-exit-0 "$T/contract.src.pdf" "$T/contract.pdf" 2>/dev/null || fail "qpdf cannot write contract.pdf"
tokfile alice "$alice"

# ---- the browser ----
ART="$INKAN_BUILD/artefacts"
mkdir -p "$ART"
jq -n --arg tmp "$T" --arg url "$URL" --arg cacert "$CACERT" --arg cb "$CB" --arg cb2 "$CB2" \
	--argjson port "$CBPORT" --arg art "$ART" --arg id "$CID" --arg secret "$CSECRET" \
	--arg user alice --arg pw "$(pw_of alice)" --arg cred "$KA" --arg other "$KB" --arg pin "$PIN" \
	--argjson ttl "$CODE_TTL" --arg inkan "$INKAN_CLI" --arg tokf "$T/alice.tok" --arg pdf "$T/contract.pdf" \
	--arg cliid "$CLIID" \
	'{tmp: $tmp, url: $url, cacert: $cacert, redirect_uri: $cb, redirect_uri2: $cb2, cb_port: $port,
	  artefacts: $art, client_id: $id, client_secret: $secret, client_name: "Contract Desk",
	  user: $user, password: $pw, cred: $cred, other_cred: $other, pin: $pin, code_ttl: $ttl,
	  signer_cn: "Test alice", description: "Sales contract 2026-12 (2 pages)",
	  cli: {inkan: $inkan, token_file: $tokf, pdf: $pdf, client_id: $cliid}}' >"$T/oauth.json"
chmod 600 "$T/oauth.json"
sessions_of_alice() { db "SELECT count(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'alice');"; }
SESS_BEFORE=$(sessions_of_alice)
timeout 500 "$PY" "$INKAN_SRC/tests/e2e/oauth_browser.py" "$T/oauth.json" >"$T/browser.out" 2>"$T/browser.err" ||
	{ cat "$T/browser.out" >&2; tail -n 20 "$T/browser.err" >&2; fail "the browser flows failed"; }
sed 's/^/  browser: /' "$T/browser.out"

for i in 1 2; do
	openssl pkeyutl -verify -pubin -inkey "$T/$KA.pub.pem" -in "$T/oauth-h$i.bin" \
		-sigfile "$T/oauth-sig$i.der" -pkeyopt digest:sha256 >/dev/null 2>&1 ||
		fail "the signature $i made with the OAuth token does not verify with openssl"
done
ok "both signatures made with the OAuth token verify with openssl against the credential's certificate"
[ -s "$T/contract-signed.pdf" ] || fail "inkan sign --browser wrote no signed PDF"
pdfsig "$T/contract-signed.pdf" >"$T/pdfsig.out" 2>&1 || true
grep -q 'Signature Validation: Signature is Valid' "$T/pdfsig.out" ||
	fail "pdfsig: the PDF signed through the browser is not valid: $(cat "$T/pdfsig.out")"
qpdf --check "$T/contract-signed.pdf" >/dev/null 2>&1 || fail "qpdf --check of the PDF signed through the browser"
ok "the PDF signed by inkan sign --browser (PIN and OTP typed in the browser only) is valid for pdfsig and qpdf"
[ "$(sessions_of_alice)" = "$SESS_BEFORE" ] ||
	fail "the consents opened sessions for alice ($SESS_BEFORE before, $(sessions_of_alice) after)"
ok "the one-step consents opened no session in inkand's store"
for f in oauth-consent-en oauth-consent-ja; do
	[ "$(head -c 8 "$ART/$f.png" | xxd -p)" = 89504e470d0a1a0a ] && [ "$(stat -c %s "$ART/$f.png")" -gt 20000 ] ||
		fail "no screenshot $ART/$f.png"
done
ok "screenshots of the consent form in Japanese and English in $ART"

# ---- the audit trail: every flow, consent and refusal ----
# the export's checkpoint copies the SAM's own records into the log
api GET /api/v1/audit/export "" "$aud"
expect_status 200
audit_records "$aud" >"$T/audit.json"
has() { # FILTER DESCRIPTION
	jq -e "$1" "$T/audit.json" >/dev/null || fail "no audit record of $2"
}
has 'map(select(.action == "oauth.client.add" and .result == "success" and .actor == "'"$SO_USER"'")) | length == 3' "the three clients' registrations"
has 'map(select(.action == "oauth.client.add" and .result != "success")) | length >= 3' "refused registrations"
has 'map(select(.action == "sam.oauth.consent" and .result == "success" and .actor == "alice" and (.detail | contains("OAuth client '"$CID"'"))
	and (.detail | contains("one-step consent")))) | length >= 5' "the SAM's own one-step consents naming the client"
has 'map(select(.action == "sam.oauth.consent" and .result != "success" and .subject == "'"$KB"'")) | length == 1' "the SAM's refusal of another signer's credential"
has 'map(select(.action == "oauth.consent" and .result == "wrong password" and .actor == "alice")) | length == 1' "the wrong password in the consent form"
h1hex=$(xxd -p -c 64 "$T/oauth-h1.bin")
has 'map(select(.action == "oauth.authorize" and .result == "success" and .actor == "alice" and .subject == "'"$KA"'"
	and (.detail | contains("client '"$CID"'")) and (.detail | contains("'"$h1hex"'")))) | length >= 1' "the authorization with client, credential and hashes"
has 'map(select(.action == "oauth.consent" and .result == "success")) | length >= 6' "the consents"
has 'map(select(.action == "oauth.par" and .result == "success")) | length == 1' "the pushed request"
has 'map(select(.action == "oauth.revoke" and .result == "success" and .subject == "'"$CID"'")) | length == 1' "the client's revocation of its token"
has 'map(select(.action == "oauth.authorize" and .result == "unknown, used or expired request_uri")) | length == 1' "the request_uri used twice"
has 'map(select(.action == "oauth.token" and .result == "success" and (.detail | contains("'"$CLIID"'")))) | length == 1' "the CLI's token"
has 'map(select(.action == "oauth.consent" and .result == "access_denied")) | length == 1' "the cancel"
has 'map(select(.action == "oauth.token" and .result == "success" and .actor == "alice")) | length == 3' "the tokens issued"
has 'map(select(.action == "oauth.token" and (.result | test("replayed")))) | length == 1' "the code replay"
has 'map(select(.action == "oauth.token" and (.result | test("PKCE")))) | length == 1' "the wrong verifier"
has 'map(select(.action == "oauth.token" and .result == "code spent by a failed attempt")) | length == 1' "the code spent by a wrong verifier"
has 'map(select(.action == "oauth.token" and (.result | test("redirect_uri")))) | length == 1' "the other redirect_uri at the token endpoint"
has 'map(select(.action == "oauth.token" and (.result | test("expired")))) | length >= 1' "the expired code"
has 'map(select(.action == "oauth.token" and .result == "wrong or missing client secret")) | length >= 1' "the wrong client secret"
has 'map(select(.action == "oauth.authorize" and (.result | test("redirect_uri is not registered")))) | length == 3' "the unregistered redirect URIs"
has 'map(select(.action == "oauth.authorize" and .result == "unknown client_id")) | length == 2' "the unknown and the removed client"
has 'map(select(.action == "oauth.client.remove" and .result == "success" and .subject == "'"$PUBID"'")) | length == 1' "the client's removal"
has 'map(select(.action == "oauth.authorize" and .result == "the credential is not the signer'"'"'s" and .actor == "alice")) | length == 1' "another signer's credential"
has 'map(select(.action == "oauth.authorize" and .result == "CSRF token missing or wrong")) | length == 1' "the missing CSRF token"
has 'map(select(.action == "csc.signHash" and .actor == "alice" and .result == (["hash not authorized"] | .[0]) or (.action == "csc.signHash" and .actor == "alice" and .result != "success"))) | length >= 2' "the token used for hashes it does not cover"
ok "the audit trail holds the registration, the SAM's own authorizations (with the client), consents, cancel, token, and each refusal"

# ---- allow_explicit_authorize = false: the client no longer sees PIN or OTP ----
stop_inkand
conf allow_explicit_authorize false
start_inkand
alice=$(login alice "$(pw_of alice)")
digests sha256 1 >"$T/h.list"
authorize alice "$alice" "$KA" "$(head -n1 "$T/h.list")"
expect_refused 403 access_denied
api POST /csc/v2/credentials/info "{\"credentialID\": \"$KA\"}" "$alice"
expect_jq '.auth.mode == "oauth2code"'
api POST /csc/v1/credentials/info "{\"credentialID\": \"$KA\"}" "$alice"
expect_jq '.authMode == "oauth2code"'
ok "with allow_explicit_authorize = false credentials/authorize is refused and authMode says oauth2code"

check_no_secrets_in_dbs
finish
