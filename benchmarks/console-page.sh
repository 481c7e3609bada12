#!/usr/bin/env bash
# The Firewall page's update endpoint (state.json) under 1 000 permitted ports and 100 000 recorded drops: its
# response time, and the appliance JVM's CPU while a browser-like client asks once a second, against the same
# appliance left idle, in alternating rounds of the same run.
# Usage: benchmarks/console-page.sh [rounds] [seconds]   (after mvn install; uses appliance-image/target/flexwall)
# Needs curl, hping3, python3. Runs in network namespaces of its own, never on the host's ruleset.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ] && [ -z "${FLEXWALL_BENCH_NETNS:-}" ]; then
  ns="fwbench-$$"; out="fwbout-$$"
  ip netns add "$ns"; ip netns add "$out"; trap 'ip netns del "$ns"; ip netns del "$out"' EXIT
  ip -n "$ns" link set lo up; ip -n "$out" link set lo up
  ip link add wan0 netns "$ns" type veth peer name out0 netns "$out"
  ip -n "$ns" addr add 10.78.0.2/16 dev wan0; ip -n "$out" addr add 10.78.0.1/16 dev out0
  ip -n "$ns" link set wan0 up; ip -n "$out" link set out0 up
  code=0; FLEXWALL_BENCH_NETNS=1 FLEXWALL_BENCH_OUT="$out" ip netns exec "$ns" "$0" "$@" || code=$?
  exit "$code"
fi
rounds="${1:-3}"; seconds="${2:-20}"
image=appliance-image/target/flexwall
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
work="$(mktemp -d)"; pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config"; mkdir -m 700 "$work/data"
sed "s/\"org.osgi.service.http.port:Integer\": 8080/\"org.osgi.service.http.port:Integer\": $port/" \
  "$image/runtime-config/flexwall.json" > "$work/config/flexwall.json"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

"$image/bin/flexwall" run --data "$work/data" --config "$work/config" > "$work/fw.out" 2>&1 & pids+=($!)
until grep -q "flexwall ready" "$work/fw.out"; do sleep 0.1; done
until [ -s "$work/data/console-initial-password" ]; do sleep 0.1; done
jvm=${pids[0]} # bin/flexwall run execs the JVM
auth="admin:$(cat "$work/data/console-initial-password")"
url="http://127.0.0.1:$port/system/console/firewall/state.json"
fw() { FLEXWALL_DATA="$work/data" "$image/bin/flexwall" "$@"; }

# 1 000 permitted ports: one trusted program (an interpreter, trusted with --insist for the benchmark) listening on them
python="$(readlink -f /usr/bin/python3)" # Debian's, the real image (not a version manager's shim)
fw trust "$python" bench-listener --insist > /dev/null
cat > "$work/listen.py" <<'PY'
import socket, time
socks = []
for p in range(20000, 21000):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", p)); s.listen(8)
    socks.append(s)
time.sleep(100000)
PY
"$python" "$work/listen.py" & pids+=($!)
until [ "$(fw ports --json | grep '^{' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["permitted"]))')" -ge 1000 ]; do sleep 0.5; done

# 100 000 dropped attempts: 50 rounds of SYNs to 2 000 ports nobody listens on from one source, then 10 000 from
# random sources, which fill the kernel's record (4 096 sources and ports per family) to the brim
for i in $(seq 50); do
  ip netns exec "$FLEXWALL_BENCH_OUT" hping3 -q -S -p ++30000 -i u20 -c 2000 10.78.0.2 > /dev/null 2>&1 || true
done
ip netns exec "$FLEXWALL_BENCH_OUT" hping3 -q -S --rand-source -p ++40000 -i u20 -c 10000 10.78.0.2 > /dev/null 2>&1 || true
sleep 3
counted=$(curl -s -u "$auth" "$url" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["dropsCounted"], s["dropSources"], len(s["permitted"]))')

for r in $(seq "$rounds"); do
  sleep 11 # the page counts as watched for 10 s after its last update; idle means nobody watches
  t0=$(ticks "$jvm"); sleep "$seconds"; t1=$(ticks "$jvm")
  echo "$(( (t1 - t0) ))" >> "$work/idle_ticks"
  t0=$(ticks "$jvm")
  for i in $(seq "$seconds"); do
    curl -s -o /dev/null -u "$auth" -w '%{time_total}\n' "$url" >> "$work/times"; sleep 1
  done
  t1=$(ticks "$jvm")
  echo "$(( (t1 - t0) ))" >> "$work/poll_ticks"
done
hz=$(getconf CLK_TCK)
idle=$(median < "$work/idle_ticks"); poll=$(median < "$work/poll_ticks")
echo "machine: $(nproc) vCPU, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
echo "state: 1000 permitted ports wanted, the page shows $(echo "$counted" | cut -d' ' -f3); 110000 SYNs sent, the page counted $(echo "$counted" | cut -d' ' -f1) from $(echo "$counted" | cut -d' ' -f2) sources and ports"
echo "response time of state.json: median $(median < "$work/times" | awk '{printf "%.1f", $1*1000}') ms, max $(sort -n "$work/times" | tail -1 | awk '{printf "%.1f", $1*1000}') ms over $(wc -l < "$work/times") requests"
echo "appliance CPU: idle $(awk -v t="$idle" -v s="$seconds" -v hz="$hz" 'BEGIN{printf "%.1f", 100*t/hz/s}') %, one update a second $(awk -v t="$poll" -v s="$seconds" -v hz="$hz" 'BEGIN{printf "%.1f", 100*t/hz/s}') % of one core (medians of $rounds rounds of $seconds s, alternating)"
