#!/usr/bin/env bash
# Builds flexwall and starts the appliance in the foreground; Ctrl-C stops it.
# Data (console password, trusted programs, framework cache) goes to ./var/data unless FLEXWALL_DATA says otherwise:
# outside target/, so a rebuild keeps it. The flexwall command finds this appliance by itself (see README).
set -euo pipefail
cd "$(dirname "$0")"
command -v mvn >/dev/null && command -v java >/dev/null || { echo "run.sh: needs Java 17 and Maven (apt-get install openjdk-17-jdk maven)" >&2; exit 2; }
# What the build (clang and libbpf's headers, for the port monitor's BPF iterator) and the appliance need.
appliance-image/install-packages.sh run.sh clang libbpf-dev libbpf1 nftables iptables libnetfilter-queue1 iproute2
# Debian's Maven 3.8 prints colour resets even in batch mode: strip them so the first line is readable.
mvn -B -q -ntp -Dstyle.color=never clean install -DskipTests 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'
data="${FLEXWALL_DATA:-$PWD/var/data}"
mkdir -p "$data" && chmod 700 "$data"
echo "run.sh: starting flexwall: it installs its firewall on this machine (table inet flexwall: unsolicited inbound" \
  "packets dropped; started over SSH, SSH from your client stays reachable: see the log's anti-lockout line)." \
  "Undo with: appliance-image/target/flexwall/bin/flexwall disable"
exec appliance-image/target/flexwall/bin/flexwall run --data "$data" "$@"
