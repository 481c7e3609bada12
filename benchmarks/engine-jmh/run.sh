#!/bin/sh
# Packet engine benchmark (JMH): decisions per second per core and bytes allocated per decision.
# Usage: benchmarks/engine-jmh/run.sh [JMH options]   (default: the run quoted in docs/PERFORMANCE.md)
# MVN overrides the Maven command, e.g. MVN="mvn -o -Dmaven.repo.local=/path/to/m2".
set -e
cd "$(dirname "$0")/../.."
MVN=${MVN:-mvn}
$MVN -q -f bundles/api/pom.xml install -DskipTests
$MVN -q -f libs/packet-parse/pom.xml install -DskipTests
$MVN -q -f bundles/stateful-icf/pom.xml install -DskipTests
$MVN -q -f bundles/packet-bypass/pom.xml install -DskipTests
$MVN -q -f benchmarks/engine-jmh/pom.xml clean package
if [ $# -gt 0 ]; then
  exec java -jar benchmarks/engine-jmh/target/benchmarks.jar "$@"
fi
# 3 forks x 5 iterations of 1 s after 3 s of warm-up, one thread, pinned to one CPU; -prof gc gives B/op and the
# CpuTimeProfiler ops per CPU-second of the benchmark thread (what a shared machine's neighbours cannot lower).
result=benchmarks/engine-jmh/target/result.json
taskset -c "${CPU:-1}" java -jar benchmarks/engine-jmh/target/benchmarks.jar -f 3 -wi 3 -i 5 -w 1s -r 1s -t 1 \
  -prof gc -prof org.flexwall.packet.bypass.CpuTimeProfiler -rf json -rff "$result"
python3 benchmarks/engine-jmh/summary.py "$result"
