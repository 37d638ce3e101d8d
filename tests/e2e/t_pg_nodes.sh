#!/usr/bin/env bash
# t_pg_nodes: two nodes (two data directories, two inkand + inkan-sam pairs on their own ports)
# on one PostgreSQL database and one key store. Node B joins with `inkan init --join` and the
# master key rebuilt from node A's shares (no second CA, master key or audit log key); a user
# made on A logs in on B; a key made on A signs on B (authorize and signHash on B, openssl dgst
# -verify); a SAD minted on A is spent on B, each hash once across both, its last count asked
# of both at once signing once; a TOTP code used on A is refused on B; wrong passwords on
# both nodes add up to one lockout; both nodes sign while A is killed with SIGKILL: every signature a client got back
# has its csc.signHash record and B carries on; after A restarts, `inkan audit verify` proves
# one log with records of both; a third node with another master key refuses to start and makes
# nothing (no audit log key).
. "$(dirname "$0")/lib.sh"

pg_newdb t_pg_nodes

# One configuration for every node: the same database.
CONF="$T/inkan.conf"
cat >"$CONF" <<EOF2
database = $PGURL
argon2_memory_kib = 8192
argon2_iterations = 1
audit_checkpoint_interval = 2
EOF2
chmod 600 "$CONF"

# use NODE: the helpers (api, start_inkand, stop_inkand) then talk to that node.
declare -A N_DATA N_PID N_URL
use() {
	[ -z "${CUR:-}" ] || N_PID[$CUR]=$INKAND_PID
	CUR=$1
	DATA=${N_DATA[$1]}
	INKAND_PID=${N_PID[$1]:-}
	URL=${N_URL[$1]:-}
	CACERT="$DATA/tls/cert.pem"
	LOG="$T/inkand.$1.log"
	touch "$LOG"
}
# start NODE: start_inkand for it; the other node's inkand is killed by cleanup too.
start() {
	use "$1"
	start_inkand --config "$CONF"
	N_URL[$1]=$URL
	N_PID[$1]=$INKAND_PID
	echo "$INKAND_PID" >>"$T/extra_pids"
}

N_DATA[A]="$T/dataA"
N_DATA[B]="$T/dataB"
pg_sam_files "${N_DATA[A]}"
use A
init_data --config "$CONF"
FPR=$(jq -r .audit_log_key_sha256 "$T/init.json")
start A
so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
aud=$(mkactive "$so" aud1 system_auditor)
alice=$(mkactive "$ro" alice signer)
PIN=pin-Harbour-2290
add_secret "$PIN"
acred=$(mkkey "$alice" P-256)
ok "node A: the service made, a signer with a P-256 key"

# ---- adding node B ----
"$INKAN_SAM" --master-split 2 3 --data "${N_DATA[A]}" --config "$CONF" >"$T/shares" 2>"$T/split.err" ||
	fail "inkan-sam --master-split: $(cat "$T/split.err")"
while IFS= read -r s; do add_secret "$s"; done <"$T/shares"
pg_sam_files "${N_DATA[B]}"
ca_before=$(as_sam "SELECT string_agg(name || md5(blob), ',' ORDER BY name) FROM inkan_keys.ca")
use B
sed -n '1p;3p' "$T/shares" | "$INKAN_CLI" init --join --data "$DATA" --config "$CONF" --json \
	>"$T/join.json" 2>"$T/join.err" || fail "inkan init --join: $(cat "$T/join.err")"
jq -e --arg f "$FPR" '.joined == true and .audit_log_key_sha256 == $f' "$T/join.json" >/dev/null ||
	fail "inkan init --join: $(cat "$T/join.json")"
cmp -s "${N_DATA[A]}/sam/master.key" "${N_DATA[B]}/sam/master.key" ||
	fail "node B's master key is not node A's"
