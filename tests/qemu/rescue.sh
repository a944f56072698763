#!/bin/bash
# The -s kernel argument reaches the rescue target (sysinit, then sulogin on the console).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot rescue "$here/guest/rescue.sh" poweroff -- -s || exit 1
grep -aqE 'Give root password for (system )?maintenance' "$build/qemu-logs/rescue/console.log" ||
    die "no sulogin password prompt on the console"
! grep -aq 'sulogin: ' "$build/qemu-logs/rescue/console.log" ||
    die "sulogin complained: $(grep -a 'sulogin: ' "$build/qemu-logs/rescue/console.log" | head -n1)"
