#!/usr/bin/env bash
# t_ltv_pades: PAdES long-term signatures end to end — `inkan sign --level B-LT|B-LTA` and
# `inkan extend` (DSS with /Certs /OCSPs /CRLs /VRI, document time-stamps, renewal; PDFs with two
# signatures; anyone's PDF of another PKI extended offline) and visible signatures against the
# real daemon, its OCSP responder and CRLs (through a plain-HTTP proxy on loopback, as pdfsig's
# NSS asks over HTTP only) and its TSA; every file checked with tools we did not write (qpdf
# --check, pdfsig, openssl ts -verify, pdftoppm) and with `inkan verify --offline` while inkand
# is stopped: levels, a tampered DSS, changed bytes under the document time-stamps.
. "$(dirname "$0")/lib.sh"

command -v pdfsig >/dev/null && command -v certutil >/dev/null && command -v qpdf >/dev/null ||
	fail "poppler-utils, libnss3-tools and qpdf are needed (scripts/deps.sh test installs them)"

# The CA certificates are made at init: their URLs (the issuing CA's ARL) name the proxy too.
init_data_proxied
fast_argon2
start_inkand
proxy_follow

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Harbor-5528
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"
# A signer whose name WinAnsi cannot show (the appearance says '?', the data keep the name).
yamada=$(mkactive "$ro" yamada signer '{"display_name": "山田 太郎"}')
mkkey "$alice" P-256 >/dev/null
mkkey "$bob" RSA-3072 >/dev/null
mkkey "$yamada" P-256 >/dev/null

# sign USER TOKEN FILE ARGS...: inkan sign with PIN and OTP from the environment.
sign() {
	local user=$1 tok=$2
	shift 2
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$tok INKAN_PIN=$PIN \
		INKAN_OTP=$(otp_next "$user") timeout 600 "$INKAN_CLI" sign --yes "$@" \
		</dev/null >"$T/sign.out" 2>"$T/sign.err" || fail "inkan sign ${*:1} failed: $(cat "$T/sign.err")"
}

mkdir -p "$T/nss"
certutil -N -d "sql:$T/nss" --empty-password >/dev/null 2>&1 || fail "certutil -N"
certutil -A -d "sql:$T/nss" -n inkan-root -t "CT,C,C" -i "$ROOT" >/dev/null 2>&1 || fail "certutil -A root"

