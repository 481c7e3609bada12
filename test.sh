#!/usr/bin/env bash
# Installs what the tests need and runs every test: unit tests, OSGi integration tests (Pax Exam) and system tests
# with real sockets, network namespaces, nftables and the built appliance. Run as root on a Debian machine.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests drive as real parts or as the other side of the wire.
packages=(nftables iptables conntrack iproute2 libnetfilter-queue1 libnetfilter-queue-dev libmnl-dev libpcap0.8 clang libbpf-dev libbpf1
          nmap hping3 iperf3 tcpdump socat procps util-linux e2fsprogs python3 gcc curl chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing packages ${missing[*]}; run as root (sudo ./test.sh) so they can be installed" >&2
    exit 2
  fi
  echo "test.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

exec mvn -B -ntp clean install "$@"
