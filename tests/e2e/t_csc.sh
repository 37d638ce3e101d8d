#!/usr/bin/env bash
# t_csc: the CSC signing path through the real daemon — credentials/list and info, authorize
# with PIN + OTP, signHash for every supported algorithm checked with `openssl pkeyutl
# -verify`, and every SAD rule of EN 419 241 SCAL2 tried and refused with an audit record.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf pin_max_failures 3
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
carol=$(mkactive "$ro" carol signer)
dave=$(mkactive "$ro" dave signer)
PIN=pin-Lantern-7731
add_secret "$PIN"

# sign TOKEN CRED SAD SIGNALGO HASHALGO [PARAMS] HASH... : signHash (v2)
sign() {
	local tok=$1 cred=$2 sad=$3 algo=$4 halg=$5 params=$6
	shift 6
	local hashes
	hashes=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$cred" --arg s "$sad" --argjson h "$hashes" \
		--arg a "$algo" --arg ha "$halg" --arg pp "$params" \
		'{credentialID: $c, SAD: $s, hashes: $h, signAlgo: $a} + (if $ha != "" then {hashAlgorithmOID: $ha} else {} end)
		 + (if $pp != "" then {signAlgoParams: $pp} else {} end)')" "$tok"
}

# verify CRED DIGESTALG MODE INDEX: checks signature $T/sig.INDEX over $T/dg.DIGESTALG.INDEX.bin
verify() {
	local cred=$1 alg=$2 mode=$3 i=$4
	local opts=(-pkeyopt "digest:$alg")
	case "$mode" in
	pss) opts+=(-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:digest) ;;
	pssmax) opts+=(-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:max) ;;
	esac
	openssl pkeyutl -verify -pubin -inkey "$T/$cred.pub.pem" -in "$T/dg.$alg.$i.bin" \
		-sigfile "$T/sig.$i" "${opts[@]}" >/dev/null 2>&1 ||
		fail "signature $i ($alg, $mode) does not verify with openssl pkeyutl"
}

# check_sigs CRED DIGESTALG MODE: every signature of the last signHash answer verifies.
check_sigs() {
	local n i
	expect_status 200
	n=$(printf '%s' "$BODY" | jq '.signatures | length')
	[ "$n" -ge 1 ] || fail "no signatures in $BODY"
	for i in $(seq 1 "$n"); do
		printf '%s' "$BODY" | jq -r ".signatures[$((i - 1))]" | base64 -d >"$T/sig.$i"
		verify "$1" "$2" "$3" "$i"
	done
}

# --- credentials/list and credentials/info ---
K256=$(mkkey "$alice" P-256)
K384=$(mkkey "$alice" P-384)
K521=$(mkkey "$alice" P-521)
KR3=$(mkkey "$alice" RSA-3072)
KR2=$(mkkey "$alice" RSA-2048)
KED=$(mkkey "$alice" Ed25519)
KB=$(mkkey "$bob" P-256)
api POST /csc/v2/credentials/list '{"credentialInfo": true}' "$alice"
expect_status 200
expect_jq "(.credentialIDs | length) == 6 and (.credentialIDs | index(\"$KB\")) == null and (.credentialInfos | length) == 6"
api POST /csc/v2/credentials/list "{\"userID\": \"bob\"}" "$alice"
expect_refused 400 invalid_request
api POST /csc/v2/credentials/list '{}' "$so"
expect_refused 403 access_denied
api POST /csc/v2/credentials/info "{\"credentialID\": \"$KR3\", \"certificates\": \"chain\", \"certInfo\": true, \"authInfo\": true}" "$alice"
expect_status 200
expect_jq '.key.status == "enabled" and .key.len == 3072 and (.key.algo | index("1.2.840.113549.1.1.11") and index("1.2.840.113549.1.1.10") and index("1.2.840.113549.1.1.1"))
	and .cert.status == "valid" and (.cert.certificates | length) == 3 and (.cert.validFrom | test("^[0-9]{14}Z$"))
	and (.cert.subjectDN | contains("CN=Test alice")) and (.cert.issuerDN | length > 0) and (.cert.serialNumber | length > 0)
	and .auth.mode == "explicit" and .auth.expression == "PIN AND OTP" and (.auth.objects | length) == 2
	and .SCAL == "2" and (.multisign | type == "number")'
