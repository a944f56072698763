#!/bin/bash
# The shipped units on an image with no /etc/fstab (no fstab bundles: only the empty
# fstab-mounts and fstab-swaps targets of meson install), no swap and no udev: boot reaches
# normal with every early service up and no unit failing or complaining, and powers off.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
require_heartwood
build_image bare --fstab none
boot bare "$here/guest/bare.sh" poweroff || exit 1
