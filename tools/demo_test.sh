#!/usr/bin/env bash
# Runs the demo briefly and checks that it measured real round trips.
set -euo pipefail
out=$(tools/demo --requests=200 --size=32)
echo "$out"
grep -q '^blocking echo over 127.0.0.1: 200 round trips of 32 bytes' <<<"$out"
grep -Eq '^work per second: [1-9][0-9]*' <<<"$out"
# A bad flag is refused with a clear error and a non-zero exit.
if tools/demo --requests=0 2>err.txt; then
  echo "demo accepted --requests=0" >&2
  exit 1
fi
grep -q 'must be positive' err.txt
