#!/bin/bash
# t_pdf_changes: a corpus of PDFs changed after signing, in each way ISO 32000-2 and PAdES allow
# and in each way they forbid, judged by `inkan verify` object by object (never by searching
# bytes), with the expected result for each; plus PDF signatures whose CMS signs something else
# than the ByteRange (issue 14, findings 1 and 2). The documents are crafted with
# tests/e2e/pdf_forge.py (incremental updates as an attacker or a PDF library writes them),
# signed with openssl cms and openssl ts, and with poppler's pdfsig.
. "$(dirname "$0")/lib.sh"

FORGE="python3 $INKAN_SRC/tests/e2e/pdf_forge.py"
V="$INKAN_CLI"
P="$T/pki"
mkdir -p "$P"
cd "$T"

# ---- a small PKI and TSA of our own (not the service's) ----
osl() { openssl "$@" 2>/dev/null || fail "openssl $1"; }
osl req -x509 -newkey rsa:3072 -nodes -keyout "$P/ca.key" -out "$P/ca.pem" -subj "/CN=Changes Root" \
	-days 30 -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
osl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/s.key" -out "$P/s.csr" -subj "/CN=Changes Signer"
printf 'keyUsage=critical,digitalSignature,nonRepudiation\n' >"$P/s.ext"
osl x509 -req -in "$P/s.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -out "$P/s.pem" -days 30 -extfile "$P/s.ext"
osl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/tsa.key" -out "$P/tsa.csr" -subj "/CN=Changes TSA"
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' >"$P/tsa.ext"
osl x509 -req -in "$P/tsa.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -out "$P/tsa.pem" -days 30 -extfile "$P/tsa.ext"
echo 01 >"$P/tsaserial"
cat >"$P/tsa.cnf" <<EOF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $P/tsaserial
signer_cert = $P/tsa.pem
signer_key = $P/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
EOF
SIGN=(--cert "$P/s.pem" --key "$P/s.key")

# A one-page document: catalog 1, pages 2, page 3, content 4, font 5.
python3 - "$T/doc.pdf" <<'EOF'
import sys
content = b"BT /F1 24 Tf 72 700 Td (Pay 100 yen) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out, offs = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", []
for i, o in enumerate(objs):
    offs.append(len(out))
    out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offs)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
EOF

# check FILE EXIT INDICATION SUB [JQ]: inkan verify's exit status and the first signature's
# indication (the one made first), and a jq condition on the report. PDF_CHANGES_ALL=1 reports
# every wrong verdict and goes on (to see which cases an older build gets wrong).
wrong=0
verdict_wrong() {
	[ "${PDF_CHANGES_ALL:-}" = 1 ] || fail "$@"
	say "WRONG: $*"
	wrong=$((wrong + 1))
}
check() {
	local f=$1 want_rc=$2 ind=$3 sub=$4 cond=${5:-true} rc=0
	"$V" verify --json "$f" --trust "$P/ca.pem" --no-revocation-check >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = "$want_rc" ] || { verdict_wrong "$f: exit $rc, want $want_rc: $(cat "$T/v.err") $(jq -c '[.signatures[] | {indication, sub_indication, problems, m: .pdf.modifications}]' "$T/v.json" 2>/dev/null)"; return 0; }
	jq -e --arg i "$ind" --arg s "$sub" '.signatures[0].indication == $i and (.signatures[0].sub_indication // "") == $s' \
		"$T/v.json" >/dev/null || { verdict_wrong "$f: want $ind/$sub: $(jq -c '[.signatures[] | {indication, sub_indication, problems, m: .pdf.modifications}]' "$T/v.json")"; return 0; }
	jq -e "$cond" "$T/v.json" >/dev/null 2>&1 || verdict_wrong "$f: report does not satisfy $cond: $(jq -c '[.signatures[] | {indication, sub_indication, m: .pdf.modifications}]' "$T/v.json")"
	return 0
}
illegal() { echo "([.signatures[0].pdf.modifications[] | select(.permitted == false and (.where | test(\"$1\")))] | length > 0)"; }
permitted() { echo "((.signatures[0].pdf.modifications | length > 0) and all(.signatures[0].pdf.modifications[]; .permitted) and ([.signatures[0].pdf.modifications[] | select(.change | test(\"$1\"))] | length > 0))"; }
# show N FILE: object N as qpdf reads it; with_annot FILE N: page 3 with annotation N added.
show() { $FORGE show "$2" "$1"; }
with_annot() { show 3 "$1" | sed "s#/Annots \[#/Annots [ $2 0 R#"; }

# ---- the signed revision, and the signature over something else ----
$FORGE sign doc.pdf s1.pdf "${SIGN[@]}" || fail "pdf_forge sign"
pdfsig s1.pdf 2>&1 | grep -q 'Signature is Valid' || fail "pdfsig does not accept the base signature: $(pdfsig s1.pdf 2>&1)"
check s1.pdf 0 TOTAL-PASSED "" '.signatures[0].pdf.covers_whole_file and (.signatures[0].pdf.modifications | length == 0)'
ok "the signed document: TOTAL-PASSED (and valid in pdfsig)"

# Finding 1: an attached CMS a signer made over other content, pasted into an arbitrary PDF.
echo "a different contract" >other.txt
osl cms -sign -binary -nodetach -in other.txt -signer "$P/s.pem" -inkey "$P/s.key" -outform DER -out attached.der
$FORGE sign doc.pdf pasted.pdf --cms attached.der || fail "pdf_forge sign --cms"
pdfsig pasted.pdf 2>&1 | grep -q 'Signature is Valid' && fail "pdfsig accepts the pasted signature"
check pasted.pdf 1 TOTAL-FAILED FORMAT_FAILURE '.signatures[0].problems[0].detail | test("content of its own")'
# ... also as adbe.pkcs7.detached
$FORGE sign doc.pdf pasted2.pdf --cms attached.der --subfilter adbe.pkcs7.detached || fail "pdf_forge sign"
check pasted2.pdf 1 TOTAL-FAILED FORMAT_FAILURE
# adbe.pkcs7.sha1: the content must be the SHA-1 of the byte range (and SHA-1 stays refused).
$FORGE sign doc.pdf sha1.pdf --sha1 "${SIGN[@]}" || fail "pdf_forge sign --sha1"
check sha1.pdf 1 INDETERMINATE CRYPTO_CONSTRAINTS_FAILURE
printf 'x' | openssl dgst -sha1 -binary >wrong.sha1
osl cms -sign -binary -nodetach -in wrong.sha1 -signer "$P/s.pem" -inkey "$P/s.key" -outform DER -out wrong-sha1.der
$FORGE sign doc.pdf sha1-other.pdf --sha1 --cms wrong-sha1.der || fail "pdf_forge sign --sha1 --cms"
check sha1-other.pdf 1 TOTAL-FAILED HASH_FAILURE
ok "a CMS with content of its own in a detached PDF signature: FORMAT_FAILURE; adbe.pkcs7.sha1 over another digest: HASH_FAILURE"

