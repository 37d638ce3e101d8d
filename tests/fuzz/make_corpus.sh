#!/bin/sh
# Regenerates the seed corpora of tests/fuzz/corpus/ and anchor.pem from real material:
# openssl cms/ts, poppler's pdfsig, qpdf, and fuzz-seed-audit (built in BUILD, default build).
# Usage: tests/fuzz/make_corpus.sh [BUILD]. The output is committed, so that the corpus is
# stable; a new run makes new keys, so it changes every seed that holds a signature.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../build}" && pwd)
seed_audit="$build/fuzz/fuzz-seed-audit"
[ -x "$seed_audit" ] || { echo "make_corpus: build $seed_audit first (cmake --build $build --target fuzz-seed-audit)" >&2; exit 1; }
C="$here/corpus"
T=$(mktemp -d "${TMPDIR:-/tmp}/inkan-corpus.XXXXXX")
trap 'rm -rf "$T"' EXIT
for n in json b64 sam cades pdf tsa audit routes xades; do
	rm -rf "${C:?}/$n"
	mkdir -p "$C/$n"
done

# ---- a small PKI: root CA, signer (EC and RSA), TSA; valid 2026..2036 ----
cd "$T"
printf 'inkan fuzz seed document\n' >doc.txt   # FUZZ_DOC in fuzz_verify.h
cat >ext.cnf <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
authorityKeyIdentifier = keyid
CNF
q() { "$@" >/dev/null 2>&1 || { echo "make_corpus: $* failed" >&2; "$@"; exit 1; }; }
q openssl ecparam -name prime256v1 -out p256.pem
q openssl req -x509 -config ext.cnf -extensions ca -newkey ec:p256.pem -nodes -keyout ca.key \
	-out ca.pem -subj "/O=inkan fuzz/CN=Fuzz Root CA" -days 3650
issue() { # NAME KEYALG EXTENSIONS
	q openssl req -new -config ext.cnf -newkey "$2" -nodes -keyout "$1.key" -out "$1.csr" \
		-subj "/O=inkan fuzz/CN=Fuzz $1"
	q openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile ext.cnf -extensions "$3" -out "$1.pem"
}
issue signer ec:p256.pem signer
issue rsasigner rsa:2048 signer
issue tsa ec:p256.pem tsa
# The CA's CRL (nothing revoked, valid to 2036) is revocation data for every certificate above.
cat >crl.cnf <<'CNF'
[ca]
default_ca = fuzz
[fuzz]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 3650
CNF
: >index.txt
echo 01 >crlnumber
q openssl ca -config crl.cnf -gencrl -cert ca.pem -keyfile ca.key -out ca.crl
# anchor.pem: the trust anchor and its CRL, compiled into the harnesses (common.c).
cat ca.pem ca.crl >"$here/anchor.pem"

# ---- CMS / CAdES (fuzz_cades) ----
cms() { n=$1; shift; q openssl cms -sign -binary -in doc.txt -signer "$n.pem" -inkey "$n.key" -certfile ca.pem "$@"; }
cms signer -outform DER -out "$C/cades/detached.p7s"
cms signer -nodetach -outform DER -out "$C/cades/attached.p7s"
cms signer -cades -outform DER -out "$C/cades/cades-detached.p7s"
cms signer -cades -nodetach -outform PEM -out "$C/cades/cades-attached.pem"
cms rsasigner -keyopt rsa_padding_mode:pss -outform DER -out "$C/cades/rsa-pss.p7s"
cms rsasigner -noattr -outform PEM -out "$C/cades/noattr.pem"
q openssl cms -sign -binary -in doc.txt -signer signer.pem -inkey signer.key -nocerts -outform DER -out "$C/cades/nocerts.p7s"
openssl base64 -in "$C/cades/detached.p7s" -out "$C/cades/detached.b64"

# ---- RFC 3161 (fuzz_tsa, and the time-stamps of fuzz_cades) ----
cat >ts.cnf <<'CNF'
[tsa]
default_tsa = tsa_config
[tsa_config]
serial = tsaserial
signer_digest = sha256
default_policy = 0.4.0.2023.1.1
other_policies = 1.2.3.4
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
CNF
echo 01 >tsaserial
q openssl ts -query -data doc.txt -sha256 -cert -out "$C/tsa/query-sha256.tsq"
q openssl ts -query -data doc.txt -sha512 -no_nonce -out "$C/tsa/query-sha512-nononce.tsq"
q openssl ts -query -data doc.txt -sha256 -tspolicy 1.2.3.4 -out "$C/tsa/query-policy.tsq"
q openssl ts -query -data doc.txt -sha1 -out "$C/tsa/query-sha1.tsq"
q openssl ts -reply -config ts.cnf -queryfile "$C/tsa/query-sha256.tsq" -signer tsa.pem -inkey tsa.key \
	-chain ca.pem -out reply.tsr
