#!/bin/bash
# t_verify_paths: issue 14 — every path where inkan verify could judge other bytes or another
# certificate than the relying party believes: an attached signature next to a document, a PDF
# next to a document, a detached one without it, time-stamp imprints, certificates in the CMS
# that are not the signer's, several signers. Inputs made by openssl; every pass we rely on is
# also a pass for `openssl cms -verify` / `openssl ts -verify`.
. "$(dirname "$0")/lib.sh"

P="$T/pki"
mkdir -p "$P"
osl() { openssl "$@" 2>>"$T/openssl.log" || fail "openssl $1 failed: $(tail -n 5 "$T/openssl.log")"; }

cat >"$P/ext.cnf" <<EOF
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
[ tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ tsa_config ]
serial = $P/tsaserial
signer_cert = $P/tsa.pem
certs = $P/root.pem
signer_key = $P/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
ess_cert_id_alg = sha256
[ ca ]
default_ca = crl_only
[ crl_only ]
database = $P/index.txt
crlnumber = $P/crlnumber
default_md = sha256
default_crl_days = 30
EOF
echo 01 >"$P/tsaserial"
echo 01 >"$P/crlnumber"
: >"$P/index.txt"

# selfsigned NAME CN: an EC P-256 CA.
selfsigned() {
	osl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
		-keyout "$P/$1.key" -out "$P/$1.pem" -subj "/CN=$2" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
# issue NAME CN SERIAL EXT [CA] [KEY]: a certificate by CA (root) for KEY (a new one by default).
issue() {
	local name=$1 cn=$2 serial=$3 ext=$4 ca=${5:-root} key=${6:-$1}
	[ -f "$P/$key.key" ] || osl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$P/$key.key"
	osl req -new -key "$P/$key.key" -subj "/CN=$cn" -out "$P/$name.csr"
	osl x509 -req -in "$P/$name.csr" -CA "$P/$ca.pem" -CAkey "$P/$ca.key" -set_serial "$serial" \
		-days 365 -sha256 -extfile "$P/ext.cnf" -extensions "$ext" -out "$P/$name.pem"
}

say "making a test PKI with openssl"
selfsigned root "Paths Root"
selfsigned fakeroot "Paths Root"    # same name, another key: nobody trusts it
selfsigned stranger "Stranger Root"
issue bob bob 4098 leaf
issue carol carol 4099 leaf stranger
issue tsa "Paths TSA" 4100 tsa
# DER sorts a SignedData's certificates: the ones below are made again until they sort before
# alice's, so that a verifier taking the first match takes them.
der_hex() { openssl x509 -in "$P/$1.pem" -outform DER | xxd -p | tr -d '\n'; }
sorts_first() { local LC_ALL=C; [[ "$(der_hex "$1")" < "$(der_hex alice)" ]]; }
# The impostor: alice's issuer name and serial (and subject), another key, a CA nobody trusts.
# (alice's is made again too: made a second later, the impostor would never sort first against
# a short ECDSA value of hers.)
for i in $(seq 30); do
	rm -f "$P/impostor.key"
	issue alice alice 4097 leaf
	issue impostor alice 4097 leaf fakeroot
	sorts_first impostor && break
done
# A second certificate for alice's key (same key identifier), under another (shorter) name.
for i in $(seq 30); do
	issue renamed al 4101 leaf root alice
	sorts_first renamed && break
done
sorts_first impostor && sorts_first renamed || fail "could not make certificates that sort first"
osl ca -config "$P/ext.cnf" -gencrl -cert "$P/root.pem" -keyfile "$P/root.key" -out "$P/crl.pem"
cmp -s <(openssl x509 -in "$P/alice.pem" -noout -ext subjectKeyIdentifier) \
	<(openssl x509 -in "$P/renamed.pem" -noout -ext subjectKeyIdentifier) ||
	fail "alice and renamed should share the key identifier"

printf 'the document the relying party holds\n%s\n' "$(date -u)" >"$T/doc.txt"
printf 'what the attacker wants verified\n' >"$T/other.txt"
: >"$T/empty.txt"
D="$T/doc.txt"
V="$INKAN_CLI"
TRUST=(--trust "$P/root.pem" --crl "$P/crl.pem")

# sign NAME OUT [cms args...]: a DER signature of doc.txt by NAME (detached unless -nodetach).
sign() {
	local name=$1 out=$2
	shift 2
	osl cms -sign -binary -in "$D" -signer "$P/$name.pem" -inkey "$P/$name.key" -outform DER -out "$out" "$@"
}
# ossl_ok SIG [DOC] [cms -verify args...]: openssl agrees that it verifies.
ossl_ok() {
	local sig=$1 doc=${2:-}
	shift 2 || shift $#
	openssl cms -verify -binary -inform DER -in "$sig" ${doc:+-content "$doc"} -CAfile "$P/root.pem" \
		-purpose any -out "$T/ossl.out" "$@" 2>"$T/ossl.err" || fail "openssl cms -verify $sig: $(cat "$T/ossl.err")"
}

# verify WANT_RC ARGS...: inkan verify --json; the exit status must be WANT_RC; the report in
# $T/v.json.
verify() {
	local want_rc=$1 rc=0
	shift
	"$V" verify --json "$@" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = "$want_rc" ] || fail "inkan verify $*: exit $rc, expected $want_rc: $(cat "$T/v.err") $(head -c 1500 "$T/v.json")"
	grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/v.err" && fail "sanitizer report: $(cat "$T/v.err")"
	return 0
}
# report FILTER: the last report satisfies the jq filter.
report() {
	jq -e "$1" "$T/v.json" >/dev/null ||
		fail "report does not satisfy $1: $(jq -c '[.signatures[] | {indication, sub_indication, signed_content, signer: .signer.subject, problems: [.problems[].detail], warnings}]' "$T/v.json")"
}
first_is() { report ".signatures[0].indication == \"$1\" and (.signatures[0].sub_indication // \"null\") == \"$2\""; }

