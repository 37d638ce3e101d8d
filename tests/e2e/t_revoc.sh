#!/usr/bin/env bash
# t_revoc: the service's current status decides about its own certificates (issue 14, finding
# 3). Signatures made with `inkan sign`, then the keys revoked: a signature carrying the CA's old
# CRL (from before the revocation, put into the SignedData by cms_add_crl.py) is not
# TOTAL-PASSED through POST /api/v1/verify nor through `inkan --server verify`, and the report
# names the service's current CRL as the data that decided; an unrevoked certificate of our CA
# passes without the request bringing any revocation data; and the API never fetches a CRL
# distribution point a submitted signature names (a local listener sees no request).
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
carol=$(mkactive "$ro" carol signer)
dave=$(mkactive "$ro" dave signer)
PIN=pin-Ledger-3381
add_secret "$PIN"
ROOT="$DATA/ca/root.pem"

ka=$(mkkey "$alice")
mkkey "$bob" >/dev/null
kc=$(mkkey "$carol")
kd=$(mkkey "$dave")

# sign USER TOKEN OUT LEVEL: inkan sign of doc.txt.
printf 'Delivery note %s\n' "$(openssl rand -hex 8)" >"$T/doc.txt"
D="$T/doc.txt"
sign() {
	local rc=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$2 INKAN_PIN=$PIN INKAN_OTP=$(otp_next "$1") \
		timeout 600 "$INKAN_CLI" sign --yes "$D" --level "$4" --output "$3" </dev/null \
		>"$T/sign.out" 2>"$T/sign.err" || rc=$?
	[ "$rc" = 0 ] || fail "inkan sign ($1, $4) failed ($rc): $(cat "$T/sign.err")"
}
sign alice "$alice" "$T/a-bb.p7s" B-B
sign bob "$bob" "$T/b-bt.p7s" B-T
sign carol "$carol" "$T/c-bt.p7s" B-T
sign dave "$dave" "$T/d-bt.p7s" B-T

# The CA's CRL now, before any revocation: the "old CRL", where every certificate is good.
http GET /ca/crl
expect_status 200
cp "$T/body" "$T/old-crl.der"
old_tu=$(openssl crl -inform DER -in "$T/old-crl.der" -noout -lastupdate | sed 's/^lastUpdate=//')
for s in a-bb c-bt d-bt; do
	python3 "$INKAN_SRC/tests/e2e/cms_add_crl.py" "$T/$s.p7s" "$T/$s.old.p7s" "$T/old-crl.der"
	openssl cms -cmsout -print -inform DER -in "$T/$s.old.p7s" 2>/dev/null | grep -q 'crls:' ||
		fail "cms_add_crl.py put no CRL into $s"
	openssl cms -verify -binary -content "$D" -inform DER -in "$T/$s.old.p7s" -CAfile "$ROOT" \
		-purpose any -out /dev/null >/dev/null 2>&1 || fail "$s with the old CRL no longer verifies with openssl cms"
done

b64() { base64 -w0 "$1"; }
# apiv SIG: POST /api/v1/verify of SIG over doc.txt, nothing else in the request.
apiv() {
	api POST /api/v1/verify "$(jq -nc --arg s "$(b64 "$1")" --arg d "$(b64 "$D")" '{signature: $s, document: $d}')"
	expect_status 200
}

# ---- (b) an unrevoked certificate of our CA: TOTAL-PASSED, no revocation data brought ----
apiv "$T/b-bt.p7s"
expect_jq '.all_passed == true and .signatures[0].indication == "TOTAL-PASSED"
	and .service.cas == 2 and (.service.current_crls | length == 2)
	and (.signatures[0].chain[0].revocation | .status == "good" and .source == "service current CRL"
	     and .origin == "service" and .type == "CRL" and .service_ca == true and (.this_update | type == "string"))
	and (.signatures[0].timestamps[0].chain[0].revocation.source == "service current CRL")'
ok "(b) bob's unrevoked certificate: TOTAL-PASSED through the API, decided by the service's current CRL"
sleep 1.5 # the revocations below are later than every signing time, to the second

