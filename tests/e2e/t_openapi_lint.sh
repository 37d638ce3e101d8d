#!/bin/bash
# t_openapi_lint: docs/openapi.yaml is a valid OpenAPI 3.1 description by a standard linter —
# Redocly CLI, pinned in tools/openapi, every rule of recommended-strict (tools/openapi/redocly.yaml).
set -euo pipefail

: "${INKAN_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
tools="$INKAN_SRC/tools/openapi"
if ! "$tools/redocly.sh" lint --config "$tools/redocly.yaml" --format stylish \
	"$INKAN_SRC/docs/openapi.yaml"; then
	echo "t_openapi_lint: FAIL: docs/openapi.yaml does not pass the lint" >&2
	exit 1
fi
echo "t_openapi_lint: PASS" >&2
