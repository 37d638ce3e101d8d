#!/usr/bin/env bash
# t_ltv_fresh: two attacks on long-term PAdES signatures. (1) Revocation freshness (EN 319 102-1):
# an OCSP response for the signer's certificate issued before the signature time-stamp, put into
# the DSS by `inkan extend --offline --ocsp`, cannot show the certificate was not revoked at the
# time-stamp's time: `inkan verify --offline` gives INDETERMINATE/TRY_LATER; the same signature
# extended with a response fetched after it passes. (2) A compressed-stream bomb handed to
# `inkan extend`: refused with the bound `inkan verify` uses, before qpdf reads it, nothing written.
# (3) The catalog of a B-LT and a B-LTA update declares the ETSI extension (/ESIC, BaseVersion
# /1.7, ExtensionLevel 5) beside the document's own /ADBE one, checked with qpdf.
. "$(dirname "$0")/lib.sh"

command -v qpdf >/dev/null || fail "qpdf is needed (scripts/deps.sh test installs it)"

init_data_proxied
fast_argon2
start_inkand
proxy_follow

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Harbor-5528
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"
mkkey "$alice" P-256 >/dev/null

sign() {
	local user=$1 tok=$2
	shift 2
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$tok INKAN_PIN=$PIN \
		INKAN_OTP=$(otp_next "$user") timeout 600 "$INKAN_CLI" sign --yes "$@" \
		</dev/null >"$T/sign.out" 2>"$T/sign.err" || fail "inkan sign ${*:1} failed: $(cat "$T/sign.err")"
}
vfy_offline() {
	RC=0
	env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$ROOT" "$1" >"$T/v.json" 2>"$T/v.err" || RC=$?
}

printf '%%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /Extensions << /ADBE << /BaseVersion /1.7 /ExtensionLevel 3 >> >> >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n4 0 obj << /Length 44 >> stream\nBT /F1 12 Tf 72 720 Td (PDFMARK-%s) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R /Size 5 >>\n%%%%EOF\n' \
	"$(openssl rand -hex 6)" >"$T/page.src.pdf"
qpdf --warning-exit-0 "$T/page.src.pdf" "$T/page.pdf" 2>/dev/null || fail "qpdf cannot write page.pdf"

# ---- (1) an old "good" OCSP response ----
# The validation data of a B-LT signature made now: alice's OCSP response, CRLs, certificates.
sign alice "$alice" "$T/page.pdf" --level B-LT --output "$T/old.pdf"
cat_obj=$(qpdf --show-object=trailer "$T/old.pdf" | sed -nE 's/.*\/Root ([0-9]+) 0 R.*/\1/p')
dss=$(qpdf --show-object="$cat_obj" "$T/old.pdf" | sed -nE 's/.*\/DSS ([0-9]+) 0 R.*/\1/p')
dsst=$(qpdf --show-object="$dss" "$T/old.pdf")
args=()
for kind in OCSPs:--ocsp CRLs:--crl Certs:--cert; do
	IFS=: read -r key opt <<<"$kind"
	for n in $(sed -nE "s/.*\\/$key \\[([0-9 R]+)\\].*/\\1/p" <<<"$dsst" | grep -oE '[0-9]+ 0 R' | cut -d' ' -f1); do
		qpdf --show-object="$n" --raw-stream-data "$T/old.pdf" >"$T/dss-$n.der"
		args+=("$opt" "$T/dss-$n.der")
	done
done
grep -q -- '--ocsp' <<<"${args[*]}" || fail "old.pdf: no OCSP response in the DSS: $dsst"
# CAdES: the same, as a B-LT signature's own OCSP response.
DER_TOOL="$INKAN_SRC/tests/e2e/der_tool.py"
head -c 3000 /dev/urandom >"$T/c.bin"
sign alice "$alice" "$T/c.bin" --level B-LT --output "$T/oldc.p7s"
# The time-stamp of a new signature is at least 2 s after those responses.
sleep 2
sign alice "$alice" "$T/page.pdf" --level B-T --output "$T/t.pdf"
sign alice "$alice" "$T/c.bin" --level B-LT --output "$T/newc.p7s"
must_pdf_extend "$T/t.pdf" --level B-LT --offline "${args[@]}" --output "$T/stale.pdf"
vfy_offline "$T/stale.pdf"
[ "$RC" != 0 ] && jq -e '.signatures[0].indication == "INDETERMINATE" and .signatures[0].sub_indication == "TRY_LATER" and
	.signatures[0].chain[0].revocation.stale == true and .signatures[0].chain[0].revocation.type == "OCSP" and
	any(.signatures[0].problems[]; .detail | test("not fresh"))' "$T/v.json" >/dev/null ||
	fail "a B-LT signature whose OCSP response predates its time-stamp: ($RC) $(jq -c '.signatures[0] | {indication, sub_indication, problems, rev: .chain[0].revocation}' "$T/v.json" 2>/dev/null || cat "$T/v.err")"
ok "an OCSP response issued before the signature time-stamp, put in the DSS (extend --offline --ocsp): verify --offline gives INDETERMINATE/TRY_LATER, the response marked stale"

must_pdf_extend "$T/t.pdf" --level B-LT --output "$T/fresh.pdf"
vfy_offline "$T/fresh.pdf"
[ "$RC" = 0 ] && jq -e '.signatures[0].indication == "TOTAL-PASSED" and .signatures[0].level == "B-LT" and
	.signatures[0].chain[0].revocation.stale == false' "$T/v.json" >/dev/null ||
	fail "the same signature with fresh validation data: ($RC) $(jq -c '.signatures[0] | {indication, sub_indication, problems}' "$T/v.json" 2>/dev/null || cat "$T/v.err")"
