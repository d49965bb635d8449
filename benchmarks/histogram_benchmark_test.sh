#!/usr/bin/env bash
# Smoke run of histogram_benchmark: every benchmark runs briefly and reports
# a time and no error.
set -euo pipefail
source benchmarks/smoke_test_lib.sh
run_benchmark_json benchmarks/histogram_benchmark --benchmark_min_time=0.001 \
  --benchmark_filter='BM_(HistogramRecord|RunStatsRecordCompleted|HistogramValueAtPercentile/1$|HistogramMerge)'
for name in BM_HistogramRecord BM_RunStatsRecordCompleted \
  BM_HistogramValueAtPercentile/1 BM_HistogramMerge; do
  expect_benchmarks "$name"
  expect_counter "$name" real_time
done
