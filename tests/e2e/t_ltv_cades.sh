#!/usr/bin/env bash
# t_ltv_cades: CAdES long-term signatures (issue 16) — `inkan sign --level B-LT|B-LTA` puts the
# validation data of the signer's and the time-stamp's chains in the SignedData (OCSP responses
# as otherRevInfo, RFC 5940) and an archive-time-stamp-v3 with its ats-hash-index-v3; openssl cms
# -verify accepts them; `inkan verify --offline` passes them with inkand stopped (everything
# inside) and names the level; `inkan extend` raises B-T to B-LT to B-LTA and renews an LTA twice,
# each archive time-stamp covering the one before (altering any earlier byte fails); another
# certificate's OCSP response swapped into a signature does not make it pass. The certificates'
# URLs point at a plain HTTP proxy in front of this inkand (ca_base_url), on loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sign.sh"

DER_TOOL="$INKAN_SRC/tests/e2e/der_tool.py"
init_data_proxied
fast_argon2
start_inkand
proxy_follow
ROOT="$DATA/ca/root.pem"

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Archive-7731
add_secret "$PIN"
mkkey "$alice" P-256 >/dev/null
mkkey "$bob" RSA-3072 >/dev/null

# extend TOKEN ARGS...
extend() {
	local tok=$1
	shift
	RC=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$tok timeout 300 "$INKAN_CLI" extend "$@" \
		</dev/null >"$T/extend.out" 2>"$T/extend.err" || RC=$?
	[ "$RC" = 0 ] || fail "inkan extend ${*} failed ($RC): $(cat "$T/extend.err")"
}
# cms_ok DOC P7S: openssl cms -verify against our root only
cms_ok() {
	openssl cms -verify -binary -content "$1" -inform DER -in "$2" -CAfile "$ROOT" -purpose any \
		-out /dev/null 2>"$T/cms.err" >/dev/null || fail "openssl cms -verify refuses $2: $(cat "$T/cms.err")"
}
# refused ARGS...: anything but TOTAL-PASSED
refused() {
	vfy "$@"
	[ "$RC" != 0 ] || fail "inkan verify $* passed: $(printf '%s' "$V" | jq -c '.signatures[0] | {indication, level}')"
	if [ -s "$T/v.json" ]; then
		printf '%s' "$V" | jq -e '.signatures | all(.indication != "TOTAL-PASSED")' >/dev/null ||
			fail "inkan verify $* reports TOTAL-PASSED"
	fi
}

head -c 5000 /dev/urandom >"$T/contract.bin"
cp "$T/contract.bin" "$T/c2.bin"
cp "$T/contract.bin" "$T/c3.bin"
printf 'attached content\n' >"$T/att.txt"

# ---- sign at B-LT and B-LTA ----
must_sign alice "$alice" "$T/contract.bin" --level B-LT --output "$T/lt.p7s"
grep -q 'B-LT' "$T/sign.err" || fail "inkan sign did not show the level B-LT"
must_sign alice "$alice" "$T/c2.bin" --level B-LTA --output "$T/lta.p7s"
must_sign bob "$bob" "$T/att.txt" --level B-LTA --attached --output "$T/att.p7s"
must_sign bob "$bob" "$T/c3.bin" --level B-LT --output "$T/bob-lt.p7s"
cms_ok "$T/contract.bin" "$T/lt.p7s"
cms_ok "$T/c2.bin" "$T/lta.p7s"
openssl cms -verify -binary -inform DER -in "$T/att.p7s" -CAfile "$ROOT" -purpose any -out "$T/att.out" \
	2>"$T/cms.err" >/dev/null || fail "openssl cms -verify refuses the attached B-LTA: $(cat "$T/cms.err")"
cmp -s "$T/att.out" "$T/att.txt" || fail "the attached content is not the document"
openssl cms -cmsout -print -inform DER -in "$T/lt.p7s" >"$T/lt.txt"
grep -q 'otherRevInfoFormat: .*1.3.6.1.5.5.7.16.2' "$T/lt.txt" ||
	fail "no OCSP response as otherRevInfo (id-ri-ocsp-response) in the B-LT signature"
grep -q 'CN=inkan TSA' "$T/lt.txt" || fail "the TSA certificate is not among the SignedData's certificates"
[ "$(python3 "$DER_TOOL" ats "$T/lt.p7s" | wc -l)" = 0 ] || fail "a B-LT signature carries an archive time-stamp"
[ "$(python3 "$DER_TOOL" ats "$T/lta.p7s" | wc -l)" = 1 ] || fail "a B-LTA signature does not carry one archive time-stamp"
ok "sign --level B-LT|B-LTA (detached, attached, ECDSA and RSA): openssl cms -verify accepts them; OCSP as otherRevInfo, the TSA chain inside"

