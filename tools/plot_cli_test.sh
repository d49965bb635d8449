#!/usr/bin/env bash
# Drives the plot binary: -o/--output is required, inputs are positional,
# and the page it writes holds the charts.
set -uo pipefail
bin=tools/plot
data=tools/testdata
out=${TEST_TMPDIR:-/tmp}
source tools/cli_test_lib.sh

expect_exit 0 "$data/strategies.json" -o "$out/a.html"
[[ $(grep -c '<svg ' "$out/a.html") == 8 ]] || fail "expected 8 charts in a.html"
expect_exit 0 "$data/strategies.json" --output="$out/b.html" --title='A <b> & C'
grep -q '<h1>A &lt;b&gt; &amp; C</h1>' "$out/b.html" || fail "--title not escaped into the page"
expect_exit 2 "$data/strategies.json"
grep -q -- '-o/--output is required' err.txt || fail "missing -o not explained"
expect_exit 2 -o "$out/c.html"
grep -q 'no input file' err.txt || fail "missing input not explained"
expect_exit 2 "$data/strategies.json" -o "$out/c.html" --output="$out/d.html"
expect_exit 1 "$data/missing.json" -o "$out/c.html"
grep -q 'missing.json' err.txt || fail "missing input not named"
echo "plot_cli_test.sh: all passed"
