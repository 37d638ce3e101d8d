#!/bin/bash
# t_privsep: inkand started as root with `user` and `sam_user` — inkan-sam runs as its own Unix
# user and inkand as another, neither as root; inkand's user can read neither the master key nor
# the key store nor the SAM's memory, and can change nothing the SAM reads: DATA itself,
# DATA/inkan.conf, DATA/sam and DATA/ca are root's or the SAM's, and inkand writes only in
# DATA/inkand. inkan-sam refuses a configuration or data directory another user could change,
# and loads a PKCS#11 module only if it and every directory above it are root's alone. An
# old-layout data directory moves into the new layout at start (with and without the
# separation, also after an interruption). Logins and new second factors (made in the SAM)
# still work; every unworkable setting is refused at start.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	say "SKIP: privilege separation needs root to start inkand (CI runs as root)"
	exit 77
fi
# The test directory is root's 0700; the daemons must pass through it to DATA.
privsep_users

# as USER CMD...: run CMD as that Unix user, no supplementary groups.
as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }

# refused_start WHY [INKAND ARGS...]: inkand must stop at start (not time out); its output is
# in $T/start.log.
refused_start() {
	local why=$1 rc=0
	shift
	: >"$T/start.log"
	timeout 20 "$INKAND" --data "$DATA" --listen 127.0.0.1:0 "$@" >"$T/start.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "inkand started (rc $rc) with $why: $(tail -n 5 "$T/start.log")"
	cat "$T/start.log" >>"$LOG"
}
# said REGEX: the last refused start gave this reason.
said() { grep -qE -- "$1" "$T/start.log" || fail "no reason given (want /$1/): $(tail -n 5 "$T/start.log")"; }

# log_mark, since_mark: the inkand log written since the mark.
log_mark() { MARK=$(wc -l <"$LOG"); }
since_mark() { tail -n +"$((MARK + 1))" "$LOG"; }

# old_layout [OWNER]: the data directory as the previous layout left it — inkand's files at
# DATA's top, no DATA/inkand, no links, a stale address file; with OWNER as its privilege
# separation left it: DATA (0711) and inkand's files OWNER's.
old_layout() {
	rm -f "$DATA/tls" "$DATA/inkand.addr"
	mv "$DATA/inkand/"* "$DATA/"
	rmdir "$DATA/inkand"
	printf '127.0.0.1:1\n' >"$DATA/inkand.addr"
	if [ -n "${1:-}" ]; then
		chown "$1:$1" "$DATA" "$DATA/inkand.addr"
		chmod 711 "$DATA"
		chown -R "$1:$1" "$DATA/tls" "$DATA/inkan.db"*
	fi
	[ -f "$DATA/inkan.db" ] && [ -f "$DATA/tls/cert.pem" ] && [ ! -e "$DATA/inkand" ] ||
		fail "the old layout was not rebuilt: $(ls -la "$DATA")"
}

# new_layout OWNER: inkand's files in DATA/inkand (OWNER's; its address file once it has
# run), the links in place, nothing left at DATA's top.
new_layout() {
	local f l
	for f in inkan.db tls/cert.pem tls/key.pem ${INKAND_PID:+inkand.addr}; do
		[ -f "$DATA/inkand/$f" ] || fail "no DATA/inkand/$f"
		[ "$(stat -c %U "$DATA/inkand/$f")" = "$1" ] || fail "DATA/inkand/$f is $(stat -c %U "$DATA/inkand/$f")'s, not $1's"
	done
	[ ! -e "$DATA/inkan.db" ] && [ ! -e "$DATA/inkan.db-wal" ] || fail "inkan.db left at DATA's top: $(ls -la "$DATA")"
	for l in tls inkand.addr; do
		[ -L "$DATA/$l" ] && [ "$(readlink "$DATA/$l")" = "inkand/$l" ] ||
			fail "DATA/$l is not a link to inkand/$l: $(ls -la "$DATA")"
	done
}