# A ByteRange that does not leave out exactly /Contents (shifted by one byte) is a format failure.
perl -0777 -pe 's{/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]}{sprintf("/ByteRange [%010d %010d %010d %010d]", $1, $2 + 1, $3, $4)}e' s1.pdf >shifted.pdf
check shifted.pdf 1 TOTAL-FAILED FORMAT_FAILURE

# ---- forbidden changes after signing ----
# The page's content stream replaced, the new one starting with a "%/DSS" comment (finding 2).
$FORGE update s1.pdf content.pdf --stream 4 "" "%/DSS
BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET" || fail "update"
check content.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/Contents')"
jq -e '.signatures[0].pdf.signed_revision.indication == "TOTAL-PASSED"' v.json >/dev/null 2>&1 || verdict_wrong "the signed revision's own result is lost"
# ... the same with a comment inside the update, outside every object.
$FORGE update s1.pdf content2.pdf --raw "%/DSS /ByteRange
" --obj 6 "<< /Length 0 >>" --stream 4 "" "BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET" || fail "update"
check content2.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/Contents')"
# An object added to the page's resources.
$FORGE update s1.pdf resources.pdf --obj 3 "$(show 3 s1.pdf | sed 's#/F1 5 0 R#/F1 5 0 R /F2 50 0 R#')" \
	--obj 50 "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>" || fail "update"
check resources.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/Resources/Font')"
# A font the page uses, replaced in place.
$FORGE update s1.pdf font.pdf --obj 5 "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>" || fail "update"
check font.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'BaseFont')"
# A catalog entry added (an action run on opening).
$FORGE update s1.pdf catalog.pdf --obj 1 "$(show 1 s1.pdf | sed 's#>>$#/OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>#')" || fail "update"
check catalog.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'OpenAction')"
# An annotation added without permission (no DocMDP: P=2).
$FORGE update s1.pdf annot.pdf --obj 3 "$(with_annot s1.pdf 60)" \
	--obj 60 "<< /Type /Annot /Subtype /FreeText /Rect [72 650 400 690] /Contents (VOID) /DA (/Helv 20 Tf) >>" || fail "update"
check annot.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# The signature's own dictionary rewritten (reason changed) in a later revision.
sigobj=$(qpdf --show-xref s1.pdf | awk -F/ 'END {print $1}')
sigobj=$((sigobj - 1))
$FORGE update s1.pdf sigdict.pdf --obj "$sigobj" "$(show "$sigobj" s1.pdf | sed 's#>>$#/Reason (changed) >>#')" || fail "update"
check sigdict.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Reason')"
# The signature's own widget given an appearance (its "signed by" picture changed).
fieldobj=$((sigobj + 1))
$FORGE update s1.pdf sigap.pdf --obj "$fieldobj" "$(show "$fieldobj" s1.pdf | sed 's#>>$#/AP << /N 91 0 R >> >>#')" \
	--stream 91 "/Type /XObject /Subtype /Form /BBox [0 0 100 20]" "BT /F1 12 Tf 0 5 Td (Signed by Mallory) Tj ET" || fail "update"
check sigap.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/AP')"
# An empty signature field whose appearance covers the page (signed by no one).
$FORGE update s1.pdf overlay.pdf --obj 3 "$(with_annot s1.pdf 92)" \
	--obj 92 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Overlay) /Rect [60 690 400 730] /AP << /N 93 0 R >> /P 3 0 R >>" \
	--stream 93 "/Type /XObject /Subtype /Form /BBox [0 0 340 40]" "1 g 0 0 340 40 re f 0 g BT /Helvetica 24 Tf 12 10 Td (Pay 999999 yen) Tj ET" || fail "update"
check overlay.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# A page change written in the same revision as a second signature.
$FORGE sign s1.pdf second-bad.pdf "${SIGN[@]}" --stream 4 "" "BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET" 2>/dev/null ||
	fail "pdf_forge sign (second)"
check second-bad.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/Contents') and .signatures[1].indication == \"TOTAL-PASSED\""
# An update that is not a readable revision (no cross-reference): cannot be judged, not a pass.
{ cat s1.pdf; printf '\n4 0 obj << /Length 28 >> stream\nBT 20 100 Td (changed) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n'; } >broken.pdf
check broken.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE
ok "forbidden changes (content stream, %/DSS comment, resources, font, catalog entry, annotation without permission, the signature dictionary, the signature's appearance, an empty signature field over the page, a page change beside a second signature, an unreadable update): not a pass, each modification named"

# ---- permitted changes after signing ----
# DSS added (validation data).
$FORGE update s1.pdf dss.pdf --obj 1 "$(show 1 s1.pdf | sed 's#>>$#/DSS 70 0 R >>#')" \
	--obj 70 "<< /Certs [ 71 0 R ] >>" --stream 71 "" "not a certificate" || fail "update"