q openssl ts -reply -config ts.cnf -queryfile "$C/tsa/query-sha256.tsq" -signer tsa.pem -inkey tsa.key \
	-chain ca.pem -token_out -out token.tst
q openssl ts -reply -config ts.cnf -queryfile "$C/tsa/query-sha512-nononce.tsq" -signer tsa.pem \
	-inkey tsa.key -out reply-sha512.tsr
cp reply.tsr token.tst reply-sha512.tsr "$C/tsa/"
cp reply.tsr "$C/cades/timestamp-reply.tsr"
cp token.tst "$C/cades/timestamp-token.tst"

# ---- PDFs (fuzz_pdf): qpdf --empty, a one-page file, and poppler's signatures of it ----
# pdfsig -add-signature embeds a whole font (760 KB) for the field's appearance: too large for
# a seed. pdfsig -sign fills an existing invisible field instead, with no appearance.
q qpdf --empty "$C/pdf/empty.pdf"
cat >page.pdf <<'PDF'
%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj
trailer << /Size 4 /Root 1 0 R >>
%%EOF
PDF
cat >fields.pdf <<'PDF'
%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R 5 0 R] /SigFlags 3 >> >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R 5 0 R] >> endobj
4 0 obj << /Type /Annot /Subtype /Widget /FT /Sig /T (first) /Rect [0 0 0 0] /F 132 /P 3 0 R >> endobj
5 0 obj << /Type /Annot /Subtype /Widget /FT /Sig /T (second) /Rect [0 0 0 0] /F 132 /P 3 0 R >> endobj
trailer << /Size 6 /Root 1 0 R >>
%%EOF
PDF
# qpdf rebuilds the cross-reference tables the texts lack: exit 3, "succeeded with warnings".
for f in page fields; do qpdf $f.pdf $f-x.pdf >/dev/null 2>&1 || [ $? -eq 3 ]; done
q qpdf page-x.pdf "$C/pdf/page.pdf"
q qpdf --object-streams=generate page-x.pdf "$C/pdf/page-objstm.pdf"
mkdir nss
q certutil -N -d sql:nss --empty-password
q openssl pkcs12 -export -in signer.pem -inkey signer.key -certfile ca.pem -name fuzz-signer \
	-passout pass: -out signer.p12
q pk12util -i signer.p12 -d sql:nss -W ''
# pdfsig may fail to shut NSS down and exit non-zero after writing: tried again, as t_verify does.
pdfsign() { # IN OUT FIELD [ARGS]
	i=0 in=$1 out=$2 field=$3
	shift 3
	while [ $i -lt 6 ]; do
		rm -f "$out"
		pdfsig -nssdir sql:nss -nick fuzz-signer -sign "$field" "$@" "$in" "$out" >/dev/null 2>&1 &&
			[ -s "$out" ] && return 0
		i=$((i + 1))
	done
	echo "make_corpus: pdfsig -sign $field $in failed" >&2
	exit 1
}
pdfsign fields-x.pdf "$C/pdf/signed-pkcs7.pdf" first
pdfsign fields-x.pdf "$C/pdf/signed-etsi.pdf" first -etsi
pdfsign "$C/pdf/signed-etsi.pdf" "$C/pdf/signed-twice.pdf" second -etsi

# ---- PAdES B-LT and B-LTA: a DSS written by `inkan extend` (the CA's CRL given, nothing
# fetched), a document time-stamp of openssl ts (pdf_forge), and the DSS renewed for it ----
ltv_seeds() {
	sed -e '/^\[tsa_config\]/a signer_cert = tsa.pem\nsigner_key = tsa.key\ncerts = ca.pem' ts.cnf >ts-doc.cnf
	q openssl x509 -in ca.pem -outform DER -out ca.der
	q openssl crl -in ca.crl -outform DER -out ca-crl.der
	q "$build/inkan" extend "$C/pdf/signed-etsi.pdf" --level B-LT --offline --cert ca.der \
		--crl ca-crl.der --output "$C/pdf/ltv-dss.pdf"
	q python3 "$here/../e2e/pdf_forge.py" sign "$C/pdf/ltv-dss.pdf" "$C/pdf/ltv-docts.pdf" \
		--doc-timestamp --tsa ts-doc.cnf
	q "$build/inkan" extend "$C/pdf/ltv-docts.pdf" --level B-LT --offline --cert ca.der \
		--crl ca-crl.der --output "$C/pdf/ltv-renewed.pdf"
}
ltv_seeds

