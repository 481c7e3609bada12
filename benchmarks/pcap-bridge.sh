#!/usr/bin/env bash
# The pcap bridge (hook-pcap, mode bridge) against the kernel path and a plain Linux bridge, on the same three
# network namespaces in the same run, in alternating rounds:
#   plain   Linux bridge br0 in the bridge namespace, no firewall anywhere (the limit)
#   kernel  br0 plus flexwall's netfilter hooks (nftables + NFQUEUE firstPacket) in the inside namespace
#   pcap    flexwall's pcap bridge between the two veths of the bridge namespace (br0's forwarding blocked), the
#           netfilter hooks stopped
# outside (iperf3 client) -- veth -- bridge ns [br0 | pcap] -- veth -- inside (appliance + trusted iperf3 server)
# Measures iperf3 TCP throughput and the rate of 60-byte UDP datagrams received (iperf3 -u -l 60 -b 0), outside to
# inside. Offloads are off on every veth in every mode (a pcap bridge cannot forward veth GSO frames).
# Usage: benchmarks/pcap-bridge.sh [rounds] [seconds]   (root; after mvn install, uses appliance-image/target/flexwall)
set -euo pipefail
cd "$(dirname "$0")/.."
# The appliance installs a firewall: the whole benchmark runs in a namespace of its own (the inside), never the host's.
if [ "$(id -u)" -eq 0 ] && [ -z "${FLEXWALL_BENCH_NETNS:-}" ]; then
  ns="fwbench-$$"; ip netns add "$ns"; trap 'ip netns del "$ns"' EXIT; ip -n "$ns" link set lo up
  code=0; FLEXWALL_BENCH_NETNS=1 ip netns exec "$ns" "$0" "$@" || code=$?
  exit "$code"
fi
rounds="${1:-3}"; secs="${2:-5}"
image="$PWD/appliance-image/target/flexwall"
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
for tool in iperf3 ethtool nft curl python3; do command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }; done

work="$(mktemp -d)"; sfx="$(printf '%04x%04x' $RANDOM $RANDOM)"
OUT="fwb-po-$sfx"; BR="fwb-pb-$sfx"; fwpid=""; srvpid=""
cleanup() {
  [ -n "$srvpid" ] && kill "$srvpid" 2>/dev/null || true
  [ -n "$fwpid" ] && { kill "$fwpid" 2>/dev/null; wait "$fwpid" 2>/dev/null || true; }
  ip link del pcapin0 2>/dev/null || true
  ip netns del "$OUT" 2>/dev/null || true; ip netns del "$BR" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- the three namespaces --------------------------------------------------------------------------------------
noffload() { ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null; }
ip netns add "$OUT"; ip netns add "$BR"
ip link add po0 netns "$OUT" type veth peer name pbo0 netns "$BR"
ip link add pcapin0 type veth peer name pbi0 netns "$BR"
ip -n "$OUT" link set lo up; ip -n "$BR" link set lo up
ip -n "$BR" link add br0 type bridge
for p in pbo0 pbi0; do ip -n "$BR" link set "$p" master br0; noffload "$BR" "$p"; ip -n "$BR" link set "$p" up; done
ip -n "$BR" link set br0 up
noffload "$OUT" po0; ip -n "$OUT" addr add 10.78.0.1/24 dev po0; ip -n "$OUT" link set po0 up
ethtool -K pcapin0 tx off tso off gso off gro off >/dev/null
ip addr add 10.78.0.2/24 dev pcapin0; ip link set pcapin0 up

# --- the appliance inside, with the pcap hook configured over the bridge namespace -----------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config" "$work/bin"; mkdir -m 700 "$work/data"
python3 - "$image/runtime-config/flexwall.json" "$work/config/flexwall.json" "$port" "$BR" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["org.apache.felix.http"]["org.osgi.service.http.port:Integer"] = int(sys.argv[3])
c["org.flexwall.hook.nftables"] = {"managementInterface": "lo"}
c["org.flexwall.hook.pcap"] = {"mode": "bridge", "outsideInterface": "pbo0", "insideInterface": "pbi0",
                               "namespace": sys.argv[4]}
json.dump(c, open(sys.argv[2], "w"))
PY
"$image/bin/flexwall" run --data "$work/data" --config "$work/config" > "$work/fw.out" 2>&1 & fwpid=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/system/console/bundles")" = 401 ]; do
  kill -0 "$fwpid" 2>/dev/null || { cat "$work/fw.out"; exit 1; }; sleep 0.2
