#!/bin/bash
# t_login: two-factor login, forced first password change, every refusal of auth/login,
# revoked and expired tokens, lockout and unlock, and the audit trail of it all.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf session_ttl 60
conf max_login_failures 3
start_inkand
health_ok

# ---- the security officer's first login: forced password change ----
so_one=$SO_PW
so_tok1=$(login "$SO_USER" "$so_one")
jq -e '.password_change_required == true and .token_type == "Bearer" and .expires_in == 60' \
	"$T/tok/$SO_USER.login.json" >/dev/null ||
	fail "first login: want password_change_required=true, expires_in=60 (session_ttl): $(cat "$T/tok/$SO_USER.login.json")"
ok "first login answers password_change_required=true"

api GET /api/v1/me "" "$so_tok1"
expect_refused 403 password_change_required
api GET /api/v1/users "" "$so_tok1"
expect_refused 403 password_change_required
api POST /api/v1/users '{"username":"x1","roles":["system_operator"]}' "$so_tok1"
expect_refused 403 password_change_required
ok "a password-change-only token is refused everywhere but passwd"

so_pw=$(newpw)
api POST /api/v1/passwd "$(jq -nc --arg n "$so_pw" '{old_password: "wrong-old-password", new_password: $n}')" "$so_tok1"
[ "$STATUS" != 204 ] || fail "passwd with a wrong old password succeeded"
case "$STATUS" in 400|401|403) ;; *) fail "passwd with a wrong old password: HTTP $STATUS" ;; esac
printf '%s' "$BODY" | jq -e '.error | type == "string"' >/dev/null || fail "passwd wrong old: no CSC error: $BODY"
api POST /api/v1/passwd "$(jq -nc --arg o "$so_one" '{old_password: $o, new_password: "short"}')" "$so_tok1"
expect_refused 400 invalid_request
api POST /api/v1/passwd "$(jq -nc --arg o "$so_one" --arg n "xx${SO_USER}xx-Long-Enough-1" '{old_password: $o, new_password: $n}')" "$so_tok1"
expect_refused 400 invalid_request
api POST /api/v1/passwd "$(jq -nc --arg o "$so_one" '{old_password: $o}')" "$so_tok1"
expect_refused 400 invalid_request
ok "passwd refuses a wrong old password, a short one, one containing the username, a missing one"

api POST /api/v1/passwd "$(jq -nc --arg o "$so_one" --arg n "$so_pw" '{old_password: $o, new_password: $n}')" "$so_tok1"
expect_status 204
add_secret "$so_pw"
printf '%s\n' "$so_pw" >"$T/users/$SO_USER.pw"
api GET /api/v1/me "" "$so_tok1"
expect_refused 401 invalid_token
ok "passwd ends the session that made it"

try_login "$SO_USER" "$so_one"
expect_refused 401 authentication_error
ok "the one-time password no longer works"

so_tok=$(login "$SO_USER" "$so_pw")
date +%s >"$T/tok/$SO_USER.time"
jq -e '.password_change_required == false' "$T/tok/$SO_USER.login.json" >/dev/null || fail "after passwd: password_change_required still true"
api GET /api/v1/me "" "$so_tok"
expect_status 200
expect_jq --arg u "$SO_USER" '.username == $u and .must_change_password == false and (.roles | index("security_officer"))'
ok "login with the new password and a fresh OTP; /api/v1/me works"

# Accounts for the rest (session_ttl is 60 s: token() logs in again when needed).
SESSION_MAX_AGE=40
ro_tok=$(mkactive "$so_tok" ro1 registration_officer)
aud_tok=$(mkactive "$so_tok" aud1 system_auditor)
frank_tok=$(mkactive "$ro_tok" frank signer)
frank_t0=$(date +%s)     # frank_tok is the one we let expire
dave_tok=$(mkactive "$(token ro1)" dave signer)
carol_tok=$(mkactive "$(token ro1)" carol signer)
erin_tok=$(mkactive "$(token ro1)" erin signer)
gina_tok=$(mkactive "$(token ro1)" gina signer)
ok "accounts ro1 aud1 frank dave carol erin gina made and logged in (forced password change each)"

# ---- refusals of auth/login ----
dave_pw=$(pw_of dave)
dave_secret=$(user_secret dave)

try_login dave "not-the-password-123"
expect_refused 401 authentication_error
ok "wrong password (valid OTP) -> 401 authentication_error"

try_login dave "$dave_pw" "$(otp_wrong "$dave_secret")"
expect_refused 401 authentication_error
ok "wrong OTP -> 401 authentication_error"

# A code longer than any OTP is a wrong code, answered and counted like one (never an "undecided"
# attempt that tells the password was right).
erin_pw=$(pw_of erin)
try_login erin "$erin_pw" "1234567890123456"
expect_refused 401 authentication_error
api GET /api/v1/users/erin "" "$(token ro1)"
expect_jq '.failed_logins == 1'
ok "right password with a 16-character OTP -> 401 authentication_error, counted as a failure"