# pdfsig_ok FILE N: pdfsig finds at least N signatures, the first N (ours, CAdES) valid with a
# trusted certificate, each for its own revision; qpdf --check is clean.
pdfsig_ok() {
	local f=$1 n=$2 got
	qpdf --check "$f" >"$T/qpdf.out" 2>&1 || fail "qpdf --check $f: $(cat "$T/qpdf.out")"
	pdfsig_run "$f" || true
	got=$(grep -c 'Signature Validation: Signature is Valid' "$T/pdfsig.out" || true)
	[ "$got" -ge "$n" ] || fail "pdfsig: $got of $n signatures valid in $f: $(cat "$T/pdfsig.out")"
	[ "$(grep -c 'Certificate Validation: Certificate is Trusted' "$T/pdfsig.out" || true)" -ge "$n" ] ||
		fail "pdfsig: not every certificate trusted in $f: $(cat "$T/pdfsig.out")"
}
# prefix_ok ORIG NEW: NEW starts with every byte of ORIG.
prefix_ok() {
	cmp -s -n "$(stat -c %s "$1")" "$1" "$2" || fail "$2 changed bytes of $1"
}
# ranges FILE: one "a b c d" line per /ByteRange in the file, in file order.
ranges() {
	grep -aoE '/ByteRange *\[ *[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ *\]' "$1" |
		sed -E 's/.*\[ *([0-9]+) +([0-9]+) +([0-9]+) +([0-9]+).*/\1 \2 \3 \4/'
}
# docts_ok FILE A B C D: the /Contents at [B, C) is a time-stamp token over the bytes of the
# range, and openssl ts -verify accepts it trusting the root only.
docts_ok() {
	local f=$1 a=$2 b=$3 c=$4 d=$5
	{ head -c "$b" "$f"; dd if="$f" iflag=skip_bytes,count_bytes skip="$c" count="$d" status=none; } >"$T/range.bin"
	dd if="$f" iflag=skip_bytes,count_bytes skip=$((b + 1)) count=$((c - b - 2)) status=none |
		xxd -r -p >"$T/tok.pad"
	openssl asn1parse -inform DER -in "$T/tok.pad" -out "$T/tok.der" -noout 2>/dev/null ||
		fail "$f: the document time-stamp's /Contents is not DER"
	openssl ts -verify -token_in -in "$T/tok.der" -data "$T/range.bin" -CAfile "$ROOT" \
		-untrusted "$DATA/ca/chain.pem" >"$T/ts.out" 2>&1 || fail "openssl ts -verify refuses the document time-stamp of $f at [$a $b $c $d]: $(cat "$T/ts.out")"
}
# vri_ok FILE [N]: every signature's (or the first N's) /Contents has its /VRI entry (uppercase
# SHA-1 of the value); the last document time-stamp has none until it is renewed.
vri_ok() {
	local f=$1 a b c d key n=${2:-1000}
	qpdf --json --json-key=qpdf "$f" >"$T/q.json"
	while read -r a b c d; do
		key=$(dd if="$f" iflag=skip_bytes,count_bytes skip=$((b + 1)) count=$((c - b - 2)) status=none |
			xxd -r -p | sha1sum | cut -c1-40 | tr a-f A-F)
		grep -q "\"/$key\"" "$T/q.json" || fail "$f: no /VRI entry /$key for the signature at [$a $b $c $d]"
	done < <(ranges "$f" | head -n "$n")
}
# verify_offline FILE: inkan verify with no server and no network: TOTAL-PASSED for every
# signature and document time-stamp, trusting the root alone; level in the report.
verify_offline() {
	local rc=0
	env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$ROOT" "$1" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" = 0 ] && jq -e '.signatures | length > 0 and all(.indication == "TOTAL-PASSED")' "$T/v.json" >/dev/null ||
		fail "inkan verify --offline $1: not TOTAL-PASSED (rc $rc): $(jq -c '[.signatures[] | {indication, sub_indication, problems}]' "$T/v.json" 2>/dev/null | head -c 3000) $(cat "$T/v.err")"
}

printf '%%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n4 0 obj << /Length 44 >> stream\nBT /F1 12 Tf 72 720 Td (PDFMARK-%s) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R /Size 5 >>\n%%%%EOF\n' \
	"$(openssl rand -hex 6)" >"$T/page.src.pdf"
qpdf --warning-exit-0 "$T/page.src.pdf" "$T/page.pdf" 2>/dev/null || fail "qpdf cannot write page.pdf"
qpdf --object-streams=generate "$T/page.pdf" "$T/xs.pdf" || fail "qpdf --object-streams=generate"

# ---- B-LT: a DSS after the signature ----
sign alice "$alice" "$T/page.pdf" --level B-LT --output "$T/lt.pdf"
pdfsig_ok "$T/lt.pdf" 1
prefix_ok "$T/page.pdf" "$T/lt.pdf"
grep -q 'Not total document signed' "$T/pdfsig.out" || fail "pdfsig: the signature should cover its revision only"
qpdf --show-object=1 "$T/lt.pdf" | grep -q '/DSS' || fail "lt.pdf: the catalog has no /DSS"
vri_ok "$T/lt.pdf"
grep -aq '^xref' <(tail -c 3000 "$T/lt.pdf") || fail "lt.pdf: the DSS update of a classic-xref file has no xref table"
ok "B-LT (classic xref): qpdf --check clean, pdfsig valid for the signed revision, earlier bytes kept, /DSS with a /VRI entry for the signature"

