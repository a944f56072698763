#!/bin/sh
# Booted with -s or -b (tests/qemu/maintenance_exit.sh), run once the maintenance target is
# reached: the host leaves the shell over the console as soon as sulogin prompts (Control-D at
# the prompt, or the password, a command and `exit` in the shell), so the target may already be
# gone when this starts. The boot goes on: normal is reached, the shell service ends stopped (it
# was not run again), the maintenance target is stopped.
. /usr/lib/heartwood-test/lib.sh
t=$HW_TARGET
echo "HW-INFO: waiting for the host to leave the maintenance shell of $t"
hw_check "normal is reached once the maintenance shell is left" hw_wait_up normal 90
for s in sysinit basic multi-user console-getty; do
    hw_check "$s is up" hw_up "$s"
done
hw_check "$t-shell ended stopped, not run again ($(hw_show "$t-shell" State))" \
    [ "$(hw_show "$t-shell" State)" = stopped ]
hw_check "$t-shell's sulogin was never restarted" [ "$(hw_show "$t-shell" Restarts)" = 0 ]
hw_check "$t is stopped" sh -c '! system-control is-active "$1" >/dev/null' _ "$t"
log=$(cat /var/log/system-manager/current /run/system-manager/log/current 2>/dev/null)
hw_check "$t-shell said why the boot went on" sh -c \
    'echo "$1" | grep -q "$2-shell: the maintenance shell ended (exit 0); continuing"' _ "$log" "$t"
hw_check "a getty waits at its prompt on the console" hw_wait_prompt '*getty' 30
hw_done poweroff
