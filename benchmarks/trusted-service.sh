#!/usr/bin/env bash
# A trusted iperf3 server behind the running appliance (issue "Never open": socket-bound permission in place), against
# no firewall in the same run: iperf3 TCP (one stream) and 60-byte UDP frames (18-byte payloads, -b 0) from the
# outside namespace, rounds alternating between `flexwall enable` and `flexwall disable` (same appliance, same server,
# same sockets), medians and the ratio; for UDP also packets per CPU-second the machine spent (all of it runs here:
# sender, veth, receive path, firewall, receiver). iperf3's UDP server connects its socket to the client: the
# connected-UDP case.
# Root; everything runs in two network namespaces it creates and deletes. Needs iperf3, python3.
# Usage: [IMAGE=DIR] benchmarks/trusted-service.sh [rounds [seconds]]   (after mvn install; default 7 rounds of 4 s)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "trusted-service.sh: run as root (it makes network namespaces)" >&2; exit 2; }
rounds="${1:-7}"; seconds="${2:-4}"
image="${IMAGE:-$PWD/appliance-image/target/flexwall}"   # IMAGE=another build's appliance-image/target/flexwall
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
work="$(mktemp -d)"; app="fwb-svc-app-$$"; out="fwb-svc-out-$$"; appliance=""; server=""
stop() { [ -n "$1" ] && kill -- "-$1" 2>/dev/null && { wait "$1" 2>/dev/null || true; }; return 0; }
cleanup() {
  stop "$server"; stop "$appliance"
  fw disable > /dev/null 2>&1 || true
  ip netns del "$out" 2>/dev/null; ip netns del "$app" 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
fw() { FLEXWALL_DATA="$work/data" ip netns exec "$app" "$image/bin/flexwall" "$@"; }  # its rules are in $app

# outside namespace (out0 10.78.0.1) ── veth ── (wan0 10.78.0.2) appliance namespace: the appliance and the server
ip netns add "$app"; ip netns add "$out"
ip -n "$app" link set lo up; ip -n "$out" link set lo up
ip -n "$app" link add wan0 type veth peer name out0 netns "$out"
ip -n "$app" addr add 10.78.0.2/24 dev wan0; ip -n "$app" link set wan0 up
ip -n "$out" addr add 10.78.0.1/24 dev out0; ip -n "$out" link set out0 up
mkdir "$work/bin" "$work/config"; mkdir -m 700 "$work/data"
cp /usr/bin/iperf3 "$work/bin/iperf3-server"   # the trusted program: its own copy, so nothing else is trusted
python3 - "$image/runtime-config/flexwall.json" > "$work/config/flexwall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("org.flexwall.hook.nftables", {})["managementInterface"] = "lo"  # nothing open on wan0
print(json.dumps(c))
PY
setsid ip netns exec "$app" "$image/bin/flexwall" run --data "$work/data" --config "$work/config" > "$work/log" 2>&1 &
appliance=$!
until grep -qs "flexwall ready" "$work/log"; do
  sleep 0.1; kill -0 "$appliance" 2>/dev/null || { echo "the appliance did not start:"; cat "$work/log"; exit 1; }
done
fw trust "$work/bin/iperf3-server" "iperf3 server" > /dev/null
setsid ip netns exec "$app" taskset -c 1 "$work/bin/iperf3-server" -s -p 5201 > /dev/null 2>&1 &
server=$!
until fw ports --json | grep -q '"port":5201'; do sleep 0.2; done

# One iperf3 run from the outside; prints the figure, or fails with iperf3's own error.
iperf() { # python-expression-of-s=end.sum_received iperf3-options...
  local figure="$1"; shift
  ip netns exec "$out" taskset -c 0 iperf3 -c 10.78.0.2 -p 5201 -t "$seconds" -J "$@" > "$work/iperf.json" || true
  python3 - "$work/iperf.json" "$figure" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    sys.exit("iperf3: " + d["error"])
s = d["end"]["sum_received"]
print(eval(sys.argv[2]))
PY
}

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }  # user nice system irq softirq, in ticks

run() { # mode round
  local tcp udp b0 b1 per
  tcp=$(iperf 's["bits_per_second"] / 1e9')
  b0=$(busy)
  udp=$(iperf '(s["packets"] - s["lost_packets"]) / s["seconds"]' -u -b 0 -l 18)
  b1=$(busy)
  # received packets per CPU-second the whole machine spent (sender, receive softirq, receiver, firewall)
  per=$(python3 -c "print($udp * $seconds / (($b1 - $b0) / $(getconf CLK_TCK)))")
  echo "$1 $2 $tcp $udp $per" | tee -a "$work/runs"
}

echo "machine: $(nproc) vCPU, $(uname -r), $(java -version 2>&1 | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds: $rounds x (${seconds} s TCP + ${seconds} s UDP) per mode, alternating; date $(date -u '+%F %T') UTC"
echo "runs: mode round TCP-Gbit/s UDP-received-packets/s UDP-received-packets-per-CPU-second"
sleep 3   # start-up work (JIT, first scans) done before the first run
for round in $(seq "$rounds"); do
  fw disable > /dev/null; run none "$round"
  fw enable > /dev/null; sleep 1; run flexwall "$round"
done
fw ports --json | python3 -c '
import json, sys
p = json.loads(next(l for l in sys.stdin if l.startswith("{")))
print("permitted at the end:", ", ".join("%s/%s" % (e["protocol"], e["port"]) for e in p["permitted"]),
      "| refused:", len(p.get("refused", [])))'
python3 - "$work/runs" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
def med(mode, col):
    return statistics.median(float(r[col]) for r in runs if r[0] == mode)
for col, name, unit in ((2, "TCP", "Gbit/s"), (3, "UDP 60-byte frames", "packets/s"),
                        (4, "UDP per CPU-second", "packets/CPU-s")):
    none, fw = med("none", col), med("flexwall", col)
    print("%-20s no firewall %12.2f  flexwall %12.2f %s  ratio %.3f" % (name, none, fw, unit, fw / none))
PY