check dss.pdf 0 TOTAL-PASSED "" "$(permitted 'DSS')"
# DSS rewritten in place with an added /VRI while the catalog's /DSS reference is unchanged
# (as a widely used library writes B-LTA's last update).
$FORGE update dss.pdf dss-vri.pdf --obj 70 "<< /Certs [ 71 0 R ] /VRI << /0123456789ABCDEF0123456789ABCDEF01234567 << /Cert [ 71 0 R ] >> >> >>" || fail "update"
check dss-vri.pdf 0 TOTAL-PASSED "" "$(permitted 'DSS')"
# A second signature by us, and by poppler's pdfsig (which lists its field only in /Annots).
$FORGE sign s1.pdf second.pdf "${SIGN[@]}" || fail "pdf_forge sign (second)"
check second.pdf 0 TOTAL-PASSED "" "$(permitted 'signature field') and (.signatures | length == 2) and .signatures[1].indication == \"TOTAL-PASSED\""
if command -v pdfsig >/dev/null && command -v certutil >/dev/null && command -v pk12util >/dev/null; then
	mkdir -p nss
	osl pkcs12 -export -in "$P/s.pem" -inkey "$P/s.key" -out s.p12 -passout pass:x -name forge
	certutil -N -d sql:nss --empty-password >/dev/null 2>&1 || fail "certutil -N"
	pk12util -i s.p12 -d sql:nss -W x >/dev/null 2>&1 || fail "pk12util"
	# poppler 22.12 sometimes fails, or writes a second signature its own check calls invalid:
	# retried until pdfsig itself finds both valid.
	for i in 1 2 3 4 5 6 7 8; do
		rm -f second-poppler.pdf
		pdfsig -nssdir sql:nss -add-signature -nick forge s1.pdf second-poppler.pdf >/dev/null 2>&1 &&
			[ "$(pdfsig -nssdir sql:nss second-poppler.pdf 2>/dev/null | grep -c 'Signature is Valid')" = 2 ] && break
	done
	[ -s second-poppler.pdf ] || fail "pdfsig -add-signature failed"
	check second-poppler.pdf 0 TOTAL-PASSED "" "$(permitted 'signature field') and (.signatures | length == 2)"
fi
# A document time-stamp.
$FORGE sign s1.pdf dts.pdf --doc-timestamp --tsa "$P/tsa.cnf" || fail "pdf_forge sign --doc-timestamp"
check dts.pdf 0 TOTAL-PASSED "" "$(permitted 'document time-stamp') and .signatures[1].format == \"pades-document-timestamp\""
# An empty, invisible signature field (prepared for a later signer).
$FORGE update s1.pdf sigfield.pdf --obj 3 "$(with_annot s1.pdf 94)" \
	--obj 94 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Later) /Rect [0 0 0 0] /P 3 0 R >>" || fail "update"
check sigfield.pdf 0 TOTAL-PASSED "" "$(permitted 'signature field')"
# An unreferenced object (changes nothing a reader shows).
$FORGE update s1.pdf orphan.pdf --obj 80 "<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] >>" || fail "update"
check orphan.pdf 0 TOTAL-PASSED "" '.signatures[0].pdf.modifications | length == 0'
ok "permitted changes (DSS added, DSS rewritten in place with /VRI, a second signature by us and by pdfsig, a document time-stamp, an empty invisible signature field, an unreferenced object): TOTAL-PASSED, each change listed as permitted"

# ---- what DocMDP says ----
$FORGE sign doc.pdf cert3.pdf "${SIGN[@]}" --docmdp 3 || fail "pdf_forge sign --docmdp 3"
$FORGE update cert3.pdf cert3-annot.pdf --obj 3 "$(with_annot cert3.pdf 60)" \
	--obj 60 "<< /Type /Annot /Subtype /Text /Rect [72 650 92 670] /Contents (a note) >>" || fail "update"
check cert3-annot.pdf 0 TOTAL-PASSED "" "$(permitted 'annotation added') and .signatures[0].pdf.docmdp_p == 3"
$FORGE update cert3.pdf cert3-content.pdf --stream 4 "" "BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET" || fail "update"
check cert3-content.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/Contents')"
$FORGE sign doc.pdf cert1.pdf "${SIGN[@]}" --docmdp 1 || fail "pdf_forge sign --docmdp 1"
$FORGE sign cert1.pdf cert1-second.pdf "${SIGN[@]}" 2>/dev/null || fail "pdf_forge sign after P=1"
check cert1-second.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots|Fields')"
$FORGE sign cert1.pdf cert1-dts.pdf --doc-timestamp --tsa "$P/tsa.cnf" || fail "pdf_forge sign --doc-timestamp after P=1"
check cert1-dts.pdf 0 TOTAL-PASSED "" "$(permitted 'document time-stamp')"
ok "DocMDP: P=3 permits an annotation but not a content change; P=1 refuses a second signature but not a document time-stamp"

# ---- form filling and FieldMDP ----
# An unsigned revision adds a text field "amount" (widget on page 1) before anyone signs.
$FORGE update doc.pdf form.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/AcroForm << /Fields [ 6 0 R ] >> >>#')" \
	--obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 6 0 R ] >>#')" \
	--obj 6 "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100) /Rect [72 600 200 620] /P 3 0 R >>" || fail "update (form)"
fill() { $FORGE update "$1" "$2" --obj 6 "$(show 6 "$1" | sed 's#/V (100)#/V (999999)#')" || fail "update (fill)"; }
$FORGE sign form.pdf form-s.pdf "${SIGN[@]}" || fail "pdf_forge sign (form)"
fill form-s.pdf form-filled.pdf
check form-filled.pdf 0 TOTAL-PASSED "" "$(permitted 'filled in')"
$FORGE sign form.pdf form-lock.pdf "${SIGN[@]}" --fieldmdp Include:amount || fail "pdf_forge sign --fieldmdp"
fill form-lock.pdf form-lock-filled.pdf
check form-lock-filled.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/V')"
$FORGE sign form.pdf form-lock-all.pdf "${SIGN[@]}" --fieldmdp All || fail "pdf_forge sign --fieldmdp All"
fill form-lock-all.pdf form-lock-all-filled.pdf
check form-lock-all-filled.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/V')"
$FORGE sign form.pdf form-lock-other.pdf "${SIGN[@]}" --fieldmdp Exclude:amount || fail "pdf_forge sign --fieldmdp Exclude"
fill form-lock-other.pdf form-lock-other-filled.pdf
check form-lock-other-filled.pdf 0 TOTAL-PASSED "" "$(permitted 'filled in')"
$FORGE sign form.pdf form-p1.pdf "${SIGN[@]}" --docmdp 1 || fail "pdf_forge sign --docmdp 1 (form)"
fill form-p1.pdf form-p1-filled.pdf
check form-p1-filled.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/V')"
# Removing an annotation needs P=3.
$FORGE update form-s.pdf form-unannot.pdf --obj 3 "$(show 3 form-s.pdf | sed 's#6 0 R##')" || fail "update (remove widget)"
check form-unannot.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
ok "form filling: permitted without a lock, refused for a field FieldMDP locks (Include, All) and under DocMDP P=1, permitted for a field Exclude leaves free; removing a widget refused"