# ---- B-LTA: a document time-stamp over the DSS (a file with cross-reference streams) ----
sign bob "$bob" "$T/xs.pdf" --level B-LTA --output "$T/lta.pdf"
pdfsig_ok "$T/lta.pdf" 1
prefix_ok "$T/xs.pdf" "$T/lta.pdf"
grep -aq '/Type /XRef' <(tail -c 4000 "$T/lta.pdf") || fail "lta.pdf: the updates of a stream-xref file have no xref stream"
grep -aq '/DocTimeStamp' "$T/lta.pdf" && grep -aq '/ETSI.RFC3161' "$T/lta.pdf" || fail "lta.pdf: no document time-stamp"
mapfile -t R < <(ranges "$T/lta.pdf")
[ "${#R[@]}" = 2 ] || fail "lta.pdf: ${#R[@]} byte ranges, expected 2"
read -r a b c d <<<"${R[1]}"
[ $((c + d)) = "$(stat -c %s "$T/lta.pdf")" ] || fail "lta.pdf: the document time-stamp does not cover the whole file"
docts_ok "$T/lta.pdf" $a $b $c $d
vri_ok "$T/lta.pdf" 1
ok "B-LTA (xref streams): qpdf --check clean, pdfsig valid, the document time-stamp over the whole file (DSS included) verifies with openssl ts -verify"

# ---- inkan extend: a PDF with two signatures (one of them B-B) to B-LTA ----
sign alice "$alice" "$T/page.pdf" --level B-B --output "$T/two1.pdf"
sign bob "$bob" "$T/two1.pdf" --output "$T/two.pdf"
must_pdf_extend "$T/two.pdf" --level B-LTA --output "$T/two-lta.pdf"
pdfsig_ok "$T/two-lta.pdf" 2
prefix_ok "$T/two.pdf" "$T/two-lta.pdf"
mapfile -t R < <(ranges "$T/two-lta.pdf")
[ "${#R[@]}" = 3 ] || fail "two-lta.pdf: ${#R[@]} byte ranges, expected 3"
docts_ok "$T/two-lta.pdf" ${R[2]}
vri_ok "$T/two-lta.pdf" 2
ok "inkan extend --level B-LTA of a PDF with two signatures: a VRI entry for each, a document time-stamp over all, pdfsig valid for both, qpdf --check clean"

# B-LT alone, in place (the file is replaced, its earlier bytes kept).
cp "$T/two.pdf" "$T/two-lt.pdf"
must_pdf_extend "$T/two-lt.pdf" --level B-LT
prefix_ok "$T/two.pdf" "$T/two-lt.pdf"
pdfsig_ok "$T/two-lt.pdf" 2
vri_ok "$T/two-lt.pdf"
grep -aq '/DocTimeStamp' "$T/two-lt.pdf" && fail "B-LT added a document time-stamp"
ok "inkan extend --level B-LT in place: the DSS alone, earlier bytes kept"

# ---- renewal: B-LTA extended twice, each document time-stamp over the one before ----
must_pdf_extend "$T/lta.pdf" --level B-LTA --output "$T/r1.pdf"
cp "$T/r1.pdf" "$T/r2.pdf"
must_pdf_extend "$T/r2.pdf" --level B-LTA
prefix_ok "$T/lta.pdf" "$T/r1.pdf"
prefix_ok "$T/r1.pdf" "$T/r2.pdf"
pdfsig_ok "$T/r2.pdf" 1
mapfile -t R < <(ranges "$T/r2.pdf")
[ "${#R[@]}" = 4 ] || fail "r2.pdf: ${#R[@]} byte ranges, expected 4 (signature, 3 document time-stamps)"
prev_end=0
for i in 1 2 3; do
	read -r a b c d <<<"${R[$i]}"
	docts_ok "$T/r2.pdf" $a $b $c $d
	[ "$b" -gt "$prev_end" ] || fail "r2.pdf: document time-stamp $i does not cover the revision before it"
	prev_end=$((c + d))
