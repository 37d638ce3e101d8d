#!/bin/sh
# `make run`: initialise the data directory on first run, then start inkand in the foreground.
set -eu
build="$1"; data="$2"; listen="$3"
# (inkand's database is in $data/inkand/; a data directory of the old layout has it in $data/)
if [ ! -f "$data/inkand/inkan.db" ] && [ ! -f "$data/inkan.db" ]; then
	echo "== First run: creating $data (master key, databases, TLS certificate, first account)"
	"$build/inkan" init --data "$data"
	echo
fi
cat <<MSG
== inkand is starting on https://$listen (Ctrl-C stops it). In another terminal:

   export INKAN_SERVER=https://$listen INKAN_CACERT=$data/tls/cert.pem
   $build/inkan info                      # what the service offers
   $build/inkan login officer             # password + the code from your authenticator app
   $build/inkan passwd                    # the first password must be changed
   $build/inkan login officer             # log in again with the new one (next code)
   $build/inkan user add ro1 --role registration_officer   # one-time password only

   Every other account holder enrols their own TOTP seed at their first login:
   $build/inkan login --first ro1; $build/inkan passwd; $build/inkan enrol

   The officer's one-time password and TOTP secret were shown once, at the first run.
   docs/ explains the API (docs/api.md), the CLI (docs/cli.md) and the settings ($data/inkan.conf).

MSG
exec "$build/inkand" --data "$data" --listen "$listen"
