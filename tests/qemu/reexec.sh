#!/bin/bash
# PID 1 re-executes itself in the VM (as the kernel's init), then powers off cleanly.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot reexec "$here/guest/reexec.sh" poweroff
