#!/bin/bash
# t_openapi: docs/openapi.yaml describes exactly the routes inkand has — every route of its
# routing table (`inkand --routes`: method, path, listener classes, authentication) is an
# operation there with the same listeners (x-inkan-listeners) and authentication (security,
# x-inkan-auth), and no operation is documented that is not a route. Needs no daemon.
set -euo pipefail
export LC_ALL=C

: "${INKAN_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${INKAN_BUILD:=$INKAN_SRC/build}"
T=$(mktemp -d "${TMPDIR:-/tmp}/inkan-t_openapi.XXXXXX")
trap 'rm -rf "$T"' EXIT
say() { printf 't_openapi: %s\n' "$*" >&2; }

[ -x "$INKAN_BUILD/inkand" ] || { say "FAIL: not built: $INKAN_BUILD/inkand"; exit 1; }
command -v jq >/dev/null || { say "FAIL: missing tool jq"; exit 1; }

# The table as inkand has it; listener classes sorted, so that their order does not matter.
"$INKAN_BUILD/inkand" --routes >"$T/table"
[ -s "$T/table" ] || { say "FAIL: inkand --routes printed nothing"; exit 1; }
while read -r method path classes auth; do
	printf '%s %s %s %s\n' "$method" "$path" "$(tr , '\n' <<<"$classes" | sort | paste -sd, -)" "$auth"
done <"$T/table" | sort >"$T/routes"

# The same four fields from the description: a path parameter {name} is the table's {}; an
# operation without a bearer requirement (none, or Basic for auth/login) is "none". References
# are resolved first, so a path item kept in components counts as well.
"$INKAN_SRC/tools/openapi/redocly.sh" bundle --dereferenced "$INKAN_SRC/docs/openapi.yaml" --ext json \
	-o "$T/openapi.json" >/dev/null 2>"$T/bundle.err" || { cat "$T/bundle.err" >&2; say "FAIL: cannot read docs/openapi.yaml"; exit 1; }
jq -r '.security as $global | .paths | to_entries[] | .key as $path | .value | to_entries[]
	| select(.key | IN("get", "put", "post", "delete", "patch", "head", "options", "trace"))
	| .value as $op
	| [ (.key | ascii_upcase), ($path | gsub("\\{[^}/]*\\}"; "{}")),
	    (($op["x-inkan-listeners"] // ["(none)"]) | sort | join(",")),
	    (if any(($op.security // $global // [])[]; has("bearer"))
	     then ($op["x-inkan-auth"] // "bearer") else "none" end) ]
	| join(" ")' "$T/openapi.json" | sort >"$T/documented"

status=0
if ! diff -q "$T/routes" "$T/documented" >/dev/null; then
	status=1
	comm -23 "$T/routes" "$T/documented" | sed 's/^/  route not documented as such: /' >&2
	comm -13 "$T/routes" "$T/documented" | sed 's/^/  documented, not a route as such: /' >&2
	say "FAIL: docs/openapi.yaml and the routing table (src/server/routes.c) differ (METHOD PATH LISTENERS AUTH)"
fi
say "$(wc -l <"$T/routes") routes in the table, $(wc -l <"$T/documented") operations documented"
[ "$status" -eq 0 ] && say "PASS"
exit "$status"