# ---- a reviewer's attacks on the judgement (each passed once) ----
OVER='1 g 0 0 340 40 re f 0 g BT /F1 24 Tf 12 10 Td (Pay 999999 yen) Tj ET'
XO='/Type /XObject /Subtype /Form /BBox [0 0 340 40] /Resources << /Font << /F1 5 0 R >> >>'
# A new signature field whose value is no signature at all, shown over the page.
$FORGE update s1.pdf fake-sig.pdf --obj 3 "$(with_annot s1.pdf 92)" \
	--obj 92 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Overlay) /V << /Type /Sig >> /Rect [60 690 400 730] /AP << /N 93 0 R >> /P 3 0 R >>" \
	--stream 93 "$XO" "$OVER" || fail "update"
check fake-sig.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# ... calling itself a document time-stamp on a P=1 document.
$FORGE update cert1.pdf fake-dts.pdf --obj 3 "$(with_annot cert1.pdf 92)" \
	--obj 92 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Overlay) /V << /Type /DocTimeStamp >> /Rect [60 690 400 730] /AP << /N 93 0 R >> /P 3 0 R >>" \
	--stream 93 "$XO" "$OVER" || fail "update"
check fake-dts.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# A genuine document time-stamp with a visible appearance over the page, on a P=1 document.
$FORGE sign cert1.pdf visible-dts.pdf --doc-timestamp --tsa "$P/tsa.cnf" \
	--obj 9 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (TS) /V 8 0 R /F 4 /Rect [60 690 400 730] /AP << /N 10 0 R >> /P 3 0 R >>" \
	--stream 10 "$XO" "$OVER" || fail "pdf_forge sign --doc-timestamp"
check visible-dts.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# A second signer's empty field given an appearance, no signature in it.
$FORGE update doc.pdf twosig.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/AcroForm << /Fields [ 6 0 R ] /SigFlags 3 >> >>#')" \
	--obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 6 0 R ] >>#')" \
	--obj 6 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Bob) /Rect [60 690 400 730] /F 4 /P 3 0 R >>" || fail "update"
$FORGE sign twosig.pdf twosig-s.pdf "${SIGN[@]}" || fail "pdf_forge sign"
$FORGE update twosig-s.pdf empty-ap.pdf --obj 6 "$(show 6 twosig-s.pdf | sed 's#>>$#/AP << /N 93 0 R >> >>#')" --stream 93 "$XO" "$OVER" || fail "update"
check empty-ap.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/AP')"
# A signed signature's appearance, drawn by a widget kid of the field.
$FORGE sign doc.pdf kid.pdf "${SIGN[@]}" --obj 1 "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [ 8 0 R ] /SigFlags 3 >> >>" \
	--obj 7 "<< /Type /Annot /Subtype /Widget /Parent 8 0 R /F 4 /Rect [60 600 400 640] /AP << /N 9 0 R >> /P 3 0 R >>" \
	--obj 8 "<< /FT /Sig /T (Alice) /V 6 0 R /Kids [ 7 0 R ] >>" --stream 9 "$XO" "BT /F1 18 Tf 12 10 Td (Signed by Alice) Tj ET" || fail "pdf_forge sign"
$FORGE update kid.pdf kid-ap.pdf --stream 9 "$XO" "BT /F1 18 Tf 12 10 Td (Approved: 999999 yen) Tj ET" || fail "update"
check kid-ap.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/AP')"
# A locked field moved under a new /Parent (another name) and filled in.
$FORGE update doc.pdf rform.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/AcroForm << /Fields [ 6 0 R ] >> >>#')" \
	--obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 6 0 R ] >>#')" \
	--obj 6 "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100) /Rect [72 600 200 620] /DA (/F1 12 Tf 0 g) /AP << /N 7 0 R >> /P 3 0 R >>" \
	--stream 7 "/Type /XObject /Subtype /Form /BBox [0 0 128 20] /Resources << /Font << /F1 5 0 R >> >>" "BT /F1 12 Tf 2 5 Td (100) Tj ET" || fail "update"
$FORGE sign rform.pdf rform-lock.pdf "${SIGN[@]}" --fieldmdp Include:amount || fail "pdf_forge sign"
$FORGE update rform-lock.pdf reparent.pdf --obj 6 "$(show 6 rform-lock.pdf | sed 's#/V (100)#/V (999999)#; s#/AP << /N 7 0 R >>##; s#>>$#/Parent 95 0 R /AP << /N 96 0 R >> >>#')" \
	--obj 95 "<< /T (x) /Kids [ 6 0 R ] >>" --stream 96 "/Type /XObject /Subtype /Form /BBox [0 0 128 20] /Resources << /Font << /F1 5 0 R >> >>" "BT /F1 12 Tf 2 5 Td (999999) Tj ET" || fail "update"
check reparent.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Parent|/V')"
# /NeedAppearances and a /DR font that redraws a locked field's digits.
$FORGE update rform-lock.pdf redraw.pdf --obj 1 "$(show 1 rform-lock.pdf | sed 's#/Fields \[ 9 0 R 6 0 R \]#/Fields [ 9 0 R 6 0 R ] /NeedAppearances true /DR << /Font << /F1 97 0 R >> >>#')" \
	--obj 97 "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] /FirstChar 48 /LastChar 49 /Widths [600 600] /Encoding << /Type /Encoding /Differences [48 /zero /one] >> /CharProcs << /zero 98 0 R /one 98 0 R >> /Resources << /Font << /H 5 0 R >> >> >>" \
	--stream 98 "" "600 0 d0 BT /H 1000 Tf 0 0 Td (9) Tj ET" || fail "update"
