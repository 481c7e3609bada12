#!/usr/bin/env bash
# flexwall status (the real CLI, JVM start included) while N idle connections are held on the control socket,
# against flexwall status with none held before and after, in the same run.
# Usage: benchmarks/control-socket-held.sh [runs] [connections]   (after mvn install; uses appliance-image/target/flexwall)
set -euo pipefail
cd "$(dirname "$0")/.."
# As root the appliance installs its firewall: run the whole benchmark in a namespace of its own, never on the host.
if [ "$(id -u)" -eq 0 ] && [ -z "${FLEXWALL_BENCH_NETNS:-}" ]; then
  ns="fwbench-$$"; ip netns add "$ns"; trap 'ip netns del "$ns"' EXIT; ip -n "$ns" link set lo up
  code=0; FLEXWALL_BENCH_NETNS=1 ip netns exec "$ns" "$0" "$@" || code=$?
  exit "$code"
fi
runs="${1:-10}"
connections="${2:-500}"
image=appliance-image/target/flexwall
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
work="$(mktemp -d)"; chmod 700 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/config" "$work/data"; chmod 700 "$work/data"
sed "s/\"org.osgi.service.http.port:Integer\": 8080/\"org.osgi.service.http.port:Integer\": $port/" \
  "$image/runtime-config/flexwall.json" > "$work/config/flexwall.json"
"$image/bin/flexwall" run --data "$work/data" --config "$work/config" > "$work/appliance.out" 2>&1 & app=$!
holder=""
trap 'kill $holder $app 2>/dev/null; wait $app 2>/dev/null; rm -rf "$work"' EXIT
until grep -q "flexwall ready" "$work/appliance.out"; do kill -0 $app; sleep 0.1; done

# Holds the connections: each sends half a request and nothing more, and is reopened as soon as it is cut off.
cat > "$work/hold.py" <<'PY'
import socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
def connect():
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.send(b'{"op":'); s.setblocking(False); return s
held = [connect() for _ in range(n)]
print("held", flush=True)
while True:
    for i, s in enumerate(held):
        try:
            if s.recv(64) == b'':
                s.close(); held[i] = connect()
        except BlockingIOError:
            pass
        except OSError:
            held[i] = connect()
    time.sleep(0.02)
PY

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
measure() {  # prints one line per run: milliseconds and exit code of flexwall status
  for _ in $(seq "$runs"); do
    t0=$(now_ms); code=0; "$image/bin/flexwall" status --data "$work/data" > /dev/null 2>&1 || code=$?
    echo "$(( $(now_ms) - t0 )) $code"; sleep 0.5
  done
}
measure > "$work/idle"
python3 "$work/hold.py" "$work/data/control.sock" "$connections" > "$work/hold.out" & holder=$!
until grep -q held "$work/hold.out"; do kill -0 $holder; sleep 0.1; done
measure > "$work/held"
echo "descriptors of the appliance while held: $(ls /proc/$app/fd | wc -l)"
kill $holder; wait $holder 2>/dev/null || true; holder=""
measure > "$work/idle-after"  # the order of the phases must not decide: none held before and after
for f in idle held idle-after; do
  echo "$f: flexwall status median $(cut -d' ' -f1 "$work/$f" | median) ms, max $(cut -d' ' -f1 "$work/$f" | sort -n | tail -1) ms," \
    "non-zero exits $(awk '$2 != 0' "$work/$f" | wc -l) of $runs"
done
