# lib_sign: what the signing tests share beyond lib.sh (sourced after it) — `inkan sign` as a
# user with PIN and OTP, `inkan verify`'s JSON report and the level it names.

# sign_rc USER TOKEN ARGS...: `inkan sign --yes ARGS` as USER (TOKEN, $PIN, the user's next
# OTP); sets RC, its output in $T/sign.out and $T/sign.err.
sign_rc() {
	local user=$1 tok=$2
	shift 2
	RC=0
	INKAN_SERVER=$URL INKAN_CACERT=$CACERT INKAN_TOKEN=$tok INKAN_PIN=$PIN \
		INKAN_OTP=$(otp_next "$user") timeout 600 "$INKAN_CLI" sign --yes "$@" \
		</dev/null >"$T/sign.out" 2>"$T/sign.err" || RC=$?
}
# must_sign USER TOKEN ARGS...: the same; the test fails unless it succeeds.
must_sign() {
	sign_rc "$@"
	[ "$RC" = 0 ] || fail "inkan sign ${*:3} failed ($RC): $(cat "$T/sign.err")"
}
# vfy ARGS...: `inkan verify --json --trust $ROOT ARGS`; sets RC and V (the report), logged.
vfy() {
	RC=0
	timeout 300 "$INKAN_CLI" verify --json --trust "$ROOT" "$@" >"$T/v.json" 2>"$T/v.err" </dev/null || RC=$?
	V=$(cat "$T/v.json")
	printf 'inkan verify %s -> %s\n%s\n' "$*" "$RC" "$V" >>"$TRANSCRIPT"
}
# passed LEVEL ARGS...: vfy says TOTAL-PASSED at LEVEL for the first signature, else the test
# fails with what it said.
passed() {
	local level=$1
	shift
	vfy "$@"
	[ "$RC" = 0 ] && printf '%s' "$V" | jq -e --arg l "$level" \
		'.signatures[0].indication == "TOTAL-PASSED" and .signatures[0].level == $l' >/dev/null ||
		fail "inkan verify $* is not TOTAL-PASSED at $level ($RC): $(printf '%s' "$V" | jq -c '.signatures[0] | {indication, sub_indication, level, problems, warnings, archive_timestamps}') $(cat "$T/v.err")"
}
