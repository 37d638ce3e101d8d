#!/usr/bin/env bash
# t_mixed: inkan-sam serves requests side by side. A PIN change of one credential does not wait
# for a long batch of another that is still signing; a signature completes while an
# authorization's Argon2id run is under way; authorizations of different credentials run at
# the same time; a signature completes while an authorization waits for the key store's write
# lock. Shown by what inkan-sam is doing when a request returns (its CPU time still
# growing, the Argon2id memory still held), not by timings.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf argon2_slots 2
conf multisign 1000
# Freed Argon2id memory leaves inkan-sam at once under ASan too (no quarantine), so that its
# size tells how many runs are under way.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
carol=$(mkactive "$ro" carol signer)
dave=$(mkactive "$ro" dave signer)
erin=$(mkactive "$ro" erin signer)
PIN=pin-Harbour-5184
PIN2=pin-Lighthouse-2967
add_secret "$PIN"
add_secret "$PIN2"

SAM=$(sam_pid)
[ -n "$SAM" ] || fail "no inkan-sam under inkand"
# inkan-sam's CPU time so far (clock ticks) and resident size (KiB)
sam_cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$SAM/stat"; }
sam_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SAM/status"; }
# stretching_now: how many of inkan-sam's PIN-stretching workers are running now (state R; they
# keep their Argon2id memory between runs, so its resident size no longer tells)
stretching_now() {
	n=0
	for t in /proc/"$SAM"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = inkan-stretch ] || continue
		[ "$(awk '{ print $3 }' "$t/stat" 2>/dev/null)" = R ] && n=$((n + 1))
	done
	echo "$n"
}
# random_hashes N: N random SHA-256-sized digests, base64, one a line
random_hashes() {
	python3 -c 'import base64, os, sys
for _ in range(int(sys.argv[1])): print(base64.b64encode(os.urandom(32)).decode())' "$1"
}
# bg_post NAME TOKEN PATH BODYFILE: POST in the background -> $T/NAME.{body,status}, pid in BG
bg_post() {
	curl -sS --max-time 300 --cacert "$CACERT" -H "Authorization: Bearer $2" \
		-H 'Content-Type: application/json' --data-binary "@$4" -o "$T/$1.body" \
		-w '%{http_code}' "$URL$3" >"$T/$1.status" 2>/dev/null &
	BG=$!
}
# authorize_body USER CRED FILE HASH...: a credentials/authorize body with $PIN -> FILE
authorize_body() {
	local user=$1 cred=$2 file=$3
	shift 3
	jq -nc --arg c "$cred" --argjson h "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" \
		--arg p "$PIN" --arg o "$(otp_next "$user")" \
		'{credentialID: $c, numSignatures: ($h | length), hashes: $h, PIN: $p, OTP: $o}' >"$file"
}
# wait_until WHAT CMD...: polls CMD every 20 ms for up to 120 s
wait_until() {
	local what=$1 i
	shift
	for i in $(seq 1 6000); do
		"$@" && return 0
		sleep 0.02
	done
	fail "waited 120 s for $what"
}

# ---- a PIN change of alice's key while bob's batch of 1000 RSA-4096 signatures is signing ----
KA=$(mkkey "$alice" P-256)
KB=$(mkkey "$bob" RSA-4096)
mapfile -t HB < <(random_hashes 1000)
authorize bob "$bob" "$KB" "${HB[@]}"
expect_status 200
[ -n "$SAD" ] || fail "no SAD for bob's batch"
jq -nc --arg c "$KB" --arg s "$SAD" --argjson h "$(printf '%s\n' "${HB[@]}" | jq -R . | jq -sc .)" \
	'{credentialID: $c, SAD: $s, hashes: $h, signAlgo: "1.2.840.113549.1.1.11"}' >"$T/batch.json"
cpu0=$(sam_cpu)
bg_post batch "$bob" /csc/v2/signatures/signHash "$T/batch.json"
BATCH=$BG
# provably signing: inkan-sam has spent half a second of CPU on it
signing() { [ $(( $(sam_cpu) - cpu0 )) -ge 50 ]; }
wait_until "bob's batch to be signing" signing
api POST /api/v1/keys/"$KA"/pin "$(jq -nc --arg o "$PIN" --arg n "$PIN2" --arg otp "$(otp_next alice)" \
	'{old_pin: $o, new_pin: $n, otp: $otp}')" "$alice"
