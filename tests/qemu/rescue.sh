#!/bin/bash
# The -s kernel argument reaches the rescue target (sysinit, then sulogin on the console).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot rescue "$here/guest/rescue.sh" poweroff -- -s || exit 1
grep -aqiE 'root password|maintenance' "$build/qemu-logs/rescue/console.log" ||
    die "no sulogin prompt on the console"