done
vri_ok "$T/r2.pdf" 3
ok "renewal: two more document time-stamps, each over everything before it (the previous time-stamp and its validation data in the DSS), all verify with openssl ts -verify; VRI entries for the earlier time-stamps"

# ---- a tampered DSS: alice's OCSP response swapped for bob's, her issuing CA's CRL for the
# root's: the VRI of her signature now points at another certificate's data ----
objnum() { sed -nE "s|.*$2 *\\[? *([0-9]+) 0 R.*|\\1|p" <<<"$1" | head -n1; }
cat_obj=$(qpdf --show-object=trailer "$T/lt.pdf" | sed -nE 's/.*\/Root ([0-9]+) 0 R.*/\1/p')
dss=$(qpdf --show-object="$cat_obj" "$T/lt.pdf" | sed -nE 's/.*\/DSS ([0-9]+) 0 R.*/\1/p')
dsst=$(qpdf --show-object="$dss" "$T/lt.pdf")
ocsp_a=$(objnum "$dsst" /OCSPs)
[ -n "$ocsp_a" ] || fail "lt.pdf: no OCSP response in the DSS: $dsst"
ldss=$(qpdf --show-object="$(qpdf --show-object="$(qpdf --show-object=trailer "$T/lta.pdf" | sed -nE 's/.*\/Root ([0-9]+) 0 R.*/\1/p')" "$T/lta.pdf" | sed -nE 's/.*\/DSS ([0-9]+) 0 R.*/\1/p')" "$T/lta.pdf")
qpdf --show-object="$(objnum "$ldss" /OCSPs)" --raw-stream-data "$T/lta.pdf" >"$T/bob-ocsp.der"
openssl ocsp -respin "$T/bob-ocsp.der" -resp_text -noverify 2>/dev/null | grep -q 'Cert Status' || fail "bob's OCSP response not extracted"
crl_args=()
for n in $(sed -nE 's/.*\/CRLs \[([0-9 R]+)\].*/\1/p' <<<"$dsst" | grep -oE '[0-9]+ 0 R' | cut -d' ' -f1); do
	qpdf --show-object="$n" --raw-stream-data "$T/lt.pdf" >"$T/crl-$n.der"
	openssl crl -inform DER -in "$T/crl-$n.der" -noout -issuer | grep -q 'Root CA' && cp "$T/crl-$n.der" "$T/arl.der"
done
for n in $(sed -nE 's/.*\/CRLs \[([0-9 R]+)\].*/\1/p' <<<"$dsst" | grep -oE '[0-9]+ 0 R' | cut -d' ' -f1); do
	openssl crl -inform DER -in "$T/crl-$n.der" -noout -issuer | grep -q 'Issuing CA' && crl_args+=(--zstream "$n" "" "$T/arl.der")
done
[ "${#crl_args[@]}" = 4 ] && [ -s "$T/arl.der" ] || fail "lt.pdf: the DSS does not hold the issuing CA's CRL and the ARL: $dsst"
python3 "$INKAN_SRC/tests/e2e/pdf_forge.py" update "$T/lt.pdf" "$T/tampered.pdf" \
	--zstream "$ocsp_a" "" "$T/bob-ocsp.der" "${crl_args[@]}" || fail "pdf_forge update"
qpdf --check "$T/tampered.pdf" >/dev/null 2>&1 || fail "tampered.pdf is not a clean PDF"

# ---- a visible signature (B-LTA): the text appearance in its rectangle, rendered ----
sign alice "$alice" "$T/page.pdf" --level B-LTA --visible 1,40,700,300,70 --reason 'Approved (clause 4), über-checked' --output "$T/vis.pdf"
sign yamada "$yamada" "$T/vis.pdf" --visible 1,40,600,300,50 --output "$T/vis2.pdf"
pdfsig_ok "$T/vis2.pdf" 2
grep -q 'Signer full Distinguished Name: .*CN=山田 太郎' "$T/pdfsig.out" || grep -q '山田 太郎' "$T/pdfsig.out" ||
	fail "pdfsig does not name the signer 山田 太郎: $(cat "$T/pdfsig.out")"
