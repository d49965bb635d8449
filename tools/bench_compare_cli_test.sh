#!/usr/bin/env bash
# Drives the bench_compare binary: flags reach the library and exit codes
# are 0 (no regression), 1 (regressed) and 2 (usage or file error).
set -uo pipefail
bin=tools/bench_compare
data=tools/testdata
fail() { echo "FAIL: $*" >&2; exit 1; }

expect_exit() {  # expect_exit CODE ARGS...
  local want=$1
  shift
  "$bin" "$@" >out.txt 2>err.txt
  local got=$?
  [[ $got == "$want" ]] || { cat out.txt err.txt; fail "bench_compare $* exited $got, want $want"; }
}

expect_exit 0 "$data/bench_base.json" "$data/bench_base.json"
grep -q 'RESULT: no significant regression' out.txt || fail "no RESULT line"
expect_exit 1 "$data/bench_base.json" "$data/bench_slower20.json"
grep -Eq '^  items_per_second .* regressed' out.txt || fail "no regressed row"
# 20 % slower is within a 25 % threshold.
expect_exit 0 --threshold=25 "$data/bench_base.json" "$data/bench_slower20.json"
# Only latency, with an alpha no 5-repetition sample can reach.
expect_exit 0 --metrics=p99_us --alpha=0.001 "$data/bench_base.json" "$data/bench_slower20.json"
grep -q 'noisy/too few repetitions' out.txt || fail "alpha did not reach the library"
grep -q 'real_time' out.txt && fail "--metrics=p99_us still printed real_time"
expect_exit 2 "$data/bench_base.json"
grep -q 'expected two files' err.txt || fail "no usage message"
expect_exit 2 --metrics=latency "$data/bench_base.json" "$data/bench_base.json"
grep -q 'unknown metric "latency"' err.txt || fail "bad metric not named"
expect_exit 2 "$data/bench_base.json" "$data/missing.json"
grep -q 'missing.json' err.txt || fail "missing file not named"
echo "bench_compare_cli_test.sh: all passed"
