#!/usr/bin/env bash
# t_oauth_jwt: OAuth clients registered by their public key (private_key_jwt, RFC 7523 2.2)
# through `inkan client add --public-key-file`, authenticating at /oauth2/pushed_authorize,
# /oauth2/token and /oauth2/revoke with assertions signed by Python's cryptography package; and
# a hostile client's assertions — forged, expired, long-lived, replayed, alg-confused, for
# another audience (also behind a forged Host header), a secret client sending one, a keyed
# client sending a secret or nothing — each refused and audited.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
MK="$INKAN_SRC/tests/e2e/jwt_make.py"

init_data
fast_argon2
# every refusal a record of its own: at most a few kinds of them from one address in an interval
conf audit_refusal_burst 1000
conf audit_refusal_interval 1
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
tokfile so "$so"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/k256.pem" 2>/dev/null
openssl pkey -in "$T/k256.pem" -pubout -out "$T/p256.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/k256b.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/k384.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$T/krsa.pem" 2>/dev/null
openssl pkey -in "$T/krsa.pem" -pubout -out "$T/prsa.pem"
openssl genpkey -algorithm ED25519 -out "$T/ked.pem" 2>/dev/null
openssl pkey -in "$T/ked.pem" -pubout -out "$T/ped.pem"
CB="http://127.0.0.1:9/cb"

# ---- registration ----
icli so client add "Keyed Desk" --redirect-uri "$CB" --public-key-file "$T/p256.pem"
[ "$RC" = 0 ] || fail "client add --public-key-file: rc $RC: $ERR"
printf '%s' "$OUT" | grep -q 'private_key_jwt' || fail "client add does not say private_key_jwt: $OUT"
printf '%s' "$OUT" | grep -qi 'secret' && fail "a private_key_jwt client was shown a secret: $OUT"
icli so client add "RSA Desk" --redirect-uri "$CB" --public-key-file "$T/prsa.pem"
[ "$RC" = 0 ] || fail "client add with an RSA-3072 key: rc $RC: $ERR"
icli so client add "Ed Desk" --redirect-uri "$CB" --public-key-file "$T/ped.pem"
[ "$RC" != 0 ] || fail "an Ed25519 key (no JWS algorithm of ours) was registered"
icli so client add "Both" --redirect-uri "$CB" --public --public-key-file "$T/p256.pem"
[ "$RC" != 0 ] || fail "a public client with a key was registered"
icli so client add "Junk" --redirect-uri "$CB" --public-key-file "$T/k256.pem"
[ "$RC" != 0 ] || fail "a private key file was taken as a client's public key"
ok "registration by public key (PEM): EC P-256 and RSA-3072 taken; Ed25519, --public with a key and a private key file refused"

api GET /api/v1/oauth/clients "" "$so"
expect_status 200
KID=$(printf '%s' "$BODY" | jq -r '.clients[] | select(.name == "Keyed Desk") | .id')
RID=$(printf '%s' "$BODY" | jq -r '.clients[] | select(.name == "RSA Desk") | .id')
[ -n "$KID" ] && [ -n "$RID" ] || fail "the keyed clients are not listed"
printf '%s' "$BODY" | jq -e '[.clients[] | select(.name == "Keyed Desk" and .token_endpoint_auth_method == "private_key_jwt")] | length == 1' >/dev/null ||
	fail "the list does not name the client's method: $BODY"
api POST /api/v1/oauth/clients "$(jq -nc --arg u "$CB" '{name: "Secret Desk", redirect_uris: [$u]}')" "$so"
expect_status 201
SID=$(printf '%s' "$BODY" | jq -r .client.id)
SSECRET=$(printf '%s' "$BODY" | jq -r .client_secret)
add_secret "$SSECRET"

