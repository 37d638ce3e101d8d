#!/usr/bin/env bash
# t_flood: audit without flooding (issue 15, finding 3), each attack from its own loopback
# address — 400 requests without a bearer token and 60 with a made-up one cost a handful of
# audit records, yet one audit.refusals record per source carries the full count (written at
# shutdown, and at the end of audit_refusal_interval while running); a /tsa flood beyond
# tsa_client_rate gets 429 with Retry-After and is counted, while another address is served;
# a time-stamp no longer waits for a long signHash in inkan-sam; inclusion proofs from the
# kept tree still verify with the separate RFC 9162 verifier.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf multisign 1000
conf audit_refusal_interval 3600
conf tsa_client_rate 5
start_inkand

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Lantern-7731
add_secret "$PIN"

records() { db 'SELECT count(*) FROM audit_log;'; }
# from_src ADDR [ACTION]: records whose source is ADDR (and action ACTION)
from_src() {
	if [ -n "${2:-}" ]; then
		db "SELECT count(*) FROM audit_log WHERE source = '$1' AND action = '$2';"
	else
		db "SELECT count(*) FROM audit_log WHERE source = '$1';"
	fi
}
# refusals ADDR: the detail (JSON) of ADDR's audit.refusals records, one a line
refusals() { db "SELECT detail FROM audit_log WHERE action = 'audit.refusals' AND source = '$1' ORDER BY seq;"; }

# burst ADDR N [curl args...]: N requests in one curl from ADDR; their statuses, one a line,
# in $T/burst.status
burst() {
	local src=$1 n=$2 i args=()
	shift 2
	for i in $(seq 1 "$n"); do args+=(-o /dev/null "$@"); done
	curl -sS --max-time 120 --interface "$src" --cacert "$CACERT" -w '%{http_code}\n' "${args[@]}" \
		>"$T/burst.status" 2>"$T/curl.err" || fail "curl from $src: $(cat "$T/curl.err")"
	[ "$(wc -l <"$T/burst.status")" = "$n" ] || fail "curl from $src: $(wc -l <"$T/burst.status") answers, not $n"
}
count_status() { grep -c "^$1\$" "$T/burst.status" || true; }

# ---- 1. refusals without a principal: counted, not written one by one ----
before=$(records)
burst 127.0.0.2 400 "$URL/api/v1/me"
[ "$(count_status 401)" = 400 ] || fail "400 bearer-less requests: $(sort "$T/burst.status" | uniq -c | tr '\n' ' ')"
burst 127.0.0.3 60 -H "Authorization: Bearer $(openssl rand -hex 24)" "$URL/api/v1/me"
[ "$(count_status 401)" = 60 ] || fail "60 made-up tokens: $(sort "$T/burst.status" | uniq -c | tr '\n' ' ')"
after=$(records)
grew=$((after - before))
# 5 records of their own per source and action (audit_refusal_burst), nothing else yet
[ "$(from_src 127.0.0.2 auth.token)" = 5 ] || fail "127.0.0.2: $(from_src 127.0.0.2 auth.token) auth.token records, not 5"
[ "$(from_src 127.0.0.3 auth.token)" = 5 ] || fail "127.0.0.3: $(from_src 127.0.0.3 auth.token) auth.token records, not 5"
[ "$grew" -le 12 ] || fail "460 refused requests added $grew audit records"
ok "400 requests without a token from 127.0.0.2 and 60 with a made-up one from 127.0.0.3: the log grew by $grew records"

# The real signer meanwhile, from 127.0.0.1, signs as ever (their key for section 3).
api POST /api/v1/keys "$(jq -nc --arg p "$PIN" '{pin: $p, algorithm: "RSA-3072"}')" "$alice"
expect_status 201
cred=$(printf '%s' "$BODY" | jq -r .id)