check redraw.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'NeedAppearances')"
# A page moved under a new /Pages node that crops and rotates it (inherited attributes).
$FORGE update s1.pdf reparent-page.pdf --obj 3 "$(show 3 s1.pdf | sed 's#/Parent 2 0 R#/Parent 90 0 R#')" \
	--obj 90 "<< /Type /Pages /Kids [ 3 0 R ] /Count 1 /CropBox [0 0 612 690] /Rotate 180 /Parent 2 0 R >>" || fail "update"
check reparent-page.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Parent')"
# A new invisible signature field carrying a page-open JavaScript action.
$FORGE update rform-lock.pdf sig-js.pdf --obj 3 "$(with_annot rform-lock.pdf 92)" \
	--obj 92 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Later) /Rect [0 0 0 0] /P 3 0 R /AA << /PO << /S /JavaScript /JS (this.getField('amount').value='999999';) >> >> >>" || fail "update"
check sig-js.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# An unlocked field's appearance replaced while its value stays.
$FORGE sign rform.pdf rform-s.pdf "${SIGN[@]}" || fail "pdf_forge sign"
$FORGE update rform-s.pdf ap-only.pdf --stream 7 "/Type /XObject /Subtype /Form /BBox [0 0 128 20] /Resources << /Font << /F1 5 0 R >> >>" "BT /F1 12 Tf 2 5 Td (999999) Tj ET" || fail "update"
check ap-only.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE
# FieldMDP naming a parent field locks its kids.
$FORGE update doc.pdf pform.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/AcroForm << /Fields [ 6 0 R ] >> >>#')" \
	--obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 7 0 R ] >>#')" --obj 6 "<< /FT /Tx /T (person) /Kids [ 7 0 R ] >>" \
	--obj 7 "<< /Type /Annot /Subtype /Widget /Parent 6 0 R /T (amount) /V (100) /Rect [72 600 200 620] /P 3 0 R >>" || fail "update"
$FORGE sign pform.pdf pform-l.pdf "${SIGN[@]}" --fieldmdp Include:person || fail "pdf_forge sign"
$FORGE update pform-l.pdf kid-fill.pdf --obj 7 "$(show 7 pform-l.pdf | sed 's#/V (100)#/V (999999)#')" || fail "update"
check kid-fill.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/V')"
# A signature removed (its field taken out), the page changed, then a document time-stamp.
$FORGE update s1.pdf stripped.pdf --obj 1 "$(show 1 s1.pdf | sed 's#/AcroForm << /Fields \[ [0-9]* 0 R \] /SigFlags 3 >>##')" \
	--obj 3 "$(show 3 s1.pdf | sed 's#/Annots \[ [0-9]* 0 R \]##')" --stream 4 "" "BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET" || fail "update"
$FORGE sign stripped.pdf stripped-dts.pdf --doc-timestamp --tsa "$P/tsa.cnf" || fail "pdf_forge sign --doc-timestamp"
rc=0; "$V" verify --json stripped-dts.pdf --trust "$P/ca.pem" --no-revocation-check >v.json 2>/dev/null || rc=$?
[ "$rc" = 1 ] && jq -e '[.signatures[] | select(.pdf.removed and .sub_indication == "SIG_CONSTRAINTS_FAILURE")] | length == 1' v.json >/dev/null ||
	verdict_wrong "stripped-dts.pdf: the removed signature is not reported: $(jq -c '[.signatures[] | {indication, sub_indication, pdf}]' v.json)"
# Not a false alarm: a second signature on a document whose /OpenAction names the page.
$FORGE update doc.pdf oa.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/OpenAction [ 3 0 R /Fit ] >>#')" || fail "update"
$FORGE sign oa.pdf oa-s.pdf "${SIGN[@]}" && $FORGE sign oa-s.pdf oa-s2.pdf "${SIGN[@]}" || fail "pdf_forge sign"
check oa-s2.pdf 0 TOTAL-PASSED "" '.signatures | length == 2'
# Cost: 4,000 annotations replaced by 4,000 references to one new one (was quadratic).
python3 - "$T/annots.pdf" <<'PY'
import sys
N = 4000
content = b"BT /F1 24 Tf 72 700 Td (Pay 100 yen) Tj ET"
objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [" + b" ".join(b"%d 0 R" % (10 + i) for i in range(N)) + b"] >>",
        4: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
for i in range(N):
    objs[10 + i] = b"<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] >>"
for i in range(6, 10):
    objs[i] = b"null"
out, offs = b"%PDF-1.7\n", {}
for n in sorted(objs):
    offs[n] = len(out)
    out += b"%d 0 obj\n" % n + objs[n] + b"\nendobj\n"
x, size = len(out), max(objs) + 1
out += b"xref\n0 %d\n0000000000 65535 f \n" % size + b"".join(b"%010d 00000 n \n" % offs[n] for n in range(1, size))
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, x)
open(sys.argv[1], "wb").write(out)
PY
$FORGE sign annots.pdf annots-s.pdf "${SIGN[@]}" || fail "pdf_forge sign"
sz=$(qpdf --show-object=trailer annots-s.pdf | grep -o '/Size [0-9]*' | cut -d' ' -f2)
$FORGE update annots-s.pdf many.pdf --obj 3 "$(show 3 annots-s.pdf | sed "s#/Annots \[[^]]*\]#/Annots [ $(yes "$sz 0 R" | head -n 4000 | tr '\n' ' ') ]#")" \
	--obj "$sz" "<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] >>" || fail "update"
start=$(date +%s)
check many.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE
[ $(( $(date +%s) - start )) -lt 20 ] || fail "4,000 annotations took more than 20 s"
ok "attacks on the judgement: fake and visible time-stamp fields, an empty field's or a signed kid widget's appearance, a locked field re-parented, /NeedAppearances with a new /DR font, a page re-parented, JavaScript on a new signature field, an appearance without its value, a parent field's lock on its kids, a signature removed under a later time-stamp: all refused; /OpenAction naming the page no false alarm; 4,000 annotations judged in time"

