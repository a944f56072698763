#!/bin/bash
# A real kexec under qemu: a disk root (as tests/qemu/disk.sh) with Debian's kernel as
# /boot/vmlinuz, its boot initramfs as /boot/initrd.img (mkimage --initrd-copy) and the host's
# kexec-tools (tools/ci-setup installs it). One qemu run, two kernels (tests/qemu/guest/kexec.sh):
# the first boots to normal, loads the kernel with kexec -s -l and runs `system-control kexec`;
# the second comes up in the same qemu (no reset: qemu runs with -no-reboot, so a fallback to
# reboot would end the run as "reboot") and powers off. The host then checks the serial logs
# (two kernel banners, two /init starts, "kexec now") and the system log on the disk: the kexec
# shutdown stopped the services in order and left / clean for the second boot's e2fsck.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
for m in virtio_blk ext4 virtio_pci; do
    [[ -f $HW_KERNEL_DIR/modules/$m.ko ]] ||
        skip "the cached kernel has no $m.ko (run tools/fetch-kernel online once to refetch it)"
done
[[ -f $HW_KERNEL_DIR/vmlinuz ]] || skip "the cached kernel has no vmlinuz (run tools/fetch-kernel)"
for p in mkfs.ext4 e2fsck debugfs; do
    command -v $p >/dev/null || skip "no $p on this host (e2fsprogs)"
done
programs=()
for p in /usr/sbin/kexec /usr/sbin/e2fsck /usr/sbin/fsck /usr/sbin/fsck.ext4; do
    [[ -x $p ]] || skip "no $p to put in the image (tools/ci-setup installs kexec-tools)"
    programs+=(--host-program "$p")
done
name=kexec
build_image "$name" --disk "$build/qemu-image/$name-root.img" "${programs[@]}" \
    --file "$HW_KERNEL_DIR/vmlinuz:/boot/vmlinuz" --initrd-copy /boot/initrd.img
logs=$build/qemu-logs/$name
disks=$build/qemu-disks-$name
rm -rf "$disks"
mkdir -p "$disks"
cp --sparse=always "$build/qemu-image/$name-root.img" "$disks/root.img"
# loglevel=6: the kernel's notices too, its "Linux version" banner among them.
HW_QEMU_TIMEOUT=${HW_QEMU_TIMEOUT:-180} boot "$name" "$here/guest/kexec.sh" poweroff \
    -a root=/dev/vda -a loglevel=6 --disk "$disks/root.img" || exit 1
count() { grep -ac -- "$1" "$2"; }
con=$logs/console.log
check "two kernels booted (the Linux banner twice on the console)" [ "$(count 'Linux version' "$con")" = 2 ]
check "heartwood's /init started twice" [ "$(count 'heartwood-image: /init at uptime' "$con")" = 2 ]
check "normal was reached twice" [ "$(count 'HW-MARK: target normal reached' "$logs/test.log")" = 2 ]
check "PID 1 said 'kexec now', then the kernel started the new one" \
    awk '/system-manager: .*kexec now/ {k = NR} /kexec_core: Starting new kernel/ {if (k) s = NR}
         END {exit !(k && s > k)}' "$con"
check "PID 1 did not fall back to a reboot" sh -c '! grep -aq "unable to kexec" "$1"' _ "$con"
check "the root filesystem is clean after the final poweroff" clean "$disks/root.img"
debugfs -R 'cat /var/log/system-manager/current' "$disks/root.img" 2>/dev/null >"$logs/system-all.log"
# The first boot's shutdown: from its kexec job to the second boot's PID 1; then the second boot
# up to its check of / (remount-root's e2fsck -a: "clean", or it had to recover the journal).
awk '/start kexec/ {on = 1} on {print} on && /starting as process #1/ {exit}' \
    "$logs/system-all.log" >"$logs/system.log"
check "the system log shows the kexec shutdown in order, then the second boot" in_order \
    'start kexec' 'normal: stopped' 'multi-user: stopped' 'console-getty: stopped' \
    'basic: stopped' 'sysinit: stopped' 'random-seed: stopped' 'shutdown: ready' \
    'kill-remaining: ready' 'unmount-all: starting' 'kexec: stopped' \
    'the service-manager exited 0' 'starting as process #1'
check "kill-remaining found nothing left to kill" \
    sh -c '! grep -F "kill-remaining: sending" "$1"' _ "$logs/system.log"
awk '/start kexec/ {k = 1} k && /starting as process #1/ {on = 1} on {print}
     on && /heartwood-root: / {exit}' "$logs/system-all.log" >"$logs/system-second.log"
check "the second boot's e2fsck found / clean, no journal to recover" \
    sh -c 'tail -n1 "$1" | grep -q "heartwood-root: clean,"' _ "$logs/system-second.log"
first=$(sed -n 's/.*HW-INFO: kexec at wall clock \([0-9]*\).*/\1/p' "$logs/test.log" | tr -d '\r')
second=$(sed -n 's/.*HW-INFO: second boot at wall clock \([0-9]*\).*/\1/p' "$logs/test.log" | tr -d '\r')
again=$(grep -aoE "HW-MARK: target normal reached at uptime [0-9.]+" "$logs/test.log" | sed -n "2s/.* //p")
echo "kexec reboot: system-control kexec -> second normal: $((${second:-0} - ${first:-0})) s (guest wall clock, 1 s steps); second kernel start -> normal: ${again:-?} s of its uptime; qemu wall time for both boots: $wall s"
grep -a 'HW-INFO: kexec -s -l took' "$logs/test.log" | tr -d '\r'
exit $status
