#!/usr/bin/env bash
# t_soak: a short run of bench/inkan-soak against the real inkand of this build — a mixed load
# (login, authorize, signHash, /tsa, /api/v1/verify and refused requests) from 8 loopback
# sources for 30 s with no error, then 3 SIGKILLs of inkand and inkan-sam under signing load,
# after which every signature received has its audit record, the log verifies and every account
# and key still works. `make soak` runs the full length on the optimised build
# (docs/performance.md). RSS is reported but not judged here: under ASan it grows by design
# (the quarantine of freed memory).
. "$(dirname "$0")/lib.sh"

SOAK="$INKAN_BUILD/inkan-soak"
[ -x "$SOAK" ] || fail "not built: $SOAK"
# Every source address of the run must be usable on loopback (Linux routes 127/8 to lo).
curl -sS --max-time 5 --interface 127.0.0.17 -o /dev/null http://127.0.0.1:1/ 2>"$T/curl.err" ||
	grep -qi 'refused\|connect' "$T/curl.err" || { say "SKIP: cannot bind 127.0.0.17"; exit 77; }

TMPDIR="$T" "$SOAK" --duration 30 --connections 8 --rate 40 --login-every 10 \
	--authorize-every 10 --hashes 5 --crash 3 --crash-connections 4 --crash-signers 4 \
	--fast-argon2 --rss-bound 0 --keep --json >"$T/soak.json" 2>"$T/soak.err" ||
	{ LOG=$(ls "$T"/inkan-soak.*/inkand.log 2>/dev/null || echo "$LOG"); cat "$T/soak.err" >&2
	  cat "$T/soak.json" >&2; fail "inkan-soak failed"; }
say "$(tail -n 3 "$T/soak.err" | tr '\n' ' ')"

jq -e '.soak.ok and .crash.ok' "$T/soak.json" >/dev/null || fail "inkan-soak: not OK: $(cat "$T/soak.json")"
jq -e '[.soak.endpoints[] | .errors] | add == 0' "$T/soak.json" >/dev/null || fail "errors in the soak"
jq -e '[.soak.endpoints[] | select(.requests == 0)] | length == 0' "$T/soak.json" >/dev/null ||
	fail "an endpoint of the mix was never tried: $(jq -c '.soak.endpoints' "$T/soak.json")"
ok "soak: $(jq -r '[.soak.endpoints | to_entries[] | "\(.key) \(.value.requests)"] | join(", ")' "$T/soak.json"), no error"
jq -e '.crash.survived == 3 and .crash.signatures_received > 0
	and .crash.signatures_audited == .crash.signatures_received and .crash.audit_verified
	and .crash.accounts_ok == .crash.accounts and .crash.keys_ok == .crash.keys' "$T/soak.json" >/dev/null ||
	fail "crash loop: $(jq -c .crash "$T/soak.json")"
ok "crash loop: $(jq -r '.crash | "\(.survived) crashes survived, \(.signatures_received) signatures received, all audited; \(.audit_verify_output); \(.accounts_ok) accounts and \(.keys_ok) keys work"' "$T/soak.json")"
# inkan-soak kept its directory (inside $T, removed with it): its inkand's log is this test's
LOG=$(ls "$T"/inkan-soak.*/inkand.log)
check_no_sanitizer_report
say "PASS"