# ---- a second review's attacks (each passed once) ----
# Annotation flags beyond 32 bits: readers ignore them, so the field is not hidden.
$FORGE update s1.pdf flags.pdf --obj 3 "$(with_annot s1.pdf 92)" \
	--obj 92 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Later) /F 4294967298 /Rect [60 690 400 730] /AP << /N 93 0 R >> /P 3 0 R >>" \
	--stream 93 "$XO" "$OVER" || fail "update"
check flags.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# A genuine document time-stamp with a visible appearance over the page (P=2).
$FORGE sign s1.pdf dts-overlay.pdf --doc-timestamp --tsa "$P/tsa.cnf" \
	--obj 9 "<< /Type /Annot /Subtype /Widget /FT /Sig /T (TS) /V 8 0 R /F 4 /Rect [60 690 400 730] /AP << /N 10 0 R >> /P 3 0 R >>" \
	--stream 10 "$XO" "$OVER" || fail "pdf_forge sign --doc-timestamp"
check dts-overlay.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# A font added to /DR under the name a read-only field without appearance draws with.
$FORGE update doc.pdf drform.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/AcroForm << /Fields [ 6 0 R ] /DR << /Font << /Helv 5 0 R >> >> >> >>#')" \
	--obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 6 0 R ] >>#')" \
	--obj 6 "<< /Type /Annot /Subtype /Widget /FT /Tx /T (amount) /V (100) /Ff 1 /DA (/F9 14 Tf 0 g) /Rect [72 600 200 620] /P 3 0 R >>" || fail "update"
$FORGE sign drform.pdf drform-s.pdf "${SIGN[@]}" || fail "pdf_forge sign"
$FORGE update drform-s.pdf dr-added.pdf --obj 1 "$(show 1 drform-s.pdf | sed 's#/Helv 5 0 R#/Helv 5 0 R /F9 97 0 R#')" \
	--obj 97 "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>" || fail "update"
check dr-added.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'F9')"
# Two overlapping stamps of the signed page put in the other order (drawing order).
$FORGE update doc.pdf order.pdf --obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 20 0 R 21 0 R ] >>#')" \
	--obj 20 "<< /Type /Annot /Subtype /Stamp /F 4 /Rect [60 690 400 730] /AP << /N 22 0 R >> >>" \
	--obj 21 "<< /Type /Annot /Subtype /Stamp /F 4 /Rect [60 690 400 730] /AP << /N 23 0 R >> >>" \
	--stream 22 "$XO" "$OVER" --stream 23 "$XO" "1 g 0 0 340 40 re f 0 g BT /F1 24 Tf 12 10 Td (Pay 100 yen) Tj ET" || fail "update"
$FORGE sign order.pdf order-s.pdf "${SIGN[@]}" || fail "pdf_forge sign"
$FORGE update order-s.pdf order-swap.pdf --obj 3 "$(show 3 order-s.pdf | sed 's#20 0 R 21 0 R#21 0 R 20 0 R#')" || fail "update"
check order-swap.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Annots')"
# A FieldMDP lock on a field whose name is longer than a name buffer.
N=$(printf 'a%.0s' $(seq 1 600))
$FORGE update doc.pdf longform.pdf --obj 1 "$(show 1 doc.pdf | sed 's#>>$#/AcroForm << /Fields [ 6 0 R ] >> >>#')" \
	--obj 3 "$(show 3 doc.pdf | sed 's#>>$#/Annots [ 6 0 R ] >>#')" \
	--obj 6 "<< /Type /Annot /Subtype /Widget /FT /Tx /T ($N) /V (100) /Rect [72 600 200 620] /P 3 0 R >>" || fail "update"
$FORGE sign longform.pdf longform-lock.pdf "${SIGN[@]}" --fieldmdp "Include:$N" || fail "pdf_forge sign"
$FORGE update longform-lock.pdf longform-filled.pdf --obj 6 "$(show 6 longform-lock.pdf | sed 's#/V (100)#/V (999999)#')" || fail "update"
check longform-filled.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal '/V')"
# At P=3, a font that says /Rect is still a font, not an annotation.
$FORGE update doc.pdf trap.pdf --obj 5 "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Rect [0 0 0 0] >>" || fail "update"
$FORGE sign trap.pdf trap-c3.pdf "${SIGN[@]}" --docmdp 3 || fail "pdf_forge sign"
$FORGE update trap-c3.pdf trap-font.pdf --obj 5 "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Rect [0 0 0 0] /Encoding << /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [ 49 /nine ] >> >>" || fail "update"
check trap-font.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(illegal 'Encoding')"
ok "second review: flags beyond 32 bits, a visible document time-stamp, a /DR font a field draws with, annotations reordered, a lock on a long field name, a font posing as an annotation at P=3: all refused"

# A cross-reference stream that inflates to 64 MiB (a flate bomb) is refused before qpdf
# inflates it (qpdf has no bound of its own: 950 MiB this way once cost 2 GB of memory).
$FORGE bomb s1.pdf bomb.pdf || fail "pdf_forge bomb"
# ... also with a key that ends in "obj" (and a string holding an object header) between the
# dictionary's /Type and its data, where a look for the nearest "obj" would find no /XRef.
$FORGE bomb s1.pdf bomb2.pdf --hide || fail "pdf_forge bomb"
for b in bomb bomb2; do
	rc=0; "$V" verify $b.pdf --trust "$P/ca.pem" --no-revocation-check >/dev/null 2>bomb.err || rc=$?
	[ "$rc" = 1 ] && grep -q 'inflates beyond' bomb.err || verdict_wrong "$b.pdf: rc $rc: $(cat bomb.err)"
done
ok "a flate bomb in a cross-reference stream: refused before qpdf inflates it"

