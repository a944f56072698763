#!/bin/sh
# Debian root booted with -s or -b (tests/qemu/debian.sh; hw-test sets HW_TARGET to rescue or
# emergency): rescue-shell or emergency-shell runs util-linux sulogin on the
# console (it opens the console's own device, ttyS0); the host types root's password, and the
# root shell (Debian's bash) exits, which continues the boot to the normal target
# (units/README.md): agetty then has the console.
. /usr/lib/heartwood-test/lib.sh
t=${HW_TARGET:?}
hw_check "the $t target is up" hw_up "$t"
shell=$(hw_show "$t-shell" MainPID)
hw_check "$t-shell runs util-linux sulogin (pid $shell: $(hw_comm "$shell"))" \
    [ "$(hw_comm "$shell")" = sulogin ]
# sulogin flushes what was typed before it reads the password (TCSAFLUSH): say when it is
# blocked reading the console, for the host's qemu-run --send.
n=0
while [ $n -lt 50 ]; do
    case $(cat "/proc/$shell/wchan" 2>/dev/null) in wait_woken | n_tty_read) break ;; esac
    sleep 0.2
    n=$((n + 1))
done
sleep 0.5
echo "HW-SULOGIN-READY" >/dev/console
n=0
while [ ! -e /run/hw-rescue-shell ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
hw_check "the password gave a root shell on the console ($(cat /run/hw-rescue-shell 2>/dev/null))" \
    grep -q '^hw-shell-ok /dev/ttyS0 ' /run/hw-rescue-shell
hw_check "leaving the shell continued the boot to normal" hw_wait_up normal 60
not_up() { ! hw_up "$1"; }
hw_check "$t is stopped by normal" not_up "$t"
hw_check "console-getty is up after the maintenance shell" hw_wait_up console-getty 10
getty=$(hw_show console-getty MainPID)
hw_check "and runs agetty (pid $getty: $(hw_comm "$getty"))" [ "$(hw_comm "$getty")" = agetty ]
hw_done poweroff
