#!/usr/bin/env bash
# t_pg_restart: a real PostgreSQL restart under load (issue 18). The test starts two clusters of
# its own (tests/pg.sh start $T/pg and $T/pgks; never the shared one of the fixture "pg"):
# inkand's store on the first, the key store on the second. While a client signs in a loop
# (signHash of one hash at a time under a SAD, P-256): round 1 restarts both servers (pg_ctl
# restart -m fast), round 2 stops both for 4 s, round 3 restarts the key store's alone (the
# request reaches inkan-sam, whose key store is gone), round 4 stops it for 4 s. During each
# outage every answer is 200 or 503 with Retry-After (never 500, never a hang past the statement
# timeout); afterwards requests succeed again with the same inkand and inkan-sam (same PIDs);
# every signature the client got back verifies with openssl and has its csc.signHash success
# record, and `inkan audit verify` proves the log; inkand and inkan-sam log that the connection
# came back. A second signer's authorize (PIN and OTP, checked by inkan-sam in the key store)
# while a server is down is answered 503 with Retry-After, and succeeds after it.
. "$(dirname "$0")/lib.sh"

PGSH="$INKAN_SRC/tests/pg.sh"
[ -x /usr/lib/postgresql/15/bin/initdb ] ||
	fail "PostgreSQL 15 is not installed (scripts/deps.sh test)"
INKAN_PG_STATE="$T/pg"	# inkand's store
KS_STATE="$T/pgks"	# the key store, on a server of its own
# the clusters are this test's: stopped and removed whatever happens (then lib.sh's cleanup)
trap 'rc=$?; for st in "$INKAN_PG_STATE" "$KS_STATE"; do "$PGSH" stop "$st" >/dev/null 2>&1; done;
	(exit $rc); cleanup' EXIT
for st in "$INKAN_PG_STATE" "$KS_STATE"; do
	"$PGSH" start "$st" 2>>"$T/pg.log" || fail "tests/pg.sh start: $(cat "$T/pg.log")"
done
pg_newdb t_pg_restart
"$PGSH" newdb "$KS_STATE" "$DB" || fail "cannot make the database $DB for the key store"
SAMURL=$("$PGSH" url "$KS_STATE" inkan_sam "$DB")

CONF="$T/inkan.conf"
cat >"$CONF" <<EOF
database = $PGURL
argon2_memory_kib = 8192
argon2_iterations = 1
audit_checkpoint_interval = 1
EOF
chmod 600 "$CONF"
INKAN_PG_STATE=$KS_STATE pg_sam_files "$DATA"
init_data --config "$CONF"
start_inkand --config "$CONF"
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
tokfile aud "$aud"
PIN=pin-Quarry-5150
add_secret "$PIN"
cred=$(mkkey "$alice" P-256)
pubkey "$alice" "$cred"
bob=$(mkactive "$ro" bob signer)
bcred=$(mkkey "$bob" P-256)
pubkey "$bob" "$bcred"
IPID=$INKAND_PID
SPID=$(sam_pid)
[ -n "$SPID" ] || fail "no inkan-sam child of inkand"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.master_check")" = 1 ] ||
	fail "the key store is not on its own server"
ok "one node on two PostgreSQL clusters of its own (inkand's store on one, the key store on the other), a P-256 key"

