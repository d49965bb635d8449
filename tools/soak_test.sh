#!/usr/bin/env bash
# Runs the soak for a few seconds, every strategy with the default fault
# rotation, and checks its verdict: exit 0, no request lost, as many
# descriptors after the last run as before the first. Then checks that bad
# flags are refused.
set -uo pipefail
source tools/cli_test_lib.sh
bin=tools/soak

expect_exit 0 --duration=3s --run_duration=100ms --progress_interval=1s --json
cat stdout.txt err.txt
grep -Eq '^PASS' err.txt || fail "no PASS verdict"
grep -q 'lost (sent - completed - failed, per run): 0$' err.txt ||
  fail "lost is not 0"
# Every strategy ran.
for strategy in blocking threaded polling callback pipelined coroutine; do
  grep -Eq "^$strategy +[1-9]" err.txt || fail "no row for $strategy"
done
# The JSON says the same.
grep -q '"lost": 0, "overcounted": 0' stdout.txt || fail "JSON lost != 0"
grep -q '"healthy": true' stdout.txt || fail "JSON not healthy"
fds_start=$(sed -E 's/.*"fds_start": ([0-9]+).*/\1/' stdout.txt)
fds_end=$(sed -E 's/.*"fds_end": ([0-9]+).*/\1/' stdout.txt)
[[ -n $fds_start && $fds_start == "$fds_end" ]] ||
  fail "descriptors: $fds_start at the start, $fds_end at the end"
# Progress went to stderr.
grep -q '^soak .* lost; RSS .* (peak .*), [0-9]* fds$' err.txt ||
  fail "no progress line"

# Bad flags are refused with a clear message and exit status 2.
expect_exit 2 --faults='none;explode=now'
grep -q 'explode=now' err.txt || fail "bad fault not named"
expect_exit 2 --server_kind=nonesuch
grep -q 'nonesuch' err.txt || fail "unknown server kind not named"
expect_exit 2 --server=127.0.0.1:1
grep -q 'server_kind' err.txt || fail "--server not refused"
expect_exit 2 --fault=slice=1
grep -q -- '--faults' err.txt || fail "--fault not pointed to --faults"
expect_exit 2 --in_flight=0
grep -q 'in_flight' err.txt || fail "bad --in_flight not named"
