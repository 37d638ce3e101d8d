#!/bin/bash
# t_badinput: malformed and hostile input answered cleanly with the CSC error form, the
# server staying up, and nothing stored on refusal.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

so_tok=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro_tok=$(mkactive "$so_tok" ro1 registration_officer)
n0=$(user_count)
[ "$n0" = 2 ] || fail "expected 2 rows in users, found $n0"
state0=$(db_state)
say "database: $state0"

# refused CODE STATUS...: the request was refused with that code, and no user row was added.
refused() {
	local code=$1
	shift
	expect_status "$@"
	expect_error "$code"
	local n st
	n=$(user_count)
	[ "$n" = "$n0" ] || fail "users table changed after a refused request: $n0 -> $n rows"
	st=$(db_state)
	[ "$st" = "$state0" ] || fail "database changed after a refused request: [$state0] -> [$st]"
}
post_users() { # raw body, as ro1
	http POST /api/v1/users -H "Authorization: Bearer $ro_tok" -H 'Content-Type: application/json' --data-binary "$1"
}

# ---- not JSON, wrong JSON ----
post_users 'this is not json';                       refused invalid_request 400
post_users '';                                       refused invalid_request 400
post_users '{"username": "x1", "roles": ["signer"]'; refused invalid_request 400
post_users '{"username": "x1", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b"} trailing'; refused invalid_request 400
post_users '[{"username": "x1", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b"}]'; refused invalid_request 400
post_users '"just a string"';                        refused invalid_request 400
post_users 'null';                                   refused invalid_request 400
post_users '{"username": "x1", "roles": "signer", "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"username": 42, "roles": ["signer"], "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"username": "x1", "roles": [1], "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"username": "x1", "roles": ["signer"], "idv_method": true, "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"username": "x1", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "display_name": {"a": 1}}'; refused invalid_request 400
post_users '{"username": "x1", "roles": [], "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"username": "x1", "roles": ["root"], "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"roles": ["signer"], "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users '{"username": "x\u0000y", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b"}'; refused invalid_request 400
post_users "{\"username\": \"x1\", \"roles\": [\"signer\"], \"idv_method\": \"a\", \"idv_evidence\": \"$(printf '\xff\xfe')\"}"; refused invalid_request 400
post_users "$(printf '%.0s[' $(seq 1 20000))";      refused invalid_request 400
ok "non-JSON, truncated JSON, trailing garbage, array/string/null bodies, wrong types, NUL, bad UTF-8, deep nesting -> 400; nothing stored"

http POST /csc/v2/auth/login -H "Authorization: Basic $(basic ro1 "$(pw_of ro1)")" -H 'Content-Type: application/json' \
	--data-binary '{"otp": 123456}'
expect_refused 400 invalid_request
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic ro1 "$(pw_of ro1)")" -H 'Content-Type: application/json' \
	--data-binary '["123456"]'
expect_refused 400 invalid_request
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic ro1 "$(pw_of ro1)")" -H 'Content-Type: application/json' \
	--data-binary 'otp=123456'
expect_refused 400 invalid_request
api POST /csc/v2/auth/revoke '{"token": 5}' "$ro_tok"
expect_refused 400 invalid_request
api POST /api/v1/users/ro1/roles '{"role": ["system_operator"]}' "$so_tok"
expect_refused 400 invalid_request
api GET /api/v1/me "" "$ro_tok"
expect_status 200
ok "login/revoke/roles with wrong types -> 400 (and ro1's token still valid: revoke with a bad body revoked nothing)"

# Unknown fields are ignored (api.md).
post_users '{"username": "u-extra", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "idv_document_type": "passport", "idv_document_number": "N-extra", "unknown_field": [1, {"x": null}]}'
expect_status 201
add_secret "$(printf '%s' "$BODY" | jq -r .password)"
n0=$(user_count); state0=$(db_state)
ok "unknown fields ignored"