qpdf --qdf --object-streams=disable "$T/vis2.pdf" "$T/vis2.qdf" 2>/dev/null || [ $? = 3 ] || fail "qpdf --qdf vis2.pdf"
grep -aq '(Signed by Test alice) Tj' "$T/vis2.qdf" && grep -aq '(Reason: Approved \\(clause 4\\), \\374ber-checked) Tj' "$T/vis2.qdf" ||
	fail "the appearance of alice's signature does not show her name and the reason"
grep -aq '(Signed by ?? ??) Tj' "$T/vis2.qdf" || fail "a name outside WinAnsi is not shown as '?'"
grep -aqi '/Name <FEFF5C7175300020592A90CE>' "$T/vis2.qdf" || fail "the signature dictionary's /Name is not 山田 太郎 in UTF-16BE"
pdftoppm -r 72 -gray -f 1 -l 1 "$T/page.pdf" "$T/base" && pdftoppm -r 72 -gray -f 1 -l 1 "$T/vis2.pdf" "$T/vis" ||
	fail "pdftoppm cannot render the page"
python3 - "$T/base-1.pgm" "$T/vis-1.pgm" >"$T/render.out" 2>&1 <<'PY' || fail "rendering: $(cat "$T/render.out")"
import sys
def pgm(path):
    data = open(path, "rb").read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5", parts[0]
    w, h = int(parts[1]), int(parts[2])
    return w, h, parts[4][:w * h]
w, h, a = pgm(sys.argv[1])
w2, h2, b = pgm(sys.argv[2])
assert (w, h) == (w2, h2), "page sizes differ"
# The rectangles in points (72 dpi: pixels), y from the bottom: (40, 700, 300, 70), (40, 600, 300, 50).
rects = [(40, h - 770, 340, h - 700), (40, h - 650, 340, h - 600)]
inside = [0, 0]
for y in range(h):
    for x in range(w):
        if a[y * w + x] != b[y * w + x]:
            hit = [i for i, (x0, y0, x1, y1) in enumerate(rects) if x0 - 2 <= x <= x1 + 2 and y0 - 2 <= y <= y1 + 2]
            if not hit:
                sys.exit("pixel (%d, %d) changed outside the signature rectangles" % (x, y))
            inside[hit[0]] += 1
for i, n in enumerate(inside):
    # a filled frame: at least its area's border and some glyphs differ from the white page
    if n < 1000:
        sys.exit("rectangle %d: only %d pixels drawn" % (i, n))
print(inside)
PY
ok "visible signatures (B-LTA, and a second one over it): Helvetica text appearance in the rectangle (name from the certificate, time, reason with (, ) and ü in WinAnsi; a Japanese name shown as '?', kept in UTF-16 in /Name), pdfsig valid and names 山田 太郎, pdftoppm draws inside the rectangles only: $(cat "$T/render.out") pixels"

