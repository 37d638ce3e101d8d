#!/usr/bin/env bash
# t_extca: a certificate from an external CA is linked to a pending key only when it chains to a
# CA of the SAM's external_ca_file, is for that key, names exactly the signer the SAM registered
# and has the key usage of the assurance level — CAs and certificates made with openssl; the
# accepted certificate's key then signs (openssl verifies).
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
PIN=pin-Juniper-6642
add_secret "$PIN"

# --- two CAs with the same names: A (root + intermediate, configured) and B (not configured) ---
X="$T/x"
mkdir -p "$X"
cat >"$X/ext.cnf" <<'EOF'
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[sub]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_ds_only]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
# mkca NAME: a root and an issuing CA under it, named like a real provider's
mkca() {
	local n=$1
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 60 \
		-subj "/C=JP/O=Example Trust/CN=Example Trust Root" -keyout "$X/$n-root.key" \
		-out "$X/$n-root.pem" -config "$X/ext.cnf" -extensions root 2>"$X/err" ||
		fail "openssl: root $n: $(cat "$X/err")"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
		-subj "/C=JP/O=Example Trust/CN=Example Trust Signing CA" -keyout "$X/$n-sub.key" \
		-out "$X/$n-sub.csr" 2>"$X/err" || fail "openssl: sub CSR $n: $(cat "$X/err")"
	openssl x509 -req -in "$X/$n-sub.csr" -CA "$X/$n-root.pem" -CAkey "$X/$n-root.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 50 -extfile "$X/ext.cnf" -extensions sub \
		-out "$X/$n-sub.pem" 2>"$X/err" || fail "openssl: sub $n: $(cat "$X/err")"
}
mkca A
mkca B
cat "$X/A-root.pem" "$X/A-sub.pem" >"$X/A-bundle.pem"
openssl verify -x509_strict -CAfile "$X/A-root.pem" "$X/A-sub.pem" >/dev/null || fail "CA A does not verify"

# issue NAME CA SECTION CSR [openssl x509 args...]: a certificate from the issuing CA of CA
# for the request CSR (its subject and key unless overridden) -> $X/NAME.pem and .b64
issue() {
	local name=$1 ca=$2 sect=$3 csr=$4
	shift 4
	openssl x509 -req -in "$csr" -CA "$X/$ca-sub.pem" -CAkey "$X/$ca-sub.key" \
		-set_serial "0x$(openssl rand -hex 12)" -days 30 -extfile "$X/ext.cnf" -extensions "$sect" \
		"$@" -out "$X/$name.pem" 2>"$X/err" || fail "openssl: certificate $name: $(cat "$X/err")"
	openssl x509 -in "$X/$name.pem" -outform DER | base64 -w0 >"$X/$name.b64"
}

# import TOKEN CRED NAME: POST the certificate $X/NAME.b64
import() {
	api POST /api/v1/keys/"$2"/certificate "$(jq -nc --rawfile c "$X/$3.b64" '{certificate: ($c | rtrimstr("\n"))}')" "$1"
}

# status CRED: the credential's status and certificate in the key store
status() {
	sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT status || ':' || (cert IS NULL) FROM credentials WHERE id = '$1';"
}

# --- pending keys with their requests ---
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, external_ca: true}')" "$alice"
expect_status 201
expect_jq '.status == "pending" and (.csr | length > 100)'
KA=$(printf '%s' "$BODY" | jq -r .id)
printf '%s' "$BODY" | jq -r .csr | base64 -d | openssl req -inform DER -out "$X/alice.csr" ||
	fail "the CSR does not parse"
