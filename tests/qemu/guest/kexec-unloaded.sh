#!/bin/sh
# `system-control kexec` with no kernel loaded: PID 1 says why the kernel refused and reboots
# instead (qemu runs with -no-reboot, so the run ends as a reboot).
. /usr/lib/heartwood-test/lib.sh
hw_check "normal is up" hw_up normal
hw_check "no kernel is loaded for kexec (/sys/kernel/kexec_loaded is 0)" \
    [ "$(cat /sys/kernel/kexec_loaded)" = 0 ]
hw_done kexec
