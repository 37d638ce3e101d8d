#!/usr/bin/env bash
# t_oauth_hostile: the OAuth 2.0 authorization server attacked — hostile clients, a web attacker
# with a foothold next to the signer's page, and the binding of what the page shows to what the
# SAD signs (oauth_hostile.py plays them over HTTP, no browser).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3


init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Harbour-4482
add_secret "$PIN"
KR=$(mkkey "$alice" RSA-3072)

CBPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
client() { # NAME URI: prints {id, secret, cb}
	api POST /api/v1/oauth/clients "$(jq -nc --arg n "$1" --arg u "$2" '{name: $n, redirect_uris: [$u]}')" "$so"
	expect_status 201
	add_secret "$(printf '%s' "$BODY" | jq -r .client_secret)"
	printf '%s' "$BODY" | jq -c --arg u "$2" '{id: .client.id, secret: .client_secret, cb: $u}'
}
CA_JSON=$(client "Contract Desk" "http://127.0.0.1:$CBPORT/a")
CB_JSON=$(client "Other Desk" "http://127.0.0.1:$CBPORT/b")
api POST /api/v1/oauth/clients "$(jq -nc --arg u "http://127.0.0.1:$CBPORT/p" '{name: "Signer app", redirect_uris: [$u], public: true}')" "$so"
expect_status 201
CP_JSON=$(printf '%s' "$BODY" | jq -c --arg u "http://127.0.0.1:$CBPORT/p" '{id: .client.id, secret: "", cb: $u}')
# a private_key_jwt client (issue 17): registered by its public key, no secret
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ck.pem" 2>/dev/null
api POST /api/v1/oauth/clients "$(jq -nc --arg u "http://127.0.0.1:$CBPORT/k" --rawfile k <(openssl pkey -in "$T/ck.pem" -pubout) \
	'{name: "Keyed Desk", redirect_uris: [$u], public_key: $k}')" "$so"
expect_status 201
CK_JSON=$(printf '%s' "$BODY" | jq -c --arg u "http://127.0.0.1:$CBPORT/k" --arg key "$T/ck.pem" '{id: .client.id, secret: "", cb: $u, key: $key}')
CX_JSON=$(client "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>" "http://127.0.0.1:$CBPORT/x")

jq -n --arg tmp "$T" --arg url "$URL" --arg cacert "$CACERT" --argjson a "$CA_JSON" --argjson b "$CB_JSON" --argjson x "$CX_JSON" --argjson p "$CP_JSON" --argjson k "$CK_JSON" \
	--arg user alice --arg pw "$(pw_of alice)" --arg cred "$KR" --arg pin "$PIN" --arg db "$DATA/inkand/inkan.db" \
	'{tmp: $tmp, url: $url, cacert: $cacert, client_a: $a, client_b: $b, client_x: $x, client_pub: $p, client_key: $k, user: $user, password: $pw,
	  cred: $cred, pin: $pin, db: $db}' >"$T/hostile.json"
chmod 600 "$T/hostile.json"
timeout 570 "$PY" "$INKAN_SRC/tests/e2e/oauth_hostile.py" "$T/hostile.json" ${OAUTH_HOSTILE_ONLY:-} >"$T/hostile.out" 2>"$T/hostile.err" ||
	{ cat "$T/hostile.out" >&2; tail -n 20 "$T/hostile.err" >&2; fail "an attack on the OAuth flow got through"; }
sed 's/^/  hostile: /' "$T/hostile.out" >&2

# every code, code_verifier, access token and page cookie the attacks saw: in no log or database
cat "$T/oauth.secrets" >>"$SECRETS"
check_no_secrets_in_dbs
finish