init_data
fast_argon2

# ---- without the separation: an old-layout data directory is moved into the new one ----
new_layout root
[ "$(stat -c %a "$DATA/inkand")" = 700 ] || fail "DATA/inkand mode $(stat -c %a "$DATA/inkand")"
old_layout
n_users=$(sqlite3 "$DATA/inkan.db" 'SELECT count(*) FROM users;')
log_mark
start_inkand
health_ok
expect_jq '.sam == "ok"'
new_layout root
since_mark | grep -q 'moved DATA/inkan.db to DATA/inkand/inkan.db' || fail "the move of inkan.db was not logged"
[ "$(user_count)" = "$n_users" ] || fail "the accounts did not move with inkan.db"
[ "$(stat -c '%U %a' "$DATA")" = "root 700" ] || fail "without the separation DATA changed: $(stat -c '%U %a' "$DATA")"
stop_inkand
ok "without privilege separation an old-layout DATA moves into DATA/inkand at start; DATA/tls and DATA/inkand.addr link there"

# ---- settings that cannot work are refused at start ----
conf sam_user "$SUSER"
refused_start "sam_user but no user"
said "sam_user needs user"
conf user "$SUSER"
refused_start "user = sam_user"
said "same Unix user"
conf user root
refused_start "user = root"
conf user no-such-user-inkan
refused_start "an unknown user"
said "no such Unix user"
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

# ---- the layout: DATA and what the SAM reads are root's or sam_user's; inkand's files its own ----
[ "$(stat -c '%U %a' "$DATA")" = "root 711" ] || fail "DATA is $(stat -c '%U %a' "$DATA"), want root 711"
[ "$(stat -c '%U %a' "$DATA/inkand")" = "$DUSER 700" ] || fail "DATA/inkand is $(stat -c '%U %a' "$DATA/inkand")"
new_layout "$DUSER"
[ "$(stat -c %U "$DATA/tls")" = root ] && [ "$(stat -c %U "$DATA/inkand.addr")" = root ] ||
	fail "the links in DATA are not root's"
[ "$(stat -c %U "$DATA/sam/master.key")" = "$SUSER" ] || fail "master.key not handed to $SUSER"
[ "$(stat -c %a "$DATA/sam")" = 700 ] || fail "DATA/sam mode $(stat -c %a "$DATA/sam")"
[ "$(stat -c '%U %a' "$DATA/inkan.conf")" = "root 644" ] || fail "inkan.conf is $(stat -c '%U %a' "$DATA/inkan.conf")"
as "$DUSER" cat "$DATA/sam/master.key" >/dev/null 2>&1 && fail "inkand's user reads the master key"
as "$DUSER" ls "$DATA/sam" >/dev/null 2>&1 && fail "inkand's user lists DATA/sam"
as "$DUSER" sqlite3 "file:$DATA/sam/keystore.db?mode=ro" "SELECT 1" >/dev/null 2>&1 &&
	fail "inkand's user opens the key store"
as "$DUSER" cat "/proc/$SAM_PID/environ" >/dev/null 2>&1 && fail "inkand's user reads the SAM's /proc"
as "$DUSER" kill -0 "$SAM_PID" 2>/dev/null && fail "inkand's user may signal the SAM"
[ "$(stat -c '%U %a' "$DATA/ca/audit-log.pem")" = "$SUSER 644" ] ||
	fail "the audit log key is $(stat -c '%U %a' "$DATA/ca/audit-log.pem") (want $SUSER 644)"
as "$SUSER" cat "$DATA/inkand/inkan.db" >/dev/null 2>&1 && fail "the SAM's user reads the accounts database"
as "$SUSER" ls "$DATA" >/dev/null 2>&1 && fail "the SAM's user lists DATA"
ok "inkand's user cannot read DATA/sam, open the key store, read the SAM's /proc or signal it"