cmp -s "${N_DATA[A]}/ca/root.pem" "${N_DATA[B]}/ca/root.pem" || fail "node B has another root CA"
cmp -s "${N_DATA[A]}/ca/audit-log.pem" "${N_DATA[B]}/ca/audit-log.pem" ||
	fail "node B has another audit log key"
cmp -s "${N_DATA[A]}/tls/cert.pem" "${N_DATA[B]}/tls/cert.pem" && fail "node B has node A's TLS certificate"
[ "$(as_sam "SELECT string_agg(name || md5(blob), ',' ORDER BY name) FROM inkan_keys.ca")" = "$ca_before" ] ||
	fail "the join changed the CA's keys"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.log_key")" = 1 ] || fail "an audit log key was made by the join"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.master_check")" = 1 ] || fail "no master key check value"
[ ! -e "${N_DATA[B]}/sam/keystore.db" ] || fail "the join made an SQLite key store"
ok "node B joined (inkan init --join, master key from 2 of 3 shares): same master key, CA and audit log key, its own TLS certificate, nothing made in the key store"
start B

# ---- a user made on A logs in on B; a key made on A signs on B ----
alice_b=$(login alice "$(pw_of alice)")
mapfile -t H < <(digests sha256 2)
authorize alice "$alice_b" "$acred" "${H[@]}"
[ -n "$SAD" ] || fail "authorize on node B: $STATUS $BODY"
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$acred" --arg s "$SAD" --arg h0 "${H[0]}" \
	--arg h1 "${H[1]}" '{credentialID: $c, SAD: $s, hashes: [$h0, $h1], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice_b"
expect_status 200
sigs=$BODY
pubkey "$alice_b" "$acred"
for i in 0 1; do
	printf '%s' "$sigs" | jq -r ".signatures[$i]" | base64 -d >"$T/sigB.$i"
	openssl pkeyutl -verify -pubin -inkey "$T/$acred.pub.pem" -in "$T/dg.sha256.$((i + 1)).bin" \
		-sigfile "$T/sigB.$i" >/dev/null 2>"$T/v.err" ||
		fail "openssl refuses node B's signature $i with node A's key: $(cat "$T/v.err")"
done
ok "alice (made on node A) logged in on node B; her key made on A signed on B; openssl pkeyutl -verify accepts both signatures"

# ---- a SAD minted on node A and spent on node B: each count once across the nodes ----
use A
mapfile -t X < <(digests sha256 3)
authorize alice "$alice_b" "$acred" "${X[@]}"
[ -n "$SAD" ] || fail "authorize on node A: $STATUS $BODY"
sadA=$SAD
# spend_on NODE HASH...: signHash of these hashes under node A's SAD, on NODE
spend_on() {
	local node=$1
	shift
	use "$node"
	api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$acred" --arg s "$sadA" \
		'{credentialID: $c, SAD: $s, hashes: $ARGS.positional, signAlgo: "1.2.840.10045.4.3.2"}' \
		--args "$@")" "$alice_b"
}
spend_on B "${X[0]}" "${X[1]}"
expect_status 200
for i in 0 1; do
	printf '%s' "$BODY" | jq -r ".signatures[$i]" | base64 -d >"$T/sigX.$i"
	openssl pkeyutl -verify -pubin -inkey "$T/$acred.pub.pem" -in "$T/dg.sha256.$((i + 1)).bin" \
		-sigfile "$T/sigX.$i" >/dev/null 2>"$T/v.err" ||
		fail "openssl refuses the signature node B made under node A's SAD: $(cat "$T/v.err")"
