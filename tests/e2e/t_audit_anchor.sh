#!/usr/bin/env bash
# t_audit_anchor: `inkan audit verify` trusts only a log key the auditor names. A forged export
# bundle — the signing records removed, every checkpoint re-signed with another key
# (audit_forge.py + openssl) — is "unproven" without a trust anchor (exit 3, the bundle key's
# fingerprint shown) and refused with --key or --fingerprint of the real key; the genuine bundle
# passes with the fingerprint `inkan init` printed (plain or with colons), which is the SAM's
# real key, as GET /ca/audit-key and `inkan ca cert` show it.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf audit_checkpoint_interval 1
start_inkand

LOGKEY="$DATA/ca/audit-log.pem"
FPR=$(jq -r '.audit_log_key_sha256 // empty' "$T/init.json")
[[ "$FPR" =~ ^[0-9a-f]{64}$ ]] || fail "inkan init --json printed no audit log key fingerprint: $(jq -c 'del(.security_officer)' "$T/init.json")"
real=$(openssl pkey -pubin -in "$LOGKEY" -outform DER | sha256sum | cut -d' ' -f1)
[ "$FPR" = "$real" ] || fail "inkan init printed $FPR, the published log key is $real"
COLONS=$(printf '%s' "$FPR" | tr a-f A-F | sed 's/../&:/g; s/:$//')
ok "inkan init prints the audit log key's fingerprint (SHA-256 of the SPKI of $LOGKEY)"

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Compass-4417
add_secret "$PIN"
tokfile aud "$aud"

# The same fingerprint from the public endpoint and `inkan ca cert`.
http GET /ca/audit-key
expect_status 200
[ "$(openssl pkey -pubin -in "$T/body" -outform DER | sha256sum | cut -d' ' -f1)" = "$FPR" ] ||
	fail "GET /ca/audit-key is not the key inkan init named"
icli aud ca cert --out "$T/chain.pem"
[ "$RC" = 0 ] && grep -q "audit log key sha256 $FPR" <<<"$OUT" || fail "inkan ca cert: no fingerprint: $OUT $ERR"
icli aud --json ca cert
[ "$RC" = 0 ] && [ "$(jq -r .audit_log_key_sha256 <<<"$OUT")" = "$FPR" ] || fail "inkan --json ca cert: $OUT $ERR"
ok "GET /ca/audit-key and inkan ca cert show the same fingerprint"

# ---- signing records in the log: two signatures by alice ----
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "P-256"}')" "$alice"
expect_status 201
cred=$(printf '%s' "$BODY" | jq -r .id)
for i in 1 2; do
	head -c 64 /dev/urandom | openssl dgst -sha256 -binary >"$T/dg.bin"
	h64=$(base64 -w0 "$T/dg.bin")
	api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$cred" --arg h "$h64" --arg p "$PIN" \
		--arg o "$(otp_next alice)" '{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
	expect_status 200
	sad=$(printf '%s' "$BODY" | jq -r .SAD)
	api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$cred" --arg s "$sad" --arg h "$h64" \
		'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
	expect_status 200
done
sleep 2   # an interval checkpoint

icli aud audit export "$T/genuine.json"
[ "$RC" = 0 ] || fail "inkan audit export: $ERR"
nsign=$(jq '[.records[] | select(.action | startswith("csc."))] | length' "$T/genuine.json")
[ "$nsign" -ge 4 ] || fail "expected the signing records in the export, found $nsign"

# ---- the forgery: signing records removed, checkpoints re-signed with the forger's key ----
openssl ecparam -name secp384r1 -genkey -noout -out "$T/forger.key" 2>/dev/null
openssl ec -in "$T/forger.key" -pubout -out "$T/forger.pub" 2>/dev/null
removed=$(python3 "$INKAN_SRC/tests/e2e/audit_forge.py" "$T/genuine.json" csc. "$T/forger.key" "$T/forger.pub" "$T/forged.json")
[ "$removed" = "$nsign" ] || fail "the forger removed $removed records, not $nsign"
jq -e '[.records[] | select(.action | startswith("csc."))] | length == 0' "$T/forged.json" >/dev/null ||
	fail "the forged bundle still has signing records"
