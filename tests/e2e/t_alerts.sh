#!/usr/bin/env bash
# t_alerts: security events (16.1.2) reach the operator's alerting as well as the log — the
# journal's native protocol with a stable MESSAGE_ID where its socket is, else syslog with the
# alert's name in the text: an account locked (inkand), a person and a key locked (inkan-sam
# itself), refusals from one source past the burst, the clock, inkan-sam's death. Both sockets
# are played by alert_sink.py.
. "$(dirname "$0")/lib.sh"

init_data
fast_argon2
conf pin_max_failures 1
mkdir -p "$T/sink"
python3 "$INKAN_SRC/tests/e2e/alert_sink.py" "$T/sink" journal="$T/sink/journal.sock" \
	syslog="$T/sink/syslog.sock" &
SINK=$!
for i in $(seq 1 100); do [ -e "$T/sink/ready" ] && break; sleep 0.05; done
[ -e "$T/sink/ready" ] || fail "alert_sink did not start"
conf alert_journal_socket "$T/sink/journal.sock"
conf alert_syslog_socket "$T/sink/syslog.sock"
start_inkand

# journal_has NAME: a native-protocol datagram of that alert, with its stable MESSAGE_ID
declare -A MSGID=(
	[inkan.person.locked]=7b9de557f0d921ef2e85b7b0fbf7b113 [inkan.key.locked]=f1ae430ddb7b992d13bcc23232fbc0db
	[inkan.account.locked]=8f065ede1f2ad6aa2d5b50623c01493b [inkan.sam.died]=7968fc51b7e28293a2a1bab740378aed
	[inkan.clock]=f686c8e67971c3fd0ccbe6e0c925b792 [inkan.refusals]=81caa4d07ef44558162e6fad5786b7c9
)
journal_has() {
	local i
	for i in $(seq 1 100); do
		[ -s "$T/sink/journal.log" ] && jq -e -s --arg n "$1" --arg id "${MSGID[$1]}" --arg p "$2" 'any(.[];
			(split("\n") | index("INKAN_ALERT=" + $n)) != null
			and (split("\n") | index("MESSAGE_ID=" + $id)) != null
			and (split("\n") | index("SYSLOG_IDENTIFIER=" + $p)) != null
			and test("^MESSAGE=[^\n]+\n"))' "$T/sink/journal.log" >/dev/null && return 0
		sleep 0.05
	done
	fail "no $1 alert from $2 in the journal: $(cat "$T/sink/journal.log" 2>/dev/null | tail -n 5)"
}

so=$(first_login "$SO_USER" "$SO_PW" "$(newpw)")
ro=$(mkactive "$so" ro1 registration_officer)
alice=$(mkactive "$ro" alice signer)
bob=$(mkactive "$ro" bob signer)
carol=$(mkactive "$ro" carol signer)
PIN=pin-Meadow-4417
add_secret "$PIN"

# the clock: at start, when the kernel says it is not synchronised
read -r SYNCED _ < <(python3 "$INKAN_SRC/tests/e2e/kernel_clock.py")
if [ "$SYNCED" = 0 ]; then journal_has inkan.clock inkand; fi

# an account locked by wrong passwords (inkand)
for i in 1 2 3 4 5; do try_login bob "Wrong-password-$i" 000000; done
journal_has inkan.account.locked inkand

# a person locked by wrong one-time passwords (inkan-sam)
for i in 1 2 3 4 5; do try_login carol "$(pw_of carol)" "$(otp_wrong "$(user_secret carol)")"; done
journal_has inkan.person.locked inkan-sam

# a key locked by a wrong PIN (inkan-sam; pin_max_failures 1)
KA=$(mkkey "$alice")
PIN=wrong-Pin-0000
authorize alice "$alice" "$KA" "$(head -c 32 /dev/urandom | base64 -w0)"
expect_status 400
journal_has inkan.key.locked inkan-sam

# one source refused past the burst (5) of an interval
for i in $(seq 1 7); do api GET /api/v1/me "" "not-a-token-$i"; done
journal_has inkan.refusals inkand
ok "account, person and key lockouts, refusals past the burst and (kernel: synchronised=$SYNCED, alerted when 0) the clock: native journal datagrams with their stable MESSAGE_IDs, from the process that saw them"

# without a journal: syslog, the name in the text
stop_inkand
conf alert_journal_socket "$T/sink/no-journal.sock"
start_inkand
for i in $(seq 1 7); do api GET /api/v1/me "" "still-not-a-token-$i"; done
for i in $(seq 1 100); do
	[ -s "$T/sink/syslog.log" ] && jq -e -s 'any(.[]; test("^<84>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} inkand\\[[0-9]+\\]: alert=inkan.refusals "))' \
		"$T/sink/syslog.log" >/dev/null && break
	sleep 0.05
done
jq -e -s 'any(.[]; test("alert=inkan.refusals"))' "$T/sink/syslog.log" >/dev/null 2>&1 ||
	fail "no inkan.refusals alert on syslog: $(cat "$T/sink/syslog.log" 2>/dev/null | tail -n 3)"
jq -e -s 'any(.[]; test("^<84>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} inkand\\[[0-9]+\\]: alert=inkan.refusals "))' \
	"$T/sink/syslog.log" >/dev/null || fail "the syslog line is not authpriv.warning in RFC 3164 form: $(tail -n1 "$T/sink/syslog.log")"
ok "without a journal, alerts go to syslog (authpriv.warning, the alert's name in the text)"

# inkan-sam's death (inkand)
conf alert_journal_socket "$T/sink/journal.sock"
stop_inkand
start_inkand
kill -9 "$(sam_pid)"
journal_has inkan.sam.died inkand
grep -q 'alert=inkan.sam.died' "$LOG" || fail "the alert is not in inkand's log"
ok "inkan-sam's death: an alert from inkand, in the journal and the log"

kill "$SINK" 2>/dev/null || true
wait "$SINK" 2>/dev/null || true
finish
