#!/bin/bash
# The -b kernel argument reaches the emergency target (sulogin on the console, no sysinit).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot emergency "$here/guest/emergency.sh" poweroff -- -b || exit 1
grep -aqE 'Give root password for (system )?maintenance' "$build/qemu-logs/emergency/console.log" ||
    die "no sulogin password prompt on the console"
! grep -aq 'sulogin: ' "$build/qemu-logs/emergency/console.log" ||
    die "sulogin complained: $(grep -a 'sulogin: ' "$build/qemu-logs/emergency/console.log" | head -n1)"
