#!/usr/bin/env bash
# Runs the shaper: a bad flag value is refused naming the flag and the value;
# with good flags the first line on stdout is `listening on 127.0.0.1:PORT`,
# and SIGTERM stops it with exit status 0. Then, between a real server
# (//server:serve) and a client (//clients:blocking), --fault cuts every
# other connection: the client completes some requests and reports the rest
# failed with "connection closed"; a stall makes them fail by deadline.
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
expect_refused "--fault=slice=0" --upstream=127.0.0.1:7000 --fault=slice=0
expect_refused "unknown key 'colse_after'" --upstream=127.0.0.1:7000 \
  --fault=colse_after=5

"$shaper" --help >"$tmp/help" 2>&1 || true
for word in --fault close_after reset_after stall_after slice connect_delay \
  every direction; do
  grep -qF -- "$word" "$tmp/help" ||
    { echo "--help does not mention $word" >&2; exit 1; }
done

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

# start PREFIX COMMAND...: starts COMMAND in the background with stdout and
# stderr in $tmp/PREFIX.out and .err, waits for its `listening on` line, and
# sets $pid and $address.
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
start() {
  local prefix=$1
  shift
  "$@" >"$tmp/$prefix.out" 2>"$tmp/$prefix.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    [[ -s "$tmp/$prefix.out" ]] && break
    sleep 0.1
  done
  address=$(sed -n 's/^listening on //p' "$tmp/$prefix.out" | head -n1)
  [[ -n "$address" ]] ||
    { echo "$prefix did not start" >&2; cat "$tmp/$prefix.err" >&2; exit 1; }
}

start serve server/serve --kind=epoll --listen=127.0.0.1:0
server=$address

# json_field NAME: the number after "NAME": in $json.
json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$json"; }

# Every connection closes after 300 bytes, in its third answer (a request
# and an answer are 52 bytes each with --size=32); the blocking client
# reconnects after each failure. (every=2 would spare the run: the client
# binary's first connection only checks that the server is reachable.)
start close_shaper "$shaper" --upstream="$server" --fault=close_after=300
# run_client ARGS...: runs the blocking client with ARGS through the shaper
# at $address and sets $json; it must exit 1, the status for failed requests.
run_client() {
  local status=0
  json=$(timeout 60 clients/blocking --server="$address" --size=32 --json \
    "$@") || status=$?
  [[ $status -eq 1 ]] || { echo "client exited $status: $json" >&2; exit 1; }
}

run_client --requests=20 --deadline=5s
echo "close: $json"
[[ $(json_field started) -eq 20 ]]
(( $(json_field completed) >= 1 && $(json_field errors) >= 1 ))
(( $(json_field completed) + $(json_field errors) == 20 ))
(( $(json_field connection_closed) == $(json_field errors) ))
grep -q "fault: closed after 300 bytes" "$tmp/close_shaper.err" ||
  { echo "no fault logged" >&2; cat "$tmp/close_shaper.err" >&2; exit 1; }

# A stall leaves the connection open: its request fails by its deadline,
# and the client carries on over a new connection.
start stall_shaper "$shaper" --upstream="$server" --fault=stall_after=300
run_client --requests=5 --deadline=300ms
echo "stall: $json"
(( $(json_field completed) >= 1 && $(json_field errors) >= 1 ))
(( $(json_field deadline_exceeded) == $(json_field errors) ))

for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do
  timeout 10 tail --pid="$p" -f /dev/null ||
    { echo "process $p did not stop" >&2; exit 1; }
done
trap - EXIT