# ---- assertions ----
AUD="$URL/oauth2/token"
now() { date +%s; }
claims() { # ISS SUB AUD EXP JTI
	jq -nc --arg i "$1" --arg s "$2" --arg a "$3" --argjson e "$4" --arg j "$5" --argjson t "$(now)" \
		'{iss: $i, sub: $s, aud: $a, exp: $e, iat: $t, jti: $j}'
}
jwt() { "$PY" "$MK" "$@"; }
VERIFIER=$(openssl rand -hex 32)
CHALLENGE=$(printf '%s' "$VERIFIER" | openssl dgst -sha256 -binary | basenc --base64url | tr -d '=\n')
HASH=$(openssl rand 32 | basenc --base64url | tr -d '=\n')
# par ASSERTION [curl args...]: a pushed authorization request authenticated by it
par() {
	local a=$1
	shift
	http POST /oauth2/pushed_authorize -H 'Content-Type: application/x-www-form-urlencoded' \
		--data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
		--data-urlencode "client_assertion=$a" --data-urlencode "response_type=code" \
		--data-urlencode "redirect_uri=$CB" --data-urlencode "scope=credential" \
		--data-urlencode "credentialID=c1" --data-urlencode "hashes=$HASH" \
		--data-urlencode "numSignatures=1" --data-urlencode "code_challenge=$CHALLENGE" \
		--data-urlencode "code_challenge_method=S256" "$@"
}
refused() { # WHAT REASON-SUBSTRING
	expect_refused 401 invalid_client
	printf '%s' "$BODY" | jq -e --arg r "$2" '.error_description | contains($r)' >/dev/null ||
		fail "$1: refused, but not for '$2': $BODY"
	sleep 1.1	# the next refusal in an interval of its own (audit_refusal_interval)
}

A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 120 )) j-ok-1)" --key "$T/k256.pem")
par "$A"
expect_status 201
expect_jq '.request_uri | startswith("urn:ietf:params:oauth:request_uri:")'
par "$A"
refused "a replayed assertion" "jti replayed"
ok "a client assertion authenticates once at pushed_authorize; its replay is refused"

A=$(jwt ES256 "$(claims "$KID" "$KID" "$URL" $(( $(now) + 60 )) j-issuer)" --key "$T/k256.pem")
par "$A"
expect_status 201
A=$(jwt PS256 "$(claims "$RID" "$RID" "$AUD" $(( $(now) + 60 )) j-pss)" --key "$T/krsa.pem")
par "$A"
expect_status 201
A=$(jwt RS256 "$(claims "$RID" "$RID" "$AUD" $(( $(now) + 60 )) j-rs)" --key "$T/krsa.pem")
par "$A"
expect_status 201
ok "aud the issuer or its token endpoint; ES256, PS256 and RS256 verify"

A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) - 5 )) j-exp)" --key "$T/k256.pem")
par "$A"
refused "an expired assertion" "expired"
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 7200 )) j-long)" --key "$T/k256.pem")
par "$A"
refused "a two-hour assertion" "longer than 5 minutes"
A=$(jwt ES256 "$(claims "$KID" "$KID" "https://evil.example/oauth2/token" $(( $(now) + 60 )) j-aud)" --key "$T/k256.pem")
par "$A"
refused "an assertion for another server" "aud"
par "$A" -H "Host: evil.example"
refused "an assertion for another server behind a forged Host header" "aud"
A=$(jwt ES256 "$(claims "$KID" "$RID" "$AUD" $(( $(now) + 60 )) j-sub)" --key "$T/k256.pem")
par "$A"
refused "sub another client" "iss and sub"
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-forged)" --key "$T/k256b.pem")
par "$A"
refused "an assertion signed by another key" "does not verify"
A=$(jwt ES384 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-es384)" --key "$T/k384.pem")
par "$A"
refused "ES384 for a P-256 client" "does not fit"
A=$(jwt none "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-none)")
par "$A"
refused "alg none" "signature"
A=$(jwt HS256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-hs)" --hmac-raw-hex "$(xxd -p "$T/p256.pem" | tr -d '\n')")
par "$A"
refused "HS256 keyed by the client's public key" "not allowed"
# a padded (non-strict) base64url signature
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-pad)" --key "$T/k256.pem")
par "$A=="
refused "a padded signature" "base64url"
ok "expired, long-lived, other audience (Host forged too), other sub, forged, ES384-for-P-256, none, HS256-by-public-key and padded assertions refused"

