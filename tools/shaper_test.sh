#!/usr/bin/env bash
# Runs the shaper: a bad flag value is refused naming the flag and the value;
# with good flags the first line on stdout is `listening on 127.0.0.1:PORT`,
# and SIGTERM stops it with exit status 0.
set -euo pipefail
shaper=tools/shaper
tmp="${TEST_TMPDIR:-$(mktemp -d)}"

# expect_refused EXPECTED ARGS... runs the shaper with ARGS and checks it
# exits non-zero with EXPECTED in its error output.
expect_refused() {
  local expected=$1
  shift
  if timeout 10 "$shaper" "$@" >"$tmp/out" 2>"$tmp/err"; then
    echo "shaper accepted $*" >&2
    exit 1
  fi
  grep -qF -- "$expected" "$tmp/err" ||
    { echo "for $*, expected '$expected' in:" >&2; cat "$tmp/err" >&2; exit 1; }
  [[ ! -s "$tmp/out" ]] || { echo "stdout not empty for $*" >&2; exit 1; }
}
expect_refused "0mbit" --upstream=127.0.0.1:7000 --bandwidth=0mbit
expect_refused "'bandwidth'" --upstream=127.0.0.1:7000 --bandwidth=0mbit
expect_refused "'latency'" --upstream=127.0.0.1:7000 --latency=-5ms
expect_refused "--up_bandwidth=3furlongs" --upstream=127.0.0.1:7000 \
  --up_bandwidth=3furlongs
expect_refused "--upstream is required" --latency=5ms

"$shaper" --listen=127.0.0.1:0 --upstream=127.0.0.1:7000 --latency=50ms \
  --bandwidth=10mbit >"$tmp/out" 2>"$tmp/err" &
pid=$!
# Stops the shaper however the test ends.
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  [[ -s "$tmp/out" ]] && break
  sleep 0.1
done
first=$(head -n1 "$tmp/out")
echo "first line: $first"
[[ "$first" =~ ^listening\ on\ 127\.0\.0\.1:[1-9][0-9]*$ ]] ||
  { echo "unexpected first line: '$first'" >&2; cat "$tmp/err" >&2; exit 1; }
kill -TERM "$pid"
status=0
# `wait` returns the shaper's status; bounded by the shaper's own exit.
timeout 10 tail --pid="$pid" -f /dev/null || { echo "shaper did not stop" >&2; exit 1; }
wait "$pid" || status=$?
trap - EXIT
[[ $status -eq 0 ]] || { echo "shaper exited with $status" >&2; cat "$tmp/err" >&2; exit 1; }
