#!/usr/bin/env bash
# Runs a tiny sweep (two strategies, 2 x 2 x 1 grid, short cells) and checks
# the report's sections, the results file, and that tools/plot reads it.
set -uo pipefail
source tools/cli_test_lib.sh
bin=tools/sweep
out=${TEST_TMPDIR:-$(mktemp -d)}

expect_exit 0 --strategies=blocking,callback --latencies=0,2ms --windows=1,8 \
  --costs=0 --per_cell=150ms --out="$out/sweep.json"
cat stdout.txt
for section in 'work per second' 'work per CPU-second' 'where one strategy pulls ahead' \
  'median over the grid'; do
  grep -q "^$section" stdout.txt || fail "no '$section' section"
done
# Along the window at 2 ms, callback (8 in flight) leaves blocking behind.
grep -Eq '^ +0 +2 ms +8 .*\*$' stdout.txt ||
  fail "no row for latency 2 ms, window 8"
results=$(grep -c '"strategy": ' "$out/sweep.json")
[[ $results == 8 ]] || fail "$results results written, want 8"

bin=tools/plot
expect_exit 0 "$out/sweep.json" -o "$out/sweep.html"
grep -q '<svg' "$out/sweep.html" || fail "plot drew no chart"

bin=tools/sweep
expect_exit 2 --windows=0
grep -q -- '--windows=0' err.txt || fail "bad --windows not named"
expect_exit 2 --latencies=5
grep -q -- '--latencies=5' err.txt || fail "bad --latencies not named"
