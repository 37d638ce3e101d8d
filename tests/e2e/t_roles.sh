#!/bin/bash
# t_roles: one account per role, and every role boundary and separation-of-duties rule tried
# and refused; a signer sees only its own data; deregistration keeps the history.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so_pw=$(newpw)
so_tok=$(first_login "$SO_USER" "$SO_PW" "$so_pw")

admin_tok=$(mkactive "$so_tok" admin1 system_administrator)
oper_tok=$(mkactive "$so_tok" oper1 system_operator)
aud_tok=$(mkactive "$so_tok" aud1 system_auditor)
ro_tok=$(mkactive "$so_tok" ro1 registration_officer)
alice_tok=$(mkactive "$ro_tok" alice signer)
bob_tok=$(mkactive "$ro_tok" bob signer)
ok "security officer made admin1 oper1 aud1 ro1; ro1 registered alice and bob; all logged in"

# denied STATUS... : the last request was refused with 403 access_denied and nothing changed.
denied() {
	expect_refused 403 access_denied
}
count0=$(user_count)
create() { # TOKEN NAME ROLES [EXTRA]
	local req x=${4:-}
	[ -n "$x" ] || x="{}"
	req=$(jq -nc --arg u "$2" --arg r "$3" --argjson x "$x" '{username: $u, roles: ($r | split(","))} + $x')
	api POST /api/v1/users "$req" "$1"
}
unchanged() {
	local n
	n=$(user_count)
	[ "$n" = "$count0" ] || fail "users table changed after a refusal: $count0 -> $n rows"
}
idv='{"idv_method":"in-person, passport","idv_evidence":"file 1","idv_document_type":"passport","idv_document_number":"TK-roles-1"}'

# ---- signer ----
api GET /api/v1/users "" "$alice_tok"; denied
api GET /api/v1/users/bob "" "$alice_tok"
expect_status 403 404
case "$STATUS" in 403) expect_error access_denied ;; 404) expect_error not_found ;; esac
printf '%s' "$BODY" | grep -q '"bob"\|file 2026-bob' && fail "alice's answer about bob contains bob's data: $BODY"
create "$alice_tok" mallory signer "$idv"; denied; unchanged
create "$alice_tok" mallory system_administrator; denied; unchanged
api GET /api/v1/audit "" "$alice_tok"; denied
api GET /api/v1/config "" "$alice_tok"; denied
api DELETE /api/v1/users/bob "" "$alice_tok"; denied
api POST /api/v1/users/bob/unlock "" "$alice_tok"; denied
api POST /api/v1/users/alice/roles '{"role":"system_operator"}' "$alice_tok"; denied
api DELETE /api/v1/users/aud1/roles/system_auditor "" "$alice_tok"; denied
ok "signer: cannot list users, see bob, create users, read audit/config, remove, unlock, grant"

api GET /api/v1/me "" "$alice_tok"
expect_status 200
expect_jq '.username == "alice" and .roles == ["signer"] and .status == "active"
	and .identity_verification.method == "in-person, passport" and .identity_verification.evidence == "file 2026-alice"
	and .identity_verification.officer == "ro1" and (.identity_verification.verified_at | test("Z$"))
	and .created_by == "ro1"'
alice_me=$BODY
api GET /api/v1/me "" "$bob_tok"
expect_jq '.username == "bob"'
bob_id=$(printf '%s' "$BODY" | jq -r .id)
printf '%s' "$alice_me" | grep -qF "$bob_id" && fail "alice's /me contains bob's id"
api GET /api/v1/users/bob "" "$ro_tok"
expect_status 200
expect_jq '.username == "bob" and .identity_verification.evidence == "file 2026-bob"'
ok "a signer's /api/v1/me shows only its own account with its identity verification record"

# ---- officers and operators ----
api GET /api/v1/audit "" "$so_tok"; denied
api GET /api/v1/audit "" "$ro_tok"; denied
api GET /api/v1/audit "" "$admin_tok"; denied
api GET /api/v1/audit "" "$oper_tok"; denied
api GET /api/v1/audit "" "$aud_tok"; expect_status 200; expect_jq '.records | length > 0'
ok "only the system auditor reads the audit trail"

api GET /api/v1/config "" "$so_tok"; denied
api GET /api/v1/config "" "$ro_tok"; denied
api GET /api/v1/config "" "$aud_tok"; denied
api GET /api/v1/config "" "$oper_tok"; denied
api GET /api/v1/config "" "$admin_tok"; expect_status 200
printf '%s' "$BODY" | jq -e 'type == "object"' >/dev/null || fail "config is not a JSON object"
printf '%s' "$BODY" | grep -qi 'BEGIN .*PRIVATE KEY' && fail "config shows a private key"
printf '%s' "$BODY" >"$T/config.json"
check_no_secrets_in "$T/config.json" "GET /api/v1/config"
ok "only the system administrator reads the configuration (no secrets in it)"