header Content-Type | grep -qi '^application/json' || fail "credentials/info is not application/json"
api POST /csc/v2/credentials/info "{\"credentialID\": \"$K256\"}" "$alice"
expect_jq '.key.curve == "1.2.840.10045.3.1.7" and (.key.algo | index("1.2.840.10045.4.3.2"))'
api POST /csc/v1/credentials/info "{\"credentialID\": \"$K256\"}" "$alice"
expect_jq '.authMode == "explicit" and .PIN.presence == "true" and .OTP.presence == "true" and .SCAL == "2"'
api POST /csc/v2/credentials/info "{\"credentialID\": \"$KB\"}" "$alice"
expect_refused 400 invalid_request
ok "credentials/list and credentials/info show only the signer's own credentials, every field"

# --- authorize 3 hashes, sign, verify: every supported algorithm ---
for spec in "$K256 sha256 ecdsa 1.2.840.10045.4.3.2" "$K384 sha384 ecdsa 1.2.840.10045.4.3.3" \
            "$K521 sha512 ecdsa 1.2.840.10045.4.3.4" "$KR2 sha256 pkcs1 1.2.840.113549.1.1.11"; do
	set -- $spec
	pubkey "$alice" "$1"
	mapfile -t H < <(digests "$2" 3)
	authorize alice "$alice" "$1" "${H[@]}"
	expect_status 200
	expect_jq '(.SAD | length) > 20 and (.expiresIn | type == "number")'
	sign "$alice" "$1" "$SAD" "$4" "" "" "${H[@]}"
	check_sigs "$1" "$2" "$3"
	ok "$3 $2: 3 hashes authorized, signed, verified by openssl"
done
# RSA-3072: one SAD for 12 hashes, spent by four signature algorithms.
pubkey "$alice" "$KR3"
mapfile -t H256 < <(digests sha256 7)
mapfile -t H512 < <(digests sha512 3)
mapfile -t H384 < <(digests sha384 3)
authorize alice "$alice" "$KR3" "${H256[@]}" "${H512[@]}" "${H384[@]}"
expect_status 200
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.11 "" "" "${H256[@]:0:3}"
check_sigs "$KR3" sha256 pkcs1
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.13 "" "" "${H512[@]}"
check_sigs "$KR3" sha512 pkcs1
PSS256=$(printf '3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120' | xxd -r -p | base64 -w0)
# check_sigs reads digests 1..3: the PSS ones are the 4th to 6th SHA-256 digests.
for i in 1 2 3; do cp "$T/dg.sha256.$((i + 3)).bin" "$T/dg.sha256.$i.bin"; done
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.10 "" "$PSS256" "${H256[@]:3:3}"
check_sigs "$KR3" sha256 pss
# RSASSA-PSS with the maximum salt for the key (RSA-3072, SHA-256: 384 - 32 - 2 = 350), as
# common CSC clients ask; any other salt is refused, before (no key could allow 20) or by the
# SAM (351 is no RSA-3072's maximum), and the SAD is not spent by a refusal.
pss_params() { printf '3035a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a2040202%s' "$1" | xxd -r -p | base64 -w0; }
PSS20=$(printf '3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020114' | xxd -r -p | base64 -w0)
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.10 "" "$PSS20" "${H256[6]}"
expect_status 400
printf '%s' "$BODY" | grep -q 'salt' || fail "a 20-byte PSS salt was not refused for its salt: $BODY"
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.10 "" "$(pss_params 015f)" "${H256[6]}"
expect_status 400
# The SAD names no digest (mixed lengths): its 32-byte hashes sign as SHA-256 only, never as
# another 32-byte digest the client (or a compromised inkand) names at signing time. inkand
# has no rsaEncryption + SHA3 signature; RSASSA-PSS with SHA3-256 passes it to inkan-sam, which
# refuses it against the SAD (its own record below). The SAD is not spent: it signs next.
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.1 2.16.840.1.101.3.4.2.8 "" "${H256[6]}"
expect_status 400
PSS_SHA3=$(printf '3034a00f300d06096086480165030402080500a11c301a06092a864886f70d010108300d06096086480165030402080500a203020120' | xxd -r -p | base64 -w0)
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.10 "" "$PSS_SHA3" "${H256[6]}"
expect_status 400
printf '%s' "$BODY" | grep -q 'not authorized by the SAD' || fail "RSASSA-PSS with SHA3-256 over a SHA-256 SAD: $BODY"
cp "$T/dg.sha256.7.bin" "$T/dg.sha256.1.bin"
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.10 "" "$(pss_params 015e)" "${H256[6]}"
check_sigs "$KR3" sha256 pssmax
# rsaEncryption + hash, as CSC v1 clients send it.
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.1 2.16.840.1.101.3.4.2.2 "" "${H384[@]}"
check_sigs "$KR3" sha384 pkcs1
ok "RSA-3072: PKCS#1 v1.5 SHA-256/512, RSASSA-PSS with DER params (digest and maximum salt; others refused), rsaEncryption + SHA-384"

