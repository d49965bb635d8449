#!/usr/bin/env bash
# Compares asyncwork's 64 B ECHO ping-pong with sockperf's TCP ping-pong on
# the same machine, in the same run, and prints the ratio of message rates.
#
#   tools/bazel run //benchmarks:sockperf_compare -- [SECONDS] [KIND] [ROUNDS]
#
# SECONDS per measurement (default 3), KIND the asyncwork server (default
# epoll), ROUNDS alternations of the two (default 3); the median ratio is
# the result. sockperf sends 84-byte messages, the size of our frame (4-byte
# length, 16-byte header, 64 bytes of data). Needs sockperf (Debian:
# apt-get install -y sockperf) and python3 (to find a free port).
set -euo pipefail
seconds=${1:-3}
kind=${2:-epoll}
rounds=${3:-3}
bench=${SERVER_BENCHMARK:-$(dirname "$0")/server_benchmark}
if ! command -v sockperf >/dev/null; then
  echo "sockperf not found; install it with: apt-get install -y sockperf" >&2
  exit 2
fi
[[ -x "$bench" ]] || { echo "no benchmark binary at $bench" >&2; exit 2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

sockperf_rate() {
  local port server out
  port=$(free_port)
  sockperf sr --tcp -i 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  server=$!
  sleep 0.5
  out=$(sockperf pp --tcp -i 127.0.0.1 -p "$port" -m 84 -t "$seconds" 2>&1)
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  # "[Valid Duration] RunTime=2.548 sec; SentMessages=...; ReceivedMessages=156857"
  sed -n 's/.*\[Valid Duration\] RunTime=\([0-9.]*\) sec.*ReceivedMessages=\([0-9]*\).*/\2 \1/p' <<<"$out" |
    awk '{ printf "%.0f\n", $1 / $2 }'
}

asyncwork_rate() {
  "$bench" --benchmark_filter="^BM_EchoPingPong/$kind/" \
    --benchmark_min_time="$seconds" --benchmark_format=json 2>/dev/null |
    sed -n 's/.*"items_per_second": \([0-9.e+]*\).*/\1/p' |
    awk '{ printf "%.0f\n", $1 }'
}

ratios=()
for round in $(seq "$rounds"); do
  theirs=$(sockperf_rate)
  ours=$(asyncwork_rate)
  [[ -n "$theirs" && -n "$ours" ]] || { echo "a measurement failed" >&2; exit 1; }
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$ratio")
  echo "round $round: sockperf $theirs msg/s, asyncwork $kind $ours msg/s, ratio $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median ratio (asyncwork $kind / sockperf): $median"