for who in aud_tok admin_tok oper_tok; do
	create "${!who}" mallory system_operator; denied; unchanged
	create "${!who}" mallory signer "$idv"; denied; unchanged
	api GET /api/v1/users "" "${!who}"; denied
	api GET /api/v1/users/alice "" "${!who}"; denied
	api DELETE /api/v1/users/alice "" "${!who}"; denied
	api POST /api/v1/users/ro1/roles '{"role":"system_operator"}' "${!who}"; denied
done
api POST /api/v1/users/alice/unlock "" "$admin_tok"; denied
ok "auditor, administrator, operator: cannot create, list, show, remove accounts or grant roles"

# Registration officer: signers only.
for r in system_administrator system_operator system_auditor registration_officer security_officer; do
	create "$ro_tok" mallory "$r"; denied; unchanged
done
create "$ro_tok" mallory "signer,system_operator" "$idv"; expect_status 400 403; unchanged
api POST /api/v1/users/admin1/roles '{"role":"system_operator"}' "$ro_tok"; denied
api POST /api/v1/users/alice/roles '{"role":"system_operator"}' "$ro_tok"; denied
api DELETE /api/v1/users/admin1/roles/system_administrator "" "$ro_tok"; denied
api DELETE /api/v1/users/admin1 "" "$ro_tok"; denied
api GET /api/v1/users/admin1 "" "$ro_tok"; expect_status 200; expect_jq '.status == "active"'
create "$ro_tok" mallory signer; expect_refused 400 invalid_request; unchanged
ok "registration officer: cannot create privileged accounts, grant roles or remove privileged accounts; signer needs idv"

# Security officer: privileged accounts only, separation of duties.
create "$so_tok" mallory signer "$idv"; denied; unchanged
api POST /api/v1/users/admin1/roles '{"role":"signer"}' "$so_tok"; expect_status 400 403; unchanged
api POST /api/v1/users/alice/roles '{"role":"system_operator"}' "$so_tok"; expect_status 400 403
api GET /api/v1/users/alice "" "$ro_tok"; expect_jq '.roles == ["signer"]'
api GET /api/v1/users/admin1 "" "$ro_tok"; expect_jq '.roles == ["system_administrator"]'
api DELETE /api/v1/users/alice "" "$so_tok"; denied
api POST "/api/v1/users/$SO_USER/roles" '{"role":"system_operator"}' "$so_tok"; denied
api DELETE "/api/v1/users/$SO_USER/roles/security_officer" "" "$so_tok"; expect_status 400 403
api DELETE "/api/v1/users/$SO_USER" "" "$so_tok"; expect_status 400 403
api GET /api/v1/me "" "$so_tok"; expect_status 200
expect_jq '.roles == ["security_officer"] and .status == "active"'
ok "security officer: cannot create a signer, grant signer, touch a signer, grant himself a role, remove his own (the last) security officer role or account"

all5="security_officer,system_administrator,system_operator,system_auditor,registration_officer"
create "$so_tok" mallory "$all5"; denied; unchanged
create "$so_tok" mallory "security_officer,system_auditor"; denied; unchanged
# The security officer and the registration officer are exclusive (EN 419 241-1 separation
# of duties): else one officer could register a second identity and grant it what they like.
create "$so_tok" mallory "security_officer,registration_officer"; denied; unchanged
create "$so_tok" mallory "security_officer,system_administrator,system_operator"
expect_status 201
add_secret "$(printf '%s' "$BODY" | jq -r .password)"
count0=$(user_count)
api POST /api/v1/users/mallory/roles '{"role":"system_auditor"}' "$so_tok"; denied
api POST /api/v1/users/mallory/roles '{"role":"registration_officer"}' "$so_tok"; denied
api GET /api/v1/users/mallory "" "$so_tok"
expect_jq '(.roles | index("system_auditor")) == null and (.roles | index("registration_officer")) == null and (.roles | length) == 3'
api POST /api/v1/users/aud1/roles '{"role":"security_officer"}' "$so_tok"; denied
api POST /api/v1/users/admin1/roles '{"role":"system_operator"}' "$so_tok"; expect_status 200
expect_jq '(.roles | sort) == ["system_administrator","system_operator"]'
api POST /api/v1/users/admin1/roles '{"role":"registration_officer"}' "$so_tok"; expect_status 200
api POST /api/v1/users/admin1/roles '{"role":"security_officer"}' "$so_tok"; denied
api DELETE /api/v1/users/admin1/roles/registration_officer "" "$so_tok"; expect_status 200
api POST /api/v1/users/admin1/roles '{"role":"security_officer"}' "$so_tok"; expect_status 200
expect_jq '(.roles | length) == 3'
api POST /api/v1/users/admin1/roles '{"role":"system_auditor"}' "$so_tok"; denied
api GET /api/v1/users/admin1 "" "$so_tok"
expect_jq '(.roles | index("system_auditor")) == null and (.roles | length) == 3'
# admin1 is now a second security officer: the officer may take the role back (not the last one).
api DELETE /api/v1/users/admin1/roles/security_officer "" "$so_tok"; expect_status 200
expect_jq '(.roles | index("security_officer")) == null'
api DELETE /api/v1/users/admin1/roles/system_operator "" "$so_tok"; expect_status 200
expect_jq '.roles == ["system_administrator"]'
api POST /api/v1/users/admin1/roles '{"role":"no_such_role"}' "$so_tok"; expect_refused 400 invalid_request
api POST /api/v1/users/nobody/roles '{"role":"system_operator"}' "$so_tok"; expect_refused 404 not_found
unchanged
ok "separation of duties: no account with all privileged roles, never security officer + auditor; grants and revocations audited below"

