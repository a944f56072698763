#!/bin/bash
# Leaving the maintenance shell continues the boot to the normal target, driven over the serial
# console as an administrator would: booted with -s, Control-D at sulogin's password prompt;
# booted with -b, the root password, a command in the shell, then `exit`. Each is typed once
# its prompt is on the console (sulogin flushes input before it prompts, busybox ash asks the
# terminal for the cursor position, ESC [6n, after its prompt).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
prompt='Give root password for (system )?maintenance'
status=0
boot rescue_exit "$here/guest/maintenance-exit.sh" poweroff --send "$prompt" '\004' -- -s ||
    status=1
con=$build/qemu-logs/rescue_exit/console.log
[[ $target == rescue ]] || { echo "FAIL: -s reached ${target:-nothing}, not rescue"; status=1; }
grep -aq 'login:' "$con" || { echo "FAIL: rescue: no getty prompt after the boot went on"; status=1; }
# The password, then a command whose output differs from its echo, then exit.
boot emergency_exit "$here/guest/maintenance-exit.sh" poweroff --send "$prompt" 'heartwood\r' \
    --send '# (.\[6n)?$' 'echo HW-SHELL-$((6 * 7))\r' --send 'HW-SHELL-42' 'exit\r' -- -b || status=1
con=$build/qemu-logs/emergency_exit/console.log
[[ $target == emergency ]] || { echo "FAIL: -b reached ${target:-nothing}, not emergency"; status=1; }
grep -aq 'HW-SHELL-42' "$con" || { echo "FAIL: emergency: the shell did not run the command"; status=1; }
grep -aq 'login:' "$con" || { echo "FAIL: emergency: no getty prompt after the boot went on"; status=1; }
exit $status