expect_status 204
# The batch is still signing after the PIN change returned: it did not wait for the batch.
cpu1=$(sam_cpu)
sleep 0.3
cpu2=$(sam_cpu)
[ -s "$T/batch.status" ] && fail "bob's batch had finished when alice's PIN change returned"
[ $((cpu2 - cpu1)) -ge 10 ] ||
	fail "inkan-sam was no longer signing when alice's PIN change returned (the change waited for the batch)"
wait "$BATCH" || true
[ "$(cat "$T/batch.status")" = 200 ] || fail "bob's batch: $(cat "$T/batch.status") $(head -c 300 "$T/batch.body")"
[ "$(jq '.signatures | length' "$T/batch.body")" = 1000 ] || fail "bob's batch: not 1000 signatures"
pubkey "$bob" "$KB"
for i in 0 999; do
	printf '%s' "${HB[$i]}" | base64 -d >"$T/hb.bin"
	jq -r ".signatures[$i]" "$T/batch.body" | base64 -d >"$T/hb.sig"
	openssl pkeyutl -verify -pubin -inkey "$T/$KB.pub.pem" -in "$T/hb.bin" -sigfile "$T/hb.sig" \
		-pkeyopt digest:sha256 >/dev/null 2>&1 || fail "bob's signature $i does not verify with openssl"
done
ok "a PIN change of one credential completed while a batch of 1000 RSA-4096 signatures with another was still signing; both good"

# ---- Argon2id runs of 256 MiB: what goes on beside them ----
M=262144
stop_inkand
conf argon2_memory_kib "$M"
conf argon2_iterations 6
start_inkand
SAM=$(sam_pid)
[ -n "$SAM" ] || fail "no inkan-sam under inkand after the restart"
PIN=pin-Harbour-5184
KC=$(mkkey "$carol" P-256)
KD=$(mkkey "$dave" P-256)
KE=$(mkkey "$erin" P-256)
# alice's key was sealed anew at the small cost: her SAD, with her new PIN, comes at once
PIN=$PIN2
mapfile -t HA < <(random_hashes 1)
authorize alice "$alice" "$KA" "${HA[0]}"
expect_status 200
SADA=$SAD
PIN=pin-Harbour-5184
rss0=$(sam_rss)

# A signature completes while carol's authorization stretches her PIN.
authorize_body carol "$KC" "$T/authc.json" "${HA[0]}"
bg_post authc "$carol" /csc/v2/credentials/authorize "$T/authc.json"
AUTHC=$BG
stretching() { [ "$(stretching_now)" -ge 1 ]; }
wait_until "carol's Argon2id run to be under way" stretching
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$KA" --arg s "$SADA" --arg h "${HA[0]}" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice"
expect_status 200
still=$(stretching_now)
printf '%s' "$BODY" | jq -r '.signatures[0]' | base64 -d >"$T/ha.sig"
[ "$still" -ge 1 ] ||
	fail "carol's Argon2id run had ended when alice's signature returned (it waited for the run)"
[ -s "$T/authc.status" ] && fail "carol's authorization had returned before alice's signature"
pubkey "$alice" "$KA"
printf '%s' "${HA[0]}" | base64 -d >"$T/ha.bin"
openssl pkeyutl -verify -pubin -inkey "$T/$KA.pub.pem" -in "$T/ha.bin" -sigfile "$T/ha.sig" \
	-pkeyopt digest:sha256 >/dev/null 2>&1 || fail "alice's signature does not verify with openssl"
wait "$AUTHC" || true
[ "$(cat "$T/authc.status")" = 200 ] && jq -e '.SAD | length > 0' "$T/authc.body" >/dev/null ||
	fail "carol's authorization: $(cat "$T/authc.status") $(head -c 300 "$T/authc.body")"
ok "a signature completed while an authorization's Argon2id run (256 MiB) was under way"

# dave's and erin's authorizations, of two credentials, run at the same time: two workers
# stretch at once, and inkan-sam holds no more than their two runs' memory.
rss0=$(sam_rss)
authorize_body dave "$KD" "$T/authd.json" "${HA[0]}"
authorize_body erin "$KE" "$T/authe.json" "${HA[0]}"
bg_post authd "$dave" /csc/v2/credentials/authorize "$T/authd.json"
AUTHD=$BG
bg_post authe "$erin" /csc/v2/credentials/authorize "$T/authe.json"
AUTHE=$BG
peak=0 rpeak=0
while kill -0 "$AUTHD" 2>/dev/null || kill -0 "$AUTHE" 2>/dev/null; do
	r=$(stretching_now)
	[ "$r" -gt "$peak" ] && peak=$r
	r=$(sam_rss)
	[ "$r" -gt "$rpeak" ] && rpeak=$r
	sleep 0.02
