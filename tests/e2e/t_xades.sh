#!/usr/bin/env bash
# t_xades: XAdES (ETSI EN 319 132-1) B-B and B-T — `inkan sign --format xades` enveloped,
# detached and enveloping with P-256 and RSA keys against the real daemon and its TSA, each
# checked by Debian's xmlsec1 (trusting our root) and by `inkan verify`; a signature made by
# `xmlsec1 --sign` verifies as plain XMLDSig; the XML signature attacks (wrapping, XXE, duplicate
# IDs, XSLT, an external URI to /api/v1/verify) are refused with a clear reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sign.sh"

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

# expect_xml_refused FILE SUB TEXT [SIGNATURE]: inkan verify (trusting XTRUST or our root) says
# not TOTAL-PASSED, with the sub-indication SUB among the problems and TEXT in one's detail.
expect_xml_refused() {
	local f=$1 sub=$2 text=$3 rc=0 args=("$1")
	[ -n "${4:-}" ] && args=("$1" "$4")
	"$INKAN_CLI" verify --json --trust "${XTRUST:-$ROOT}" --crl "$T/crl.der" --crl "$T/arl.der" \
		"${args[@]}" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" != 0 ] || fail "inkan verify accepted $f"
	jq -e --arg s "$sub" --arg t "$text" '.signatures[0].indication != "TOTAL-PASSED" and
		any(.signatures[0].problems[]; .sub_indication == $s and (.detail | contains($t)))' \
		"$T/v.json" >/dev/null || fail "inkan verify $f: not refused with $sub '$text': $(head -c 2000 "$T/v.json") $(cat "$T/v.err")"
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
MARK="MARKER-$(openssl rand -hex 8)"
sed -i "s|</inv:Note>|$MARK</inv:Note>|" "$T/invoice.xml"
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
# The document never left this machine: the service saw digests only.
grep -q "$MARK" "$LOG" && fail "the document's text is in the inkand log"
db .dump | grep -q "$MARK" && fail "the document's text is in the database"
ok "the service never saw the document"

# What each signature was seen to cover: the document element, by its path.
inkan_verify "$T/s2.xml"
jq -e '.signatures[0].references[0].path == "/inv:Invoice" and .signatures[0].references[0].digest_ok and
	(.signatures[0].references[1].type | endswith("#SignedProperties"))' "$T/v.json" >/dev/null ||
	fail "the report does not say which element was signed: $(jq -c .signatures[0].references "$T/v.json")"
# A changed document fails (enveloped and detached).
sed 's/108000/1080000/' "$T/s1.xml" >"$T/s1-changed.xml"
expect_xml_refused "$T/s1-changed.xml" HASH_FAILURE "the digest does not match"
head -c 100 /dev/urandom >>"$T/drawing.bin"
expect_xml_refused "$T/drawing.bin" HASH_FAILURE "the digest does not match" "$T/s6.xml"
ok "the report names the signed element by its path; changed documents fail"

# Validation data carried by the signature (XAdES CertificateValues, RevocationValues): without
# them and without --crl the signer's status is unknown; with them it is decided by them.
python3 - "$T/s2.xml" "$T/s2-lt.xml" "$T/issuing.pem" "$T/crl.der" "$T/arl.der" <<'PY'
import base64, sys
s = open(sys.argv[1], encoding='utf-8').read()
pem = open(sys.argv[3]).read().split('-----')[2].replace('\n', '')
b = lambda f: base64.b64encode(open(f, 'rb').read()).decode()
vals = ('<xades:CertificateValues><xades:EncapsulatedX509Certificate>%s</xades:EncapsulatedX509Certificate>'
        '</xades:CertificateValues><xades:RevocationValues><xades:CRLValues>'
        '<xades:EncapsulatedCRLValue>%s</xades:EncapsulatedCRLValue><xades:EncapsulatedCRLValue>%s'
        '</xades:EncapsulatedCRLValue></xades:CRLValues></xades:RevocationValues>') % (pem, b(sys.argv[4]), b(sys.argv[5]))
i = s.index('</xades:UnsignedSignatureProperties>')
open(sys.argv[2], 'w', encoding='utf-8').write(s[:i] + vals + s[i:])
PY
rc=0; "$INKAN_CLI" verify --json --trust "$ROOT" "$T/s2.xml" >"$T/v.json" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "without revocation data the signature passed"
rc=0; "$INKAN_CLI" verify --json --trust "$ROOT" "$T/s2-lt.xml" >"$T/v.json" 2>"$T/v.err" || rc=$?
jq -e '.signatures[0] | .indication == "TOTAL-PASSED" and ([.chain[] | select(.trust_anchor | not) |
	.revocation.origin] | all(. == "embedded"))' "$T/v.json" >/dev/null ||
	fail "CertificateValues/RevocationValues were not used (rc $rc): $(head -c 2000 "$T/v.json")"
xmlsec_ok s2-lt.xml
ok "XAdES CertificateValues and RevocationValues decide the signer's chain"