# What a compromised inkand (code execution as its user) tries against what the SAM reads at
# its next start. The same helper first writes in inkand's own directory: each refusal below is
# one of permissions, not of the helper.
as "$DUSER" sh -c "printf x >'$DATA/inkand/probe'" || fail "inkand's user cannot write in DATA/inkand: the checks below would prove nothing"
as "$DUSER" sh -c "printf 'key_backend = pkcs11\npkcs11_pin_file = master.key\n' >'$DATA/inkand/evil.conf'"
conf_sum=$(sha256sum <"$DATA/inkan.conf")
ca_sum=$(cat "$DATA/ca/"* | sha256sum)
cant() { local what=$1; shift; if as "$DUSER" "$@" >/dev/null 2>&1; then fail "inkand's user can $what"; fi; }
cant "rename DATA/inkan.conf" mv "$DATA/inkan.conf" "$DATA/inkan.conf.old"
cant "move DATA/inkan.conf into its own directory" mv "$DATA/inkan.conf" "$DATA/inkand/inkan.conf"
cant "replace DATA/inkan.conf by a file of its own" mv -f "$DATA/inkand/evil.conf" "$DATA/inkan.conf"
cant "replace DATA/inkan.conf by a link" ln -sfn "$DATA/inkand/evil.conf" "$DATA/inkan.conf"
cant "overwrite DATA/inkan.conf" cp "$DATA/inkand/evil.conf" "$DATA/inkan.conf"
cant "append to DATA/inkan.conf" sh -c "printf 'key_backend = pkcs11\n' >>'$DATA/inkan.conf'"
cant "truncate DATA/inkan.conf" truncate -s 0 "$DATA/inkan.conf"
cant "chmod DATA/inkan.conf" chmod 666 "$DATA/inkan.conf"
cant "remove DATA/inkan.conf" rm -f "$DATA/inkan.conf"
cant "create a file in DATA" sh -c "printf x >'$DATA/new'"
cant "create a directory in DATA" mkdir "$DATA/new.d"
cant "chmod DATA" chmod 777 "$DATA"
cant "re-point the link DATA/tls" ln -sfn /etc "$DATA/tls"
cant "rename DATA/sam" mv "$DATA/sam" "$DATA/inkand/sam"
cant "rename DATA/ca" mv "$DATA/ca" "$DATA/ca.old"
cant "rename its own DATA/inkand" mv "$DATA/inkand" "$DATA/inkand.old"
cant "create a file in DATA/sam" sh -c "printf x >'$DATA/sam/new'"
cant "create a file in DATA/ca" sh -c "printf x >'$DATA/ca/new.pem'"
cant "append to the published audit log key" sh -c "printf x >>'$DATA/ca/audit-log.pem'"
cant "replace the published CA chain" mv -f "$DATA/inkand/evil.conf" "$DATA/ca/chain.pem"
[ "$(sha256sum <"$DATA/inkan.conf")" = "$conf_sum" ] || fail "DATA/inkan.conf changed"
[ "$(cat "$DATA/ca/"* | sha256sum)" = "$ca_sum" ] || fail "DATA/ca changed"
[ -d "$DATA/sam" ] && [ -d "$DATA/ca" ] && [ -d "$DATA/inkand" ] && [ ! -e "$DATA/new" ] &&
	[ ! -e "$DATA/new.d" ] && [ "$(readlink "$DATA/tls")" = inkand/tls ] || fail "DATA changed: $(ls -la "$DATA")"
rm -f "$DATA/inkand/probe" "$DATA/inkand/evil.conf"
ok "inkand's user cannot rename, replace, edit or remove DATA/inkan.conf, nor write into DATA, DATA/sam or DATA/ca"