try_login nosuchuser "whatever-password" "123456"
expect_refused 401 authentication_error
ok "unknown user -> 401 authentication_error"

code=$(otp_next dave)
try_login dave "$dave_pw" "$code"
expect_status 200
dave_step=$(last_step dave)
try_login dave "$dave_pw" "$code"
expect_refused 401 authentication_error
ok "the same OTP a second time -> 401 authentication_error (replay)"
cur=$(now_step)
if [ $((dave_step - 1)) -ge $((cur - 1)) ] && [ $(( $(date +%s) % 30 )) -lt 26 ]; then
	try_login dave "$dave_pw" "$(totp_code "$dave_secret" $((dave_step - 1)))"
	expect_refused 401 authentication_error
	ok "an OTP of an earlier step than the last accepted -> 401 authentication_error"
fi
try_login dave "$dave_pw" "" /csc/v1/auth/login
expect_status 200
ok "/csc/v1/auth/login works too (and resets dave's failure count)"

# Malformed Authorization headers: 400 invalid_request or 401 authentication_error.
malformed() {
	http POST /csc/v2/auth/login "$@" -H 'Content-Type: application/json' --data-binary '{"otp": "123456"}'
	expect_status 400 401
	case "$STATUS" in 400) expect_error invalid_request ;; 401) expect_error authentication_error ;; esac
}
malformed -H "Authorization: Basic $(printf 'davenocolon' | base64 -w0)"
malformed -H "Authorization: Basic !!!not*base64%%"
malformed -H "Authorization: Basic "
malformed -H "Authorization: Basic $(printf ':%s' "$dave_pw" | base64 -w0)"
malformed -H "Authorization: Bearer $dave_tok"
malformed -H "Authorization: Digest username=\"dave\""
malformed
ok "malformed Basic headers (no colon, not base64, empty, empty user, other schemes, none) refused"

gina_pw=$(pw_of gina)
# No code at all: an enrolled account's login needs one (the SAM refuses; counted).
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic gina "$gina_pw")" \
	-H 'Content-Type: application/json' --data-binary '{"rememberMe": false}'
expect_refused 401 authentication_error
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic gina "$gina_pw")"
expect_refused 401 authentication_error
gina_tok=$(login gina "$gina_pw")   # resets gina's failure count, if those counted
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic gina "$gina_pw")" \
	-H 'Content-Type: application/json' --data-binary '{"otp": 123456}'
expect_refused 400 invalid_request
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic gina "$gina_pw")" \
	-H 'Content-Type: application/json' --data-binary '{"otp": "12345a"}'
expect_status 400 401
ok "missing OTP, no body, OTP as a number -> 400 invalid_request; non-digit OTP refused"

# The same code sent three times at once: exactly one login succeeds (the step is claimed atomically).
gina_tok=$(login gina "$gina_pw")     # reset gina's failure count
code=$(otp_next gina)
race_pids=""
for i in 1 2 3; do
	curl -sS --max-time 30 --cacert "$CACERT" -o "$T/race.$i" -w '%{http_code}' -X POST \
		-H "Authorization: Basic $(basic gina "$gina_pw")" -H 'Content-Type: application/json' \
		--data-binary "{\"otp\": \"$code\"}" "$URL/csc/v2/auth/login" >"$T/race.$i.status" 2>/dev/null &
	race_pids="$race_pids $!"
done
for p in $race_pids; do wait "$p" || true; done
statuses=$(for i in 1 2 3; do cat "$T/race.$i.status"; echo; done | sort | tr '\n' ' ')
[ "$statuses" = "200 401 401 " ] || fail "three parallel logins with one code: want one 200 and two 401, got $statuses"
for i in 1 2 3; do add_secret "$(jq -r '.access_token // empty' "$T/race.$i")"; done
ok "one code, three parallel logins: exactly one succeeds"

# ---- tokens: missing, garbage, revoked ----
api GET /api/v1/me
expect_refused 401 invalid_token
header WWW-Authenticate | grep -qi '^Bearer' || fail "401 invalid_token without WWW-Authenticate: Bearer"
api GET /api/v1/me "" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect_refused 401 invalid_token
api GET /api/v1/me "" "not a token at all"
expect_refused 401 invalid_token
ok "missing and unknown bearer tokens -> 401 invalid_token with WWW-Authenticate: Bearer"

# Tokens live 60 s here: take fresh ones right before they are needed.
erin_tok=$(token erin)
erin_tok2=$(login erin "$(pw_of erin)")
api GET /api/v1/me "" "$erin_tok2"
expect_status 200
expect_jq '.username == "erin"'

