#!/usr/bin/env bash
# t_sign: `inkan sign` end to end — CAdES (detached and attached) and PAdES at B-B and B-T
# against the real daemon and its built-in TSA, every result checked with tools we did not write
# (openssl cms -verify, openssl ts -verify, pdfsig, qpdf) and with `inkan verify`; a second
# signer on a signed PDF; changed documents fail; the service only ever sees digests; the
# RFC 3161 endpoint /tsa and signatures/timestamp with their audit records and refusals.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Harbor-5528
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"
CHAIN="$DATA/ca/chain.pem"
http GET /ca/crl
expect_status 200
cp "$T/body" "$T/crl.der"

mkkey() {
	api POST /api/v1/keys "$(jq -nc --arg p "$PIN" --arg a "$2" '{pin: $p, algorithm: $a}')" "$1"
	expect_status 201
	printf '%s' "$BODY" | jq -r .id
}
acred=$(mkkey "$alice" P-256)
bcred=$(mkkey "$bob" RSA-3072)

# sign USER TOKEN FILE ARGS...: inkan sign with PIN and OTP from the environment; sets RC.
sign() {
	local user=$1 tok=$2
	shift 2
	RC=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$tok INKAN_PIN=$PIN \
		INKAN_OTP=$(otp_next "$user") timeout 600 "$INKAN_CLI" sign --yes "$@" \
		</dev/null >"$T/sign.out" 2>"$T/sign.err" || RC=$?
}
must_sign() {
	sign "$@"
	[ "$RC" = 0 ] || fail "inkan sign ${*:3} failed ($RC): $(cat "$T/sign.err")"
}

# cms_ok FILE P7S [attached]: openssl cms -verify against our root only.
cms_ok() {
	local f=$1 p=$2
	if [ "${3:-}" = attached ]; then
		openssl cms -verify -binary -inform DER -in "$p" -CAfile "$ROOT" -purpose any \
			-out "$T/cms.content" 2>"$T/cms.err" >/dev/null ||
			fail "openssl cms -verify (attached) refuses $p: $(cat "$T/cms.err")"
		cmp -s "$T/cms.content" "$f" || fail "the content inside $p is not $f"
	else
		openssl cms -verify -binary -content "$f" -inform DER -in "$p" -CAfile "$ROOT" -purpose any \
			-out /dev/null 2>"$T/cms.err" >/dev/null ||
			fail "openssl cms -verify refuses $p over $f: $(cat "$T/cms.err")"
	fi
}

# ts_token P7S OUT: extracts the signature time-stamp token (DER) with openssl asn1parse.
ts_token() {
	local p=$1 out=$2 off
	off=$(openssl asn1parse -inform DER -in "$p" 2>/dev/null |
		awk '/id-smime-aa-timeStampToken/ { getline; getline; split($1, a, ":"); print a[1]; exit }')
	[ -n "$off" ] || return 1
	openssl asn1parse -inform DER -in "$p" -offset "$off" -out "$out" -noout 2>/dev/null
}

# sigvalue P7S OUT: the signer's signature value: the OCTET STRING just before the unsigned
# attributes that hold the time-stamp (asn1parse: OCTET STRING, cont [ 1 ], SEQUENCE, OID).
sigvalue() {
	local p=$1 out=$2
	openssl asn1parse -inform DER -in "$p" 2>/dev/null |
		awk '/id-smime-aa-timeStampToken/ { print l3; exit } { l3 = l2; l2 = l1; l1 = $0 }' |
		sed -n 's/.*OCTET STRING *\[HEX DUMP\]://p' | xxd -r -p >"$out"
	[ -s "$out" ]
}

# ts_ok P7S: the time-stamp is over the signature value and verifies with openssl ts.
ts_ok() {
	local p=$1
	ts_token "$p" "$T/tok.der" || fail "$p has no signature time-stamp token"
	sigvalue "$p" "$T/sig.bin" || fail "cannot read the signature value of $p"
	openssl ts -verify -token_in -in "$T/tok.der" -data "$T/sig.bin" -CAfile "$ROOT" \
		-untrusted "$CHAIN" >"$T/ts.out" 2>&1 || fail "openssl ts -verify refuses the time-stamp in $p: $(cat "$T/ts.out")"
	grep -q '^Verification: OK' "$T/ts.out" || fail "openssl ts -verify: $(cat "$T/ts.out")"
}

# inkan_verify FILE [SIGNATURE]: our own validation says TOTAL-PASSED for every signature. The
# service chain is the trust list: the root publishes no CRL for its issuing CA, so the issuing
# CA is anchored and the signer and TSA certificates are checked against the service CRL.
inkan_verify() {
	local rc=0
	"$INKAN_CLI" verify --json --trust "$CHAIN" --crl "$T/crl.der" "$@" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = 0 ] && jq -e '[.. | objects | select(has("indication")) | .indication] | length > 0 and all(. == "TOTAL-PASSED")' "$T/v.json" >/dev/null ||
		fail "inkan verify $1: not TOTAL-PASSED (rc $rc): $(head -c 1500 "$T/v.json") $(cat "$T/v.err")"
}

# ---- CAdES: text, binary, detached and attached, B-B and B-T ----
printf 'Contract between A and B.\nMARKER-%s\n' "$(openssl rand -hex 8)" >"$T/text.txt"
head -c 300000 /dev/urandom >"$T/bin.dat"
for f in text.txt bin.dat; do
	must_sign alice "$alice" "$T/$f" --level B-B --output "$T/$f.bb.p7s"
	cms_ok "$T/$f" "$T/$f.bb.p7s"
	ts_token "$T/$f.bb.p7s" "$T/x.der" && fail "a B-B signature carries a time-stamp"
	must_sign alice "$alice" "$T/$f"
	[ -s "$T/$f.p7s" ] || fail "no default output $T/$f.p7s"
	cms_ok "$T/$f" "$T/$f.p7s"
	ts_ok "$T/$f.p7s"
	inkan_verify "$T/$f" "$T/$f.p7s"
done
ok "CAdES B-B and B-T of a text and a binary file verify with openssl cms, openssl ts and inkan verify"