# The SAM works: login checks the TOTP code in the SAM, a new account gets a seed made there.
so_tok=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro_tok=$(mkactive "$so_tok" ro1 registration_officer)
api GET /api/v1/me "" "$ro_tok"
expect_status 200
aud_tok=$(mkactive "$so_tok" aud1 system_auditor)
printf '%s' "$aud_tok" >"$T/aud.token"
"$INKAN_CLI" --server "$URL" --cacert "$CACERT" --token-file "$T/aud.token" audit verify --key "$DATA/ca/audit-log.pem" >"$T/verify.out" 2>&1 ||
	fail "inkan audit verify under privilege separation: $(cat "$T/verify.out")"
ok "logins, new TOTP seeds and signed audit checkpoints (all in inkan-sam) work across the separation"

# A restart finds everything already handed over.
stop_inkand
[ "$INKAND_RC" = 0 ] || fail "inkand exit status $INKAND_RC after SIGTERM"

# What a compromised inkand could leave in its own directory for root's next start: a link to
# a system file, a hard link. Links are never followed or handed over; a hard link stops the
# start, and nothing outside DATA changes.
as "$DUSER" ln -s /etc/passwd "$DATA/inkand/evil-link"
as "$DUSER" ln -s /etc "$DATA/inkand/evil-dir"
ln /etc/hostname "$DATA/inkand/evil-hard"
refused_start "a hard link in DATA/inkand"
said "links: refusing"
rm -f "$DATA/inkand/evil-hard"
# What the old layout let inkand's user leave: a DATA/sam of its own, a configuration it wrote
# (the attack of issue 13). Root's next start refuses both rather than hand them to the SAM.
mv "$DATA/sam" "$T/sam.real"
mkdir "$DATA/sam"
chown "$DUSER:$DUSER" "$DATA/sam"
refused_start "a DATA/sam of inkand's user"
said "DATA/sam belongs to uid $DUID, neither root nor sam_user: refusing to start"
rmdir "$DATA/sam"
mv "$T/sam.real" "$DATA/sam"
chown "$DUSER:$DUSER" "$DATA/inkan.conf"
refused_start "a configuration inkand's user owns"
said "the configuration [^ ]*/inkan.conf belongs to inkand's user \(uid $DUID\).*refusing to start"
chown root:root "$DATA/inkan.conf"
cp -p "$DATA/inkan.conf" "$DATA/inkand/inkan.conf"
refused_start "a configuration inside DATA/inkand" --config "$DATA/inkand/inkan.conf"
said "the configuration [^ ]*/inkand/inkan.conf is inside DATA/inkand/.*refusing to start"
rm -f "$DATA/inkand/inkan.conf"
[ "$(stat -c %U /etc/passwd)" = root ] && [ "$(stat -c %U /etc/hostname)" = root ] &&
	[ "$(stat -c %U /etc)" = root ] || fail "a file outside DATA changed owner"
ok "restart as root: links in DATA/inkand not followed; a hard link, a planted DATA/sam, a configuration of inkand's user or in DATA/inkand refused"

# inkan-sam itself refuses a configuration or data directory that someone but root or
# sam_user can change (root's start vouches only for DATA): the directory of the
# configuration, the configuration itself, a directory above DATA.
mkdir -m 755 "$T/conf.d"
cp "$DATA/inkan.conf" "$T/conf.d/inkan.conf"
chmod 644 "$T/conf.d/inkan.conf"
chown "$DUSER:$DUSER" "$T/conf.d"
refused_start "a configuration in a directory of inkand's user" --config "$T/conf.d/inkan.conf"
said "prog=inkan-sam .*the configuration [^ ]*/conf.d/inkan.conf: [^ ]*/conf.d is owned by uid $DUID, neither root nor uid $SUID; refusing to start"
chown root:root "$T/conf.d"
chmod 664 "$T/conf.d/inkan.conf"
refused_start "a group-writable configuration" --config "$T/conf.d/inkan.conf"
said "prog=inkan-sam .*the configuration [^ ]*/conf.d/inkan.conf: [^ ]*/conf.d/inkan.conf is writable by group or others \(mode 0664\)"
chmod 644 "$T/conf.d/inkan.conf"
start_inkand --config "$T/conf.d/inkan.conf"
health_ok
expect_jq '.sam == "ok"'
stop_inkand
mkdir -m 755 "$T/up"
chown "$DUSER:$DUSER" "$T/up"
mv "$DATA" "$T/up/data"
data_real=$DATA
DATA="$T/up/data"
refused_start "a data directory inside a directory of inkand's user"
said "prog=inkan-sam .*the data directory [^ ]*/up/data: [^ ]*/up is owned by uid $DUID, neither root nor uid $SUID; refusing to start"
DATA=$data_real
mv "$T/up/data" "$DATA"
ok "inkan-sam refuses a configuration in a directory of inkand's user, a group-writable one, a DATA below a directory of inkand's user; takes a root-owned one outside DATA"