# ---- 1. an attached signature and a document given, a detached one without ----

sign alice "$T/att.p7s" -nodetach -cades
ossl_ok "$T/att.p7s"
cmp -s "$T/ossl.out" "$D" || fail "openssl did not extract the document from the attached signature"
verify 0 "$T/att.p7s" "${TRUST[@]}"
first_is TOTAL-PASSED null
report '.signatures[0].signed_content == "encapsulated" and .signatures[0].detached == false'
verify 0 "$D" "$T/att.p7s" "${TRUST[@]}"
first_is TOTAL-PASSED null
# Before issue 14: "the signature carries its content: give no document" and no report.
verify 1 "$T/other.txt" "$T/att.p7s" "${TRUST[@]}"
first_is TOTAL-FAILED HASH_FAILURE
report '.signatures[0].signed_content == "document" and
	any(.signatures[0].problems[]; .detail | test("not the content the signature carries"))'
verify 1 "$T/empty.txt" "$T/att.p7s" "${TRUST[@]}"
first_is TOTAL-FAILED HASH_FAILURE
# The summary says what was checked.
"$V" verify "$T/other.txt" "$T/att.p7s" "${TRUST[@]}" >"$T/v.txt" 2>&1 || true
grep -qE "^ +checked over +document$" "$T/v.txt" || fail "summary: $(cat "$T/v.txt")"
"$V" verify "$T/att.p7s" "${TRUST[@]}" >"$T/v.txt" 2>&1 || fail "attached alone: $(cat "$T/v.txt")"
grep -qE "^ +checked over +encapsulated$" "$T/v.txt" || fail "summary: $(cat "$T/v.txt")"
sign alice "$T/att-noattr.p7s" -nodetach -noattr
ossl_ok "$T/att-noattr.p7s"
verify 0 "$D" "$T/att-noattr.p7s" "${TRUST[@]}"
verify 1 "$T/other.txt" "$T/att-noattr.p7s" "${TRUST[@]}"
first_is TOTAL-FAILED HASH_FAILURE
ok "attached signature and a document: judged over the document; another one (or an empty file) is HASH_FAILURE"

sign alice "$T/det.p7s" -cades
ossl_ok "$T/det.p7s" "$D"
verify 1 "$T/det.p7s" "${TRUST[@]}"
first_is INDETERMINATE SIGNED_DATA_NOT_FOUND
report '.signatures[0].signed_content == "none"'
sign alice "$T/det-noattr.p7s" -noattr
verify 1 "$T/det-noattr.p7s" "${TRUST[@]}"
first_is INDETERMINATE SIGNED_DATA_NOT_FOUND
ok "detached signature without the document: SIGNED_DATA_NOT_FOUND, with and without signed attributes"

printf '%%PDF-1.7\n%%%%EOF\n' >"$T/some.pdf"
rc=0
"$V" verify "$D" "$T/some.pdf" "${TRUST[@]}" >/dev/null 2>"$T/v.err" || rc=$?
[ "$rc" = 1 ] && grep -q "give no document" "$T/v.err" || fail "PDF with a document: exit $rc, $(cat "$T/v.err")"
ok "a PDF with a document given: refused, not ignored"