# Ed25519 cannot sign a hash: refused clearly, at sign time.
mapfile -t H < <(digests sha256 1)
authorize alice "$alice" "$KED" "${H[@]}"
expect_status 200
sign "$alice" "$KED" "$SAD" 1.3.101.112 "" "" "${H[@]}"
expect_refused 400 invalid_request
printf '%s' "$BODY" | grep -q 'EdDSA' || fail "Ed25519 refusal does not say why: $BODY"
ok "Ed25519 signHash refused with the reason"

# --- v1 paths and field names ---
mapfile -t H < <(digests sha256 2)
api POST /csc/v1/credentials/authorize "$(jq -nc --arg c "$K256" --argjson h "$(printf '%s\n' "${H[@]}" | jq -R . | jq -sc .)" \
	--arg p "$PIN" --arg o "$(otp_next alice)" '{credentialID: $c, numSignatures: 2, hash: $h, PIN: $p, OTP: $o}')" "$alice"
expect_status 200
SAD=$(printf '%s' "$BODY" | jq -r .SAD)
api POST /csc/v1/signatures/signHash "$(jq -nc --arg c "$K256" --arg s "$SAD" --argjson h "$(printf '%s\n' "${H[@]}" | jq -R . | jq -sc .)" \
	'{credentialID: $c, SAD: $s, hash: $h, hashAlgo: "2.16.840.1.101.3.4.2.1", signAlgo: "1.2.840.10045.2.1"}')" "$alice"
check_sigs "$K256" sha256 ecdsa
ok "v1 paths with v1 field names sign the same way"