# Online first: the levels reached.
passed B-LT "$T/contract.bin" "$T/lt.p7s"
passed B-LTA "$T/c2.bin" "$T/lta.p7s"
passed B-LTA "$T/att.p7s"

# ---- extend B-T -> B-LT -> B-LTA, and renew the LTA twice ----
cp "$T/contract.bin" "$T/c4.bin"
must_sign alice "$alice" "$T/c4.bin" --level B-T --output "$T/ext.p7s"
passed B-T --offline --no-revocation-check "$T/c4.bin" "$T/ext.p7s"
extend "$alice" "$T/ext.p7s" --level B-LT
passed B-LT --offline "$T/c4.bin" "$T/ext.p7s"
extend "$alice" "$T/ext.p7s" --level B-LTA
passed B-LTA --offline "$T/c4.bin" "$T/ext.p7s"
cp "$T/ext.p7s" "$T/lta1.p7s"
extend "$alice" "$T/ext.p7s" --level B-LTA
extend "$alice" "$T/ext.p7s" "$T/c4.bin" --level B-LTA
cms_ok "$T/c4.bin" "$T/ext.p7s"
[ "$(python3 "$DER_TOOL" ats "$T/ext.p7s" | wc -l)" = 3 ] || fail "two renewals did not make three archive time-stamps"
# what the signature held was still current: not fetched and added again
[ "$(python3 "$DER_TOOL" ocsp "$T/ext.p7s" | wc -l)" = 1 ] ||
	fail "extending added a second OCSP response for a certificate whose first one is current"
passed B-LTA --offline "$T/c4.bin" "$T/ext.p7s"
printf '%s' "$V" | jq -e '.signatures[0].archive_timestamps | length == 3 and
	all(.indication == "TOTAL-PASSED" and .covers_previous == true)' >/dev/null ||
	fail "the three archive time-stamps are not all valid: $(printf '%s' "$V" | jq -c '.signatures[0].archive_timestamps')"
# Each archive time-stamp checked by tools we did not write into inkan: its imprint input
# computed by the test's own reading of EN 319 122-1 5.5.3 (der_tool.py), the token and imprint
# by openssl ts -verify; the newest one's ats-hash-index-v3 recomputed as 5.5.2 says.
for k in 0 1 2; do
	python3 "$DER_TOOL" ats-input "$T/ext.p7s" "$k" "$T/c4.bin" "$T/ats$k.tst" "$T/ats$k.in"
	openssl ts -verify -token_in -in "$T/ats$k.tst" -data "$T/ats$k.in" -CAfile "$ROOT" \
		-untrusted "$DATA/ca/chain.pem" >"$T/ts.out" 2>&1 || fail "openssl ts -verify refuses archive time-stamp $k: $(cat "$T/ts.out")"
