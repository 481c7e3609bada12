#!/usr/bin/env bash
# Installs what the tests need and runs every test: unit tests, OSGi integration tests (Pax Exam, osgi-test) and system tests
# with real sockets, network namespaces, nftables and the built appliance. Run as root on a Debian machine.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the tests drive as real parts or as the other side of the wire, and the build's (clang, libbpf-dev).
appliance-image/install-packages.sh test.sh \
  nftables iptables conntrack iproute2 iputils-ping libnetfilter-queue1 libnetfilter-queue-dev libmnl-dev libpcap0.8 ethtool \
  clang libbpf-dev libbpf1 nmap hping3 iperf3 tcpdump socat strace procps util-linux e2fsprogs python3 gcc curl chromium \
  systemd passwd \
  chromium-driver

# Here every system test must run: one whose need (root, a tool, namespaces) is missing fails instead of skipping.
export FLEXWALL_SYSTEM_TESTS=required
# Two modules at a time (-T 2): the modules' tests mostly wait on namespaces and probes, so on 2 cores this takes
# about 1.5 minutes before the system tests instead of 2.5; every module's tests keep their own namespaces and files.
exec mvn -B -ntp -T 2 clean install "$@"
