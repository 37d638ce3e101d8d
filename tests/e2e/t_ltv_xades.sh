#!/usr/bin/env bash
# t_ltv_xades: XAdES long-term signatures (issue 21) — `inkan sign --format xades --level
# B-LT|B-LTA` enveloped, detached and enveloping put CertificateValues and RevocationValues for
# the signer's chain and a TimeStampValidationData for the time-stamp's chain in the signature,
# and an xadesv141:ArchiveTimeStamp; xmlsec1 --verify still accepts each; `inkan verify --offline`
# names the level with inkand stopped; `inkan extend` raises B-T to B-LT to B-LTA and renews it;
# each archive time-stamp is checked by openssl ts -verify over an input computed by the test's
# own reading of EN 319 132-1 5.5.2.2 (lxml); tampered validation data and an archive time-stamp
# over another input are refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sign.sh"

command -v xmlsec1 >/dev/null || { say "SKIP: no xmlsec1 (scripts/deps.sh test)"; exit 77; }
/usr/bin/python3 -c 'import lxml.etree' 2>/dev/null || { say "SKIP: no python3-lxml (scripts/deps.sh test)"; exit 77; }
XT="/usr/bin/python3 $INKAN_SRC/tests/e2e/xades_tool.py"
init_data_proxied
fast_argon2
start_inkand
proxy_follow
ROOT="$DATA/ca/root.pem"
CHAIN="$DATA/ca/chain.pem"

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Ledger-4417
add_secret "$PIN"
mkkey "$alice" P-256 >/dev/null
mkkey "$bob" RSA-3072 >/dev/null
openssl x509 -in "$CHAIN" -out "$T/issuing.pem"

