#!/usr/bin/env bash
# Smoke test: runs a few reactor benchmarks very briefly and checks that each
# backend ran and reported a rate, and that a bad filter flag is refused.
set -euo pipefail
bench=benchmarks/reactor_benchmark
out=$("$bench" --benchmark_min_time=0.01 \
  --benchmark_filter='BM_IdleIteration/(epoll|poll|select)/10$|BM_BusyEventfd|BM_SocketPairPingPong')
echo "$out"
for backend in epoll poll select; do
  grep -Eq "^BM_IdleIteration/$backend/10 +[0-9.]+ ns .*fds=10" <<<"$out"
  grep -Eq "^BM_BusyEventfd/$backend .*items_per_second=[0-9.]+[kMG]?/s" <<<"$out"
  grep -Eq "^BM_SocketPairPingPong/$backend .*items_per_second=[0-9.]+[kMG]?/s" <<<"$out"
done
if grep -q ERROR <<<"$out"; then
  echo "a benchmark reported an error" >&2
  exit 1
fi
