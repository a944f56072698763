#!/bin/sh
# Disk root (tests/qemu/disk.sh): / is the ext4 disk, checked read-only by remount-root and
# remounted read-write; fsck@srv checked the second filesystem before mount@srv mounted it; the
# swap device is on. Leaves a marker on both filesystems for the host to find after poweroff.
. /usr/lib/heartwood-test/lib.sh
mounted() { # mounted DEV MOUNTPOINT TYPE OPTION (busybox mount keeps a /dev/disk/by-* name)
    while read -r d m t o _; do
        case $d in /dev/*) d=$(readlink -f "$d") ;; esac
        [ "$d $m $t" = "$1 $2 $3" ] && case ,$o, in *,$4,*) return 0 ;; esac
    done </proc/self/mounts
    return 1
}
hw_check "/ is /dev/vda, ext4, read-write" mounted /dev/vda / ext4 rw
hw_check "/srv is /dev/vdb, ext4, read-write" mounted /dev/vdb /srv ext4 rw
hw_check "/tmp is the fstab's tmpfs" mounted tmpfs /tmp tmpfs rw
hw_check "/dev/vdc is an active swap area (/proc/swaps)" grep -q '^/dev/vdc ' /proc/swaps
swap=swap@dev-vdc
if command -v udevadm >/dev/null; then
    # The udev variant (tests/qemu/disk.sh --udev): fstab names /srv and swap by label.
    swap=swap@dev-disk-by-label-hwswap
    udevd=$(hw_show udev MainPID)
    hw_check "udev runs udevd (pid $udevd: $(hw_comm "$udevd"))" \
        sh -c 'case $(cat /proc/$1/comm) in systemd-udevd | udevadm) exit 0 ;; esac; exit 1' _ "$udevd"
    hw_check "udev made /dev/disk/by-label/hwdata -> vdb" \
        [ "$(readlink -f /dev/disk/by-label/hwdata)" = /dev/vdb ]
    hw_check "udevadm knows /dev/vdb's filesystem" sh -c 'udevadm info /dev/vdb | grep -q ID_FS_LABEL=hwdata'
fi
for s in remount-root fsck@srv mount@srv $swap udev udev-trigger local-fs swap sysinit normal; do
    hw_check "$s is up" hw_up "$s"
done
# The log of sysinit is in /run (before / was writable), the rest in /var/log.
log=$(cat /run/system-manager/log/current /var/log/system-manager/current 2>/dev/null)
# e2fsck -a prints "<label>: clean, ..." for a clean filesystem.
hw_check "remount-root ran e2fsck on the read-only root" sh -c 'echo "$1" | grep -q "heartwood-root: clean,"' _ "$log"
hw_check "fsck@srv ran e2fsck on /dev/vdb" sh -c 'echo "$1" | grep -q "hwdata: clean,"' _ "$log"
hw_check "the root was checked before it was remounted read-write" sh -c \
    'echo "$1" | grep -E "heartwood-root: clean,|remount-root: ready" | head -n1 | grep -q clean' _ "$log"
hw_check "udev-trigger (settle) was done before local-fs-pre started" sh -c \
    'echo "$1" | grep -E "udev-trigger: ready|local-fs-pre: starting" | head -n1 | grep -q udev-trigger' _ "$log"
hw_check "fsck@srv was done before mount@srv started" sh -c \
    'echo "$1" | grep -E "fsck@srv: ready|mount@srv: starting" | head -n1 | grep -q fsck' _ "$log"
marker=$(cat /proc/sys/kernel/random/boot_id)
hw_check "a marker can be written on /srv" sh -c "echo $marker >/srv/hw-marker"
hw_check "a marker can be written on /" sh -c "echo $marker >/root/hw-marker"
echo "HW-INFO: marker $marker"
hw_done poweroff
