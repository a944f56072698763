#!/bin/sh
# Booted with console=hvc0 console=ttyS0 (tests/qemu/serial_gettys.sh): console-getty serves
# ttyS0 (/dev/console), serial-getty@hvc0 the other console, one getty on each and none twice;
# going to rescue stops the second getty with multi-user.
. /usr/lib/heartwood-test/lib.sh
hw_check "the kernel has two consoles ($(cat /sys/class/tty/console/active))" \
    [ "$(cat /sys/class/tty/console/active)" = "hvc0 ttyS0" ]
for s in serial-getty-generator serial-gettys serial-getty@hvc0 console-getty multi-user; do
    hw_check "$s is up" hw_up "$s"
done
hw_check "no getty bundle for ttyS0, console-getty's console" \
    [ ! -e /run/service-bundles/services/serial-getty@ttyS0 ]
gettys_on() { # the number of getty processes with $1 in their arguments
    n=0
    for d in /proc/[0-9]*; do
        read -r c <"$d/comm" 2>/dev/null || continue
        case $c in getty | agetty) ;; *) continue ;; esac
        tr '\0' ' ' <"$d/cmdline" | grep -qw "$1" && n=$((n + 1))
    done
    echo $n
}
hw_check "gettys wait at their prompts on both consoles" hw_wait_prompt '*getty' 2 30
hw_check "one getty on ttyS0 ($(gettys_on ttyS0))" [ "$(gettys_on ttyS0)" = 1 ]
hw_check "one getty on hvc0 ($(gettys_on hvc0))" [ "$(gettys_on hvc0)" = 1 ]
echo "HW-INFO: going to rescue"
system-control rescue
hw_check "rescue is reached" hw_wait_up rescue 60
hw_check "serial-getty@hvc0 is stopped by rescue" hw_wait_state serial-getty@hvc0 stopped 30
hw_check "no getty left on hvc0 ($(gettys_on hvc0))" [ "$(gettys_on hvc0)" = 0 ]
hw_done poweroff
