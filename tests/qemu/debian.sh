#!/bin/bash
# A real Debian userland: a Debian 12 minbase root (tools/debian-root: debootstrap, cached) with
# this build installed, booted as an ext4 disk root through mkimage --disk's initramfs. Every
# program the units run is Debian's: dash, util-linux agetty, sulogin, mount, swapon and fsck,
# e2fsprogs' e2fsck, systemd-udevd and udevadm, iproute2, kmod, login. The fstab names /srv and
# swap by label (udev's links). The guest checks the boot (tests/qemu/guest/debian.sh); the host
# logs in as root on the serial console at agetty's prompt (qemu-run --send) and leaves the
# shell open; after the poweroff it checks both filesystems are clean, the shutdown order in the
# log on the disk, and that the open session did not hold the shutdown up.
# Two more boots (-s, -b) go through rescue and emergency with Debian's sulogin and on to normal.
# Needs root (debootstrap, and --base keeps the root's owners); suite 'debian', not in CI's.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
((EUID == 0)) || skip "building the Debian root image needs root (debootstrap, file owners)"
for m in virtio_blk ext4 virtio_pci; do
    [[ -f $HW_KERNEL_DIR/modules/$m.ko ]] || skip "the cached kernel has no $m.ko"
done
for p in mkfs.ext4 e2fsck debugfs dumpe2fs mkswap; do
    command -v $p >/dev/null || skip "no $p on this host (e2fsprogs, util-linux)"
done
t0=$SECONDS
base=$("$tools/debian-root" --offline 2>/dev/null) || {
    command -v debootstrap >/dev/null || skip "no cached Debian root and no debootstrap"
    base=$("$tools/debian-root") || skip "no cached Debian root, and debootstrap failed"
}
echo "Debian root: $base ($(du -h "$base" | cut -f1)), ready after $((SECONDS - t0)) s"
name=debian
root_img=$build/qemu-image/$name-root.img
# build_image rebuilds on changes of the sources and the build; a new base too.
[[ -f $build/qemu-image/$name.cpio && $base -nt $build/qemu-image/$name.cpio ]] &&
    rm -f "$build/qemu-image/$name.cpio"
t1=$SECONDS
build_image "$name" --base "$base" --disk "$root_img" --fstab "$here/debian/fstab" \
    --hostname heartwood-debian
echo "image ready after $((SECONDS - t1)) s"
logs=$build/qemu-logs/$name
make_disks "$root_img"
# Log in at agetty's prompt; the shell leaves proof for the guest script, and stays open.
boot "$name" "$here/guest/debian.sh" poweroff -a root=/dev/vda \
    --disk "$disks/root.img" --disk "$disks/data.img" --disk "$disks/swap.img" \
    --send 'heartwood-debian login: ' '' --send 'HW-LOGIN-NOW' 'root\r' --send 'Password: ' 'heartwood\r' \
    --send 'root@heartwood-debian:~# ' 'who >/run/hw-who; echo hw-login-ok $(tty) $0 >/run/hw-login\r' || exit 1
normal_boot_time=$boot_time normal_init_time=$init_time normal_wall=$wall
# Rescue (-s) and emergency (-b, no sysinit: / still read-only, no udev): Debian's sulogin, the
# password, a root shell; leaving it continues to normal.
for mode in rescue:-s emergency:-b; do
    cp --sparse=always "$root_img" "$disks/${mode%:*}-root.img"
    boot "debian_${mode%:*}" "$here/guest/debian-rescue.sh" poweroff -a root=/dev/vda \
        --disk "$disks/${mode%:*}-root.img" --disk "$disks/data.img" --disk "$disks/swap.img" \
        --send 'HW-SULOGIN-READY' 'heartwood\r' \
        --send 'root@[^:]+:~# ' 'echo hw-shell-ok $(tty) $0 >/run/hw-rescue-shell; exit\r' \
        -- "${mode#*:}" || status=1
    rm -f "$disks/${mode%:*}-root.img"
done
check "agetty printed Debian's issue and a login prompt on the serial console" \
    grep -aq 'Debian GNU/Linux 12 heartwood-debian ttyS0' "$logs/console.log"
check_disks_after_poweroff
check "the system log on the disk shows the shutdown in order" in_order \
    'start poweroff' 'normal: stopped' 'multi-user: stopped' 'console-getty: stopped' \
    'basic: stopped' 'sysinit: stopped' 'udev: stopped' 'shutdown: ready' 'kill-remaining: ready' \
    'mount@srv: unmounted /srv' 'unmount-all: starting'
check "swapoff after kill-remaining, before unmount-all" in_order \
    'kill-remaining: ready' 'swap@dev-disk-by-label-hwswap: swapoff /dev/disk/by-label/hwswap' \
    'unmount-all: starting'
# The root shell of the login above is still open at poweroff: console-getty's stop (SIGHUP
# with SIGTERM: use_hangup) ends login and bash at once, not SIGKILL after timeout-stop (10 s).
stop_seconds() { # stop_seconds NAME: seconds from "NAME: stopping" to "NAME: stopped"
    awk -v n="$1" '
        function t(s) { split(substr(s, 12, 15), a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
        index($0, n ": stopping") { from = t($1) }
        index($0, n ": stopped") && from != "" { printf "%.2f\n", t($1) - from; exit }' "$logs/system.log"
}
getty_stop=$(stop_seconds console-getty)
check "console-getty stopped with a root shell open, in ${getty_stop:-?} s (< 3)" \
    awk -v s="$getty_stop" 'BEGIN { exit !(s != "" && s < 3) }'
check "kill-remaining found nothing left to kill (every process belonged to a service)" \
    sh -c '! grep -F "kill-remaining: sending" "$1"' _ "$logs/system.log"
check "system-manager's final unmount had nothing to complain about" \
    sh -c '! grep -a "system-manager: warning: unable to" "$1"' _ "$logs/console.log"
check "no unit warned in the system log" sh -c '! grep -E ": (warning|error):" "$1" | grep -v hw-crash' _ \
    "$logs/system.log"
echo "boot time of the Debian root: kernel start -> normal target: ${normal_boot_time:-?} s (the initramfs /init started at ${normal_init_time:-?} s); qemu wall time: $normal_wall s (the emergency boot: $wall s); whole test: $((SECONDS - t0)) s"
exit $status
