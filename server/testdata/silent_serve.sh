#!/bin/sh
# A stand-in for serve that never prints its "listening on" line
# (serve_process_test): it ignores its flags, leaves its pid where the test
# looks for it, and sleeps a minute.
echo $$ > "$TEST_TMPDIR/silent_serve.pid"
exec sleep 60