start_inkand
[ "$(stat -c %U /etc/passwd)" = root ] && [ "$(stat -c %a /etc/passwd)" = 644 ] ||
	fail "/etc/passwd changed: $(stat -c '%U %a' /etc/passwd)"
rm -f "$DATA/inkand/evil-link" "$DATA/inkand/evil-dir"
api GET /api/v1/me "" "$(login ro1 "$(pw_of ro1)")"
expect_status 200
ok "restart: same separation, same data"
stop_inkand

# ---- PKCS#11: a module is loaded only if it and every directory above it are root's alone ----
so_lib=$(readlink -f /usr/lib/softhsm/libsofthsm2.so 2>/dev/null || true)
[ -f "$so_lib" ] || fail "SoftHSM2 is not installed (apt-get install -y softhsm2)"
# Outside $T: /tmp is writable by all, so no module below it is ever loaded.
MODS=$(mktemp -d /var/lib/inkan-e2e-p11.XXXXXX)
echo "$MODS" >>"$T/extra_dirs"
chmod 755 "$MODS"
mkdir -m 755 "$MODS/ok" "$MODS/user-dir" "$MODS/group-w" "$MODS/sticky"
chown "$DUSER:$DUSER" "$MODS/user-dir"
chmod 775 "$MODS/group-w"
chmod 1777 "$MODS/sticky"
for d in ok user-dir group-w sticky; do install -m 644 -o root -g root "$so_lib" "$MODS/$d/libsofthsm2.so"; done
install -m 644 -o "$DUSER" -g "$DUSER" "$so_lib" "$MODS/ok/user-owned.so"
ln -s "$MODS/user-dir/libsofthsm2.so" "$MODS/ok/via-link.so"
# A token only the SAM's user reaches, and its PIN in DATA/sam.
export SOFTHSM2_CONF="$T/p11/softhsm2.conf"
mkdir -m 711 "$T/p11"
mkdir -m 700 "$T/p11/tokens"
chown "$SUSER:$SUSER" "$T/p11/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$T/p11/tokens" >"$SOFTHSM2_CONF"
chmod 644 "$SOFTHSM2_CONF"
as "$SUSER" softhsm2-util --init-token --free --label inkan --so-pin 5678 --pin 1234 >"$T/softhsm.out" 2>&1 ||
	fail "softhsm2-util --init-token: $(cat "$T/softhsm.out")"
(umask 077; printf '1234\n' >"$DATA/sam/pkcs11.pin")
conf key_backend pkcs11
allowed=""
for m in ok/libsofthsm2.so ok/user-owned.so ok/via-link.so user-dir/libsofthsm2.so group-w/libsofthsm2.so sticky/libsofthsm2.so; do
	allowed="$allowed${allowed:+:}$MODS/$m"
