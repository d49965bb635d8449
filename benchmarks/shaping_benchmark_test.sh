#!/usr/bin/env bash
# Smoke test: runs the shaping benchmarks once, briefly, and checks that
# each reported its figures and that the figures obey what the shaping
# guarantees whatever the load: never early, never above the cap. The
# precision figures themselves are for a quiet machine (see the .cc).
set -euo pipefail
json="${TEST_TMPDIR:-$(mktemp -d)}/shaping_benchmark.json"
benchmarks/shaping_benchmark \
  --benchmark_filter='BM_Latency/20|BM_Throughput/100|BM_Drift' \
  --benchmark_out="$json" --benchmark_out_format=json
for name in BM_Latency/20/iterations:1/real_time \
  BM_Throughput/100/iterations:1/real_time BM_Drift/iterations:1/real_time; do
  grep -q "\"name\": \"$name\"," "$json" || { echo "missing $name" >&2; exit 1; }
done
if grep -q '"error_occurred": true' "$json"; then
  echo "a benchmark reported an error" >&2
  exit 1
fi
# counter NAME prints counter NAME from the JSON.
counter() {
  grep -o "\"$1\": [-+0-9.eE]*" "$json" | head -n1 | awk '{ print $2 + 0 }'
}
min_error=$(counter min_error_us)
throughput_error=$(counter error_pct)
drift=$(counter drift_us)
echo "latency min error: ${min_error} us; throughput error: ${throughput_error}%; drift: ${drift} us"
awk -v v="$min_error" 'BEGIN { exit !(v != "" && v >= 0) }' ||
  { echo "a message arrived early: ${min_error} us" >&2; exit 1; }
awk -v v="$throughput_error" 'BEGIN { exit !(v != "" && v <= 0.01) }' ||
  { echo "throughput above the cap: ${throughput_error}%" >&2; exit 1; }
[[ -n "$drift" ]] || { echo "no drift figure" >&2; exit 1; }