# ---- oversized bodies ----
head -c $((10 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$T/big"
{ printf '{"username": "big", "roles": ["signer"], "idv_method": "a", "idv_evidence": "'; cat "$T/big"; printf '"}'; } >"$T/big.json"
http POST /api/v1/users -H "Authorization: Bearer $ro_tok" -H 'Content-Type: application/json' --data-binary "@$T/big.json"
refused invalid_request 413
http POST /csc/v2/auth/login -H "Authorization: Basic $(basic ro1 x)" -H 'Content-Type: application/json' --data-binary "@$T/big.json"
expect_refused 413 invalid_request
http POST /api/v1/users -H 'Content-Type: application/json' --data-binary "@$T/big.json"
expect_status 401 413
http POST /api/v1/users -H "Authorization: Bearer $ro_tok" -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$T/big.json"
refused invalid_request 413
health_ok
# Just above the default 1 MiB cap is refused, just below is parsed.
{ printf '{"username": "big", "roles": ["signer"], "idv_method": "a", "idv_evidence": "'; head -c $((1024 * 1024)) "$T/big"; printf '"}'; } >"$T/big1.json"
http POST /api/v1/users -H "Authorization: Bearer $ro_tok" -H 'Content-Type: application/json' --data-binary "@$T/big1.json"
refused invalid_request 413
{ printf '{"username": "x1", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "idv_document_type": "passport", "idv_document_number": "N-big2", "pad": "'; head -c $((1024 * 1024 - 200)) "$T/big"; printf '"}'; } >"$T/big2.json"
http POST /api/v1/users -H "Authorization: Bearer $ro_tok" -H 'Content-Type: application/json' --data-binary "@$T/big2.json"
expect_status 201
add_secret "$(printf '%s' "$BODY" | jq -r .password)"
n0=$(user_count); state0=$(db_state)
ok "10 MiB bodies (with length, chunked, unauthenticated) -> 413; 1 MiB+ -> 413; just under 1 MiB accepted; server alive"

# ---- unknown paths, wrong methods ----
for p in /nope /api/v1/nope /csc/v2/nope /csc/v3/info /api/v1/users/ro1/nope /api/v1/users/nobody /api/v1 /csc/v2/ "/health/x"; do
	api GET "$p" "" "$so_tok"
	expect_refused 404 not_found
done
for p in "/api/v1/users/..%2f..%2fetc%2fpasswd" "/api/v1/users/%00" "/api/v1/users/a%0d%0aX-Injected:%201"; do
	api GET "$p" "" "$so_tok"
	expect_status 400 404
	case "$STATUS" in 400) expect_error invalid_request ;; 404) expect_error not_found ;; esac
	[ -z "$(header X-Injected)" ] || fail "header injection through the path"
done
http GET /../../etc/passwd --path-as-is -H "Authorization: Bearer $so_tok"
expect_status 400 404
grep -q 'root:' "$T/body" && fail "path traversal served /etc/passwd"
http GET "/api/v1/users/$(printf 'a%.0s' $(seq 1 5000))" -H "Authorization: Bearer $so_tok"
expect_status 400 404 414 431
ok "unknown paths -> 404 not_found"

wrong_method() { # METHOD PATH
	api "$1" "$2" "" "$so_tok"
	expect_refused 405 invalid_request
	[ -n "$(header Allow)" ] || fail "405 for $1 $2 without an Allow header"
}
wrong_method DELETE /csc/v2/info
wrong_method PUT /csc/v2/info
wrong_method GET /csc/v2/auth/login
wrong_method GET /csc/v2/auth/revoke
wrong_method PUT /api/v1/users
wrong_method PATCH /api/v1/users/ro1
wrong_method GET /api/v1/passwd
wrong_method POST /api/v1/me
wrong_method POST /health
wrong_method GET /api/v1/users/ro1/unlock
header Allow | grep -q POST || fail "Allow header for /unlock does not list POST: $(header Allow)"
ok "wrong methods -> 405 invalid_request with Allow"