# ---- officers' views never contain secrets ----
for who in so_tok ro_tok; do
	api GET /api/v1/users "" "${!who}"
	expect_status 200
	expect_jq '.users | length >= 8'
	printf '%s' "$BODY" >"$T/users.json"
	jq -e '[.. | objects | keys[]] | unique | map(select(test("pass|totp|secret|seed|hash|salt|otp"; "i")))
		| (. - ["must_change_password"]) | length == 0' "$T/users.json" >/dev/null ||
		fail "user list shows secret fields: $(jq -c '[.. | objects | keys[]] | unique' "$T/users.json")"
	grep -q 'argon2' "$T/users.json" && fail "user list contains an argon2 hash"
	check_no_secrets_in "$T/users.json" "GET /api/v1/users"
	api GET /api/v1/users/alice "" "${!who}"
	printf '%s' "$BODY" >"$T/alice.json"
	jq -e '[.. | objects | keys[]] | unique | map(select(test("pass|totp|secret|seed|hash|salt|otp"; "i")))
		| (. - ["must_change_password"]) | length == 0' "$T/alice.json" >/dev/null || fail "user show has secret fields"
	check_no_secrets_in "$T/alice.json" "GET /api/v1/users/alice"
done
printf '%s' "$alice_me" >"$T/me.json"
check_no_secrets_in "$T/me.json" "GET /api/v1/me"
jq -e '[.. | objects | keys[]] | map(select(test("pass|totp|secret|seed|hash|salt|otp"; "i"))) | (. - ["must_change_password"]) | length == 0' \
	"$T/me.json" >/dev/null || fail "/api/v1/me has secret fields"
ok "officers' views and /me contain no password hash, TOTP seed or other secret"

# ---- a lost phone: re-enrolment by the registration officer, with their own fresh code ----
old_secret=$(user_secret alice)
api POST /api/v1/users/alice/reenrol '{"otp": "000000"}' "$ro_tok"; expect_refused 401 authentication_error
api POST /api/v1/users/alice/reenrol "$(otp_json ro1)" "$alice_tok"; denied
api POST /api/v1/users/alice/reenrol "$(otp_json ro1)" "$so_tok"; denied
api POST /api/v1/users/alice/reenrol "$(otp_json ro1)" "$ro_tok"; expect_status 200
expect_jq '(.activation_code | type == "string" and length >= 16) and .enrolment_required == true and .password == null and .totp_secret == null'
code=$(printf '%s' "$BODY" | jq -r .activation_code); add_secret "$code"
api GET /api/v1/me "" "$alice_tok"; expect_refused 401 invalid_token
# the old seed opens nothing any more; the code alone (the officer's) neither: it needs alice's
# own password with it
try_login alice "$(pw_of alice)" "$(totp_code "$old_secret" "$(now_step)")"; expect_refused 401 authentication_error
try_login alice "wrong-$(pw_of alice)" "$code"; expect_refused 401 authentication_error
rm -f "$T/users/alice.secret" "$T/otp/alice"
try_login alice "$(pw_of alice)" "$code"; expect_status 200
expect_jq '.enrolment_required == true and .password_change_required == false'
alice_tok=$(printf '%s' "$BODY" | jq -r .access_token); add_secret "$alice_tok"
enrol alice "$alice_tok"
[ "$(user_secret alice)" != "$old_secret" ] || fail "re-enrolment gave alice the same seed"
api GET /api/v1/me "" "$alice_tok"; expect_status 200
ok "re-enrolment: only the officer for the account with a fresh code; an activation code that needs the holder's own password; the old seed dead, the holder enrols a new one"
# The activation is evident: the SAM's record says when and from where the holder enrolled.
api GET /api/v1/users/alice "" "$ro_tok"; expect_status 200
expect_jq '(.sam.pseudonym | startswith("INKAN-")) and (.sam.activated_at | length == 20)
	and (.sam.activated_from | test("127\\.0\\.0\\.1"))'
