#!/bin/bash
# The -b kernel argument reaches the emergency target (sulogin on the console, no sysinit).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot emergency "$here/guest/emergency.sh" poweroff -- -b || exit 1
grep -aqiE 'root password|maintenance' "$build/qemu-logs/emergency/console.log" ||
    die "no sulogin prompt on the console"
