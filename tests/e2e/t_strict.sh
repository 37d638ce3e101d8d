#!/bin/bash
# t_strict: a strict protocol (issue 15, finding 4). TLS 1.3, and TLS 1.2 with ECDHE AEAD
# suites only; a path decoded exactly once (a double-encoded key id is not the key); a body is
# JSON only when declared application/json (415 otherwise, audited); trivial and short signing
# PINs refused with the rule named, audited, at key creation and PIN change (inkan-sam's own
# refusal of them is t_hostile's, test_keys' and test_policy's).
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
PIN_A=pin-Kestrel-4829; PIN_A2=pin-Osprey-5910
add_secret "$PIN_A"; add_secret "$PIN_A2"

# ---- TLS: 1.3, and 1.2 with ECDHE + AES-GCM or ChaCha20-Poly1305 only ----
# handshake ARGS...: true when openssl s_client completes a handshake (the certificate is not
# what is tested here: s_client goes on whatever it thinks of it).
handshake() {
	echo | timeout 10 openssl s_client -connect "$ADDR" "$@" >"$T/tls.out" 2>&1 || true
	grep -qE 'Cipher is [A-Z]' "$T/tls.out"
}
trap '' PIPE
handshake -tls1_3 || fail "TLS 1.3 refused: $(tail -n 5 "$T/tls.out")"
grep -q 'TLSv1.3' "$T/tls.out" || fail "no TLS 1.3 with -tls1_3"
# The built-in certificate is ECDSA P-256: its TLS 1.2 suites are ECDHE-ECDSA-*.
for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
	handshake -tls1_2 -cipher "$c" || fail "TLS 1.2 $c (AEAD) refused"
done
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384; do
	! handshake -tls1_2 -cipher "$c" || fail "TLS 1.2 $c (CBC) accepted"
done
! handshake -tls1_2 -cipher 'ALL:!AESGCM:!CHACHA20:!AESCCM:@SECLEVEL=0' || fail "a TLS 1.2 suite without AEAD accepted"
for v in -tls1_1 -tls1; do
	! handshake "$v" -cipher 'DEFAULT:@SECLEVEL=0' || fail "protocol $v accepted"
done
health_ok
ok "TLS: 1.3 and 1.2 ECDHE-ECDSA with AES-GCM / ChaCha20-Poly1305 accepted; CBC and SHA-1 MAC suites, TLS 1.1 and 1.0 refused"

# ---- a path is decoded once ----
api POST /api/v1/keys "{\"pin\": \"$PIN_A\"}" "$alice"; expect_status 201
KA=$(printf '%s' "$BODY" | jq -r .id)
[ "${#KA}" -ge 8 ] || fail "no key id: $BODY"
first=$(printf '%02X' "'${KA:0:1}")
# once: %XX for the first character is the key itself
api GET "/api/v1/keys/%$first${KA:1}" "" "$alice"; expect_status 200
expect_jq --arg k "$KA" '.id == $k'
# twice: %25XX is the literal "%XX...", which is no key
api GET "/api/v1/keys/%25$first${KA:1}" "" "$alice"
expect_status 400 404
printf '%s' "$BODY" | grep -q "$KA" && fail "a double-encoded key id reached the key: $BODY"
api POST "/api/v1/keys/%25$first${KA:1}/revoke" '{"reason": "keyCompromise"}' "$alice"
expect_status 400 404
api GET "/api/v1/keys/$KA" "" "$alice"; expect_status 200; expect_jq '.status == "active"'
# a '/' in a segment never splits it, encoded once or twice
for p in "/api/v1/keys/${KA:0:4}%2F${KA:4}" "/api/v1/keys/${KA:0:4}%252F${KA:4}" "/api/v1/keys/%2F$KA" \
	"/api/v1/users/..%2Fusers" "/api/v1/users/%2e%2e%2fusers"; do
	api GET "$p" "" "$alice"
	expect_status 400 404
