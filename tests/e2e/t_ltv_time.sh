#!/usr/bin/env bash
# t_ltv_time: time travel without a clock knob (issue 16) — a signer certificate of two minutes
# (cert_minutes, assurance level 2), a CAdES signature at B-LTA and one at B-B, the certificate
# revoked with `inkan key revoke` and left to expire; then `inkan verify`: the B-LTA signature is
# TOTAL-PASSED (its time-stamps prove it existed while the certificate was valid and not
# revoked: past signature validation, EN 319 102-1), online and offline; the B-B one is
# INDETERMINATE with the sub-indication EN 319 102-1 prescribes (REVOKED_NO_POE online, where
# the responder says revoked; OUT_OF_BOUNDS_NO_POE or TRY_LATER offline). Every URL fetched is
# on loopback (a plain HTTP proxy in front of this inkand, named by ca_base_url).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sign.sh"

init_data_proxied
fast_argon2

# A short-lived certificate is refused where the assurance level does not allow it.
conf cert_minutes 2
RC=0
timeout 30 "$INKAND" --data "$DATA" --listen 127.0.0.1:0 >"$T/check.out" 2>&1 </dev/null || RC=$?
[ "$RC" != 0 ] && [ "$RC" != 124 ] && grep -q 'cert_minutes' "$T/check.out" ||
	fail "inkand started with cert_minutes 2 at assurance level 3 ($RC): $(tail -n 3 "$T/check.out")"
conf assurance_level 2
start_inkand
proxy_follow
ROOT="$DATA/ca/root.pem"

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Voyage-4410
add_secret "$PIN"
kid=$(mkkey "$alice" P-256)
api GET "/api/v1/keys/$kid" "" "$alice"
expect_status 200
printf '%s' "$BODY" | jq -r '.certificate' | base64 -d >"$T/alice.der"
not_after=$(date -d "$(openssl x509 -inform DER -in "$T/alice.der" -noout -enddate | cut -d= -f2)" +%s)
life=$(( not_after - $(date +%s) ))
[ "$life" -gt 60 ] && [ "$life" -le 125 ] || fail "the certificate lives $life s, not about two minutes"
ok "cert_minutes 2 at assurance level 2: the signer's certificate lives $life s (refused at level 3)"

sign() {
	local f=$1
	shift
	RC=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$alice INKAN_PIN=$PIN \
		INKAN_OTP=$(otp_next alice) timeout 300 "$INKAN_CLI" sign --yes "$f" "$@" \
		</dev/null >"$T/sign.out" 2>"$T/sign.err" || RC=$?
	[ "$RC" = 0 ] || fail "inkan sign $f $* failed ($RC): $(cat "$T/sign.err")"
}
show() { printf '%s' "$V" | jq -c '.signatures[0] | {indication, sub_indication, level, problems}'; }

head -c 3000 /dev/urandom >"$T/lta.bin"
head -c 3000 /dev/urandom >"$T/bb.bin"
sign "$T/lta.bin" --level B-LTA
sign "$T/bb.bin" --level B-B
vfy "$T/lta.bin" "$T/lta.bin.p7s"
[ "$RC" = 0 ] || fail "the fresh B-LTA signature does not pass: $(show)"
vfy "$T/bb.bin" "$T/bb.bin.p7s"
[ "$RC" = 0 ] && printf '%s' "$V" | jq -e '.signatures[0].level == "B-B" and
	.signatures[0].chain[0].revocation.origin == "fetched"' >/dev/null ||
	fail "the fresh B-B signature does not pass on fetched revocation data: $(show)"
ok "before: B-LTA passes; B-B passes on an OCSP response fetched online"

# Revoked (not a compromise: the revocation date is when it stopped being trusted), then expired.
# (a second later than the signing times: a revocation in the claimed signing time's second
# counts as before it)
sleep 2
tokfile alice "$alice"
icli alice key revoke "$kid" --reason superseded
[ "$RC" = 0 ] || fail "inkan key revoke failed: $ERR"
wait_s=$(( not_after - $(date +%s) + 3 ))
if [ "$wait_s" -gt 0 ]; then
	say "waiting $wait_s s for the certificate to expire"
	sleep "$wait_s"
fi
[ "$(date +%s)" -gt "$not_after" ] || fail "the certificate has not expired"

# B-LTA: proof of existence before the revocation and the expiry.
vfy --offline "$T/lta.bin" "$T/lta.bin.p7s"
[ "$RC" = 0 ] && printf '%s' "$V" | jq -e '.signatures[0].indication == "TOTAL-PASSED" and
	.signatures[0].level == "B-LTA"' >/dev/null ||
	fail "the B-LTA signature of a since revoked and expired certificate does not pass offline: $(show)"
vfy "$T/lta.bin" "$T/lta.bin.p7s"
[ "$RC" = 0 ] || fail "the B-LTA signature does not pass online: $(show)"
ok "after revocation and expiry: B-LTA TOTAL-PASSED online and offline (time-stamps prove it older)"

# B-B: nothing proves when it was made.
vfy "$T/bb.bin" "$T/bb.bin.p7s"
[ "$RC" != 0 ] && printf '%s' "$V" | jq -e '.signatures[0].indication == "INDETERMINATE" and
	(.signatures[0].sub_indication == "REVOKED_NO_POE" or
	 .signatures[0].sub_indication == "OUT_OF_BOUNDS_NO_POE")' >/dev/null ||
	fail "the B-B signature is not INDETERMINATE/REVOKED_NO_POE or OUT_OF_BOUNDS_NO_POE online: $(show)"
online_sub=$(printf '%s' "$V" | jq -r '.signatures[0].sub_indication')
vfy --offline "$T/bb.bin" "$T/bb.bin.p7s"
[ "$RC" != 0 ] && printf '%s' "$V" | jq -e '.signatures[0].indication == "INDETERMINATE" and
	(.signatures[0].sub_indication == "OUT_OF_BOUNDS_NO_POE" or
	 .signatures[0].sub_indication == "TRY_LATER")' >/dev/null ||
	fail "the B-B signature offline is not INDETERMINATE/OUT_OF_BOUNDS_NO_POE: $(show)"
ok "after revocation and expiry: B-B INDETERMINATE/$online_sub online, $(printf '%s' "$V" | jq -r '.signatures[0].sub_indication') offline"

finish