# ---- audit bundles and proofs (fuzz_audit) ----
q "$seed_audit" "$C/audit"

# ---- fetched revocation data (fuzz_fetched): a PKI of its own ----
rm -rf "${C:?}/fetched"
sh "$here/make_corpus_fetched.sh" "$C/fetched"

# ---- JSON request bodies (fuzz_json) ----
j() { printf '%s' "$2" >"$C/json/$1.json"; }
j authorize '{"credentialID":"c1","numSignatures":2,"hashes":["q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJo=","AAAA"],"hashAlgorithmOID":"2.16.840.1.101.3.4.2.1","PIN":"1234","OTP":"123456","clientData":"x"}'
j list '{"userID":"alice","credentialInfo":true,"onlyValid":false,"maxResults":10,"offset":-5,"password":"s3cret"}'
j users '{"username":"bob","roles":["signer","auditor"],"codes":["1","2"],"idv_document_number":"P123"}'
j nulls '{"credentialID":null,"hashes":[],"maxResults":null,"roles":[null]}'
j nested '{"a":{"b":[1,2,{"c":"\u0000"}]},"PIN":"\u00e9\ud83d\ude00","numSignatures":1e3}'
j empty ''

# ---- base64 (fuzz_b64) ----
printf '%s' 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJo=' >"$C/b64/hash32"
printf '%s' 'AA==' >"$C/b64/pad2"
printf '%s' 'QQ=A' >"$C/b64/badpad"
printf '%s' 'dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q' >"$C/b64/token43"
printf 'MIIB\n AAAA \r\nAA==\n' >"$C/b64/lenient"
cp ca.pem "$C/b64/pem"

# ---- SAM frames (fuzz_sam): u32 length, the reply type, then getter op + fields ----
frame() { # NAME HEXPAYLOAD
	p=$(printf '%s' "$2" | tr -d ' ')
	printf '%08x%s' $(( ${#p} / 2 )) "$p" | xxd -r -p >"$C/sam/$1"
}
str() { printf '%08x' "${#1}"; printf '%s' "$1" | xxd -p | tr -d '\n'; }
u64() { printf '%016x' "$1"; }
cred="$(str c1)$(str alice)$(str ec-p256)00000001$(u64 0)$(u64 1790000000)$(str 0a1b)$(u64 1790000000)$(u64 1890000000)$(u64 0)00000000$(str CERT)$(str PUB)"
head="$(u64 9)00000020$(printf '11%.0s' $(seq 32))$(u64 1790000009)$(str SIG)"
frame ping "80 01 $(printf '%08x' 4242)"
frame error "81 $(printf '%08x' 7)"
frame cred "80 05 $cred"
frame creds "80 01 00000002 05 $cred 05 $cred"
frame head "80 06 $head 00 01 03 $(str key)"
frame fields "80 00 07 02 $(u64 12345) 03 $(str abc) 04 $(str cstring)"
frame badlen "80 03 ffffffff"

# ---- request lines (fuzz_routes): a byte of listener classes, then METHOD PATH ----
r() { printf "$2" >"$C/routes/$1"; }
r signhash '\001POST /csc/v2/signatures/signHash'
r info '\005GET /csc/v1/info'
r user '\002GET /api/v1/users/alice%%20b'
r role '\002DELETE /api/v1/users/bob/roles/signer'
r badpct '\002GET /api/v1/users/%%2F..%%00'
r keys '\003POST /api/v1/keys/abc/revoke'
r method '\004PUT /tsa'
r long '\002GET /api/v1/users/%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41%%41'
# ---- XML signatures (fuzz_xades) ----
. "$here/corpus_xades.sh"

echo "make_corpus: $(find "$C" -type f | wc -l) seeds, $(du -sk "$C" | cut -f1) KiB" >&2