# Another account's token cannot be revoked.
api POST /csc/v2/auth/revoke "$(jq -nc --arg t "$erin_tok2" '{token: $t, token_type_hint: "access_token"}')" "$(token dave)"
[ "$STATUS" != 204 ] || say "note: revoking another account's token answered 204"
api GET /api/v1/me "" "$erin_tok2"
expect_status 200
ok "dave cannot revoke erin's token"

api POST /csc/v2/auth/revoke "$(jq -nc --arg t "$erin_tok2" '{token: $t, token_type_hint: "access_token"}')" "$erin_tok"
expect_status 204
api GET /api/v1/me "" "$erin_tok2"
expect_refused 401 invalid_token
api GET /api/v1/me "" "$erin_tok"
expect_status 200
ok "auth/revoke with token= ends that token only"

http POST /csc/v1/auth/revoke -H "Authorization: Bearer $erin_tok"
expect_status 204
api GET /api/v1/me "" "$erin_tok"
expect_refused 401 invalid_token
header WWW-Authenticate | grep -qi '^Bearer' || fail "revoked token: no WWW-Authenticate: Bearer"
api POST /csc/v2/auth/revoke '{}' "$erin_tok"
expect_refused 401 invalid_token
ok "auth/revoke (v1 path, no body) ends the bearer token; a revoked token -> 401 invalid_token"

# ---- lockout after max_login_failures (3) ----
carol_pw=$(pw_of carol)
carol_secret=$(user_secret carol)
carol_tok=$(token carol)
api GET /api/v1/me "" "$carol_tok"
expect_status 200
try_login carol "wrong-password-1" "$(otp_wrong "$carol_secret")"
expect_refused 401 authentication_error
try_login carol "wrong-password-2" "$(otp_wrong "$carol_secret")"
expect_refused 401 authentication_error
try_login carol "wrong-password-3" "$(otp_wrong "$carol_secret")"
expect_status 401 403
printf '%s' "$BODY" | jq -e '.error == "authentication_error" or .error == "access_denied"' >/dev/null ||
	fail "third failure: unexpected error $BODY"
try_login carol "$carol_pw"
expect_refused 401 authentication_error
printf '%s' "$BODY" | jq -e '.error_description | test("lock"; "i") | not' >/dev/null ||
	fail "locked account: the answer tells an unauthenticated caller the account is locked: $BODY"
ok "after 3 failures even the right password + OTP -> 401, worded like a wrong password (the audit says locked)"

api GET /api/v1/me "" "$carol_tok"
[ "$STATUS" != 200 ] || fail "a locked account's existing session still works"
expect_status 401 403

api GET /api/v1/users/carol "" "$(token ro1)"
expect_status 200
expect_jq '.status == "locked" and .failed_logins >= 3'

api POST /api/v1/users/carol/unlock "" "$(token "$SO_USER")"
expect_refused 403 access_denied
api POST /api/v1/users/carol/unlock "" "$(token dave)"
expect_refused 403 access_denied
api POST /api/v1/users/carol/unlock "" "$(token aud1)"
expect_refused 403 access_denied
api GET /api/v1/users/carol "" "$(token ro1)"
expect_jq '.status == "locked"'
ok "only a registration officer may unlock (security officer, signer, auditor refused)"

api POST /api/v1/users/carol/unlock "" "$(token ro1)"
expect_status 204
api GET /api/v1/users/carol "" "$(token ro1)"
expect_jq '.status == "active" and .failed_logins == 0'
carol_tok=$(login carol "$carol_pw")
api GET /api/v1/me "" "$carol_tok"
expect_status 200
ok "registration officer unlocks; carol logs in again"

# Parallel guesses cannot try more passwords than max_login_failures: each attempt is counted
# before the slow password check.
hana_tok=$(mkactive "$(token ro1)" hana signer)
hana_otp=$(otp_wrong "$(user_secret hana)")
pids=()
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -sS --max-time 30 --cacert "$CACERT" -o "$T/par.$i" -w '%{http_code}' -X POST \
		-H "Authorization: Basic $(basic hana "wrong-password-$i")" -H 'Content-Type: application/json' \
		--data-binary "{\"otp\": \"$hana_otp\"}" "$URL/csc/v2/auth/login" >"$T/par.$i.code" 2>/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(cat "$T/par.$i.code")" = 401 ] || fail "parallel guess $i: HTTP $(cat "$T/par.$i.code") $(cat "$T/par.$i")"
done
api GET /api/v1/users/hana "" "$(token ro1)"
expect_jq '.status == "locked" and .failed_logins == 3'
audit_records "$(token aud1)" >"$T/hana.json"
tried=$(jq '[.[] | select(.action == "auth.login" and .subject == "hana" and (.result | test("wrong")))] | length' "$T/hana.json")
held=$(jq '[.[] | select(.action == "auth.login" and .subject == "hana" and .result == "account locked")] | length' "$T/hana.json")
[ "$tried" = 3 ] && [ "$held" = 7 ] ||
	fail "10 parallel guesses: $tried passwords tried (want 3), $held refused as locked (want 7)"
