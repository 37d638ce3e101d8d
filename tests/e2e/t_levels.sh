#!/usr/bin/env bash
# t_levels: assurance_level is one switch. The running service enforces what the table of
# docs/configuration.md says at level 1 and at level 4 (PIN length, RSA-2048, the TSA's clock,
# the key backend), shows its level in info and credentials/info, and inkand and inkan-sam each
# refuse to start on a configuration that contradicts its level.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf assurance_level 1
conf sad_ttl 3600
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN6=q7w3e9
PIN8=pin-Tern-6614
add_secret "$PIN6"
add_secret "$PIN8"

# level_shown N: info (v1, v2) and credentials/info say N
level_shown() {
	local v
	for v in v1 v2; do
		api GET "/csc/$v/info"
		expect_status 200
		expect_jq --argjson n "$1" '.assuranceLevel == $n'
	done
	api POST /csc/v2/credentials/info "{\"credentialID\": \"$2\"}" "$alice"
	expect_status 200
	expect_jq --argjson n "$1" '.assuranceLevel == $n'
}
# newkey PIN ALGO: POST /api/v1/keys as alice (STATUS, BODY)
newkey() {
	api POST /api/v1/keys "$(jq -nc --arg p "$1" --arg a "$2" '{pin: $p, algorithm: $a}')" "$alice"
}

# ---- level 1 ----
newkey "$PIN6" P-256
expect_status 201
K1=$(printf '%s' "$BODY" | jq -r .id)
newkey "$PIN8" RSA-2048
expect_status 201
K2048=$(printf '%s' "$BODY" | jq -r .id)
level_shown 1 "$K1"
ok "level 1: a 6-character PIN and an RSA-2048 key accepted, a SAD of an hour allowed; info and credentials/info say level 1"
stop_inkand

# ---- level 2: a SAD of 15 minutes, not of an hour; level 3 (the default): 5 minutes ----
conf assurance_level 2
conf sad_ttl 900
start_inkand
level_shown 2 "$K1"
PIN=$PIN6
authorize alice "$alice" "$K1" "$(head -c 32 /dev/urandom | base64 -w0)"
expect_status 200
stop_inkand
ok "level 2: a SAD of 15 minutes allowed, an authorization with it; info says level 2"

# ---- contradictions: neither daemon starts ----
# refused WHO PATTERN: WHO (inkand or inkan-sam) refuses to start on the configuration, saying PATTERN
refused() {
	local rc=0 args=(--data "$DATA")
	# inkan-sam as inkand would start it (one channel, here /dev/null), but reading the file itself
	if [ "$1" = inkand ]; then args=("$INKAND" "${args[@]}"); else args=("$INKAN_SAM" "${args[@]}" --fd 3); fi
	timeout 30 "${args[@]}" >"$T/start.out" 2>&1 </dev/null 3</dev/null || rc=$?
	[ "$rc" = 1 ] || fail "$1 did not refuse to start (rc $rc): $(head -c 300 "$T/start.out")"
	grep -q -- "$2" "$T/start.out" || fail "$1 refused without saying why ($2): $(head -c 300 "$T/start.out")"
}
conf assurance_level 3
conf sad_ttl 900
refused inkand "sad_ttl 900 is above assurance level 3's 300 seconds"
conf sad_ttl 3600
refused inkand "sad_ttl 3600 is above assurance level 3's 300 seconds"
refused inkan-sam "sad_ttl 3600 is above assurance level 3's 300 seconds"
conf sad_ttl 300
conf assurance_level 4
refused inkand "assurance level 4 keeps signing keys in a PKCS#11 token"
refused inkan-sam "assurance level 4 keeps signing keys in a PKCS#11 token"
conf allow_software_keys true
conf pin_min_len 6
refused inkand "pin_min_len 6 is below assurance level 4's 8"
conf pin_min_len 0
conf multisign 1000
refused inkan-sam "multisign 1000 is above assurance level 4's 100"
conf multisign 100
ok "a SAD lifetime above the level's, software keys at level 4, a PIN floor below its own, multisign above its ceiling: inkand and inkan-sam each refuse to start, naming the setting"

