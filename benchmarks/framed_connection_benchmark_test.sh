#!/usr/bin/env bash
# Smoke test: runs the FramedConnection echo benchmark briefly and checks
# that every window size reported a rate, and that pipelining batched frames
# into shared writes.
set -euo pipefail
bench=benchmarks/framed_connection_benchmark
out=$("$bench" --benchmark_min_time=0.01)
echo "$out"
for window in 1 16 256 4096; do
  grep -Eq "^BM_FramedEcho/$window .*items_per_second=[0-9.]+[kMG]?/s" <<<"$out"
done
# With 256 frames in flight each write carries many frames.
line=$(grep -E "^BM_FramedEcho/256 " <<<"$out")
per_write=$(sed -E 's/.*server_frames_per_write=([0-9.]+).*/\1/' <<<"$line")
awk -v n="$per_write" 'BEGIN { exit !(n >= 8) }'
if grep -q ERROR <<<"$out"; then
  echo "a benchmark reported an error" >&2
  exit 1
fi
