#!/usr/bin/env bash
# Smoke run of histogram_benchmark: every benchmark runs briefly and reports.
# Speed is not judged here; that is what the benchmark itself is for.
set -euo pipefail
out=$(benchmarks/histogram_benchmark --benchmark_min_time=0.001 \
  --benchmark_filter='BM_(HistogramRecord|RunStatsRecordCompleted|HistogramValueAtPercentile/1$|HistogramMerge)')
echo "$out"
for name in BM_HistogramRecord BM_RunStatsRecordCompleted \
  BM_HistogramValueAtPercentile/1 BM_HistogramMerge; do
  grep -Eq "^$name +[0-9.]+ ns" <<<"$out" || {
    echo "no result for $name" >&2
    exit 1
  }
done