# ---- anyone's PDF: signed with openssl (the CMS carries the signer's certificate alone) under
# an intermediate CA of another PKI; extended offline with that CA's certificate and the CRLs ----
mkdir -p "$T/pki" && (
	cd "$T/pki"
	printf '[req]\ndistinguished_name = dn\n[dn]\n[ca]\nbasicConstraints = critical, CA:true\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n[ee]\nbasicConstraints = critical, CA:false\nkeyUsage = critical, digitalSignature, nonRepudiation\nauthorityKeyIdentifier = keyid\n' >ext.cnf
	openssl req -x509 -config ext.cnf -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout root.key -out root.pem -subj "/O=Other/CN=Other Root" -days 3650
	for n in inter:root:ca signer:inter:ee; do
		IFS=: read -r name by ext <<<"$n"
		openssl req -new -config ext.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$name.key" -out "$name.csr" -subj "/O=Other/CN=Other $name"
		openssl x509 -req -in "$name.csr" -CA "$by.pem" -CAkey "$by.key" -CAcreateserial -days 3650 \
			-extfile ext.cnf -extensions "$ext" -out "$name.pem"
	done
	for ca in root inter; do
		printf '[ca]\ndefault_ca = x\n[x]\ndatabase = %s.idx\ncrlnumber = %s.crlnum\ndefault_md = sha256\ndefault_crl_days = 30\n' "$ca" "$ca" >"$ca-crl.cnf"
		: >"$ca.idx"; echo 01 >"$ca.crlnum"
		openssl ca -config "$ca-crl.cnf" -gencrl -cert "$ca.pem" -keyfile "$ca.key" -out "$ca.crl"
		openssl crl -in "$ca.crl" -outform DER -out "$ca-crl.der"
	done
	openssl x509 -in inter.pem -outform DER -out inter.der
	openssl x509 -in root.pem -outform DER -out root.der
) >"$T/pki.log" 2>&1 || fail "the other PKI: $(cat "$T/pki.log")"
python3 "$INKAN_SRC/tests/e2e/pdf_forge.py" sign "$T/page.pdf" "$T/other.pdf" --cert "$T/pki/signer.pem" \
	--key "$T/pki/signer.key" || fail "pdf_forge sign"
rc=0
env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$T/pki/root.pem" "$T/other.pdf" >"$T/v.json" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "other.pdf passes without its intermediate CA and revocation data"
pdf_extend "$T/other.pdf" --level B-LT --offline --crl "$T/pki/root-crl.der" --crl "$T/pki/inter-crl.der" --output "$T/other-x.pdf"
[ "$RC" != 0 ] && grep -q 'no issuer' "$T/extend.err" && [ ! -e "$T/other-x.pdf" ] ||
	fail "extend without the intermediate: ($RC) $(cat "$T/extend.err")"
must_pdf_extend "$T/other.pdf" --level B-LT --offline --cert "$T/pki/inter.der" --cert "$T/pki/root.der" --crl "$T/pki/root-crl.der" \
	--crl "$T/pki/inter-crl.der" --output "$T/other-lt.pdf"
qpdf --check "$T/other-lt.pdf" >/dev/null 2>&1 || fail "qpdf --check other-lt.pdf"
prefix_ok "$T/other.pdf" "$T/other-lt.pdf"
ok "anyone's PDF (openssl's CMS with the signer's certificate alone, another PKI): extend --offline refuses without the intermediate, then writes a DSS with it and both CRLs"

# ---- offline: inkand stopped, no network: everything inside the files ----
stop_inkand
# FILE LEVELS: the levels the report names for its signatures (document time-stamps: none).
for want in 'vis B-LTA' 'vis2 B-LTA,B-LT' 'lt B-LT' 'lta B-LTA' 'two-lta B-LTA,B-LTA' 'two-lt B-B,B-LT' 'r1 B-LTA' 'r2 B-LTA'; do
	read -r f levels <<<"$want"
	verify_offline "$T/$f.pdf"
	got=$(jq -r '[.signatures[] | select(.format == "pades") | .level] | join(",")' "$T/v.json")
	[ "$got" = "$levels" ] || fail "$f.pdf: levels $got, expected $levels"
done
env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$T/pki/root.pem" "$T/other-lt.pdf" >"$T/v2.json" 2>&1 ||
	fail "other-lt.pdf (its intermediate CA only in the DSS's /Certs): $(jq -c '[.signatures[] | {indication, sub_indication, problems}]' "$T/v2.json" 2>/dev/null || cat "$T/v2.json")"
jq -e '.signatures[0].level == "B-B" and (.signatures[0].chain | length == 3)' "$T/v2.json" >/dev/null ||
	fail "other-lt.pdf: $(jq -c '.signatures[0] | {level, chain: [.chain[].subject]}' "$T/v2.json")"