# --- the SAD rules, each refused with no signature ---
no_sig() { printf '%s' "$BODY" | jq -e 'has("signatures") | not' >/dev/null || fail "a refusal carried signatures"; }
mapfile -t H < <(digests sha256 3)
authorize alice "$alice" "$K256" "${H[0]}" "${H[1]}"
SADA=$SAD
# another signer's session: bob presents alice's SAD, for alice's and for his own credential
sign "$bob" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
sign "$bob" "$KB" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
# a SAD stolen without the bearer token is useless: no token, or alice's token on another session
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$K256" --arg s "$SADA" --arg h "${H[0]}" '{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')"
expect_refused 401 invalid_token; no_sig
alice2=$(login alice "$(pw_of alice)")
sign "$alice2" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
# another credential of the same signer
sign "$alice" "$K384" "$SADA" 1.2.840.10045.4.3.3 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
# a hash not in the SAD
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[2]}"
expect_refused 400 invalid_request; no_sig
printf '%s' "$BODY" | grep -q 'Hash is not authorized by the SAD' || fail "wrong description: $BODY"
# one hash more often than authorized, and more hashes than remain
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}" "${H[0]}"
expect_refused 400 invalid_request; no_sig
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}" "${H[1]}" "${H[2]}"
expect_refused 400 invalid_request; no_sig
printf '%s' "$BODY" | grep -q 'Numbers of signatures is too high' || fail "wrong description: $BODY"
# wrong digest length; SHA-1 and MD5
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.3.3 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
sign "$alice" "$K256" "$SADA" 1.2.840.10045.2.1 1.3.14.3.2.26 "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
sign "$alice" "$K256" "$SADA" 1.2.840.113549.1.1.4 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.1 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
# the two authorized hashes still sign once each; then the SAD is spent (replay refused)
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}" "${H[1]}"
expect_status 200
sign "$alice" "$K256" "$SADA" 1.2.840.10045.4.3.2 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
ok "another signer's SAD, another session, another credential, unlisted hash, over-use, digest length, SHA-1/MD5, replay: refused"

# signHash requests run side by side in inkan-sam: one SAD spent by many requests at once
# still signs each authorized hash exactly as often as authorized. RSA-3072, so that each
# request's signatures take long enough for the requests to overlap.
# par_body NAME HASH...: a signHash body for HASH... with $SAD -> $T/NAME.json
# par_sign I NAME: that body posted in the background (pid added to PAR) -> $T/par.I.{body,status}
# par_wait: waits for them (not for inkand, also a child of this shell)
PAR=()
par_body() {
	local name=$1
	shift
	jq -nc --arg c "$KR3" --arg s "$SAD" --argjson h "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" \
		'{credentialID: $c, SAD: $s, hashes: $h, signAlgo: "1.2.840.113549.1.1.11"}' >"$T/$name.json"
}
par_sign() {
	curl -sS --max-time 60 --cacert "$CACERT" -H "Authorization: Bearer $alice" \
		-H 'Content-Type: application/json' --data-binary "@$T/$2.json" -o "$T/par.$1.body" \
		-w '%{http_code}' "$URL/csc/v2/signatures/signHash" >"$T/par.$1.status" 2>/dev/null &
	PAR+=($!)
}
par_wait() { wait "${PAR[@]}"; PAR=(); }
mapfile -t H < <(digests sha256 9)
H0x20=()
for i in $(seq 1 20); do H0x20+=("${H[0]}"); done
authorize alice "$alice" "$KR3" "${H[@]:1}" "${H0x20[@]}" "${H0x20[@]}"
expect_status 200
# ten requests, each for twenty signatures of H[0], race for the forty authorized
par_body race "${H0x20[@]}"
for i in $(seq 1 10); do par_sign "$i" race; done
par_wait
wins=0
for i in $(seq 1 10); do [ "$(cat "$T/par.$i.status")" = 200 ] && wins=$((wins + 1)); done
[ "$wins" = 2 ] || fail "ten concurrent requests for half of a hash's authorized uses: $wins signed"
# eight requests for the other eight hashes at once: all signed, each signature good
rm -f "$T"/par.*
for i in $(seq 2 9); do par_body "one.$i" "${H[$((i - 1))]}"; done
for i in $(seq 2 9); do par_sign "$i" "one.$i"; done
par_wait
for i in $(seq 2 9); do
	[ "$(cat "$T/par.$i.status")" = 200 ] || fail "concurrent signHash $i: $(cat "$T/par.$i.status") $(cat "$T/par.$i.body")"
	jq -r '.signatures[0]' "$T/par.$i.body" | base64 -d >"$T/sig.$i"
	verify "$KR3" sha256 pkcs1 "$i"
