#!/bin/sh
# Image without /etc/fstab, swap or udev (tests/qemu/bare.sh): the shipped early services and
# targets are all up, nothing failed but the test image's hw-crash, and no unit complained.
. /usr/lib/heartwood-test/lib.sh
hw_check "there is no /etc/fstab" [ ! -e /etc/fstab ]
hw_check "no udevd is installed" sh -c '! command -v udevd && ! command -v udevadm && [ ! -e /lib/systemd/systemd-udevd ]'
for s in normal multi-user basic sysinit local-fs-pre local-fs swap fstab-mounts fstab-swaps \
    remount-root udev udev-trigger kernel-modules random-seed hostname loopback console-getty \
    serial-getty-generator serial-gettys; do
    hw_check "$s is up" hw_up "$s"
done
list=$(system-control list | sed 's/\x1b\[[0-9;]*m//g')
hw_check "no mount@ or swap@ bundle is loaded" sh -c '! echo "$1" | grep -Eq "^(mount|swap|fsck)@"' _ "$list"
hw_wait_state hw-crash failed 30
failed=$(echo "$list" | awk '$2 == "failed" && $1 != "hw-crash" {print $1}')
hw_check "no shipped unit failed (${failed:-none})" [ -z "$failed" ]
hw_check "no swap is on" sh -c '[ "$(wc -l </proc/swaps)" = 1 ]'
log=
for f in /var/log/system-manager/current /run/system-manager/log/current; do
    [ -f "$f" ] && { log=$f; break; }
done
hw_check "the system log is kept ($log)" [ -n "$log" ]
complaints=$(grep -E ': (error|warning):|No such file|not found' "$log" | grep -v '^.*hw-crash')
[ -n "$complaints" ] && echo "$complaints" | sed 's/^/HW-INFO: log: /'
hw_check "no unit complained in the system log" [ -z "$complaints" ]
echo "HW-INFO: udev says: $(grep -h 'udev:' "$log" | tail -n1)"
hw_done poweroff
