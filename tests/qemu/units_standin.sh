#!/bin/bash
# The early services' scripts on a real kernel, run by hand under tools/stand-in-init (the
# supervision itself is what the heartwood boots test); also shows the getty prompt.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
dir=$(mktemp -d "${TMPDIR:-/tmp}/hw-units.XXXXXX")
trap 'rm -rf "$dir"' EXIT
meson install -C "$build" --destdir "$dir/dest" --no-rebuild --quiet --strip >/dev/null || die "meson install failed"
"$tools/mkimage" -o "$dir/units.cpio" -D "$dir/dest" --init stand-in --overlay "$here/overlay" 2>/dev/null ||
    die "cannot build the image"
out=$("$tools/qemu-run" -i "$dir/units.cpio" -t 60 -d "$dir/logs" --script "$here/guest/units-standin.sh")
echo "$out"
sed 's/^/  guest: /' "$dir/logs/test.log"
grep -q '^outcome=poweroff' <<<"$out" || die "the stand-in did not power off"
grep -aq 'HW-TEST: END' "$dir/logs/test.log" || die "the guest script did not finish"
! grep -aq 'HW-TEST: FAIL' "$dir/logs/test.log" || die "a check failed"
grep -aq 'login:' "$dir/logs/console.log" || die "no getty prompt on the console"