# ---- broken TLS ----
port=${ADDR##*:}
# The server may drop these connections at any moment: a write then fails (EPIPE) and must not
# kill the test shell with SIGPIPE.
trap '' PIPE
# A partial ClientHello, then close.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x01\x02\x03' >&3 2>/dev/null || true
exec 3>&-
# Plain HTTP on the TLS port, garbage, an empty connection.
exec 3<>"/dev/tcp/127.0.0.1/$port"; printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' >&3 2>/dev/null || true; timeout 5 cat <&3 >/dev/null 2>&1 || true; exec 3>&-
exec 3<>"/dev/tcp/127.0.0.1/$port"; head -c 4096 /dev/urandom >&3 2>/dev/null || true; exec 3>&-
exec 3<>"/dev/tcp/127.0.0.1/$port"; exec 3>&-
health_ok
# Several half-open handshakes held open while a real client is served.
for fd in 4 5 6 7 8 9; do
	eval "exec $fd<>/dev/tcp/127.0.0.1/$port"
	eval "printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' >&$fd" 2>/dev/null || true
done
t0=$(date +%s)
health_ok
api GET /api/v1/me "" "$so_tok"; expect_status 200
[ $(( $(date +%s) - t0 )) -le 10 ] || fail "the server took over 10 s to answer while handshakes were half-open"
for fd in 4 5 6 7 8 9; do eval "exec $fd>&-"; done
# A TLS session cut in the middle of a request.
( printf 'POST /api/v1/users HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nAuthorization: Bearer %s\r\n\r\n{"username": "half' "$ADDR" "$ro_tok"; sleep 1 ) |
	timeout 3 openssl s_client -quiet -connect "$ADDR" -CAfile "$CACERT" >/dev/null 2>&1 || true
health_ok
[ "$(user_count)" = "$n0" ] || fail "a request cut mid-body stored something"
# Old protocol versions are refused.
if openssl s_client -help 2>&1 | grep -q -- '-tls1_1'; then
	if echo | timeout 5 openssl s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -connect "$ADDR" -CAfile "$CACERT" 2>/dev/null | grep -q 'Cipher is [A-Z]'; then
		fail "the server accepts TLS 1.1"
	fi
fi
trap - PIPE
kill -0 "$INKAND_PID" || fail "inkand died"
ok "truncated ClientHello, plain HTTP, garbage, half-open handshakes, request cut mid-body: server still answers"

# ---- Basic header with no colon ----
for h in "Basic $(printf 'ro1' | base64 -w0)" "Basic $(printf 'ro1' | base64 -w0)===" "Basic %%%%" "Basic" \
	"Basic $(head -c 20000 /dev/zero | tr '\0' 'A')"; do
	http POST /csc/v2/auth/login -H "Authorization: $h" -H 'Content-Type: application/json' --data-binary '{"otp": "123456"}'
	expect_status 400 401 431
	[ "$STATUS" = 431 ] || printf '%s' "$BODY" | jq -e '.error == "invalid_request" or .error == "authentication_error"' >/dev/null ||
		fail "bad Basic header '$h': wrong error $BODY"
done
ok "Basic header without a colon, not base64, empty, huge -> refused cleanly"

# ---- SQL metacharacters in usernames ----
for u in "a'; DROP TABLE users;--" "x' OR '1'='1" 'bob"--' "robert'); DELETE FROM users; --" "a;b" "a b" "a%" "a*" "\\" "-dash" ".dot" "" \
	"$(printf 'a%.0s' $(seq 1 65))" "ユーザー" "a/b" "a:b" "a\tb"; do
	post_users "$(jq -nc --arg u "$u" '{username: $u, roles: ["signer"], idv_method: "a", idv_evidence: "b"}')"
	refused invalid_request 400
done
db "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'users';" | grep -qx users || fail "users table gone"
ok "usernames with SQL metacharacters, spaces, leading - or ., too long, non-ASCII -> 400; nothing stored"

# Allowed characters that are SQL-meaningful are stored verbatim.
for u in "x@y--" "a.b_c-d@e" "$(printf 'z%.0s' $(seq 1 64))"; do
	post_users "$(jq -nc --arg u "$u" '{username: $u, roles: ["signer"], idv_method: "a'"'"'); DROP TABLE users; --", idv_evidence: "b\" OR 1=1", idv_document_type: "passport", idv_document_number: ("N-" + $u)}')"
	expect_status 201
	add_secret "$(printf '%s' "$BODY" | jq -r .password)"
	n0=$((n0 + 1))
	[ "$(user_count)" = "$n0" ] || fail "user count not $n0 after creating $u"
	state0=$(db_state)
	[ "$(db "SELECT count(*) FROM users WHERE username = '$u';")" = 1 ] || fail "$u not stored verbatim"
	api GET "/api/v1/users/$u" "" "$ro_tok"
	expect_status 200
	expect_jq --arg u "$u" '.username == $u and .identity_verification.method == "a'"'"'); DROP TABLE users; --" and .identity_verification.evidence == "b\" OR 1=1"'
done
ok "usernames x@y--, a.b_c-d@e, 64 chars stored verbatim; SQL in idv fields stored verbatim"

try_login "x' OR '1'='1" "' OR '1'='1" "123456"
expect_refused 401 authentication_error
try_login "ro1' --" "anything" "123456"
expect_refused 401 authentication_error
api GET "/api/v1/users/x'%20OR%20'1'='1" "" "$ro_tok"
expect_status 400 404
ok "SQL injection through login and user lookup refused"

# ---- duplicates ----
post_users '{"username": "ro1", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "idv_document_type": "passport", "idv_document_number": "N-dup0"}'; refused invalid_request 409
post_users '{"username": "x@y--", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "idv_document_type": "passport", "idv_document_number": "N-dup1"}'; refused invalid_request 409
post_users '{"username": "RO1", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "idv_document_type": "passport", "idv_document_number": "N-dup2"}'; refused invalid_request 409
post_users '{"username": "X@Y--", "roles": ["signer"], "idv_method": "a", "idv_evidence": "b", "idv_document_type": "passport", "idv_document_number": "N-dup3"}'; refused invalid_request 409
api POST /api/v1/users "$(jq -nc --arg u "$SO_USER" '{username: $u, roles: ["system_operator"]}')" "$so_tok"; refused invalid_request 409
ok "duplicate usernames, in any case (RO1 = ro1) -> 409; nothing stored"

health_ok
check_no_secrets_in_dbs
finish
