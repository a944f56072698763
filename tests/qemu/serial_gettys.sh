#!/bin/bash
# Gettys on every console the kernel was given: console=hvc0 console=ttyS0 (a virtio console
# and the first serial port; two 8250 ports cannot both be kernel consoles, the driver has a
# single one) shows a login prompt on ttyS0 (console-getty) and on hvc0 (serial-getty@hvc0,
# generated at boot), with one getty per console.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot serial_gettys "$here/guest/serial-gettys.sh" poweroff --hvc -a "console=hvc0 console=ttyS0" ||
    exit 1
logs=$build/qemu-logs/serial_gettys
grep -aq 'login:' "$logs/console.log" || die "no login prompt on ttyS0"
grep -aq 'login:' "$logs/hvc0.log" || die "no login prompt on hvc0"
echo "login prompts on ttyS0 and hvc0"
