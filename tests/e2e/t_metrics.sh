#!/usr/bin/env bash
# t_metrics: GET /metrics (Prometheus text format 0.0.4) on listen_metrics only — a Unix socket
# of mode 0660 by default — parsed by Prometheus's own promtool with no error, its counters
# moving as a short load says (logins, a wrong OTP, an authorize and a signHash, a refused
# request): signatures by algorithm by exactly the number made, refusals by reason, the latency
# histogram's count; never served on the signer, admin or public listener; no user name or
# credential ID in it. Then on a loopback HOST:PORT, and a non-loopback address refused.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || { say "SKIP: promtool (Debian package prometheus) is not installed"; exit 77; }

init_data
fast_argon2
conf listen_admin 127.0.0.1:0
conf listen_public 127.0.0.1:0
start_inkand
SOCK="$DATA/inkand/metrics.sock"

# scrape FILE: /metrics through the socket into FILE, checked by promtool
scrape() {
	curl -sS --max-time 30 --unix-socket "$SOCK" -o "$1" -D "$T/mheaders" -w '%{http_code}' \
		http://localhost/metrics >"$T/mstatus" 2>"$T/curl.err" || fail "curl --unix-socket: $(cat "$T/curl.err")"
	[ "$(cat "$T/mstatus")" = 200 ] || fail "GET /metrics on the socket: HTTP $(cat "$T/mstatus")"
	tr -d '\r' <"$T/mheaders" | grep -qi '^content-type: text/plain; version=0.0.4' ||
		fail "/metrics without Content-Type text/plain; version=0.0.4: $(cat "$T/mheaders")"
	# promtool check metrics: format errors fail it; lint remarks (naming style) are printed
	if ! promtool check metrics <"$1" >"$T/promtool.out" 2>&1; then
		grep -qiE 'error|parse' "$T/promtool.out" && fail "promtool check metrics: $(head -c 800 "$T/promtool.out")"
	fi
	grep -qiE 'error while linting|text format parsing error' "$T/promtool.out" &&
		fail "promtool: $(head -c 800 "$T/promtool.out")"
	return 0
}
# value FILE SERIES: the sample of exactly that series (0 when absent)
value() {
	awk -v s="$2" 'index($0, s " ") == 1 { v = $NF } END { print (v == "" ? 0 : v) }' "$1"
}

[ -S "$SOCK" ] || fail "no metrics socket at $SOCK"
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "metrics socket mode $(stat -c %a "$SOCK"), not 660"
grep -q "^metrics unix:$SOCK\$" "$DATA/inkand.addr" || fail "inkand.addr names no metrics socket: $(cat "$DATA/inkand.addr")"
scrape "$T/m0"
ok "the metrics socket is mode 0660 and its page passes promtool check metrics"

SIGN='inkan_signatures_total{algorithm="ecdsa-with-SHA256"}'
AUTHZ_OK='inkan_authorizations_total{result="granted"}'
WRONG_OTP='inkan_authorizations_total{result="wrong_otp"}'
SH_COUNT='inkan_http_request_duration_seconds_count{endpoint="/csc/v2/signatures/signHash",method="POST"}'
BAD_SAD='inkan_refusals_total{endpoint="/csc/v2/signatures/signHash",method="POST",reason="sad_invalid"}'

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Meadow-4417
add_secret "$PIN"
KA=$(mkkey "$alice")
scrape "$T/m1"

# the load: a wrong OTP, an authorize for 3 hashes and one signHash of them, a signHash with a
# SAD that is no SAD, a wrong password
mapfile -t H < <(digests sha256 3)
api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$KA" --argjson h "$(printf '%s\n' "${H[@]}" | jq -R . | jq -sc .)" \
	--arg p "$PIN" --arg o "$(otp_wrong "$(user_secret alice)")" \
	'{credentialID: $c, numSignatures: ($h | length), hashes: $h, PIN: $p, OTP: $o}')" "$alice"
expect_status 400
authorize alice "$alice" "$KA" "${H[@]}"
expect_status 200
sign_body() {
	jq -nc --arg c "$KA" --arg s "$1" --argjson h "$(printf '%s\n' "${H[@]}" | jq -R . | jq -sc .)" \
		'{credentialID: $c, SAD: $s, hashes: $h, hashAlgorithmOID: "2.16.840.1.101.3.4.2.1", signAlgo: "1.2.840.10045.4.3.2"}'
}
api POST /csc/v2/signatures/signHash "$(sign_body "$SAD")" "$alice"
expect_status 200
[ "$(printf '%s' "$BODY" | jq '.signatures | length')" = 3 ] || fail "signHash: not 3 signatures: $BODY"
api POST /csc/v2/signatures/signHash "$(sign_body "not-a-sad-at-all")" "$alice"
expect_status 400
try_login alice "Wrong-password-1"
expect_status 401
scrape "$T/m2"

