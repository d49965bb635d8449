#!/usr/bin/env bash
# Smoke run of the strategies harness: every strategy against the epoll and
# blocking servers over the 1 ms link, one short iteration each. Checks that
# each benchmark reported work with the counters plot and bench_compare read;
# speed is not judged here.
set -euo pipefail
json="${TEST_TMPDIR:-$(mktemp -d)}/strategies.json"
benchmarks/strategies --benchmark_min_time=0.001 --per_iteration=30ms \
  --warm_up=10ms --window=8 \
  --benchmark_filter='server:(epoll|blocking)/latency_us:1000/' \
  --benchmark_out="$json" --benchmark_out_format=json
for server in epoll blocking; do
  for strategy in blocking threaded polling callback pipelined coroutine; do
    name="BM_Strategy/strategy:$strategy/server:$server/latency_us:1000/in_flight:8/op:echo/size:64/real_time"
    grep -q "\"name\": \"$name\"," "$json" || {
      echo "missing $name" >&2
      exit 1
    }
  done
done
if grep -q '"error_occurred": true' "$json"; then
  grep -A1 '"error_occurred": true' "$json" >&2
  exit 1
fi
# Every run completed work and reported each counter.
runs=$(grep -c '"run_type": "iteration"' "$json")
for counter in items_per_second p50_us p99_us cpu_us_per_request \
  bound_fraction failed; do
  n=$(grep -c "\"$counter\": " "$json")
  [[ $n == "$runs" ]] || {
    echo "$counter reported by $n of $runs runs" >&2
    exit 1
  }
done
if grep -Eq '"items_per_second": (0|0\.0+)(e[-+]?[0-9]+)?,' "$json"; then
  echo "a strategy completed no work" >&2
  exit 1
fi