# extend ARGS...
extend() {
	RC=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT timeout 300 "$INKAN_CLI" extend "$@" \
		</dev/null >"$T/extend.out" 2>"$T/extend.err" || RC=$?
	[ "$RC" = 0 ] || fail "inkan extend ${*} failed ($RC): $(cat "$T/extend.err")"
}
# xmlsec_ok FILE: Debian's xmlsec1 verifies it, trusting only our root
xmlsec_ok() {
	(cd "$T" && xmlsec1 --verify --trusted-pem "$ROOT" --untrusted-pem "$T/issuing.pem" "$1") \
		>"$T/xmlsec.out" 2>&1 || fail "xmlsec1 --verify refuses $1: $(tail -5 "$T/xmlsec.out")"
	grep -q '^OK' "$T/xmlsec.out" || fail "xmlsec1 --verify: $(cat "$T/xmlsec.out")"
}
# refused TEXT ARGS...: not TOTAL-PASSED, TEXT in a problem's detail or a warning
refused() {
	local text=$1
	shift
	vfy "$@"
	[ "$RC" != 0 ] || fail "inkan verify $* passed"
	printf '%s' "$V" | jq -e --arg t "$text" '.signatures[0].indication != "TOTAL-PASSED" and
		([(.signatures[0].problems // [])[].detail, (.signatures[0].warnings // [])[]] |
		 any(contains($t)))' >/dev/null ||
		fail "inkan verify $*: not refused with '$text': $(printf '%s' "$V" | jq -c '.signatures[0] | {indication, sub_indication, problems, warnings}')"
}
# ats_ok FILE K [DOCUMENT]: archive time-stamp K checked by openssl ts -verify over the input
# xades_tool.py computes
ats_ok() {
	$XT ats-input "$@" "$T/ats.tst" "$T/ats.in"
	openssl ts -verify -token_in -in "$T/ats.tst" -data "$T/ats.in" -CAfile "$ROOT" \
		-untrusted "$CHAIN" >"$T/ts.out" 2>&1 ||
		fail "openssl ts -verify refuses archive time-stamp $2 of $1: $(cat "$T/ts.out")"
}

cat >"$T/invoice.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<inv:Invoice xmlns:inv="urn:example:invoice" Id="inv-1">
  <inv:Total currency="JPY">120000</inv:Total>
</inv:Invoice>
XML
head -c 3000 /dev/urandom >"$T/scan.bin"

# ---- sign at B-LT and B-LTA, each placement ----
must_sign alice "$alice" --format xades "$T/invoice.xml" --enveloped --level B-LT --output "$T/env-lt.xml"
grep -q 'B-LT' "$T/sign.err" || fail "inkan sign did not show the level B-LT"
must_sign alice "$alice" --format xades "$T/invoice.xml" --enveloped --level B-LTA --output "$T/env-lta.xml"
must_sign bob "$bob" --format xades "$T/scan.bin" --detached --level B-LTA --output "$T/det-lta.xml"
must_sign bob "$bob" --format xades "$T/invoice.xml" --enveloping --level B-LTA --output "$T/enc-lta.xml"
for f in env-lt env-lta det-lta enc-lta; do
	xmlsec_ok "$f.xml"
	[ "$($XT count "$T/$f.xml" CertificateValues)" = 1 ] && [ "$($XT count "$T/$f.xml" RevocationValues)" = 1 ] ||
		fail "$f: no CertificateValues and RevocationValues"
	[ "$($XT count "$T/$f.xml" TimeStampValidationData)" = 1 ] || fail "$f: no TimeStampValidationData"
done
[ "$($XT count "$T/env-lt.xml" ArchiveTimeStamp)" = 0 ] || fail "a B-LT signature carries an archive time-stamp"
[ "$($XT count "$T/env-lta.xml" ArchiveTimeStamp)" = 1 ] || fail "a B-LTA signature does not carry one archive time-stamp"
[ "$($XT values "$T/env-lt.xml" ocsp | wc -l)" -ge 1 ] || fail "no OCSP response in the B-LT signature"
ats_ok "$T/env-lta.xml" 0
ats_ok "$T/det-lta.xml" 0 "$T/scan.bin"
ats_ok "$T/enc-lta.xml" 0
ok "sign --format xades --level B-LT|B-LTA enveloped, detached, enveloping (P-256, RSA): xmlsec1 --verify accepts each; validation data and archive time-stamp there, openssl ts -verify over an input computed apart"

passed B-LT "$T/env-lt.xml"
passed B-LTA "$T/env-lta.xml"
passed B-LTA "$T/scan.bin" "$T/det-lta.xml"
passed B-LTA "$T/enc-lta.xml"

# ---- RSASSA-PSS (xmlsec1 in Debian 12 has no PSS transform: checked with openssl pkeyutl over
# SignedInfo canonicalized by lxml) ----
must_sign bob "$bob" --format xades "$T/invoice.xml" --enveloped --pss --level B-LTA --output "$T/pss.xml"
grep -q 'sha256-rsa-MGF1' "$T/pss.xml" || fail "no RSASSA-PSS signature method (RFC 6931 2.3.10) with --pss"
$XT siginfo "$T/pss.xml" "$T/pss.si" "$T/pss.sig" "$T/pss.crt"
openssl dgst -sha256 -binary "$T/pss.si" >"$T/pss.md"
openssl x509 -inform DER -in "$T/pss.crt" -pubkey -noout >"$T/pss.pub"
openssl pkeyutl -verify -pubin -inkey "$T/pss.pub" -in "$T/pss.md" -sigfile "$T/pss.sig" \
	-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256 \
	-pkeyopt digest:sha256 >"$T/pkeyutl.out" 2>&1 || fail "openssl pkeyutl refuses the PSS signature: $(cat "$T/pkeyutl.out")"
ats_ok "$T/pss.xml" 0
passed B-LTA --offline "$T/pss.xml"
printf '%s' "$V" | jq -e '.signatures[0].signature_algorithm == "RSASSA-PSS"' >/dev/null ||
	fail "not reported as RSASSA-PSS: $(printf '%s' "$V" | jq -c '.signatures[0].signature_algorithm')"
# the same value under the PKCS #1 v1.5 method does not verify
$XT replace "$T/pss.xml" "$T/pss-bad.xml" 'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1' \
	'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
refused "does not verify" --offline "$T/pss-bad.xml"
ok "--pss: RSASSA-PSS (sha256-rsa-MGF1, salt 32) checked by openssl pkeyutl over SignedInfo canonicalized apart, B-LTA by inkan verify; the value under rsa-sha256 refused"

# ---- extend B-T -> B-LT -> B-LTA, renewed ----
must_sign alice "$alice" --format xades "$T/invoice.xml" --enveloped --level B-T --output "$T/ext.xml"
passed B-T --offline --no-revocation-check "$T/ext.xml"
$XT signed "$T/ext.xml" >"$T/signed.bt"
extend "$T/ext.xml" --level B-LT
xmlsec_ok ext.xml
$XT signed "$T/ext.xml" | cmp -s - "$T/signed.bt" || fail "extending to B-LT changed SignedInfo or SignedProperties"
passed B-LT --offline "$T/ext.xml"
extend "$T/ext.xml" --level B-LTA
passed B-LTA --offline "$T/ext.xml"
cp "$T/ext.xml" "$T/ext1.xml"
extend "$T/ext.xml" --level B-LTA
xmlsec_ok ext.xml
[ "$($XT count "$T/ext.xml" ArchiveTimeStamp)" = 2 ] || fail "renewing did not make two archive time-stamps"
$XT signed "$T/ext.xml" | cmp -s - "$T/signed.bt" || fail "B-LTA and its renewal changed SignedInfo or SignedProperties"
passed B-LTA --offline "$T/ext.xml"
printf '%s' "$V" | jq -e '.signatures[0].archive_timestamps | length == 2 and
	all(.indication == "TOTAL-PASSED" and .covers_previous == true)' >/dev/null ||
	fail "the two archive time-stamps are not both valid: $(printf '%s' "$V" | jq -c '.signatures[0].archive_timestamps')"
ats_ok "$T/ext.xml" 0
ats_ok "$T/ext.xml" 1
# what the signature held was still current: not fetched and added again
[ "$($XT values "$T/ext.xml" ocsp | sort | uniq -d | wc -l)" = 0 ] || fail "extending added an OCSP response twice"
# a detached signature's archive time-stamp needs its document
must_sign bob "$bob" --format xades "$T/scan.bin" --detached --level B-T --output "$T/det-ext.xml"
RC=0
INKAN_SERVER=$URL INKAN_CACERT=$CACERT "$INKAN_CLI" extend "$T/det-ext.xml" --level B-LTA \
	</dev/null >/dev/null 2>"$T/extend.err" || RC=$?
[ "$RC" != 0 ] && grep -q 'give its document' "$T/extend.err" || fail "extend of a detached XAdES without its document: $RC $(cat "$T/extend.err")"
extend "$T/det-ext.xml" "$T/scan.bin" --level B-LTA
xmlsec_ok det-ext.xml
passed B-LTA --offline "$T/scan.bin" "$T/det-ext.xml"
ats_ok "$T/det-ext.xml" 0 "$T/scan.bin"
ok "extend: B-T -> B-LT -> B-LTA -> renewed (enveloped), detached with its document: SignedInfo and SignedProperties canonicalize as before, xmlsec1 still accepts, each archive time-stamp checked by openssl ts"

# ---- tampering ----
# a byte of an OCSP response in RevocationValues (B-LTA: the archive time-stamp covers it)
o=$($XT values "$T/env-lta.xml" ocsp 0)
bad=$(printf '%s' "$o" | sed 's/^\(.\{60\}\)./\1A/;t;s/A/B/')
[ "$bad" != "$o" ] || bad=$(printf '%s' "$o" | sed 's/^\(.\{60\}\)./\1B/')
$XT replace "$T/env-lta.xml" "$T/bad1.xml" "$o" "$bad"
xmlsec_ok bad1.xml
refused "archive time-stamp 1" --offline "$T/bad1.xml"
# a certificate of CertificateValues
cv=$($XT values "$T/env-lta.xml" cert 0)
bad=$(printf '%s' "$cv" | sed 's/^\(.\{200\}\)./\1A/')
[ "$bad" != "$cv" ] || bad=$(printf '%s' "$cv" | sed 's/^\(.\{200\}\)./\1B/')
$XT replace "$T/env-lta.xml" "$T/bad2.xml" "$cv" "$bad"
refused "archive time-stamp 1" --offline "$T/bad2.xml"
# B-LT (nothing time-stamps the values): alice's OCSP response altered — the issuing CA's CRL
# in the TimeStampValidationData (fetched for the TSA's certificate) still speaks for her; with
# it altered too, nothing decides her status
o=$($XT values "$T/env-lt.xml" ocsp 0)
$XT replace "$T/env-lt.xml" "$T/bad3.xml" "$o" "$(printf '%s' "$o" | rev)"
passed B-LT --offline "$T/bad3.xml"
printf '%s' "$V" | jq -e '.signatures[0].chain[0].revocation.type == "CRL" and
	any(.signatures[0].warnings[]; contains("unreadable OCSP response"))' >/dev/null ||
	fail "the altered OCSP response is not reported, or decided: $(printf '%s' "$V" | jq -c '.signatures[0] | {warnings, r: .chain[0].revocation}')"
for k in 0 1; do
	cr=$($XT values "$T/bad3.xml" crl $k)
	$XT replace "$T/bad3.xml" "$T/bad3.xml" "$cr" "$(printf '%s' "$cr" | rev)"
done
refused "unreadable OCSP response" --offline "$T/bad3.xml"
# an archive time-stamp over another signature's input
$XT swap-ats "$T/env-lta.xml" "$T/enc-lta.xml" "$T/bad4.xml"
refused "does not match what it covers" --offline "$T/bad4.xml"
ok "tampered RevocationValues and CertificateValues, an altered OCSP response in a B-LT, an archive time-stamp over another input: refused with the reason"

# ---- POST /api/v1/verify: never fetches ----
: >"$T/proxy.log"
api POST /api/v1/verify "$(jq -nc --arg s "$(base64 -w0 "$T/ext.xml")" '{signature: $s}')"
expect_status 200
expect_jq '.signatures[0].indication == "TOTAL-PASSED" and .signatures[0].level == "B-LTA" and
	(.signatures[0].archive_timestamps | length) == 2'
[ ! -s "$T/proxy.log" ] || fail "POST /api/v1/verify fetched: $(cat "$T/proxy.log")"
ok "POST /api/v1/verify: the renewed XAdES B-LTA passes, nothing fetched"

# ---- no network: everything inside ----
stop_inkand
: >"$T/proxy.log"
passed B-LT --offline "$T/env-lt.xml"
passed B-LTA --offline "$T/env-lta.xml"
passed B-LTA --offline "$T/scan.bin" "$T/det-lta.xml"
passed B-LTA --offline "$T/enc-lta.xml"
passed B-LTA --offline "$T/ext.xml"
[ ! -s "$T/proxy.log" ] || fail "inkan verify --offline asked the network: $(cat "$T/proxy.log")"
ok "inkand stopped: inkan verify --offline passes XAdES B-LT and B-LTA with the data inside"

finish
