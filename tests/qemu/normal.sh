#!/bin/bash
# Normal boot reaches normal with its services up and a getty prompt on the console, although
# hw-crash crash-loops under multi-user; `system-control poweroff` ends qemu with a poweroff.
# Prints the time from kernel start to the normal target.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot normal "$here/guest/normal.sh" poweroff || exit 1
grep -aq 'login:' "$build/qemu-logs/normal/console.log" || die "no getty prompt (login:) on the console"
echo "boot time: kernel start -> normal target: ${boot_time:-?} s (guest uptime; /init started at ${init_time:-?} s); qemu wall time for the whole run: $wall s"
