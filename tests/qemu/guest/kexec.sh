#!/bin/sh
# A real kexec (tests/qemu/kexec.sh), in two boots of one qemu run, told apart by hw.kexec=2 on
# the kernel command line (the kexec'd kernel gets the first one's line plus that word).
# First boot: load /boot/vmlinuz with kexec_file_load (kexec -s) and, as initramfs, the disk's
# /boot/initrd.img with this script appended (as tools/qemu-run appends it), then
# `system-control kexec`. Second boot: normal is up again, then poweroff. The host checks the
# rest on the disk and the serial logs.
. /usr/lib/heartwood-test/lib.sh
second=false
for arg in $(cat /proc/cmdline); do
    [ "$arg" = hw.kexec=2 ] && second=true
done
if ! $second; then
    echo "HW-INFO: first boot: kernel $(uname -r), normal at uptime $(hw_uptime)"
    hw_check "normal is up" hw_up normal
    hw_check "kexec-tools is installed" command -v kexec
    hw_check "nothing is loaded yet" [ "$(cat /sys/kernel/kexec_loaded)" = 0 ]
    (cd /run && find hw-test | cpio -o -H newc) >/run/hw-script.cpio 2>/dev/null
    cat /boot/initrd.img /run/hw-script.cpio >/run/kexec-initrd
    before=$(hw_uptime)
    hw_check "kexec -s -l loads /boot/vmlinuz with the initramfs" \
        kexec -s -l /boot/vmlinuz --initrd=/run/kexec-initrd --reuse-cmdline --append=hw.kexec=2
    echo "HW-INFO: kexec -s -l took $before -> $(hw_uptime) s of uptime"
    hw_check "a kernel is loaded (/sys/kernel/kexec_loaded is 1)" \
        [ "$(cat /sys/kernel/kexec_loaded)" = 1 ]
    echo "HW-INFO: kexec at wall clock $(date +%s)"
    system-control kexec
    sleep 60
    hw_fail "still running 60 s after system-control kexec"
    hw_done poweroff
fi
echo "HW-INFO: second boot at wall clock $(date +%s): normal at uptime $(hw_uptime)"
hw_check "the second kernel has the first one's command line and hw.kexec=2" \
    grep -q 'root=/dev/vda.*hw.kexec=2' /proc/cmdline
hw_check "normal is up again" hw_up normal
log=$(cat /run/system-manager/log/current /var/log/system-manager/current 2>/dev/null)
hw_check "the log on / goes on from the first boot, its kexec job included" \
    sh -c 'echo "$1" | grep -q "start kexec"' _ "$log"
hw_done poweroff
