#!/usr/bin/env bash
# Port event latency of the running appliance, for each way the port monitor learns of sockets:
#   event-driven  — the image as shipped (kernel tracepoints wake the sock_diag monitor)
#   polling       — the same image without the port-monitor-tracefs bundle (sock_diag polling only)
# A trusted C program opens and closes a TCP listener CYCLES times; EventLatency measures listen() -> port-store
# entry (the entry's own timestamp), listen()/close() -> the port in/out of the kernel set as nft monitor shows it, and
# the goal's own measure in kernel clocks (a tracefs instance of its own: the socket entering/leaving TCP_LISTEN -> the
# commit that adds/deletes the element), without polling the appliance. Nothing of the benchmark's own wakes up inside
# the measured interval: the program prints its stamps QUIET_US µs after listen()/close() (default 20000), and the
# trace is read after each round. With a BASELINE image (another build's appliance-image/target/flexwall), baseline and this
# build alternate round by round, CYCLES/ROUNDS cycles each time, and the samples are pooled per image and monitor.
# Run as root after `mvn install`. Usage: benchmarks/port-event-latency.sh [CYCLES [ROUNDS [BASELINE]]]
# LISTENERS=N starts N other (untrusted) TCP listeners beside the appliance first, as the services of a real box.
# PROC=own (default) runs the appliance and the program in a PID namespace of their own, PROC=shared sees every process
# of the machine. NICE=N runs the appliance at that nice value. MONITORS="event-driven polling" selects monitors.
# FLEXWALL_JAVA_OPTS reaches the appliance's JVM. FLOOD=N measures each appliance twice: idle, then while N clients
# (each from its own loopback address) send wrong console passwords as fast as they are answered (LoginFlood.java). LOGS=DIR keeps the appliance logs and the samples (columns: store
# open, kernel open, kernel close in ns; listen() CLOCK_MONOTONIC;
# kernel-clock open and close in ns; kernel clock from the socket entering TCP_LISTEN to the appliance's tracefs reader
# thread on a CPU, in ns; -1 when not traced). WARMUP=N runs N more cycles at the start of each round,
# not recorded: the first port changes after the JVM started run code not compiled yet.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-1000}"; rounds="${2:-1}"; baseline="${3:-}"; proc="${PROC:-own}"
image="$PWD/appliance-image/target/flexwall"
work="$(mktemp -d)"; ns="fwb-latency-$$"; pid=""; inner=""; flood=""
others=()
stop_others() { [ ${#others[@]} -gt 0 ] && kill "${others[@]}" 2>/dev/null; others=(); }
cleanup() { stop_others; [ -n "$flood" ] && kill "$flood" 2>/dev/null; [ -n "$pid" ] && kill "$inner" "$pid" 2>/dev/null; wait 2>/dev/null; ip netns del "$ns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${LOGS:-}" ] && mkdir -p "$LOGS"              # LOGS=DIR need not exist yet
ip netns add "$ns"; ip -n "$ns" link set lo up     # the appliance and the program live in a namespace of their own
gcc -O2 -o "$work/listen_cycles" benchmarks/port-event-latency/listen_cycles.c
cp="$(ls "$image"/lib/jakarta.json-api-*.jar):$(ls "$image"/lib/parsson-*.jar)"

run() { # label image monitor cycles
  local label="$1" img="$2" monitor="$3" n="$4" data bundles
  data="$(mktemp -d -p "$work")"; chmod 700 "$data"
  bundles="$img/bundles"
  if [ "$monitor" = polling ]; then
    bundles="$data/bundles"; mkdir "$bundles"; cp "$img"/bundles/*.jar "$bundles/"
    rm "$bundles"/flexwall-port-monitor-tracefs-*.jar
  fi
  if [ "$proc" = own ]; then
    # A PID namespace and /proc of its own: the port monitor sees the appliance's processes only, as on a dedicated
    # box, not the thousands of sockets other tenants of a shared machine hold. The program runs in it too.
    ${NICE:+nice -n "$NICE"} ip netns exec "$ns" unshare --pid --mount-proc --kill-child "$img/bin/flexwall" run --data "$data" \
      --bundles "$bundles" > "$work/$label.log" 2>&1 & pid=$!
    until inner="$(cat /proc/$pid/task/$pid/children 2>/dev/null)" && [ -n "$inner" ]; do sleep 0.1; done
    inner="${inner%% *}"; enter=(nsenter --target "$inner" --pid --mount --net)
  else
    ${NICE:+nice -n "$NICE"} ip netns exec "$ns" "$img/bin/flexwall" run --data "$data" --bundles "$bundles" \
      > "$work/$label.log" 2>&1 &
    pid=$!; inner=$pid; enter=(ip netns exec "$ns")
  fi
  until [ -S "$data/control.sock" ]; do sleep 0.1; done
  until ip netns exec "$ns" nft list set inet flexwall permitted4 >/dev/null 2>&1; do sleep 0.1; done
  for ((l = 1; l <= ${LISTENERS:-0}; l++)); do   # each its own process, seen by the port monitor like the program
    "${enter[@]}" socat TCP-LISTEN:$((30000 + l)),reuseaddr,fork EXEC:/bin/cat & others+=($!)
  done
  sleep 2   # let every component come up
  FLEXWALL_DATA="$data" "$img/bin/flexwall" trust "$work/listen_cycles" bench >/dev/null
  APPLIANCE_PID="$inner" java -cp "$cp" benchmarks/port-event-latency/EventLatency.java measure "$data/control.sock" "$ns" 24111 "$n" \
    "$work/$label.samples" "${enter[@]}" "$work/listen_cycles" 24111 "$((n + ${WARMUP:-0}))"
  if [ -n "${FLOOD:-}" ]; then # the same appliance again, under a login flood at full strength
    ip netns exec "$ns" java benchmarks/port-event-latency/LoginFlood.java 8080 "$FLOOD" > "$work/$label.flood" 2>&1 &
    flood=$!; sleep 5
    APPLIANCE_PID="$inner" java -cp "$cp" benchmarks/port-event-latency/EventLatency.java measure "$data/control.sock" "$ns" 24111 "$n" \
      "$work/$label-flood.samples" "${enter[@]}" "$work/listen_cycles" 24111 "$((n + ${WARMUP:-0}))"
    kill "$flood"; wait "$flood" 2>/dev/null || true; flood=""; cat "$work/$label.flood"
  fi
  stop_others
  kill "$inner"; wait "$pid" 2>/dev/null || true; pid=""   # SIGTERM to the JVM: it removes its tracefs instance
  if [ "$monitor" = event-driven ] && grep -q "falls back to polling" "$work/$label.log"; then
    echo "WARNING: $label had no kernel events (it polled): $(grep -m1 "falls back to polling" "$work/$label.log")"
  fi
  if [ -n "${LOGS:-}" ]; then cat "$work/$label.log" >> "$LOGS/$label.log"; cp "$work/$label"*.samples "$LOGS/"; fi
}

echo "machine: $(nproc) vCPU, $(uname -r), $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "processes the monitor sees: $proc${NICE:+; appliance at nice $NICE}${FLEXWALL_JAVA_OPTS:+; appliance JVM options: $FLEXWALL_JAVA_OPTS}"
per=$(( cycles / rounds ))
for monitor in ${MONITORS:-event-driven polling}; do
  for ((r = 1; r <= rounds; r++)); do
    [ -n "$baseline" ] && run "baseline-$monitor" "$baseline" "$monitor" "$per"
    run "subject-$monitor" "$image" "$monitor" "$per"
  done
  [ -n "$baseline" ] && java -cp "$cp" benchmarks/port-event-latency/EventLatency.java report \
    "baseline $monitor ($baseline)" "$work/baseline-$monitor.samples"
  java -cp "$cp" benchmarks/port-event-latency/EventLatency.java report "this build, $monitor" \
    "$work/subject-$monitor.samples"
  [ -n "${FLOOD:-}" ] && java -cp "$cp" benchmarks/port-event-latency/EventLatency.java report \
    "this build, $monitor, during a $FLOOD-way login flood" "$work/subject-$monitor-flood.samples"
  [ -n "${FLOOD:-}" ] && [ -n "$baseline" ] && java -cp "$cp" benchmarks/port-event-latency/EventLatency.java report \
    "baseline $monitor, during a $FLOOD-way login flood" "$work/baseline-$monitor-flood.samples"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
