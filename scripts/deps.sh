#!/bin/sh
# Installs the Debian 12 packages inkan needs (run: build and run; test: also the test tools;
# deb: also debhelper, for make deb).
set -eu
mode="${1:-run}"
pkgs="build-essential cmake pkg-config libssl-dev libmicrohttpd-dev libjansson-dev
libsqlite3-dev libargon2-dev libcurl4-openssl-dev libqrencode-dev libqpdf-dev zlib1g-dev libxml2-dev libpq-dev libp11-kit-dev openssl ca-certificates"
if [ "$mode" = test ]; then
	pkgs="$pkgs libcmocka-dev curl jq oathtool sqlite3 softhsm2 poppler-utils qpdf libnss3-tools xxd procps strace xmlsec1 python3-lxml
	postgresql-15 clang libclang-rt-14-dev debhelper lintian systemd man-db groff-base chromium chromium-driver python3-selenium fonts-noto-cjk prometheus"
fi
# make deb: dpkg-buildpackage with debhelper (dpkg-dev comes with build-essential)
[ "$mode" != deb ] || pkgs="$pkgs debhelper"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The OpenAPI lint runs on Node.js: Debian's, unless a node and npm are there already (another
# build of nodejs carries its own npm, which Debian's npm package would conflict with).
if [ "$mode" = test ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
	echo "inkan: installing Debian packages:$missing" >&2
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
			echo "inkan: run as root or install:$missing" >&2; exit 1; fi
	else SUDO=""; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
[ "$mode" = test ] || exit 0

# The OpenAPI linter (tests/e2e/t_openapi*.sh), exactly as tools/openapi/package-lock.json pins
# it, with no install scripts run; again only when the lock file changed since the last install.
tools="$(cd "$(dirname "$0")/.." && pwd)/tools/openapi"
want=$(cat "$tools/package.json" "$tools/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$tools/node_modules/.inkan-installed" 2>/dev/null)" != "$want" ]; then
	echo "inkan: installing the OpenAPI linter (npm ci in tools/openapi)" >&2
	(cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
	echo "$want" >"$tools/node_modules/.inkan-installed"
fi
