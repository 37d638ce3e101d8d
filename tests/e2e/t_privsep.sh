#!/bin/bash
# t_privsep: inkand started as root with `user` and `sam_user` — inkan-sam runs as its own Unix
# user and inkand as another, neither as root; inkand's user can read neither the master key nor
# the key store nor the SAM's memory; logins and new second factors (made in the SAM) still work;
# every unworkable setting is refused at start.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	say "SKIP: privilege separation needs root to start inkand (CI runs as root)"
	exit 77
fi
DUSER=inkan-e2e
SUSER=inkan-e2e-sam
for u in "$DUSER" "$SUSER"; do
	getent passwd "$u" >/dev/null ||
		useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$u" ||
		fail "cannot create the Unix user $u"
done
DUID=$(id -u "$DUSER")
SUID=$(id -u "$SUSER")
# The test directory is root's 0700; the daemons must pass through it to DATA.
chmod 711 "$T"

# as USER CMD...: run CMD as that Unix user, no supplementary groups.
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }

init_data
fast_argon2

# ---- settings that cannot work are refused at start ----
refused_start() {
	local why=$1 rc=0
	: >"$T/start.log"
	timeout 20 "$INKAND" --data "$DATA" --listen 127.0.0.1:0 >"$T/start.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "inkand started (rc $rc) with $why: $(tail -n 5 "$T/start.log")"
	cat "$T/start.log" >>"$LOG"
}
conf sam_user "$SUSER"
refused_start "sam_user but no user"
grep -q "sam_user needs user" "$T/start.log" || fail "no reason given: $(cat "$T/start.log")"
conf user "$SUSER"
refused_start "user = sam_user"
grep -q "same Unix user" "$T/start.log" || fail "no reason given: $(cat "$T/start.log")"
conf user root
refused_start "user = root"
conf user no-such-user-inkan
refused_start "an unknown user"
grep -q "no such Unix user" "$T/start.log" || fail "no reason given: $(cat "$T/start.log")"
ok "refused at start: sam_user without user, the same user twice, root, an unknown user"

conf user "$DUSER"
start_inkand
SAM_PID=$(pgrep -P "$INKAND_PID" -x inkan-sam || true)
[ -n "$SAM_PID" ] || fail "no inkan-sam child of inkand $INKAND_PID"
[ "$(ps -o uid= -p "$INKAND_PID" | tr -d ' ')" = "$DUID" ] || fail "inkand does not run as $DUSER"
[ "$(ps -o uid= -p "$SAM_PID" | tr -d ' ')" = "$SUID" ] || fail "inkan-sam does not run as $SUSER"
grep -E '^(Uid|Gid):' "/proc/$INKAND_PID/status" | awk '{ if ($2 != $3 || $3 != $4 || $4 != $5) exit 1 }' ||
	fail "inkand kept another real/saved/fs id: $(grep -E '^(Uid|Gid):' "/proc/$INKAND_PID/status")"
[ "$(awk '/^Groups:/ { print NF - 1 }' "/proc/$INKAND_PID/status")" = 0 ] || fail "inkand kept supplementary groups"
ok "inkand runs as $DUSER (uid $DUID), inkan-sam as $SUSER (uid $SUID); no id or group of root kept"

[ "$(stat -c %U "$DATA/sam/master.key")" = "$SUSER" ] || fail "master.key not handed to $SUSER"
[ "$(stat -c %a "$DATA/sam")" = 700 ] || fail "DATA/sam mode $(stat -c %a "$DATA/sam")"
[ "$(stat -c %U "$DATA/inkan.db")" = "$DUSER" ] || fail "inkan.db not handed to $DUSER"
[ "$(stat -c '%U %a' "$DATA/inkan.conf")" = "root 644" ] || fail "inkan.conf is $(stat -c '%U %a' "$DATA/inkan.conf")"
as "$DUSER" cat "$DATA/sam/master.key" >/dev/null 2>&1 && fail "inkand's user reads the master key"
as "$DUSER" ls "$DATA/sam" >/dev/null 2>&1 && fail "inkand's user lists DATA/sam"
as "$DUSER" sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT 1" >/dev/null 2>&1 &&
	fail "inkand's user opens the key store"
