#!/bin/sh
# Normal boot: the normal target and its services are up, the crash-looping hw-crash did not
# hold it back, the early services did their work; then `system-control poweroff`.
. /usr/lib/heartwood-test/lib.sh
for s in normal multi-user basic sysinit local-fs console-getty hostname loopback hw-daemon; do
    hw_check "$s is up" hw_up "$s"
done
hw_check "the host name is set from /etc/hostname" [ "$(cat /proc/sys/kernel/hostname)" = heartwood-test ]
lo_up() { [ $(($(cat /sys/class/net/lo/flags) & 1)) = 1 ]; } # IFF_UP
hw_check "lo is up" lo_up
hw_check "/tmp is mounted from fstab" grep -q ' /tmp tmpfs ' /proc/self/mounts
hw_check "hw-crash is not up (it crash-loops)" sh -c '! system-control is-active hw-crash >/dev/null'
sleep 2  # let the getty print its prompt on the console
hw_done "${HW_END:-poweroff}"
