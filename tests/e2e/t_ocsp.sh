#!/usr/bin/env bash
# t_ocsp: the built-in CA's OCSP responder (issue 16) as openssl ocsp sees it. A signer's
# certificate carries the AIA OCSP URL and the CRL DP; `openssl ocsp` gets good for it, with the
# response's signature verified against the root alone and the nonce echoed; after `inkan key
# revoke --reason keyCompromise` revoked with that reason at once (the pre-produced response is
# not served any more); a serial the CA never issued is unknown, garbage is malformedRequest;
# the GET form (RFC 6960 appendix A) works with a base64 that holds '/' sent as %2F and as is;
# a GET without a nonce may be cached (RFC 5019: max-age = ocsp_cache_max_age, never past
# nextUpdate), one with a nonce may not; the TSA certificate is published on its own at /ca/tsa
# and not in the chain.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf ocsp_client_rate 1000
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Ledger-3381
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"

api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
kid=$(printf '%s' "$BODY" | jq -r .id)
printf '%s' "$BODY" | jq -r .certificate >"$T/alice.b64"
api GET "/api/v1/keys/$kid" "" "$alice"
expect_status 200
printf '%s' "$BODY" | jq -r '.certificate // .cert' | base64 -d >"$T/alice.der" 2>/dev/null ||
	fail "no certificate in the key's view"
openssl x509 -inform DER -in "$T/alice.der" -out "$T/alice.pem" || fail "the certificate does not parse"
# the issuing CA is the first certificate of chain.pem
openssl x509 -in "$DATA/ca/chain.pem" -out "$T/issuing.pem"

# The certificate names its OCSP responder and CRL (base: public_url).
text=$(openssl x509 -in "$T/alice.pem" -noout -text)
printf '%s' "$text" | grep -q 'OCSP - URI:https://127.0.0.1:8443/ocsp' ||
	fail "no AIA OCSP URL in the signer's certificate: $text"
printf '%s' "$text" | grep -q 'URI:https://127.0.0.1:8443/ca/crl' || fail "no CRL DP in the signer's certificate"
ok "the signer's certificate carries the AIA OCSP URL and the CRL DP"

# ocsp ARGS...: openssl ocsp against our responder over HTTPS (its TLS trust: our TLS cert).
ocsp() {
	OCSP_RC=0
	openssl ocsp -issuer "$T/issuing.pem" -url "$URL/ocsp" -CAfile "$ROOT" "$@" \
		>"$T/ocsp.out" 2>&1 || OCSP_RC=$?
	OCSP_OUT=$(cat "$T/ocsp.out")
	printf 'openssl ocsp %s -> %s\n%s\n' "$*" "$OCSP_RC" "$OCSP_OUT" >>"$TRANSCRIPT"
}


# good, the signature verified with the root alone (the issuing CA comes in the response), the
# nonce openssl sent echoed (openssl warns "no nonce in response" otherwise and fails on a
# different one), a nextUpdate after the thisUpdate.
ocsp -cert "$T/alice.pem" -resp_text
[ "$OCSP_RC" = 0 ] || fail "openssl ocsp failed: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'Response verify OK' || fail "the response does not verify: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q "alice.pem: good" || fail "not good: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -qi 'nonce' || fail "no nonce in the response: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -qi 'WARNING' && fail "openssl warns: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'Next Update:' || fail "no nextUpdate: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'OCSP Signing' || fail "the responder's certificate is not id-kp-OCSPSigning"
printf '%s' "$OCSP_OUT" | grep -q 'OCSP No Check' || fail "the responder's certificate has no nocheck"
ok "good for an active certificate; the signature verifies with the root alone; the nonce is echoed"

# Without a nonce: the pre-produced response, the same bytes twice.
ocsp -cert "$T/alice.pem" -no_nonce -respout "$T/pre1.der"
printf '%s' "$OCSP_OUT" | grep -q "alice.pem: good" || fail "not good without a nonce: $OCSP_OUT"
ocsp -cert "$T/alice.pem" -no_nonce -respout "$T/pre2.der"
cmp -s "$T/pre1.der" "$T/pre2.der" || fail "two requests without a nonce got different responses (no pre-produced one)"
ok "requests without a nonce get the pre-produced response"

