#!/usr/bin/env bash
# The appliance image under a SYN flood from random sources (issue "Packet path"): rounds of SECONDS without flood
# (baseline) and SECONDS with `hping3 -S --flood --rand-source` at closed ports, alternating, while a client opens a
# new connection to a trusted echo server every 20 ms. Reports, quiet against flood: the appliance JVM's CPU
# (utime+stime from /proc/PID/stat), the machine's softirq time (/proc/stat), packets/s arriving on wan0, connect
# success and connect time p50/p99. Once per NFQUEUE mode given (default: firstPacket, then userspace).
# Root; everything runs in two network namespaces it creates and deletes. Needs hping3, socat, python3.
# Usage: benchmarks/under-attack.sh [rounds [seconds [mode...]]]   (after mvn install)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "under-attack.sh: run as root (it makes network namespaces)" >&2; exit 2; }
rounds="${1:-3}"; seconds="${2:-10}"; shift $(( $# < 2 ? $# : 2 ))
modes=("$@"); [ ${#modes[@]} -gt 0 ] || modes=(firstPacket userspace)
image="$PWD/appliance-image/target/flexwall"
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
here="$PWD/benchmarks/under-attack"
work="$(mktemp -d)"; app="fwb-attack-app-$$"; out="fwb-attack-out-$$"; appliance=""; jvm=""; server=""; flood=""
stop() { # process group of a `setsid` child
  [ -n "$1" ] && kill -- "-$1" 2>/dev/null && { wait "$1" 2>/dev/null || true; }; return 0
}
cleanup() {
  stop "$flood"; stop "$server"; stop "$appliance"
  ip netns del "$out" 2>/dev/null; ip netns del "$app" 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT

# outside namespace (out0 10.77.0.1) ── veth ── (wan0 10.77.0.2) appliance namespace: the appliance and its server
ip netns add "$app"; ip netns add "$out"
ip -n "$app" link set lo up; ip -n "$out" link set lo up
ip -n "$app" link add wan0 type veth peer name out0 netns "$out"
ip -n "$app" addr add 10.77.0.2/24 dev wan0; ip -n "$app" link set wan0 up
ip -n "$out" addr add 10.77.0.1/24 dev out0; ip -n "$out" link set out0 up
mkdir "$work/bin"; cp /usr/bin/socat "$work/bin/server"   # the trusted program: a copy of socat, echoing
hz=$(getconf CLK_TCK)

# utime + stime in clock ticks: of the whole JVM, of its NFQUEUE threads, of its port monitor thread
jvm_ticks() {
  awk '{ name = $0; sub(/^.*\) /, ""); t = $12 + $13 } FILENAME !~ /task/ { all = t }
       FILENAME ~ /task/ && name ~ /\(flexwall-nfqueu/ { q += t } FILENAME ~ /task/ && name ~ /\(flexwall-port-m/ { m += t }
       END { print all, q, m }' \
    "/proc/$jvm/stat" /proc/"$jvm"/task/*/stat
}
softirq_total() { awk '/^cpu / {print $8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
rx_packets() { ip netns exec "$app" cat /sys/class/net/wan0/statistics/rx_packets; }
now_ns() { date +%s%N; }

# One window: the client for SECONDS; a line of figures goes to $work/windows (see the header printed below).
window() { # mode phase round
  local c0 q0 m0 s0 a0 r0 t0 c1 q1 m1 s1 a1 r1 t1
  read -r c0 q0 m0 < <(jvm_ticks); read -r s0 a0 < <(softirq_total); r0=$(rx_packets); t0=$(now_ns)
  ip netns exec "$out" python3 "$here/connect_times.py" 10.77.0.2 7000 "$seconds" > "$work/$1-$2-$3.connects"
  read -r c1 q1 m1 < <(jvm_ticks); read -r s1 a1 < <(softirq_total); r1=$(rx_packets); t1=$(now_ns)
  awk -v m="$1" -v p="$2" -v c=$((c1 - c0)) -v q=$((q1 - q0)) -v mon=$((m1 - m0)) -v s=$((s1 - s0)) \
      -v a=$((a1 - a0)) -v r=$((r1 - r0)) -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { e = t / 1e9; k = 100 / hz / e;
        printf "%s %s %.1f %.1f %.1f %.1f %.1f %.0f\n", m, p, c * k, q * k, mon * k, s * k, 100 * s / a, r / e }' \
      | tee -a "$work/windows"
}

run_mode() { # mode
  local mode="$1" data="$work/data-$1" config="$work/config-$1"
  mkdir -m 700 "$data"; mkdir "$config"
  # the shipped settings; management (anti-lockout) on lo only, so nothing is open on wan0; the NFQUEUE mode
  python3 - "$image/runtime-config/flexwall.json" "$mode" > "$config/flexwall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.setdefault("org.flexwall.hook.nftables", {})["managementInterface"] = "lo"
c.setdefault("org.flexwall.hook.nfqueue", {})["mode"] = sys.argv[2]
print(json.dumps(c))
PY
  setsid ip netns exec "$app" "$image/bin/flexwall" run --data "$data" --config "$config" > "$work/$mode.log" 2>&1 &
  appliance=$!
  until grep -qs "flexwall ready" "$work/$mode.log"; do
    sleep 0.1; kill -0 "$appliance" 2>/dev/null || { echo "the appliance did not start:"; cat "$work/$mode.log"; exit 1; }
  done
  jvm=$(pgrep -g "$appliance" java)   # the appliance's JVM (bin/flexwall execs into it)
  FLEXWALL_DATA="$data" "$image/bin/flexwall" trust "$work/bin/server" server > /dev/null
  setsid ip netns exec "$app" "$work/bin/server" TCP-LISTEN:7000,reuseaddr,fork EXEC:/bin/cat > /dev/null 2>&1 &
  server=$!
  until FLEXWALL_DATA="$data" "$image/bin/flexwall" ports --json | grep -q '"port":7000'; do sleep 0.2; done
  sleep 5   # start-up work (JIT, first scans) done before the first window
  for round in $(seq "$rounds"); do
    window "$mode" quiet "$round"
    setsid ip netns exec "$out" hping3 -q -S --flood --rand-source -p ++1024 10.77.0.2 > /dev/null 2>&1 &
    flood=$!
    sleep 1   # the flood at full rate before the window opens
    window "$mode" flood "$round"
    stop "$flood"; flood=""
    sleep 2   # SYN_RECV entries and queues drain
  done
  kill -0 "$jvm" || { echo "the appliance died under the flood:"; cat "$work/$mode.log"; exit 1; }
  FLEXWALL_DATA="$data" "$image/bin/flexwall" status --json | python3 -c '
import json, sys
s = json.loads(next(l for l in sys.stdin if l.startswith("{")))
print("after the floods: healthy %s; %s" % (s["healthy"],
      "; ".join("%s: %s" % (h["name"], h["status"]) for h in s["packetHooks"])))'
  stop "$server"; server=""
  stop "$appliance"; appliance=""
}

echo "machine: $(nproc) vCPU, $(uname -r), $(java -version 2>&1 | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rounds: $rounds x ${seconds} s quiet + ${seconds} s flood, alternating; date $(date -u +%F)"
echo "windows: mode phase; % of one core: JVM, its NFQUEUE threads, its port monitor, softirq; softirq % of all CPU;" \
  "wan0 packets/s"
for mode in "${modes[@]}"; do run_mode "$mode"; done
python3 "$here/summary.py" "$work"