# ---- DSS data: whose it is ----
# The document security store serves every signature in the document, but only data its issuer
# signed counts: a CRL from an impostor CA with the same name is no revocation information, a
# genuine CRL that revokes the signer decides even when filed for another signature.
mkdir -p "$P/db" "$P/evil"
: >"$P/db/index.txt"
echo 1000 >"$P/db/crlnumber"
crl_conf() { # DIR CERT KEY
	printf '[ca]\ndefault_ca=d\n[d]\ndatabase=%s/db/index.txt\ncrlnumber=%s/db/crlnumber\ndefault_md=sha256\ndefault_crl_days=30\ncertificate=%s\nprivate_key=%s\n' \
		"$P" "$P" "$2" "$3" >"$1/crl.cnf"
}
crl_conf "$P" "$P/ca.pem" "$P/ca.key"
osl ca -config "$P/crl.cnf" -gencrl -out "$P/good.crl"
osl req -x509 -newkey rsa:3072 -nodes -keyout "$P/evil/ca.key" -out "$P/evil/ca.pem" -subj "/CN=Changes Root" -days 30
crl_conf "$P/evil" "$P/evil/ca.pem" "$P/evil/ca.key"
osl ca -config "$P/evil/crl.cnf" -gencrl -out "$P/evil.crl"
osl ca -config "$P/crl.cnf" -revoke "$P/s.pem" -crl_reason keyCompromise
osl ca -config "$P/crl.cnf" -gencrl -out "$P/revoked.crl"
with_dss() { # IN OUT CRL [VRI]: a DSS whose /CRLs hold CRL (PEM), optionally filed under a /VRI key
	local vri=""
	[ -n "${4:-}" ] && vri="/VRI << /$4 << /CRL [ 71 0 R ] >> >>"
	$FORGE update "$1" "$2" --obj 1 "$(show 1 "$1" | sed 's#>>$#/DSS 70 0 R >>#')" \
		--obj 70 "<< /CRLs [ 71 0 R ] $vri >>" --stream 71 "" "$(cat "$3")" || fail "update (DSS)"
}
rcheck() { # FILE EXIT INDICATION SUB: with revocation required
	local rc=0
	"$V" verify --json "$1" --trust "$P/ca.pem" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = "$2" ] && jq -e --arg i "$3" --arg s "$4" '.signatures[0].indication == $i and (.signatures[0].sub_indication // "") == $s' "$T/v.json" >/dev/null ||
		verdict_wrong "$1: exit $rc, want $2 $3/$4: $(jq -c '[.signatures[] | {indication, sub_indication, problems}]' "$T/v.json" 2>/dev/null) $(cat "$T/v.err")"
}
with_dss s1.pdf dss-good.pdf "$P/good.crl"
rcheck dss-good.pdf 0 TOTAL-PASSED ""
# ... also as DER in a FlateDecode stream, as PDF libraries write it.
openssl crl -in "$P/good.crl" -outform DER -out "$P/good.der" 2>/dev/null || fail "openssl crl"
$FORGE update s1.pdf dss-flate.pdf --obj 1 "$(show 1 s1.pdf | sed 's#>>$#/DSS 70 0 R >>#')" \
	--obj 70 "<< /CRLs [ 71 0 R ] >>" --zstream 71 "" "$P/good.der" || fail "update (DSS)"
rcheck dss-flate.pdf 0 TOTAL-PASSED ""
with_dss s1.pdf dss-evil.pdf "$P/evil.crl"
rcheck dss-evil.pdf 1 INDETERMINATE TRY_LATER
with_dss second.pdf dss-revoked.pdf "$P/revoked.crl" 0123456789ABCDEF0123456789ABCDEF01234567
rcheck dss-revoked.pdf 1 INDETERMINATE REVOKED_NO_POE
ok "DSS data: a genuine CRL serves the signature, an impostor CA's CRL of the same name is ignored, a revoking CRL filed under another signature's /VRI still revokes"

# ---- what qpdf and another reader could read differently (the updates' own bytes) ----
# Each update after a signature must list exactly the objects it holds, at their headers, keep
# generations, free nothing, use no /XRefStm, and repeat no number in an object stream; and qpdf
# must read the document without a warning. Otherwise a reader that rebuilds its cross-reference
# (poppler) or resolves a conflict the other way shows a page the comparison never saw.
# xref_forge IN OUT MODE: an update of IN written by hand (modes below; B1a-d of the review).
xref_forge() {
	python3 - "$@" <<'EOF'
import re, struct, subprocess, sys, zlib
inp, outp, mode = sys.argv[1:4]
data = open(inp, "rb").read()
prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
tr = subprocess.run(["qpdf", "--show-object=trailer", inp], capture_output=True).stdout.decode()
size = int(re.search(r"/Size (\d+)", tr).group(1))
root = re.search(r"/Root (\d+ \d+ R)", tr).group(1).encode()
out = bytearray(data)
c = b"BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET"
four = b"4 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(c), c)
font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
ents, xs = [], None  # ents: (number, offset, generation, n|f); xs: an xref stream's rows
def obj(n, body, gen=0):
    off = len(out)
    out.extend(b"%d %d obj\n" % (n, gen) + body + b"\nendobj\n")
    return off
if mode in ("gen", "gen-orphan", "loose", "orphan"):
    # gen*: font 5 listed at generation 1 (qpdf still reads 5 0 R; poppler rebuilds its
    # cross-reference); the page content 4 loose in the update, or in an unreferenced stream.
    g = 1 if mode.startswith("gen") else 0
    ents.append((5, obj(5, font), g, b"n"))
    if mode.endswith("orphan"):
        ents.append((size, obj(size, b"<< /Length %d >>\nstream\n" % len(four) + four + b"endstream"), 0, b"n"))
        size += 1
    else:
        out += four
elif mode == "free":
    ents.append((5, 0, 1, b"f"))
elif mode == "hybrid":
    # The table frees 5, /XRefStm gives the old 5: qpdf reads the stream, poppler the table.
    out += four
    off5 = data.index(b"\n5 0 obj") + 1
    row = struct.pack(">BIH", 1, off5, 0)
    xo = obj(size, b"<< /Type /XRef /Size %d /W [1 4 2] /Index [5 1] /Length %d >>\nstream\n" % (size + 1, len(row)) + row + b"\nendstream")
    ents += [(5, 0, 0, b"f"), (size, xo, 0, b"n")]
    size += 1
    x = len(out)
    out += b"xref\n" + b"".join(b"%d 1\n%010d %05d %s \n" % e for e in ents)
    out += b"trailer\n<< /Size %d /Root %s /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, prev, xo, x)
    open(outp, "wb").write(bytes(out))
    sys.exit(0)
elif mode in ("objstm-twice", "objstm-hidden", "objstm-ok"):
    # twice: "3 0 3 L": qpdf takes the last page 3, poppler the first (the index given);
    # hidden: the stream holds a 4 the cross-reference does not give; ok: font 5 moved there.
    page = subprocess.run(["qpdf", "--show-object=3", inp], capture_output=True).stdout.strip()
    if mode == "objstm-twice":
        cn = size
        xs = [(3, 2, size + 1, 0), (cn, 1, obj(cn, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(c), c)), 0)]
        a = page.replace(b"/Contents 4 0 R", b"/Contents %d 0 R" % cn) + b"\n"
        hdr = b"3 0 3 %d\n" % len(a)
        body, n, osn = hdr + a + page + b"\n", 2, size + 1
    elif mode == "objstm-hidden":
        hdr = b"5 0 4 %d\n" % (len(font) + 1)
        body, n, osn = hdr + font + b"\n<< /Length 0 >>\n", 2, size
        xs = [(5, 2, osn, 0)]
    else:
        hdr = b"5 0\n"
        body, n, osn = hdr + font + b"\n", 1, size
        xs = [(5, 2, osn, 0)]
    z = zlib.compress(body)
    xs.append((osn, 1, obj(osn, b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (n, len(hdr), len(z)) + z + b"\nendstream"), 0))
    size = osn + 1