# The GET form: a request whose base64 holds '/', sent with %2F and with the '/' as is.
found=""
for i in $(seq 1 200); do
	openssl ocsp -issuer "$T/issuing.pem" -cert "$T/alice.pem" -reqout "$T/get.req" >/dev/null 2>&1
	b64=$(base64 -w0 "$T/get.req")
	case "$b64" in */*) found=1; break ;; esac
done
[ -n "$found" ] || fail "no request with a '/' in its base64 in 200 tries"
enc=$(printf '%s' "$b64" | sed -e 's/%/%25/g' -e 's|/|%2F|g' -e 's/+/%2B/g' -e 's/=/%3D/g')
for form in "$enc" "$b64"; do
	http GET "/ocsp/$form"
	expect_status 200
	cp "$T/body" "$T/get.resp"
	header Content-Type | grep -qi '^application/ocsp-response' || fail "GET: wrong content type"
	# -reqin alone: the nonce of that request is checked (with -cert openssl would make another)
	openssl ocsp -respin "$T/get.resp" -reqin "$T/get.req" -CAfile "$ROOT" -resp_text \
		>"$T/ocsp.out" 2>&1 || fail "GET /ocsp/$form: $(cat "$T/ocsp.out")"
	grep -q 'Cert Status: good' "$T/ocsp.out" && grep -q 'Response verify OK' "$T/ocsp.out" &&
		grep -q 'OCSP Nonce' "$T/ocsp.out" &&
		! grep -q WARNING "$T/ocsp.out" || fail "GET /ocsp/$form: $(cat "$T/ocsp.out")"
done
ok "GET /ocsp/{base64} works with a '/' in the base64, as %2F and as is"

# RFC 5019 6.2: a GET without a nonce may be cached until nextUpdate; one with a nonce may not.
openssl ocsp -issuer "$T/issuing.pem" -cert "$T/alice.pem" -no_nonce -reqout "$T/nn.req" >/dev/null 2>&1
enc=$(base64 -w0 "$T/nn.req" | sed -e 's/%/%25/g' -e 's|/|%2F|g' -e 's/+/%2B/g' -e 's/=/%3D/g')
http GET "/ocsp/$enc"
expect_status 200
cc=$(header Cache-Control)
age=$(printf '%s' "$cc" | sed -n 's/.*max-age=\([0-9][0-9]*\).*/\1/p')
printf '%s' "$cc" | grep -q 'public' && printf '%s' "$cc" | grep -q 'must-revalidate' &&
	[ -n "$age" ] || fail "a nonce-less GET has no RFC 5019 Cache-Control: '$cc'"
next=$(openssl ocsp -respin "$T/body" -resp_text -noverify 2>/dev/null | sed -n 's/^ *Next Update: //p' | head -n1)
[ -n "$next" ] || fail "the cached response has no nextUpdate"
left=$(( $(date -d "$next" +%s) - $(date +%s) ))
[ "$age" = 60 ] && [ "$left" -gt 60 ] || fail "max-age $age is not ocsp_cache_max_age (60 s, nextUpdate in $left s)"
exp=$(header Expires)
[ "$(date -d "$exp" +%s)" = "$(date -d "$next" +%s)" ] || fail "Expires '$exp' is not nextUpdate '$next'"
[ -n "$(header Last-Modified)" ] || fail "no Last-Modified on a cacheable response"
http GET "/ocsp/$form"
expect_status 200
[ "$(header Cache-Control)" = "no-cache" ] || fail "a GET with a nonce may be cached: $(header Cache-Control)"
ok "a GET without a nonce may be cached until nextUpdate (RFC 5019), one with a nonce may not"

# A serial the CA never issued: unknown (signed). Another issuer: unknown too.
ocsp -serial 0x1234567890ABCDEF
printf '%s' "$OCSP_OUT" | grep -q ': unknown' || fail "an unissued serial is not unknown: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'Response verify OK' || fail "the unknown answer does not verify: $OCSP_OUT"
OCSP_RC=0
openssl ocsp -issuer "$ROOT" -cert "$T/alice.pem" -url "$URL/ocsp" -CAfile "$ROOT" >"$T/ocsp.out" 2>&1 || true
grep -q ': unknown' "$T/ocsp.out" || fail "a CertID of another issuer is not unknown: $(cat "$T/ocsp.out")"
ok "unknown for a serial never issued and for another issuer's CertID"

# responder_error FILE: what openssl ocsp makes of an unsuccessful response (it exits 1 then).
responder_error() { openssl ocsp -respin "$1" -resp_text -noverify 2>&1 || true; }

# Garbage: the OCSP answer malformedRequest (HTTP 200), POST and GET; wrong type: 415.
head -c 300 /dev/urandom >"$T/garbage"
http POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary @"$T/garbage"
expect_status 200
cp "$T/body" "$T/bad.resp"
responder_error "$T/bad.resp" | grep -qi 'malformedrequest' ||
	fail "garbage did not get malformedRequest: $(responder_error "$T/bad.resp")"
