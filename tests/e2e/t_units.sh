#!/bin/bash
# t_units: `make install`'s tree (cmake --install into a throw-away DESTDIR) has every file
# where docs/install.md and the manual pages say; the manual pages are clean roff and
# inkan.conf(5) names every setting; `systemd-analyze verify` accepts inkand.service (and
# catches a broken copy) and its offline security exposure stays at most 3.0; the sysusers.d
# and tmpfiles.d files make the two users and the data directory in that root. Then the
# installed inkand runs under the unit's own options, as far as they can be had without
# systemd as PID 1: its CapabilityBoundingSet and NoNewPrivileges (setpriv), its LimitMEMLOCK
# and LimitCORE (prlimit), ProtectSystem=strict with ReadWritePaths=DATA and a private /dev
# (a mount namespace: everything read-only but DATA), with the shipped configuration's user and
# sam_user; it serves a login, a new account, a key and a signature, stops cleanly, and every
# system call it and inkan-sam made (strace) is one the unit's SystemCallFilter allows, with no
# mapping both writable and executable (MemoryDenyWriteExecute). Each of the five capabilities
# is needed: without any one of them inkand refuses to start.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	say "SKIP: the unit's options are exercised on inkand started as root (CI runs as root)"
	exit 77
fi
for t in systemd-analyze systemd-sysusers systemd-tmpfiles setpriv prlimit unshare strace man groff; do
	command -v "$t" >/dev/null || { say "SKIP: no $t (scripts/deps.sh test installs it)"; exit 77; }
done

# ---- make install into a throw-away root ----
ROOT="$T/root"
DESTDIR="$ROOT" cmake --install "$INKAN_BUILD" >"$T/install.log" 2>&1 ||
	fail "cmake --install failed: $(tail -n 5 "$T/install.log")"
PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$INKAN_BUILD/CMakeCache.txt")
[ -n "$PREFIX" ] || fail "no CMAKE_INSTALL_PREFIX in $INKAN_BUILD/CMakeCache.txt"
UNIT="$PREFIX/lib/systemd/system/inkand.service"
[ -f "$ROOT$UNIT" ] || fail "no unit at $UNIT: $(find "$ROOT" -name '*.service')"
# where the unit says the programs, data and configuration are
read -r EXE DATADIR CONFFILE < <(sed -n 's/^ExecStart=\([^ ]*\) --data \([^ ]*\) --config \([^ ]*\)$/\1 \2 \3/p' "$ROOT$UNIT")
[ "$EXE" = "$PREFIX/sbin/inkand" ] || fail "ExecStart runs '$EXE', not $PREFIX/sbin/inkand"
for f in "$PREFIX/bin/inkan" "$PREFIX/sbin/inkand" "$PREFIX/sbin/inkan-sam"; do
	[ -x "$ROOT$f" ] && [ -f "$ROOT$f" ] || fail "make install: no program $f"
done
MAN="$PREFIX/share/man"
for f in man1/inkan.1 man5/inkan.conf.5 man8/inkand.8 man8/inkan-sam.8; do
	[ -s "$ROOT$MAN/$f" ] || fail "make install: no manual page $MAN/$f"
done
for f in "$CONFFILE" "$PREFIX/lib/sysusers.d/inkan.conf" "$PREFIX/lib/tmpfiles.d/inkan.conf" \
	"$PREFIX/share/doc/inkan/install.md" "$PREFIX/share/doc/inkan/configuration.md" \
	"$PREFIX/share/doc/inkan/examples/nginx-inkan.conf"; do
	[ -s "$ROOT$f" ] || fail "make install: no $f"
