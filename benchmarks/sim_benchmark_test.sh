#!/usr/bin/env bash
# Runs every sim benchmark once, briefly, checks each one reported, and that
# the accuracy counters are within the bounds.
set -euo pipefail
json="${TEST_TMPDIR:-$(mktemp -d)}/sim_benchmark.json"
benchmarks/sim_benchmark --benchmark_min_time=0.001 \
  --benchmark_out="$json" --benchmark_out_format=json
for name in BM_LinkSchedule/0 BM_LinkSchedule/5000 BM_LinkScheduleUncapped \
  BM_LinkScheduleChunks BM_DatagramOnSend BM_DeliveryQueue/64 \
  BM_DeliveryQueue/4096 BM_ThroughputAccuracy BM_DriftAccuracy; do
  grep -q "\"name\": \"$name\"," "$json" || { echo "missing $name" >&2; exit 1; }
done
# counter NAME prints the absolute value of counter NAME from the JSON.
counter() {
  grep -o "\"$1\": [-+0-9.eE]*" "$json" | head -n1 | awk '{ v = $2 + 0; print (v < 0 ? -v : v) }'
}
ppm=$(counter error_ppm)
drift=$(counter drift_ns)
echo "throughput error: ${ppm} ppm; drift over 10,000 messages: ${drift} ns"
# Within 3% (30,000 ppm) of the cap; drift below one microsecond.
awk -v v="$ppm" 'BEGIN { exit !(v != "" && v < 30000) }' ||
  { echo "throughput off by ${ppm} ppm" >&2; exit 1; }
awk -v v="$drift" 'BEGIN { exit !(v != "" && v < 1000) }' ||
  { echo "drift ${drift} ns" >&2; exit 1; }
