#!/usr/bin/env bash
# customize.sh ROOT ARCHIVE: mmdebstrap's last step for build.sh: the flexwall archive installed by its own installer
# (flexwall-install --root: release under /opt/flexwall, user flexwall, both units enabled), the machine's
# configuration (overlay/) and which other units start at boot.
set -euo pipefail
root=$1 archive=$2
disk="$(cd "$(dirname "$0")" && pwd)"

installer="$(mktemp -d)"
trap 'rm -rf "$installer"' EXIT
tar -xzf "$archive" -C "$installer" bin/flexwall-install
"$installer/bin/flexwall-install" install "$archive" --root "$root" --no-start
cp -r "$disk/overlay/." "$root/"

systemctl --root="$root" enable systemd-networkd.service systemd-network-generator.service \
  flexwall-boottest-untrusted.service flexwall-boottest-trusted.service flexwall-boottest-report.service
# Nothing waits for input at boot; the network is configured by networkd alone.
systemctl --root="$root" mask systemd-firstboot.service systemd-networkd-wait-online.service
# The root account stays locked (no password): the appliance is run through flexwall's command and console.
