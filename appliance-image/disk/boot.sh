#!/usr/bin/env bash
# boot.sh [--tap IFNAME] [--snapshot] [--image FILE] [-- KERNEL ARGS...]: boots the disk image (build.sh) under qemu
# (TCG: no KVM needed), serial console on this terminal (quit: Ctrl-A X). The kernel and initrd come from beside the
# image (direct kernel boot, no boot loader).
#   --tap IFNAME   the machine's network card on this existing tap device (give it an address with the kernel
#                  argument ip=ADDRESS::GATEWAY:NETMASK::eth0:off); without it qemu's user-mode network and DHCP
#   --snapshot     changes are thrown away at exit (else the image keeps them, like a disk)
#   FLEXWALL_QEMU_ACCEL=kvm uses KVM where there is one; FLEXWALL_QEMU_MEMORY (MiB, default 512);
#   FLEXWALL_QEMU_CPUS (default 1: with 2, multi-threaded TCG, both vCPUs once locked up for minutes in
#   syscall_trace_enter while the appliance enabled its syscall tracepoints; see docs/PERFORMANCE.md)
set -euo pipefail
disk="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$disk/../.." && pwd)"
"$repo/appliance-image/install-packages.sh" "appliance-image/disk/boot.sh" qemu-system-x86
image="$disk/target/flexwall-disk.img"
net=(-netdev user,id=net0)
qemu_opts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) net=(-netdev "tap,id=net0,ifname=$2,script=no,downscript=no"); shift 2 ;;
    --snapshot) qemu_opts+=(-snapshot); shift ;;
    --image) image="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "boot.sh: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
dir="$(dirname "$image")"
for f in "$image" "$dir/vmlinuz" "$dir/initrd.img"; do
  [ -f "$f" ] || { echo "boot.sh: $f missing: build the image first (appliance-image/disk/build.sh)" >&2; exit 2; }
done
exec qemu-system-x86_64 -accel "${FLEXWALL_QEMU_ACCEL:-tcg}" -m "${FLEXWALL_QEMU_MEMORY:-512}" -smp "${FLEXWALL_QEMU_CPUS:-1}" \
  -nodefaults -display none -serial mon:stdio -no-reboot "${qemu_opts[@]}" \
  -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1 $*" \
  -drive "file=$image,format=raw,if=virtio" \
  "${net[@]}" -device virtio-net-pci,netdev=net0
