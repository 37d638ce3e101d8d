#!/bin/bash
# t_cli: the README quickstart and docs/cli.md followed with the real `inkan` command against the
# real daemon: init, login, forced passwd, user and role administration, audit, exit statuses.
. "$(dirname "$0")/lib.sh"

export HOME="$T/home"
mkdir -p "$HOME"
unset INKAN_TOKEN INKAN_TOKEN_FILE INKAN_PASSWORD INKAN_OTP INKAN_NEW_PASSWORD INKAN_SERVER INKAN_CACERT
: >"$T/cli.stderr.all"

# cli ARGS...: runs inkan; sets RC, OUT (stdout), ERR (stderr). Never fails by itself.
cli() {
	RC=0
	timeout 60 "$INKAN_CLI" "$@" >"$T/cli.out" 2>"$T/cli.err" </dev/null || RC=$?
	OUT=$(cat "$T/cli.out")
	ERR=$(cat "$T/cli.err")
	cat "$T/cli.err" >>"$T/cli.stderr.all"
	printf 'inkan %s -> rc %s\n   out: %s\n   err: %s\n' "$*" "$RC" "$(head -c 300 "$T/cli.out" | tr '\n' ' ')" \
		"$(head -c 300 "$T/cli.err" | tr '\n' ' ')" >>"$TRANSCRIPT"
	[ "$RC" != 124 ] || fail "inkan $* hung (killed after 60 s)"
	return 0
}
expect_rc() {
	[ "$RC" = "$1" ] || fail "inkan: expected exit status $1, got $RC (stdout: ${OUT:0:300}; stderr: ${ERR:0:300})"
	if [ "$1" != 0 ]; then
		[ -n "$ERR" ] || fail "inkan failed (rc $RC) without a message on stderr"
	fi
}
# Exactly one JSON value on stdout.
expect_json_out() {
	[ "$(printf '%s' "$OUT" | jq -s 'length' 2>/dev/null)" = 1 ] || fail "inkan --json: stdout is not exactly one JSON value: ${OUT:0:300}"
	[ $# = 0 ] || printf '%s' "$OUT" | jq -e "$@" >/dev/null || fail "inkan --json output does not satisfy jq '$*': ${OUT:0:400}"
}

# cli_activate USER ONETIME NEWPW [TOKEN_FILE]: the account holder's first login as the README
# says: the one-time password (no code yet), the password change (the session goes on), then
# the enrolment of their own TOTP seed, confirmed with its first code.
cli_activate() {
	local user=$1 one=$2 new=$3 tf=${4:-}
	local tfo=()
	[ -z "$tf" ] || tfo=(--token-file "$tf")
	INKAN_PASSWORD=$one cli "${tfo[@]}" --json login --first "$user"; expect_rc 0
	expect_json_out '.enrolment_required == true and .password_change_required == true'
	add_secret "$(printf '%s' "$OUT" | jq -r .access_token)"
	INKAN_PASSWORD=$one INKAN_NEW_PASSWORD=$new cli "${tfo[@]}" passwd; expect_rc 0
	printf '%s' "$OUT" | grep -q 'inkan enrol' || fail "inkan passwd does not say to enrol next: $OUT"
	cli "${tfo[@]}" whoami; expect_rc 1
	printf '%s' "$ERR" | grep -q '(enrolment_required)' || fail "whoami before enrolment: want (enrolment_required): $ERR"
	cli "${tfo[@]}" --json enrol; expect_rc 0
	expect_json_out '(.totp_secret | length >= 16) and (.otpauth_uri | startswith("otpauth://totp/"))'
	printf '%s' "$OUT" | jq -r .totp_secret >"$T/users/$user.secret"
	add_secret "$(cat "$T/users/$user.secret")"
	rm -f "$T/otp/$user"
	INKAN_OTP=$(otp_next "$user") cli "${tfo[@]}" enrol confirm; expect_rc 0
	cli "${tfo[@]}" --json whoami; expect_rc 0
	expect_json_out --arg u "$user" '.username == $u'
}

# ---- init, as the README's automation interface says ----
cli init --data "$DATA" --json
expect_rc 0
printf '%s' "$OUT" >"$T/init.json"
expect_json_out '.security_officer | (.username == "officer") and (.password | length > 0) and (.totp_secret | length >= 16)
	and (.otpauth_uri | startswith("otpauth://totp/"))'
SO_USER=officer
SO_PW=$(jq -r .security_officer.password "$T/init.json")
SO_SECRET=$(jq -r .security_officer.totp_secret "$T/init.json")
printf '%s\n' "$SO_SECRET" >"$T/users/officer.secret"
add_secret "$SO_PW"; add_secret "$SO_SECRET"
if printf '%s' "$ERR" | grep -qF -- "$SO_PW"; then fail "inkan init printed the password on stderr"; fi
CACERT="$DATA/tls/cert.pem"
[ "$(stat -c %a "$DATA")" = 700 ] || fail "data directory mode $(stat -c %a "$DATA"), docs say 0700"
[ "$(stat -c %a "$DATA/tls/key.pem")" = 600 ] || fail "tls/key.pem mode $(stat -c %a "$DATA/tls/key.pem")"
# inkand's files in a directory of their own; DIR/tls (what clients trust) links there
[ -f "$DATA/inkand/inkan.db" ] && [ -f "$DATA/inkand/tls/key.pem" ] && [ "$(readlink "$DATA/tls")" = inkand/tls ] &&
	[ "$(stat -c %a "$DATA/inkand")" = 700 ] || fail "inkan init: not the documented layout: $(ls -la "$DATA" "$DATA/inkand" 2>&1)"
grep -qE '^[[:space:]]*session_ttl[[:space:]]*=' "$DATA/inkan.conf" || fail "inkan init wrote no inkan.conf with the defaults"
ok "inkan init --data DIR --json"

cli init --data "$DATA" --json
expect_rc 1
cli init --data "$DATA"
expect_rc 1
ok "inkan init refuses an existing data directory"

fast_argon2
start_inkand
export INKAN_SERVER="$URL" INKAN_CACERT="$CACERT"

# ---- README "First steps" ----
cli info
expect_rc 0
printf '%s' "$OUT" | grep -q 'auth/login' || fail "inkan info does not show the methods: $OUT"
cli --json info
expect_rc 0
expect_json_out '.region == "JP" and (.methods | index("auth/login"))'
ok "inkan info (no login)"

INKAN_PASSWORD=$SO_PW INKAN_OTP=$(otp_next officer) cli login officer
expect_rc 0
printf '%s' "$OUT$ERR" | grep -qi 'passw' || fail "inkan login does not say the password must be changed: $OUT $ERR"
tokfile="$HOME/.config/inkan/token"
[ -s "$tokfile" ] || fail "inkan login saved no token in $tokfile"
[ "$(stat -c %a "$tokfile")" = 600 ] || fail "token file mode $(stat -c %a "$tokfile"), want 600"
[ "$(stat -c %a "$(dirname "$tokfile")")" = 700 ] || fail "token directory mode $(stat -c %a "$(dirname "$tokfile")"), want 700"
tok=$(tr -d '\n' <"$tokfile"); add_secret "$tok"
printf '%s' "$OUT$ERR" | grep -qF -- "$tok" && fail "inkan login printed the token"
ok "inkan login officer (env INKAN_PASSWORD, INKAN_OTP): token file 0600 in a 0700 directory"

cli whoami
expect_rc 1
printf '%s' "$ERR" | grep -q 'password_change_required' || fail "whoami before passwd: want '(password_change_required)': $ERR"

so_pw=$(newpw); add_secret "$so_pw"
INKAN_PASSWORD=$SO_PW INKAN_NEW_PASSWORD=$so_pw cli passwd
expect_rc 0
[ ! -e "$tokfile" ] || fail "inkan passwd left the token file (the server ended the session)"
cli whoami
expect_rc 1
ok "inkan passwd (INKAN_NEW_PASSWORD) changes the first password and drops the token"

INKAN_PASSWORD=$so_pw INKAN_OTP=$(otp_next officer) cli --json login officer
expect_rc 0
expect_json_out '(.access_token | length >= 20) and (.expires_in > 0) and .password_change_required == false'
add_secret "$(printf '%s' "$OUT" | jq -r .access_token)"
cli whoami
expect_rc 0
printf '%s' "$OUT" | grep -q officer || fail "whoami does not name officer: $OUT"
cli --json whoami
expect_rc 0
expect_json_out '.username == "officer" and .roles == ["security_officer"] and .must_change_password == false'
ok "inkan login again; inkan whoami"

cli --json user add ro1 --role registration_officer --display-name "Registration Officer 1"
expect_rc 0
expect_json_out '.user.username == "ro1" and (.password | length > 0) and .totp_secret == null and .enrolment_required == true'
printf '%s' "$OUT" | jq -r .password >"$T/users/ro1.otp_pw"
add_secret "$(cat "$T/users/ro1.otp_pw")"
cli --json user add aud1 --role system_auditor
expect_rc 0
expect_json_out '.user.roles == ["system_auditor"]'
printf '%s' "$OUT" | jq -r .password >"$T/users/aud1.otp_pw"
add_secret "$(cat "$T/users/aud1.otp_pw")"
cli user add ops1 --role system_operator
expect_rc 0
printf '%s' "$OUT" | grep -q 'otpauth://' && fail "inkan user add shows a TOTP seed to the creating officer: $OUT"
printf '%s' "$OUT" | grep -q 'inkan enrol' || fail "inkan user add (human) does not say the holder enrols their seed: $OUT"
add_secret "$(printf '%s' "$OUT" | awk '/password/ {print $2; exit}')"
ok "inkan user add (--json and human) as the security officer: one-time password only, never a seed"

cli --json user list
expect_rc 0
expect_json_out '[.users[].username] | sort == ["aud1", "officer", "ops1", "ro1"]'
cli user list
expect_rc 0
for u in officer ro1 aud1 ops1; do printf '%s' "$OUT" | grep -q "$u" || fail "user list (human) misses $u"; done
cli --json user show ro1
expect_rc 0
expect_json_out '.roles == ["registration_officer"] and .display_name == "Registration Officer 1" and .must_change_password == true'
printf '%s' "$OUT" | grep -qiE '"[a-z_]*(hash|totp|secret|seed)[a-z_]*"' && fail "user show reveals secret fields: $OUT"
ok "inkan user list / user show"

cli role add ops1 system_administrator
expect_rc 0
printf '%s' "$OUT" | grep -q system_administrator || fail "role add does not print the roles: $OUT"
cli --json role remove ops1 system_administrator
expect_rc 0
expect_json_out '.roles == ["system_operator"]'
cli role add ops1 signer
expect_rc 1
cli role add officer system_operator
expect_rc 1
printf '%s' "$ERR" | grep -qE '^inkan: .+ \((access_denied|invalid_request)\)' || fail "refusal not printed as 'inkan: <description> (<error>)': $ERR"
cli role add ops1 system_auditor
expect_rc 1
cli user add alice --role signer --idv-method "in person" --idv-evidence "file 1"
expect_rc 1
printf '%s' "$ERR" | grep -q '(access_denied)' || fail "security officer adding a signer: want (access_denied): $ERR"
ok "inkan role add/remove; refusals exit 1 with 'inkan: <description> (<error>)'"

# ---- the registration officer, with its own token file and --password-file ----
ro_tf="$T/ro.token"
ro_pw=$(newpw); add_secret "$ro_pw"
cli_activate ro1 "$(cat "$T/users/ro1.otp_pw")" "$ro_pw" "$ro_tf"
printf '%s\n' "$ro_pw" >"$T/ro.pwfile"; chmod 600 "$T/ro.pwfile"
INKAN_OTP=$(otp_next ro1) cli --token-file "$ro_tf" --password-file "$T/ro.pwfile" login ro1
expect_rc 0
[ "$(stat -c %a "$ro_tf")" = 600 ] || fail "--token-file mode $(stat -c %a "$ro_tf")"
add_secret "$(tr -d '\n' <"$ro_tf")"
cli --token-file "$ro_tf" --json whoami
expect_json_out '.username == "ro1"'
cli --json whoami
expect_json_out '.username == "officer"'
ok "ro1: login --first / passwd / enrol / login with --token-file and --password-file; officer's token file untouched"

cli --token-file "$ro_tf" user add alice --role signer --display-name "Alice Example" \
	--idv-method "in person, passport" --idv-evidence "file 2026-0042" --id-document passport:TK1234567
expect_rc 0
add_secret "$(printf '%s' "$OUT" | awk '/password/ {print $2; exit}')"
cli --token-file "$ro_tf" --json user show alice
expect_rc 0
expect_json_out '.roles == ["signer"] and .identity_verification.method == "in person, passport"
	and .identity_verification.evidence == "file 2026-0042" and .identity_verification.officer == "ro1"'
cli --token-file "$ro_tf" --json user add --role signer --idv-method "video call" --idv-evidence "rec 7" \
	--id-document passport:TK1234567 carl
expect_rc 1
printf '%s' "$ERR" | grep -q 'registered already' || fail "the same identity document twice: want a refusal naming it: $ERR"
cli --token-file "$ro_tf" --json user add --role signer --idv-method "video call" --idv-evidence "rec 7" \
	--id-document "residence card:RC-77" bob
expect_rc 0
expect_json_out '.user.username == "bob"'
add_secret "$(printf '%s' "$OUT" | jq -r .password)"; add_secret "$(printf '%s' "$OUT" | jq -r .totp_secret)"
cli --token-file "$ro_tf" user add carl --role signer
expect_rc 1
cli --token-file "$ro_tf" user add mallory --role system_operator
expect_rc 1
printf '%s' "$ERR" | grep -q '(access_denied)' || fail "ro1 adding a privileged account: want (access_denied): $ERR"
cli --token-file "$ro_tf" user add dora --role signer --idv-method "in person" --idv-evidence e --id-document nocolon
expect_rc 2
cli --token-file "$ro_tf" user show nobody
expect_rc 1
printf '%s' "$ERR" | grep -q '(not_found)' || fail "user show nobody: want (not_found): $ERR"
ok "registration officer registers signers with identity verification (options before or after NAME)"

# Control characters from the server are not sent to the terminal.
cli --token-file "$ro_tf" user add evil --role signer --display-name "$(printf 'E\033[2J\033]0;pwned\007vil')" \
	--idv-method "$(printf 'x\033[31m')" --idv-evidence e --id-document passport:EVIL-1
if [ "$RC" = 0 ]; then
	cli --token-file "$ro_tf" user show evil
	expect_rc 0
	printf '%s' "$OUT" | LC_ALL=C grep -q "$(printf '\033')" && fail "user show copies an ESC from the server to the terminal"
	cli --token-file "$ro_tf" user list
	printf '%s' "$OUT" | LC_ALL=C grep -q "$(printf '\033')" && fail "user list copies an ESC from the server to the terminal"
	ok "control characters in server text are neutralised"
else
	say "note: the server refused a display name with control characters (rc $RC: $ERR)"
fi

# Lock alice with wrong passwords (default max_login_failures 5), then unlock.
for i in 1 2 3 4 5; do
	INKAN_PASSWORD="wrong-password-$i" INKAN_OTP=000000 cli --token-file "$T/alice.token" login alice
	expect_rc 1
done
[ ! -s "$T/alice.token" ] || fail "a failed login wrote a token file"
cli --token-file "$ro_tf" --json user show alice
expect_json_out '.status == "locked"'
INKAN_OTP=$(otp_next ro1) cli --token-file "$ro_tf" --json user unlock alice
expect_rc 0
expect_json_out '. == {}'
cli --token-file "$ro_tf" --json user show alice
expect_json_out '.status == "active" and .failed_logins == 0'
INKAN_OTP=000000 cli user unlock alice
expect_rc 1
ok "failed logins exit 1 and write no token; user unlock by the registration officer (not the security officer)"

INKAN_OTP=$(otp_wrong "$(user_secret ro1)") cli --token-file "$ro_tf" --json user remove bob
expect_rc 1
printf '%s' "$ERR" | grep -q 'OTP' || fail "user remove with a wrong officer's OTP: want a refusal naming it: $ERR"
INKAN_OTP=$(otp_next ro1) cli --token-file "$ro_tf" --json user remove bob
expect_rc 0
expect_json_out '. == {}'
cli --token-file "$ro_tf" --json user show bob
expect_json_out '.status == "disabled"'
ok "inkan user remove (deregistration keeps the account, disabled)"

# ---- the auditor ----
aud_tf="$T/aud.token"
aud_pw=$(newpw); add_secret "$aud_pw"
cli_activate aud1 "$(cat "$T/users/aud1.otp_pw")" "$aud_pw" "$aud_tf"
add_secret "$(tr -d '\n' <"$aud_tf")"
cli --token-file "$aud_tf" --json audit list --limit 5
expect_rc 0
expect_json_out '.records | length == 5'
s5=$(printf '%s' "$OUT" | jq '.records[4].seq')
cli --token-file "$aud_tf" --json audit list --after "$s5" --limit 1000
expect_rc 0
expect_json_out --argjson s "$s5" '(.records | length > 10) and all(.records[]; .seq > $s)'
printf '%s' "$OUT" | jq -e 'any(.records[]; .subject == "bob" and .actor == "ro1")' >/dev/null || fail "audit list: bob's deregistration missing"
printf '%s' "$OUT" >"$T/audit.json"
check_no_secrets_in "$T/audit.json" "inkan audit list"
cli --token-file "$aud_tf" audit list
expect_rc 0
[ -n "$OUT" ] || fail "inkan audit list (human) printed nothing"
cli audit list
expect_rc 1
ok "inkan audit list (auditor only; paging with --after/--limit)"

# ---- INKAN_TOKEN, logout ----
ro_token=$(tr -d '\n' <"$ro_tf")
INKAN_TOKEN=$ro_token cli --json whoami
expect_json_out '.username == "ro1"'
cli --token-file "$ro_tf" logout
expect_rc 0
[ ! -e "$ro_tf" ] || fail "inkan logout left the token file"
api GET /api/v1/me "" "$ro_token"
expect_refused 401 invalid_token
INKAN_TOKEN=$ro_token cli whoami
expect_rc 1
printf '%s' "$ERR" | grep -q '(invalid_token)' || fail "whoami with a revoked token: want (invalid_token): $ERR"
ok "INKAN_TOKEN; inkan logout revokes on the server and deletes the token file"

# ---- exit statuses and refusals ----
cli no-such-command;                expect_rc 2
cli user add;                       expect_rc 2
cli user add x --role;              expect_rc 2
cli --no-such-option info;          expect_rc 2
cli --server "https://127.0.0.1:1" info; expect_rc 1
cli --server "http://$ADDR" info;   expect_rc 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" -out "$T/other.pem" \
	-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1
cli --cacert "$T/other.pem" info;   expect_rc 1
INKAN_PASSWORD=$so_pw INKAN_OTP=000000 cli --cacert "$T/other.pem" login officer; expect_rc 1
# Without a terminal and without INKAN_OTP, login fails instead of waiting.
RC=0; INKAN_PASSWORD=$so_pw timeout 20 setsid "$INKAN_CLI" login officer </dev/null >"$T/cli.out" 2>"$T/cli.err" || RC=$?
[ "$RC" != 124 ] || fail "inkan login without a terminal and without INKAN_OTP waits for input"
[ "$RC" = 1 ] || [ "$RC" = 2 ] || fail "inkan login without a terminal and without INKAN_OTP: rc $RC"
INKAN_PASSWORD="not-the-password" INKAN_OTP=$(otp_next officer) cli login officer
expect_rc 1
printf '%s' "$ERR" | grep -q '(authentication_error)' || fail "wrong password: want (authentication_error): $ERR"
cli --json whoami
expect_rc 0
expect_json_out '.username == "officer"'
ok "exit status 2 for usage errors, 1 for refusals, unreachable server, wrong CA, plain HTTP to TLS"

check_no_secrets_in "$T/cli.stderr.all" "the CLI's stderr"

# ---- the README set-up, as `make run` does it (scripts/run.sh), then "First steps" word for
# word: from a working directory where build/ is the build and var/ the data (port 0, not 8443,
# so that tests can run side by side).
stop_inkand
qs="$T/qs"
mkdir -p "$qs"
ln -s "$INKAN_BUILD" "$qs/build"
cd "$qs"
sh "$INKAN_SRC/scripts/run.sh" build var 127.0.0.1:0 >"$T/run.out" 2>>"$LOG" &
INKAND_PID=$!
DATA="$qs/var"
for i in $(seq 1 300); do [ -s var/inkand.addr ] && break; sleep 0.1; done
[ -s var/inkand.addr ] || fail "make run (scripts/run.sh) did not start inkand: $(head -c 600 "$T/run.out")"
ADDR=$(head -n1 var/inkand.addr); URL="https://$ADDR"; CACERT="$qs/var/tls/cert.pem"
grep -q 'inkan login officer' "$T/run.out" || fail "make run does not print the next steps"
qs_pw=$(awk '$1 == "password" { print $2; exit }' "$T/run.out")
qs_secret=$(awk '$1 == "TOTP" && $2 == "secret" { print $3; exit }' "$T/run.out")
[ -n "$qs_pw" ] && [ -n "$qs_secret" ] || fail "make run did not show the officer's password and TOTP secret: $(head -c 600 "$T/run.out")"
add_secret "$qs_pw"; add_secret "$qs_secret"
printf '%s\n' "$qs_secret" >"$T/users/officer.secret"; rm -f "$T/otp/officer"
export HOME="$T/home2"; mkdir -p "$HOME"
export INKAN_SERVER=https://$ADDR INKAN_CACERT=var/tls/cert.pem
qs_new=$(newpw); add_secret "$qs_new"
cli_q() { cli "$@"; expect_rc 0; }
cli_q info
INKAN_PASSWORD=$qs_pw INKAN_OTP=$(otp_next officer) cli_q login officer
INKAN_PASSWORD=$qs_pw INKAN_NEW_PASSWORD=$qs_new cli_q passwd
INKAN_PASSWORD=$qs_new INKAN_OTP=$(otp_next officer) cli_q login officer
cli_q --json user add ro1 --role registration_officer
printf '%s' "$OUT" | jq -r .password >"$T/users/ro1.otp_pw"
add_secret "$(cat "$T/users/ro1.otp_pw")"
rm -f "$T/otp/ro1" "$T/users/ro1.secret"
qs_ro=$(newpw); add_secret "$qs_ro"
INKAN_PASSWORD=$(cat "$T/users/ro1.otp_pw") cli_q login --first ro1
INKAN_PASSWORD=$(cat "$T/users/ro1.otp_pw") INKAN_NEW_PASSWORD=$qs_ro cli_q passwd
cli_q --json enrol
printf '%s' "$OUT" | jq -r .totp_secret >"$T/users/ro1.secret"; add_secret "$(cat "$T/users/ro1.secret")"
INKAN_OTP=$(otp_next ro1) cli_q enrol confirm
cli_q user add alice --role signer --display-name "Alice Example" \
    --idv-method "in person, passport" --idv-evidence "file 2026-0042" \
    --id-document passport:TK1234567
add_secret "$(printf '%s' "$OUT" | awk '/password/ {print $2; exit}')"
cli_q --json user show alice
expect_json_out '.display_name == "Alice Example" and .identity_verification.evidence == "file 2026-0042"'
ok "README: make run (scripts/run.sh) on a fresh var/, then First steps word for word"
# The next `make run` reuses var/: nothing initialised again, the same accounts and sessions.
stop_inkand
rm -f var/inkand.addr var/inkand/inkand.addr
sh "$INKAN_SRC/scripts/run.sh" build var 127.0.0.1:0 >"$T/run2.out" 2>>"$LOG" &
INKAND_PID=$!
for i in $(seq 1 300); do [ -s var/inkand.addr ] && break; sleep 0.1; done
[ -s var/inkand.addr ] || fail "a second make run did not start inkand: $(head -c 600 "$T/run2.out")"
grep -q 'First run' "$T/run2.out" && fail "a second make run initialised var/ again: $(head -c 600 "$T/run2.out")"
ADDR=$(head -n1 var/inkand.addr); URL="https://$ADDR"
export INKAN_SERVER=https://$ADDR
cli_q --json user show alice
expect_json_out '.display_name == "Alice Example"'
cd "$T"
check_no_secrets_in "$T/cli.stderr.all" "the CLI's stderr"
ok "make run again reuses var/ (inkand's files in var/inkand/)"

# A password on the command line is a usage error (secrets are never taken from argv); it must
# not be taken for an abbreviation of --password-file and echoed back in an error message.
cli login officer --password dummy-secret-value
expect_rc 2
if printf '%s' "$ERR" | grep -qF dummy-secret-value; then fail "inkan echoes a --password value on stderr: $ERR"; fi
ok "--password on the command line is refused as a usage error"
finish
