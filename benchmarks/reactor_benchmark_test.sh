#!/usr/bin/env bash
# Smoke test: runs a few reactor benchmarks very briefly and checks that each
# backend ran, reported a rate (the idle loop its time and fd count), and
# reported no error.
set -euo pipefail
source benchmarks/smoke_test_lib.sh
run_benchmark_json benchmarks/reactor_benchmark --benchmark_min_time=0.01 \
  --benchmark_filter='BM_IdleIteration/(epoll|poll|select)/10$|BM_BusyEventfd|BM_SocketPairPingPong'
for backend in epoll poll select; do
  expect_benchmarks "BM_IdleIteration/$backend/10" "BM_BusyEventfd/$backend" \
    "BM_SocketPairPingPong/$backend"
  expect_counter "BM_IdleIteration/$backend/10" real_time
  fds=$(counter "BM_IdleIteration/$backend/10" fds)
  expect_value "$fds" 'v == 10' "BM_IdleIteration/$backend/10 watched ${fds} fds"
  expect_counter "BM_BusyEventfd/$backend" items_per_second
  expect_counter "BM_SocketPairPingPong/$backend" items_per_second
done