# ---- 2. time-stamp imprints ----

osl ts -query -data "$D" -sha256 -cert -out "$T/req.tsq"
osl ts -reply -config "$P/ext.cnf" -section tsa_config -queryfile "$T/req.tsq" -out "$T/resp.tsr"
osl ts -verify -data "$D" -in "$T/resp.tsr" -CAfile "$P/root.pem" -untrusted "$P/tsa.pem"
verify 0 "$D" "$T/resp.tsr" "${TRUST[@]}"
first_is TOTAL-PASSED null
openssl ts -verify -data "$T/other.txt" -in "$T/resp.tsr" -CAfile "$P/root.pem" -untrusted "$P/tsa.pem" \
	>/dev/null 2>&1 && fail "openssl ts accepts the time-stamp for another document"
verify 1 "$T/other.txt" "$T/resp.tsr" "${TRUST[@]}"
first_is TOTAL-FAILED HASH_FAILURE
verify 1 "$T/resp.tsr" "${TRUST[@]}"
first_is INDETERMINATE SIGNED_DATA_NOT_FOUND
ok "standalone time-stamp: its imprint must be the document's; none given: SIGNED_DATA_NOT_FOUND"

# ---- 3. certificates in the CMS that are not the signer's ----

# -certfile certificates come first in the SignedData, before the signer's own.
sign alice "$T/impostor.p7s" -cades -certfile "$P/impostor.pem"
openssl cms -cmsout -print -inform DER -in "$T/impostor.p7s" | grep -c "subject: CN=alice" | grep -qx 2 ||
	fail "the impostor is not in the signature"
# openssl takes the first certificate that matches issuer and serial (the impostor) and fails;
# told to use alice's certificate only, it agrees the signature is hers.
openssl cms -verify -binary -inform DER -in "$T/impostor.p7s" -content "$D" -CAfile "$P/root.pem" \
	-purpose any -out /dev/null >/dev/null 2>&1 && fail "openssl accepts the impostor"
ossl_ok "$T/impostor.p7s" "$D" -nointern -certfile "$P/alice.pem"
# Before issue 14: TOTAL-FAILED/SIG_CRYPTO_FAILURE (the impostor's key).
verify 0 "$D" "$T/impostor.p7s" "${TRUST[@]}"
first_is TOTAL-PASSED null
report '.signatures[0].signing_certificate_attribute == "matched" and
	.signatures[0].chain[0].serial == "1001" and (.signatures[0].chain[1].trust_anchor)'
jq -r '.signatures[0].chain[0].subject' "$T/v.json" | grep -qx "CN=alice" || fail "signer is not alice"
sign alice "$T/impostor-noattr.p7s" -noattr -certfile "$P/impostor.pem"
verify 1 "$D" "$T/impostor-noattr.p7s" "${TRUST[@]}"
first_is INDETERMINATE NO_SIGNING_CERTIFICATE_FOUND
ok "an impostor with the signer's issuer and serial: never picked; without signed attributes nothing is"

sign alice "$T/keyid.p7s" -cades -keyid -certfile "$P/renamed.pem"
ossl_ok "$T/keyid.p7s" "$D" -nointern -certfile "$P/alice.pem"
# Before issue 14: INDETERMINATE (the renamed certificate was taken, the attribute disowned it).
verify 0 "$D" "$T/keyid.p7s" "${TRUST[@]}"
first_is TOTAL-PASSED null
report '.signatures[0].signer.subject == "CN=alice"'
sign alice "$T/keyid-other.p7s" -cades -keyid -nocerts -certfile "$P/renamed.pem"
verify 1 "$D" "$T/keyid-other.p7s" "${TRUST[@]}"
first_is INDETERMINATE NO_SIGNING_CERTIFICATE_FOUND
# Before issue 14: TOTAL-PASSED, signed by "al" (the first certificate of that key).
sign alice "$T/keyid-noattr.p7s" -noattr -keyid -certfile "$P/renamed.pem"
verify 1 "$D" "$T/keyid-noattr.p7s" "${TRUST[@]}"
first_is INDETERMINATE NO_SIGNING_CERTIFICATE_FOUND
ok "by key identifier: the signing-certificate attribute picks alice's certificate; one it does not name, or two and no attribute: NO_SIGNING_CERTIFICATE_FOUND"

