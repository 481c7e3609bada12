#!/usr/bin/env bash
# Port event latency of the running appliance, for each way the port monitor learns of sockets:
#   event-driven  — the image as shipped (kernel tracepoints wake the sock_diag monitor)
#   polling       — the same image without the port-monitor-tracefs bundle (sock_diag polling only)
# Measures listen() returning in a trusted program -> the port-store entry, and close() -> entry gone, over CYCLES
# listen/close cycles, seen through the appliance's control socket. Run as root after `mvn install`.
# Usage: benchmarks/port-event-latency.sh [cycles]
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-1000}"
image="$PWD/appliance-image/target/flexwall"
work="$(mktemp -d)"; ns="fwb-latency-$$"; pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"; ip -n "$ns" link set lo up     # the appliance and the program live in a namespace of their own
gcc -O2 -o "$work/listen_cycles" benchmarks/port-event-latency/listen_cycles.c
cp="$(ls "$image"/lib/jakarta.json-api-*.jar):$(ls "$image"/lib/parsson-*.jar)"

run() { # name bundle-dir
  local data="$work/data-$1"; mkdir -m 700 "$data"
  ip netns exec "$ns" "$image/bin/flexwall" run --data "$data" --bundles "$2" > "$work/$1.log" 2>&1 & pid=$!
  until [ -S "$data/control.sock" ]; do sleep 0.1; done
  sleep 2   # let every component come up
  FLEXWALL_DATA="$data" "$image/bin/flexwall" trust "$work/listen_cycles" bench >/dev/null
  echo "== $1"
  java -cp "$cp" benchmarks/port-event-latency/EventLatency.java "$data/control.sock" 24111 "$cycles" \
    ip netns exec "$ns" "$work/listen_cycles" 24111 "$cycles"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

echo "machine: $(nproc) vCPU, $(uname -r), $(java -version 2>&1 | head -1)"
run event-driven "$image/bundles"
mkdir "$work/polling-bundles"; cp "$image"/bundles/*.jar "$work/polling-bundles/"; rm "$work"/polling-bundles/flexwall-port-monitor-tracefs-*.jar
run polling "$work/polling-bundles"