d() { echo $(( $(value "$T/m2" "$1") - $(value "$T/m1" "$1") )); }
[ "$(d "$SIGN")" = 3 ] || fail "$SIGN moved by $(d "$SIGN"), not 3"
[ "$(d "$AUTHZ_OK")" = 1 ] || fail "$AUTHZ_OK moved by $(d "$AUTHZ_OK"), not 1"
[ "$(d "$WRONG_OTP")" = 1 ] || fail "$WRONG_OTP moved by $(d "$WRONG_OTP"), not 1"
[ "$(d "$BAD_SAD")" = 1 ] || fail "$BAD_SAD moved by $(d "$BAD_SAD"), not 1"
[ "$(d "$SH_COUNT")" = 2 ] || fail "$SH_COUNT moved by $(d "$SH_COUNT"), not 2"
grep -q '^inkan_refusals_total{endpoint="/csc/v2/auth/login",method="POST",reason="authentication_failed"} [1-9]' "$T/m2" ||
	fail "no refused login counted: $(grep login "$T/m2")"
grep -q '^inkan_http_requests_total{endpoint="/csc/v2/credentials/authorize",method="POST",status="400"} 1$' "$T/m2" ||
	fail "requests by endpoint and status: $(grep authorize "$T/m2")"
# the histogram's buckets are cumulative and end in +Inf = count
[ "$(value "$T/m2" 'inkan_http_request_duration_seconds_bucket{endpoint="/csc/v2/signatures/signHash",method="POST",le="+Inf"}')" = "$(value "$T/m2" "$SH_COUNT")" ] ||
	fail "signHash +Inf bucket differs from the count"
ok "a short load moved the counters exactly: 3 signatures by ecdsa-with-SHA256, 1 authorization granted and 1 refused for a wrong OTP, a bad SAD and a wrong password as refusals by reason, 2 signHash latencies"

for g in inkan_sam_up inkan_sam_channels inkan_sam_channels_busy 'inkan_slots{kind="argon2"}' \
	'inkan_slots_in_use{kind="argon2"}' inkan_audit_backlog_records inkan_audit_checkpoint_size \
	'inkan_certificate_expiry_seconds{certificate="ca"}' 'inkan_certificate_expiry_seconds{certificate="tsa"}' \
	'inkan_certificate_expiry_seconds{certificate="tls"}' inkan_crl_next_update_seconds \
	inkan_clock_synchronised inkan_clock_maxerror_seconds process_start_time_seconds \
	'inkan_lockouts_total{kind="account"}'; do
	awk -v s="$g" 'index($0, s " ") == 1 { f = 1 } END { exit !f }' "$T/m2" || fail "no $g in /metrics"
done
[ "$(value "$T/m2" inkan_sam_up)" = 1 ] || fail "inkan_sam_up is not 1"
[ "$(value "$T/m2" 'inkan_certificate_expiry_seconds{certificate="ca"}')" -gt 86400 ] || fail "the CA's expiry is not days away"
grep -qE '^inkan_build_info\{version="[0-9.]+",openssl_version="OpenSSL 3[^"]*"\} 1$' "$T/m2" || fail "no inkan_build_info"
for secret in alice ro1 "$SO_USER" "$KA"; do
	grep -qF -- "$secret" "$T/m2" && fail "/metrics names '$secret' (a user name or credential ID)"
done
check_no_secrets_in "$T/m2" "/metrics"
ok "gauges: SAM channels, work slots, audit backlog, CA/TSA/TLS certificate and CRL expiry, clock, build info; no user name, credential ID or secret"

# never on the other listeners
for cls in signer admin public; do
	a=$(awk -v c="$cls" '$1 == c { print $2 }' "$DATA/inkand.addr")
	[ -n "$a" ] || fail "no $cls address in inkand.addr"
	http GET "https://$a/metrics"
	expect_status 404
done
curl -sS --unix-socket "$SOCK" -o "$T/other" -w '%{http_code}' http://localhost/csc/v2/info >"$T/mstatus" 2>/dev/null || true
[ "$(cat "$T/mstatus")" = 404 ] || fail "the metrics socket serves /csc/v2/info: $(cat "$T/mstatus")"
ok "/metrics is 404 on the signer, admin and public listeners, and the metrics socket serves nothing else"

# a loopback HOST:PORT instead; a socket left behind is not in the way; elsewhere refused
stop_inkand
[ -e "$SOCK" ] && fail "the metrics socket outlived inkand"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || fail "could not leave a stale socket behind"
start_inkand
scrape "$T/m4"
stop_inkand
conf listen_metrics 127.0.0.1:0
start_inkand
MA=$(awk '$1 == "metrics" { print $2 }' "$DATA/inkand.addr")
curl -sS --max-time 30 -o "$T/m3" "http://$MA/metrics" || fail "GET http://$MA/metrics"
promtool check metrics <"$T/m3" >"$T/promtool.out" 2>&1 || ! grep -qiE 'error|parse' "$T/promtool.out" ||
	fail "promtool: $(head -c 600 "$T/promtool.out")"
grep -q '^inkan_sam_up 1$' "$T/m3" || fail "no metrics on $MA"
stop_inkand
conf listen_metrics 192.0.2.1:9100
"$INKAND" --data "$DATA" --listen 127.0.0.1:0 >"$T/nonloop.log" 2>&1 && fail "inkand started with listen_metrics on a non-loopback address"
grep -q "listen_metrics" "$T/nonloop.log" || fail "the refusal does not name listen_metrics: $(tail -n 3 "$T/nonloop.log")"
conf listen_metrics ""
start_inkand
grep -q '^metrics ' "$DATA/inkand.addr" && fail "listen_metrics empty but a metrics listener is up"
ok "a socket left by an unclean stop is replaced; listen_metrics on loopback HOST:PORT serves the page, a non-loopback address is refused at start, empty turns metrics off"

finish