M=100	# hashes under each round's SAD (the most one authorization takes): more than the loop reaches
mkdir -p "$T/h" "$T/r"
# sign_loop ROUND SAD: signHash of hash ROUND.i, one at a time, until $T/stop.ROUND exists;
# each answer's status and time in $T/r/ROUND.log, a 200's body kept in $T/r/ROUND.i.ok
sign_loop() {
	local round=$1 sad=$2 i code
	for ((i = 1; i <= M; i++)); do
		[ ! -e "$T/stop.$round" ] || break
		jq -nc --arg c "$cred" --arg s "$sad" --arg h "$(cat "$T/h/$round.$i.b64")" \
			'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}' \
			>"$T/r/$round.$i.req"
		code=$(curl -s --max-time 45 --cacert "$CACERT" -H "Authorization: Bearer $alice" \
			-H 'Content-Type: application/json' --data-binary @"$T/r/$round.$i.req" \
			-D "$T/r/$round.$i.hdr" -o "$T/r/$round.$i.out" \
			-w '%{http_code} %{time_total}' "$URL/csc/v2/signatures/signHash" || true)
		echo "$i $code" >>"$T/r/$round.log"
		case "$code" in
		200\ *) mv "$T/r/$round.$i.out" "$T/r/$round.$i.ok" ;;
		503\ *) tr -d '\r' <"$T/r/$round.$i.hdr" | grep -qi '^retry-after: *[0-9]' ||
			echo "$i" >>"$T/r/$round.no-retry-after"
			jq -r '.error + ": " + .error_description' "$T/r/$round.$i.out" >>"$T/r/$round.why" ;;
		esac
		sleep 0.05
	done
	return 0
}
# oks ROUND: the 200s so far
oks() { awk '$2 == 200' "$T/r/$1.log" 2>/dev/null | wc -l; }
# last_ok_after ROUND LINE: a 200 among the answers after the first LINE
ok_after() { tail -n +"$(($2 + 1))" "$T/r/$1.log" 2>/dev/null | awk '$2 == 200 { f = 1 } END { exit !f }'; }

# round ROUND WHAT: the client signs; after 5 signatures WHAT (a function) takes the database
# away; the loop goes on until 5 more signatures came after it; then the checks
round() {
	local r=$1 what=$2 i sad lines n200 n503 other slow
	for i in $(seq 1 "$M"); do
		head -c 64 /dev/urandom | openssl dgst -sha256 -binary >"$T/h/$r.$i.bin"
		base64 -w0 "$T/h/$r.$i.bin" >"$T/h/$r.$i.b64"
	done
	api POST /csc/v2/credentials/authorize "$(for i in $(seq 1 "$M"); do cat "$T/h/$r.$i.b64"; echo; done |
		jq -R . | jq -sc --arg c "$cred" --arg p "$PIN" --arg o "$(otp_next alice)" \
		'{credentialID: $c, numSignatures: length, hashes: ., PIN: $p, OTP: $o}')" "$alice"
	expect_status 200
	sad=$(printf '%s' "$BODY" | jq -r .SAD)
	add_secret "$sad"
	: >"$T/r/$r.log"
	sign_loop "$r" "$sad" &
	local loop=$!
	echo "$loop" >>"$T/extra_pids"
	for _ in $(seq 1 600); do [ "$(oks "$r")" -ge 5 ] && break; sleep 0.05; done
	[ "$(oks "$r")" -ge 5 ] || fail "round $r: no 5 signatures before the outage: $(cat "$T/r/$r.log")"
	"$what"
	lines=$(wc -l <"$T/r/$r.log")
	for _ in $(seq 1 1200); do
		ok_after "$r" "$lines" && [ "$(tail -n +"$((lines + 1))" "$T/r/$r.log" | awk '$2 == 200' | wc -l)" -ge 5 ] && break
		kill -0 "$loop" 2>/dev/null || break
		sleep 0.05
	done
	: >"$T/stop.$r"
	wait "$loop" || true
	n200=$(awk '$2 == 200' "$T/r/$r.log" | wc -l)
	n503=$(awk '$2 == 503' "$T/r/$r.log" | wc -l)
	other=$(awk '$2 != 200 && $2 != 503 { print $2 }' "$T/r/$r.log" | sort | uniq -c | tr '\n' ' ')
	slow=$(awk '$3 > 35' "$T/r/$r.log" | wc -l)
	say "round $r ($what): the client saw $n200 x 200, $n503 x 503${other:+, other: $other}; slowest answer $(sort -k3 -g "$T/r/$r.log" | tail -n1 | awk '{print $3}') s"
	[ ! -s "$T/r/$r.why" ] || say "round $r: the 503s said: $(sort "$T/r/$r.why" | uniq -c | tr -s ' \n' ' ')"
	! grep -v '^temporarily_unavailable: ' "$T/r/$r.why" 2>/dev/null ||
		fail "round $r: a 503 that is not temporarily_unavailable"
	! grep -q 'at capacity;' "$T/r/$r.why" 2>/dev/null ||
		fail "round $r: a database outage told the client the service is at capacity"
	[ -z "$other" ] || fail "round $r: answers other than 200 and 503 during the outage: $other ($(awk '$2 != 200 && $2 != 503' "$T/r/$r.log" | head -n3 | while read -r i _; do cat "$T/r/$r.$i.out" 2>/dev/null; done))"
	[ ! -e "$T/r/$r.no-retry-after" ] || fail "round $r: 503 without Retry-After (requests $(tr '\n' ' ' <"$T/r/$r.no-retry-after"))"
	[ "$slow" = 0 ] || fail "round $r: $slow answers took longer than the statement timeout"
	ok_after "$r" "$lines" || fail "round $r: no signature after the database came back"
	[ "$INKAND_PID" = "$IPID" ] && alive "$IPID" || fail "round $r: inkand is not the one started (pid $IPID)"
	[ "$(sam_pid)" = "$SPID" ] || fail "round $r: inkan-sam is not the one started (pid $SPID, now $(sam_pid))"
	ROUND_503[$r]=$n503
	ok "round $r ($what): $n200 signatures, $n503 answers 503 with Retry-After, nothing else; signing again after it; inkand ($IPID) and inkan-sam ($SPID) not restarted"
}
declare -A ROUND_503
# the servers a round takes away: both, or the key store's only (inkand's store answers, the
# request reaches inkan-sam and its key store is gone)
PG_AWAY="$INKAN_PG_STATE $KS_STATE"
pgs() { local st; for st in $PG_AWAY; do "$PGSH" "$1" "$st" || fail "tests/pg.sh $1 $st failed"; done; }
pg_restart() { pgs restart; }
# bob's authorize (PIN and OTP, checked by the SAM in the key store) while a server is down
bob_while_down() {
	mapfile -t BH < <(digests sha256 1)
	authorize bob "$bob" "$bcred" "${BH[@]}"
	[ "$STATUS" = 503 ] && [ -n "$(header Retry-After)" ] ||
		fail "authorize with $1 down: HTTP $STATUS $BODY, not 503 with Retry-After"
	ok "authorize with $1 down: 503 with Retry-After $(header Retry-After) ($(jq -r .error_description <<<"$BODY"))"
}
pg_outage() {
	pgs down
	bob_while_down "both databases"
	sleep 4
	pgs up
}
ks_restart() { PG_AWAY=$KS_STATE pgs restart; }
ks_outage() {
	PG_AWAY=$KS_STATE pgs down
	bob_while_down "the key store"
	sleep 4
	PG_AWAY=$KS_STATE pgs up
}
round 1 pg_restart
round 2 pg_outage
[ "${ROUND_503[2]}" -ge 1 ] || fail "round 2: the database was down 4 s but no request was answered 503"
round 3 ks_restart
round 4 ks_outage
[ "${ROUND_503[4]}" -ge 1 ] || fail "round 4: the key store was down 4 s but no request was answered 503"