done
[ "$(stat -c '%a' "$ROOT$DATADIR")" = 711 ] || fail "make install: $DATADIR is $(stat -c %a "$ROOT$DATADIR"), want 0711"
[ "$(stat -c '%a' "$ROOT$CONFFILE")" = 644 ] || fail "make install: $CONFFILE is $(stat -c %a "$ROOT$CONFFILE")"
# an installed inkan finds the installed inkan-sam in sbin/, not next to itself in bin/
mkdir -p "$T/bin" && cp "$ROOT$PREFIX/bin/inkan" "$T/bin/inkan"
RC=0; env -u INKAN_SAM "$T/bin/inkan" init --data "$T/nosam" >"$T/nosam.out" 2>&1 || RC=$?
[ "$RC" != 0 ] && grep -qF "$PREFIX/sbin/inkan-sam" "$T/nosam.out" ||
	fail "an installed inkan does not look for $PREFIX/sbin/inkan-sam: $(cat "$T/nosam.out")"
ok "make install (prefix $PREFIX): programs, four manual pages, unit, sysusers.d, tmpfiles.d, $CONFFILE, docs, $DATADIR 0711; inkan finds inkan-sam in sbin/"

# ---- the manual pages ----
for f in man1/inkan.1 man5/inkan.conf.5 man8/inkand.8 man8/inkan-sam.8; do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$ROOT$MAN/$f" 2>&1 >/dev/null; groff -man -ww -z "$ROOT$MAN/$f" 2>&1)
	[ -z "$out" ] || fail "$f: roff warnings: $out"
done
"$INKAND" --settings | cut -f1 >"$T/settings"
[ "$(wc -l <"$T/settings")" -gt 40 ] || fail "inkand --settings printed $(wc -l <"$T/settings") settings"
while read -r k; do
	grep -qF "\\fB$k\\fR (" "$ROOT$MAN/man5/inkan.conf.5" || fail "inkan.conf(5) does not describe $k"
done <"$T/settings"
ok "man --warnings and groff -ww: no warning in the four pages; inkan.conf(5) describes all $(wc -l <"$T/settings") settings"

# ---- systemd-analyze verify and security (no systemd as PID 1 needed) ----
# The root also gets the system's own units (multi-user.target, ...), which the unit names.
mkdir -p "$ROOT/usr/lib/systemd"
cp -a /lib/systemd/system "$ROOT/usr/lib/systemd/" 2>/dev/null || cp -a /usr/lib/systemd/system "$ROOT/usr/lib/systemd/"
verify() { MANPATH="$ROOT$MAN" systemd-analyze verify --root="$ROOT" "$1" 2>&1; }
out=$(verify "$UNIT") || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify said: $out"
cp "$ROOT$UNIT" "$T/unit.orig"
sed -i 's/^PrivateTmp=yes/PrivateTmpp=yes/; s|^ExecStart=[^ ]*|&x|' "$ROOT$UNIT"
out=$(verify "$UNIT") && fail "systemd-analyze verify accepted a broken unit"
grep -q "PrivateTmpp" <<<"$out" && grep -q "not executable" <<<"$out" ||
	fail "systemd-analyze verify missed an unknown key or a missing program: $out"
cp "$T/unit.orig" "$ROOT$UNIT"
systemd-analyze security --offline=true --root="$ROOT" "$UNIT" >"$T/security" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for inkand.service: \([0-9.]*\).*/\1/p' "$T/security")
[ -n "$score" ] || fail "systemd-analyze security --offline gave no score: $(tail -n 3 "$T/security")"
systemd-analyze security --offline=true --threshold=30 --root="$ROOT" "$UNIT" >/dev/null 2>&1 ||
	fail "offline exposure $score is above 3.0"
ok "systemd-analyze verify accepts inkand.service (and rejects a broken copy); offline exposure $score"

# ---- sysusers.d and tmpfiles.d in the root ----
mkdir -p "$ROOT/etc"
systemd-sysusers --root="$ROOT" inkan.conf >"$T/sysusers.log" 2>&1 ||
	fail "systemd-sysusers: $(cat "$T/sysusers.log")"
for u in inkan inkan-sam; do
	grep -qE "^$u:x:[0-9]+:[0-9]+:[^:]*:[^:]*:/usr/sbin/nologin$" "$ROOT/etc/passwd" ||
		fail "sysusers.d made no user $u: $(cat "$ROOT/etc/passwd")"