# ---- (a) revoked after signing; the signatures carry the old CRL ----
api POST /api/v1/keys/"$ka"/revoke '{"reason": "keyCompromise"}' "$alice"
expect_status 204
api POST /api/v1/keys/"$kc"/revoke '{"reason": "keyCompromise"}' "$carol"
expect_status 204
api POST /api/v1/keys/"$kd"/revoke '{"reason": "superseded"}' "$dave"
expect_status 204

# decided REASON: the leaf's revocation was decided by the service's current CRL, newer than
# the old one, which is reported as data that did not decide.
decided() {
	jq -e --arg r "$1" --arg old "$old_tu" '.signatures[0].chain[0].revocation
		| .status == "revoked" and .source == "service current CRL" and .origin == "service"
		and .service_ca == true and .reason == $r and (.revoked_at | type == "string")
		and (.this_update >= .revoked_at)
		and .not_deciding.status == "good" and .not_deciding.origin == "embedded"
		and .not_deciding.source == "CRL embedded in the signature"' "$2" >/dev/null ||
		fail "the revocation of $3 was not decided by the service's current CRL: $(jq -c '.signatures[0].chain[0].revocation' "$2")"
}
apiv "$T/a-bb.old.p7s"
printf '%s' "$BODY" >"$T/r.json"
expect_jq '.all_passed == false and .signatures[0].indication == "INDETERMINATE" and .signatures[0].sub_indication == "REVOKED_NO_POE"'
decided keyCompromise "$T/r.json" "alice's B-B signature"
apiv "$T/c-bt.old.p7s"
printf '%s' "$BODY" >"$T/r.json"
expect_jq '.signatures[0].indication == "INDETERMINATE" and .signatures[0].sub_indication == "REVOKED_NO_POE"
	and .signatures[0].best_signature_time_source == "time-stamp"
	and (.signatures[0].problems | any(.detail | test("compromise")))'
decided keyCompromise "$T/r.json" "carol's B-T signature"
# Without the old CRL, the same (nothing the submitter brings changes the answer).
apiv "$T/a-bb.p7s"
expect_jq '.signatures[0].sub_indication == "REVOKED_NO_POE" and .signatures[0].chain[0].revocation.source == "service current CRL"'
ok "(a) API: revoked (keyCompromise) after signing, an old CRL embedded: INDETERMINATE/REVOKED_NO_POE (B-B, and B-T: a compromise of unknown date), decided by the service's current CRL"

# Superseded, time-stamped before the revocation: EN 319 102-1 past signature validation passes
# it with a warning, still on the service's current CRL (docs/verify.md).
apiv "$T/d-bt.old.p7s"
printf '%s' "$BODY" >"$T/r.json"
expect_jq '.signatures[0].indication == "TOTAL-PASSED" and (.signatures[0].warnings | any(test("after the time-stamp")))'
decided superseded "$T/r.json" "dave's B-T signature"
ok "superseded after a time-stamped signature: passes with a warning (past signature validation), decided by the service's current CRL"

# ---- (a) the same through the CLI with the server given ----
cliv() {
	RC=0
	"$INKAN_CLI" --server "$URL" --cacert "$CACERT" verify --json --trust "$ROOT" "$@" \
		>"$T/v.json" 2>"$T/v.err" || RC=$?
	grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/v.err" && fail "sanitizer report: $(cat "$T/v.err")"
	return 0
}
cliv "$D" "$T/a-bb.old.p7s"
[ "$RC" = 1 ] || fail "inkan verify of alice's revoked signature: exit $RC: $(cat "$T/v.err")"
jq -e --arg u "$URL" '.signatures[0].sub_indication == "REVOKED_NO_POE" and .service.source == $u
	and .signatures[0].chain[1].revocation.source == "service current CRL"
	and .signatures[0].chain[1].revocation.status == "good" and .signatures[0].chain[2].trust_anchor' "$T/v.json" >/dev/null ||
	fail "inkan verify: $(jq -c '{service, s: .signatures[0] | {indication, sub_indication, chain}}' "$T/v.json")"