done
spend_on A "${X[0]}"
[ "$STATUS" != 200 ] || fail "a hash signed on node B was signed again on node A under the same SAD"
spend_on B "${X[1]}"
[ "$STATUS" != 200 ] || fail "a hash signed on node B was signed again on node B under the same SAD"
# the last count, asked of both nodes at once: exactly one signs
racers=()
for n in A B; do
	use "$n"
	curl -s --cacert "$CACERT" -o "$T/race.$n.body" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $alice_b" -H 'Content-Type: application/json' \
		--data-binary "$(jq -nc --arg c "$acred" --arg s "$sadA" --arg h "${X[2]}" \
			'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" \
		"$URL/csc/v2/signatures/signHash" >"$T/race.$n.status" &
	racers+=($!)
done
wait "${racers[@]}"
won=0
for n in A B; do [ "$(cat "$T/race.$n.status")" = 200 ] && won=$((won + 1)); done
[ "$won" = 1 ] || fail "the SAD's last count, asked of both nodes at once: $won signatures (A $(cat "$T/race.A.status"), B $(cat "$T/race.B.status"))"
spend_on B "${X[2]}"
[ "$STATUS" != 200 ] || fail "the SAD signed after its last count"
ok "a SAD minted on node A signed on node B (openssl verifies); each hash once across both nodes; its last count asked of A and B at once: exactly one signature"

# ---- a TOTP code used on node A is refused on node B; failed logins counted across nodes ----
use A
code=$(otp_next alice)
try_login alice "$(pw_of alice)" "$code"
expect_status 200
use B
try_login alice "$(pw_of alice)" "$code"
expect_refused 401 authentication_error
use A
carol=$(mkactive "$ro" carol signer)
carol_secret=$(user_secret carol)
# max_login_failures is 5 (the default): three wrong passwords on A, two on B
for n in A A A B B; do
	use "$n"
	try_login carol "wrong-password-$n" "$(otp_wrong "$carol_secret")"
	expect_status 401 403
done
for n in A B; do
	use "$n"
	try_login carol "$(pw_of carol)"
	expect_refused 401 authentication_error
done
api GET /api/v1/users/carol "" "$ro"
expect_status 200
expect_jq '.status == "locked" and .failed_logins >= 5'
ok "a TOTP code that logged alice in on node A is refused on node B; carol's wrong passwords, three on A and two on B, lock her account on both nodes"

# ---- both nodes sign; node A is killed with SIGKILL in the middle ----
use A
alice_a=$(login alice "$(pw_of alice)")
M=40
mkdir -p "$T/h" "$T/r"
for i in $(seq 1 $((2 * M))); do
	head -c 64 /dev/urandom | openssl dgst -sha256 -binary >"$T/h/$i.bin"
	base64 -w0 "$T/h/$i.bin" >"$T/h/$i.b64"
done
# hashes 1..M are node A's, M+1..2M node B's, each under a SAD of its node
hashes_of() { for i in $(seq "$1" "$2"); do cat "$T/h/$i.b64"; echo; done | jq -R . | jq -sc .; }
sad_on() {
	local node=$1 tok=$2 first=$3 last=$4
	use "$node"
	api POST /csc/v2/credentials/authorize "$(jq -nc --arg c "$acred" --argjson h "$(hashes_of "$first" "$last")" \
		--arg p "$PIN" --arg o "$(otp_next alice)" \
		'{credentialID: $c, numSignatures: ($h | length), hashes: $h, PIN: $p, OTP: $o}')" "$tok"
	expect_status 200
	printf '%s' "$BODY" | jq -r .SAD
}
sad_a=$(sad_on A "$alice_a" 1 "$M")
sad_b=$(sad_on B "$alice_b" $((M + 1)) $((2 * M)))
signer() {
	local url=$1 tok=$2 sad=$3 first=$4 last=$5 step=$6 i code
	for ((i = first; i <= last; i += step)); do
		jq -nc --arg c "$acred" --arg s "$sad" --arg h "$(cat "$T/h/$i.b64")" \
			'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}' >"$T/r/$i.req"
		code=$(curl -s --max-time 20 --cacert "$T/cacerts.pem" -H "Authorization: Bearer $tok" \
			-H 'Content-Type: application/json' --data-binary @"$T/r/$i.req" -o "$T/r/$i.out" \
			-w '%{http_code}' "$url/csc/v2/signatures/signHash" || true)
		[ "$code" = 200 ] && mv "$T/r/$i.out" "$T/r/$i.ok"
	done
	return 0
}
cat "${N_DATA[A]}/tls/cert.pem" "${N_DATA[B]}/tls/cert.pem" >"$T/cacerts.pem"
: >"$T/signer_pids"
for k in 0 1; do
	signer "${N_URL[A]}" "$alice_a" "$sad_a" $((1 + k)) "$M" 2 & echo $! >>"$T/signer_pids"
	signer "${N_URL[B]}" "$alice_b" "$sad_b" $((M + 1 + k)) $((2 * M)) 2 & echo $! >>"$T/signer_pids"
done
cat "$T/signer_pids" >>"$T/extra_pids"
for _ in $(seq 1 200); do
	[ "$(ls "$T/r" | grep -c '\.ok$' || true)" -ge 10 ] && break
	sleep 0.05
done
use A
sampid=$(sam_pid)
kill -KILL "$INKAND_PID"
wait "$INKAND_PID" 2>/dev/null || true
INKAND_PID=""
N_PID[A]=""
for p in $(cat "$T/signer_pids"); do wait "$p" 2>/dev/null || true; done
for _ in $(seq 1 50); do [ -n "$sampid" ] && alive "$sampid" || break; sleep 0.1; done
got_a=0 got_b=0
for f in "$T"/r/*.ok; do
	[ -e "$f" ] || continue
	i=$(basename "$f" .ok)
	if [ "$i" -le "$M" ]; then got_a=$((got_a + 1)); else got_b=$((got_b + 1)); fi
done
[ "$got_a" -ge 1 ] || fail "node A returned no signature before the kill"
[ "$got_a" -lt "$M" ] || fail "the kill came after every one of node A's signatures: nothing was tested"
[ "$got_b" = "$M" ] || fail "node B returned $got_b of its $M signatures while node A was killed"
ok "node A killed with SIGKILL after $got_a of its $M signatures; node B returned all $M of its own"

# node B carries on
use B
mapfile -t H < <(digests sha256 1)
authorize alice "$alice_b" "$acred" "${H[@]}"
[ -n "$SAD" ] || fail "authorize on node B after A's death: $STATUS $BODY"
api POST /csc/v2/signatures/signHash "$(jq -nc --arg c "$acred" --arg s "$SAD" --arg h "${H[0]}" \
	'{credentialID: $c, SAD: $s, hashes: [$h], signAlgo: "1.2.840.10045.4.3.2"}')" "$alice_b"
expect_status 200
ok "node B carries on signing with node A dead"

# node A comes back; then one log, every returned signature has its record
start A
use B
printf '%s' "$aud" >"$T/aud.tok"
chmod 600 "$T/aud.tok"
# the records of every node, under a head: wait for the checkpoints of both
pg_checkpointed
n=$(pg_answered_recorded)
ok "every one of the $n signatures returned by either node has its csc.signHash record"
for node in A B; do
	use "$node"
	"$INKAN_CLI" --server "$URL" --cacert "$CACERT" --token-file "$T/aud.tok" audit verify \
		--key "$DATA/ca/audit-log.pem" >"$T/v.out" 2>"$T/v.err" ||
		fail "the log does not verify through node $node: $(cat "$T/v.err")"
done
ok "$(head -n1 "$T/v.out")"
[ "$(as_inkand "SELECT count(DISTINCT request_id) FROM audit_log WHERE source = 'inkan-sam'")" = \
  "$(as_inkand "SELECT count(*) FROM audit_log WHERE source = 'inkan-sam'")" ] ||
	fail "a SAM record is in the log twice"
[ "$(as_sam "SELECT count(DISTINCT node) FROM inkan_keys.sam_audit WHERE node <> ''")" = 2 ] ||
	fail "the SAM records are not from both nodes"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.log_key")" = 1 ] || fail "more than one audit log key"
ok "one log from both nodes and both SAMs verifies (inkan audit verify through A and through B), no SAM record twice"

# ---- node B's SAM loses its key store: 503 with Retry-After, then back without a restart ----
use B
ADMIN=$("$PGSH" url "$INKAN_PG_STATE" inkan_admin "$DB")
adm() { "$PSQL" -X -qAt -v ON_ERROR_STOP=1 -d "$ADMIN" -c "$1"; }
sampid=$(sam_pid)
adm "REVOKE CONNECT ON DATABASE $DB FROM inkan_sam"
adm "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$DB' AND
	usename = 'inkan_sam'" >/dev/null
for _ in $(seq 1 50); do
	[ "$(adm "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND usename = 'inkan_sam'")" = 0 ] && break
	sleep 0.1
done
api POST /csc/v2/credentials/list '{}' "$alice_b"
expect_refused 503 temporarily_unavailable
ra=$(header Retry-After)
[ -n "$ra" ] || fail "503 without Retry-After"
adm "GRANT CONNECT ON DATABASE $DB TO inkan_sam"
api POST /csc/v2/credentials/list '{}' "$alice_b"
expect_status 200
expect_jq --arg c "$acred" '.credentialIDs | index($c) != null'
[ "$(sam_pid)" = "$sampid" ] || fail "node B's inkan-sam was restarted"
ok "node B's SAM lost its key store: 503 temporarily_unavailable with Retry-After $ra; back to 200 once it connects again, with no restart"

# ---- a third node with another master key refuses to start ----
C="$T/dataC"
pg_sam_files "$C"
cp -r "${N_DATA[B]}/inkand" "$C/inkand"
cp -r "${N_DATA[B]}/ca" "$C/ca"
ln -s inkand/tls "$C/tls"
head -c 32 /dev/urandom >"$C/sam/master.key"
chmod 600 "$C/sam/master.key"
heads=$(as_sam "SELECT count(*) FROM inkan_keys.log_head")
rc=0
timeout 60 "$INKAND" --data "$C" --config "$CONF" --listen 127.0.0.1:0 >"$T/c.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a node with another master key started"
grep -q "master key mismatch" "$T/c.log" || fail "no clear error for the master key mismatch: $(tail -5 "$T/c.log")"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.log_key")" = 1 ] || fail "the third node made an audit log key"
rc=0
"$INKAN_SAM" --join --data "$C" --config "$CONF" >"$T/cj.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "master key mismatch" "$T/cj.log" || fail "inkan-sam --join took another master key"
ok "a third node with another master key refuses to start (\"$(grep -o 'master key mismatch[^"]*' "$T/c.log" | head -1 | cut -c1-60)...\"); nothing made in the key store"
[ "$(as_sam "SELECT count(*) FROM inkan_keys.log_head")" -ge "$heads" ] || fail "heads went away"

# Both stop cleanly, one after the other: each final head (closed, over its SAM's close) extends
# the last, and the last covers every record of both.
for node in A B; do
	use "$node"
	stop_inkand
	N_PID[$node]=""
	[ "$INKAND_RC" = 0 ] || fail "node $node's clean stop failed (exit $INKAND_RC): $(grep -i checkpoint "$LOG" | tail -3)"
	check_no_secrets_in "$LOG" "node $node's inkand log"
	check_no_sanitizer_report
done
[ "$(as_sam "SELECT closed FROM inkan_keys.log_state")" = 1 ] || fail "the last head is not a clean stop's"
[ "$(as_sam "SELECT size FROM inkan_keys.log_state")" = "$(as_inkand "SELECT max(seq) FROM audit_log")" ] ||
	fail "the last head does not cover every record"
[ "$(as_inkand "SELECT count(*) FROM audit_log WHERE action = 'sam.log.close'")" = 2 ] ||
	fail "not each SAM's close is in the log"
ok "both nodes stopped cleanly: the last head is final and covers every record, with both SAMs' close"
finish