mkuser "$ro_tok" zed signer >/dev/null
api GET /api/v1/users/zed "" "$ro_tok"; expect_status 200
expect_jq '(.sam.pseudonym | startswith("INKAN-")) and .sam.activated_at == null'
ok "the SAM's record of a person: pseudonym, and when and from where they activated (none before)"

# ---- deregistration ----
api DELETE /api/v1/users/bob "$(otp_json ro1)" "$ro_tok"
expect_status 204
api GET /api/v1/me "" "$bob_tok"
expect_refused 401 invalid_token
try_login bob "$(pw_of bob)"
expect_refused 401 authentication_error
api GET /api/v1/users/bob "" "$ro_tok"
expect_status 200
expect_jq '.status == "disabled" and .identity_verification.evidence == "file 2026-bob"'
api GET /api/v1/users "" "$so_tok"
expect_jq '.users | any(.username == "bob" and .status == "disabled")'
create "$ro_tok" bob signer "$idv"; expect_refused 409 invalid_request
api GET /api/v1/me "" "$alice_tok"; expect_status 200
ok "deregistered bob: sessions end, login refused, account kept as disabled, name not reusable"

# A privileged account is deregistered by the security officer.
api DELETE /api/v1/users/oper1 "$(otp_json "$SO_USER")" "$so_tok"; expect_status 204
api GET /api/v1/me "" "$oper_tok"; expect_refused 401 invalid_token
api DELETE /api/v1/users/nobody "$(otp_json "$SO_USER")" "$so_tok"; expect_refused 404 not_found

records=$(audit_records "$aud_tok")
printf '%s' "$records" >"$T/audit.json"
jq -e 'any(.[]; .subject == "bob" and .actor == "ro1" and (.action | test("create|add|register"; "i")) and .result == "success")' "$T/audit.json" >/dev/null ||
	fail "audit: bob's registration missing"
jq -e 'any(.[]; .subject == "bob" and .actor == "ro1" and (.action | test("remove|delete|deregister|disable"; "i")) and .result == "success")' "$T/audit.json" >/dev/null ||
	fail "audit: bob's deregistration missing"
jq -e 'any(.[]; (.subject == "bob" or .actor == "bob") and (.action | test("login|auth"; "i")) and .result != "success")' "$T/audit.json" >/dev/null ||
	fail "audit: bob's refused login after deregistration missing"
jq -e 'any(.[]; .subject == "admin1" and (.action | test("role"; "i")) and .result == "success")' "$T/audit.json" >/dev/null ||
	fail "audit: role grants to admin1 missing"
jq -e 'any(.[]; (.action | test("role"; "i")) and .result != "success")' "$T/audit.json" >/dev/null ||
	fail "audit: refused role changes (separation of duties) missing"
jq -e 'any(.[]; .actor == "alice" and .result != "success")' "$T/audit.json" >/dev/null ||
	say "note: alice's refused administrative attempts are not in the audit trail"
check_no_secrets_in "$T/audit.json" "the audit trail"
ok "audit: bob's registration, deregistration and refused login kept; role changes and refusals recorded"

# Nobody can delete or alter audit records: no such method, and the table refuses it.
api DELETE /api/v1/audit "" "$aud_tok"
expect_status 403 404 405
api DELETE /api/v1/audit "" "$so_tok"
expect_status 403 404 405
n_before=$(db 'SELECT count(*) FROM audit_log;')
[ "$n_before" -gt 0 ] || fail "empty audit trail"
if db 'DELETE FROM audit_log WHERE seq = 1;' 2>/dev/null; then fail "audit_log accepts DELETE"; fi
if db "UPDATE audit_log SET result = 'x' WHERE seq = 2;" 2>/dev/null; then fail "audit_log accepts UPDATE"; fi
[ "$(db 'SELECT count(*) FROM audit_log;')" = "$n_before" ] || fail "audit_log lost rows"
ok "the audit trail has no delete API and its table refuses UPDATE and DELETE"
check_no_secrets_in_dbs

finish
