#!/bin/bash
# `kill -9 -1` inside the VM: every service comes back.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image
boot kill_all "$here/guest/kill-all.sh" poweroff
