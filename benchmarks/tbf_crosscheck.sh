#!/usr/bin/env bash
# tbf_crosscheck.sh: checks our bandwidth cap against the kernel's.
#
# The same bulk transfer (iperf3, TCP, one stream) runs twice at the same
# rate: once across a veth pair between two network namespaces whose
# sending side has the kernel's token bucket filter,
#   tc qdisc add dev VETH root tbf rate 10mbit burst 32kbit latency 400ms
# and once on loopback through our shaping proxy, //tools:shaper
# --bandwidth=10mbit. It prints both receiver-side throughputs.
#
#   sudo benchmarks/tbf_crosscheck.sh            # from the repository root
#   RATE=50mbit SECONDS_PER_RUN=5 sudo benchmarks/tbf_crosscheck.sh
#
# Needs root (namespaces, tc) and iperf3 (apt-get install -y iperf3). It is
# not a bazel test: tests never need root. Everything it creates (two
# namespaces and the processes in them) is removed on exit, however it
# exits. Reading the figures: tbf counts whole frames (Ethernet, IP and TCP
# headers, about 66 bytes per 1448-byte segment), while our cap counts the
# bytes the program writes, so at the same nominal rate tbf delivers about
# 1448/1514 of it (4.4% less) as iperf3 payload.
set -euo pipefail

rate=${RATE:-10mbit}
seconds=${SECONDS_PER_RUN:-10}
tag=$$
ns_send="awtbf-send-$tag"
ns_recv="awtbf-recv-$tag"
# Interface names are limited to 15 characters.
veth_send="awts$tag"
veth_recv="awtr$tag"

[[ $(id -u) -eq 0 ]] || { echo "tbf_crosscheck: needs root (ip netns, tc)" >&2; exit 1; }
command -v iperf3 >/dev/null ||
  { echo "tbf_crosscheck: needs iperf3: apt-get install -y iperf3" >&2; exit 1; }

tools/bazel build //tools:shaper >&2
shaper=bazel-bin/tools/shaper

cleanup() {
  # Killing a namespace's processes first lets `ip netns del` free it.
  for ns in "$ns_send" "$ns_recv"; do
    if ip netns list | grep -q "^$ns\b"; then
      for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

# mbit JSON prints the receiver's throughput in Mbit/s from iperf3 -J output.
mbit() {
  python3 -c 'import json, sys
print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}

# wait_for_port NS PORT waits (at most 10 s) until something listens on PORT.
wait_for_port() {
  for _ in $(seq 100); do
    if ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; then return 0; fi
    sleep 0.1
  done
  echo "tbf_crosscheck: nothing listens on port $2 in $1" >&2
  return 1
}

ip netns add "$ns_send"
ip netns add "$ns_recv"
ip link add "$veth_send" netns "$ns_send" type veth peer name "$veth_recv" netns "$ns_recv"
ip -n "$ns_send" addr add 10.213.0.1/24 dev "$veth_send"
ip -n "$ns_recv" addr add 10.213.0.2/24 dev "$veth_recv"
for ns in "$ns_send" "$ns_recv"; do ip -n "$ns" link set lo up; done
ip -n "$ns_send" link set "$veth_send" up
ip -n "$ns_recv" link set "$veth_recv" up

# 1. The kernel: tbf on the sending side of the veth pair.
tc -n "$ns_send" qdisc add dev "$veth_send" root tbf rate "$rate" burst 32kbit latency 400ms
ip netns exec "$ns_recv" iperf3 --server --one-off --bind 10.213.0.2 --port 5201 >/dev/null &
wait_for_port "$ns_recv" 5201
kernel=$(ip netns exec "$ns_send" iperf3 --client 10.213.0.2 --port 5201 \
  --time "$seconds" --json | mbit)

# 2. Ours: the shaping proxy on the sending namespace's loopback (no qdisc).
ip netns exec "$ns_send" iperf3 --server --one-off --bind 127.0.0.1 --port 5202 >/dev/null &
wait_for_port "$ns_send" 5202
out="$(mktemp)"
ip netns exec "$ns_send" "$shaper" --listen=127.0.0.1:0 --upstream=127.0.0.1:5202 \
  --bandwidth="$rate" >"$out" 2>/dev/null &
for _ in $(seq 100); do [[ -s "$out" ]] && break; sleep 0.1; done
port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
rm -f "$out"
[[ -n "$port" ]] || { echo "tbf_crosscheck: the shaper did not start" >&2; exit 1; }
ours=$(ip netns exec "$ns_send" iperf3 --client 127.0.0.1 --port "$port" \
  --time "$seconds" --json | mbit)

echo "cap $rate, iperf3 TCP for ${seconds}s, receiver throughput:"
echo "  kernel tbf (veth, namespaces): $kernel Mbit/s"
echo "  asyncwork //tools:shaper:      $ours Mbit/s"
