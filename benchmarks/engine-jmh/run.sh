#!/bin/sh
# Packet engine benchmark (JMH): decisions per second per core and bytes allocated per decision.
# Usage: benchmarks/engine-jmh/run.sh [JMH options]   (default: the short run quoted in docs)
set -e
cd "$(dirname "$0")/../.."
mvn -q -f bundles/api/pom.xml install -DskipTests
mvn -q -f bundles/stateful-icf/pom.xml clean install -DskipTests
mvn -q -f bundles/packet-bypass/pom.xml clean install -DskipTests
mvn -q -f benchmarks/engine-jmh/pom.xml clean package
if [ $# -eq 0 ]; then
  set -- -f 1 -wi 2 -i 3 -w 2s -r 2s -t 1 -prof gc
fi
exec java -jar benchmarks/engine-jmh/target/benchmarks.jar "$@"