# ---- the other direction: xmlsec1 --sign with a key and certificate made here ----
mkdir -p "$T/ext"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ext/root.key" \
	-out "$T/ext/root.pem" -days 30 -subj "/CN=Test XMLDSig Root" -addext basicConstraints=critical,CA:true \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:3072 -nodes -keyout "$T/ext/leaf.key" -out "$T/ext/leaf.csr" \
	-subj "/CN=Test XMLDSig Signer" 2>/dev/null
printf 'keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:false\n' >"$T/ext/leaf.ext"
openssl x509 -req -in "$T/ext/leaf.csr" -CA "$T/ext/root.pem" -CAkey "$T/ext/root.key" -CAcreateserial \
	-days 30 -out "$T/ext/leaf.pem" -extfile "$T/ext/leaf.ext" 2>/dev/null
# xsign TEMPLATE OUT [xmlsec1 options]: a signature by xmlsec1 with that key.
xsign() {
	local tmpl=$1 out=$2
	shift 2
	xmlsec1 --sign "$@" --privkey-pem "$T/ext/leaf.key,$T/ext/leaf.pem" --output "$out" "$tmpl" \
		>"$T/xsign.out" 2>&1 || fail "xmlsec1 --sign $tmpl: $(tail -3 "$T/xsign.out")"
}
# tmpl ROOT_ATTRS REFERENCE_URI TRANSFORMS: an enveloped XMLDSig template (C14N 1.0 for SignedInfo).
tmpl() {
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment outside the signed content -->
<Invoice $1><Amount>100</Amount><?app-note processing instruction?>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<Reference URI="$2"><Transforms>$3</Transforms>
<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference>
</SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>
</Invoice>
XML
}
ENV='<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
tmpl 'Id="invoice-1"' "" "$ENV" >"$T/ext/t1.xml"
xsign "$T/ext/t1.xml" "$T/ext/plain.xml"
xinkan() { "$INKAN_CLI" verify --json --trust "$T/ext/root.pem" --no-revocation-check "$@" >"$T/v.json" 2>"$T/v.err"; }
xinkan "$T/ext/plain.xml" || fail "inkan verify refuses xmlsec1's signature: $(head -c 1500 "$T/v.json") $(cat "$T/v.err")"
jq -e '.signatures[0] | .format == "xmldsig" and .level == null and .indication == "TOTAL-PASSED" and
	.signature_algorithm == "sha256WithRSAEncryption" and (.chain | length) == 2 and .chain[1].trust_anchor' \
	"$T/v.json" >/dev/null || fail "xmlsec1's signature is not reported as plain XMLDSig with its chain: $(head -c 1500 "$T/v.json")"
# The comment and the processing instruction: C14N without comments keeps the PI, drops the
# comment; a comment added later changes nothing, a changed PI breaks the digest.
sed 's/<Amount>/<!-- added --><Amount>/' "$T/ext/plain.xml" >"$T/ext/plain-comment.xml"
xinkan "$T/ext/plain-comment.xml" || fail "a comment (not signed under C14N without comments) broke the signature"
sed 's/processing instruction/other instruction/' "$T/ext/plain.xml" >"$T/ext/plain-pi.xml"
XTRUST="$T/ext/root.pem" expect_xml_refused "$T/ext/plain-pi.xml" HASH_FAILURE "the digest does not match"
ok "a signature by xmlsec1 --sign verifies as plain XMLDSig (no XAdES level) with its chain; comments and PIs per C14N"

# ---- attacks ----
# Signature wrapping: the signed invoice moved under a forged one where the application reads.
tmpl 'Id="invoice-1"' "#invoice-1" "$ENV" >"$T/ext/t2.xml"
xsign "$T/ext/t2.xml" "$T/ext/byid.xml" --id-attr:Id Invoice
xinkan "$T/ext/byid.xml" || fail "a signature of the root by its ID is refused: $(head -c 1500 "$T/v.json")"
python3 - "$T/ext/byid.xml" "$T/ext/wrapped.xml" <<'PY'
import sys
s = open(sys.argv[1]).read()
sig = s[s.index('<Signature'):s.index('</Signature>') + len('</Signature>')]
orig = s[s.index('<Invoice'):s.rindex('</Invoice>') + len('</Invoice>')].replace(sig, '')
open(sys.argv[2], 'w').write('<?xml version="1.0"?>\n<Invoice Id="forged"><Amount>999999</Amount><Wrapper>'
                             + orig + '</Wrapper>' + sig + '</Invoice>\n')
PY
# A verifier that only checks the reference accepts it: xmlsec1 does.
xmlsec1 --verify --id-attr:Id Invoice --trusted-pem "$T/ext/root.pem" "$T/ext/wrapped.xml" >"$T/xmlsec.out" 2>&1 ||
	say "note: xmlsec1 refuses the wrapped document too"
XTRUST="$T/ext/root.pem" expect_xml_refused "$T/ext/wrapped.xml" SIG_CONSTRAINTS_FAILURE \
	"does not cover the document element <Invoice> that the application reads: it signs <Invoice> at /Invoice/Wrapper/Invoice"
ok "signature wrapping (signed element moved, a forged one where the application reads) refused"

