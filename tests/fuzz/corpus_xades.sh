# corpus_xades: the seeds of fuzz_xades, sourced by make_corpus.sh (in its work directory, with
# its PKI: signer.pem/.key (EC), rsasigner.pem/.key, ca.pem, doc.txt; q; C). XML signatures made
# by xmlsec1: enveloped, by ID, detached over doc.txt, XAdES with SignedProperties, and the attacks
# t_xades plays (wrapping, duplicate IDs, XSLT, an XPointer, an external URI, a DOCTYPE).
# xades-bt-values.xml is not made here: an inkan B-T signature from a t_xades run (its PKI) with
# CertificateValues and RevocationValues added as the test adds them; kept as it is. Nor are
# xades-lta-*.xml: inkan B-LTA signatures (renewed enveloped, detached, enveloping) from a
# t_ltv_xades run, with TimeStampValidationData and ArchiveTimeStamps; kept as they are.
xtmpl() { # ROOT_OPEN ROOT_CLOSE SIGMETHOD URI TRANSFORMS EXTRA_REFERENCE EXTRA_OBJECT
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
$1<Amount>100</Amount><?pi keep?><!-- c -->
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig-1"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#$3"/>
<ds:Reference URI="$4"><ds:Transforms>$5</ds:Transforms>
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>$6
</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo>$7</ds:Signature>
$2
XML
}
ENVT='<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
EXCT='<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
certdg=$(openssl x509 -in signer.pem -outform DER | openssl dgst -sha256 -binary | openssl base64 -A)
SPREF='<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#sp-1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>'
SPOBJ="<ds:Object><xades:QualifyingProperties xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\" Target=\"#sig-1\"><xades:SignedProperties Id=\"sp-1\"><xades:SignedSignatureProperties><xades:SigningTime>2026-12-01T00:00:00Z</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>$certdg</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties><xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:SignatureTimeStamp><xades:EncapsulatedTimeStamp>MAA=</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp></xades:UnsignedSignatureProperties></xades:UnsignedProperties></xades:QualifyingProperties></ds:Object>"
xsign() { # NAME KEY TEMPLATE-FILE [xmlsec1 options]
	n=$1 k=$2 t=$3
	shift 3
	q xmlsec1 --sign "$@" --privkey-pem "$k.key,$k.pem" --output "$C/xades/$n.xml" "$t"
}
xtmpl '<Invoice Id="inv-1">' '</Invoice>' ecdsa-sha256 "" "$ENVT$EXCT" "$SPREF" "$SPOBJ" >x1.xml
xsign xades-enveloped signer x1.xml --id-attr:Id SignedProperties
xtmpl '<Invoice Id="inv-1">' '</Invoice>' rsa-sha256 "#inv-1" "$ENVT" "" "" >x2.xml
xsign byid rsasigner x2.xml --id-attr:Id Invoice
xtmpl '' '' ecdsa-sha256 "doc.txt" "" "" "" | sed 's|<ds:Transforms></ds:Transforms>||; s|^<Amount>100</Amount>.*||' >x3.xml
xsign detached signer x3.xml
xtmpl '<Invoice>' '</Invoice>' ecdsa-sha256 "" "$ENVT"'<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"><xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"><xsl:template match="/">x</xsl:template></xsl:stylesheet></ds:Transform>' "" "" >x4.xml
xsign xslt signer x4.xml
python3 - "$C/xades/byid.xml" "$C/xades/wrapped.xml" "$C/xades/dupid.xml" <<'PY'
import sys
s = open(sys.argv[1]).read()
sig = s[s.index('<ds:Signature'):s.index('</ds:Signature>') + len('</ds:Signature>')]
orig = s[s.index('<Invoice'):s.rindex('</Invoice>') + len('</Invoice>')].replace(sig, '')
open(sys.argv[2], 'w').write('<Invoice Id="forged"><Amount>9</Amount><W>' + orig + '</W>' + sig + '</Invoice>')
open(sys.argv[3], 'w').write(s.replace('<Amount>100</Amount>', '<Amount Id="inv-1">100</Amount>'))
PY
sed 's|URI="#inv-1"|URI="#xpointer(/)"|' "$C/xades/byid.xml" >"$C/xades/xpointer.xml"
sed 's|URI="doc.txt"|URI="http://127.0.0.1:9/doc.txt"|' "$C/xades/detached.xml" >"$C/xades/external.xml"
{ printf '<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
  sed 1d "$C/xades/xades-enveloped.xml" | sed 's|<Amount>100</Amount>|<Amount>\&e;</Amount>|'; } >"$C/xades/doctype.xml"
