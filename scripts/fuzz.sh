#!/bin/sh
# Runs every libFuzzer harness of BUILD (configured with -DINKAN_FUZZ=ON) for FUZZ_SECONDS each
# on a fresh copy of its seeds and saved crashes (tests/fuzz/corpus/NAME, tests/fuzz/regress/NAME)
# in BUILD/fuzz-run/NAME, never in the source tree; prints executions, exec/s, corpus size and
# crashes per harness, and fails when one crashed (the input is in BUILD/fuzz-run/NAME/crashes/:
# copy it into tests/fuzz/regress/NAME/ once fixed). tests/fuzz/NAME.dict, when there is one,
# is the harness's libFuzzer dictionary. Usage: scripts/fuzz.sh BUILD [NAME...]
set -eu
build=$1
shift
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-60}
names=${*:-$(cd "$src/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
run="$build/fuzz-run"
failed=""
# libFuzzer finds leaks too; UBSan stops at the first report (-fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
printf '%-8s %12s %8s %8s %8s\n' harness executions exec/s corpus crashes
for n in $names; do
	d="$run/$n"
	rm -rf "$d"
	mkdir -p "$d/corpus" "$d/crashes"
	for s in "$src/tests/fuzz/corpus/$n" "$src/tests/fuzz/regress/$n"; do
		[ -d "$s" ] && find "$s" -maxdepth 1 -type f ! -name README -exec cp {} "$d/corpus/" \;
	done
	dict=""
	[ -f "$src/tests/fuzz/$n.dict" ] && dict="-dict=$src/tests/fuzz/$n.dict"
	rc=0
	# shellcheck disable=SC2086 # $dict is one word or none
	"$build/fuzz/fuzz_$n" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$d/crashes/" $dict "$d/corpus" >"$d/log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -n1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log" | tail -n1)
	crashes=$(find "$d/crashes" -type f | wc -l)
	[ "$rc" -eq 0 ] || [ "$crashes" -gt 0 ] || crashes="rc=$rc"
	printf '%-8s %12s %8s %8s %8s\n' "$n" "${execs:-?}" "${rate:-?}" \
		"$(find "$d/corpus" -type f | wc -l)" "$crashes"
	[ "$rc" -eq 0 ] || failed="$failed $n"
done
if [ -n "$failed" ]; then
	for n in $failed; do
		echo "--- fuzz_$n (log: $run/$n/log) ---" >&2
		grep -m1 -A12 -E '^==[0-9]+==ERROR|runtime error|ERROR: libFuzzer' "$run/$n/log" >&2 || true
	done
	echo "fuzz: crashed:$failed" >&2
	exit 1
fi
