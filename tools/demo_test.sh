#!/usr/bin/env bash
# Runs the demo briefly over a 5 ms link and checks its headline: with 16
# requests in flight the callback client finishes far more work than the
# blocking one in the same time (ideally 16x; at least 3x is asked for, a
# generous margin for a loaded 2-core machine).
set -uo pipefail
source tools/cli_test_lib.sh
bin=tools/demo

expect_exit 0 --latency=5ms --in_flight=16 --duration=400ms \
  --strategies=blocking,callback,threaded --json
cat err.txt
# The table and headline go to stderr with --json; results to stdout.
grep -Eq '^strategy +work/s +vs blocking +of bound' err.txt ||
  fail "no table header"
grep -Eq '^callback .*#' err.txt || fail "no callback row with a bar"
grep -q 'the work of blocking in the same time' err.txt || fail "no headline"

# rate STRATEGY prints work_per_s from the JSON line of STRATEGY.
rate() {
  grep "\"strategy\": \"$1\"" stdout.txt |
    sed -E 's/.*"work_per_s": ([-+0-9.eE]+).*/\1/'
}
blocking=$(rate blocking)
callback=$(rate callback)
threaded=$(rate threaded)
echo "blocking ${blocking}/s, callback ${callback}/s, threaded ${threaded}/s"
awk -v b="$blocking" -v c="$callback" 'BEGIN { exit !(b > 0 && c >= 3 * b) }' ||
  fail "callback ${callback}/s is not 3x blocking ${blocking}/s"
awk -v b="$blocking" -v t="$threaded" 'BEGIN { exit !(b > 0 && t >= 3 * b) }' ||
  fail "threaded ${threaded}/s is not 3x blocking ${blocking}/s"
# Blocking is bound by one request per 10 ms round trip: at most 100/s.
awk -v b="$blocking" 'BEGIN { exit !(b <= 110) }' ||
  fail "blocking ${blocking}/s beats one request per round trip"

# Bad flags are refused with a clear message and exit status 2.
expect_exit 2 --strategies=blocking,nonesuch
grep -q 'nonesuch' err.txt || fail "unknown strategy not named"
expect_exit 2 --in_flight=0
grep -q 'in_flight' err.txt || fail "bad --in_flight not named"
expect_exit 2 --server_kind=nonesuch
grep -q 'nonesuch' err.txt || fail "unknown server kind not named"