ok "10 parallel guesses: exactly 3 passwords tried, 7 refused before the check; all answered 401 alike"

# ---- the audit trail (system auditor) ----
records=$(audit_records "$(token aud1)")
printf '%s' "$records" >"$T/audit.json"
jq -e 'length > 0 and all(.[]; has("seq") and has("time") and has("actor") and has("role") and has("action")
	and has("subject") and has("result") and has("request_id") and has("source") and has("detail"))' "$T/audit.json" >/dev/null ||
	fail "audit records lack fields: $(jq -c '.[0]' "$T/audit.json")"
jq -e '[.[].seq] as $s | ($s == ($s | sort)) and (($s | unique | length) == ($s | length))' "$T/audit.json" >/dev/null ||
	fail "audit seq not strictly increasing"
jq -e 'all(.[]; .time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\\.[0-9]+)?Z$"))' "$T/audit.json" >/dev/null ||
	fail "audit times are not UTC (…Z): $(jq -c '[.[].time][0:3]' "$T/audit.json")"

about() { jq --arg u "$1" '[.[] | select(.subject == $u or .actor == $u)]' "$T/audit.json"; }
nfail_dave=$(about dave | jq '[.[] | select(.result != "success" and (.action | test("login|auth"; "i")))] | length')
[ "$nfail_dave" -ge 3 ] || fail "audit: expected >= 3 failed logins of dave (wrong password, wrong OTP, replay), found $nfail_dave"
about nosuchuser | jq -e 'length >= 1' >/dev/null || fail "audit: no record of the login attempt for an unknown user"
nfail_carol=$(about carol | jq '[.[] | select(.result != "success" and (.action | test("login|auth"; "i")))] | length')
[ "$nfail_carol" -ge 4 ] || fail "audit: expected >= 4 refused logins of carol (3 failures + locked), found $nfail_carol"
about carol | jq -e 'any(.[]; ((.action + " " + .result + " " + (.detail // "")) | test("lock"; "i")) and ((.action | test("unlock"; "i")) | not))' >/dev/null ||
	fail "audit: no lockout event for carol"
about carol | jq -e 'any(.[]; (.action | test("unlock"; "i")) and .actor == "ro1" and .result == "success")' >/dev/null ||
	fail "audit: no successful unlock of carol by ro1"
about carol | jq -e 'any(.[]; (.action | test("unlock"; "i")) and .actor == "'"$SO_USER"'" and .result != "success")' >/dev/null ||
	fail "audit: the security officer's refused unlock is not recorded"
jq -e --arg u "$SO_USER" 'any(.[]; .actor == $u and (.action | test("pass"; "i")) and .result == "success")' "$T/audit.json" >/dev/null ||
	fail "audit: no password change of $SO_USER"
jq -e 'any(.[]; .subject == "ro1" and .actor == "'"$SO_USER"'" and (.action | test("create|add"; "i")))' "$T/audit.json" >/dev/null ||
	fail "audit: creation of ro1 by the security officer not recorded"
jq -e 'any(.[]; (.action | test("revoke|logout"; "i")) and (.actor == "erin" or .subject == "erin"))' "$T/audit.json" >/dev/null ||
	fail "audit: erin's token revocation not recorded"
check_no_secrets_in "$T/audit.json" "the audit trail"
api GET "/api/v1/audit?limit=1" "" "$(token aud1)"
expect_status 200
expect_jq '.records | length == 1'
first_seq=$(printf '%s' "$BODY" | jq '.records[0].seq')
api GET "/api/v1/audit?after=$first_seq&limit=2" "" "$(token aud1)"
expect_jq --argjson s "$first_seq" '(.records | length == 2) and all(.records[]; .seq > $s)'
ok "audit trail: every failure, the lockout, the unlock, passwd, revoke recorded; no secret in it; paging works"

# Passwords, TOTP seeds and tokens are not stored in plain in either database.
check_no_secrets_in_dbs
ok "no password, TOTP seed or bearer token in plain in inkan.db or keystore.db"

# ---- expired token (session_ttl = 60) ----
left=$(( frank_t0 + 62 - $(date +%s) ))
if [ "$left" -gt 0 ]; then say "waiting ${left}s for frank's token to expire"; sleep "$left"; fi
api GET /api/v1/me "" "$frank_tok"
expect_refused 401 invalid_token
header WWW-Authenticate | grep -qi '^Bearer' || fail "expired token: no WWW-Authenticate: Bearer"
ok "a token older than session_ttl -> 401 invalid_token"

finish
