#!/bin/bash
# t_info: /csc/v2/info tells the truth; listeners can be separated (13.1.3); configuration
# mistakes stop the daemon with a clear message. Runs with the default Argon2id parameters.
. "$(dirname "$0")/lib.sh"

init_data
start_inkand

# CRYPTREC-listed signature algorithm OIDs (and the key algorithm OIDs the CSC API also uses).
allowed='[
 "1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12",
 "1.2.840.113549.1.1.13", "2.16.840.1.101.3.4.3.14", "2.16.840.1.101.3.4.3.15", "2.16.840.1.101.3.4.3.16",
 "1.2.840.10045.2.1", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",
 "2.16.840.1.101.3.4.3.10", "2.16.840.1.101.3.4.3.11", "2.16.840.1.101.3.4.3.12",
 "1.3.101.112", "1.3.101.113"]'

check_info() { # [v1]
	local v=${1:-v2}
	expect_status 200
	header Content-Type | grep -qi '^application/json' || fail "info: Content-Type is '$(header Content-Type)'"
	expect_jq '.region == "JP"'
	expect_jq --arg p "${v#v}." '(.specs | type == "string" and startswith($p)) and (.name | type == "string" and length > 0)
		and (.lang | type == "string" and length > 0) and (.description | type == "string")
		and (.logo | type == "string")'
	# basic: credentials/authorize; oauth2code: the signer's own page (docs/oauth.md), whose
	# base is advertised as oauth2
	expect_jq '.authType == ["basic", "oauth2code"]'
	expect_jq '(.oauth2 | type == "string" and startswith("https://"))'
	expect_jq '(.methods | type == "array") and (.methods | index("auth/login")) and (.methods | index("auth/revoke")) and (.methods | index("info"))'
	expect_jq '(.methods | unique | length) == (.methods | length)'
	expect_jq '(.signAlgorithms.algos | type == "array" and length > 0) and all(.signAlgorithms.algos[]; test("^[0-2](\\.(0|[1-9][0-9]*))+$"))'
	expect_jq --argjson a "$allowed" 'all(.signAlgorithms.algos[]; . as $o | $a | index($o))'
	expect_jq '(.signAlgorithms.algos - ["1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.3.14.3.2.29", "1.2.840.113549.1.1.4", "1.2.840.113549.1.1.14", "1.2.840.10045.4.3.1"]) == .signAlgorithms.algos'
	[ "$v" = v1 ] || expect_jq '(.signature_formats.formats | type == "array") and (.signature_formats.envelope_properties | type == "array")'
}
api GET /csc/v2/info;                check_info; info=$BODY
api POST /csc/v2/info '{}';          check_info
api POST /csc/v2/info '{"lang": "ja-JP"}'; check_info
http POST /csc/v2/info;              check_info
api GET /csc/v1/info;                check_info v1
api POST /csc/v1/info '{}';          check_info v1
[ "$(printf '%s' "$info" | jq -c .methods)" = "$(printf '%s' "$BODY" | jq -c .methods)" ] || say "note: v1 and v2 info list different methods"
ok "GET and POST /csc/v2/info (and v1): region JP, authType basic and oauth2code, CRYPTREC OIDs only, JSON"