openssl req -in "$X/alice.csr" -noout -verify 2>&1 | grep -q 'verify OK' || fail "the CSR signature does not verify"
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, external_ca: true}')" "$bob"
expect_status 201
printf '%s' "$BODY" | jq -r .csr | base64 -d | openssl req -inform DER -out "$X/bob.csr"
ASUBJ=$(openssl req -in "$X/alice.csr" -noout -subject -nameopt compat | sed 's/^subject=//')
BSUBJ=$(openssl req -in "$X/bob.csr" -noout -subject -nameopt compat | sed 's/^subject=//')
case "$ASUBJ" in */CN=Test\ alice/serialNumber=?*) ;; *) fail "unexpected CSR subject: $ASUBJ" ;; esac
ASERIAL=${ASUBJ##*/serialNumber=}
[ "$ASUBJ" != "$BSUBJ" ] || fail "alice's and bob's requests name the same subject"

issue good A leaf "$X/alice.csr"
openssl verify -x509_strict -CAfile "$X/A-root.pem" -untrusted "$X/A-sub.pem" "$X/good.pem" >/dev/null ||
	fail "the good certificate does not verify with openssl"
issue untrusted B leaf "$X/alice.csr"
issue other_subject A leaf "$X/alice.csr" -subj "$BSUBJ"
issue other_serial A leaf "$X/alice.csr" -subj "/C=JP/O=inkan/CN=Test alice/serialNumber=${ASERIAL}x"
issue extra_name A leaf "$X/alice.csr" -subj "$ASUBJ/GN=Mallory"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$X/other.key" 2>/dev/null
openssl pkey -in "$X/other.key" -pubout -out "$X/other.pub"
issue other_key A leaf "$X/alice.csr" -force_pubkey "$X/other.pub"
issue bad_usage A leaf_ds_only "$X/alice.csr"
issue bob_good A leaf "$X/bob.csr"

# --- without external_ca_file every external certificate is refused, clearly ---
import "$alice" "$KA" good
expect_refused 400 invalid_request
printf '%s' "$BODY" | grep -q external_ca_file || fail "refusal does not name external_ca_file: $BODY"
[ "$(status "$KA")" = "0:1" ] || fail "a refused certificate was linked: $(status "$KA")"
ok "no external_ca_file: external certificates refused"

# --- the officer configures CA A (read by inkan-sam at start) ---
stop_inkand
cp "$X/A-bundle.pem" "$DATA/sam/external-ca.pem"
chmod 644 "$DATA/sam/external-ca.pem"
conf external_ca_file external-ca.pem
start_inkand
alice=$(token alice)
bob=$(token bob)

# refuse NAME STATUS TEXT WHAT: importing certificate NAME for alice is refused with TEXT in the
# description; nothing is linked
refuse() {
	import "$alice" "$KA" "$1"
	expect_refused "$2" invalid_request
	printf '%s' "$BODY" | jq -e --arg t "$3" '.error_description | contains($t)' >/dev/null ||
		fail "$4: expected a refusal saying '$3', got: $BODY"
	[ "$(status "$KA")" = "0:1" ] || fail "$4 was linked: $(status "$KA")"
	ok "refused: $4"
}
refuse untrusted 400 "Not issued by a trusted CA" "(a) certificate from an unconfigured CA with the same names"
refuse other_subject 400 "subject is not exactly the registered signer" "(b) configured CA, another signer's subject"
refuse other_serial 400 "subject is not exactly the registered signer" "(b) configured CA, same name, another serialNumber"
refuse extra_name 400 "subject is not exactly the registered signer" "(b) configured CA, a givenName the SAM did not register"
refuse other_key 400 "for another key" "(c) configured CA, alice's subject, another key"
refuse bad_usage 400 "key usage" "(d) configured CA, keyUsage digitalSignature+keyEncipherment at level 4"
refuse bob_good 400 "for another key" "bob's certificate onto alice's key"
grep -q 'no chain to a CA of external_ca_file' "$LOG" || fail "the chain refusal is not in the log"
grep -q 'subject attribute GN names someone' "$LOG" || fail "the extra name refusal does not name the attribute"
grep -q "Mallory" "$LOG" && fail "a refused subject's value was logged"

# a signer cannot link a certificate to someone else's pending key
import "$bob" "$KA" good
expect_refused 400 invalid_request
[ "$(status "$KA")" = "0:1" ] || fail "bob linked a certificate to alice's key"

# --- (e) the right certificate is accepted, and the key signs ---
import "$alice" "$KA" good
expect_status 200
GSERIAL=$(openssl x509 -in "$X/good.pem" -noout -serial | sed 's/^serial=//')
expect_jq --arg s "$GSERIAL" '.status == "active" and (.serial | ascii_upcase) == $s'
[ "$(status "$KA")" = "1:0" ] || fail "the accepted certificate is not linked: $(status "$KA")"
import "$alice" "$KA" good
expect_refused 409 invalid_request
ok "(e) the certificate of configured CA A for alice's key and name is linked, once"

openssl x509 -in "$X/good.pem" -noout -pubkey >"$X/good.pub"
head -c 100 /dev/urandom | openssl dgst -sha256 -binary >"$X/dg.bin"
H=$(base64 -w0 "$X/dg.bin")
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KA" --arg h "$H" --arg p "$PIN" --arg o "$(otp_next alice)" \
	'{credentialID: $c, numSignatures: 1, hashes: [$h], PIN: $p, OTP: $o}')" "$alice"
expect_status 200
SAD=$(printf '%s' "$BODY" | jq -r .SAD)
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$KA" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 200
printf '%s' "$BODY" | jq -r '.signatures[0]' | base64 -d >"$X/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$X/good.pub" -in "$X/dg.bin" -sigfile "$X/sig.bin" >/dev/null 2>&1 ||
	fail "the signature does not verify with the external certificate's key"
ok "the linked key signs; openssl verifies with the external certificate's public key"

# --- an unsafe external_ca_file stops the SAM: its trust must not follow a file others write ---
stop_inkand
chmod 664 "$DATA/sam/external-ca.pem"
"$INKAND" --data "$DATA" --listen 127.0.0.1:0 >>"$LOG" 2>&1 &
pid=$!
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	wait "$pid" || true
	fail "inkand ran with a group-writable external_ca_file"
fi
wait "$pid" && fail "inkand exited 0 with a group-writable external_ca_file"
grep -q 'external_ca_file .*writable by nobody else' "$LOG" || fail "the unsafe file is not named in the log"
ok "a group-writable external_ca_file keeps the SAM from starting"

finish
