#!/usr/bin/env bash
# Capture replay speed: `flexwall replay FILE` in the running appliance (through the CLI and control socket) against
# `tcpdump -nr FILE > /dev/null` on the same generated file, alternating rounds; medians and their ratio.
# Usage: benchmarks/replay.sh [packets] [rounds]   (after mvn install; uses appliance-image/target/flexwall)
# Needs root (the appliance installs its firewall: everything runs in a network namespace of its own), tcpdump.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ] && [ -z "${FLEXWALL_BENCH_NETNS:-}" ]; then
  ns="fwbench-replay-$$-$RANDOM"; ip netns add "$ns"; trap 'ip netns del "$ns"' EXIT; trap 'exit 143' INT TERM
  ip -n "$ns" link set lo up
  code=0; FLEXWALL_BENCH_NETNS=1 ip netns exec "$ns" "$0" "$@" || code=$?
  exit "$code"
fi
packets="${1:-3000000}"
rounds="${2:-5}"
image=appliance-image/target/flexwall
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
work="$(mktemp -d)"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT; trap 'exit 143' INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config" && mkdir -m 700 "$work/data"
sed "s/\"org.osgi.service.http.port:Integer\": 8080/\"org.osgi.service.http.port:Integer\": $port/" \
  "$image/runtime-config/flexwall.json" > "$work/config/flexwall.json"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

python3 benchmarks/replay/generate.py "$work/bench.pcap" "$packets"
"$image/bin/flexwall" run --data "$work/data" --config "$work/config" > "$work/fw.out" 2>&1 & pid=$!
export FLEXWALL_DATA="$work/data"
# answering on its control socket with the port store up is all a replay needs (not every hook configured)
until "$image/bin/flexwall" ports > /dev/null 2>&1; do sleep 0.2; kill -0 "$pid" || { cat "$work/fw.out"; exit 1; }; done
replay=("$image/bin/flexwall" replay "$work/bench.pcap" --ports tcp/5400 --local 192.0.2.1 --json)
"${replay[@]}" > "$work/warm.json"   # one round to compile the replay before timing it
tcpdump -nr "$work/bench.pcap" > /dev/null 2>&1

for i in $(seq "$rounds"); do
  t0=$(now_ms); tcpdump -nr "$work/bench.pcap" > /dev/null 2>&1; echo $(( $(now_ms) - t0 )) >> "$work/tcpdump"
  t0=$(now_ms); "${replay[@]}" > "$work/replay.json"; echo $(( $(now_ms) - t0 )) >> "$work/wall"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["engineSeconds"]*1000))' \
    "$work/replay.json" >> "$work/engine"
done
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"], r; print("replay answer: %d packets, %d passed, %d dropped, %d flows" % (r["packets"], r["passed"], r["dropped"], r["flows"]))' "$work/replay.json"

t=$(median < "$work/tcpdump"); w=$(median < "$work/wall"); e=$(median < "$work/engine")
echo "machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(java -version 2>&1 | head -1), $(tcpdump --version 2>&1 | head -1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); file: $packets packets, $(du -m "$work/bench.pcap" | cut -f1) MB; rounds: $rounds (medians)"
echo "tcpdump -nr FILE > /dev/null (baseline): $t ms = $(( packets * 1000 / t )) packets/s"
echo "flexwall replay, engine time it reports:  $e ms = $(( packets * 1000 / e )) packets/s, ratio to tcpdump $(python3 -c "print(round($t/$e, 2))")"
echo "flexwall replay, wall time of the CLI:    $w ms = $(( packets * 1000 / w )) packets/s, ratio to tcpdump $(python3 -c "print(round($t/$w, 2))")"