# the assertion names a client: client_id must agree with it
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-cid)" --key "$T/k256.pem")
par "$A" --data-urlencode "client_id=$SID"
refused "client_id another client" "client_id"
# a secret client cannot prove itself by an assertion (whatever key signed it)
A=$(jwt ES256 "$(claims "$SID" "$SID" "$AUD" $(( $(now) + 60 )) j-sec)" --key "$T/k256.pem")
par "$A"
refused "a secret client sending an assertion" "not registered for private_key_jwt"
# a keyed client cannot use a secret, or nothing at all (as a public client would)
http POST /oauth2/revoke -H 'Content-Type: application/x-www-form-urlencoded' \
	-H "Authorization: Basic $(basic "$KID" "$SSECRET")" --data-urlencode "token=x"
refused "a keyed client with a secret" "private_key_jwt"
http POST /oauth2/revoke -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-urlencode "client_id=$KID" --data-urlencode "token=x"
refused "a keyed client with no authentication" "private_key_jwt"
# an assertion and a secret at once
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-two)" --key "$T/k256.pem")
par "$A" --data-urlencode "client_secret=$SSECRET"
expect_refused 400 invalid_request
ok "client_id mismatch, a secret client's assertion, a keyed client's secret or nothing, two methods at once: refused"

# ---- token and revoke ----
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-tok)" --key "$T/k256.pem")
http POST /oauth2/token -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
	--data-urlencode "client_assertion=$A" --data-urlencode "grant_type=authorization_code" \
	--data-urlencode "code=no-such-code" --data-urlencode "code_verifier=$VERIFIER" \
	--data-urlencode "redirect_uri=$CB"
# authenticated: the code, not the client, is what is wrong
expect_refused 400 invalid_grant
A=$(jwt ES256 "$(claims "$KID" "$KID" "$AUD" $(( $(now) + 60 )) j-rev)" --key "$T/k256.pem")
http POST /oauth2/revoke -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
	--data-urlencode "client_assertion=$A" --data-urlencode "token=unknown"
expect_status 200
http POST /oauth2/revoke -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-urlencode "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" \
	--data-urlencode "client_assertion=$A" --data-urlencode "token=unknown"
refused "a replayed assertion at revoke" "jti replayed"
ok "private_key_jwt at token (authenticated, bad code: invalid_grant) and revoke (200, replay refused)"

# ---- the audit trail holds every refusal, with the reason ----
# (refusals before authentication: the first few kinds from one address are records of their
# own, the rest counted in one audit.refusals record written at the latest at shutdown)
stop_inkand
db "SELECT action || ' ' || result || ' ' || detail FROM audit_log WHERE action LIKE 'oauth.%' OR action = 'audit.refusals';" >"$T/audit.txt"
for why in "jti replayed" "has expired" "longer than 5 minutes" "aud is not this server" \
	"iss and sub" "does not verify" "does not fit" "not registered for private_key_jwt" \
	"registered for private_key_jwt: it must" "alg is not allowed" "signature is not base64url" \
	"client_id is not the client assertion"; do
	grep -qF "$why" "$T/audit.txt" || fail "no audit record of the refusal '$why'"
done
grep -c '^oauth.client.add success client .* (private_key_jwt)' "$T/audit.txt" | grep -qx 2 ||
	fail "the keyed registrations are not audited as private_key_jwt"
ok "every refusal audited with its reason; registrations audited as private_key_jwt"

check_no_secrets_in_dbs
finish
