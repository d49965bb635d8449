#!/usr/bin/env bash
# Runs each client binary (named by the arguments) against a FakeServer
# process and checks what it prints and how it exits: the summary, --json,
# an in-process server, --help, bad flags, an unreachable server, a run
# with failures, and --fault.
set -euo pipefail

tmp=$(mktemp -d)
server_pids=()
cleanup() {
  exec 3>&- 4>&- 2>/dev/null || true
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_server FD NAME FLAGS...: starts a fake server whose stdin is a fifo
# held open on FD (closing FD stops it) and sets $address.
start_server() {
  local fd=$1 name=$2
  shift 2
  mkfifo "$tmp/$name.ctl"
  clients/fake_server_main "$@" <"$tmp/$name.ctl" >"$tmp/$name.addr" &
  server_pids+=($!)
  eval "exec $fd>\"$tmp/$name.ctl\""
  for _ in $(seq 200); do
    [[ -s "$tmp/$name.addr" ]] && break
    sleep 0.05
  done
  address=$(head -n 1 "$tmp/$name.addr")
  [[ -n "$address" ]] || { echo "fake server $name did not start" >&2; exit 1; }
}

start_server 3 good
good=$address
start_server 4 flaky --close_probability=0.2
flaky=$address

for strategy in "$@"; do
  binary=clients/$strategy
  json=$("$binary" --server="$good" --requests=300 --op=reverse --json)
  echo "$json"
  grep -q "^{\"strategy\":\"$strategy\",\"work_per_s\":[1-9]" <<<"$json"
  grep -q '"completed":300,"errors":0' <<<"$json"
  for key in p50_us p99_us p999_us cpu_us_per_request; do
    grep -q "\"$key\":[0-9]" <<<"$json"
  done

  summary=$("$binary" --server="$good" --requests=100 --op=hash --arg=2)
  echo "$summary"
  grep -q "^$strategy: 100 completed, 0 failed of 100 started in " <<<"$summary"
  grep -q '^work per second: [1-9]' <<<"$summary"
  grep -q '^latency from due time: p50 ' <<<"$summary"

  # No --server: the binary serves itself, in-process.
  own=$("$binary" --requests=50 --op=echo)
  grep -q "^$strategy: 50 completed, 0 failed of 50 started in " <<<"$own"
  status=0
  "$binary" --in_process_server=bogus 2>"$tmp/err" || status=$?
  [[ $status -eq 2 ]] || { echo "bad server kind exited $status" >&2; exit 1; }
  grep -q -- "--in_process_server=bogus" "$tmp/err"

  "$binary" --help >"$tmp/help" 2>&1 || { echo "--help failed" >&2; exit 1; }
  grep -q -- "--server" "$tmp/help"
  grep -q "^$strategy: a work client that " "$tmp/help"

  status=0
  "$binary" --server="$good" --in_flight=0 2>"$tmp/err" || status=$?
  [[ $status -eq 2 ]] || { echo "bad value exited $status" >&2; exit 1; }
  grep -q -- "--in_flight=0" "$tmp/err"
  status=0
  "$binary" --server="$good" --size=lots 2>"$tmp/err" || status=$?
  [[ $status -eq 2 ]] || { echo "malformed value exited $status" >&2; exit 1; }
  grep -q "'lots'.*'size'" "$tmp/err"

  status=0
  "$binary" --server=127.0.0.1:1 2>"$tmp/err" || status=$?
  [[ $status -eq 1 ]] || { echo "unreachable exited $status" >&2; exit 1; }
  grep -q "cannot reach the server at 127.0.0.1:1: .*refused" "$tmp/err"

  status=0
  out=$("$binary" --server="$flaky" --requests=200) || status=$?
  echo "$out"
  [[ $status -eq 1 ]] || { echo "failed requests exited $status" >&2; exit 1; }
  grep -q '^failed by cause: connection closed [1-9]' <<<"$out"

  # --fault injects sim/fault.h's faults in-process: every connection is
  # cut after 300 bytes (within its third exchange at --size=32), so some
  # requests complete and the rest fail as closed.
  status=0
  out=$("$binary" --server="$good" --requests=40 --size=32 --in_flight=1 \
    --fault=close_after=300) || status=$?
  echo "$out"
  [[ $status -eq 1 ]] || { echo "faulted run exited $status" >&2; exit 1; }
  grep -q "^$strategy: [1-9][0-9]* completed, [1-9][0-9]* failed of 40 " \
    <<<"$out"
  grep -q '^failed by cause: connection closed [1-9][0-9]*$' <<<"$out"
  status=0
  "$binary" --server="$good" --fault=slice=0 2>"$tmp/err" || status=$?
  [[ $status -eq 2 ]] || { echo "bad --fault exited $status" >&2; exit 1; }
  grep -q -- "--fault=slice=0" "$tmp/err"
done