# ---- level 4 on software keys (allow_software_keys: tests only) ----
start_inkand
newkey "$PIN6" P-256
expect_status 400
newkey "$PIN8" RSA-2048
expect_status 400
newkey "$PIN8" P-256
expect_status 201
K4=$(printf '%s' "$BODY" | jq -r .id)
level_shown 4 "$K4"
# alice's RSA-2048 key of level 1 signs no more
H=$(head -c 64 /dev/urandom | openssl dgst -sha256 -binary | base64 -w0)
PIN=$PIN8
authorize alice "$alice" "$K2048" "$H"
expect_status 200
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$K2048" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.113549.1.1.11"}')" "$alice"
expect_status 400
expect_error invalid_request
# the TSA on this machine's clock: refused unless the kernel vouches for it
read -r SYNCED MAXERR < <(python3 "$INKAN_SRC/tests/e2e/kernel_clock.py")
openssl ts -query -data /etc/hostname -sha256 -cert -out "$T/q.tsq" 2>/dev/null
http POST /tsa -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq"
expect_status 200
openssl ts -reply -in "$T/body" -text >"$T/r.txt" 2>/dev/null || fail "openssl cannot read the /tsa reply"
if [ "$SYNCED" = 1 ] && [ "$MAXERR" -le 1000000 ]; then
	grep -q '^Status: Granted' "$T/r.txt" || fail "level 4, synchronised clock: /tsa did not grant"
else
	grep -q "^Failure info: the TSA's time source is not available" "$T/r.txt" ||
		fail "level 4, unsynchronised clock (max error ${MAXERR} us): /tsa stamped: $(cat "$T/r.txt")"
fi
ok "level 4: a 6-character PIN and RSA-2048 refused (new keys and signatures), an 8-character PIN accepted, the TSA's clock checked (synchronised=$SYNCED); info says level 4"
stop_inkand

# ---- level 4 as meant: keys in a PKCS#11 token (SoftHSM2, a software token), no override ----
export SOFTHSM2_CONF="$T/softhsm2.conf"
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label inkan --so-pin 5678 --pin 1234 >"$T/softhsm.out" 2>&1 ||
	fail "softhsm2-util --init-token: $(cat "$T/softhsm.out")"
(umask 077; printf '1234\n' >"$DATA/sam/pkcs11.pin")
conf allow_software_keys false
conf key_backend pkcs11
conf pkcs11_module /usr/lib/softhsm/libsofthsm2.so
start_inkand
newkey "$PIN8" P-256
expect_status 201
KP=$(printf '%s' "$BODY" | jq -r .id)
authorize alice "$alice" "$KP" "$H"
expect_status 200
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$KP" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 200
printf '%s' "$BODY" | jq -r '.signatures[0]' | base64 -d >"$T/p.sig"
printf '%s' "$H" | base64 -d >"$T/h.bin"
pubkey "$alice" "$KP"
openssl pkeyutl -verify -pubin -inkey "$T/$KP.pub.pem" -in "$T/h.bin" -sigfile "$T/p.sig" \
	-pkeyopt digest:sha256 >/dev/null 2>&1 || fail "the token key's signature does not verify"
# the external-CA path in the token: the PKCS#10 request is signed inside it
for alg in P-256 RSA-3072; do
	api POST /api/v1/keys "$(jq -nc --arg p "$PIN8" --arg a "$alg" '{pin: $p, algorithm: $a, external_ca: true}')" "$alice"
	expect_status 201
	expect_jq '.status == "pending" and (.csr | length > 100)'
	printf '%s' "$BODY" | jq -r .csr | base64 -d >"$T/p11.csr.der"
	openssl req -inform DER -in "$T/p11.csr.der" -noout -verify 2>&1 | grep -q 'verify OK' ||
		fail "the token's $alg CSR does not verify: $(openssl req -inform DER -in "$T/p11.csr.der" -noout -verify 2>&1)"
	openssl req -inform DER -in "$T/p11.csr.der" -noout -text | grep -q 'Digital Signature, Non Repudiation' ||
		fail "the token's $alg CSR does not ask for digitalSignature+nonRepudiation"
done
ok "level 4 with key_backend = pkcs11 (SoftHSM2) starts without the override; a key made in the token signs, and its external-CA requests (P-256, RSA-3072) are signed in the token and verify"

finish
