#!/usr/bin/env bash
# Smoke run of the strategies harness: every strategy against the epoll and
# blocking servers over the 1 ms link, one short iteration each. Checks that
# each benchmark reported work with the counters plot and bench_compare read;
# speed is not judged here.
set -euo pipefail
source benchmarks/smoke_test_lib.sh
# The blocking server serves one of the 8 connections the threaded, polling
# and callback clients open; the rest wait out --request_deadline.
run_benchmark_json benchmarks/strategies --benchmark_min_time=0.001 \
  --per_iteration=30ms --warm_up=10ms --window=8 --request_deadline=200ms \
  --benchmark_filter='server:(epoll|blocking)/latency_us:1000/'
for server in epoll blocking; do
  for strategy in blocking threaded polling callback pipelined coroutine; do
    name="BM_Strategy/strategy:$strategy/server:$server/latency_us:1000/in_flight:8/op:echo/size:64/real_time"
    expect_benchmarks "$name"
    expect_counter "$name" items_per_second p50_us p99_us cpu_us_per_request \
      bound_fraction failed
    rate=$(counter "$name" items_per_second)
    expect_value "$rate" 'v > 0' "$strategy against $server completed nothing"
  done
done
# --help names the harness's own flags beside Google Benchmark's.
help=$(benchmarks/strategies --help 2>&1) || true
for flag in --benchmark_filter --per_iteration --warm_up --request_deadline --window; do
  grep -q -- "$flag" <<<"$help" || fail "--help does not mention $flag"
done