done
[ "$(grep -c '^inkan' "$ROOT/etc/passwd")" = 2 ] || fail "users in the root: $(cat "$ROOT/etc/passwd")"
! getent passwd inkan-sam >/dev/null 2>&1 || [ -n "${INKAN_E2E_HOST_USERS:-}" ] ||
	say "note: this machine itself has a user inkan-sam"
rm -rf "${ROOT:?}$DATADIR"
systemd-tmpfiles --root="$ROOT" --create inkan.conf >"$T/tmpfiles.log" 2>&1 ||
	fail "systemd-tmpfiles: $(cat "$T/tmpfiles.log")"
[ "$(stat -c '%U %a' "$ROOT$DATADIR")" = "root 711" ] ||
	fail "tmpfiles.d made $DATADIR $(stat -c '%U %a' "$ROOT$DATADIR" 2>&1)"
ok "sysusers.d makes inkan and inkan-sam (no shell); tmpfiles.d makes $DATADIR root 0711 (in the root only)"

# ---- the installed inkand under the unit's options ----
# The users of t_privsep (this machine's own inkan users are left alone) in the shipped
# configuration; DATA from `inkan init --config` with it.
privsep_users
chmod 711 "$T"
mkdir -p "$T/etc" "$T/trace"
sed -e "s/^user = inkan\$/user = $DUSER/" -e "s/^sam_user = inkan-sam\$/sam_user = $SUSER/" \
	"$ROOT$CONFFILE" >"$T/etc/inkan.conf"
grep -qx "user = $DUSER" "$T/etc/inkan.conf" && grep -qx "sam_user = $SUSER" "$T/etc/inkan.conf" ||
	fail "the shipped configuration sets no user and sam_user: $(cat "$ROOT$CONFFILE")"
printf 'argon2_memory_kib = 8192\nargon2_iterations = 1\n' >>"$T/etc/inkan.conf"   # speed
chmod 644 "$T/etc/inkan.conf"
# as docs/install.md says: the data directory made under the service's configuration
init_data --config "$T/etc/inkan.conf"
[ ! -e "$DATA/inkan.conf" ] || fail "inkan init --config wrote a DATA/inkan.conf that nothing reads"

# The unit's capability bounding set and limits, in setpriv's and prlimit's words.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT$UNIT")
[ -n "$caps" ] || fail "the unit sets no CapabilityBoundingSet"
grep -qx 'NoNewPrivileges=yes' "$ROOT$UNIT" || fail "the unit does not set NoNewPrivileges=yes"
memlock=$(sed -n 's/^LimitMEMLOCK=\([0-9]*\)M$/\1/p' "$ROOT$UNIT")
[ -n "$memlock" ] || fail "the unit sets no LimitMEMLOCK in MiB"
# in bytes; no more than this machine's hard limit, which root cannot raise without
# CAP_SYS_RESOURCE (containers often lack it)
MEMLOCK=$((memlock * 1024 * 1024))
hard=$(ulimit -Hl)
if [ "$hard" != unlimited ] && [ $((hard * 1024)) -lt "$MEMLOCK" ]; then
	say "note: this machine's hard RLIMIT_MEMLOCK ($((hard / 1024)) MiB) is below the unit's LimitMEMLOCK (${memlock} MiB): run with the former"
	MEMLOCK=$((hard * 1024))