http GET /ocsp/not-base64%2F%2F
expect_status 200
cp "$T/body" "$T/bad.resp"
responder_error "$T/bad.resp" | grep -qi 'malformedrequest' ||
	fail "a GET of no base64 did not get malformedRequest"
head -c 5000 /dev/urandom >"$T/big"
http POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary @"$T/big"
expect_status 413
http POST /ocsp -H 'Content-Type: application/json' --data-binary '{}'
expect_status 415
ok "garbage gets malformedRequest; too large 413; another content type 415"

# Revocation shows at once, with its reason, also to a request without a nonce (the
# pre-produced good answer is not served any more).
tokfile alice "$alice"
icli alice key revoke "$kid" --reason keyCompromise
[ "$RC" = 0 ] || fail "inkan key revoke failed: $ERR"
ocsp -cert "$T/alice.pem" -no_nonce
printf '%s' "$OCSP_OUT" | grep -q 'alice.pem: revoked' || fail "not revoked without a nonce: $OCSP_OUT"
ocsp -cert "$T/alice.pem"
printf '%s' "$OCSP_OUT" | grep -q 'alice.pem: revoked' || fail "not revoked: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'Reason: keyCompromise' || fail "no reason: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'Revocation Time:' || fail "no revocation time: $OCSP_OUT"
printf '%s' "$OCSP_OUT" | grep -q 'Response verify OK' || fail "the revoked answer does not verify: $OCSP_OUT"
ok "revoked with reason and time at once after inkan key revoke (with and without a nonce)"

# The TSA certificate on its own (PEM), not in the chain relying parties trust.
http GET /ca/tsa
expect_status 200
printf '%s\n' "$BODY" >"$T/tsa.pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/tsa.pem")" = 1 ] || fail "/ca/tsa is not one PEM certificate"
openssl x509 -in "$T/tsa.pem" -noout -ext extendedKeyUsage | grep -q 'Time Stamping' || fail "/ca/tsa is not the TSA"
openssl verify -CAfile "$ROOT" -untrusted "$T/issuing.pem" -purpose timestampsign "$T/tsa.pem" >/dev/null ||
	fail "/ca/tsa does not chain to the root"
tsab64=$(grep -v -- '-----' "$T/tsa.pem" | tr -d '\n')
http GET /ca/cert
expect_status 200
[ "$(printf '%s\n' "$BODY" | grep -c 'BEGIN CERTIFICATE')" = 2 ] || fail "the CA chain is not issuing CA and root"
printf '%s' "$BODY" | grep -v -- '-----' | tr -d '\n' | grep -qF "$tsab64" && fail "the TSA certificate is in the CA chain"
grep -v -- '-----' "$DATA/ca/chain.pem" | tr -d '\n' | grep -qF "$tsab64" && fail "the TSA certificate is in chain.pem"
ok "GET /ca/tsa: the TSA certificate alone, PEM"

# Refusals are in the audit log (counted per source past the first few).
aud=$(mkactive "$so" aud1 system_auditor)
audit_records "$aud" >"$T/audit.json"
jq -e '[.[] | select(.action == "ocsp.request" or (.detail // "" | test("ocsp.request")))] | length > 0' \
	"$T/audit.json" >/dev/null || fail "no audit record of the refused OCSP requests"
ok "refused OCSP requests are audited"

# A request with a nonce past the responder's rate: tryLater.
stop_inkand
conf ocsp_client_rate 1
conf ocsp_cache_max_age 604800
start_inkand

# A longer ocsp_cache_max_age never lets a cache keep an answer past its nextUpdate.
http GET "/ocsp/$enc"
expect_status 200
age=$(header Cache-Control | sed -n 's/.*max-age=\([0-9][0-9]*\).*/\1/p')
next=$(openssl ocsp -respin "$T/body" -resp_text -noverify 2>/dev/null | sed -n 's/^ *Next Update: //p' | head -n1)
left=$(( $(date -d "$next" +%s) - $(date +%s) ))
[ -n "$age" ] && [ "$age" -le $((left + 1)) ] && [ "$age" -ge $((left - 5)) ] ||
	fail "max-age '$age' is not the time to nextUpdate ($left s) under a longer ocsp_cache_max_age"
ok "max-age stops at nextUpdate"
later=0
for i in 1 2 3 4 5; do
	openssl ocsp -issuer "$T/issuing.pem" -serial 0x01 -url "$URL/ocsp" -CAfile "$ROOT" >"$T/ocsp.out" 2>&1 || true
	grep -qi 'trylater' "$T/ocsp.out" && later=$((later + 1))
done
[ "$later" -ge 1 ] || fail "five requests with a nonce at once, none was told tryLater"
ok "requests past ocsp_client_rate get tryLater"

finish