decided keyCompromise "$T/v.json" "alice's signature (CLI)"
cliv "$D" "$T/c-bt.old.p7s"
[ "$RC" = 1 ] && jq -e '.signatures[0].sub_indication == "REVOKED_NO_POE"' "$T/v.json" >/dev/null ||
	fail "inkan verify of carol's signature: exit $RC: $(jq -c '.signatures[0]' "$T/v.json")"
cliv "$D" "$T/b-bt.p7s"
[ "$RC" = 0 ] && jq -e '.all_passed and .signatures[0].chain[0].revocation.source == "service current CRL"' "$T/v.json" >/dev/null ||
	fail "inkan verify of bob's signature without --crl: exit $RC: $(jq -c '.signatures[0]' "$T/v.json")"
ok "(a) inkan --server verify: the service's current CRL and ARL fetched from its public endpoints decide (revoked: REVOKED_NO_POE; unrevoked: TOTAL-PASSED with no --crl)"
cliv "$D" "$T/b-bt.p7s" --offline
jq -e '.service == null' "$T/v.json" >/dev/null || fail "--offline still consulted the service"
RC=0
"$INKAN_CLI" --server https://127.0.0.1:1 --cacert "$CACERT" verify --trust "$ROOT" "$D" "$T/a-bb.old.p7s" \
	>/dev/null 2>"$T/v.err" || RC=$?
[ "$RC" = 1 ] && grep -q -- '--offline' "$T/v.err" || fail "an unreachable server did not stop inkan verify: $RC $(cat "$T/v.err")"
ok "inkan verify --offline does not consult the server; an unreachable server is an error, not a silent fallback"

# ---- (c) the API never fetches what a submitted signature names ----
P="$T/pki"
mkdir -p "$P/www"
PORT2=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT2" --bind 127.0.0.1 --directory "$P/www" >"$P/www.log" 2>&1 &
echo $! >>"$T/extra_pids"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT2/" && break; sleep 0.1; done
: >"$P/www.log.base"
grep -c 'GET' "$P/www.log" >"$P/www.log.base" || true   # our own readiness probe
printf '[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\ncrlDistributionPoints = URI:http://127.0.0.1:%s/ours.crl\n' "$PORT2" >"$P/ext.cnf"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/root.key" \
	-out "$P/root.pem" -subj "/CN=Revocation Test Root" -days 30 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/s.key" -out "$P/s.csr" \
	-subj "/CN=Revocation Test Signer" 2>/dev/null
openssl x509 -req -in "$P/s.csr" -CA "$P/root.pem" -CAkey "$P/root.key" -set_serial 0x$(openssl rand -hex 8) \
	-days 30 -extfile "$P/ext.cnf" -extensions leaf -out "$P/s.pem" 2>/dev/null
openssl x509 -in "$P/s.pem" -noout -ext crlDistributionPoints | grep -q "127.0.0.1:$PORT2" || fail "no CRL DP in the test certificate"
openssl cms -sign -binary -in "$D" -signer "$P/s.pem" -inkey "$P/s.key" -outform DER -out "$P/dp.p7s"
cat "$P/root.pem" >>"$DATA/ca/chain.pem"   # a trust anchor of the service: the chain is built
apiv "$P/dp.p7s"
expect_jq '.revocation_fetch == false and .signatures[0].sub_indication == "TRY_LATER"
	and .signatures[0].chain[1].trust_anchor == true and .signatures[0].chain[0].revocation.service_ca == false'
sleep 0.5
[ "$(grep -c 'GET' "$P/www.log" || true)" = "$(cat "$P/www.log.base")" ] ||
	fail "POST /api/v1/verify fetched what the signature named: $(cat "$P/www.log")"
# The listener does answer a fetch: the CLI, told to, asks it (and gets a 404).
RC=0
"$INKAN_CLI" verify --json --fetch-crls --trust "$P/root.pem" "$D" "$P/dp.p7s" >"$T/v.json" 2>"$T/v.err" || RC=$?
grep -q 'GET /ours.crl' "$P/www.log" || fail "the control fetch did not reach the listener: rc $RC $(cat "$P/www.log")"
ok "(c) POST /api/v1/verify never fetches the CRL distribution point a signature names (the listener saw nothing; inkan verify --fetch-crls reaches it)"

finish
