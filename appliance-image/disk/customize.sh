#!/usr/bin/env bash
# customize.sh ROOT ARCHIVE: mmdebstrap's last step for build.sh: the flexwall archive and its units, the machine's
# configuration (overlay/) and which units start at boot.
set -euo pipefail
root=$1 archive=$2
disk="$(cd "$(dirname "$0")" && pwd)"

mkdir -p "$root/opt/flexwall"
tar -xzf "$archive" -C "$root/opt/flexwall"
cp "$root/opt/flexwall/systemd/flexwall.service" "$root/etc/systemd/system/"
cp -r "$disk/overlay/." "$root/"
ln -sf /opt/flexwall/bin/flexwall "$root/usr/local/bin/flexwall"

systemctl --root="$root" enable flexwall.service systemd-networkd.service systemd-network-generator.service \
  flexwall-boottest-untrusted.service flexwall-boottest-trusted.service flexwall-boottest-report.service
# Nothing waits for input at boot; the network is configured by networkd alone.
systemctl --root="$root" mask systemd-firstboot.service systemd-networkd-wait-online.service
# The root account stays locked (no password); the machine is run through flexwall's command and console.