done
# a static segment matches its own text only
api GET /csc/v2/%69nfo; expect_refused 404 not_found
api GET /csc%2Fv2/info; expect_refused 404 not_found
api GET /csc/v2/info; expect_status 200
# query arguments are decoded once too: names and values
api GET "/api/v1/audit?after=0&limit=%32" "" "$aud"; expect_status 200; expect_jq '.records | length == 2'
api GET "/api/v1/audit?%61fter=0&%6Cimit=3" "" "$aud"; expect_status 200; expect_jq '.records | length == 3'
api GET "/api/v1/audit?after=0&limit=%2532" "" "$aud"; expect_refused 400 invalid_request
api GET "/api/v1/audit?after=0&limit=2&limit=3" "" "$aud"; expect_refused 400 invalid_request
ok "paths decoded once: %XX of a key id is the key, %25XX is not; %2F never splits; %69nfo is no /info; query names and values decoded once"

# ---- JSON bodies only as application/json ----
nkeys() { api GET /api/v1/keys "" "$alice"; expect_status 200; printf '%s' "$BODY" | jq '.keys | length'; }
n0=$(nkeys)
body=$(jq -nc --arg p "$PIN_A" '{pin: $p}')
for ct in 'text/plain' 'application/x-www-form-urlencoded' '' 'application/jsonx' 'application/json-seq' 'text/json'; do
	http POST /api/v1/keys -H "Authorization: Bearer $alice" -H "Content-Type:${ct:+ $ct}" --data-binary "$body"
	expect_refused 415 invalid_request
	expect_jq '.error_description | test("application/json")'
done
[ "$(nkeys)" = "$n0" ] || fail "a body not declared JSON made a key"
for ct in 'application/json' 'Application/JSON; charset=utf-8' 'application/json;charset=UTF-8'; do
	http POST /api/v1/keys -H "Authorization: Bearer $alice" -H "Content-Type: $ct" --data-binary "$body"
	expect_status 201
