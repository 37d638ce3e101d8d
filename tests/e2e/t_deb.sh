#!/bin/bash
# t_deb: the .deb built with the Debian tools (dpkg-buildpackage -us -uc -b, on a copy of the
# source tree: scripts/deb.sh, as make deb) passes lintian with no error or warning; installed with `dpkg --root` into a
# throw-away root, its maintainer scripts run (chroot-less, DPKG_ROOT set, as dpkg does for
# such a root) and make the two users (systemd-sysusers, and useradd where there is none) and
# the data directory, enable inkand.service and start nothing (no systemd runs here); every
# path of docs/install.md's table and of the manual pages is there; systemd-analyze verify
# accepts the installed unit; a purge keeps the users and the data directory's contents.
# Nothing of this machine is changed (its passwd and group files are compared).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	say "SKIP: installing into a throw-away root needs root (CI runs as root)"
	exit 77
fi
for t in dpkg-buildpackage dh lintian dpkg systemd-analyze git; do
	command -v "$t" >/dev/null || { say "SKIP: no $t (scripts/deps.sh test installs it)"; exit 77; }
done
if [ -d /run/systemd/system ]; then
	# debhelper's start snippet asks the running systemd, whatever the root: not here.
	say "SKIP: systemd runs on this machine; the throw-away install would reach it"
	exit 77
fi
host_ids() { cat /etc/passwd /etc/group | sha256sum; }
HOST_IDS=$(host_ids)

# ---- build, as make deb does: on a copy of the tree ----
JOBS=2 "$INKAN_SRC/scripts/deb.sh" "$T" >"$T/build.log" 2>&1 ||
	fail "dpkg-buildpackage failed: $(tail -n 20 "$T/build.log")"
ARCH=$(dpkg --print-architecture)
VERSION=$(cd "$T/src" && dpkg-parsechangelog -S Version)
DEB="$T/inkan_${VERSION}_$ARCH.deb"
CHANGES="$T/inkan_${VERSION}_$ARCH.changes"
[ -f "$DEB" ] && [ -f "$CHANGES" ] || fail "no $DEB: $(ls "$T")"
ok "dpkg-buildpackage -us -uc -b built $(basename "$DEB")"

# ---- lintian: no error, no warning (informational tags are shown) ----
lintian --display-info "$CHANGES" >"$T/lintian.log" 2>&1 || true
grep -v '^running with root privileges' "$T/lintian.log" >"$T/lintian.tags" || true
bad=$(grep -E '^[EW]: ' "$T/lintian.tags" || true)
[ -z "$bad" ] || fail "lintian: $bad"
grep -qE '^[A-Z]: ' "$T/lintian.tags" || [ ! -s "$T/lintian.tags" ] || fail "lintian said: $(cat "$T/lintian.tags")"
info=$(grep -E '^[IPX]: ' "$T/lintian.tags" | tr '\n' ';' || true)
ok "lintian: no error, no warning${info:+ (info: $info)}"

# ---- contents and control ----
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$T/contents"
dpkg-deb -f "$DEB" Depends | grep -q passwd || fail "Depends lacks passwd (useradd): $(dpkg-deb -f "$DEB" Depends)"
dpkg-deb -I "$DEB" conffiles | grep -qx /etc/inkan/inkan.conf || fail "/etc/inkan/inkan.conf is not a conffile"

# a root of a base system: dpkg's database and root's entries
mkroot() {
	local r=$1
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/etc" "$r/var/log" "$r/usr/lib/systemd"
	: >"$r/var/lib/dpkg/status"
	: >"$r/var/lib/dpkg/available"
	echo 'root:x:0:0:root:/root:/bin/bash' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	echo 'root:*:19000:0:99999:7:::' >"$r/etc/shadow"
	echo 'root:*::' >"$r/etc/gshadow"
	chmod 640 "$r/etc/shadow" "$r/etc/gshadow"
}
# install ROOT [PATH]: dpkg -i into ROOT, scripts run here with DPKG_ROOT (dpkg's own way for
# a root without a shell of its own); the libraries of this machine stand in for Depends.
install_into() {
	local r=$1
	PATH=${2:-$PATH} dpkg --root="$r" --force-script-chrootless --force-depends -i "$DEB" \
		>"$T/dpkg-$(basename "$r").log" 2>&1 ||
		fail "dpkg --root=$r -i: $(tail -n 20 "$T/dpkg-$(basename "$r").log")"
	dpkg --root="$r" -s inkan 2>/dev/null | grep -qx 'Status: install ok installed' ||
		fail "inkan is not installed in $r: $(dpkg --root="$r" -s inkan 2>&1 | head -n 3)"
}
# users ROOT HOW: inkan and inkan-sam exist in ROOT, with no shell and no login
users_ok() {
	local r=$1 u
	for u in inkan inkan-sam; do
		grep -qE "^$u:x:[0-9]+:[0-9]+:[^:]*:[^:]*:/usr/sbin/nologin$" "$r/etc/passwd" ||
			fail "$2 made no user $u in $r: $(cat "$r/etc/passwd")"
		grep -qE "^$u:x:[0-9]+:" "$r/etc/group" || fail "$2 made no group $u in $r"
	done
	[ "$(grep -c '^inkan' "$r/etc/passwd")" = 2 ] || fail "users in $r: $(cat "$r/etc/passwd")"
}