fi
# bounding CAPS...: setpriv's --bounding-set for those capabilities
bounding() {
	local c out="-all"
	for c in "$@"; do
		c=${c#CAP_}
		out="$out,+${c,,}"
	done
	printf '%s' "$out"
}
# The wrapper start_inkand runs as "inkand": limits, a mount namespace with everything
# read-only but DATA and the trace directory and a /dev of the unit's PrivateDevices, the
# bounding set and no_new_privs, then strace when asked.
cat >"$T/unit-inkand" <<EOF
#!/bin/bash
set -e
exec prlimit --memlock=$MEMLOCK --core=0 \\
	unshare --mount --propagation private bash -c '
set -e
mount --bind "$DATA" "$DATA"
mount --bind "$T/trace" "$T/trace"
mkdir -p "$T/devs"
for d in null zero full random urandom; do
	touch "$T/devs/\$d"; mount --bind "/dev/\$d" "$T/devs/\$d"
done
mount -t tmpfs -o mode=0755,nosuid,noexec tmpfs /dev
for d in null zero full random urandom; do
	touch "/dev/\$d"; mount --bind "$T/devs/\$d" "/dev/\$d"
done
mkdir -m 1777 /dev/shm
mount -o remount,bind,ro /
exec setpriv --bounding-set="\$BOUNDING" --no-new-privs \$TRACE env -u INKAN_SAM "$ROOT$EXE" "\$@"
' unit-inkand "\$@"
EOF
chmod 755 "$T/unit-inkand"
INKAND="$T/unit-inkand"
export BOUNDING
BOUNDING=$(bounding $caps)
export TRACE="strace -f -qq -o $T/trace/strace -e signal=none"
# LeakSanitizer (a sanitizer build) stops the world with ptrace, which strace holds: off for
# the traced run only.
ASAN_SAVED=${ASAN_OPTIONS-}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
start_inkand --config "$T/etc/inkan.conf"
health_ok
expect_jq '.sam == "ok"'
# strace's child is inkand; inkand's, inkan-sam
IPID=$(pgrep -P "$INKAND_PID" -x inkand || true)
[ -n "$IPID" ] || fail "no inkand under strace $INKAND_PID"
echo "$IPID" >>"$T/extra_pids"
SAM_PID=$(sam_pid "$IPID")
[ -n "$SAM_PID" ] || fail "no inkan-sam child of inkand $IPID"
[ "$(stat -c %U "/proc/$IPID")" = "$DUSER" ] && [ "$(stat -c %U "/proc/$SAM_PID")" = "$SUSER" ] ||
	fail "inkand runs as $(stat -c %U "/proc/$IPID"), inkan-sam as $(stat -c %U "/proc/$SAM_PID")"
for p in "$IPID" "$SAM_PID"; do
	grep -qE '^NoNewPrivs:[[:space:]]+1$' "/proc/$p/status" || fail "pid $p runs without no_new_privs"
	[ "$(awk '/^CapEff:/ { print $2 }' "/proc/$p/status")" = 0000000000000000 ] ||
		fail "pid $p kept capabilities: $(grep ^Cap "/proc/$p/status")"
	grep -qE '^Max locked memory +'"$MEMLOCK"' ' "/proc/$p/limits" ||
		fail "pid $p: $(grep 'locked memory' "/proc/$p/limits")"
done
# work: the officer's first login, a registration officer, a signer, a key, a signature
PIN=pin-Meadow-4417
add_secret "$PIN"
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
K=$(mkkey "$alice")
H=$(digests sha256 1)
authorize alice "$alice" "$K" "$H"
[ -n "$SAD" ] || fail "no SAD: $BODY"
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$K" --arg s "$SAD" --arg h "$H" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2", hashAlgorithmOID: "2.16.840.1.101.3.4.2.1"}')" "$alice"
expect_status 200
expect_jq '.signatures | length == 1'
# what they lock (secure heaps, secrets), against the limit
LOCKED=""
for p in "$IPID" "$SAM_PID"; do
	kb=$(awk '/^VmLck:/ { print $2 }' "/proc/$p/status")
	[ "$kb" -gt 0 ] && [ $((kb * 1024)) -lt "$MEMLOCK" ] || fail "pid $p locks $kb KiB (limit $MEMLOCK bytes)"
	LOCKED="$LOCKED $kb"
done
say "locked memory (KiB), inkand and inkan-sam:$LOCKED"
# SIGTERM to inkand itself (strace would only detach); strace ends with inkand's status
kill -TERM "$IPID"
for _ in $(seq 1 100); do kill -0 "$INKAND_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$INKAND_PID" 2>/dev/null && fail "inkand did not stop within 10 s of SIGTERM"
INKAND_RC=0
wait "$INKAND_PID" || INKAND_RC=$?
INKAND_PID=""
[ "$INKAND_RC" = 0 ] || fail "inkand exited $INKAND_RC after SIGTERM under the unit's options"
# nothing was written outside DATA (the rest was read-only): inkand's log says no EROFS
! grep -q 'Read-only file system' "$LOG" || fail "inkand tried to write outside DATA: $(grep 'Read-only' "$LOG" | head -n 3)"
ok "the installed inkand and inkan-sam ran as $DUSER and $SUSER with no_new_privs, no capability left, locked memory$LOCKED KiB under RLIMIT_MEMLOCK, everything but DATA read-only and a private /dev: login, accounts, key, signHash, clean stop"