as "$DUSER" cat "/proc/$SAM_PID/environ" >/dev/null 2>&1 && fail "inkand's user reads the SAM's /proc"
as "$DUSER" kill -0 "$SAM_PID" 2>/dev/null && fail "inkand's user may signal the SAM"
as "$DUSER" sh -c "printf x >>'$DATA/inkan.conf'" 2>/dev/null && fail "inkand's user can change the configuration"
[ "$(stat -c '%U %a' "$DATA/ca/audit-log.pem")" = "$SUSER 644" ] ||
	fail "the audit log key is $(stat -c '%U %a' "$DATA/ca/audit-log.pem") (want $SUSER 644)"
as "$DUSER" sh -c "printf x >>'$DATA/ca/audit-log.pem'" 2>/dev/null && fail "inkand's user can change the published audit log key"
as "$DUSER" sh -c "printf x >'$DATA/ca/evil.pem'" 2>/dev/null && fail "inkand's user can publish into DATA/ca"
as "$SUSER" cat "$DATA/inkan.db" >/dev/null 2>&1 && fail "the SAM's user reads the accounts database"
as "$SUSER" ls "$DATA" >/dev/null 2>&1 && fail "the SAM's user lists DATA"
ok "inkand's user cannot read DATA/sam, open the key store, read the SAM's /proc or signal it, change inkan.conf or what the SAM publishes in DATA/ca"

# The SAM works: login checks the TOTP code in the SAM, a new account gets a seed made there.
so_tok=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro_tok=$(mkactive "$so_tok" ro1 registration_officer)
api GET /api/v1/me "" "$ro_tok"
expect_status 200
aud_tok=$(mkactive "$so_tok" aud1 system_auditor)
printf '%s' "$aud_tok" >"$T/aud.token"
"$INKAN_CLI" --server "$URL" --cacert "$CACERT" --token-file "$T/aud.token" audit verify >"$T/verify.out" 2>&1 ||
	fail "inkan audit verify under privilege separation: $(cat "$T/verify.out")"
ok "logins, new TOTP seeds and signed audit checkpoints (all in inkan-sam) work across the separation"

# A restart finds everything already handed over.
stop_inkand
[ "$INKAND_RC" = 0 ] || fail "inkand exit status $INKAND_RC after SIGTERM"

# What a compromised inkand (its user owns DATA) could leave for root's next start: a link to a
# system file, a hard link, a key store of its own in place of DATA/sam. Links are never
# followed or handed over; the others stop the start, and nothing outside DATA changes.
as "$DUSER" ln -s /etc/passwd "$DATA/evil-link"
as "$DUSER" ln -s /etc "$DATA/evil-dir"
ln /etc/hostname "$DATA/evil-hard"
refused_start "a hard link in DATA"
grep -q "links: refusing" "$T/start.log" || fail "no reason given: $(cat "$T/start.log")"
rm -f "$DATA/evil-hard"
mv "$DATA/sam" "$T/sam.real"
as "$DUSER" mkdir "$DATA/sam"
refused_start "a DATA/sam made by inkand's user"
grep -q "neither root nor sam_user" "$T/start.log" || fail "no reason given: $(cat "$T/start.log")"
rmdir "$DATA/sam"
mv "$T/sam.real" "$DATA/sam"
[ "$(stat -c %U /etc/passwd)" = root ] && [ "$(stat -c %U /etc/hostname)" = root ] &&
	[ "$(stat -c %U /etc)" = root ] || fail "a file outside DATA changed owner"
ok "restart as root: links in DATA not followed, a hard link or a planted DATA/sam refused"
start_inkand
[ "$(stat -c %U /etc/passwd)" = root ] && [ "$(stat -c %a /etc/passwd)" = 644 ] ||
	fail "/etc/passwd changed: $(stat -c '%U %a' /etc/passwd)"
rm -f "$DATA/evil-link" "$DATA/evil-dir"
api GET /api/v1/me "" "$(login ro1 "$(pw_of ro1)")"
expect_status 200
ok "restart: same separation, same data"
finish
