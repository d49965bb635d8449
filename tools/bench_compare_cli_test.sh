#!/usr/bin/env bash
# Drives the bench_compare binary: flags reach the library and exit codes
# are 0 (no regression), 1 (regressed) and 2 (usage or file error).
set -uo pipefail
bin=tools/bench_compare
data=tools/testdata
source tools/cli_test_lib.sh

expect_exit 0 "$data/bench_base.json" "$data/bench_base.json"
grep -q 'RESULT: no significant regression' stdout.txt || fail "no RESULT line"
expect_exit 1 "$data/bench_base.json" "$data/bench_slower20.json"
grep -Eq '^  items_per_second .* regressed' stdout.txt || fail "no regressed row"
# 20 % slower is within a 25 % threshold.
expect_exit 0 --threshold=25 "$data/bench_base.json" "$data/bench_slower20.json"
# Only latency, with an alpha no 5-repetition sample can reach.
expect_exit 0 --metrics=p99_us --alpha=0.001 "$data/bench_base.json" "$data/bench_slower20.json"
grep -q 'noisy/too few repetitions' stdout.txt || fail "alpha did not reach the library"
grep -q 'real_time' stdout.txt && fail "--metrics=p99_us still printed real_time"
expect_exit 2 "$data/bench_base.json"
grep -q 'expected two files' err.txt || fail "no usage message"
expect_exit 2 --metrics=latency "$data/bench_base.json" "$data/bench_base.json"
grep -q 'unknown metric "latency"' err.txt || fail "bad metric not named"
expect_exit 2 "$data/bench_base.json" "$data/missing.json"
grep -q 'missing.json' err.txt || fail "missing file not named"
echo "bench_compare_cli_test.sh: all passed"
