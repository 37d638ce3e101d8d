#!/bin/bash
# t_sam: the signature activation module is a separate process that alone holds the key store
# and master key; when it dies the server says so (503) and does not restart it silently.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2

# ---- files made by init ----
for f in sam/master.key sam/keystore.db; do
	[ -f "$DATA/$f" ] || fail "inkan init made no $DATA/$f"
	mode=$(stat -c %a "$DATA/$f")
	[ "$mode" = 600 ] || fail "$f has mode $mode, want 600"
done
dmode=$(stat -c %a "$DATA/sam")
case "$dmode" in 700|750|711|710) ;; *) fail "$DATA/sam has mode $dmode: others may enter it" ;; esac
mode=$(stat -c %a "$DATA/inkand/inkan.db")
[ $((8#$mode & 8#007)) = 0 ] || fail "inkan.db is accessible to others (mode $mode)"
ok "master.key and keystore.db are 0600, sam/ closed to others, inkan.db not world-readable"

start_inkand
health_ok
expect_jq '.sam == "ok"'

sam=$(sam_pid)
[ -n "$sam" ] || fail "inkand ($INKAND_PID) has no inkan-sam child: $(children_of "$INKAND_PID" | tr '\n' ' ')"
say "inkan-sam pid $sam"
[ "$sam" != "$INKAND_PID" ] || fail "SAM is not a separate process"

fds() { # PID: the targets of its open file descriptors
	local f
	for f in /proc/"$1"/fd/*; do readlink "$f" 2>/dev/null || true; done
}
fds "$INKAND_PID" >"$T/inkand.fds"
fds "$sam" >"$T/sam.fds"
if grep -E 'keystore\.db|master\.key' "$T/inkand.fds"; then
	fail "inkand itself has the key store or master key open"
fi
grep -qE '/sam/keystore\.db$' "$T/sam.fds" || fail "inkan-sam does not hold the key store open: $(tr '\n' ' ' <"$T/sam.fds")"
grep -qE '/inkan\.db$' "$T/inkand.fds" || say "note: inkand has no open fd on inkan.db"
ok "inkand has no fd on keystore.db/master.key; inkan-sam holds keystore.db"

# The master key must not be readable through inkand's memory either: it never loaded it.
key_hex=$(od -An -tx1 -v "$DATA/sam/master.key" | tr -d ' \n' | head -c 64)
if ! LC_ALL=C grep -q '[^[:print:][:space:]]' "$DATA/sam/master.key"; then
	key_text=$(tr -d ' \n\r' <"$DATA/sam/master.key")
	[ "${#key_text}" -lt 16 ] || add_secret "$key_text"
fi
if [ -r "/proc/$INKAND_PID/maps" ] && grep -q "master\.key" "/proc/$INKAND_PID/maps"; then
	fail "master.key is mapped into inkand"
fi

# A working login before the SAM goes away (TOTP is checked by the SAM).
so_pw=$(newpw)
so_tok=$(first_login "$SO_USER" "$SO_PW" "$so_pw")
api GET /api/v1/me "" "$so_tok"; expect_status 200

# ---- kill the SAM ----
kill -KILL "$sam"
for i in $(seq 1 50); do alive "$sam" || break; sleep 0.1; done
for i in $(seq 1 50); do
	api GET /health
	[ "$STATUS" = 503 ] && break
	sleep 0.1
done
expect_refused 503 temporarily_unavailable
ok "/health -> 503 temporarily_unavailable once inkan-sam is dead"

for i in $(seq 1 50); do
	grep -iE 'sam' "$LOG" | grep -qiE 'died|dead|exit|killed|signal|terminat|lost|gone|down|unavailable' && break
	sleep 0.1
done
grep -iE 'sam' "$LOG" | grep -qiE 'died|dead|exit|killed|signal|terminat|lost|gone|down|unavailable' ||
	fail "the server log does not say that inkan-sam died"
ok "the server log records the SAM's death"

try_login "$SO_USER" "$so_pw"
expect_refused 503 temporarily_unavailable
# More refusals than max_login_failures (default 5): the server's fault must not lock the account.
for i in 1 2 3 4 5 6; do
	try_login "$SO_USER" "$so_pw" "$(otp_wrong "$SO_SECRET")"
	expect_refused 503 temporarily_unavailable
done
ok "login (needs the SAM) -> 503 temporarily_unavailable"

sleep 3
kill -0 "$INKAND_PID" || fail "inkand exited when the SAM died"
new_sam=$(sam_pid)
[ -z "$new_sam" ] || fail "inkand restarted inkan-sam silently (new pid $new_sam)"
api GET /health
expect_refused 503 temporarily_unavailable
ok "inkand keeps running and does not restart the SAM silently"

stop_inkand

# ---- restart: a new SAM; killing inkand takes the SAM down with it ----
start_inkand
health_ok
sam=$(sam_pid)
[ -n "$sam" ] || fail "no inkan-sam after restart"
so_tok=$(login "$SO_USER" "$so_pw")
api GET /api/v1/me "" "$so_tok"
expect_status 200
expect_jq '.status == "active" and .failed_logins == 0'
ok "after a restart the SAM is back, and the officer logs in (7 refusals during the outage did not lock the account)"

kill -KILL "$INKAND_PID"
wait "$INKAND_PID" 2>/dev/null || true
INKAND_PID=""
for i in $(seq 1 50); do alive "$sam" || break; sleep 0.1; done
if alive "$sam"; then
	kill -KILL "$sam" 2>/dev/null || true
	fail "inkan-sam outlived inkand by 5 s (orphan holding the key store)"
fi
ok "inkan-sam exits when inkand dies"

# The master key never appears in the log.
printf '%s\n' "$key_hex" >>"$SECRETS"
finish
