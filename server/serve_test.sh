#!/usr/bin/env bash
# Starts //server:serve for each kind on 127.0.0.1:0, reads the first line,
# sends requests with a tiny python3 client (one of them a SLEEP still owed
# when SIGTERM arrives), and checks the answers and exit status 0. Then
# checks that bad flags exit 2 naming the flag and its value, that --help
# names every limit flag, and that --max_connections holds.
set -euo pipefail
serve=server/serve
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/client.py" <<'PY'
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
sock = socket.create_connection((host.strip("[]"), int(port)), timeout=10)

def request(id_, op, arg, data):
    body = struct.pack(">QBBHI", id_, op, 0, 0, arg) + data
    return struct.pack(">I", len(body)) + body

def read_exactly(n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            sys.exit("server closed early after %d of %d bytes" % (len(out), n))
        out += chunk
    return out

def response():
    (length,) = struct.unpack(">I", read_exactly(4))
    body = read_exactly(length)
    id_, op, status, reserved, arg = struct.unpack(">QBBHI", body[:16])
    return id_, op, status, body[16:]

sock.sendall(request(1, 1, 0, b"abc"))            # REVERSE
assert response() == (1, 1, 0, b"cba"), "bad REVERSE answer"
sock.sendall(request(2, 3, 300000, b"late"))      # SLEEP 300 ms
print("sleep sent", flush=True)
sys.stdin.readline()                               # the test sends SIGTERM
assert response() == (2, 3, 0, b"late"), "owed SLEEP not answered"
assert sock.recv(1) == b"", "connection not closed after the drain"
print("ok", flush=True)
PY

# start KIND LISTEN PATTERN [FLAG...]: starts serve in the background (pid
# in $pid), waits for its first line and checks it against PATTERN; sets
# $address.
start() {
  # A fresh file: the last run's line must not pass for this one's while the
  # new process has not yet truncated it.
  rm -f "$work/out"
  "$serve" --kind="$1" --listen="$2" "${@:4}" >"$work/out" 2>"$work/err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    [[ -s "$work/out" ]] && break
    sleep 0.1
  done
  local line
  line=$(head -n1 "$work/out")
  [[ "$line" =~ ^listening\ on\ $3:[1-9][0-9]*$ ]] || {
    echo "$1: unexpected first line: '$line'" >&2; cat "$work/err" >&2; exit 1; }
  address=${line#listening on }
}

for kind in blocking threading forking pool epoll; do
  start "$kind" 127.0.0.1:0 '127\.0\.0\.1'
  coproc client { python3 "$work/client.py" "$address"; }
  read -r -t 10 started <&"${client[0]}"
  [[ "$started" == "sleep sent" ]]
  kill -TERM "$pid"
  echo go >&"${client[1]}"
  read -r -t 10 result <&"${client[0]}" || true
  [[ "$result" == "ok" ]] || { echo "$kind: client said '$result'" >&2; cat "$work/err" >&2; exit 1; }
  wait "$client_PID"
  status=0
  wait "$pid" || status=$?
  [[ $status -eq 0 ]] || { echo "$kind: exit status $status" >&2; cat "$work/err" >&2; exit 1; }
  echo "$kind: ok"
done

cat >"$work/udp_client.py" <<'PY'
import socket, struct, sys
host, port = sys.argv[1][len("udp://"):].rsplit(":", 1)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(10)
body = struct.pack(">QBBHI", 5, 1, 0, 0, 0) + b"datagram"
sock.sendto(struct.pack(">I", len(body)) + body, (host, int(port)))
reply, _ = sock.recvfrom(65536)
(length,) = struct.unpack(">I", reply[:4])
assert length == len(reply) - 4, "bad datagram length"
id_, op, status, reserved, arg = struct.unpack(">QBBHI", reply[4:20])
assert (id_, op, status, reply[20:]) == (5, 1, 0, b"margatad"), reply
print("ok")
PY

for kind in threading epoll; do
  start "$kind" udp://127.0.0.1:0 'udp://127\.0\.0\.1'
  [[ $(python3 "$work/udp_client.py" "$address") == ok ]]
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  [[ $status -eq 0 ]] || { echo "$kind udp: exit status $status" >&2; exit 1; }
  echo "$kind udp: ok"
done

expect_usage_error() {
  local want=$1; shift
  local status=0
  "$serve" "$@" >/dev/null 2>"$work/err" || status=$?
  [[ $status -eq 2 ]] || { echo "$*: exit status $status, want 2" >&2; exit 1; }
  grep -qF -- "$want" "$work/err" || { echo "$*: no '$want' in: $(cat "$work/err")" >&2; exit 1; }
}
expect_usage_error '--kind=asyncore' --kind=asyncore
expect_usage_error '--threads=0' --threads=0
expect_usage_error '--threads=x' --threads=x
expect_usage_error '--listen=127.0.0.1:99999' --listen=127.0.0.1:99999
expect_usage_error '--bogus' --bogus
expect_usage_error '--max_frame=4' --max_frame=4
expect_usage_error '--idle_timeout=0' --idle_timeout=0
expect_usage_error '--max_connections=0' --max_connections=0
expect_usage_error '--max_in_flight=0' --max_in_flight=0
expect_usage_error '--high_water_mark=0' --high_water_mark=0
expect_usage_error '--high_water_mark=-1' --high_water_mark=-1
expect_usage_error '--low_water_mark=2000: must be 0 to 1000' \
  --high_water_mark=1000 --low_water_mark=2000
help=$("$serve" --help 2>&1 || true)
grep -q 'SIGTERM' <<<"$help" || { echo "--help lacks the usage" >&2; exit 1; }
for flag in max_children max_threads pool_size idle_timeout max_connections \
    max_frame max_in_flight high_water_mark low_water_mark; do
  grep -q -- "--$flag " <<<"$help" || { echo "--help lacks --$flag" >&2; exit 1; }
done
echo "flags: ok"

# The limits hold in the binary too: with --max_connections=1, a second
# connection is accepted and closed with a log line; the first is served.
start epoll 127.0.0.1:0 '127\.0\.0\.1' --max_connections=1
cat >"$work/limit_client.py" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
first = socket.create_connection((host, int(port)), timeout=10)
second = socket.create_connection((host, int(port)), timeout=10)
assert second.recv(1) == b"", "the connection beyond the limit stayed open"
body = struct.pack(">QBBHI", 7, 0, 0, 0, 0) + b"first"
frame = struct.pack(">I", len(body)) + body
first.sendall(frame)
answer = b""
while len(answer) < len(frame):
    chunk = first.recv(len(frame) - len(answer))
    assert chunk, "the first connection was closed"
    answer += chunk
assert answer == frame, "bad ECHO answer"
print("ok")
PY
[[ $(python3 "$work/limit_client.py" "$address") == ok ]]
kill -TERM "$pid"
wait "$pid"
grep -q 'closed: 1 connections open, the limit (max_connections=1)' "$work/err" ||
  { echo "no max_connections log line: $(cat "$work/err")" >&2; exit 1; }
echo "max_connections: ok"
