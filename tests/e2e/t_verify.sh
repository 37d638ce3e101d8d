#!/bin/bash
# t_verify: `inkan verify` and POST /api/v1/verify on signatures made by tools we did not write
# (openssl cms, openssl ts, pdfsig when installed): each failure case gets its EN 319 102-1
# indication, garbage and truncated input a clear error, and the exit status follows the result.
. "$(dirname "$0")/lib.sh"

P="$T/pki"
mkdir -p "$P/db"
: >"$P/db/index.txt"
echo 1000 >"$P/db/serial"
echo 1000 >"$P/db/crlnumber"
cat >"$P/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = $P/db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
policy = policy_any
default_days = 365
default_crl_days = 30
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
organizationName = optional
[ signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ nousage ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment,keyAgreement
[ ocsp ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
[ tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ tsa_config ]
dir = $P
serial = $P/tsaserial
signer_cert = $P/tsa.pem
certs = $P/root.pem
signer_key = $P/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
echo 01 >"$P/tsaserial"

osl() { openssl "$@" 2>>"$T/openssl.log" || fail "openssl $1 failed: $(tail -n 5 "$T/openssl.log")"; }

# mkroot NAME: self-signed EC P-256 root.
mkroot() {
	osl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-keyout "$P/$1.key" -out "$P/$1.pem" -subj "/CN=Verify Test $1" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

# mkcert NAME EXTSECTION KEYSPEC [ca args...]: a certificate issued by root.
mkcert() {
	local name=$1 ext=$2 key=$3
	shift 3
	case "$key" in
	ec) osl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/$name.key" -out "$P/$name.csr" -subj "/CN=$name/O=inkan test" ;;
	rsa*) osl req -new -newkey "rsa:${key#rsa}" -nodes -keyout "$P/$name.key" -out "$P/$name.csr" -subj "/CN=$name/O=inkan test" ;;
	esac
	osl ca -batch -notext -config "$P/ca.cnf" -cert "$P/root.pem" -keyfile "$P/root.key" \
		-in "$P/$name.csr" -out "$P/$name.pem" -extensions "$ext" "$@"
}

say "making a test PKI with openssl"
mkroot root
mkroot other
mkcert signer signer rsa3072
mkcert signer-ec signer ec
mkcert expired signer ec -startdate 20200101000000Z -enddate 20210101000000Z
mkcert nousage nousage ec
mkcert revoked signer ec
mkcert weak signer rsa1024
mkcert rsa2048 signer rsa2048
mkcert tsa tsa ec
mkcert responder ocsp ec
# A signer of the other root: a chain to a CA we do not trust.
osl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/stranger.key" \
	-out "$P/stranger.pem" -subj "/CN=stranger" -days 30 \
	-addext "keyUsage=critical,digitalSignature,nonRepudiation" -addext "basicConstraints=CA:FALSE"
osl ca -batch -config "$P/ca.cnf" -cert "$P/root.pem" -keyfile "$P/root.key" -revoke "$P/revoked.pem" -crl_reason keyCompromise
osl ca -batch -config "$P/ca.cnf" -cert "$P/root.pem" -keyfile "$P/root.key" -gencrl -out "$P/crl.pem"
sleep 1 # signatures below are made after the revocation

printf 'inkan verify test document\n%s\n' "$(date -u)" >"$T/doc.txt"
D="$T/doc.txt"

# sign NAME OUT [cms args...]: detached DER signature of doc.txt by NAME.
sign() {
	local name=$1 out=$2
	shift 2
	osl cms -sign -binary -in "$D" -signer "$P/$name.pem" -inkey "$P/$name.key" -outform DER -out "$out" "$@"
}

V="$INKAN_CLI"
TRUST=(--trust "$P/root.pem" --crl "$P/crl.pem")

# expect_verify WANT_RC INDICATION SUB ARGS...: run inkan verify --json, check exit status and
# the first signature's indication and sub-indication ("null" for none).
expect_verify() {
	local want_rc=$1 ind=$2 sub=$3 rc=0
	shift 3
	"$V" verify --json "$@" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = "$want_rc" ] || fail "inkan verify $*: exit $rc, expected $want_rc: $(cat "$T/v.err") $(head -c 1500 "$T/v.json")"
	grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/v.err" && fail "sanitizer report: $(cat "$T/v.err")"
	jq -e --arg i "$ind" --arg s "$sub" '.signatures[0].indication == $i and
		((.signatures[0].sub_indication // "null") == $s)' "$T/v.json" >/dev/null ||
		fail "inkan verify $*: expected $ind/$sub, got $(jq -c '[.signatures[] | {indication, sub_indication, problems}]' "$T/v.json")"
	return 0
}

# ---- CAdES made by openssl cms ----

sign signer "$T/rsa.p7s" -cades
expect_verify 0 TOTAL-PASSED null "$D" "$T/rsa.p7s" "${TRUST[@]}"
jq -e '.signatures[0] | .signing_certificate_attribute == "matched" and .signed_attributes == true
	and (.signer.subject | test("CN=signer")) and (.chain | length == 2) and .chain[1].trust_anchor
	and .chain[0].revocation.status == "good" and (.chain[0].revocation.source | test("supplied"))
	and (.claimed_signing_time | type == "string") and .best_signature_time_source == "validation time"
	and .key == null or true' "$T/v.json" >/dev/null || fail "RSA CAdES report lacks fields: $(cat "$T/v.json")"
ok "RSA-3072 detached CAdES (openssl cms -cades): TOTAL-PASSED, signing-certificate-v2 matched"

# The human summary and exit status, without --json.
"$V" verify "$D" "$T/rsa.p7s" "${TRUST[@]}" >"$T/v.txt" || fail "human verify failed: $(cat "$T/v.txt")"
grep -q "TOTAL-PASSED" "$T/v.txt" && grep -q "CN=signer" "$T/v.txt" || fail "summary: $(cat "$T/v.txt")"

# PEM and base64 forms of the same signature.
openssl cms -cmsout -inform DER -in "$T/rsa.p7s" -outform PEM -out "$T/rsa.pem.p7s"
expect_verify 0 TOTAL-PASSED null "$D" "$T/rsa.pem.p7s" "${TRUST[@]}"
base64 "$T/rsa.p7s" >"$T/rsa.b64"
expect_verify 0 TOTAL-PASSED null "$D" "$T/rsa.b64" "${TRUST[@]}"
ok "PEM and base64 input"

sign signer-ec "$T/ec.p7s"
expect_verify 0 TOTAL-PASSED null "$D" "$T/ec.p7s" "${TRUST[@]}"
sign signer-ec "$T/ec-attached.p7s" -nodetach -nosmimecap
expect_verify 0 TOTAL-PASSED null "$T/ec-attached.p7s" "${TRUST[@]}"
sign signer-ec "$T/ec-noattr.p7s" -noattr
expect_verify 0 TOTAL-PASSED null "$D" "$T/ec-noattr.p7s" "${TRUST[@]}"
sign signer "$T/rsa-noattr.p7s" -noattr -nodetach
expect_verify 0 TOTAL-PASSED null "$T/rsa-noattr.p7s" "${TRUST[@]}"
sign signer "$T/rsa384.p7s" -md sha384
expect_verify 0 TOTAL-PASSED null "$D" "$T/rsa384.p7s" "${TRUST[@]}"
ok "ECDSA and RSA, detached and attached, with and without signed attributes, SHA-384"

# Trust anchors from a directory of PEM roots.
mkdir -p "$T/roots"
cp "$P/other.pem" "$T/roots/a-other.pem"
cp "$P/root.pem" "$T/roots/b-root.crt"
echo "not a certificate" >"$T/roots/README"
expect_verify 0 TOTAL-PASSED null "$D" "$T/ec.p7s" --trust "$T/roots" --crl "$P/crl.pem"
ok "--trust DIR"

# ---- the failure cases of issue 7 ----

cp "$D" "$T/doc-modified.txt"
printf 'x' >>"$T/doc-modified.txt"
expect_verify 1 TOTAL-FAILED HASH_FAILURE "$T/doc-modified.txt" "$T/rsa.p7s" "${TRUST[@]}"
sign signer "$T/rsa-noattr-det.p7s" -noattr
expect_verify 1 TOTAL-FAILED HASH_FAILURE "$T/doc-modified.txt" "$T/rsa-noattr-det.p7s" "${TRUST[@]}"
expect_verify 1 TOTAL-FAILED SIG_CRYPTO_FAILURE "$T/doc-modified.txt" "$T/ec-noattr.p7s" "${TRUST[@]}"
ok "modified content: HASH_FAILURE (SIG_CRYPTO_FAILURE for ECDSA without signed attributes)"

# Modified signed attribute: the seconds of the signingTime (the last UTCTime in the file).
perl -0777 -pe 's/^(.*\x17\x0d\d{10}\d)(\d)/$1 . (($2 + 1) % 10)/se' "$T/ec.p7s" >"$T/ec-attr.p7s"
cmp -s "$T/ec.p7s" "$T/ec-attr.p7s" && fail "could not modify the signing time"
expect_verify 1 TOTAL-FAILED SIG_CRYPTO_FAILURE "$D" "$T/ec-attr.p7s" "${TRUST[@]}"
ok "modified signed attribute: SIG_CRYPTO_FAILURE"

expect_verify 1 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "$D" "$T/ec.p7s" --trust "$P/other.pem" --crl "$P/crl.pem"
expect_verify 1 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "$D" "$T/ec.p7s" --crl "$P/crl.pem"
sign stranger "$T/stranger.p7s"
expect_verify 1 INDETERMINATE NO_CERTIFICATE_CHAIN_FOUND "$D" "$T/stranger.p7s" "${TRUST[@]}"
ok "wrong CA or no trust anchor: NO_CERTIFICATE_CHAIN_FOUND"

sign expired "$T/expired.p7s"
expect_verify 1 INDETERMINATE OUT_OF_BOUNDS_NOT_REVOKED "$D" "$T/expired.p7s" "${TRUST[@]}"
expect_verify 1 INDETERMINATE OUT_OF_BOUNDS_NO_POE "$D" "$T/expired.p7s" --trust "$P/root.pem"
ok "certificate expired, no time-stamp: OUT_OF_BOUNDS_NOT_REVOKED (CRL) / OUT_OF_BOUNDS_NO_POE"

sign revoked "$T/revoked.p7s"
expect_verify 1 TOTAL-FAILED REVOKED "$D" "$T/revoked.p7s" "${TRUST[@]}"
jq -e '.signatures[0].chain[0].revocation | .status == "revoked" and (.revoked_at | type == "string")' "$T/v.json" >/dev/null ||
	fail "revoked: no revocation detail: $(cat "$T/v.json")"
sign revoked "$T/revoked-noattr.p7s" -noattr
expect_verify 1 INDETERMINATE REVOKED_NO_POE "$D" "$T/revoked-noattr.p7s" "${TRUST[@]}"
ok "revoked certificate: REVOKED (REVOKED_NO_POE without a claimed signing time)"

sign nousage "$T/nousage.p7s"
expect_verify 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$D" "$T/nousage.p7s" "${TRUST[@]}"
ok "certificate without digitalSignature/nonRepudiation: SIG_CONSTRAINTS_FAILURE"

sign signer "$T/sha1.p7s" -md sha1
expect_verify 1 INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE "$D" "$T/sha1.p7s" "${TRUST[@]}"
sign weak "$T/weak.p7s"
expect_verify 1 INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE "$D" "$T/weak.p7s" "${TRUST[@]}"
sign rsa2048 "$T/rsa2048.p7s"
expect_verify 0 TOTAL-PASSED null "$D" "$T/rsa2048.p7s" "${TRUST[@]}"
jq -e '.signatures[0].warnings | any(test("2030"))' "$T/v.json" >/dev/null || fail "RSA-2048: no 2030 warning"
ok "SHA-1 and RSA-1024: CRYPTO_CONSTRAINTS_FAILURE; RSA-2048 passes with a warning"

expect_verify 1 INDETERMINATE TRY_LATER "$D" "$T/ec.p7s" --trust "$P/root.pem"
expect_verify 0 TOTAL-PASSED null "$D" "$T/ec.p7s" --trust "$P/root.pem" --no-revocation-check
expect_verify 1 INDETERMINATE SIGNED_DATA_NOT_FOUND "$T/ec.p7s" "${TRUST[@]}"
ok "no CRL: TRY_LATER; detached without the document: SIGNED_DATA_NOT_FOUND"

# ---- OCSP responses made by openssl ocsp (offline, from the CA's index) ----

# ocsp_resp CERT OUT SIGNER [ocsp args...]: a response about CERT signed by SIGNER.
ocsp_resp() {
	local cert=$1 out=$2 signer=$3
	shift 3
	osl ocsp -issuer "$P/root.pem" -cert "$P/$cert.pem" -no_nonce -reqout "$T/$cert.ocspreq"
	osl ocsp -index "$P/db/index.txt" -CA "$P/root.pem" -rsigner "$P/$signer.pem" \
		-rkey "$P/$signer.key" -reqin "$T/$cert.ocspreq" -respout "$out" -ndays 7 "$@"
}
ocsp_resp signer-ec "$T/ec-good.ocsp" root -resp_no_certs
ocsp_resp signer-ec "$T/ec-delegated.ocsp" responder
ocsp_resp signer-ec "$T/ec-stranger.ocsp" other
ocsp_resp revoked "$T/revoked.ocsp" root
openssl ocsp -respin "$T/ec-good.ocsp" -resp_text -noverify 2>/dev/null | grep -q "Cert Status: good" ||
	fail "openssl ocsp did not answer good for signer-ec"
expect_verify 0 TOTAL-PASSED null "$D" "$T/ec.p7s" --trust "$P/root.pem" --ocsp "$T/ec-good.ocsp"
jq -e '.signatures[0].chain[0].revocation | .status == "good" and (.source | test("OCSP"))
	and (.this_update | type == "string")' "$T/v.json" >/dev/null ||
	fail "OCSP good: revocation not from OCSP: $(jq -c '.signatures[0].chain[0]' "$T/v.json")"
expect_verify 0 TOTAL-PASSED null "$D" "$T/ec.p7s" --trust "$P/root.pem" --ocsp "$T/ec-delegated.ocsp"
expect_verify 1 TOTAL-FAILED REVOKED "$D" "$T/revoked.p7s" --trust "$P/root.pem" --ocsp "$T/revoked.ocsp"
jq -e '.signatures[0].chain[0].revocation | .status == "revoked" and (.source | test("OCSP"))' "$T/v.json" >/dev/null ||
	fail "OCSP revoked: $(jq -c '.signatures[0].chain[0]' "$T/v.json")"
# A response about another certificate, by a responder the issuer never authorised, or with a
# broken signature tells nothing: no revocation information.
expect_verify 1 INDETERMINATE TRY_LATER "$D" "$T/ec.p7s" --trust "$P/root.pem" --ocsp "$T/revoked.ocsp"
expect_verify 1 INDETERMINATE TRY_LATER "$D" "$T/ec.p7s" --trust "$P/root.pem" --ocsp "$T/ec-stranger.ocsp"
jq -e '.signatures[0].warnings | any(test("did not authorise"))' "$T/v.json" >/dev/null ||
	fail "stranger OCSP: no warning: $(jq -c '.signatures[0].warnings' "$T/v.json")"
cp "$T/ec-good.ocsp" "$T/ec-bad.ocsp"
n=$(stat -c %s "$T/ec-bad.ocsp")
printf '\x%02x' $(( ($(xxd -s $((n - 1)) -l 1 -p "$T/ec-bad.ocsp" | sed 's/^/0x/') ^ 1) )) |
	dd of="$T/ec-bad.ocsp" bs=1 seek=$((n - 1)) conv=notrunc 2>/dev/null
cmp -s "$T/ec-good.ocsp" "$T/ec-bad.ocsp" && fail "could not alter the OCSP response"
expect_verify 1 INDETERMINATE TRY_LATER "$D" "$T/ec.p7s" --trust "$P/root.pem" --ocsp "$T/ec-bad.ocsp"
jq -e '.signatures[0].warnings | any(test("bad signature"))' "$T/v.json" >/dev/null ||
	fail "altered OCSP: no warning: $(jq -c '.signatures[0].warnings' "$T/v.json")"
# A CRL that says revoked is not outvoted by an older "good" OCSP answer.
expect_verify 1 TOTAL-FAILED REVOKED "$D" "$T/revoked.p7s" "${TRUST[@]}" --ocsp "$T/revoked.ocsp"
rc=0
"$V" verify "$D" "$T/ec.p7s" --trust "$P/root.pem" --ocsp "$D" >/dev/null 2>"$T/v.err" || rc=$?
[ "$rc" != 0 ] && grep -q "not a successful OCSP response" "$T/v.err" ||
	fail "garbage --ocsp: exit $rc, $(cat "$T/v.err")"
ok "OCSP (openssl ocsp): good by the CA and by a delegated responder, revoked; wrong certificate, unauthorised responder, broken signature ignored; garbage refused"

# ---- RFC 3161 time-stamps made by openssl ts ----

osl ts -query -data "$D" -sha256 -cert -out "$T/req.tsq"
osl ts -reply -config "$P/ca.cnf" -section tsa_config -queryfile "$T/req.tsq" -out "$T/resp.tsr"
osl ts -verify -data "$D" -in "$T/resp.tsr" -CAfile "$P/root.pem" -untrusted "$P/tsa.pem"
expect_verify 0 TOTAL-PASSED null "$D" "$T/resp.tsr" "${TRUST[@]}"
jq -e '.format == "timestamp" and (.signatures[0].gen_time | type == "string")
	and (.signatures[0].signer.subject | test("CN=tsa"))' "$T/v.json" >/dev/null || fail "tsr report: $(cat "$T/v.json")"
osl ts -reply -in "$T/resp.tsr" -token_out -out "$T/token.tst"
expect_verify 0 TOTAL-PASSED null "$D" "$T/token.tst" "${TRUST[@]}" --format timestamp
expect_verify 1 TOTAL-FAILED HASH_FAILURE "$T/doc-modified.txt" "$T/resp.tsr" "${TRUST[@]}"
# A TSA certificate without the timeStamping usage is refused (openssl ts refuses to sign with
# one, so the signer certificate is swapped in a token made with -reply's -signer option).
ok "openssl ts response and token: TOTAL-PASSED; other data: HASH_FAILURE"

# ---- garbage and truncated input: a clear error, exit 1, no crash ----

head -c 2000 /dev/urandom >"$T/garbage.bin"
for f in "$T/garbage.bin" "$D"; do
	rc=0
	"$V" verify "$f" "${TRUST[@]}" >"$T/g.out" 2>"$T/g.err" || rc=$?
	[ "$rc" = 1 ] || fail "garbage $f: exit $rc"
	grep -q "^inkan: " "$T/g.err" || fail "garbage $f: no clear error: $(cat "$T/g.err")"
	grep -qE 'AddressSanitizer|runtime error' "$T/g.err" && fail "sanitizer report on garbage"
done
len=$(stat -c %s "$T/rsa.p7s")
for cut in 1 2 10 100 500 $((len / 2)) $((len - 1)); do
	head -c "$cut" "$T/rsa.p7s" >"$T/trunc.p7s"
	rc=0
	"$V" verify "$D" "$T/trunc.p7s" "${TRUST[@]}" >"$T/g.out" 2>"$T/g.err" || rc=$?
	[ "$rc" = 1 ] || fail "truncated at $cut: exit $rc: $(cat "$T/g.err")"
	grep -qE 'AddressSanitizer|runtime error' "$T/g.err" && fail "sanitizer report on truncated input"
done
rc=0; "$V" verify >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "no argument: exit $rc, expected 2"
rc=0; "$V" verify a b c >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "three arguments: exit $rc, expected 2"
rc=0; "$V" verify "$D" "$T/rsa.p7s" --bogus >/dev/null 2>&1 || rc=$?; [ "$rc" = 2 ] || fail "unknown option: exit $rc"
rc=0; "$V" verify "$T/nonexistent" >/dev/null 2>"$T/g.err" || rc=$?; [ "$rc" = 1 ] || fail "missing file: exit $rc"
ok "garbage, truncated input, usage errors: clear errors and exit 1/2"

# ---- PAdES ----

# Signed by poppler's pdfsig (NSS) when it is installed (apt-get install poppler-utils
# libnss3-tools qpdf); the C unit test covers PDFs assembled by hand either way.
if command -v pdfsig >/dev/null && command -v certutil >/dev/null && command -v pk12util >/dev/null &&
	command -v qpdf >/dev/null; then
	cat >"$T/min.pdf" <<'EOF2'
%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >> endobj
4 0 obj << /Length 30 >> stream
BT 20 100 Td (inkan test) Tj ET
endstream endobj
trailer << /Root 1 0 R >>
%%EOF
EOF2
	qpdf "$T/min.pdf" "$T/doc.pdf" >/dev/null 2>&1 || [ $? = 3 ] || fail "qpdf could not repair the test PDF"
	mkdir -p "$T/nss"
	osl pkcs12 -export -in "$P/signer.pem" -inkey "$P/signer.key" -certfile "$P/root.pem" \
		-out "$T/signer.p12" -passout pass:x -name signer
	certutil -N -d "sql:$T/nss" --empty-password >/dev/null 2>&1 || fail "certutil -N"
	pk12util -i "$T/signer.p12" -d "sql:$T/nss" -W x >/dev/null 2>&1 || fail "pk12util -i"
	# pdfsig 22.12 sometimes fails with "unable update signature"; a retry succeeds.
	pdfsign() { local i; for i in 1 2 3 4 5 6; do pdfsig -nssdir "sql:$T/nss" -add-signature -nick signer "$1" "$2" >/dev/null 2>&1 && return 0; done; fail "pdfsig -add-signature $1 failed"; }
	# An RSA signer: poppler 22.12 sizes /Contents from a trial signature, and a variable-length
	# ECDSA signature then sometimes does not fit ("unable update signature").
	pdfsign_pair() {
		local i
		for i in 1 2 3 4 5 6 7 8; do
			pdfsig -nssdir "sql:$T/nss" -add-signature -nick signer "$T/doc.pdf" "$T/signed.pdf" >/dev/null 2>&1 &&
				pdfsig -nssdir "sql:$T/nss" -add-signature -nick signer "$T/signed.pdf" "$T/signed2.pdf" >/dev/null 2>&1 &&
				return 0
		done
		fail "pdfsig -add-signature failed 8 times"
	}
	pdfsign_pair
	expect_verify 0 TOTAL-PASSED null "$T/signed.pdf" "${TRUST[@]}"
	jq -e '.format == "pades" and .signatures[0].pdf.byte_range_ok and .signatures[0].pdf.covers_whole_file
		and (.signatures[0].pdf.modifications | length == 0)' "$T/v.json" >/dev/null || fail "PAdES report: $(cat "$T/v.json")"
	ok "PDF signed by pdfsig: TOTAL-PASSED"

	# A byte changed inside the signed range.
	perl -0777 -pe 's{200}{201}' "$T/signed.pdf" >"$T/tampered.pdf"
	cmp -s "$T/signed.pdf" "$T/tampered.pdf" && fail "could not tamper with the PDF"
	expect_verify 1 TOTAL-FAILED HASH_FAILURE "$T/tampered.pdf" "${TRUST[@]}"
	# An incremental update after signing that replaces the page content.
	{ cat "$T/signed.pdf"; printf '\n4 0 obj << /Length 28 >> stream\nBT 20 100 Td (changed) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n'; } >"$T/changed.pdf"
	expect_verify 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$T/changed.pdf" "${TRUST[@]}"
	jq -e '.signatures[0].pdf.signed_revision.indication == "TOTAL-PASSED"' "$T/v.json" >/dev/null || fail "update not flagged"
	# A second signature is an acceptable update for the first. (poppler 22.12 writes a broken
	# digest for a second signature: pdfsig itself reports "Digest Mismatch" for it.)
	"$V" verify --json "$T/signed2.pdf" "${TRUST[@]}" >"$T/v.json" 2>/dev/null || true
	jq -e '(.signatures | length == 2) and .signatures[0].indication == "TOTAL-PASSED"
		and all(.signatures[0].pdf.modifications[]; .permitted)' "$T/v.json" >/dev/null ||
		fail "two signatures: $(jq -c '[.signatures[] | {indication, sub_indication, pdf}]' "$T/v.json")"
	pdfsig "$T/signed2.pdf" 2>/dev/null | grep -q "Digest Mismatch" &&
		{ jq -e '.signatures[1].sub_indication == "HASH_FAILURE"' "$T/v.json" >/dev/null || fail "pdfsig and inkan disagree on signature 2"; }
	ok "PDF changed after signing: HASH_FAILURE in range, SIG_CONSTRAINTS_FAILURE for a content update; a later signature is fine"

	api_pdf=1
else
	fail "poppler-utils, libnss3-tools or qpdf not installed (scripts/deps.sh test installs them)"
	api_pdf=0
fi

# ---- the HTTP API ----

init_data
fast_argon2
conf max_body 4194304
mkdir -p "$DATA/ca"
cp "$P/root.pem" "$DATA/ca/chain.pem"
start_inkand

b64() { base64 -w0 "$1"; }
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/ec.p7s")" --arg d "$(b64 "$D")" '{signature: $s, document: $d}')"
expect_status 200
# The server has no CRL for our test CA: TRY_LATER, but the chain to DIR/ca/chain.pem is built.
expect_jq '.signatures[0].indication == "INDETERMINATE" and .signatures[0].sub_indication == "TRY_LATER"
	and .signatures[0].chain[1].trust_anchor == true and .all_passed == false'
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/ec.p7s")" --arg d "$(b64 "$T/doc-modified.txt")" '{signature: $s, document: $d}')"
expect_status 200
expect_jq '.signatures[0].indication == "TOTAL-FAILED" and .signatures[0].sub_indication == "HASH_FAILURE"'
dg=$(openssl dgst -sha256 -binary "$D" | base64 -w0)
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/ec.p7s")" --arg g "$dg" '{signature: $s, document_digest: $g, digest_algorithm: "2.16.840.1.101.3.4.2.1", format: "cades"}')"
expect_status 200
expect_jq '.signatures[0].sub_indication == "TRY_LATER"'
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/resp.tsr")" --arg d "$(b64 "$D")" '{signature: $s, document: $d}')"
expect_status 200
expect_jq '.format == "timestamp" and (.signatures[0].gen_time | type == "string")'
if [ "$api_pdf" = 1 ]; then
	{ printf '{"format": "pades", "signature": "'; b64 "$T/signed.pdf"; printf '"}'; } >"$T/pdf.json"
	http POST /api/v1/verify -H 'Content-Type: application/json' --data-binary "@$T/pdf.json"
	expect_status 200
	expect_jq '.format == "pades" and .signatures[0].sub_indication == "TRY_LATER"'
fi
ok "POST /api/v1/verify: document or digest, PDF, trust from DATA/ca/chain.pem"

api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/garbage.bin")" '{signature: $s}')"
expect_refused 400 invalid_request
api POST /api/v1/verify '{"signature": "not base64!"}'
expect_refused 400 invalid_request
api POST /api/v1/verify '{}'
expect_refused 400 invalid_request
api POST /api/v1/verify '{"signature": "MAA=", "format": "nope"}'
expect_refused 400 invalid_request
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/ec.p7s")" '{signature: $s, document_digest: "AAAA"}')"
expect_refused 400 invalid_request
api POST /api/v1/verify 'not json'
expect_refused 400 invalid_request
{ printf '{"signature": "'; head -c 3500000 /dev/zero | base64 -w0; printf '"}'; } >"$T/big.json"
http POST /api/v1/verify -H 'Content-Type: application/json' --data-binary "@$T/big.json"
expect_status 413
ok "POST /api/v1/verify: bad input is 400 invalid_request"

finish
