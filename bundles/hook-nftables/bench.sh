#!/usr/bin/env bash
# Kernel baseline benchmark: iperf3 TCP throughput of one established flow, 60-byte UDP frames per second (one flow) and
# an hping3 UDP flood from random sources through flexwall's nft table (permitted ports untracked, then tracked), against
# no firewall in the same run. Needs root, iperf3, hping3 and socat. Usage: bench.sh [rounds] [seconds] (default 9 4)
# MVN overrides the Maven command, e.g. MVN="mvn -o -Dmaven.repo.local=/path/to/m2".
set -euo pipefail
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
  echo "bench.sh: run as root (it makes network namespaces and nft tables)" >&2
  exit 2
fi
${MVN:-mvn} -q -f pom.xml test-compile dependency:build-classpath -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
exec java -cp "target/classes:target/test-classes:$(cat target/bench.classpath)" \
  org.flexwall.hook.nftables.bench.NftablesBench "$@"
