#!/bin/sh
# Runs the pinned Redocly CLI of tools/openapi (installed by `scripts/deps.sh test`, npm ci),
# with its usage reports and update check off: nothing leaves the machine.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
bin="$dir/node_modules/.bin/redocly"
if [ ! -x "$bin" ]; then
	echo "redocly.sh: $bin is not installed: run scripts/deps.sh test (npm ci in $dir)" >&2
	exit 1
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1 exec "$bin" "$@"
