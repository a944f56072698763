#!/bin/bash
# A disk root: the busybox root with this build in an ext4 image (mkfs.ext4 -d, no root needed),
# booted through a small initramfs (the Debian kernel has virtio_blk and ext4 as modules) with
# root=/dev/vda; tests/qemu/disk/fstab adds /srv on vdb (fsck pass 2) and swap on vdc. The guest
# checks the boot side (tests/qemu/guest/disk.sh); after poweroff the host checks the shutdown
# side by what it left: both filesystems clean (e2fsck -fn, no journal to recover), the guest's
# markers on them, and the system log on the disk showing services stopped in order, then
# swapoff and the unmount of /srv, before unmount-all.
# With --udev: Debian's udev package is in the image (tools/fetch-deb udev) and the fstab names
# /srv and swap by label (tests/qemu/disk/fstab-udev): udevd runs under the udev service and the
# by-label links exist before local-fs-pre (udev-trigger's settle), or the mount fails.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
name=disk fstab=$here/disk/fstab extra=() swapdev=/dev/vdc swapname=swap@dev-vdc
if [[ ${1:-} == --udev ]]; then
    deb=$("$tools/fetch-deb" --offline udev 2>/dev/null) ||
        skip "no cached udev package (run tools/ci-setup, which runs tools/fetch-deb udev)"
    name=disk_udev fstab=$here/disk/fstab-udev extra=(--deb "$deb")
    swapdev=/dev/disk/by-label/hwswap swapname=swap@dev-disk-by-label-hwswap
fi
for m in virtio_blk ext4 virtio_pci; do
    [[ -f $HW_KERNEL_DIR/modules/$m.ko ]] ||
        skip "the cached kernel has no $m.ko (run tools/fetch-kernel online once to refetch it)"
done
for p in mkfs.ext4 e2fsck debugfs dumpe2fs mkswap; do
    command -v $p >/dev/null || skip "no $p on this host (e2fsprogs, util-linux)"
done
fsck_programs=()
for p in /usr/sbin/e2fsck /usr/sbin/fsck /usr/sbin/fsck.ext4; do
    [[ -x $p ]] || skip "no $p to put in the image"
    fsck_programs+=(--host-program "$p")
done
build_image "$name" --disk "$build/qemu-image/$name-root.img" --fstab "$fstab" "${fsck_programs[@]}" \
    "${extra[@]}"
logs=$build/qemu-logs/$name
mkdir -p "$logs"
make_disks "$build/qemu-image/$name-root.img"
boot "$name" "$here/guest/disk.sh" poweroff -a root=/dev/vda \
    --disk "$disks/root.img" --disk "$disks/data.img" --disk "$disks/swap.img" || exit 1
check_disks_after_poweroff
# Stops run in the reverse of the start order: normal, multi-user, then what multi-user waited
# for (the getty, hw-daemon), basic, sysinit, random-seed (after local-fs), then shutdown is
# reached; kill-remaining (done: ready), then the fstab swaps and mounts, then unmount-all.
check "the system log on the disk shows the shutdown in order" in_order \
    'start poweroff' 'normal: stopped' 'multi-user: stopped' 'console-getty: stopped' \
    'basic: stopped' 'sysinit: stopped' 'random-seed: stopped' 'shutdown: ready' \
    'kill-remaining: ready' 'mount@srv: unmounted /srv' 'unmount-all: starting'
check "swapoff after kill-remaining, before unmount-all" in_order \
    'kill-remaining: ready' "$swapname: swapoff $swapdev" 'unmount-all: starting'
check "kill-remaining found nothing left to kill (every process belonged to a service)" \
    sh -c '! grep -F "kill-remaining: sending" "$1"' _ "$logs/system.log"
check "hw-daemon (after basic) stopped before basic" in_order \
    'start poweroff' 'hw-daemon: stopped' 'basic: stopped'
check "system-manager's final unmount had nothing to complain about" \
    sh -c '! grep -a "system-manager: warning: unable to" "$1"' _ "$logs/console.log"
check "no unit warned in the system log" sh -c '! grep -E ": (warning|error):" "$1" | grep -v hw-crash' _ \
    "$logs/system.log"
echo "boot time with a disk root: kernel start -> normal target: ${boot_time:-?} s (the initramfs /init started at ${init_time:-?} s); qemu wall time: $wall s"
exit $status
