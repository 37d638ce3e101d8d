#!/bin/sh
# Seeds of fuzz_fetched (revocation data as verify/fetch.c receives it): a small PKI of its own
# (root, signer, delegated OCSP responder), OCSP responses by `openssl ocsp` (good, revoked,
# delegated, about another certificate) and CRLs by `openssl ca`, each framed as the harness
# reads it: kind (0 OCSP, 1 CRL), u16 issuer length, issuer DER, u16 subject length, subject
# DER, then the data. Usage: tests/fuzz/make_corpus_fetched.sh DIR (make_corpus.sh calls it).
set -eu
out=$(mkdir -p "$1" && cd "$1" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/inkan-corpus-fetched.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
q() { "$@" >/dev/null 2>&1 || { echo "make_corpus_fetched: $* failed" >&2; "$@"; exit 1; }; }
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
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/ocsp
crlDistributionPoints = URI:http://127.0.0.1:9/ca/crl
[responder]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
CNF
cat >ca.cnf <<'CNF'
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
q openssl ecparam -name prime256v1 -out p256.pem
q openssl req -x509 -config ext.cnf -extensions ca -newkey ec:p256.pem -nodes -keyout ca.key \
	-out ca.pem -subj "/O=inkan fuzz/CN=Fetch Root CA" -days 3650
issue() { # NAME EXTENSIONS
	q openssl req -new -config ext.cnf -newkey ec:p256.pem -nodes -keyout "$1.key" -out "$1.csr" \
		-subj "/O=inkan fuzz/CN=Fetch $1"
	q openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
		-extfile ext.cnf -extensions "$2" -out "$1.pem"
	q openssl x509 -in "$1.pem" -outform DER -out "$1.der"
}
issue signer signer
issue other signer
issue responder responder
q openssl x509 -in ca.pem -outform DER -out ca.der
# frame NAME KIND SUBJECT DATA
frame() {
	{
		printf "\\$(printf '%03o' "$2")"
		for f in ca.der "$3"; do
			n=$(wc -c <"$f")
			printf "\\$(printf '%03o' $((n >> 8)))\\$(printf '%03o' $((n & 255)))"
			cat "$f"
		done
		cat "$4"
	} >"$out/$1"
}
# index.txt as `openssl ocsp` reads it: signer valid, other revoked
ser() { openssl x509 -in "$1.pem" -noout -serial | cut -d= -f2; }
end=$(date -u -d '+3000 days' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t%s\tunknown\t/CN=Fetch signer\n' "$end" "$(ser signer)" >index.txt
printf 'R\t%s\t%s,superseded\t%s\tunknown\t/CN=Fetch other\n' "$end" "$(date -u +%y%m%d%H%M%SZ)" "$(ser other)" >>index.txt
ocsp() { # NAME SUBJECT RSIGNER RKEY [ARGS]
	n=$1 s=$2 rs=$3 rk=$4
	shift 4
	q openssl ocsp -issuer ca.pem -cert "$s.pem" -reqout "$n.req" "$@"
	q openssl ocsp -index index.txt -rsigner "$rs" -rkey "$rk" -CA ca.pem -reqin "$n.req" \
		-ndays 3650 -respout "$n.resp"
}
ocsp good signer ca.pem ca.key -no_nonce
ocsp revoked other ca.pem ca.key -no_nonce
ocsp delegated signer responder.pem responder.key -no_nonce
ocsp nonce signer ca.pem ca.key
frame ocsp-good 0 signer.der good.resp
frame ocsp-revoked 0 other.der revoked.resp
frame ocsp-delegated 0 signer.der delegated.resp
frame ocsp-nonce 0 signer.der nonce.resp
frame ocsp-other-cert 0 other.der good.resp
q openssl ca -config ca.cnf -gencrl -cert ca.pem -keyfile ca.key -out ca.crl
q openssl crl -in ca.crl -outform DER -out ca.crl.der
frame crl 1 signer.der ca.crl.der
frame crl-as-ocsp 0 signer.der ca.crl.der