done
# the SAD is spent: nothing more signs
sign "$alice" "$KR3" "$SAD" 1.2.840.113549.1.1.11 "" "" "${H[1]}"
expect_refused 400 invalid_request; no_sig
ok "concurrent signHash requests spend one SAD exactly (two of ten racing requests signed, as authorized)"

# expiry: restart with the shortest SAD lifetime (sessions survive; live SADs do not)
stop_inkand
conf sad_ttl 10
start_inkand
mapfile -t H < <(digests sha256 1)
KC=$(mkkey "$carol" P-256)
authorize carol "$carol" "$KC" "${H[0]}"
expect_status 200
SADC=$SAD
sleep 11
sign "$carol" "$KC" "$SADC" 1.2.840.10045.4.3.2 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
printf '%s' "$BODY" | grep -q 'SAD expired' || fail "wrong description: $BODY"
ok "an expired SAD is refused"

# revoked key: the SAD dies with it
authorize carol "$carol" "$KC" "${H[0]}"
SADC=$SAD
api POST /api/v1/keys/"$KC"/revoke '{"reason": "keyCompromise"}' "$carol"
expect_status 204
sign "$carol" "$KC" "$SADC" 1.2.840.10045.4.3.2 "" "" "${H[0]}"
expect_refused 400 invalid_request; no_sig
authorize carol "$carol" "$KC" "${H[0]}"
expect_refused 400 invalid_request
ok "a revoked key cannot be authorized or sign"

# wrong PINs lock the credential; a wrong OTP never reaches the PIN
KD=$(mkkey "$dave" P-256)
for i in 1 2 3; do
	api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KD" --arg h "${H[0]}" --arg o "$(otp_next dave)" \
		'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: "wrong-pin-00", OTP: $o}')" "$dave"
	expect_refused 400 invalid_request
done
authorize dave "$dave" "$KD" "${H[0]}"
expect_refused 403 access_denied
printf '%s' "$BODY" | grep -q 'Credential locked' || fail "wrong description: $BODY"
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$K384" --arg h "${H[0]}" --arg p "$PIN" \
	'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: "000000"}')" "$alice"
expect_refused 400 invalid_request
ok "three wrong PINs lock the credential; a wrong OTP is refused"

# RSA-1024 keys do not exist to sign with
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "RSA-1024"}')" "$alice"
expect_refused 400 invalid_request

# --- every authorization and signature, and every refusal, is on the audit trail ---
recs=$(audit_records "$aud")
printf '%s' "$recs" | jq -e --arg k "$KR3" --arg h "$(base64 -d <<<"${H384[0]}" | xxd -p -c 200)" \
	'any(.[]; .action == "csc.signHash" and .subject == $k and .result == "success" and (.detail | contains($h)) and (.detail | startswith("serial ")))' >/dev/null ||
	fail "no csc.signHash record with the credential, serial and hash"
printf '%s' "$recs" | jq -e '[.[] | select(.action == "csc.signHash" and .result != "success")] | length >= 8' >/dev/null ||
	fail "refused signatures are missing from the audit trail"
printf '%s' "$recs" | jq -e '[.[] | select(.action == "csc.authorize" and .result == "wrong PIN")] | length == 3' >/dev/null ||
	fail "wrong-PIN authorizations are not audited"
ok "authorizations, signatures and refusals are audited with credential, serial and hashes"
# inkan-sam's own record of the SHA3-256 refusal: the export carries the SAM's records over.
api GET /api/v1/audit/export "" "$aud"; expect_status 200
printf '%s' "$BODY" | jq -e --arg k "$KR3" 'any(.records[]; .source == "inkan-sam" and .action == "sam.sign"
	and .subject == $k and .result == "hash not authorized by the SAD" and .detail == "SAD refused")' >/dev/null ||
	fail "inkan-sam kept no record of refusing SHA-256 hashes signed as SHA3-256"
ok "a SAD for SHA-256 hashes does not sign them as SHA3-256: refused by inkan-sam (its own record), the SAD not spent"

check_no_secrets_in_dbs
finish
