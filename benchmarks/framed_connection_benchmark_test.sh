#!/usr/bin/env bash
# Smoke test: runs the FramedConnection echo benchmark briefly and checks
# that every window size reported a rate, and that pipelining batched frames
# into shared writes.
set -euo pipefail
source benchmarks/smoke_test_lib.sh
run_benchmark_json benchmarks/framed_connection_benchmark \
  --benchmark_min_time=0.01
for window in 1 16 256 4096; do
  expect_benchmarks "BM_FramedEcho/$window"
  expect_counter "BM_FramedEcho/$window" items_per_second
done
# With 256 frames in flight each write carries many frames.
per_write=$(counter BM_FramedEcho/256 server_frames_per_write)
expect_value "$per_write" 'v >= 8' \
  "only ${per_write} frames per server write with 256 in flight"
