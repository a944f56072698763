#!/bin/bash
# `system-control reboot` inside the guest ends qemu (-no-reboot) with a reboot.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot reboot "$here/guest/reboot.sh" reboot