done
# a login body as text/plain is refused before any password work
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic alice "$(pw_of alice)")" \
	-H 'Content-Type: text/plain' --data-binary "{\"otp\": \"$(otp_next alice)\"}"
expect_refused 415 invalid_request
# bodiless POSTs need no type (CSC info, revoke-less unlock, ...); a body there must be JSON too
http POST /csc/v2/info; expect_status 200
http POST /csc/v2/info -H 'Content-Type: application/json' --data-binary '{}'; expect_status 200
http POST /csc/v2/info -H 'Content-Type: text/plain' --data-binary '{}'; expect_refused 415 invalid_request
# endpoints with their own media type keep it
http POST /tsa -H 'Content-Type: application/json' --data-binary '{}'; expect_status 415
ok "a body declared text/plain, form, none or another JSON-like type -> 415 (nothing made); application/json with parameters, any case, accepted; bodiless POSTs need no type"

# ---- PIN policy ----
pin_refused() { # PIN WORD: key creation refused with 400 naming the rule (WORD in it), not the PIN
	api POST /api/v1/keys "$(jq -nc --arg p "$1" '{pin: $p}')" "$alice"
	expect_refused 400 invalid_request
	expect_jq --arg w "$2" '.error_description | test($w)'
}
n0=$(nkeys)
for p in 000000 111111 99999999 121212 123123 696969; do pin_refused "$p" "repeated"; done
for p in 123456 654321 012345 987654 890123 234567890 abcdef; do pin_refused "$p" "run"; done
for p in 112233 159753 147258 qwerty; do pin_refused "$p" "common"; done
pin_refused 73914 "at least 6"
pin_refused 7391 "at least 6"
[ "$(nkeys)" = "$n0" ] || fail "a trivial PIN made a key"
api POST /api/v1/keys '{"pin": "739146"}' "$alice"; expect_status 201
K6=$(printf '%s' "$BODY" | jq -r .id)
# PIN change: the new PIN is checked before the OTP is spent
for p in 000000 123456 654321 73914; do
	api POST "/api/v1/keys/$KA/pin" "$(jq -nc --arg o "$PIN_A" --arg n "$p" '{old_pin: $o, new_pin: $n, otp: "000000"}')" "$alice"
	expect_refused 400 invalid_request
	expect_jq '.error_description | test("PIN too (easy|short)")'
done
api POST "/api/v1/keys/$KA/pin" "$(jq -nc --arg o "$PIN_A" --arg n "$PIN_A2" --arg t "$(otp_next alice)" \
	'{old_pin: $o, new_pin: $n, otp: $t}')" "$alice"
expect_status 204
audit_records "$aud" >"$T/audit2.json"
jq -e '([.[] | select(.action == "key.create" and (.result | test("PIN too easy")))] | length >= 17)
	and ([.[] | select(.action == "key.create" and (.result | test("PIN too short")))] | length >= 2)
	and ([.[] | select(.action == "key.pin" and (.result | test("PIN too")))] | length >= 4)' \
	"$T/audit2.json" >/dev/null ||
	fail "PIN refusals not audited: $(jq -c '[.[] | select(.action == "key.create" or .action == "key.pin") | .result]' "$T/audit2.json")"
ok "trivial PINs (one digit, repeated blocks, runs up, down and wrapping, common ones) and PINs under 6 refused with 400 naming the rule, audited; a good PIN makes a key and changes one"

# ---- pin_min_len ----
stop_inkand
# Every 415 above is in the audit log (refused before authentication: the first few of an
# interval as records of their own, the rest counted in the source's audit.refusals record,
# written at the latest at shutdown).
own=$(db "SELECT count(*) FROM audit_log WHERE action = 'http.media_type' AND result LIKE '%application/json%';")
counted=$(db "SELECT detail FROM audit_log WHERE action = 'audit.refusals';" |
	jq -s '[.[].refusals[]? | select(.action == "http.media_type") | .count - .recorded] | add // 0')
[ "$own" -ge 1 ] && [ $((own + counted)) -ge 8 ] ||
	fail "the 415 refusals are not all audited: $own records, $counted counted"
ok "the 415 refusals audited: $own as http.media_type records, $counted more counted in audit.refusals"
conf pin_min_len 8
start_inkand
api POST /api/v1/keys '{"pin": "739146"}' "$alice"
expect_refused 400 invalid_request
expect_jq '.error_description | test("at least 8")'
api POST /api/v1/keys '{"pin": "73914682"}' "$alice"; expect_status 201
# a key made under the old minimum still signs (only new PINs are checked)
api GET "/api/v1/keys/$K6" "" "$alice"; expect_status 200; expect_jq '.status == "active"'
stop_inkand
conf pin_min_len 3
timeout 20 "$INKAND" --data "$DATA" --listen 127.0.0.1:0 >"$T/badconf.log" 2>&1 && fail "inkand started with pin_min_len 3"
grep -q pin_min_len "$T/badconf.log" || fail "pin_min_len 3 refused without naming it: $(cat "$T/badconf.log")"
conf pin_min_len 6
ok "pin_min_len 8: a 6-character PIN refused, an 8-character one accepted; pin_min_len 3 stops inkand"

# ---- TLS with an RSA certificate: ECDHE-RSA AEAD only, no RSA key exchange ----
mkdir -p "$T/rsa"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/rsa/key.pem" -out "$T/rsa/cert.pem" -days 2 \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail "openssl req (RSA)"
chmod 600 "$T/rsa/key.pem"
conf tls_cert "$T/rsa/cert.pem"
conf tls_key "$T/rsa/key.pem"
start_inkand
CACERT="$T/rsa/cert.pem"
handshake -tls1_3 || fail "TLS 1.3 refused (RSA certificate)"
for c in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
	handshake -tls1_2 -cipher "$c" || fail "TLS 1.2 $c refused (RSA certificate)"
done
for c in ECDHE-RSA-AES128-SHA ECDHE-RSA-AES256-SHA384 AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA \
	DHE-RSA-AES128-GCM-SHA256 DHE-RSA-CHACHA20-POLY1305; do
	! handshake -tls1_2 -cipher "$c" || fail "TLS 1.2 $c accepted (RSA certificate)"
done
trap - PIPE
health_ok
ok "TLS with an RSA certificate: ECDHE-RSA AEAD suites only (no CBC, no RSA or DHE key exchange)"

finish
