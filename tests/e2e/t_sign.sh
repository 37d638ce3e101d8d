#!/usr/bin/env bash
# t_sign: `inkan sign` end to end — CAdES (detached and attached) and PAdES at B-B and B-T
# against the real daemon and its built-in TSA, every result checked with tools we did not write
# (openssl cms -verify, openssl ts -verify, pdfsig, qpdf) and with `inkan verify`; a second
# signer on a signed PDF; changed documents fail; the service only ever sees digests; the
# RFC 3161 endpoint /tsa and signatures/timestamp with their audit records and refusals.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sign.sh"

init_data
fast_argon2
# The certificates name the CA's OCSP responder (AIA), which pdfsig's NSS asks (over HTTP only,
# failing the certificate when it cannot): a plain HTTP proxy in front of inkand's /ocsp, as a
# deployment would put one, named by ca_base_url.
python3 "$INKAN_SRC/tests/e2e/ocsp_http_proxy.py" "$T/ocsp-port" "$T/ocsp-target" "$DATA/tls/cert.pem" \
	</dev/null >/dev/null 2>>"$LOG" &
OCSP_PROXY=$!
for i in $(seq 1 100); do [ -s "$T/ocsp-port" ] && break; sleep 0.1; done
[ -s "$T/ocsp-port" ] || fail "the OCSP proxy did not start"
conf ca_base_url "http://127.0.0.1:$(cat "$T/ocsp-port")"
start_inkand
printf '%s\n' "$URL" >"$T/ocsp-target"

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
# Several signers: a TOTP step serves one authorization per account, so signatures spread
# over accounts do not wait for the clock.
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
carol=$(mkactive "$ro" carol signer)
dave=$(mkactive "$ro" dave signer)
PIN=pin-Harbor-5528
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"
CHAIN="$DATA/ca/chain.pem"
http GET /ca/crl
expect_status 200
cp "$T/body" "$T/crl.der"
# The root's own list (ARL), named by the issuing CA certificate: a relying party that trusts
# only the root can check every certificate below it.
http GET /ca/arl
expect_status 200
cp "$T/body" "$T/arl.der"
openssl crl -inform DER -in "$T/arl.der" -CAfile "$ROOT" -noout 2>&1 | grep -q "verify OK" ||
	fail "the ARL is not signed by the root"
openssl crl -inform DER -in "$T/arl.der" -noout -issuer | grep -q "Root CA" || fail "the ARL's issuer is not the root"
openssl x509 -in "$CHAIN" -noout -ext crlDistributionPoints | grep -q "/ca/arl" ||
	fail "the issuing CA certificate does not name the ARL: $(openssl x509 -in "$CHAIN" -noout -ext crlDistributionPoints)"

acred=$(mkkey "$alice" P-256)
bcred=$(mkkey "$bob" RSA-3072)
mkkey "$carol" P-384 >/dev/null
mkkey "$dave" P-256 >/dev/null

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