# Every listed method is really there (an unauthenticated POST is refused, not 404); the
# oauth2/ ones under the oauth2 base (CSC v2 section 8), not under /csc/v2.
oauth2=$(printf '%s' "$info" | jq -r .oauth2)
for m in $(printf '%s' "$info" | jq -r '.methods[]'); do
	case "$m" in
	oauth2/*) http POST "${oauth2%/}/$m" ;;
	*) api POST "/csc/v2/$m" '{}' ;;
	esac
	[ "$STATUS" != 404 ] || fail "info lists method '$m' but /csc/v2/$m is 404"
	case "$STATUS" in 5*) fail "/csc/v2/$m answers $STATUS" ;; esac
done
# ...and no implemented CSC method is missing from the list.
for m in credentials/list credentials/info credentials/authorize credentials/extendTransaction signatures/signHash signatures/signDoc signatures/timestamp oauth2/authorize oauth2/token oauth2/revoke credentials/sendOTP credentials/getChallenge credentials/authorizeCheck; do
	case "$m" in
	oauth2/*) http POST "${oauth2%/}/$m" ;;
	*) api POST "/csc/v2/$m" '{}' ;;
	esac
	if [ "$STATUS" != 404 ]; then
		printf '%s' "$info" | jq -e --arg m "$m" '.methods | index($m)' >/dev/null ||
			fail "/csc/v2/$m is served ($STATUS) but info does not list it"
	fi
done
ok "info lists exactly the methods that are served: $(printf '%s' "$info" | jq -c .methods)"

api GET /health
expect_status 200
header Content-Type | grep -qi '^application/json' || fail "/health: Content-Type is '$(header Content-Type)'"
api GET /nope
expect_refused 404 not_found
stop_inkand

# ---- separate listeners ----
free_port() {
	local p
	while :; do
		p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
}
aport=$(free_port)
pport=$(free_port)
while [ "$pport" = "$aport" ]; do pport=$(free_port); done
conf listen_admin "127.0.0.1:$aport"
conf listen_public "127.0.0.1:$pport"
start_inkand
ADMIN="https://127.0.0.1:$aport"
PUBLIC="https://127.0.0.1:$pport"
for i in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$aport") 2>/dev/null && break; sleep 0.1; done

so_pw=$(newpw)
so_tok=$(first_login "$SO_USER" "$SO_PW" "$so_pw")
ok "signer listener $ADDR: login and passwd work"

# admin class
api GET /api/v1/users "" "$so_tok";           expect_refused 404 not_found
api POST /api/v1/users '{"username":"a1","roles":["system_operator"]}' "$so_tok"; expect_refused 404 not_found
api GET /api/v1/audit "" "$so_tok";           expect_refused 404 not_found
api GET /api/v1/config "" "$so_tok";          expect_refused 404 not_found
api GET "$ADMIN/api/v1/users" "" "$so_tok";   expect_status 200; expect_jq '.users | length == 1'
api GET "$ADMIN/api/v1/users";                expect_refused 401 invalid_token
api GET "$PUBLIC/api/v1/users" "" "$so_tok";  expect_refused 404 not_found
ok "admin paths: 404 on the signer and public listeners, served on the admin listener"
# signer class
api GET "$ADMIN/api/v1/me" "" "$so_tok";      expect_refused 404 not_found
http POST "$ADMIN/csc/v2/auth/login" -H "Authorization: Basic $(basic "$SO_USER" "$so_pw")" -H 'Content-Type: application/json' --data-binary '{"otp":"123456"}'
expect_refused 404 not_found
api POST "$PUBLIC/csc/v2/auth/revoke" '{}' "$so_tok"; expect_refused 404 not_found
api GET /api/v1/me "" "$so_tok";              expect_status 200
ok "signer paths: 404 on the admin and public listeners"
# public class
api GET "$PUBLIC/health";                     expect_status 200
api GET "$PUBLIC/csc/v2/info";                expect_status 200; expect_jq '.region == "JP"'
api GET /health;                              expect_refused 404 not_found
api GET "$ADMIN/csc/v2/info";                 expect_refused 404 not_found
ok "public paths: served on the public listener only"
stop_inkand
conf listen_admin ""
conf listen_public ""

# ---- configuration errors ----
refuses_to_start() { # WHAT GREP_PATTERN [inkand args]
	local what=$1 pat=$2 rc=0
	shift 2
	timeout 20 "$INKAND" "$@" >"$T/start.out" 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "inkand started (and exited 0) despite $what"
	[ "$rc" != 124 ] || fail "inkand kept running despite $what"
	grep -qiE "$pat" "$T/start.out" || fail "inkand refused $what without a clear message: $(head -c 400 "$T/start.out")"
	say "refused $what (rc $rc): $(head -n1 "$T/start.out")"
}
cp "$DATA/inkan.conf" "$T/inkan.conf.good"

conf plain_http true
refuses_to_start "plain_http on 0.0.0.0" 'plain|loopback' --data "$DATA" --listen 0.0.0.0:0
conf listen_admin "0.0.0.0:$(free_port)"
refuses_to_start "plain_http with a non-loopback admin listener" 'plain|loopback' --data "$DATA" --listen 127.0.0.1:0
cp "$T/inkan.conf.good" "$DATA/inkan.conf"
ok "plain HTTP refused unless every address is loopback"

# ... but allowed on loopback only, and then it really is plain HTTP.
conf plain_http true
start_inkand
http GET "http://$ADDR/health"
expect_status 200
expect_jq '.status == "ok"'
stop_inkand
cp "$T/inkan.conf.good" "$DATA/inkan.conf"
ok "plain_http = true on 127.0.0.1 starts and serves http://"

printf 'bogus_setting = 1\n' >>"$DATA/inkan.conf"
refuses_to_start "an unknown key" 'bogus_setting' --data "$DATA" --listen 127.0.0.1:0
cp "$T/inkan.conf.good" "$DATA/inkan.conf"
conf session_ttl 10
refuses_to_start "session_ttl below its minimum" 'session_ttl' --data "$DATA" --listen 127.0.0.1:0
cp "$T/inkan.conf.good" "$DATA/inkan.conf"
conf max_body lots
refuses_to_start "a non-numeric max_body" 'max_body' --data "$DATA" --listen 127.0.0.1:0
cp "$T/inkan.conf.good" "$DATA/inkan.conf"
printf 'this line has no equals sign\n' >>"$DATA/inkan.conf"
refuses_to_start "a malformed line" 'inkan\.conf|line|expected' --data "$DATA" --listen 127.0.0.1:0
cp "$T/inkan.conf.good" "$DATA/inkan.conf"
refuses_to_start "an unknown option" 'usage|unknown|option|--no-such-option' --data "$DATA" --listen 127.0.0.1:0 --no-such-option
refuses_to_start "a missing data directory" 'no-such-dir|not found|No such|exist' --data "$T/no-such-dir" --listen 127.0.0.1:0
ok "unknown keys, out-of-range and malformed values, unknown options refused with a clear message"

start_inkand
health_ok
finish
