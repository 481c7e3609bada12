#!/usr/bin/env bash
# Start-up time, idle memory and size of the appliance image, against a bare JVM measured in the same run.
# Usage: benchmarks/appliance-startup.sh [runs]   (after mvn install; uses appliance-image/target/flexwall)
# Prints medians over the runs. Needs curl.
set -euo pipefail
cd "$(dirname "$0")/.."
# As root the appliance installs its firewall: run the whole benchmark in a namespace of its own, never on the host.
if [ "$(id -u)" -eq 0 ] && [ -z "${FLEXWALL_BENCH_NETNS:-}" ]; then
  ns="fwbench-$$"; ip netns add "$ns"; trap 'ip netns del "$ns"' EXIT; ip -n "$ns" link set lo up
  code=0; FLEXWALL_BENCH_NETNS=1 ip netns exec "$ns" "$0" "$@" || code=$?
  exit "$code"
fi
runs="${1:-5}"
image=appliance-image/target/flexwall
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config"
sed "s/\"org.osgi.service.http.port:Integer\": 8080/\"org.osgi.service.http.port:Integer\": $port/" \
  "$image/runtime-config/flexwall.json" > "$work/config/flexwall.json"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# Baseline: the same JVM and flags doing nothing — the floor any Java appliance pays.
cat > "$work/Idle.java" <<'JAVA'
public class Idle { public static void main(String[] a) throws Exception { System.out.println("up"); Thread.sleep(600_000); } }
JAVA
javac -d "$work" "$work/Idle.java"
opts="-Xmx64m -XX:+UseSerialGC -Xss512k -XX:TieredStopAtLevel=1"

for i in $(seq "$runs"); do
  t0=$(now_ms); java $opts -cp "$work" Idle > "$work/idle.out" & pid=$!
  until grep -q up "$work/idle.out" 2>/dev/null; do sleep 0.01; done
  echo $(( $(now_ms) - t0 )) >> "$work/base_start"; sleep 5; rss_kb $pid >> "$work/base_rss"
  kill $pid; wait $pid 2>/dev/null || true

  rm -rf "$work/data"; mkdir -m 700 "$work/data"
  t0=$(now_ms)
  "$image/bin/flexwall" run --data "$work/data" --config "$work/config" > "$work/fw.out" 2>&1 & pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/system/console/bundles")" = 401 ]; do sleep 0.01; done
  echo $(( $(now_ms) - t0 )) >> "$work/console"
  until grep -q "flexwall ready" "$work/fw.out"; do sleep 0.01; done
  grep -o "ready [0-9]* ms" "$work/fw.out" | grep -o "[0-9]*" >> "$work/ready"
  sleep 5; jpid=$(pgrep -P $pid java || echo $pid); rss_kb "$jpid" >> "$work/rss"
  kill $pid; wait $pid 2>/dev/null || true
done

echo "machine: $(nproc) vCPU, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), $(java -version 2>&1 | head -1)"
echo "runs: $runs (medians)"
echo "bare JVM (baseline):   start $(median < "$work/base_start") ms, idle RSS $(( $(median < "$work/base_rss") / 1024 )) MB"
echo "appliance ready:       $(median < "$work/ready") ms after JVM start (all flexwall components active)"
echo "appliance console:     $(median < "$work/console") ms from launch to first HTTP answer"
echo "appliance idle RSS:    $(( $(median < "$work/rss") / 1024 )) MB (-Xmx64m, 5 s after start)"
echo "image size:            $(du -sk "$image" | cut -f1) KB unpacked, $(du -k appliance-image/target/flexwall.tar.gz | cut -f1) KB as tar.gz"