# ---- 4. several signers ----

osl cms -sign -binary -in "$D" -signer "$P/alice.pem" -inkey "$P/alice.key" \
	-signer "$P/bob.pem" -inkey "$P/bob.key" -cades -outform DER -out "$T/two.p7s"
ossl_ok "$T/two.p7s" "$D"
verify 0 "$D" "$T/two.p7s" "${TRUST[@]}"
report '(.signatures | length == 2) and .all_passed and
	([.signatures[].signer.subject] | sort == ["CN=alice", "CN=bob"])'
osl cms -sign -binary -in "$D" -signer "$P/alice.pem" -inkey "$P/alice.key" \
	-signer "$P/carol.pem" -inkey "$P/carol.key" -cades -outform DER -out "$T/mixed.p7s"
verify 1 "$D" "$T/mixed.p7s" "${TRUST[@]}"
report '(.signatures | length == 2) and (.all_passed | not) and
	([.signatures[] | select(.signer.subject == "CN=alice") | .indication] == ["TOTAL-PASSED"]) and
	([.signatures[] | select(.signer.subject == "CN=carol") | .sub_indication] == ["NO_CERTIFICATE_CHAIN_FOUND"])'
rc=0
"$V" verify "$D" "$T/mixed.p7s" "${TRUST[@]}" >"$T/v.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "^1 of 2 signatures TOTAL-PASSED" "$T/v.txt" || fail "summary of two signers: exit $rc, $(cat "$T/v.txt")"
ok "two signers: each judged on its own; one failing makes the exit status 1"

# ---- other content declarations ----

sign alice "$T/econtent.p7s" -cades -econtent_type 1.2.3.4.5
ossl_ok "$T/econtent.p7s" "$D"
verify 0 "$D" "$T/econtent.p7s" "${TRUST[@]}"
report 'any(.signatures[0].warnings[]; test("declared as 1.2.3.4.5"))'
ok "content not declared as data: a warning"

# ---- the HTTP API ----

init_data
fast_argon2
mkdir -p "$DATA/ca"
cp "$P/root.pem" "$DATA/ca/chain.pem"
cp "$P/crl.pem" "$DATA/ca/crl.pem"
start_inkand

b64() { base64 -w0 "$1"; }
# post SIG [FIELD FILE]...: POST /api/v1/verify with signature SIG and base64 fields from files.
post() {
	local body
	body=$(jq -nc --arg s "$(b64 "$1")" '{signature: $s}')
	shift
	while [ $# -gt 0 ]; do
		body=$(jq -c --arg k "$1" --arg v "$(b64 "$2")" '. + {($k): $v}' <<<"$body")
		shift 2
	done
	api POST /api/v1/verify "$body"
}
sha512_of() { openssl dgst -sha512 -binary "$1" >"$T/dg.bin"; echo "$T/dg.bin"; }
with_alg() { jq -c '. + {digest_algorithm: "2.16.840.1.101.3.4.2.3"}'; }

post "$T/att.p7s" document "$D"
expect_status 200
expect_jq '.all_passed and .signatures[0].signed_content == "encapsulated"'
post "$T/att.p7s" document "$T/other.txt"
expect_status 200
expect_jq '(.all_passed | not) and .signatures[0].sub_indication == "HASH_FAILURE"'
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/att.p7s")" --arg g "$(b64 "$(sha512_of "$D")")" '{signature: $s, document_digest: $g}' | with_alg)"
expect_status 200
expect_jq '.all_passed and .signatures[0].signed_content == "encapsulated"'
api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$T/att.p7s")" --arg g "$(b64 "$(sha512_of "$T/other.txt")")" '{signature: $s, document_digest: $g}' | with_alg)"
expect_status 200
expect_jq '(.all_passed | not) and .signatures[0].sub_indication == "HASH_FAILURE" and
	.signatures[0].signed_content == "document digest"'
post "$T/det.p7s"
expect_status 200
expect_jq '(.all_passed | not) and .signatures[0].sub_indication == "SIGNED_DATA_NOT_FOUND"'
post "$T/some.pdf" document "$D"
expect_refused 400 invalid_request
post "$T/impostor.p7s" document "$D"
expect_status 200
expect_jq '.all_passed'
post "$T/mixed.p7s" document "$D"
expect_status 200
expect_jq '(.all_passed | not) and (.signatures | length == 2)'
ok "POST /api/v1/verify: document or digest against an attached signature, detached without one, a PDF with one, impostor, two signers"

finish
