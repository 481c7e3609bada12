#!/usr/bin/env bash
# Builds flexwall and starts the appliance in the foreground; Ctrl-C stops it.
# Data (console password, trusted programs, framework cache) goes to ./var/data unless FLEXWALL_DATA says otherwise.
set -euo pipefail
cd "$(dirname "$0")"
command -v mvn >/dev/null && command -v java >/dev/null || { echo "run.sh: needs Java 17 and Maven (apt-get install openjdk-17-jdk maven)" >&2; exit 2; }
# What the build (clang and libbpf's headers, for the port monitor's BPF iterator) and the appliance need.
packages=(clang libbpf-dev libbpf1 nftables iptables libnetfilter-queue1 iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  [ "$(id -u)" -eq 0 ] || { echo "run.sh: missing packages ${missing[*]}; run as root (sudo ./run.sh)" >&2; exit 2; }
  echo "run.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mvn -B -q -ntp clean install -DskipTests
data="${FLEXWALL_DATA:-$PWD/var/data}"
mkdir -p "$data" && chmod 700 "$data"
echo "run.sh: starting flexwall: it installs its firewall on this machine (table inet flexwall: unsolicited inbound" \
  "packets dropped; tcp 22 and 8080 stay reachable). Undo with: appliance-image/target/flexwall/bin/flexwall disable"
exec appliance-image/target/flexwall/bin/flexwall run --data "$data" "$@"