done
conf pkcs11_allowed_modules "$allowed"
# p11_refused MODULE REASON: refused at start, the log names the module and the reason.
p11_refused() {
	conf pkcs11_module "$1"
	refused_start "the PKCS#11 module $1"
	said "prog=inkan-sam .*pkcs11_module $1 refused: $2"
}
p11_refused "$MODS/ok/user-owned.so" "$MODS/ok/user-owned.so is owned by uid $DUID, not by root"
p11_refused "$MODS/user-dir/libsofthsm2.so" "$MODS/user-dir is owned by uid $DUID, not by root"
p11_refused "$MODS/ok/via-link.so" "$MODS/user-dir is owned by uid $DUID, not by root"
p11_refused "$MODS/group-w/libsofthsm2.so" "$MODS/group-w is writable by group or others \(mode 0775\)"
p11_refused "$MODS/sticky/libsofthsm2.so" "$MODS/sticky is writable by group or others \(mode 1777\)"
ok "PKCS#11 modules refused: one of a non-root user, one in a non-root user's directory or reached through a link into one, one in a group-writable or world-writable sticky directory"
conf pkcs11_module "$MODS/ok/libsofthsm2.so"
conf pkcs11_pin_file master.key
refused_start "the master key as the token PIN file"
said "prog=inkan-sam .*pkcs11_pin_file [^ ]*/sam/master.key refused: it is a file of the key store"
conf pkcs11_pin_file pkcs11.pin
start_inkand
SAM_PID=$(pgrep -P "$INKAND_PID" -x inkan-sam || true)
[ -n "$SAM_PID" ] || fail "no inkan-sam child of inkand $INKAND_PID"
grep -qF "$MODS/ok/libsofthsm2.so" "/proc/$SAM_PID/maps" || fail "inkan-sam did not load $MODS/ok/libsofthsm2.so"
health_ok
expect_jq '.sam == "ok"'
stop_inkand
conf key_backend soft
ok "a root-owned module in root's directories is loaded (the same file as the refused copies); the master key is no token PIN file"

# ---- an old-layout data directory under the separation: moved at start, also after an
# interruption, and never twice; a name in both places stops the start ----
old_layout "$DUSER"
n_users=$(sqlite3 "$DATA/inkan.db" 'SELECT count(*) FROM users;')
log_mark
start_inkand
new_layout "$DUSER"
[ "$(stat -c '%U %a' "$DATA")" = "root 711" ] || fail "DATA is $(stat -c '%U %a' "$DATA") after the move, want root 711"
since_mark | grep -q 'moved DATA/inkan.db to DATA/inkand/inkan.db' || fail "the move of inkan.db was not logged"
[ "$(user_count)" = "$n_users" ] || fail "the accounts did not move with inkan.db"
cant "create a file in DATA after the move" sh -c "printf x >'$DATA/new'"
api GET /api/v1/me "" "$(login ro1 "$(pw_of ro1)")"
expect_status 200
stop_inkand
ok "under privilege separation an old-layout DATA (inkand's user's) becomes root's and its inkand files move to DATA/inkand; accounts and logins work"
# Interrupted after tls/ had moved, before inkan.db had, and before the links were made.
rm -f "$DATA/tls" "$DATA/inkand.addr"
mv "$DATA/inkand/inkan.db" "$DATA/inkan.db"
log_mark
start_inkand
new_layout "$DUSER"
since_mark | grep -q 'moved DATA/inkan.db' || fail "the interrupted move was not finished"
since_mark | grep -q 'moved DATA/tls' && fail "tls/ moved twice"
[ "$(user_count)" = "$n_users" ] || fail "the accounts are lost after the interrupted move"
stop_inkand
log_mark
start_inkand
since_mark | grep -q 'moved DATA/' && fail "a start with nothing to move moved something: $(since_mark | grep 'moved DATA/')"
stop_inkand
cp -p "$DATA/inkand/inkan.db" "$DATA/inkan.db"
refused_start "inkan.db in both places"
said "both DATA/inkan.db and DATA/inkand/inkan.db exist: keep the right one"
rm -f "$DATA/inkan.db"
start_inkand
health_ok
ok "an interrupted move is finished by the next start, a finished one is not redone, inkan.db in both places stops the start"
finish
