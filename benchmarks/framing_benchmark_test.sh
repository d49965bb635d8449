#!/usr/bin/env bash
# Runs every framing benchmark once, briefly, so the binary cannot rot: each
# must report a rate and none may skip with an error.
set -euo pipefail
out=$(benchmarks/framing_benchmark --benchmark_min_time=0.001 2>&1)
echo "$out"
for name in BM_DecodeFrames BM_EncodeFrames BM_DecodeAndParseRequests \
  BM_EncodeRequests; do
  for size in 64 65536; do
    grep -Eq "^$name/$size .*bytes_per_second=|^$name/$size .*[0-9.]+[kMG]?/s" \
      <<<"$out" || { echo "no rate for $name/$size" >&2; exit 1; }
  done
done
if grep -q 'ERROR OCCURRED' <<<"$out"; then
  echo "a benchmark reported an error" >&2
  exit 1
fi
