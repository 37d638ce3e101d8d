#!/bin/sh
# tests/pg.sh: a throw-away PostgreSQL 15 cluster for the tests that need one.
#
#   tests/pg.sh start STATE         initdb + pg_ctl start in a new /tmp/inkan-pg.XXXXXX, on a
#                                   Unix socket and on 127.0.0.1 with TLS only (a random port;
#                                   a test CA in STATE/ca.pem, the server's certificate for
#                                   localhost), run as the unprivileged user inkan-pgtest when
#                                   started as root (PostgreSQL refuses root); the roles
#                                   inkan_admin (superuser), inkand and inkan_sam (each with a
#                                   random password in a 0600 passfile); writes STATE/dir,
#                                   STATE/<role>.url (socket) and STATE/inkand-tls.url
#                                   (sslmode=verify-full)
#   tests/pg.sh newdb STATE NAME    a database NAME laid out as docs/scaling.md describes: schema
#                                   inkand owned by the role inkand, schema inkan_keys owned by
#                                   inkan_sam, nothing for PUBLIC
#   tests/pg.sh url STATE ROLE [DB] the libpq URI for ROLE (default DB: inkan)
#   tests/pg.sh stop STATE          stops the cluster and removes it and STATE
#   tests/pg.sh restart STATE       pg_ctl restart -m fast: the server ends every connection and
#                                   comes back on the same port, data kept (t_pg_restart; never
#                                   on the shared cluster of the fixture "pg")
#   tests/pg.sh down STATE          pg_ctl stop -m fast, the cluster and STATE kept
#   tests/pg.sh up STATE            pg_ctl start again after down
#
# STATE is a directory of the caller's (ctest's fixture uses BUILD/pg). The passfiles are the
# caller's (root's under `make test`), 0600, as libpq demands.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=inkan-pgtest
ROLES="inkand inkan_sam"

die() { echo "pg.sh: $*" >&2; exit 1; }

# Runs a command as the cluster's owner (root: the dedicated user; else oneself).
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PGUSER_OS" -- "$@"
	else
		"$@"
	fi
}

url() { # STATE ROLE [DB]
	dir=$(cat "$1/dir") || die "no cluster in $1 (tests/pg.sh start $1)"
	printf 'postgresql:///%s?host=%s/sock&port=%s&user=%s&passfile=%s/%s.pass\n' \
	    "${3:-inkan}" "$dir" "$(cat "$1/port")" "$2" "$1" "$2"
}

psql_admin() { # STATE DB SQL...
	st=$1 db=$2
	shift 2
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(url "$st" inkan_admin "$db")" "$@"
}

newdb() { # STATE NAME
	case "$2" in *[!a-z0-9_]*|'') die "database name: [a-z0-9_]+ only" ;; esac
	psql_admin "$1" postgres -c "CREATE DATABASE $2"
	psql_admin "$1" "$2" <<EOF
REVOKE ALL ON DATABASE $2 FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE $2 TO inkand, inkan_sam;
GRANT TEMPORARY ON DATABASE $2 TO inkan_sam;
CREATE SCHEMA inkand AUTHORIZATION inkand;
CREATE SCHEMA inkan_keys AUTHORIZATION inkan_sam;
EOF
}