jq -e '[.signatures[] | select(.format == "pades-document-timestamp")] | length == 3' "$T/v.json" >/dev/null ||
	fail "r2.pdf: the report does not list 3 document time-stamps: $(jq -c '[.signatures[] | .format]' "$T/v.json")"
jq -e 'all(.signatures[].pdf.modifications[]?; .permitted)' "$T/v.json" >/dev/null ||
	fail "r2.pdf: a DSS or document time-stamp update is not a permitted change: $(jq -c '[.signatures[].pdf.modifications]' "$T/v.json")"
ok "inkan verify --offline with inkand stopped: TOTAL-PASSED for B-LT, B-LTA, the extended two-signature PDFs and the renewed LTA (3 document time-stamps), the DSS and time-stamp revisions permitted changes, each signature's level reported (a B-B signature with a DSS stays B-B; under a document time-stamp it is B-LTA); anyone's PDF passes with its intermediate CA only in the DSS's /Certs"

rc=0
env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$ROOT" "$T/tampered.pdf" >"$T/v.json" 2>"$T/v.err" || rc=$?
[ "$rc" != 0 ] || fail "inkan verify --offline passes a PDF whose DSS holds another certificate's revocation data"
jq -e '.signatures[0].indication == "INDETERMINATE" and .signatures[0].sub_indication == "TRY_LATER"' "$T/v.json" >/dev/null ||
	fail "tampered DSS: $(jq -c '[.signatures[] | {indication, sub_indication, problems}]' "$T/v.json")"
ok "a tampered DSS (alice's OCSP response replaced by bob's, her CA's CRL by the root's) does not pass: INDETERMINATE/TRY_LATER"

# Any earlier byte changed in a renewed LTA fails: in the signed revision, in the first DSS.
# Offsets: the signed revision, the first DSS, inside the first document time-stamp's token,
# the second DSS (after the first time-stamp's revision).
sz=$(stat -c %s "$T/xs.pdf")
read -r a1 b1 c1 d1 <<<"${R[1]}"
for off in 20 $((sz + 200)) $((b1 + 301)) $((c1 + d1 + 150)); do
	cp "$T/r2.pdf" "$T/bad.pdf"
	orig=$(dd if="$T/bad.pdf" bs=1 skip="$off" count=1 status=none | od -An -tx1 | tr -d ' ')
	printf "\\x$( [ "$orig" = 41 ] && echo 42 || echo 41)" | dd of="$T/bad.pdf" bs=1 seek="$off" conv=notrunc status=none
	cmp -s "$T/r2.pdf" "$T/bad.pdf" && fail "the byte at $off was not changed"
	rc=0
	env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$ROOT" "$T/bad.pdf" >"$T/v.json" 2>"$T/v.err" || rc=$?
	[ "$rc" != 0 ] || fail "inkan verify passes a renewed LTA with the byte at $off changed"
	read -r a b c d <<<"${R[3]}"
	{ head -c "$b" "$T/bad.pdf"; dd if="$T/bad.pdf" iflag=skip_bytes,count_bytes skip="$c" count="$d" status=none; } >"$T/range.bin"
	dd if="$T/bad.pdf" iflag=skip_bytes,count_bytes skip=$((b + 1)) count=$((c - b - 2)) status=none | xxd -r -p >"$T/tok.pad"
	openssl asn1parse -inform DER -in "$T/tok.pad" -out "$T/tok.der" -noout 2>/dev/null
	openssl ts -verify -token_in -in "$T/tok.der" -data "$T/range.bin" -CAfile "$ROOT" -untrusted "$DATA/ca/chain.pem" >/dev/null 2>&1 &&
		fail "openssl ts -verify accepts the last document time-stamp over a changed byte at $off"
done
ok "a byte changed in the signed revision, the first DSS, the first document time-stamp's token or the second DSS of a renewed LTA: inkan verify fails, openssl ts -verify refuses the last document time-stamp"

finish