# Duplicate IDs: a second ds:Object with the ID the enveloping signature signed, placed first.
oid=$(grep -o 'Id="id-[0-9a-f]*-obj"' "$T/s3.xml" | head -1)
sed "s|<ds:SignedInfo>|<ds:Object $oid><inv:Invoice xmlns:inv=\"urn:example:invoice\">forged</inv:Invoice></ds:Object><ds:SignedInfo>|" \
	"$T/s3.xml" >"$T/dup.xml"
expect_xml_refused "$T/dup.xml" FORMAT_FAILURE "is carried by more than one element"
ok "duplicate IDs refused"

# XSLT: a transform that makes what is signed differ from what is shown, signed by xmlsec1.
tmpl "" "" "$ENV"'<Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/">nothing</xsl:template></xsl:stylesheet></Transform>' >"$T/ext/t3.xml"
xsign "$T/ext/t3.xml" "$T/ext/xslt.xml"
XTRUST="$T/ext/root.pem" expect_xml_refused "$T/ext/xslt.xml" FORMAT_FAILURE "(XSLT) is refused"
tmpl "" "" "$ENV"'<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><XPath>1</XPath></Transform>' >"$T/ext/t4.xml"
xsign "$T/ext/t4.xml" "$T/ext/xpath.xml"
XTRUST="$T/ext/root.pem" expect_xml_refused "$T/ext/xpath.xml" FORMAT_FAILURE "(XPath) is refused"
ok "XSLT and XPath transforms refused"

# A listener on loopback that records every request: nothing may ever reach it.
python3 - "$T/hits" "$T/hits.port" <<'PY' >/dev/null 2>&1 &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        open(sys.argv[1], 'a').write(self.path + '\n')
        self.send_response(200); self.end_headers(); self.wfile.write(b'hello')
    def log_message(self, *a): pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(sys.argv[2], 'w').write(str(s.server_port))
s.serve_forever()
PY
LISTENER=$!
for i in $(seq 1 100); do [ -s "$T/hits.port" ] && break; sleep 0.1; done
HURL="http://127.0.0.1:$(cat "$T/hits.port")"
: >"$T/hits"

# XXE: an external entity pointing at the listener (and at a local file).
cat >"$T/xxe.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY ext SYSTEM "$HURL/xxe"><!ENTITY pw SYSTEM "file:///etc/passwd">]>
<Invoice>&ext;&pw;</Invoice>
XML
sed -n '/<ds:Signature/,/<\/ds:Signature>/p' "$T/s1.xml" | sed 's|</inv:Invoice>||' >>"$T/xxe.xml"
rc=0; "$INKAN_CLI" verify --trust "$ROOT" "$T/xxe.xml" >"$T/v.out" 2>"$T/v.err" || rc=$?
[ "$rc" != 0 ] && grep -q "DOCTYPE" "$T/v.err" || fail "inkan verify did not refuse the DOCTYPE (rc $rc): $(cat "$T/v.err")"
api POST /api/v1/verify "$(jq -nc --arg s "$(base64 -w0 "$T/xxe.xml")" '{signature: $s}')"
expect_status 400
printf '%s' "$BODY" | grep -q "DOCTYPE" || fail "/api/v1/verify: the DOCTYPE refusal does not say why: $BODY"
ok "XXE: a DOCTYPE with external entities refused by inkan verify and /api/v1/verify"

# An external reference to the listener, signed by xmlsec1 (the URL mapped to a local file).
printf 'hello' >"$T/ext/remote.txt"
cat >"$T/ext/t5.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
<CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>
<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
<Reference URI="$HURL/doc.txt"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<DigestValue/></Reference></SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>
XML
xsign "$T/ext/t5.xml" "$T/ext/remote.xml" --url-map:"$HURL/doc.txt" "$T/ext/remote.txt"
: >"$T/hits"
tok=$(token alice)
api POST /api/v1/verify "$(jq -nc --arg s "$(base64 -w0 "$T/ext/remote.xml")" '{signature: $s}')" "$tok"
expect_status 200
printf '%s' "$BODY" | jq -e '.signatures[0].indication != "TOTAL-PASSED" and
	any(.signatures[0].problems[]; .detail | contains("never fetched"))' >/dev/null ||
	fail "/api/v1/verify: the external reference is not reported as never fetched: $BODY"
XTRUST="$T/ext/root.pem" expect_xml_refused "$T/ext/remote.xml" SIGNED_DATA_NOT_FOUND "never fetched"
# Given on the command line, the detached document is what the reference is checked against.
"$INKAN_CLI" verify --trust "$T/ext/root.pem" --no-revocation-check "$T/ext/remote.txt" "$T/ext/remote.xml" \
	>"$T/v.out" 2>&1 || fail "the detached document given does not verify: $(cat "$T/v.out")"
sleep 0.5
[ ! -s "$T/hits" ] || fail "a URI was dereferenced: $(cat "$T/hits")"
kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null || true
ok "external URIs: /api/v1/verify and inkan verify fetch nothing (the listener saw no request)"

finish
