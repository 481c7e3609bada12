#!/usr/bin/env bash
# build.sh: builds the bootable disk image of the appliance from Debian's packages, as root on a Debian machine.
#   appliance-image/disk/build.sh        -> appliance-image/disk/target/{flexwall-disk.img,vmlinuz,initrd.img}
# The image: Debian 12 (mmdebstrap), its cloud kernel, systemd, openjdk-17-jre-headless, nftables, iproute2 and the
# flexwall archive (appliance-image/target/flexwall.tar.gz, built here when missing) at /opt/flexwall with its units
# enabled; one ext4 file system, no partition table: boot.sh starts it under qemu with the kernel and initrd beside it.
# Packages come from this machine's own apt sources; downloaded .debs are kept in target/debs for the next build.
set -euo pipefail
disk="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$disk/../.." && pwd)"
out="$disk/target"
"$repo/appliance-image/install-packages.sh" "appliance-image/disk/build.sh" mmdebstrap e2fsprogs

archive="${FLEXWALL_ARCHIVE:-$repo/appliance-image/target/flexwall.tar.gz}"
if [ ! -f "$archive" ]; then
  echo "build.sh: no $archive yet: building the appliance (mvn -pl appliance-image -am install -DskipTests)"
  (cd "$repo" && mvn -B -q -ntp -pl appliance-image -am install -DskipTests ${MAVEN_ARGS:-})
fi

# The machine's own Debian sources (deb822 or one-line), so the image comes from the mirror this machine uses.
sources="${FLEXWALL_DISK_SOURCES:-}"
if [ -z "$sources" ]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { sources="$f"; break; }
  done
fi
[ -n "$sources" ] || { echo "build.sh: no Debian apt sources found; set FLEXWALL_DISK_SOURCES=FILE" >&2; exit 2; }

packages=(
  systemd systemd-sysv udev kmod                # init, devices, modules
  linux-image-cloud-amd64 initramfs-tools       # the kernel for virtual machines (virtio), and its initrd
  openjdk-17-jre-headless                       # the JVM
  nftables iproute2 libbpf1 libnetfilter-queue1 # what the appliance drives
  socat                                         # the boot test's trusted and untrusted listeners
)

rm -rf "$out/rootfs" "$out/flexwall-disk.img"
mkdir -p "$out/debs" "$out/rootfs"
# Documentation, manuals and translations are left out: the image is firmware, nobody reads them there (man1 stays
# as a directory: update-alternatives puts its links there), and so is the JDK's ct.sym (javac's alone). No apt:
# the appliance is updated as a whole image or through flexwall's own bundle updates.
mmdebstrap --variant=essential --mode=root --skip=essential/unlink \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/lib/jvm/*/lib/ct.sym' \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
  --setup-hook="sync-in '$out/debs' /var/cache/apt/archives/" \
  --essential-hook='mkdir -p "$1"/etc/initramfs-tools/conf.d "$1"/usr/share/initramfs-tools/modules.d "$1"/usr/share/man/man1' \
  --essential-hook="copy-in '$disk/overlay/etc/initramfs-tools/conf.d/flexwall-disk' /etc/initramfs-tools/conf.d/" \
  --essential-hook="copy-in '$disk/overlay/usr/share/initramfs-tools/modules.d/flexwall-disk' /usr/share/initramfs-tools/modules.d/" \
  --customize-hook="sync-out /var/cache/apt/archives '$out/debs'" \
  --customize-hook="'$disk/customize.sh' \"\$1\" '$archive'" \
  bookworm "$out/rootfs" "$sources"

# The kernel and initrd beside the image, for qemu's direct kernel boot.
cp -L "$out/rootfs/vmlinuz" "$out/vmlinuz"
cp -L "$out/rootfs/initrd.img" "$out/initrd.img"

# One ext4 file system made from the tree (no loop mount), with room for the appliance's data and logs.
used_mb=$(du -sm "$out/rootfs" | cut -f1)
size_mb=$((used_mb + used_mb / 5 + 64))
mkfs.ext4 -q -F -L flexwall-root -d "$out/rootfs" "$out/flexwall-disk.img" "${size_mb}M"
rm -rf "$out/rootfs"
echo "build.sh: $out/flexwall-disk.img: ${size_mb} MiB file system, $(du -m "$out/flexwall-disk.img" | cut -f1) MiB" \
  "allocated; kernel $(du -h "$out/vmlinuz" | cut -f1), initrd $(du -h "$out/initrd.img" | cut -f1). Boot it with" \
  "appliance-image/disk/boot.sh"