FFPR=$(openssl pkey -pubin -in "$T/forger.pub" -outform DER | sha256sum | cut -d' ' -f1)

# Without a trust anchor: not "OK", exit 3, "unproven", the bundle key's fingerprint.
icli aud audit verify "$T/forged.json"
[ "$RC" = 3 ] || fail "forged bundle without anchor: exit $RC, expected 3: $OUT $ERR"
grep -qi 'unproven' <<<"$OUT" && grep -q "$FFPR" <<<"$OUT" || fail "forged bundle without anchor: $OUT"
grep -q 'audit log OK' <<<"$OUT$ERR" && fail "a forged bundle was called OK: $OUT"
icli aud --json audit verify "$T/forged.json"
[ "$RC" = 3 ] && jq -e --arg f "$FFPR" '.ok == false and .anchored == false and .log_key_sha256 == $f' <<<"$OUT" >/dev/null ||
	fail "forged bundle --json without anchor: rc $RC $OUT"
ok "forged bundle ($removed signing records removed, re-signed) without anchor: unproven, exit 3, its key's fingerprint shown"

# With the real key or its fingerprint: refused, both keys named.
icli aud audit verify "$T/forged.json" --key "$LOGKEY"
[ "$RC" = 1 ] && grep -q "not the trusted one" <<<"$ERR" && grep -q "$FFPR" <<<"$ERR" && grep -q "$FPR" <<<"$ERR" ||
	fail "forged bundle with --key: rc $RC: $OUT $ERR"
icli aud audit verify "$T/forged.json" --fingerprint "$FPR"
[ "$RC" = 1 ] && grep -q "not the trusted one" <<<"$ERR" || fail "forged bundle with --fingerprint: rc $RC: $OUT $ERR"
icli aud audit verify "$T/forged.json" --fingerprint "$COLONS"
[ "$RC" = 1 ] || fail "forged bundle with --fingerprint (colons): rc $RC"
ok "forged bundle with --key or --fingerprint of the real key: refused, the mismatch named"

# The genuine bundle: OK with the fingerprint (plain or with colons) and with the key.
for anchor in "--fingerprint $FPR" "--fingerprint $COLONS" "--key $LOGKEY"; do
	# shellcheck disable=SC2086
	icli aud audit verify "$T/genuine.json" $anchor
	[ "$RC" = 0 ] && grep -q 'audit log OK' <<<"$OUT" || fail "genuine bundle with $anchor: rc $RC: $OUT $ERR"
done
icli aud audit verify "$T/genuine.json"
[ "$RC" = 3 ] && grep -q "$FPR" <<<"$OUT" || fail "genuine bundle without anchor: rc $RC (expected 3): $OUT"
icli aud audit verify --fingerprint "$FPR"
[ "$RC" = 0 ] && grep -q 'audit log OK' <<<"$OUT" || fail "online verify with --fingerprint: rc $RC: $OUT $ERR"
icli aud audit verify
[ "$RC" = 3 ] || fail "online verify without anchor: rc $RC, expected 3"
# Bad anchors are refused before anything is read.
for bad in "abc" "${FPR}00" "${FPR:0:62}zz" ":$FPR"; do
	icli aud audit verify "$T/genuine.json" --fingerprint "$bad"
	[ "$RC" = 2 ] || fail "--fingerprint '$bad': rc $RC, expected a usage error"
done
icli aud audit verify "$T/genuine.json" --fingerprint "$FPR" --key "$LOGKEY"
[ "$RC" = 2 ] || fail "--fingerprint with --key: rc $RC, expected a usage error"
ok "genuine bundle: OK with the fingerprint (plain, colons) or the key, unproven (3) without; bad anchors are usage errors"

finish
