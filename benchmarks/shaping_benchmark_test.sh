#!/usr/bin/env bash
# Smoke test: runs the shaping benchmarks once, briefly, and checks that
# each reported its figures and that the figures obey what the shaping
# guarantees whatever the load: never early, never above the cap. The
# precision figures themselves are for a quiet machine (see the .cc).
set -euo pipefail
source benchmarks/smoke_test_lib.sh
latency=BM_Latency/20/iterations:1/real_time
throughput=BM_Throughput/100/iterations:1/real_time
drift_run=BM_Drift/iterations:1/real_time
run_benchmark_json benchmarks/shaping_benchmark \
  --benchmark_filter='BM_Latency/20|BM_Throughput/100|BM_Drift'
expect_benchmarks "$latency" "$throughput" "$drift_run"
min_error=$(counter "$latency" min_error_us)
throughput_error=$(counter "$throughput" error_pct)
drift=$(counter "$drift_run" drift_us)
echo "latency min error: ${min_error} us; throughput error: ${throughput_error}%; drift: ${drift} us"
expect_value "$min_error" 'v >= 0' "a message arrived early: ${min_error} us"
expect_value "$throughput_error" 'v <= 0.01' \
  "throughput above the cap: ${throughput_error}%"
[[ -n "$drift" ]] || fail "no drift figure"
