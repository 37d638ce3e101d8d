#!/usr/bin/env bash
# t_ocsp_hostile: a compromised inkand against inkan-sam's OCSP message (issue 16). With one
# signer's key active and another's revoked, sam_hostile_ocsp.py starts an unmodified inkan-sam
# over a copy of the data directory and speaks the SAM protocol itself: whatever CertIDs it
# sends, the SAM never signs good for the revoked serial or for a serial it never issued, and
# refuses malformed messages.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
PIN=pin-Ledger-3381
add_secret "$PIN"
openssl x509 -in "$DATA/ca/chain.pem" -out "$T/issuing.pem"

# newkey USER TOKEN: a P-256 key; its certificate into $T/USER.pem, its id printed.
newkey() {
	api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$2"
	expect_status 201
	printf '%s' "$BODY" | jq -r .certificate | base64 -d | openssl x509 -inform DER -out "$T/$1.pem"
	printf '%s' "$BODY" | jq -r .id
}
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
newkey alice "$alice" >/dev/null
kb=$(newkey bob "$bob")
api POST "/api/v1/keys/$kb/revoke" '{"reason": "keyCompromise"}' "$bob"
expect_status 200 204
for who in alice bob; do
	openssl ocsp -issuer "$T/issuing.pem" -cert "$T/$who.pem" -no_nonce -reqout "$T/$who.req" >/dev/null
done
openssl ocsp -issuer "$T/issuing.pem" -serial 0x7E57AB1E -no_nonce -reqout "$T/unknown.req" >/dev/null

stop_inkand
cp -a "$DATA" "$T/copy"
python3 "$INKAN_SRC/tests/e2e/sam_hostile_ocsp.py" "$INKAN_SAM" "$T/copy" "$T/alice.req" "$T/bob.req" \
	"$T/unknown.req" "$DATA/ca/root.pem" "$T" "$LOG" >"$T/hostile.out" 2>&1 ||
	{ cat "$T/hostile.out" >&2; fail "a hostile inkand got through: $(tail -n1 "$T/hostile.out")"; }
while read -r line; do say "${line#sam_hostile: }"; done <"$T/hostile.out"
grep -c '^sam_hostile: ok' "$T/hostile.out" | grep -qx 4 || fail "not every attack ran: $(cat "$T/hostile.out")"
ok "a hostile inkand speaking the SAM protocol gets no good for a revoked or unissued serial"
finish
