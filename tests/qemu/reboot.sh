#!/bin/bash
# `system-control reboot` inside the guest ends qemu (-no-reboot) with a reboot. So does
# `system-control kexec` with no kernel loaded: PID 1 logs why the kernel refused and reboots.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot reboot "$here/guest/reboot.sh" reboot || exit 1
boot kexec_unloaded "$here/guest/kexec-unloaded.sh" reboot || exit 1
con=$build/qemu-logs/kexec_unloaded/console.log
grep -aq 'unable to kexec into the loaded kernel: Invalid argument (no kernel is loaded: load one with kexec -l first); rebooting instead' "$con" ||
    die "no reason for the refused kexec on the console"
awk '/kexec now/ {k = NR} /reboot now/ {if (k) r = NR} END {exit !(k && r > k)}' "$con" ||
    die "PID 1 did not try kexec, then reboot"
echo "PASS: kexec with no kernel loaded fell back to a reboot, with the reason on the console"