# ---- 2. the TSA's rate limit: 429 with Retry-After, counted; another address served ----
openssl ts -query -data "$T/burst.status" -sha256 -cert -out "$T/q.tsq" 2>/dev/null
burst 127.0.0.5 40 -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq" "$URL/tsa"
n200=$(count_status 200)
n429=$(count_status 429)
[ $((n200 + n429)) = 40 ] || fail "/tsa flood: $(sort "$T/burst.status" | uniq -c | tr '\n' ' ')"
[ "$n429" -ge 20 ] || fail "/tsa flood of 40 at tsa_client_rate 5: only $n429 refused with 429"
[ "$n200" -ge 5 ] || fail "/tsa flood: the first five (the burst) were not served ($n200)"
http POST /tsa --interface 127.0.0.5 -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq"
if [ "$STATUS" = 429 ]; then
	ra=$(header Retry-After)
	[[ "$ra" =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] || fail "429 without a Retry-After in seconds: '$ra'"
	expect_error too_many_requests
	n429=$((n429 + 1))
else
	expect_status 200
fi
http POST /tsa --interface 127.0.0.6 -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq"
expect_status 200
openssl ts -reply -in "$T/body" -text 2>/dev/null | grep -q 'Status: Granted' || fail "127.0.0.6 got no time-stamp"
ok "/tsa flood from 127.0.0.5: $n200 stamped, $n429 answered 429 with Retry-After; 127.0.0.6 served at once"

# ---- 3. a time-stamp does not wait for a long signHash in inkan-sam ----
# (before: every request but signHash took the SAM exclusively, so a /tsa queued behind it)
h=$(head -c 100 /dev/urandom | openssl dgst -sha256 -binary | base64 -w0)
hashes=$(jq -nc --arg h "$h" '[range(1000)] | map($h)')
sign_body() {
	api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$cred" --argjson hs "$hashes" --arg p "$PIN" \
		--arg o "$(otp_next alice)" '{credentialID: $c, numSignatures: 1000, hashes: $hs, PIN: $p, OTP: $o}')" "$alice"
	expect_status 200
	jq -nc --arg c "$cred" --arg s "$(printf '%s' "$BODY" | jq -r .SAD)" --argjson hs "$hashes" \
		'{credentialID: $c, SAD: $s, hashes: $hs, signAlgo: "1.2.840.113549.1.1.11"}' >"$T/sign.json"
}
now_ms() { date +%s%3N; }
sign_bg() {
	( curl -sS --max-time 300 --cacert "$CACERT" -H "Authorization: Bearer $alice" \
		-H 'Content-Type: application/json' --data-binary "@$T/sign.json" -o "$T/sign.out" \
		-w '%{http_code}' "$URL/csc/v2/signatures/signHash" >"$T/sign.status" 2>/dev/null || true
	  now_ms >"$T/sign.end" ) &
	SIGN_PID=$!
}
sign_body
t0=$(now_ms)
sign_bg
wait "$SIGN_PID"
[ "$(cat "$T/sign.status")" = 200 ] || fail "signHash of 1000 hashes: HTTP $(cat "$T/sign.status")"
sign_ms=$(( $(cat "$T/sign.end") - t0 ))
t0=$(now_ms)
http POST /tsa --interface 127.0.0.7 -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq"
expect_status 200
alone_ms=$(( $(now_ms) - t0 ))
[ "$sign_ms" -ge 600 ] || say "note: signHash of 1000 RSA-3072 signatures took only $sign_ms ms; the overlap below is short"
sign_body
t0=$(now_ms)
sign_bg
sleep 0.3
t1=$(now_ms)
http POST /tsa --interface 127.0.0.7 -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq"
expect_status 200
tsa_end=$(now_ms)
wait "$SIGN_PID"
[ "$(cat "$T/sign.status")" = 200 ] || fail "signHash of 1000 hashes (with a /tsa beside it): HTTP $(cat "$T/sign.status")"
sign_end=$(cat "$T/sign.end")
# Queued behind the signHash, the time-stamp would come back only as it ends (just before its
# answer): it must come back in less than half the time the signHash takes alone.
tsa_ms=$((tsa_end - t1))
[ "$tsa_end" -lt "$sign_end" ] && [ $((2 * tsa_ms)) -lt "$sign_ms" ] ||
	fail "the time-stamp (sent ${t1}, answered in ${tsa_ms} ms at ${tsa_end}) waited for the signHash (alone ${sign_ms} ms, done ${sign_end}): it takes the SAM exclusively"
ok "a /tsa during a signHash of 1000 RSA-3072 signatures ($sign_ms ms alone): answered in $tsa_ms ms, $((sign_end - tsa_end)) ms before the signHash ended (alone: $alone_ms ms)"

# ---- 4. inclusion proofs from the kept tree ----
tokfile alice "$alice"
tokfile aud "$aud"
LOGKEY="$DATA/ca/audit-log.pem"
proof_ok() { # WHO SEQ [HEX]
	icli "$1" audit proof "$2" --out "$T/proof.json" --key "$LOGKEY"
	[ "$RC" = 0 ] || fail "inkan audit proof $2 ($1): $ERR"
	python3 "$INKAN_SRC/tests/e2e/rfc9162_verify.py" "$T/proof.json" "$LOGKEY" ${3:+"$3"} >"$T/pv.out" 2>&1 ||
		fail "the separate RFC 9162 verifier rejected the proof of $2: $(cat "$T/pv.out")"
}
sigseq=$(db "SELECT max(seq) FROM audit_log WHERE action = 'csc.signHash' AND actor = 'alice' AND result = 'success';")
[ -n "$sigseq" ] || fail "no csc.signHash record of alice"
proof_ok alice "$sigseq"
proof_ok aud 1
proof_ok aud 40
proof_ok aud "$(records)"
# the log grows; the kept tree with it
burst 127.0.0.8 10 "$URL/api/v1/me"
proof_ok alice "$sigseq"
proof_ok aud 33
first=$(db 'SELECT min(size) FROM audit_checkpoints WHERE size > 40;')
icli aud audit consistency "$first" --key "$LOGKEY"
[ "$RC" = 0 ] && grep -q consistent <<<"$OUT" || fail "inkan audit consistency $first: $OUT $ERR"
ok "inclusion proofs (a signer's, records 1, 40, the last, after growth) verify with rfc9162_verify.py; consistency holds"

# ---- shutdown: every count is written, and the log verifies ----
stop_inkand
[ "$INKAND_RC" = 0 ] || fail "inkand exited with $INKAND_RC"
d2=$(refusals 127.0.0.2)
[ "$(printf '%s\n' "$d2" | grep -c .)" = 1 ] || fail "127.0.0.2: not one audit.refusals record: $d2"
printf '%s' "$d2" | jq -e '.total == 400 and .recorded == 5 and .counted == 395 and .interval == 3600
	and (.refusals | length) == 1 and .refusals[0].action == "auth.token" and .refusals[0].count == 400
	and (.first | test("Z$")) and (.last | test("Z$"))' >/dev/null ||
	fail "127.0.0.2's audit.refusals record does not carry the 400: $d2"
refusals 127.0.0.3 | jq -e '.total == 60 and .recorded == 5 and .refusals[0].action == "auth.token"' >/dev/null ||
	fail "127.0.0.3's audit.refusals record does not carry the 60: $(refusals 127.0.0.3)"
refusals 127.0.0.5 | jq -e --argjson n "$n429" '[.refusals[] | select(.action == "tsa.timestamp" and .result == "rate limited") | .count] | add == $n' >/dev/null ||
	fail "127.0.0.5's $n429 rate-limited time-stamp requests are not counted: $(refusals 127.0.0.5)"
last_ref=$(db "SELECT max(seq) FROM audit_log WHERE action = 'audit.refusals';")
stop_seq=$(db "SELECT max(seq) FROM audit_log WHERE action = 'service.stop';")
[ "$last_ref" -lt "$stop_seq" ] || fail "the counted refusals were written after service.stop"
ok "at shutdown: one audit.refusals record per source — 127.0.0.2 total 400 (5 recorded, 395 counted), 127.0.0.3 total 60, 127.0.0.5 $n429 rate limited"

# ---- while running: the record at the end of audit_refusal_interval ----
conf audit_refusal_interval 2
start_inkand
burst 127.0.0.4 30 "$URL/api/v1/me"
[ "$(from_src 127.0.0.4 auth.token)" = 5 ] || fail "127.0.0.4: $(from_src 127.0.0.4 auth.token) records of their own, not 5"
for _ in $(seq 1 50); do
	[ -n "$(refusals 127.0.0.4)" ] && break
	sleep 0.2
done
refusals 127.0.0.4 | jq -e '.total == 30 and .recorded == 5 and .interval == 2' >/dev/null ||
	fail "no audit.refusals record for 127.0.0.4 within 10 s of a 2 s interval: $(refusals 127.0.0.4)"
ok "with audit_refusal_interval 2, 127.0.0.4's 30 refusals are one record while inkand runs"
icli aud audit verify --key "$LOGKEY"
[ "$RC" = 0 ] || fail "inkan audit verify after the floods: $ERR"
ok "inkan audit verify: $(head -n1 <<<"$OUT")"
finish