# ---- the system calls made, against the unit's SystemCallFilter ----
# expand NAME...: the system calls of filter sets (@group, recursively) and names
expand() {
	local n
	for n in "$@"; do
		case $n in
		@*) systemd-analyze syscall-filter "$n" | sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e '/^$/d' |
			tail -n +2 | while read -r m; do expand "$m"; done ;;
		*) printf '%s\n' "$n" ;;
		esac
	done
}
: >"$T/allowed"
: >"$T/denied"
while read -r line; do
	if [ "${line#\~}" != "$line" ]; then
		# shellcheck disable=SC2086
		expand ${line#\~} >>"$T/denied"
	else
		# shellcheck disable=SC2086
		expand $line >>"$T/allowed"
	fi
done < <(sed -n 's/^SystemCallFilter=//p' "$ROOT$UNIT")
sort -u "$T/allowed" -o "$T/allowed"
sort -u "$T/denied" -o "$T/denied"
comm -23 "$T/allowed" "$T/denied" >"$T/filter"
[ "$(wc -l <"$T/filter")" -gt 200 ] || fail "the unit's filter expands to only $(wc -l <"$T/filter") calls"
sed -n 's/^[0-9]\+ \+\([a-z0-9_]\+\)(.*/\1/p; s/^[0-9]\+ \+<\.\.\. \([a-z0-9_]\+\) resumed>.*/\1/p' \
	"$T/trace/strace" | sort -u >"$T/used"
[ "$(wc -l <"$T/used")" -gt 30 ] || fail "strace saw only $(wc -l <"$T/used") system calls"
grep -qx adjtimex "$T/used" || grep -qx clock_adjtime "$T/used" || fail "the clock check was not traced"
grep -qx setresuid "$T/used" && grep -qx execve "$T/used" || fail "the drops and inkan-sam's start were not traced"
outside=$(comm -23 "$T/used" "$T/filter" | tr '\n' ' ')
[ -z "$outside" ] || fail "system calls the unit's SystemCallFilter would refuse: $outside"
wx=$(grep -E '(mmap|mprotect|pkey_mprotect)\(.*PROT_WRITE\|PROT_EXEC' "$T/trace/strace" | head -n 3 || true)
[ -z "$wx" ] || fail "a mapping both writable and executable (MemoryDenyWriteExecute): $wx"
ok "all $(wc -l <"$T/used") system calls of inkand and inkan-sam are in the unit's SystemCallFilter ($(wc -l <"$T/filter") calls); no W+X mapping"

# ---- each capability of the bounding set is needed ----
export TRACE=""
if [ -n "$ASAN_SAVED" ]; then export ASAN_OPTIONS="$ASAN_SAVED"; else unset ASAN_OPTIONS; fi
for c in $caps; do
	rest=""
	for d in $caps; do [ "$d" = "$c" ] || rest="$rest $d"; done
	# shellcheck disable=SC2086
	BOUNDING=$(bounding $rest)
	RC=0
	timeout 30 "$INKAND" --data "$DATA" --listen 127.0.0.1:0 --config "$T/etc/inkan.conf" >"$T/start.log" 2>&1 || RC=$?
	cat "$T/start.log" >>"$LOG"
	[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "inkand started (rc $RC) without $c: $(tail -n 3 "$T/start.log")"
done
# shellcheck disable=SC2086
BOUNDING=$(bounding $caps)
start_inkand --config "$T/etc/inkan.conf"
health_ok
ok "without any one of $caps inkand refuses to start; with all of them it starts again"

finish
