#!/usr/bin/env bash
# t_clock: the clock (ISO/IEC 27017 12.4.4). inkand audits the kernel's word on the clock's
# synchronisation at start; with tsa_require_synced_clock the TSA (inkan-sam itself) refuses
# to stamp on a clock that cannot vouch for its declared accuracy of 1 s — RFC 3161
# timeNotAvailable on /tsa, 503 on signatures/timestamp — and stamps on one that can. The
# machine's clock is read here independently (adjtimex through libc) and never changed: which
# of the two answers is right follows from it.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
start_inkand

# The kernel's word, read here: "SYNCED MAXERROR_US"
read -r SYNCED MAXERR < <(python3 "$INKAN_SRC/tests/e2e/kernel_clock.py")
say "kernel: synchronised=$SYNCED maxerror=${MAXERR} us"
if [ "$SYNCED" = 1 ] && [ "$MAXERR" -le 1000000 ]; then VOUCH=1; else VOUCH=0; fi

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)

# inkand's own word at start, audited
audit_records "$aud" >"$T/audit.json"
want=$([ "$SYNCED" = 1 ] && echo clock.synchronised || echo clock.unsynchronised)
jq -e --arg a "$want" '[.[] | select(.action == $a)] | length == 1' "$T/audit.json" >/dev/null ||
	fail "no single $want record at start: $(jq -c '[.[] | select(.action | startswith("clock."))]' "$T/audit.json")"
jq -e --arg a "$want" '.[] | select(.action == $a) | .detail | test("maximum error [0-9]+ ms")' \
	"$T/audit.json" >/dev/null || fail "the $want record does not give the kernel's maximum error"
ok "inkand audited the kernel's word on the clock at start ($want)"

printf 'Minutes of the board, %s\n' "$(openssl rand -hex 8)" >"$T/doc.txt"
openssl ts -query -data "$T/doc.txt" -sha256 -cert -out "$T/q.tsq" 2>/dev/null
dg=$(openssl dgst -sha256 -binary "$T/doc.txt" | base64 -w0)
# stamp: POST /tsa -> $T/r.tsr and its status text in $T/r.txt; then signatures/timestamp
stamp() {
	http POST /tsa -H 'Content-Type: application/timestamp-query' --data-binary "@$T/q.tsq"
	expect_status 200
	cp "$T/body" "$T/r.tsr"
	openssl ts -reply -in "$T/r.tsr" -text >"$T/r.txt" 2>/dev/null || fail "openssl cannot read the /tsa reply"
	api POST /csc/v2/signatures/timestamp "$(jq -nc --arg h "$dg" '{hash: $h, hashAlgorithmOID: "2.16.840.1.101.3.4.2.1"}')" "$alice"
}
granted() {
	grep -q 'Status: Granted' "$T/r.txt" || fail "$1: /tsa did not grant: $(cat "$T/r.txt")"
	openssl ts -verify -in "$T/r.tsr" -data "$T/doc.txt" -CAfile "$DATA/ca/root.pem" \
		-untrusted "$DATA/ca/chain.pem" >/dev/null 2>&1 || fail "$1: the token does not verify"
	expect_status 200
}

# the setting off (default): stamped whatever the clock says
stamp
granted "tsa_require_synced_clock off"
ok "with tsa_require_synced_clock off the TSA stamps (on this machine's clock too)"

stop_inkand
conf tsa_require_synced_clock true
start_inkand
stamp
if [ "$VOUCH" = 1 ]; then
	granted "tsa_require_synced_clock on, synchronised clock"
	ok "with tsa_require_synced_clock on and a synchronised clock (max error ${MAXERR} us) the TSA stamps"
else
	grep -q '^Status: Rejected' "$T/r.txt" || fail "/tsa stamped on a clock that cannot vouch: $(cat "$T/r.txt")"
	grep -q "^Failure info: the TSA's time source is not available" "$T/r.txt" ||
		fail "/tsa's rejection is not timeNotAvailable: $(cat "$T/r.txt")"
	grep -A1 '^TST info:' "$T/r.txt" | grep -q '^Not included' || fail "/tsa's rejection carries a token"
	expect_refused 503 temporarily_unavailable
	# the SAM's own records come into the log at the export's checkpoint
	api GET /api/v1/audit/export "" "$aud"
	expect_status 200
	printf '%s' "$BODY" >"$T/bundle.json"
	jq -e '[.records[] | select(.source == "inkan-sam" and .action == "sam.tsa.stamp"
		and .result == "the clock is not synchronised")] | length == 2' "$T/bundle.json" >/dev/null ||
		fail "inkan-sam's two refusals are not in the audit log"
	jq -e '[.records[] | select(.action == "tsa.timestamp" and .result == "the clock is not synchronised")]
		| length == 2' "$T/bundle.json" >/dev/null || fail "inkand's records of the refused time-stamps are missing"
	ok "with tsa_require_synced_clock on and an unsynchronised clock (max error ${MAXERR} us) inkan-sam refuses: /tsa timeNotAvailable, signatures/timestamp 503, both audited"
fi

finish
