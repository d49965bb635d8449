#!/bin/sh
# A stand-in for serve that never prints its "listening on" line
# (serve_process_test): it ignores its flags and sleeps a minute.
exec sleep 60
