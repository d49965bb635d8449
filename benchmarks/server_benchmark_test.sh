#!/usr/bin/env bash
# Smoke test: runs every server benchmark very briefly (the many-connections
# one with 200 connections) and checks each reported its rate.
set -euo pipefail
out=$(benchmarks/server_benchmark --benchmark_min_time=0.01 \
  --benchmark_filter='BM_EchoPingPong|BM_Pipelined|BM_ManyConnections/epoll/200/' 2>&1)
echo "$out"
for kind in blocking threading forking pool epoll; do
  grep -Eq "^BM_EchoPingPong/$kind/.*items_per_second=[0-9.]+[kM]?/s" <<<"$out" ||
    { echo "no ping-pong rate for $kind" >&2; exit 1; }
done
for kind in threading forking pool epoll; do
  grep -Eq "^BM_Pipelined/$kind/connections:64/depth:16/loops:1/.*items_per_second=[0-9.]+[kM]?/s" <<<"$out" ||
    { echo "no pipelined rate for $kind" >&2; exit 1; }
done
grep -Eq "^BM_Pipelined/epoll/connections:64/depth:16/loops:2/.*server_cpu_us=" <<<"$out" ||
  { echo "no server CPU per request for epoll" >&2; exit 1; }
grep -Eq "^BM_ManyConnections/epoll/200/.*server_bytes_per_conn=.*requests_per_second=|^BM_ManyConnections/epoll/200/.*p99_us=" <<<"$out" ||
  { echo "no many-connections figures" >&2; exit 1; }
if grep -q 'ERROR OCCURRED' <<<"$out"; then
  echo "a benchmark reported an error" >&2
  exit 1
fi