if xs is not None:
    xs.append((size, 1, len(out), 0))
    xs.sort()
    rows = b"".join(struct.pack(">BIH", t, f1, f2) for _, t, f1, f2 in xs)
    index = b" ".join(b"%d 1" % e[0] for e in xs)
    x = obj(size, b"<< /Type /XRef /Size %d /Root %s /Prev %d /W [1 4 2] /Index [%s] /Length %d >>\nstream\n" % (size + 1, root, prev, index, len(rows)) + rows + b"\nendstream")
    out += b"startxref\n%d\n%%%%EOF\n" % x
else:
    x = len(out)
    out += b"xref\n" + b"".join(b"%d 1\n%010d %05d %s \n" % e for e in ents)
    out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, prev, x)
open(outp, "wb").write(bytes(out))
EOF
}
detail() { echo ".signatures[0].problems | map(.detail) | join(\" \") | test(\"$1\")"; }
xref_forge s1.pdf xref-gen.pdf gen || fail "xref_forge gen"
check xref-gen.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'object 5 with generation 1')"
xref_forge s1.pdf xref-gen-orphan.pdf gen-orphan || fail "xref_forge gen-orphan"
check xref-gen-orphan.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'generation')"
xref_forge s1.pdf xref-loose.pdf loose || fail "xref_forge loose"
check xref-loose.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail '4 0 obj.* does not list there')"
xref_forge s1.pdf xref-orphan.pdf orphan || fail "xref_forge orphan"
check xref-orphan.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail '4 0 obj.* does not list there')"
xref_forge s1.pdf xref-free.pdf free || fail "xref_forge free"
check xref-free.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'frees object 5')"
xref_forge s1.pdf xref-hybrid.pdf hybrid || fail "xref_forge hybrid"
check xref-hybrid.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'XRefStm')"
xref_forge s1.pdf xref-objstm-twice.pdf objstm-twice || fail "xref_forge objstm-twice"
check xref-objstm-twice.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'holds object 3 twice')"
xref_forge s1.pdf xref-objstm-hidden.pdf objstm-hidden || fail "xref_forge objstm-hidden"
check xref-objstm-hidden.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'holding object 4')"
# A repeated key in a large page dictionary: qpdf keeps the last /Contents, poppler the first.
pad=$(for i in $(seq 1 35); do printf '/Type /Page '; done)
$FORGE update s1.pdf xref-dupkey.pdf --obj 3 "<< /Contents 62 0 R /Parent 2 0 R $pad /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [ 7 0 R ] >>" \
	--stream 62 "" "BT /F1 24 Tf 72 700 Td (Pay 999999 yen) Tj ET" || fail "update (duplicate key)"
check xref-dupkey.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'duplicated key')"
# A generation lowered: the signed font is 5 1 (referenced as 5 1 R), the update writes 5 0.
sed 's#/F1 5 0 R#/F1 5 1 R#; s#^5 0 obj#5 1 obj#' doc.pdf | python3 -c '
import sys; d = sys.stdin.buffer.read(); o = d.index(b"\n5 1 obj") + 1
sys.stdout.buffer.write(d.replace(b"%010d 00000 n \ntrailer" % o, b"%010d 00001 n \ntrailer" % o))' >gen1.pdf
$FORGE sign gen1.pdf gen1-s.pdf "${SIGN[@]}" || fail "pdf_forge sign (generation 1)"
check gen1-s.pdf 0 TOTAL-PASSED ""
$FORGE update gen1-s.pdf gen1-down.pdf --obj 5 "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>" || fail "update (generation 0)"
check gen1-down.pdf 1 INDETERMINATE SIG_CONSTRAINTS_FAILURE "$(detail 'object 5 with generation 0')"
# Written well, an update with a cross-reference stream and an object stream is no problem.
xref_forge s1.pdf xref-objstm-ok.pdf objstm-ok || fail "xref_forge objstm-ok"
check xref-objstm-ok.pdf 0 TOTAL-PASSED "" '.signatures[0].pdf.modifications | length == 0'
ok "updates another reader may read otherwise (a generation raised, with an object loose or inside a stream, or lowered; an object not listed; a free entry; /XRefStm; an object stream repeating a number or holding an unlisted one; a repeated dictionary key): refused; a cross-reference stream with an object stream: passes"

[ "$wrong" = 0 ] || fail "$wrong wrong verdicts (PDF_CHANGES_ALL=1)"
finish