done
wait "$AUTHD" "$AUTHE" || true
for w in authd authe; do
	[ "$(cat "$T/$w.status")" = 200 ] && jq -e '.SAD | length > 0' "$T/$w.body" >/dev/null ||
		fail "$w: $(cat "$T/$w.status") $(head -c 300 "$T/$w.body")"
done
[ "$peak" -ge 2 ] ||
	fail "two authorizations never stretched at the same time (at most $peak stretching worker(s) running at once)"
# the workers' kept memory (argon2_slots = 2 here) is all the stretchings add
[ $((rpeak - rss0)) -le $((M * 2 + 65536)) ] ||
	fail "inkan-sam grew by $((rpeak - rss0)) KiB during two stretchings of $M KiB each"
ok "two authorizations of different credentials stretched their PINs at the same time ($peak workers running at once; inkan-sam grew by $((rpeak - rss0)) KiB)"

# ---- a signature does not wait behind another request's write to the key store ----
# Another process holds the key store's write lock, as a slow commit would; dave's
# authorization, which must claim its OTP step durably before his PIN is tried, waits for it
# inside inkan-sam, holding the key store's lock there. alice's signHash completes meanwhile:
# a signature's key is read on a connection of the signatures' own (src/sam/lock.c), and its
# record waits in memory. Before, the waiting authorization held the SAM's one lock, and the
# signature waited for it (here: until the holder gave up, after 4 s).
mapfile -t HL < <(random_hashes 1)
PIN=$PIN2
authorize alice "$alice" "$KA" "${HL[0]}"
expect_status 200
SADL=$SAD
PIN=pin-Harbour-5184
python3 - "$DATA/sam/keystore.db" "$T/ks.locked" "$T/ks.release" <<'EOF' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
end = time.time() + 4
while time.time() < end and not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
db.execute("ROLLBACK")
EOF
HOLDER=$!
wait_until "the key store's write lock to be held" test -e "$T/ks.locked"
authorize_body dave "$KD" "$T/authl.json" "${HL[0]}"
bg_post authl "$dave" /csc/v2/credentials/authorize "$T/authl.json"
AUTHL=$BG
sleep 1   # inkand passes it on; inkan-sam comes to its first write and waits there
curl -sS --max-time 3 --cacert "$CACERT" -H "Authorization: Bearer $alice" \
	-H 'Content-Type: application/json' -o "$T/sigl.body" -w '%{http_code}' \
	--data-binary "$(jq -nc --arg c "$KA" --arg s "$SADL" --arg h "${HL[0]}" \
		'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" \
	"$URL/csc/v2/signatures/signHash" >"$T/sigl.status" 2>/dev/null || true
[ -s "$T/authl.status" ] &&
	fail "dave's authorization returned while the key store's write lock was held: $(cat "$T/authl.status")"
[ "$(cat "$T/sigl.status")" = 200 ] ||
	fail "alice's signHash did not complete while an authorization waited for the key store's write lock (status $(cat "$T/sigl.status"))"
touch "$T/ks.release"
wait "$HOLDER" || fail "the key store's lock holder failed"
wait "$AUTHL" || true
[ "$(cat "$T/authl.status")" = 200 ] && jq -e '.SAD | length > 0' "$T/authl.body" >/dev/null ||
	fail "dave's authorization after the write lock: $(cat "$T/authl.status") $(head -c 300 "$T/authl.body")"
printf '%s' "${HL[0]}" | base64 -d >"$T/hl.bin"
jq -r '.signatures[0]' "$T/sigl.body" | base64 -d >"$T/hl.sig"
openssl pkeyutl -verify -pubin -inkey "$T/$KA.pub.pem" -in "$T/hl.bin" -sigfile "$T/hl.sig" \
	-pkeyopt digest:sha256 >/dev/null 2>&1 || fail "alice's signature does not verify with openssl"
ok "a signature completed while an authorization waited for the key store's write lock (held by another process)"

finish