done
fw() { FLEXWALL_DATA="$work/data" "$image/bin/flexwall" "$@"; }
pw="$(cat "$work/data/console-initial-password")"
cp "$(command -v iperf3)" "$work/bin/iperf3-server"
fw trust "$work/bin/iperf3-server" iperf3-server >/dev/null
"$work/bin/iperf3-server" -s -p 5201 > /dev/null 2>&1 & srvpid=$!
until fw ports --json | grep -q '"port":5201'; do sleep 0.2; done

bundle() { # bundle SYMBOLIC-NAME start|stop, through the Web Console as an operator would
  local id
  id=$(curl -s -u "admin:$pw" "http://127.0.0.1:$port/system/console/bundles.json" | python3 -c '
import json, sys
print(next(b["id"] for b in json.load(sys.stdin)["data"] if b["symbolicName"] == sys.argv[1]))' "$1")
  curl -s -o /dev/null -u "admin:$pw" -H "Origin: http://127.0.0.1:$port" -d "action=$2" \
    "http://127.0.0.1:$port/system/console/bundles/$id"
}
await_hook() { # await_hook NAME PREFIX: until flexwall status shows the hook with a status starting so
  for _ in $(seq 150); do
    # flexwall status fails (not healthy) while a hook bundle is stopped: its JSON is read all the same
    { fw status --json 2>/dev/null || true; } | python3 -c '
import json, sys
line = next(l for l in sys.stdin if l.startswith("{"))
sys.exit(0 if any(h["name"] == sys.argv[1] and h["status"].startswith(sys.argv[2])
                  for h in json.loads(line).get("packetHooks", [])) else 1)' "$1" "$2" && return 0
    sleep 0.2
  done
  echo "hook $1 not '$2'" >&2; fw status >&2 || true; exit 1
}
netfilter_off() { bundle org.flexwall.hook-nfqueue stop; bundle org.flexwall.hook-nftables stop
  nft delete table inet flexwall 2>/dev/null || true; }
mode_plain()  { bundle org.flexwall.hook-pcap stop; netfilter_off; }
mode_kernel() { bundle org.flexwall.hook-pcap stop; bundle org.flexwall.hook-nftables start
  bundle org.flexwall.hook-nfqueue start; await_hook nftables "baseline active"; await_hook nfqueue "active"; }
mode_pcap()   { netfilter_off; bundle org.flexwall.hook-pcap start; await_hook pcap "active"; }

tcp() { ip netns exec "$OUT" timeout $((secs + 30)) iperf3 -c 10.78.0.2 -p 5201 -t "$secs" -J 2>/dev/null | python3 -c '
import json, sys
try: print("%.0f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))
except Exception: print(0)'; }
udp() { ip netns exec "$OUT" timeout $((secs + 30)) iperf3 -c 10.78.0.2 -p 5201 -u -l 60 -b 0 -t "$secs" -J 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)["end"]["sum"]
    print("%.0f" % ((s["packets"] - s["lost_packets"]) / s["seconds"]))
except Exception: print(0)'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for m in plain kernel pcap; do
    "mode_$m"; sleep 1
    t=$(tcp); u=$(udp)
    echo "$t" >> "$work/$m.tcp"; echo "$u" >> "$work/$m.udp"
    echo "round $r $m: TCP $t Mbit/s, UDP 60 B $u datagrams/s received" >&2
  done
done
mode_plain

echo "machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(java -version 2>&1 | head -1)"
echo "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds: $rounds x ${secs} s per measurement, alternating plain/kernel/pcap (medians)"
for m in plain kernel pcap; do
  printf '%-7s TCP %6s Mbit/s   UDP 60 B %8s datagrams/s\n' "$m" "$(median < "$work/$m.tcp")" "$(median < "$work/$m.udp")"
done
python3 - "$work" <<'PY'
import sys, statistics
w = sys.argv[1]
med = lambda m, k: statistics.median(float(x) for x in open(f"{w}/{m}.{k}"))
for k, name in (("tcp", "TCP throughput"), ("udp", "60 B datagram rate")):
    p, kern, pc = med("plain", k), med("kernel", k), med("pcap", k)
    r = lambda a, b: "%.3f" % (a / b) if b else "n/a"
    print(f"{name}: pcap/plain {r(pc, p)}, pcap/kernel {r(pc, kern)}, kernel/plain {r(kern, p)}")
PY