done
python3 "$DER_TOOL" ats-index "$T/ext.p7s" || fail "the newest ats-hash-index-v3 is not what EN 319 122-1 5.5.2 makes"
python3 "$DER_TOOL" ats-index "$T/lta.p7s" || fail "the ats-hash-index-v3 of a signed B-LTA is not what EN 319 122-1 5.5.2 makes"
# The first one is unchanged by the renewals (each is added after what it covers).
# slice FILE START END: those bytes of FILE
slice() { python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(b[int(sys.argv[2]):int(sys.argv[3])])' "$@"; }
python3 "$DER_TOOL" ats "$T/lta1.p7s" >"$T/ats1.list"
python3 "$DER_TOOL" ats "$T/ext.p7s" >"$T/ats3.list"
slice "$T/lta1.p7s" $(sed -n 1p "$T/ats1.list") >"$T/ats1.der"
slice "$T/ext.p7s" $(sed -n 1p "$T/ats3.list") >"$T/ats3.der"
[ -s "$T/ats1.der" ] && cmp -s "$T/ats1.der" "$T/ats3.der" || fail "renewing changed the first archive time-stamp"
# An extended file is replaced only when complete: a missing output directory leaves it be.
extend_fail_rc=0
INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$alice "$INKAN_CLI" extend "$T/ext.p7s" \
	--level B-LTA --output "$T/nodir/x.p7s" </dev/null >/dev/null 2>&1 || extend_fail_rc=$?
[ "$extend_fail_rc" != 0 ] || fail "extend into a missing directory succeeded"
[ "$(python3 "$DER_TOOL" ats "$T/ext.p7s" | wc -l)" = 3 ] || fail "a failed extend changed the file"
ok "extend: B-T -> B-LT -> B-LTA, renewed twice: three archive time-stamps, each covering the ones before (openssl ts -verify over an imprint input computed apart), the first unchanged"

# Altering any byte the archive time-stamps cover fails: inside the first archive time-stamp,
# the signature time-stamp, an OCSP response, a certificate, the signature value.
n=0
python3 "$DER_TOOL" ats "$T/ext.p7s" >"$T/ats.list"
python3 "$DER_TOOL" sigts "$T/ext.p7s" >"$T/sigts.list"
python3 "$DER_TOOL" ocsp "$T/ext.p7s" >"$T/ocsp.list"
for range in "$(sed -n 1p "$T/ats.list")" "$(sed -n 2p "$T/ats.list")" \
             "$(sed -n 1p "$T/sigts.list")" "$(sed -n 1p "$T/ocsp.list")"; do
	set -- $range
	for frac in 10 35 60 85; do
		off=$(( $1 + ($2 - $1) * frac / 100 ))
		python3 "$DER_TOOL" flip "$T/ext.p7s" "$T/bad.p7s" "$off"
		refused --offline "$T/c4.bin" "$T/bad.p7s"
		n=$((n + 1))
	done
done
# a byte in the middle of each certificate the SignedData carries
while read -r s e; do
	python3 "$DER_TOOL" flip "$T/ext.p7s" "$T/bad.p7s" $(( (s + e) / 2 ))
	refused --offline "$T/c4.bin" "$T/bad.p7s"
	n=$((n + 1))
done < <(python3 "$DER_TOOL" certs "$T/ext.p7s")
ok "altering any of $n bytes before the newest archive time-stamp (earlier archive and signature time-stamps, OCSP responses, certificates) fails validation"

# ---- another certificate's OCSP response in place of the signer's ----
# The CRLs inside still speak for alice (the TSA's CRL is her issuer's too): they decide, not
# bob's response; without them nothing does.
python3 "$DER_TOOL" swap-ocsp "$T/lt.p7s" "$T/bob-lt.p7s" "$T/swapped.p7s"
cms_ok "$T/contract.bin" "$T/swapped.p7s"
vfy --offline "$T/contract.bin" "$T/swapped.p7s"
printf '%s' "$V" | jq -e '.signatures[0].chain[0].revocation.type != "OCSP"' >/dev/null ||
	fail "bob's OCSP response decided alice's status: $(printf '%s' "$V" | jq -c '.signatures[0].chain[0].revocation')"
python3 "$DER_TOOL" swap-ocsp "$T/lt.p7s" "$T/bob-lt.p7s" "$T/swapped2.p7s" drop-crls
cms_ok "$T/contract.bin" "$T/swapped2.p7s"
refused --offline "$T/contract.bin" "$T/swapped2.p7s"
printf '%s' "$V" | jq -e '.signatures[0].chain[0].revocation.status == "unknown"' >/dev/null ||
	fail "with bob's OCSP response alone alice's certificate is not unknown: $(printf '%s' "$V" | jq -c '.signatures[0].chain[0].revocation')"
ok "bob's OCSP response swapped into alice's B-LT signature decides nothing about her certificate and does not make it pass (--offline)"

# ---- POST /api/v1/verify: never fetches, passes the B-LTA on what it carries ----
: >"$T/proxy.log"
api POST /api/v1/verify "$(jq -nc --arg s "$(base64 -w0 "$T/ext.p7s")" --arg d "$(base64 -w0 "$T/c4.bin")" \
	'{signature: $s, document: $d}')"
expect_status 200
expect_jq '.revocation_fetch == false and .signatures[0].indication == "TOTAL-PASSED" and
	.signatures[0].level == "B-LTA" and (.signatures[0].archive_timestamps | length) == 3'
[ ! -s "$T/proxy.log" ] || fail "POST /api/v1/verify fetched: $(cat "$T/proxy.log")"
ok "POST /api/v1/verify: the renewed B-LTA passes with its three archive time-stamps, nothing fetched"

# ---- no network: everything inside ----
stop_inkand
: >"$T/proxy.log"
passed B-LT --offline "$T/contract.bin" "$T/lt.p7s"
passed B-LTA --offline "$T/c2.bin" "$T/lta.p7s"
passed B-LTA --offline "$T/att.p7s"
passed B-LTA --offline "$T/c4.bin" "$T/ext.p7s"
[ ! -s "$T/proxy.log" ] || fail "inkan verify --offline asked the network: $(cat "$T/proxy.log")"
ok "inkand stopped: inkan verify --offline passes B-LT and B-LTA with the data inside, asking nobody"

finish