ok "the same signature extended with validation data fetched after its time-stamp: TOTAL-PASSED at B-LT offline"

# CAdES: the new signature's OCSP responses replaced by the old signature's: the newest data
# about alice is then that stale response (her issuer's CRL inside is older): not passed.
python3 "$DER_TOOL" swap-ocsp "$T/newc.p7s" "$T/oldc.p7s" "$T/stalec.p7s"
RC=0
env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$ROOT" "$T/c.bin" "$T/stalec.p7s" >"$T/v.json" 2>"$T/v.err" || RC=$?
[ "$RC" != 0 ] && jq -e '.signatures[0].indication == "INDETERMINATE" and .signatures[0].sub_indication == "TRY_LATER" and
	.signatures[0].chain[0].revocation.stale == true and
	any(.signatures[0].problems[]; .detail | test("signing certificate.*not fresh"))' "$T/v.json" >/dev/null ||
	fail "a CAdES B-LT signature carrying an OCSP response older than its time-stamp: ($RC) $(jq -c '.signatures[0] | {indication, sub_indication, problems, rev: .chain[0].revocation}' "$T/v.json" 2>/dev/null || cat "$T/v.err")"
RC=0
env -u INKAN_SERVER "$INKAN_CLI" verify --offline --json --trust "$ROOT" "$T/c.bin" "$T/newc.p7s" >"$T/v.json" 2>"$T/v.err" || RC=$?
[ "$RC" = 0 ] && jq -e '.signatures[0].indication == "TOTAL-PASSED" and
	(.signatures[0].chain[0].revocation | .status == "good" and .stale == false and .type == "OCSP")' "$T/v.json" >/dev/null ||
	fail "a CAdES B-LT signature with its own OCSP response: ($RC) $(jq -c '.signatures[0] | {indication, problems, rev: .chain[0].revocation}' "$T/v.json" 2>/dev/null || cat "$T/v.err")"
ok "CAdES: a B-LT signature carrying an OCSP response older than its time-stamp (der_tool swap-ocsp) gives INDETERMINATE/TRY_LATER, the response stale; with its own response it passes"

# ---- (3) /Extensions /ESIC in the catalog of the B-LT and B-LTA updates ----
must_pdf_extend "$T/fresh.pdf" --level B-LTA --output "$T/lta.pdf"
vfy_offline "$T/lta.pdf"
[ "$RC" = 0 ] && jq -e 'all(.signatures[]; .indication == "TOTAL-PASSED") and .signatures[0].level == "B-LTA"' "$T/v.json" >/dev/null ||
	fail "lta.pdf: ($RC) $(jq -c '[.signatures[] | {indication, sub_indication, level, problems}]' "$T/v.json" 2>/dev/null || cat "$T/v.err")"
for f in old fresh lta; do
	qpdf --check "$T/$f.pdf" >"$T/qpdf.out" 2>&1 || fail "qpdf --check $f.pdf: $(cat "$T/qpdf.out")"
	cat_obj=$(qpdf --show-object=trailer "$T/$f.pdf" | sed -nE 's/.*\/Root ([0-9]+) 0 R.*/\1/p')
	catalog=$(qpdf --show-object="$cat_obj" "$T/$f.pdf")
	grep -qE '/Extensions << /ADBE << /BaseVersion /1\.[0-9] /ExtensionLevel 3 >> /ESIC << /BaseVersion /1\.7 /ExtensionLevel 5 >> >>' <<<"$catalog" ||
		fail "$f.pdf: the catalog does not declare /ESIC 1.7 level 5 beside /ADBE: $catalog"
	[ "$(grep -o '/ESIC' <<<"$catalog" | wc -l)" = 1 ] || fail "$f.pdf: /ESIC more than once: $catalog"
done
ok "the catalogs of the B-LT and B-LTA updates declare /Extensions /ESIC (BaseVersion /1.7, ExtensionLevel 5) once, the document's /ADBE kept; qpdf --check clean; the B-LTA passes offline"

# ---- (2) a flate bomb handed to inkan extend ----
# A cross-reference stream that inflates to 64 MiB, appended to the signed PDF.
python3 "$INKAN_SRC/tests/e2e/pdf_forge.py" bomb "$T/t.pdf" "$T/bomb.pdf" || fail "pdf_forge bomb"
cp "$T/bomb.pdf" "$T/bomb.orig"
for mode in offline online; do
	rm -f "$T/bomb-x.pdf"
	if [ $mode = offline ]; then
		pdf_extend "$T/bomb.pdf" --level B-LT --offline "${args[@]}" --output "$T/bomb-x.pdf"
	else
		pdf_extend "$T/bomb.pdf" --level B-LTA --output "$T/bomb-x.pdf"
	fi
	[ "$RC" != 0 ] && grep -q 'inflates beyond' "$T/extend.err" && [ ! -e "$T/bomb-x.pdf" ] &&
		cmp -s "$T/bomb.pdf" "$T/bomb.orig" || fail "inkan extend ($mode) on a flate bomb: ($RC) $(cat "$T/extend.err")"
done
pdf_extend "$T/bomb.pdf" --level B-LT
[ "$RC" != 0 ] && cmp -s "$T/bomb.pdf" "$T/bomb.orig" || fail "inkan extend in place on a flate bomb: ($RC) $(cat "$T/extend.err")"
ok "a flate bomb (a cross-reference stream inflating to 64 MiB) handed to inkan extend: refused before qpdf reads it ('inflates beyond'), nothing written, the input unchanged"

finish
