# smoke_test_lib.sh: the steps every benchmark smoke test shares (sourced,
# not run). A smoke test runs its binary briefly so it cannot rot; speed is
# not judged here, that is what the benchmark itself is for.
#
#   source benchmarks/smoke_test_lib.sh
#   run_benchmark_json benchmarks/sim_benchmark --benchmark_min_time=0.001
#   expect_benchmarks BM_LinkSchedule/0 BM_DriftAccuracy
#   expect_counter BM_LinkSchedule/0 items_per_second
#   drift=$(counter BM_DriftAccuracy drift_ns)
#   expect_value "$drift" 'v < 1000' "drift ${drift} ns"
#
# The sh_test needs this file and the binary in its data.
set -euo pipefail

# fail MESSAGE... prints MESSAGE on stderr and ends the test as failed.
fail() {
  echo "$*" >&2
  exit 1
}

# run_benchmark_json BINARY FLAG... runs BINARY with FLAG..., printing its
# console output. It leaves that output (stdout and stderr) in $out and the
# JSON report's path in $json, and fails if the binary fails or any
# benchmark reports an error.
run_benchmark_json() {
  json="${TEST_TMPDIR:-$(mktemp -d)}/$(basename "$1").json"
  out=$("$@" --benchmark_out="$json" --benchmark_out_format=json 2>&1) ||
    fail "$1 failed: $out"
  echo "$out"
  if grep -q 'ERROR' <<<"$out" || grep -q '"error_occurred": true' "$json"; then
    fail "a benchmark reported an error"
  fi
}

# expect_benchmarks NAME... fails unless each NAME (as the JSON names it,
# arguments included) reported a run.
expect_benchmarks() {
  local name
  for name in "$@"; do
    grep -q "\"name\": \"$name\"," "$json" || fail "missing $name"
  done
}

# counter BENCHMARK FIELD prints FIELD (a user counter, or a number such as
# real_time) of BENCHMARK's run as a plain number; nothing if it is absent.
counter() {
  awk -v name="\"name\": \"$1\"," -v field="\"$2\":" '
    index($0, name) { in_run = 1; next }
    in_run && $1 == field { sub(/,$/, "", $2); print $2 + 0; exit }
    in_run && /^ *}/ { in_run = 0 }
  ' "$json"
}

# expect_counter BENCHMARK FIELD... fails unless BENCHMARK's run has every
# FIELD.
expect_counter() {
  local benchmark=$1 field
  shift
  for field in "$@"; do
    [[ -n "$(counter "$benchmark" "$field")" ]] ||
      fail "no $field for $benchmark"
  done
}

# expect_value VALUE CONDITION MESSAGE fails with MESSAGE unless VALUE is
# present and CONDITION, an awk expression in v, holds for it.
expect_value() {
  awk -v v="$1" "BEGIN { exit !(v != \"\" && ($2)) }" || fail "$3"
}