# bob's authorize → signHash works again (a new OTP step: the one of the outage may be spent)
mapfile -t BH < <(digests sha256 1)
authorize bob "$bob" "$bcred" "${BH[@]}"
expect_status 200
add_secret "$SAD"
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$bcred" --arg s "$SAD" --arg h "${BH[0]}" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$bob"
expect_status 200
printf '%s' "$BODY" | jq -r '.signatures[0]' | base64 -d >"$T/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$T/$bcred.pub.pem" -in "$T/dg.sha256.1.bin" -sigfile "$T/sig.bin" \
	>/dev/null 2>&1 || fail "bob's signature after the outage does not verify with openssl"
ok "after the outage bob's authorize and signHash succeed; openssl verifies the signature"

# ---- nothing answered was lost: every signature returned has its record; the log verifies ----
n=$(pg_answered_recorded "$T/$cred.pub.pem")
ok "every one of the $n signatures returned verifies with openssl and has its csc.signHash success record"
pg_checkpointed
icli aud audit verify --key "$DATA/ca/audit-log.pem"
[ "$RC" = 0 ] && grep -q 'audit log OK' <<<"$OUT" || fail "inkan audit verify: $OUT $ERR"
ok "$(head -n1 <<<"$OUT")"

# ---- both processes say the connection came back ----
grep -q 'the database connection is back' "$LOG" || fail "inkand does not log that the connection came back"
grep -q 'key store: the database connection is back' "$LOG" ||
	fail "inkan-sam does not log that the key store's connection came back"
ok "inkand and inkan-sam logged that the database connection came back ($(grep -c 'connection is back' "$LOG") times)"

finish
