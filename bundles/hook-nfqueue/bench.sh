#!/usr/bin/env bash
# NFQUEUE benchmark: decisions per second of the Java hook against a minimal libnetfilter_queue consumer in C, same
# traffic, same run. Needs root, gcc, libnetfilter-queue-dev and libmnl-dev. Usage: bench.sh [rounds] [seconds]
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
  echo "bench.sh: run as root (it makes network namespaces and binds a netfilter queue)" >&2
  exit 2
fi
mvn -q -f pom.xml test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
# The consumers run on CPU 1 (this JVM, and the C program), the traffic generator on CPU 0.
exec taskset -c 1 java -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
  org.flexwall.hook.nfqueue.bench.NfqueueBench "$@"
