#!/usr/bin/env bash
# boot-test.sh: the disk image's boot test, as root on a Debian machine (installs what it needs, builds the image
# when appliance-image/disk/target/ has none). Boots it twice under qemu (TCG) probed every 10 ms from a network
# namespace through a tap device; prints the time to the baseline ruleset and to full policy, the JVM's RSS and the
# image's size, and "N passed, M failed" (see boottest.py). Too slow for CI under TCG: run it by hand.
# Serial console logs and the copy of the image it boots: appliance-image/disk/target/boottest/.
set -euo pipefail
disk="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$disk/../.." && pwd)"
"$repo/appliance-image/install-packages.sh" "appliance-image/disk/boot-test.sh" qemu-system-x86 iproute2 python3
[ -f "$disk/target/flexwall-disk.img" ] || "$disk/build.sh"
exec python3 "$disk/boottest.py" "$disk/target" "$disk/target/boottest" \
  "$repo/itests/src/test/resources/org/flexwall/itests/traffic/syn_prober.py"