# ---- install with systemd-sysusers ----
R="$T/root"
mkroot "$R"
install_into "$R"
users_ok "$R" systemd-sysusers
[ "$(stat -c '%U %G %a' "$R/var/lib/inkan")" = "root root 711" ] ||
	fail "/var/lib/inkan is $(stat -c '%U %G %a' "$R/var/lib/inkan")"
[ "$(readlink "$R/etc/systemd/system/multi-user.target.wants/inkand.service")" = /lib/systemd/system/inkand.service ] ||
	fail "inkand.service was not enabled in the root: $(ls -la "$R/etc/systemd/system/multi-user.target.wants" 2>&1)"
! grep -qiE 'start|systemctl' "$T/dpkg-root.log" || fail "the install tried to start something: $(cat "$T/dpkg-root.log")"
[ "$(host_ids)" = "$HOST_IDS" ] || fail "the install changed this machine's passwd or group"
ok "dpkg --root: users inkan and inkan-sam (systemd-sysusers), /var/lib/inkan root 0711, inkand.service enabled, nothing started, this machine untouched"

# ---- every path docs/install.md lists, and what the manual pages name ----
sed -n '/^<!-- package files -->$/,/^<!-- end -->$/p' "$INKAN_SRC/docs/install.md" |
	sed -n 's/^| `\([^`]*\)` |.*/\1/p' >"$T/doc-paths"
[ "$(wc -l <"$T/doc-paths")" -ge 10 ] || fail "docs/install.md lists $(wc -l <"$T/doc-paths") package paths"
while read -r p; do
	[ -e "$R$p" ] || fail "docs/install.md names $p, not in the installed package"
	grep -qx "$p" "$T/contents" || fail "$p is not the package's own (dpkg-deb -c)"
done <"$T/doc-paths"
for page in man8/inkand.8 man8/inkan-sam.8 man5/inkan.conf.5 man1/inkan.1; do
	[ -s "$R/usr/share/man/$page.gz" ] || fail "no manual page $page in the package"
done
man -l "$R/usr/share/man/man8/inkand.8.gz" 2>/dev/null | grep -q '/etc/inkan/inkan.conf' || fail "inkand(8) names no /etc/inkan/inkan.conf"
for p in /etc/inkan/inkan.conf /var/lib/inkan; do
	[ -e "$R$p" ] || fail "inkand(8) names $p, which the package does not make"
done
grep -qx "ExecStart=/usr/sbin/inkand --data /var/lib/inkan --config /etc/inkan/inkan.conf" \
	"$R/lib/systemd/system/inkand.service" || fail "the unit's ExecStart: $(grep ExecStart "$R/lib/systemd/system/inkand.service")"
cp -a /lib/systemd/system "$R/usr/lib/systemd/"
out=$(MANPATH="$R/usr/share/man" systemd-analyze verify --root="$R" /lib/systemd/system/inkand.service 2>&1) ||
	fail "systemd-analyze verify (installed): $out"
[ -z "$out" ] || fail "systemd-analyze verify (installed) said: $out"
ok "the $(wc -l <"$T/doc-paths") paths of docs/install.md and those the manual pages name are the package's; systemd-analyze verify accepts the installed unit"

# ---- purge: the users and the keys stay ----
mkdir -p "$R/var/lib/inkan/sam"
echo 'not a real key' >"$R/var/lib/inkan/sam/master.key"
dpkg --root="$R" --force-script-chrootless --purge inkan >"$T/purge.log" 2>&1 || fail "purge: $(tail -n 5 "$T/purge.log")"
[ -f "$R/var/lib/inkan/sam/master.key" ] || fail "purge removed the master key"
[ ! -e "$R/usr/sbin/inkand" ] && [ ! -e "$R/etc/inkan/inkan.conf" ] || fail "purge left the programs or the configuration"
users_ok "$R" "(after purge)"
ok "purge removes the programs and the configuration, keeps the users and /var/lib/inkan's keys"

# ---- install where there is no systemd-sysusers: useradd ----
R2="$T/root2"
mkroot "$R2"
mkdir -p "$T/path"
for f in /usr/sbin/* /usr/bin/*; do ln -sf "$f" "$T/path/"; done
rm -f "$T/path/systemd-sysusers"
install_into "$R2" "$T/path"
users_ok "$R2" useradd
grep -q '^inkan-sam:x:[0-9]*:[0-9]*:inkan remote signing service (inkan-sam):/nonexistent:' "$R2/etc/passwd" ||
	fail "the users in $R2 were not made by the postinst's useradd: $(grep ^inkan "$R2/etc/passwd")"
install_into "$R2" "$T/path"        # again: the users exist, the postinst goes on
[ "$(host_ids)" = "$HOST_IDS" ] || fail "the install changed this machine's passwd or group"
ok "without systemd-sysusers the postinst makes both users with useradd (and a second configure keeps them)"

finish