# inkan_verify FILE [SIGNATURE]: our own validation says TOTAL-PASSED for every signature,
# trusting only the root: the issuing CA is checked against the root's ARL, the signer and TSA
# certificates against the issuing CA's CRL.
inkan_verify() {
	local rc=0
	"$INKAN_CLI" verify --json --trust "$ROOT" --crl "$T/crl.der" --crl "$T/arl.der" "$@" >"$T/v.json" 2>"$T/v.err" || rc=$?
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
	must_sign bob "$bob" "$T/$f"
	[ -s "$T/$f.p7s" ] || fail "no default output $T/$f.p7s"
	cms_ok "$T/$f" "$T/$f.p7s"
	ts_ok "$T/$f.p7s"
	inkan_verify "$T/$f" "$T/$f.p7s"
done
ok "CAdES B-B and B-T of a text and a binary file verify with openssl cms, openssl ts and inkan verify"

# What the signer is shown before anything is authorized, and no signature without a yes.
for want in "$(sha256sum "$T/bin.dat" | cut -d' ' -f1)" "300000 bytes" "Test bob (bob)" "CN=Test bob" "CAdES B-T (detached)"; do
	grep -qF -- "$want" "$T/sign.err" || fail "inkan sign did not show '$want': $(cat "$T/sign.err")"
done
n0=$(db "SELECT count(*) FROM audit_log WHERE action IN ('csc.authorize', 'csc.signHash');")
RC=0
INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$dave INKAN_PIN=$PIN INKAN_OTP=000000 \
	timeout 60 setsid "$INKAN_CLI" sign "$T/text.txt" --output "$T/noconfirm.p7s" </dev/null >"$T/sign.out" 2>"$T/sign.err" || RC=$?
[ "$RC" != 0 ] && grep -q -- '--yes' "$T/sign.err" || fail "inkan sign without a terminal or --yes did not refuse ($RC): $(cat "$T/sign.err")"
[ ! -e "$T/noconfirm.p7s" ] || fail "an unconfirmed signature was written"
[ "$(db "SELECT count(*) FROM audit_log WHERE action IN ('csc.authorize', 'csc.signHash');")" = "$n0" ] || fail "an unconfirmed signing reached credentials/authorize"
ok "inkan sign shows SHA-256, size, signer, certificate, format and level, and signs nothing unconfirmed"

# Attached, and RSASSA-PSS (bob's RSA key), at B-T.
must_sign carol "$carol" "$T/text.txt" --attached --output "$T/text.att.p7s"
cms_ok "$T/text.txt" "$T/text.att.p7s" attached
ts_ok "$T/text.att.p7s"
inkan_verify "$T/text.att.p7s"
must_sign bob "$bob" "$T/bin.dat" --pss --output "$T/bin.pss.p7s"
cms_ok "$T/bin.dat" "$T/bin.pss.p7s"
openssl cms -cmsout -print -inform DER -in "$T/bin.pss.p7s" | grep -q 'rsassaPss' ||
	fail "--pss did not make an RSASSA-PSS signature"
ts_ok "$T/bin.pss.p7s"
inkan_verify "$T/bin.dat" "$T/bin.pss.p7s"
ok "attached CAdES B-T (content carried, openssl cms gives it back) and RSASSA-PSS verify"

# A changed document fails; an existing output is never overwritten.
cp "$T/text.txt" "$T/text.changed"
printf 'x' >>"$T/text.changed"
openssl cms -verify -binary -content "$T/text.changed" -inform DER -in "$T/text.txt.p7s" -CAfile "$ROOT" \
	-purpose any -out /dev/null >/dev/null 2>&1 && fail "openssl cms accepts a signature over a changed document"
rc=0; "$INKAN_CLI" verify --json --trust "$CHAIN" --crl "$T/crl.der" "$T/text.changed" "$T/text.txt.p7s" >"$T/v.json" 2>/dev/null || rc=$?
[ "$rc" != 0 ] && jq -e '.. | objects | select(has("indication")) | select(.indication == "TOTAL-FAILED")' "$T/v.json" >/dev/null ||
	fail "inkan verify does not fail a changed document: $(head -c 600 "$T/v.json")"
before=$(sha256sum "$T/text.txt.p7s")
sign_rc dave "$dave" "$T/text.txt"
[ "$RC" != 0 ] && grep -q 'exists' "$T/sign.err" || fail "inkan sign overwrote or did not refuse an existing output ($RC)"
[ "$(sha256sum "$T/text.txt.p7s")" = "$before" ] || fail "an existing signature was changed"
ok "a changed document fails openssl cms and inkan verify (TOTAL-FAILED); outputs are never overwritten"

# ---- PAdES ----
mkdir -p "$T/nss"
certutil -N -d "sql:$T/nss" --empty-password >/dev/null 2>&1 || fail "certutil -N"
certutil -A -d "sql:$T/nss" -n inkan-root -t "CT,C,C" -i "$ROOT" >/dev/null 2>&1 || fail "certutil -A root"
# pdf_ok FILE N: pdfsig finds N signatures, every one valid with a trusted certificate; the last
# covers the whole file but its /Contents.
pdf_ok() {
	local f=$1 n=$2 got
	pdfsig_run "$f" || fail "pdfsig $f: $(cat "$T/pdfsig.out")"
	got=$(grep -c 'Signature Validation: Signature is Valid' "$T/pdfsig.out" || true)
	[ "$got" = "$n" ] || fail "pdfsig: $got of $n signatures valid in $f: $(cat "$T/pdfsig.out")"
	[ "$(grep -c 'Certificate Validation: Certificate is Trusted' "$T/pdfsig.out" || true)" = "$n" ] ||
		fail "pdfsig: not every certificate is trusted in $f: $(cat "$T/pdfsig.out")"
	tail -n 12 "$T/pdfsig.out" | grep -q 'Total document signed' ||
		fail "pdfsig: the last signature does not cover the whole document: $(cat "$T/pdfsig.out")"
	grep -q 'ETSI.CAdES.detached' "$T/pdfsig.out" || fail "pdfsig: not /ETSI.CAdES.detached"
	qpdf --check "$f" >"$T/qpdf.out" 2>&1 || fail "qpdf --check $f: $(cat "$T/qpdf.out")"
}
# prefix_ok ORIG SIGNED: the signed file starts with every byte of the original.
prefix_ok() {
	cmp -s -n "$(stat -c %s "$1")" "$1" "$2" || fail "$2 changed bytes of $1"
}
# pades_check FILE: the last signature's CMS out of /Contents, checked with openssl cms over
# the /ByteRange bytes (which must be the whole file but the /Contents value), and its
# time-stamp (if any, B-T) with openssl ts.
pades_check() {
	local f=$1 a b c size
	read -r a b c < <(grep -aoE '/ByteRange \[0 [0-9]+ [0-9]+ [0-9]+ *\]' "$f" | tail -n1 |
		sed -E 's/.*\[0 ([0-9]+) ([0-9]+) ([0-9]+).*/\1 \2 \3/')
	size=$(stat -c %s "$f")
	[ -n "$c" ] && [ $((b + c)) = "$size" ] || fail "$f: /ByteRange [0 $a $b $c] does not end at the file's end ($size)"
	[ "$(dd if="$f" iflag=skip_bytes,count_bytes skip="$a" count=1 status=none)" = '<' ] ||
		fail "$f: the gap of /ByteRange is not the /Contents string"
	{ head -c "$a" "$f"; tail -c +$((b + 1)) "$f"; } >"$T/ranges.bin"
	dd if="$f" iflag=skip_bytes,count_bytes skip=$((a + 1)) count=$((b - a - 2)) status=none |
		xxd -r -p >"$T/contents.raw"
	openssl cms -cmsout -inform DER -in "$T/contents.raw" -outform DER -out "$T/pades.p7s" 2>/dev/null ||
		fail "$f: /Contents is not a CMS"
	cms_ok "$T/ranges.bin" "$T/pades.p7s"
	if [ "${2:-}" = B-T ]; then ts_ok "$T/pades.p7s"; fi
	return 0
}
qpdf --empty "$T/empty.pdf"
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n4 0 obj << /Length 44 >> stream\nBT /F1 12 Tf 72 720 Td (PDFMARK-%s) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R /Size 5 >>\n%%%%EOF\n' \
	"$(openssl rand -hex 6)" >"$T/page.src.pdf"
qpdf --warning-exit-0 "$T/page.src.pdf" "$T/page.pdf" 2>/dev/null || fail "qpdf cannot write page.pdf"
qpdf --object-streams=generate "$T/page.pdf" "$T/xs.pdf" || fail "qpdf --object-streams=generate"
grep -aq '/Type */XRef' "$T/xs.pdf" || fail "xs.pdf has no cross-reference stream"
grep -aq '^xref' "$T/page.pdf" || fail "page.pdf has no classic cross-reference table"

must_sign alice "$alice" "$T/empty.pdf" --level B-B
pdf_ok "$T/empty-signed.pdf" 1
pades_check "$T/empty-signed.pdf"
prefix_ok "$T/empty.pdf" "$T/empty-signed.pdf"
inkan_verify "$T/empty-signed.pdf"
must_sign carol "$carol" "$T/page.pdf" --output "$T/page-bt.pdf"
pdf_ok "$T/page-bt.pdf" 1
pades_check "$T/page-bt.pdf" B-T
prefix_ok "$T/page.pdf" "$T/page-bt.pdf"
inkan_verify "$T/page-bt.pdf"
must_sign dave "$dave" "$T/xs.pdf" --level B-B --output "$T/xs-bb.pdf"
pdf_ok "$T/xs-bb.pdf" 1
inkan_verify "$T/xs-bb.pdf"
must_sign dave "$dave" "$T/xs.pdf" --output "$T/xs-bt.pdf"
pdf_ok "$T/xs-bt.pdf" 1
pades_check "$T/xs-bt.pdf" B-T
prefix_ok "$T/xs.pdf" "$T/xs-bt.pdf"
grep -aq 'PDFMARK' "$T/xs-bt.pdf" || true
inkan_verify "$T/xs-bt.pdf"
ok "PAdES B-B and B-T of qpdf-made PDFs (no pages; classic xref; xref and object streams): pdfsig valid and whole-document, the CMS checked by openssl cms over the /ByteRange and its time-stamp by openssl ts, qpdf --check clean, earlier bytes unchanged, inkan verify TOTAL-PASSED"

# A second signer signs the signed PDF: both stay valid.
must_sign bob "$bob" "$T/xs-bt.pdf" --output "$T/xs-2.pdf"
pdf_ok "$T/xs-2.pdf" 2
pades_check "$T/xs-2.pdf" B-T
prefix_ok "$T/xs-bt.pdf" "$T/xs-2.pdf"
grep -q 'Not total document signed' "$T/pdfsig.out" || fail "pdfsig: the first signature should cover only its revision: $(cat "$T/pdfsig.out")"
inkan_verify "$T/xs-2.pdf"
must_sign alice "$alice" "$T/page-bt.pdf" --level B-B --output "$T/page-2.pdf"
pdf_ok "$T/page-2.pdf" 2
inkan_verify "$T/page-2.pdf"
ok "a second signer on a signed PDF (classic and stream xref): both signatures valid in pdfsig and inkan verify"

# A PDF changed after signing fails.
# The page's MediaBox in the first revision, 595 -> 596 (same length, nothing else moves).
perl -0777 -pe 's{/MediaBox \[ 0 0 595}{/MediaBox [ 0 0 596}' "$T/page-bt.pdf" >"$T/page-bad.pdf"
cmp -s "$T/page-bt.pdf" "$T/page-bad.pdf" && fail "the test did not change the PDF"
pdfsig -nssdir "sql:$T/nss" "$T/page-bad.pdf" >"$T/pdfsig.out" 2>&1 || true
grep -q 'Signature is Valid' "$T/pdfsig.out" && fail "pdfsig accepts a changed PDF: $(cat "$T/pdfsig.out")"
grep -qE 'Signature is Invalid|Digest Mismatch' "$T/pdfsig.out" || fail "pdfsig does not say the changed PDF's signature is invalid: $(cat "$T/pdfsig.out")"
rc=0; "$INKAN_CLI" verify --json --trust "$CHAIN" --crl "$T/crl.der" "$T/page-bad.pdf" >"$T/v.json" 2>/dev/null || rc=$?
[ "$rc" != 0 ] && jq -e '.. | objects | select(has("indication")) | select(.indication == "TOTAL-FAILED")' "$T/v.json" >/dev/null ||
	fail "inkan verify does not fail a changed PDF: $(head -c 600 "$T/v.json")"
ok "a PDF changed after signing fails pdfsig and inkan verify"

# ---- the document never leaves the client ----
# A 4 MiB document with a unique marker: the client's socket writes (strace; TLS adds a few
# bytes per record) stay far below the document's size, and the marker appears nowhere on the
# (LeakSanitizer cannot run under ptrace: leak checks are off for this one run.)
# server side — log, databases, audit trail.
MARK="NEVER-SENT-$(openssl rand -hex 12)"
{ printf '%s\n' "$MARK"; head -c 4194304 /dev/urandom; printf '%s\n' "$MARK"; } >"$T/secret.doc"
INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$carol INKAN_PIN=$PIN INKAN_OTP=$(otp_next carol) \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -qq -e trace=sendto,sendmsg,write -e signal=none -o "$T/strace.out" \
	"$INKAN_CLI" sign --yes "$T/secret.doc" </dev/null >"$T/sign.out" 2>"$T/sign.err" ||
	fail "inkan sign under strace failed: $(cat "$T/sign.err")"
cms_ok "$T/secret.doc" "$T/secret.doc.p7s"
sent=$(grep -E '^[0-9]+ +(sendto|sendmsg)\(' "$T/strace.out" | sed -nE 's/.*= ([0-9]+)$/\1/p' | awk '{ s += $1 } END { print s + 0 }')
nsend=$(grep -cE '^[0-9]+ +(sendto|sendmsg)\(' "$T/strace.out" || true)
[ "$nsend" -gt 0 ] || fail "strace saw no socket writes: $(head -c 800 "$T/strace.out")"
[ "$sent" -lt 65536 ] || fail "the client sent $sent bytes for a 4 MiB document"
grep -F -- "$MARK" "$T/strace.out" | grep -vE '^[0-9]+ +write\([0-9]+, ' >/dev/null && fail "the marker appears in a socket write"
db .dump >"$T/inkan.dump"
sqlite3 "file:$DATA/sam/keystore.db?mode=ro" .dump >"$T/keystore.dump" 2>/dev/null || true
audit_records "$aud" >"$T/audit.json"
for f in "$LOG" "$T/inkan.dump" "$T/keystore.dump" "$T/audit.json" "$T/transcript"; do
	grep -aqF -- "$MARK" "$f" && fail "the document's marker appears in $f"
done
ok "the client sent $sent bytes over $nsend socket writes for a 4 MiB document; its marker is in no log, database or audit record"

# ---- a 1 GiB file, B-B and B-T ----
truncate -s 1G "$T/big.bin"
printf 'BIG-%s' "$(openssl rand -hex 16)" | dd of="$T/big.bin" conv=notrunc status=none
printf 'END-%s' "$(openssl rand -hex 16)" | dd of="$T/big.bin" bs=1 seek=$((1024 * 1024 * 1024 - 40)) conv=notrunc status=none
[ "$(stat -c %s "$T/big.bin")" = 1073741824 ] || fail "big.bin is not 1 GiB"
must_sign alice "$alice" "$T/big.bin" --level B-B --output "$T/big.bb.p7s"
cms_ok "$T/big.bin" "$T/big.bb.p7s"
must_sign bob "$bob" "$T/big.bin" --output "$T/big.bt.p7s"
cms_ok "$T/big.bin" "$T/big.bt.p7s"
ts_ok "$T/big.bt.p7s"
grep -q '1073741824 bytes' "$T/sign.err" || fail "inkan sign did not show the file size: $(cat "$T/sign.err")"
ok "a 1 GiB file signed as CAdES B-B and B-T verifies with openssl cms and openssl ts"
rm -f "$T/big.bin"

# ---- the built-in TSA: POST /tsa (RFC 3161) ----
printf 'tsa data %s\n' "$(openssl rand -hex 8)" >"$T/tsa.txt"
openssl ts -query -data "$T/tsa.txt" -sha256 -cert -out "$T/q1.tsq" 2>/dev/null
openssl ts -query -data "$T/tsa.txt" -sha512 -cert -out "$T/q2.tsq" 2>/dev/null
http POST /tsa -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q1.tsq"
expect_status 200
header Content-Type | grep -qi '^application/timestamp-reply' || fail "/tsa: Content-Type $(header Content-Type)"
cp "$T/body" "$T/r1.tsr"
http POST /tsa -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q2.tsq"
expect_status 200
cp "$T/body" "$T/r2.tsr"
for i in 1 2; do
	openssl ts -verify -queryfile "$T/q$i.tsq" -in "$T/r$i.tsr" -CAfile "$ROOT" -untrusted "$CHAIN" >"$T/ts.out" 2>&1 ||
		fail "openssl ts -verify refuses /tsa reply $i: $(cat "$T/ts.out")"
	openssl ts -reply -in "$T/r$i.tsr" -text >"$T/r$i.txt" 2>/dev/null
	grep -q 'Status: Granted' "$T/r$i.txt" || fail "reply $i not granted: $(cat "$T/r$i.txt")"
	grep -q 'Policy OID: 0.4.0.2023.1.1' "$T/r$i.txt" || fail "reply $i: policy: $(cat "$T/r$i.txt")"
	grep -q 'Accuracy: 0x01 seconds' "$T/r$i.txt" || fail "reply $i: no accuracy: $(cat "$T/r$i.txt")"
	qn=$(openssl ts -query -in "$T/q$i.tsq" -text 2>/dev/null | sed -n 's/^Nonce: //p')
	rn=$(sed -n 's/^Nonce: //p' "$T/r$i.txt")
	[ -n "$qn" ] && [ "$qn" = "$rn" ] || fail "reply $i: nonce $rn is not the request's $qn"
done
s1=$(sed -n 's/^Serial number: //p' "$T/r1.txt"); s2=$(sed -n 's/^Serial number: //p' "$T/r2.txt")
[ -n "$s1" ] && [ "$s1" != "$s2" ] && [ ${#s1} -ge 30 ] || fail "serials not unique or short: $s1 $s2"
# The TSA certificate: timeStamping the only extended key usage, critical.
openssl ts -reply -in "$T/r1.tsr" -token_out -out "$T/t1.der" 2>/dev/null
openssl pkcs7 -inform DER -in "$T/t1.der" -print_certs 2>/dev/null | openssl x509 -noout -ext extendedKeyUsage >"$T/eku.txt" 2>&1
grep -q 'critical' "$T/eku.txt" && grep -q 'Time Stamping' "$T/eku.txt" || fail "TSA certificate EKU: $(cat "$T/eku.txt")"
ok "POST /tsa: granted replies verify with openssl ts -verify (SHA-256 and SHA-512), policy, accuracy 1 s, nonce echoed, 128-bit unique serials, TSA EKU timeStamping critical"

# Refusals: each audited, nothing signed. Not a time-stamp query: HTTP 415; a query the TSA
# refuses: an RFC 3161 TimeStampResp with status rejection and the failure reason.
http POST /tsa -H 'Content-Type: application/json' --data-binary "@$T/q1.tsq"
expect_status 415
# reject Q FAILINFO: the answer to Q is a rejection naming FAILINFO, with no token.
reject() {
	http POST /tsa -H 'Content-Type: application/timestamp-query' --data-binary "@$1"
	expect_status 200
	openssl ts -reply -in "$T/body" -text >"$T/rej.txt" 2>&1 || fail "/tsa rejection is not a TimeStampResp: $(cat "$T/rej.txt")"
	grep -q 'Status: Rejected' "$T/rej.txt" && grep -qi "$2" "$T/rej.txt" && grep -q 'TST info:' "$T/rej.txt" &&
		! grep -q 'Serial number' "$T/rej.txt" || fail "/tsa: expected a rejection ($2): $(cat "$T/rej.txt")"
}
printf 'not a request' >"$T/junk.tsq"
reject "$T/junk.tsq" 'wrong format'
openssl ts -query -data "$T/tsa.txt" -sha1 -out "$T/q3.tsq" 2>/dev/null
reject "$T/q3.tsq" 'unrecognized or unsupported algorithm'
openssl ts -query -data "$T/tsa.txt" -sha256 -tspolicy 1.2.3.4 -out "$T/q4.tsq" 2>/dev/null
reject "$T/q4.tsq" 'policy'
ok "/tsa refuses a wrong content type (415), and answers garbage, SHA-1 and a foreign policy with RFC 3161 rejections (badDataFormat, badAlg, unacceptedPolicy)"

# ---- CSC signatures/timestamp ----
dg=$(openssl dgst -sha256 -binary "$T/tsa.txt" | base64 -w0)
api POST /csc/v2/signatures/timestamp "$(jq -nc --arg h "$dg" '{hash: $h, hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", nonce: "0a1b2c3d4e5f6071"}')" "$alice"
expect_status 200
printf '%s' "$BODY" | jq -r .timestamp | base64 -d >"$T/t3.der"
openssl ts -verify -token_in -in "$T/t3.der" -data "$T/tsa.txt" -CAfile "$ROOT" -untrusted "$CHAIN" >"$T/ts.out" 2>&1 ||
	fail "openssl ts -verify refuses the signatures/timestamp token: $(cat "$T/ts.out")"
openssl ts -reply -token_in -in "$T/t3.der" -token_out -text 2>/dev/null | grep -qi 'Nonce: 0x0\?A1B2C3D4E5F6071' ||
	fail "signatures/timestamp did not echo the nonce"
api POST /csc/v1/signatures/timestamp "$(jq -nc --arg h "$dg" '{hash: $h, hashAlgo: "2.16.840.1.101.3.4.2.1"}')" "$alice"
expect_status 200
api POST /csc/v2/signatures/timestamp "$(jq -nc --arg h "$dg" '{hash: $h, hashAlgorithmOID: "1.3.14.3.2.26"}')" "$alice"
expect_status 400
api POST /csc/v2/signatures/timestamp "$(jq -nc '{hash: "AAAA", hashAlgorithmOID: "2.16.840.1.101.3.4.2.1"}')" "$alice"
expect_status 400
api POST /csc/v2/signatures/timestamp "$(jq -nc --arg h "$dg" '{hash: $h, hashAlgorithmOID: "2.16.840.1.101.3.4.2.1"}')"
expect_status 401
# The CLI with --tsa URL speaks RFC 3161 to it directly.
must_sign dave "$dave" "$T/tsa.txt" --tsa "$URL/tsa"
ts_ok "$T/tsa.txt.p7s"
ok "signatures/timestamp (v2 and v1) gives tokens openssl ts verifies, echoes the nonce, refuses SHA-1, bad hashes and anonymous callers; inkan sign --tsa URL uses /tsa"

# ---- audit: every token issued and every refusal ----
audit_records "$aud" >"$T/audit.json"
ntok=$(jq '[.[] | select(.action == "tsa.timestamp" and .result == "success")] | length' "$T/audit.json")
nref=$(jq '[.[] | select(.action == "tsa.timestamp" and .result != "success")] | length' "$T/audit.json")
# B-T signatures: 2 text/bin + attached + pss + page-bt + xs-bt + xs-2 + secret.doc + big + tsa.txt = 10,
# /tsa 2, signatures/timestamp 2.
[ "$ntok" = 14 ] || fail "expected 14 tsa.timestamp success records, got $ntok: $(jq -c '[.[] | select(.action == "tsa.timestamp")]' "$T/audit.json")"
[ "$nref" -ge 6 ] || fail "expected at least 6 audited time-stamp refusals, got $nref"
for s in "$s1" "$s2"; do
	hex=$(printf '%s' "${s#0x}" | tr a-f A-F)
	jq -e --arg s "$hex" '[.[] | select(.action == "tsa.timestamp" and .subject == $s)] | length == 1' "$T/audit.json" >/dev/null ||
		fail "no audit record names time-stamp serial $hex"
done
ok "$ntok time-stamps and $nref refusals are in the audit trail as tsa.timestamp, each token by its serial"

# ---- the policy OID is configurable ----
stop_inkand
conf tsa_policy_oid 1.2.392.200091.9.9
start_inkand
printf '%s\n' "$URL" >"$T/ocsp-target"
http POST /tsa -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q1.tsq"
expect_status 200
openssl ts -reply -in "$T/body" -text 2>/dev/null | grep -q 'Policy OID: 1.2.392.200091.9.9' || fail "tsa_policy_oid not used"
ok "tsa_policy_oid sets the TSA policy"

check_no_secrets_in_dbs
kill "$OCSP_PROXY" 2>/dev/null || true
finish