start() { # STATE
	state=$1
	stop "$state"	# what an interrupted run left behind
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 is not installed (scripts/deps.sh test)"
	if [ "$(id -u)" -eq 0 ] && ! id "$PGUSER_OS" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		    "$PGUSER_OS" 2>/dev/null || id "$PGUSER_OS" >/dev/null 2>&1 ||
		    die "cannot create the user $PGUSER_OS"
	fi
	mkdir -p "$state"
	chmod 0700 "$state"
	dir=$(mktemp -d /tmp/inkan-pg.XXXXXX)
	chmod 0755 "$dir"
	echo "$dir" >"$state/dir"
	mkdir "$dir/sock" "$dir/data"
	[ "$(id -u)" -ne 0 ] || chown "$PGUSER_OS" "$dir/sock" "$dir/data"
	chmod 0700 "$dir/data"
	chmod 0755 "$dir/sock"
	umask 077
	for r in inkan_admin $ROLES; do
		openssl rand -hex 24 >"$state/$r.pw"
		printf '*:*:*:%s:%s\n' "$r" "$(cat "$state/$r.pw")" >"$state/$r.pass"
	done
	# initdb reads the superuser's password from a file it can open
	cp "$state/inkan_admin.pw" "$dir/data/.pw"
	[ "$(id -u)" -ne 0 ] || chown "$PGUSER_OS" "$dir/data/.pw"
	as_owner "$PGBIN/initdb" -D "$dir/data/db" -U inkan_admin --pwfile="$dir/data/.pw" \
	    -A scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	rm -f "$dir/data/.pw"
	# TLS on the TCP port: a CA of the test's own and a certificate for localhost.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj "/CN=inkan test database CA" -keyout "$state/ca.key" -out "$state/ca.pem" \
	    2>/dev/null || die "cannot make the test CA"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
	    -keyout "$dir/data/db/server.key" -out "$state/server.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$state/san.ext" &&
	openssl x509 -req -in "$state/server.csr" -CA "$state/ca.pem" -CAkey "$state/ca.key" \
	    -CAcreateserial -days 2 -extfile "$state/san.ext" -out "$dir/data/db/server.crt" \
	    2>/dev/null || die "cannot make the server certificate"
	rm -f "$state/ca.key" "$state/server.csr" "$state/san.ext" "$state/ca.srl"
	[ "$(id -u)" -ne 0 ] || chown "$PGUSER_OS" "$dir/data/db/server.key" "$dir/data/db/server.crt"
	chmod 0600 "$dir/data/db/server.key"
	# TCP connections must use TLS: the host lines initdb wrote become hostssl.
	sed -i 's/^host /hostssl /' "$dir/data/db/pg_hba.conf"
	# A test cluster: no durability (it is thrown away), little memory. PG_DURABLE=1 keeps
	# PostgreSQL's defaults for a benchmark: fsync, synchronous_commit and full_page_writes on,
	# and its default 128 MB of shared buffers.
	durable=off buffers=32MB
	[ "${PG_DURABLE:-0}" != 1 ] || durable=on buffers=128MB
	cat >>"$dir/data/db/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
unix_socket_permissions = 0777
ssl = on
fsync = $durable
synchronous_commit = $durable
full_page_writes = $durable
shared_buffers = $buffers
max_connections = 200
EOF
	# a free port: another test run may hold the one drawn first
	for try in 1 2 3 4 5 6 7 8; do
		port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		echo "port = $port" >"$dir/data/db/postgresql.auto.conf"
		[ "$(id -u)" -ne 0 ] || chown "$PGUSER_OS" "$dir/data/db/postgresql.auto.conf"
		if as_owner "$PGBIN/pg_ctl" -D "$dir/data/db" -l "$dir/data/server.log" -w -t 60 \
		    start >/dev/null; then
			break
		fi
		grep -q 'could not bind\|could not create listen' "$dir/data/server.log" && [ "$try" -lt 8 ] ||
		    { cat "$dir/data/server.log" >&2; die "pg_ctl start failed"; }
	done
	echo "$port" >"$state/port"
	for r in $ROLES; do
		psql_admin "$state" postgres -c \
		    "CREATE ROLE $r LOGIN PASSWORD '$(cat "$state/$r.pw")'"
	done
	rm -f "$state"/*.pw
	newdb "$state" inkan
	for r in inkan_admin $ROLES; do url "$state" "$r" >"$state/$r.url"; done
	printf 'postgresql://localhost:%s/inkan?hostaddr=127.0.0.1&user=inkand&passfile=%s/inkand.pass&sslmode=verify-full&sslrootcert=%s/ca.pem\n' \
	    "$port" "$state" "$state" >"$state/inkand-tls.url"
	echo "pg.sh: PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}') up in $dir" >&2
}

stop() { # STATE
	state=$1
	[ -f "$state/dir" ] || return 0
	dir=$(cat "$state/dir")
	case "$dir" in /tmp/inkan-pg.*) ;; *) die "not a test cluster: $dir" ;; esac
	if [ -d "$dir/data/db" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$dir/data/db" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir" "$state"
}

# pg_ctl MODE... on the cluster of STATE, which stays (its data and STATE kept).
ctl() { # STATE ARGS...
	state=$1
	shift
	dir=$(cat "$state/dir") || die "no cluster in $state (tests/pg.sh start $state)"
	case "$dir" in /tmp/inkan-pg.*) ;; *) die "not a test cluster: $dir" ;; esac
	as_owner "$PGBIN/pg_ctl" -D "$dir/data/db" -l "$dir/data/server.log" -w -t 60 "$@" >/dev/null ||
	    { tail -n 20 "$dir/data/server.log" >&2; die "pg_ctl $* failed"; }
}

case "${1:-}" in
restart) [ $# -eq 2 ] || die "usage: $0 restart STATE"; ctl "$2" -m fast restart ;;
down) [ $# -eq 2 ] || die "usage: $0 down STATE"; ctl "$2" -m fast stop ;;
up) [ $# -eq 2 ] || die "usage: $0 up STATE"; ctl "$2" start ;;
start) [ $# -eq 2 ] || die "usage: $0 start STATE"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop STATE"; stop "$2" ;;
newdb) [ $# -eq 3 ] || die "usage: $0 newdb STATE NAME"; newdb "$2" "$3" ;;
url) [ $# -ge 3 ] || die "usage: $0 url STATE ROLE [DB]"; url "$2" "$3" "${4:-}" ;;
*) die "usage: $0 start|stop|restart|down|up|newdb|url STATE ..." ;;
esac
