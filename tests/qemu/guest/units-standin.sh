#!/bin/sh
# Under tools/stand-in-init (no heartwood program): runs the early services' run programs from
# the installed units, in boot order, with service/ as cwd, and checks what each one did.
# Their supervision is not tested here; only that the scripts work on a real kernel + busybox.
. /usr/lib/heartwood-test/lib.sh
B=/usr/share/service-bundles/services
run() { (cd "$B/$1/service" && ./run); }
for s in kernel-modules udev udev-trigger remount-root hostname loopback random-seed; do
    hw_check "$s: run exits 0" run "$s"
done
hw_check "hostname: set from /etc/hostname" [ "$(cat /proc/sys/kernel/hostname)" = heartwood-test ]
lo_up() { [ $(($(cat /sys/class/net/lo/flags) & 1)) = 1 ]; }
hw_check "loopback: lo is up" lo_up
hw_check "random-seed: a 512-byte seed is saved" [ "$(wc -c </var/lib/heartwood/random-seed)" -eq 512 ]
mnt() { (cd /etc/service-bundles/services/mount@tmp/service && ./run) && grep -q ' /tmp tmpfs ' /proc/self/mounts; }
hw_check "fstab-bundles: mount@tmp mounts /tmp" mnt
umnt() { (cd /etc/service-bundles/services/mount@tmp/service && ./stop) && ! grep -q ' /tmp ' /proc/self/mounts; }
hw_check "fstab-bundles: mount@tmp's stop unmounts /tmp" umnt
guard() { ! (cd "$B/kill-remaining/service" && ./run) 2>/dev/null; }
hw_check "kill-remaining refuses to run when PID 1 is not system-manager" guard
(cd "$B/console-getty/service" && exec ./run) &
hw_check "console-getty: a getty runs and waits at its prompt" hw_wait_prompt '*getty' 30
echo "HW-TEST: END failed=$hw_failed"
