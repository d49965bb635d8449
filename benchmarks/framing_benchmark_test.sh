#!/usr/bin/env bash
# Runs every framing benchmark once, briefly, so the binary cannot rot: each
# must report a rate and none may skip with an error.
set -euo pipefail
source benchmarks/smoke_test_lib.sh
run_benchmark_json benchmarks/framing_benchmark --benchmark_min_time=0.001
for name in BM_DecodeFrames BM_EncodeFrames BM_DecodeAndParseRequests \
  BM_EncodeRequests; do
  for size in 64 65536; do
    expect_benchmarks "$name/$size"
    expect_counter "$name/$size" bytes_per_second
  done
done
