#!/usr/bin/env bash
# Runs every sim benchmark once, briefly, checks each one reported, and that
# the accuracy counters are within the bounds.
set -euo pipefail
source benchmarks/smoke_test_lib.sh
run_benchmark_json benchmarks/sim_benchmark --benchmark_min_time=0.001
expect_benchmarks BM_LinkSchedule/0 BM_LinkSchedule/5000 \
  BM_LinkScheduleUncapped BM_LinkScheduleChunks BM_DatagramOnSend \
  BM_DeliveryQueue/64 BM_DeliveryQueue/4096 BM_ThroughputAccuracy \
  BM_DriftAccuracy
ppm=$(counter BM_ThroughputAccuracy error_ppm)
drift=$(counter BM_DriftAccuracy drift_ns)
echo "throughput error: ${ppm} ppm; drift over 10,000 messages: ${drift} ns"
# Within 3% (30,000 ppm) of the cap either way; drift below one microsecond
# either way.
expect_value "$ppm" 'v < 30000 && -v < 30000' "throughput off by ${ppm} ppm"
expect_value "$drift" 'v < 1000 && -v < 1000' "drift ${drift} ns"
